"""The helper process of heavy requests (scoring/web/offload.py): same answers as in place, lower
priority, survives its helper's death, never outlives its worker."""

from __future__ import annotations

import os
import pickle
import signal
import threading
import time
from pathlib import Path

import pytest

from scoring import api
from scoring.inputs.dossiers.compute import BadRowsError
from scoring.web.offload import Lane, Offload
from scoring.web.service import prepare_files

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = ROOT / "sample_evidence" / "so-tu-phap-lang-son-2025.yaml"

pytestmark = pytest.mark.skipif(not hasattr(os, "getpriority"), reason="Unix priorities")


def _niceness() -> tuple[int, int]:
    return os.getpid(), os.getpriority(os.PRIO_PROCESS, 0)


def _raise_bad_rows() -> None:
    raise BadRowsError([api.Problem("bad_date", "ngày sai", file="hs.csv", line=7, subject="received_at")], 12)


@pytest.fixture(scope="module")
def offload() -> Offload:
    o = Offload(1)
    o.start()
    yield o
    o.close()


def test_work_runs_in_a_helper_of_lower_priority(offload: Offload) -> None:
    pid, nice = offload.run(_niceness)
    assert pid != os.getpid() and pid in offload.pids()
    assert nice >= os.getpriority(os.PRIO_PROCESS, 0) + 10 or nice == 19


def test_a_scored_upload_is_the_same_as_in_place(offload: Offload) -> None:
    args = (None, None, {"evidence": SAMPLE}, {"evidence": "tu-cham.yaml"}, True)
    there, here = offload.run(prepare_files, *args), prepare_files(*args)
    assert there[1].total == here[1].total and there[4] == here[4]
    assert [n.points for n in there[1].nodes] == [n.points for n in here[1].nodes]


def test_errors_arrive_with_their_problems_and_kind(offload: Offload) -> None:
    with pytest.raises(BadRowsError) as caught:
        offload.run(_raise_bad_rows)
    assert caught.value.total == 12 and caught.value.problems[0].line == 7
    bad = SAMPLE.parent / "does-not-exist.yaml"
    with pytest.raises(api.ParindexError) as caught2:
        offload.run(prepare_files, None, None, {"evidence": bad}, {"evidence": "tệp của tôi.yaml"}, False)
    assert all(str(bad) not in p.message for p in caught2.value.problems)
    assert "tệp của tôi.yaml" in " ".join(f"{p.file} {p.message}" for p in caught2.value.problems)


def test_every_parindex_error_pickles_with_its_problems() -> None:
    for exc in (api.InputError(api.Problem("x", "thông báo", file="a", line=3)), BadRowsError([], 5)):
        back = pickle.loads(pickle.dumps(exc))
        assert type(back) is type(exc) and back.problems == exc.problems and str(back) == str(exc)
    assert pickle.loads(pickle.dumps(BadRowsError([], 5))).total == 5


def test_a_killed_helper_is_replaced_and_the_call_still_answers() -> None:
    o = Offload(1)
    o.start()
    try:
        (old,) = o.pids()
        os.kill(old, signal.SIGKILL)
        time.sleep(0.3)
        pid, _ = o.run(_niceness)  # the pool notices the death: this call runs here
        assert o.replaced == 1 and pid == os.getpid()
        pid2, _ = o.run(_niceness)  # then in a new helper
        assert pid2 != os.getpid() and pid2 != old
    finally:
        pids = o.pids()
        o.close()
    for p in pids:
        _gone(p)


def _gone(pid: int, within: float = 5) -> None:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return
        try:
            os.waitpid(pid, os.WNOHANG)
        except ChildProcessError:
            pass
        time.sleep(0.05)
    raise AssertionError(f"process {pid} still runs")


def test_without_helpers_everything_runs_in_place() -> None:
    o = Offload(0)
    o.start()
    assert o.run(_niceness)[0] == os.getpid() and o.pids() == []


def test_the_lane_is_taken_in_the_order_asked() -> None:
    lane, order, started = Lane(), [], []
    lane.__enter__()

    def take(i: int) -> None:
        started.append(i)
        with lane:
            order.append(i)

    threads = []
    for i in range(6):
        t = threading.Thread(target=take, args=(i,))
        t.start()
        threads.append(t)
        while len(started) <= i or not _waiting(lane, i + 1):
            time.sleep(0.001)
    lane.__exit__(None, None, None)
    for t in threads:
        t.join(5)
    assert order == list(range(6))


def _waiting(lane: Lane, n: int) -> bool:
    return len(lane._waiting) >= n
