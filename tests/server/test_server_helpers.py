"""``parindex serve`` does uploads and passwords in a helper process of lower priority (scoring/web/offload.py):
it runs beside each worker, answers what the worker would, and goes when its worker goes, even on SIGKILL."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

import pytest
from conftest import LANG_SON, sample
from test_server_faults import Server, signed_in, sqlite_server  # noqa: F401  (a fixture)

pytestmark = pytest.mark.skipif(not Path("/proc").is_dir(), reason="reads /proc (Linux)")


def _children(pid: int) -> list[tuple[int, int]]:
    """(pid, niceness) of the live children of ``pid``."""
    out = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            text = stat.read_text()
        except OSError:
            continue
        fields = text[text.rindex(")") + 2:].split()
        if int(fields[1]) == pid and fields[0] != "Z":
            out.append((int(stat.parent.name), int(fields[16])))
    return out


def _alive(pid: int) -> bool:
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return text[text.rindex(")") + 2:].split()[0] != "Z"


def test_helper_scores_uploads_and_dies_with_its_worker(sqlite_server: Server, tmp_path: Path) -> None:  # noqa: F811
    server = sqlite_server
    try:
        assert server.proc is not None
        helpers = [pid for pid, nice in _children(server.proc.pid) if nice >= 10]
        assert len(helpers) == 1, _children(server.proc.pid)
        c, headers = signed_in(server.base)  # the password was checked in the helper
        r = c.post("/api/assessments", files={"evidence": (LANG_SON, sample(LANG_SON))}, headers=headers)
        assert r.status_code == 201, r.text
        assert c.get(f"/api/assessments/{r.json()['id']}").json()["scorecard"]["total"]["points"] == 88.45
        bad = c.post("/api/assessments", files={"evidence": ("bản-tự-chấm.yaml", b"department: [\n")}, headers=headers)
        assert bad.status_code == 422
        problems = bad.json()["problems"]
        assert problems and any("bản-tự-chấm.yaml" in (p.get("file") or "") for p in problems), problems
        assert all(str(tmp_path) not in str(p) for p in problems)  # the stored path never shows
        assert c.post("/api/login", json={"username": "clerk_a", "password": "sai mật khẩu rồi"}).status_code == 401
        c.close()
        os.kill(server.proc.pid, signal.SIGKILL)  # the worker alone: its helper must notice and go
        server.proc.wait(10)
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline and any(_alive(p) for p in helpers):
            time.sleep(0.05)
        assert not any(_alive(p) for p in helpers), "the helper outlived its worker"
    finally:
        server.kill()
        if server.proc is not None:
            try:
                os.killpg(server.proc.pid, signal.SIGKILL)  # anything left in the group
            except ProcessLookupError:
                pass
