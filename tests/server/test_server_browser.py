"""The province in headless Chromium (Debian's package through Playwright's executable_path): the clerk of
one department signs in and uploads, the leader submits, the appraiser enters the council's round-1
points, the clerk sees the differences, the ranking page lists both departments. In CI it must run."""

from __future__ import annotations

import os
import re
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from conftest import APPRAISAL, DEP_A, DEP_B, DONG_DANG, IN_CI, LANG_SON, PASSWORD, SAMPLES, RoleClient, make_province

CHROMIUM = os.environ.get("PARINDEX_CHROMIUM", "/usr/bin/chromium")
ARGS = ["--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--lang=vi"]

if not Path(CHROMIUM).exists():
    if IN_CI:
        raise RuntimeError(f"CI=true but {CHROMIUM} is missing: .ci/run installs Debian's chromium")
    pytest.skip(f"{CHROMIUM} not installed (apt-get install chromium)", allow_module_level=True)
if IN_CI:
    import playwright.sync_api  # noqa: F401  (a missing Playwright fails in CI instead of skipping)
expect = pytest.importorskip("playwright.sync_api").expect


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):  # type: ignore[no-untyped-def]
    return {**browser_type_launch_args, "executable_path": CHROMIUM, "args": ARGS}


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    import uvicorn

    tmp = tmp_path_factory.mktemp("province")
    prov = make_province(str(tmp / "parindex.db"), tmp, uploads=False)
    assert RoleClient(prov.app, "clerk_b").api_upload(DONG_DANG).status_code == 201  # the other department
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    srv = uvicorn.Server(uvicorn.Config(prov.app, log_level="warning", access_log=False))
    thread = threading.Thread(target=srv.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    for _ in range(300):
        if srv.started:
            break
        time.sleep(0.02)
    yield {"base": f"http://127.0.0.1:{port}", "prov": prov}
    srv.should_exit = True
    thread.join(10)
    sock.close()
    prov.store.close()


def sign_in(browser: Any, base: str, username: str) -> Any:
    context = browser.new_context(viewport={"width": 1366, "height": 768}, locale="vi-VN")
    page = context.new_page()
    page.goto(base + "/")
    expect(page).to_have_url(re.compile(r"/login\?next=/$"))
    page.get_by_label("Tên đăng nhập").fill(username)
    page.get_by_label("Mật khẩu").fill(PASSWORD)
    page.get_by_role("button", name="Đăng nhập").click()
    expect(page.get_by_test_id("account")).to_contain_text(username)
    return page


def test_clerk_leader_appraiser_and_ranking(browser: Any, live: dict[str, Any]) -> None:
    base = live["base"]
    clerk = sign_in(browser, base, "clerk_a")
    # a wrong department's page is not there; the own upload works
    clerk.goto(base + "/assessments/new")
    clerk.set_input_files("#evidence", str(SAMPLES / LANG_SON))
    clerk.get_by_role("button", name="Tải lên và chấm điểm").click()
    expect(clerk).to_have_url(re.compile(r"/assessments/\d+$"))
    aid = int(clerk.url.rsplit("/", 1)[1])
    expect(clerk.get_by_test_id("total")).to_have_text("88,45")
    expect(clerk.get_by_test_id("rank")).to_contain_text("/2")  # computed from the stored scores
    expect(clerk.get_by_test_id("submit")).to_have_count(0)  # a clerk does not submit

    leader = sign_in(browser, base, "leader_a")
    leader.goto(f"{base}/assessments/{aid}")
    leader.get_by_test_id("submit").click()
    expect(leader.get_by_test_id("submitted")).to_be_visible()

    appraiser = sign_in(browser, base, "appraiser")
    appraiser.goto(f"{base}/assessments/{aid}/rounds")
    appraiser.select_option("#round", "tham_dinh_1")
    appraiser.set_input_files("#appraisal", str(SAMPLES / APPRAISAL))
    appraiser.get_by_role("button", name="Lưu điểm thẩm định").click()
    expect(appraiser.get_by_test_id("final").first).to_be_visible()

    clerk.goto(f"{base}/assessments/{aid}/rounds")
    row = clerk.locator('tr[data-code="2.1.2"]').first
    expect(row).to_be_visible()  # the council's difference, with a draft giải trình to edit
    expect(row.locator("textarea")).not_to_be_empty()
    # the clerk has no ranking page; the appraiser's lists both departments
    clerk.goto(base + "/ranking")
    expect(clerk.locator("body")).to_contain_text("không được xem xếp hạng")
    appraiser.goto(base + "/ranking?year=2025&round=tu_cham")
    expect(appraiser.locator(f'tr[data-department="{DEP_A}"]')).to_be_visible()
    expect(appraiser.locator(f'tr[data-department="{DEP_B}"]')).to_be_visible()
    appraiser.goto(base + "/ranking?year=2025&round=tham_dinh_1")
    expect(appraiser.locator(f'tr[data-department="{DEP_A}"] [data-testid="rank"]')).to_have_text("1")
    # signing out ends the session
    clerk.get_by_role("button", name="Đăng xuất").click()
    expect(clerk).to_have_url(re.compile(r"/login$"))
    clerk.goto(f"{base}/assessments/{aid}")
    expect(clerk).to_have_url(re.compile(r"/login\?next="))
