"""The HTTP API in process: every endpoint, its JSON equal to the CLI's byte for byte, bad input answered
with Vietnamese problems (400/413/422), never a traceback, and the server answering afterwards."""

from __future__ import annotations

import io
import re
import json
import shutil
from pathlib import Path

import openpyxl
import pytest

from webkit import SAMPLES, make_client, sample
from scoring.cli import main

LANG_SON = "so-tu-phap-lang-son-2025.yaml"
PEERS = "peers-lang-son-2025.yaml"


def cli_output(tmp: Path, monkeypatch: pytest.MonkeyPatch, *args: str, out: str = "out.json") -> bytes:
    """Run the CLI in ``tmp`` (relative file names, as a clerk would) and return what it wrote."""
    monkeypatch.chdir(tmp)
    assert main([*args, "-o", out]) == 0
    return (tmp / out).read_bytes()


def csrf(client) -> dict[str, str]:  # type: ignore[no-untyped-def]
    client.get("/")
    return {"X-CSRF-Token": client.cookies.get("parindex_csrf")}


def upload(client, files: dict[str, tuple[str, bytes]], **data: str):  # type: ignore[no-untyped-def]
    """POST /api/assessments, with the session's CSRF token once the client has visited a page."""
    token = client.cookies.get("parindex_csrf")
    return client.post("/api/assessments", files=files, data=data, headers={"X-CSRF-Token": token} if token else {})


@pytest.fixture
def work(tmp_path: Path) -> Path:
    d = tmp_path / "work"
    d.mkdir()
    for name in (LANG_SON, PEERS, "appraisal-lang-son-2025.csv"):
        shutil.copy(SAMPLES / name, d / name)
    for name in ("ho-so-mot-cua-2025.csv", "mapping-lang-son.yaml", "danh-muc-tthc.csv"):
        shutil.copy(SAMPLES / "dossiers" / name, d / name)
    return d


def test_healthz(client) -> None:  # type: ignore[no-untyped-def]
    r = client.get("/healthz")
    assert r.status_code == 200 and r.json() == {"status": "ok"}


def test_upload_yaml_equals_cli_score_json(client, work: Path, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    expected = cli_output(work, monkeypatch, "score", LANG_SON, "--format", "json")
    r = upload(client, {"evidence": (LANG_SON, (work / LANG_SON).read_bytes())})
    assert r.status_code == 201, r.text
    body = r.json()
    assert (body["department"], body["year"], body["round"]) == ("Sở Tư pháp tỉnh Lạng Sơn", 2025, "tu_cham")
    assert body["scorecard"] == json.loads(expected)
    again = client.get(f"/api/assessments/{body['id']}")
    assert again.status_code == 200 and again.json() == body
    exported = client.get(f"/api/assessments/{body['id']}/export?format=json")
    assert exported.content == expected  # byte for byte


def test_upload_xlsx_equals_cli(client, work: Path, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    cli_output(work, monkeypatch, "export", LANG_SON, out="tu-cham.xlsx")
    expected = cli_output(work, monkeypatch, "score", "tu-cham.xlsx", "--format", "json")
    r = upload(client, {"evidence": ("tu-cham.xlsx", (work / "tu-cham.xlsx").read_bytes())}, round="giai_trinh")
    assert r.status_code == 201, r.text
    assert r.json()["round"] == "giai_trinh"
    assert client.get(f"/api/assessments/{r.json()['id']}/export?format=json").content == expected


def test_upload_with_peers_and_dossiers_equals_cli(client, work: Path, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    expected = cli_output(work, monkeypatch, "score", LANG_SON, "--format", "json", "--peers", PEERS,
                          "--dossiers", "ho-so-mot-cua-2025.csv", "--mapping", "mapping-lang-son.yaml",
                          "--procedures", "danh-muc-tthc.csv")
    files = {"evidence": (LANG_SON, (work / LANG_SON).read_bytes()), "peers": (PEERS, (work / PEERS).read_bytes())}
    for field, name in (("dossiers", "ho-so-mot-cua-2025.csv"), ("mapping", "mapping-lang-son.yaml"),
                        ("procedures", "danh-muc-tthc.csv")):
        files[field] = (name, (work / name).read_bytes())
    r = upload(client, files)
    assert r.status_code == 201, r.text
    got = client.get(f"/api/assessments/{r.json()['id']}/export?format=json").content
    assert got == expected
    assert json.loads(got)["rank"]["rank"] >= 1


@pytest.mark.parametrize("sets, with_peers", [({"3.4.1": "99%"}, False), ({"3.4.3": "100%", "7.3.4": "60%"}, True),
                                              ({"7.3.1:reuse_rate": "55%"}, True), ({"2.3.2": "na"}, False)])
def test_whatif_equals_cli(client, work: Path, monkeypatch: pytest.MonkeyPatch, sets: dict[str, str],  # type: ignore[no-untyped-def]
                           with_peers: bool) -> None:
    args = ["whatif", LANG_SON, "--format", "json"] + [a for k, v in sets.items() for a in ("--set", f"{k}={v}")]
    files = {"evidence": (LANG_SON, (work / LANG_SON).read_bytes())}
    if with_peers:
        args += ["--peers", PEERS]
        files["peers"] = (PEERS, (work / PEERS).read_bytes())
    expected = cli_output(work, monkeypatch, *args)
    aid = upload(client, files).json()["id"]
    r = client.post(f"/api/assessments/{aid}/whatif", json={"set": sets})
    assert r.status_code == 200, r.text
    assert r.content == expected


def test_exports(client, work: Path, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    aid = upload(client, {"evidence": (LANG_SON, sample(LANG_SON))}).json()["id"]
    x = client.get(f"/api/assessments/{aid}/export?format=xlsx")
    assert x.status_code == 200 and x.headers["content-type"].startswith("application/vnd.openxmlformats")
    wb = openpyxl.load_workbook(io.BytesIO(x.content))
    assert wb.sheetnames
    d = client.get(f"/api/assessments/{aid}/export?format=docx")
    assert d.status_code == 200 and d.content[:2] == b"PK"
    md = client.get(f"/api/assessments/{aid}/export?format=markdown")
    shutil.copy(SAMPLES / LANG_SON, work / LANG_SON)
    assert md.text.encode() == cli_output(work, monkeypatch, "score", LANG_SON, "--format", "markdown", out="o.md")
    bad = client.get(f"/api/assessments/{aid}/export?format=pdf")
    assert bad.status_code == 400 and bad.json()["problems"][0]["code"] == "unknown_format"


def test_history_endpoint(client) -> None:  # type: ignore[no-untyped-def]
    text = sample(LANG_SON).decode()
    upload(client, {"evidence": ("2024.yaml", text.replace("year: 2025", "year: 2024").encode())})
    upload(client, {"evidence": (LANG_SON, text.encode())})
    upload(client, {"evidence": ("tq.yaml", sample("so-tu-phap-tuyen-quang-2025.yaml"))})
    r = client.get("/api/history", params={"department": "Sở Tư pháp tỉnh Lạng Sơn"})
    assert r.status_code == 200
    rows = r.json()["assessments"]
    assert [(a["year"], a["round"]) for a in rows] == [(2024, "tu_cham"), (2025, "tu_cham")]
    assert rows[1]["total"]["points"] == 88.45
    assert {f["code"] for f in rows[1]["fields"]} >= {"1", "8"}
    assert len(client.get("/api/history").json()["assessments"]) == 3


# ------------------------------------------------------------------ bad input


def test_bad_yaml_gives_vietnamese_problems_with_location(client) -> None:  # type: ignore[no-untyped-def]
    r = upload(client, {"evidence": ("sai.yaml", b"department: X\nyear: abc\ncriteria_set: cap-so-2025\n")})
    assert r.status_code == 422
    p = r.json()["problems"][0]
    assert set(p) >= {"code", "message", "location", "hint"}
    assert p["location"] == "sai.yaml:2"
    assert "Traceback" not in r.text
    assert client.get("/healthz").status_code == 200


def test_broken_workbook_cell_named(client, work: Path, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    cli_output(work, monkeypatch, "export", LANG_SON, out="tu-cham.xlsx")
    wb = openpyxl.load_workbook(work / "tu-cham.xlsx")
    ws = next(ws for ws in wb.worksheets if ws.title.startswith("Lĩnh vực"))
    cell = next(c for row in ws.iter_rows() for c in row if isinstance(c.value, (int, float)) and c.row > 3)
    cell.value = "nhiều"
    buf = io.BytesIO()
    wb.save(buf)
    r = upload(client, {"evidence": ("tu-cham.xlsx", buf.getvalue())})
    assert r.status_code == 422, r.text
    locations = [p["location"] for p in r.json()["problems"]]
    assert any(f"'{ws.title}'!{cell.coordinate}" in (loc or "") for loc in locations), locations
    page = client.post("/assessments/new", files={"evidence": ("tu-cham.xlsx", buf.getvalue())},
                       data={"csrf_token": client.cookies.get("parindex_csrf") or ""},
                       headers=csrf(client))
    assert page.status_code == 422 and f"&#39;{ws.title}&#39;!{cell.coordinate}" in page.text
    assert "Traceback" not in page.text


@pytest.mark.parametrize("name, data", [("anh.yaml", b"\x89PNG\r\n\x1a\n\x00\x00\x00"), ("x.xlsx", b"PK\x03\x04rubbish")])
def test_wrong_or_damaged_file(client, name: str, data: bytes) -> None:  # type: ignore[no-untyped-def]
    r = upload(client, {"evidence": (name, data)})
    assert r.status_code == 422
    assert r.json()["problems"][0]["code"] in ("wrong_file_type", "unreadable_workbook")
    assert client.get("/healthz").status_code == 200


def test_upload_limit_413_while_streaming(sqlite_db: str, tmp_path: Path) -> None:
    c = make_client(sqlite_db, tmp_path, max_evidence_bytes=1000, max_dossier_bytes=5000)
    r = c.post("/api/assessments", files={"evidence": (LANG_SON, sample(LANG_SON))})
    assert r.status_code == 413
    p = r.json()["problems"][0]
    assert p["code"] == "upload_too_large" and "tài liệu kiểm chứng" in p["message"]
    big = c.post("/api/assessments", content=b"x" * 2_000_000,
                 headers={"content-type": "multipart/form-data; boundary=zz"})
    assert big.status_code == 413  # refused on Content-Length, before reading
    chunked = c.post("/api/assessments", content=iter([b"x" * 65536] * 40),
                     headers={"content-type": "multipart/form-data; boundary=zz"})
    assert chunked.status_code == 413  # no Content-Length: refused while streaming
    assert c.get("/healthz").status_code == 200
    with c.app.state.store.sessions() as s:
        from scoring.store.models import Assessment

        assert s.query(Assessment).count() == 0


@pytest.mark.parametrize("files, code", [({}, "evidence_required"),
                                         ({"mapping": ("m.yaml", b"a: 1\n")}, "evidence_required")])
def test_missing_parts(client, files, code) -> None:  # type: ignore[no-untyped-def]
    r = client.post("/api/assessments", files=files or {"x": ("x", b"")}, data={"round": "tu_cham"})
    assert r.status_code == 400 and r.json()["problems"][0]["code"] == code


def test_unknown_round_and_ids(client) -> None:  # type: ignore[no-untyped-def]
    r = upload(client, {"evidence": (LANG_SON, sample(LANG_SON))}, round="vong_5")
    assert r.status_code == 400 and r.json()["problems"][0]["code"] == "unknown_round"
    assert client.get("/api/assessments/999").status_code == 404
    assert client.get("/api/assessments/999").json()["problems"][0]["code"] == "not_found"
    assert client.get("/api/assessments/abc").status_code == 400
    assert client.get("/assessments/999").status_code == 404
    assert "không có bản đánh giá" in client.get("/assessments/999").text


@pytest.mark.parametrize("body, status, code", [
    (b"{not json", 400, "bad_json"), (b'{"set": {}}', 400, "bad_set"), (b'{"set": ["3.4.1"]}', 400, "bad_set"),
    (b'{"set": {"9.9.9": "1"}}', 422, "unknown_code"), (b'{"set": {"3.4.1": "abc"}}', 422, None)])
def test_whatif_bad_input(client, body: bytes, status: int, code: str | None) -> None:  # type: ignore[no-untyped-def]
    aid = upload(client, {"evidence": (LANG_SON, sample(LANG_SON))}).json()["id"]
    r = client.post(f"/api/assessments/{aid}/whatif", content=body, headers={"content-type": "application/json"})
    assert r.status_code == status, r.text
    if code:
        assert r.json()["problems"][0]["code"] == code
    assert r.json()["problems"][0]["message"]


# ------------------------------------------------------------------ safety


@pytest.mark.parametrize("host, ok", [("127.0.0.1:8765", True), ("localhost:8765", True), ("[::1]:8765", True),
                                      ("evil.example:8765", False), ("127.0.0.1.nip.io", False)])
def test_host_header_checked(client, host: str, ok: bool) -> None:  # type: ignore[no-untyped-def]
    r = client.get("/healthz", headers={"host": host})
    assert (r.status_code == 200) == ok
    r = client.get("/api/history", headers={"host": host})
    assert (r.status_code == 200) == ok
    if not ok:
        assert r.json()["problems"][0]["code"] == "host_not_allowed"


def test_csrf(client) -> None:  # type: ignore[no-untyped-def]
    files = {"evidence": (LANG_SON, sample(LANG_SON))}
    # a program without a browser session passes (loopback only)
    assert upload(client, files).status_code == 201
    # a browser on another site: refused even without the cookie
    r = client.post("/api/assessments", files=files, headers={"origin": "http://evil.example"})
    assert r.status_code == 403 and r.json()["problems"][0]["code"] == "csrf_failed"
    r = client.post("/api/assessments", files=files, headers={"sec-fetch-site": "cross-site"})
    assert r.status_code == 403
    # a browser session (the cookie): the header or the form field must carry the same token
    token = csrf(client)["X-CSRF-Token"]
    assert token
    assert client.post("/api/assessments", files=files).status_code == 403
    assert client.post("/api/assessments", files=files, headers={"X-CSRF-Token": "wrong"}).status_code == 403
    assert client.post("/api/assessments", files=files, headers={"X-CSRF-Token": token}).status_code == 201
    page = client.post("/assessments/new", files=files, data={"csrf_token": token}, follow_redirects=False)
    assert page.status_code == 303
    assert client.post("/assessments/new", files=files, data={"csrf_token": "x"}).status_code == 403
    aid = page.headers["location"].rsplit("/", 1)[-1]
    assert client.post(f"/api/assessments/{aid}/whatif", json={"set": {"3.4.1": "99%"}}).status_code == 403
    form = client.post(f"/assessments/{aid}/whatif", data={"set:3.4.1": "99%", "was:3.4.1": "98.8%"})
    assert form.status_code == 403


def test_user_text_is_escaped(client) -> None:  # type: ignore[no-untyped-def]
    text = sample(LANG_SON).decode().replace("department: Sở Tư pháp tỉnh Lạng Sơn",
                                             'department: "<script>alert(1)</script> Sở"')
    assert "<script>" in text
    r = upload(client, {"evidence": ("<b>x</b>.yaml", text.encode())})
    assert r.status_code == 201, r.text
    aid = r.json()["id"]
    for path in ("/", f"/assessments/{aid}", f"/assessments/{aid}/lost", "/history"):
        page = client.get(path).text
        assert "<script>alert(1)</script>" not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page, path
    assert "<b>x</b>" not in client.get("/").text


def test_browser_file_name_never_used_to_store(client, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    r = upload(client, {"evidence": ("../../../etc/passwd.xlsx", sample(LANG_SON))})
    assert r.status_code == 201
    assert r.json()["evidence_name"] == "passwd.xlsx"
    stored = [p for p in (tmp_path / "files").rglob("*") if p.is_file()]
    assert len(stored) == 1 and stored[0].suffix == ".yaml"  # the kind comes from the bytes
    assert len(stored[0].stem) == 64 and not (tmp_path / "etc").exists()


# ------------------------------------------------------------------ pages


def test_every_page_answers_in_vietnamese(client) -> None:  # type: ignore[no-untyped-def]
    assert "Chưa có bản đánh giá nào" in client.get("/").text
    aid = client.post("/api/assessments", files={"evidence": (LANG_SON, sample(LANG_SON)), "peers": (PEERS, sample(PEERS))},
                      headers=csrf(client)).json()["id"]
    pages = {"/": "Các bản đánh giá", "/assessments/new": "Tải lên bản tự chấm",
             f"/assessments/{aid}": "TỔNG ĐIỂM", f"/assessments/{aid}/lost": "Chọn một tiêu chí",
             f"/assessments/{aid}/lost?code=7.3.1": "Tái sử dụng", f"/assessments/{aid}/lost/7.3.1": "Cần làm",
             f"/assessments/{aid}/whatif": "Giá trị thử", f"/assessments/{aid}/audit": "Điểm rủi ro",
             f"/assessments/{aid}/rounds": "Thẩm định lần 1", "/history": "Lịch sử qua các năm"}
    for path, words in pages.items():
        r = client.get(path)
        assert r.status_code == 200, path
        assert words in r.text, path
        assert "Lưu ý: Điểm tối đa trong bộ tiêu chí này là MINH HỌA" in r.text or path in ("/", "/assessments/new", "/history", f"/assessments/{aid}/lost/7.3.1")
    card = client.get(f"/assessments/{aid}").text
    assert "88,45" in card and "Từ 80% đến dưới 90%" in card and 'data-testid="rank"' in card
    assert client.get("/template.xlsx").content[:2] == b"PK"
    assert client.get(f"/assessments/{aid}/lost/1.1").status_code == 404  # 1.1 lost nothing
    assert client.get("/static/htmx-2.0.11.min.js").status_code == 200


def test_whatif_fragment_and_saved_scenario(client) -> None:  # type: ignore[no-untyped-def]
    aid = upload(client, {"evidence": (LANG_SON, sample(LANG_SON))}).json()["id"]
    h = csrf(client)
    r = client.post(f"/assessments/{aid}/whatif", data={"set:3.4.3": "100%", "was:3.4.3": "86.44%",
                                                         "set:7.3.4": "60%", "was:7.3.4": "52.12%",
                                                         "set:1.1": "", "was:1.1": ""}, headers=h)
    assert r.status_code == 200
    assert "90,7" in r.text and "Từ 90% trở lên" in r.text
    unchanged = client.post(f"/assessments/{aid}/whatif", data={"set:3.4.3": "86.44%", "was:3.4.3": "86.44%"},
                            headers=h)
    assert "88,45" in unchanged.text
    bad = client.post(f"/assessments/{aid}/whatif", data={"set:3.4.3": "nhiều", "was:3.4.3": "86.44%"}, headers=h)
    assert bad.status_code == 422 and "Cần sửa" in bad.text
    saved = client.post(f"/assessments/{aid}/scenarios", headers=h, follow_redirects=False,
                        data={"set:3.4.3": "100%", "was:3.4.3": "86.44%", "name": "Một cửa đúng hạn"})
    assert saved.status_code == 303
    page = client.get(f"/assessments/{aid}/whatif").text
    assert "Một cửa đúng hạn" in page and "89,45" in page


def test_rounds_upload_edit_and_docx(client) -> None:  # type: ignore[no-untyped-def]
    import docx

    aid = upload(client, {"evidence": (LANG_SON, sample(LANG_SON))}).json()["id"]
    h = csrf(client)
    r = client.post(f"/assessments/{aid}/rounds", headers=h, follow_redirects=False, data={"round": "tham_dinh_1"},
                    files={"appraisal": ("tham-dinh.csv", sample("appraisal-lang-son-2025.csv"))})
    assert r.status_code == 303, r.text
    page = client.get(f"/assessments/{aid}/rounds").text
    assert "tham-dinh.csv" in page and 'data-code="2.1.2"' in page
    apid = int(r.headers["location"].rsplit("-", 1)[-1])
    ok = client.post(f"/assessments/{aid}/rounds/{apid}/explanations", headers={**h, "HX-Request": "true"},
                     data={"text:2.1.2": "Sở đã ban hành Công văn 12/STP-VP <xử lý>."})
    assert ok.status_code == 200 and "Đã lưu" in ok.text
    assert "Công văn 12/STP-VP &lt;xử lý&gt;." in client.get(f"/assessments/{aid}/rounds").text
    d = client.get(f"/assessments/{aid}/rounds/{apid}/giai-trinh.docx")
    assert d.status_code == 200
    text = "\n".join(p.text for p in docx.Document(io.BytesIO(d.content)).paragraphs)
    assert "Công văn 12/STP-VP <xử lý>." in text and "GIẢI TRÌNH" in text
    bad = client.post(f"/assessments/{aid}/rounds", headers=h, data={"round": "tham_dinh_2"},
                      files={"appraisal": ("x.csv", b"a,b\n1,2\n")})
    assert bad.status_code == 422 and "Cần sửa" in bad.text
    assert client.get(f"/assessments/{aid}/rounds/999/giai-trinh.docx").status_code == 404


def test_round_points_equal_cli_compare(client, work: Path, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    expected = cli_output(work, monkeypatch, "compare", LANG_SON, "--appraisal", "appraisal-lang-son-2025.csv",
                          "--format", "json")
    aid = upload(client, {"evidence": (LANG_SON, sample(LANG_SON))}).json()["id"]
    client.post(f"/assessments/{aid}/rounds", data={"round": "tham_dinh_2"},
                files={"appraisal": ("appraisal-lang-son-2025.csv", sample("appraisal-lang-son-2025.csv"))})
    svc = client.app.state.service
    (ap,) = svc.appraisals(svc.get(aid))
    assert ap.comparison_json.encode() == expected


def test_audit_names_the_yaml_line_or_the_workbook_cell(client, work: Path, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    yaml_id = upload(client, {"evidence": (LANG_SON, sample(LANG_SON))}).json()["id"]
    page = client.get(f"/assessments/{yaml_id}/audit").text
    assert re.search(r'class="where">so-tu-phap-lang-son-2025\.yaml:\d+', page)
    cli_output(work, monkeypatch, "export", LANG_SON, out="tu-cham.xlsx")
    xlsx_id = upload(client, {"evidence": ("tu-cham.xlsx", (work / "tu-cham.xlsx").read_bytes())}).json()["id"]
    page = client.get(f"/assessments/{xlsx_id}/audit").text
    cells = re.findall(r'class="where">tu-cham\.xlsx &#39;(Lĩnh vực \d)&#39;!([A-Z]+\d+)', page)
    assert len(cells) > 10
    wb = openpyxl.load_workbook(work / "tu-cham.xlsx")
    first = page.split('<tbody>')[1].split("<td>")[1].split("</td>")[0]  # the first gap's code
    sheet, cell = cells[0]
    row = wb[sheet][cell].row
    assert wb[sheet][f"A{row}"].value == first


# ------------------------------------------------------------------ parindex serve


@pytest.mark.parametrize("host", ["0.0.0.0", "192.168.1.5", "::", "example.org"])
def test_serve_refuses_other_hosts_until_accounts_exist(host: str, capsys: pytest.CaptureFixture[str],
                                                        tmp_path: Path) -> None:
    assert main(["serve", "--host", host, "--db", str(tmp_path / "p.db")]) == 2
    err = capsys.readouterr().err
    assert "host_needs_accounts" in err and "tài khoản" in err and "parindex user add" in err
    assert not (tmp_path / "p.db").exists()
    assert "Traceback" not in err


def test_serve_starts_prints_the_address_and_the_database(tmp_path: Path) -> None:
    import os
    import socket
    import subprocess
    import sys
    import time
    import urllib.request

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    db = tmp_path / "o" / "parindex.db"
    env = {**os.environ, "PARINDEX_DATA": str(tmp_path / "data")}
    proc = subprocess.Popen([sys.executable, "-m", "scoring.cli", "serve", "--port", str(port), "--db", str(db)],
                            stderr=subprocess.PIPE, text=True, env=env)
    try:
        first = [proc.stderr.readline() for _ in range(2)]  # type: ignore[union-attr]
        assert first[0].strip() == f"parindex đang chạy: mở http://127.0.0.1:{port}/ trong trình duyệt."
        assert str(db) in first[1]
        for _ in range(100):
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2) as r:
                    assert r.read() == b'{"status":"ok"}'
                    break
            except OSError:
                time.sleep(0.1)
        else:
            pytest.fail("the server did not answer")
        assert db.is_file() and (tmp_path / "o" / "parindex-files").parent.is_dir()
    finally:
        proc.terminate()
        proc.wait(10)


@pytest.mark.parametrize("target, value, flag", [("percent", "92", "--target-percent"), ("rank", "3", "--target-rank"),
                                                 ("budget", "10", "--budget")])
def test_plan_form_equals_cli_plan(client, work: Path, monkeypatch: pytest.MonkeyPatch, target: str, value: str,  # type: ignore[no-untyped-def]
                                   flag: str) -> None:
    shutil.copy(SAMPLES / "options-lang-son-2025.yaml", work / "options.yaml")
    expected = json.loads(cli_output(work, monkeypatch, "plan", LANG_SON, "--options", "options.yaml", flag, value,
                                     "--peers", PEERS, "--format", "json"))
    aid = upload(client, {"evidence": (LANG_SON, sample(LANG_SON)), "peers": (PEERS, sample(PEERS))}).json()["id"]
    h = {**csrf(client), "HX-Request": "true"}
    r = client.post(f"/assessments/{aid}/plan", headers=h, data={"target": target, "target_value": value},
                    files={"options": ("options.yaml", (work / "options.yaml").read_bytes())})
    assert r.status_code == 200, r.text
    from scoring.web.views.common import pts

    assert f'data-testid="plan-total">{pts(expected["points_after"])}<' in r.text
    assert f'data-testid="plan-effort">{pts(expected["effort"])}<' in r.text
    for option in expected["options_chosen"]:
        assert option["title"] in r.text
    page = client.post(f"/assessments/{aid}/plan", headers=csrf(client), data={"target": target, "target_value": value},
                       files={"options": ("options.yaml", (work / "options.yaml").read_bytes())})
    assert page.status_code == 200 and "Kế hoạch ít công sức nhất" in page.text and 'data-testid="plan"' in page.text


@pytest.mark.parametrize("data, status, code", [({"target": "percent", "target_value": "nhiều"}, 422, "bad_target"),
                                                ({"target": "luck", "target_value": "1"}, 400, "unknown_target"),
                                                ({"target": "rank", "target_value": "2"}, 422, "peers_required")])
def test_plan_form_bad_input(client, data: dict[str, str], status: int, code: str) -> None:  # type: ignore[no-untyped-def]
    aid = upload(client, {"evidence": (LANG_SON, sample(LANG_SON))}).json()["id"]
    r = client.post(f"/assessments/{aid}/plan", headers={**csrf(client), "HX-Request": "true"}, data=data,
                    files={"options": ("o.yaml", sample("options-lang-son-2025.yaml"))})
    assert r.status_code == status and code in r.text and "Cần sửa" in r.text


def test_concurrent_whatifs_answer_as_sequential_ones(client) -> None:  # type: ignore[no-untyped-def]
    from concurrent.futures import ThreadPoolExecutor

    aid = upload(client, {"evidence": (LANG_SON, sample(LANG_SON))}).json()["id"]
    values = [f"{v}%" for v in range(80, 100, 2)] * 2

    def ask(v: str) -> bytes:
        r = client.post(f"/api/assessments/{aid}/whatif", json={"set": {"3.4.3": v, "7.3.4": v}})
        assert r.status_code == 200
        return r.content

    sequential = [ask(v) for v in values]
    with ThreadPoolExecutor(8) as pool:
        assert list(pool.map(ask, values)) == sequential


def test_an_internal_error_is_a_vietnamese_500_and_the_server_goes_on(client, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    svc = client.app.state.service

    def broken(*_a: object, **_k: object) -> None:
        raise RuntimeError("boom in a bug")

    monkeypatch.setattr(svc, "list", broken)
    page = client.get("/")
    assert page.status_code == 500 and "lỗi nội bộ" in page.text and "Traceback" not in page.text
    api_answer = client.get("/api/history")
    assert api_answer.status_code == 500 and api_answer.json()["problems"][0]["code"] == "internal_error"
    assert "boom" not in api_answer.text
    monkeypatch.undo()
    assert client.get("/").status_code == 200


def test_a_lost_point_shows_the_rule_levels(client) -> None:  # type: ignore[no-untyped-def]
    aid = upload(client, {"evidence": (LANG_SON, sample(LANG_SON))}).json()["id"]
    ratio = client.get(f"/assessments/{aid}/lost/7.3.4").text  # bands: from 55 % full points
    assert "từ 55% trở lên" in ratio and "thấp hơn" in ratio
    checks = client.get(f"/assessments/{aid}/lost/7.3.1").text  # both checks needed
    assert "cần: Tái sử dụng dữ liệu số hóa từ 50% trở lên" in checks and "đủ tất cả: 3 điểm; ngược lại 0 điểm" in checks
