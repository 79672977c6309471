"""End to end in headless Chromium (Debian's package, driven by Playwright with executable_path): the
clerk's path through the application on one live server and one browser. Screenshots of each page go
to $PARINDEX_WEB_SCREENSHOTS (docs/web when regenerating the documentation), else to a temp folder."""

from __future__ import annotations

import io
import os
import re
import shutil
import socket
import threading
import time
import urllib.request
import uuid
from pathlib import Path

import openpyxl
import pytest

from webkit import IN_CI, SAMPLES

CHROMIUM = os.environ.get("PARINDEX_CHROMIUM", "/usr/bin/chromium")
ARGS = ["--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--lang=vi"]
LANG_SON = "so-tu-phap-lang-son-2025.yaml"
# one clerk's story in order (the first test uploads what the others open): pyproject's `--dist loadfile`
# keeps a file's tests in one xdist worker

if not Path(CHROMIUM).exists():
    if IN_CI:
        raise RuntimeError(f"CI=true but {CHROMIUM} is missing: the test session installs Debian's chromium under CI=true as root (tests/system_deps.py)")
    pytest.skip(f"{CHROMIUM} not installed (apt-get install chromium)", allow_module_level=True)

if IN_CI:  # in CI the browser tests must run: a missing Playwright is an error, not a skip
    from playwright.sync_api import expect
else:
    expect = pytest.importorskip("playwright.sync_api").expect


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):  # type: ignore[no-untyped-def]
    # LANGUAGE: Chromium's own controls (the file picker's button) in Vietnamese when chromium-l10n is installed
    return {**browser_type_launch_args, "executable_path": CHROMIUM, "args": ARGS,
            "env": {**os.environ, "LANGUAGE": "vi", "LANG": "vi_VN.UTF-8"}}


@pytest.fixture(scope="session")
def browser_context_args(browser_context_args):  # type: ignore[no-untyped-def]
    return {**browser_context_args, "viewport": {"width": 1366, "height": 768}, "locale": "vi-VN",
            "accept_downloads": True}


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    """One live server (uvicorn in a thread, on a socket bound to 127.0.0.1:0) for the whole module."""
    import uvicorn

    from scoring.web import WebConfig, create_app

    tmp = tmp_path_factory.mktemp("web")
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    app = create_app(WebConfig(db=str(tmp / "parindex.db"), files_dir=tmp / "files", port=port))
    srv = uvicorn.Server(uvicorn.Config(app, log_level="warning", access_log=False))
    thread = threading.Thread(target=srv.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    for _ in range(200):
        if srv.started:
            break
        time.sleep(0.02)
    state = {"base": f"http://127.0.0.1:{port}", "tmp": tmp, "app": app}
    yield state
    srv.should_exit = True
    thread.join(10)
    sock.close()
    app.state.store.close()


@pytest.fixture(scope="module")
def shots(tmp_path_factory: pytest.TempPathFactory) -> Path:
    target = os.environ.get("PARINDEX_WEB_SCREENSHOTS")
    folder = Path(target) if target else tmp_path_factory.mktemp("shots")
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def shot(page, shots: Path, name: str) -> None:  # type: ignore[no-untyped-def]
    page.screenshot(path=str(shots / f"{name}.png"))
    assert (shots / f"{name}.png").stat().st_size > 5000


def post_file(base: str, path: str, field: str, name: str, data: bytes) -> str:
    """Upload as a program would (no browser session): returns the new record's id."""
    boundary = uuid.uuid4().hex
    body = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"{field}\"; filename=\"{name}\"\r\n"
            "Content-Type: application/octet-stream\r\n\r\n").encode() + data + f"\r\n--{boundary}--\r\n".encode()
    req = urllib.request.Request(base + path, body, {"Content-Type": f"multipart/form-data; boundary={boundary}"})
    with urllib.request.urlopen(req, timeout=30) as r:
        import json

        return str(json.loads(r.read())["id"])


@pytest.fixture(scope="module")
def workbook(server) -> Path:  # type: ignore[no-untyped-def]
    from scoring.cli import main

    out = server["tmp"] / "so-tu-phap-lang-son-2025.xlsx"
    assert main(["export", str(SAMPLES / LANG_SON), "-o", str(out)]) == 0
    return out


def test_home_empty_then_upload_the_workbook_and_read_the_total(page, server, workbook, shots) -> None:  # type: ignore[no-untyped-def]
    page.goto(server["base"] + "/")
    expect(page.get_by_text("Chưa có bản đánh giá nào")).to_be_visible()
    page.get_by_role("link", name="Tải lên bản tự chấm").first.click()
    expect(page.get_by_role("heading", name="Tải lên bản tự chấm")).to_be_visible()
    # a damaged workbook first: the problems are listed on the page with the sheet and cell
    wb = openpyxl.load_workbook(workbook)
    ws = next(ws for ws in wb.worksheets if ws.title.startswith("Lĩnh vực"))
    cell = next(c for row in ws.iter_rows() for c in row if isinstance(c.value, (int, float)) and c.row > 3)
    cell.value = "nhiều"
    broken = server["tmp"] / "hong.xlsx"
    wb.save(broken)
    page.set_input_files("#evidence", str(broken))
    page.get_by_role("button", name="Tải lên và chấm điểm").click()
    expect(page.locator(".problems")).to_contain_text(f"'{ws.title}'!{cell.coordinate}")
    shot(page, shots, "tai-len-loi")
    page.set_input_files("#evidence", str(workbook))
    page.get_by_role("button", name="Tải lên và chấm điểm").click()
    page.wait_for_url(re.compile(r"/assessments/\d+$"))
    server["id"] = page.url.rsplit("/", 1)[-1]
    expect(page.get_by_test_id("total")).to_have_text("88,45")
    expect(page.get_by_test_id("band")).to_have_text("Từ 80% đến dưới 90%")
    expect(page.get_by_text("MINH HỌA").first).to_be_visible()
    shot(page, shots, "bang-diem")
    page.goto(server["base"] + "/assessments/new")
    shot(page, shots, "tai-len")


def test_open_a_lost_point_and_see_its_reason(page, server, shots) -> None:  # type: ignore[no-untyped-def]
    import json

    with urllib.request.urlopen(f"{server['base']}/api/assessments/{server['id']}") as r:
        card = json.loads(r.read())["scorecard"]
    reason = next(c["reason"] for c in card["criteria"] if c["code"] == "7.3.1")
    page.goto(f"{server['base']}/assessments/{server['id']}")
    page.get_by_role("link", name="Điểm bị mất").click()
    page.locator('a[data-code="7.3.1"]').click()
    detail = page.locator("#detail .lost-detail")
    expect(detail.locator(".reason")).to_have_text(reason)
    expect(detail).to_contain_text("Mức điểm của quy tắc")
    expect(detail).to_contain_text("Cần làm")
    assert page.url.endswith("code=7.3.1")
    shot(page, shots, "diem-bi-mat")


def test_change_a_whatif_value_and_see_total_and_band_change(page, server, shots) -> None:  # type: ignore[no-untyped-def]
    page.goto(f"{server['base']}/assessments/{server['id']}/whatif")
    expect(page.get_by_test_id("wi-total")).to_have_text("88,45")
    page.locator('input[name="set:7.3.4"]').fill("60%")
    expect(page.get_by_test_id("wi-total")).to_have_text("89,7")
    expect(page.get_by_test_id("wi-band")).to_have_text("Từ 80% đến dưới 90%")
    page.locator('input[name="set:3.4.3"]').fill("100%")
    expect(page.get_by_test_id("wi-total")).to_have_text("90,7")
    expect(page.get_by_test_id("wi-band")).to_have_text("Từ 90% trở lên")
    shot(page, shots, "neu-thi")
    page.fill("#scenario-name", "Một cửa và thanh toán trực tuyến")
    page.get_by_role("button", name="Lưu kịch bản").click()
    expect(page.locator("#kich-ban")).to_contain_text("Một cửa và thanh toán trực tuyến")
    expect(page.locator("#kich-ban")).to_contain_text("90,7")
    # the plan form: the least effort to reach 92 %
    page.set_input_files("#options", str(SAMPLES / "options-lang-son-2025.yaml"))
    page.fill("#target-value", "92")
    page.get_by_role("button", name="Lập kế hoạch").click()
    expect(page.get_by_test_id("plan")).to_be_visible()
    expect(page.get_by_test_id("plan-effort")).not_to_be_empty()
    page.locator("#ke-hoach").scroll_into_view_if_needed()
    shot(page, shots, "ke-hoach")


def test_save_a_round_of_appraisal_points_and_see_the_differences(page, server, shots) -> None:  # type: ignore[no-untyped-def]
    page.goto(f"{server['base']}/assessments/{server['id']}/rounds")
    page.select_option("#round", "tham_dinh_1")
    page.set_input_files("#appraisal", str(SAMPLES / "appraisal-lang-son-2025.csv"))
    page.get_by_role("button", name="Lưu điểm thẩm định").click()
    table = page.locator("table.differences")
    expect(table.locator('tr[data-code="2.1.2"]')).to_be_visible()
    expect(page.locator(".steps li.done")).to_have_count(2)
    box = table.locator('textarea[name="text:2.1.2"]')
    box.fill("Sở đã ban hành văn bản xử lý kết quả theo dõi thi hành pháp luật (Công văn 12/STP-VP).")
    page.get_by_role("button", name="Lưu giải trình").click()
    expect(page.get_by_role("status")).to_have_text("Đã lưu giải trình.")
    page.evaluate("window.scrollTo(0, 0)")
    shot(page, shots, "cac-vong")
    with page.expect_download() as info:
        page.get_by_role("link", name="Tải giải trình (.docx)").click()
    import docx

    text = "\n".join(p.text for p in docx.Document(info.value.path()).paragraphs)
    assert "Công văn 12/STP-VP" in text


def test_download_the_xlsx_and_open_it(page, server) -> None:  # type: ignore[no-untyped-def]
    page.goto(f"{server['base']}/assessments/{server['id']}")
    with page.expect_download() as info:
        page.get_by_role("link", name="Bảng tự chấm (.xlsx)").click()
    download = info.value
    assert download.suggested_filename.endswith(".xlsx")
    wb = openpyxl.load_workbook(io.BytesIO(Path(download.path()).read_bytes()))
    values = [str(c.value) for ws in wb.worksheets for row in ws.iter_rows() for c in row if c.value is not None]
    assert any("Lạng Sơn" in v for v in values)


def test_audit_page(page, server, shots) -> None:  # type: ignore[no-untyped-def]
    page.goto(f"{server['base']}/assessments/{server['id']}/audit")
    expect(page.get_by_text("điểm có thể bị trừ khi thẩm định")).to_be_visible()
    shot(page, shots, "ra-soat")


def test_history_chart_after_two_years(page, server, shots) -> None:  # type: ignore[no-untyped-def]
    text = (SAMPLES / LANG_SON).read_text(encoding="utf-8")
    older = (text.replace("year: 2025", "year: 2024").replace("initiatives: 2", "initiatives: 1")
             .replace("on_time: 4871", "on_time: 4700"))
    post_file(server["base"], "/api/assessments", "evidence", "2024.yaml", older.encode())
    page.goto(server["base"] + "/history")
    chart = page.locator("svg.chart").first
    expect(chart).to_be_visible()
    expect(chart.locator("text", has_text="2024")).to_have_count(1)
    expect(chart.locator("text", has_text="2025")).to_have_count(1)
    expect(page.get_by_role("heading", name=re.compile("Thay đổi so với năm trước"))).to_be_visible()
    shot(page, shots, "lich-su")
    page.goto(server["base"] + "/")
    expect(page.locator(".card .big").first).to_contain_text("88,45")
    shot(page, shots, "trang-chu")


def test_pages_print_without_navigation(page, server) -> None:  # type: ignore[no-untyped-def]
    page.goto(f"{server['base']}/assessments/{server['id']}")
    page.emulate_media(media="print")
    expect(page.locator("header.top")).to_be_hidden()
    expect(page.locator("table.tree")).to_be_visible()
    assert page.pdf(format="A4")[:4] == b"%PDF"


def test_bad_request_then_server_still_answers(page, server) -> None:  # type: ignore[no-untyped-def]
    page.goto(f"{server['base']}/assessments/999999")
    expect(page.get_by_text("không có bản đánh giá số 999999")).to_be_visible()
    page.goto(f"{server['base']}/assessments/{server['id']}")
    expect(page.get_by_test_id("total")).to_have_text("88,45")


def teardown_module() -> None:
    shutil.rmtree(Path("test-results"), ignore_errors=True)
