"""Signing in and out, cookies, the sign-in limit, upload safety, ``parindex user`` and ``parindex serve``."""

from __future__ import annotations

import io
import sqlite3
from pathlib import Path

import pytest

from conftest import DEP_A, LANG_SON, PASSWORD, Province, RoleClient, make_province, sample
from scoring.cli import main


def _login(c: RoleClient, username: str, password: str) -> object:
    return c.http.post("/api/login", json={"username": username, "password": password})


def test_wrong_name_and_wrong_password_answer_the_same(sqlite_province: Province, monkeypatch: pytest.MonkeyPatch) -> None:
    from scoring.web import auth

    verified = []
    real = auth.verify_password
    monkeypatch.setattr(auth, "verify_password", lambda h, p: verified.append(h) or real(h, p))
    c = RoleClient(sqlite_province.app, None)
    no_user, bad_pw = _login(c, "khong-co-ai", PASSWORD), _login(c, "clerk_a", "sai-mat-khau-roi")
    assert no_user.status_code == bad_pw.status_code == 401  # type: ignore[attr-defined]
    assert no_user.content == bad_pw.content  # type: ignore[attr-defined]
    assert no_user.json()["problems"][0]["message"] == "tên đăng nhập hoặc mật khẩu không đúng"  # type: ignore[attr-defined]
    assert verified == [None, verified[1]] and verified[1]  # the unknown name checked a (dummy) hash too
    assert "parindex_session" not in c.http.cookies


def test_session_cookie_flags_and_logout(tmp_path: Path) -> None:
    prov = make_province(str(tmp_path / "p.db"), tmp_path, uploads=False, https_proxy=True)
    c = RoleClient(prov.app, None)
    r = _login(c, "clerk_a", PASSWORD)
    cookie = r.headers["set-cookie"]  # type: ignore[attr-defined]
    assert "parindex_session=" in cookie and "HttpOnly" in cookie and "SameSite=lax" in cookie and "Secure" in cookie
    plain = RoleClient(make_province(str(tmp_path / "q.db"), tmp_path / "q", uploads=False).app, "clerk_a")
    assert "Secure" not in plain.http.post("/api/login", json={"username": "clerk_a", "password": PASSWORD}).headers["set-cookie"]
    # a program reads its token from the sign-in answer; logout needs it and ends the session server-side
    c = plain
    r = _login(c, "clerk_a", PASSWORD)
    token = r.json()["csrf_token"]  # type: ignore[attr-defined]
    session = c.http.cookies.get("parindex_session")
    assert c.http.post("/api/logout").status_code == 403
    assert c.http.post("/api/logout", headers={"X-CSRF-Token": token}).status_code == 200
    c.http.cookies.set("parindex_session", session)  # replaying the old cookie does not work
    assert c.http.get("/api/history").status_code == 401


def test_disabled_account_and_new_password_end_sessions(sqlite_province: Province, monkeypatch: pytest.MonkeyPatch) -> None:
    db = sqlite_province.store.url.replace("sqlite:///", "")
    clerk = sqlite_province["clerk_a"]
    assert main(["user", "disable", "clerk_a", "--db", db]) == 0
    assert clerk.get("/api/history").status_code == 401
    assert _login(RoleClient(sqlite_province.app, None), "clerk_a", PASSWORD).status_code == 401  # type: ignore[attr-defined]
    monkeypatch.setattr("sys.stdin", io.StringIO("mat-khau-moi-hoan-toan\n"))
    assert main(["user", "password", "clerk_a", "--enable", "--password-stdin", "--db", db]) == 0
    c = RoleClient(sqlite_province.app, None)
    assert _login(c, "clerk_a", "mat-khau-moi-hoan-toan").status_code == 200  # type: ignore[attr-defined]
    actions = [e["action"] for e in sqlite_province["admin"].get("/api/audit-log").json()["entries"]]
    assert actions.count("users.change") >= 2


def test_ten_failures_a_minute_lock_that_name_from_that_address(sqlite_province: Province) -> None:
    c = RoleClient(sqlite_province.app, None)
    for _ in range(10):
        assert _login(c, "clerk_a", "sai-mat-khau-roi").status_code == 401  # type: ignore[attr-defined]
    r = _login(c, "clerk_a", PASSWORD)  # even the right password, for a minute
    assert r.status_code == 429 and r.headers["retry-after"] == "60"  # type: ignore[attr-defined]
    assert r.json()["problems"][0]["code"] == "too_many_attempts"  # type: ignore[attr-defined]
    assert _login(c, "clerk_b", PASSWORD).status_code == 200  # type: ignore[attr-defined]  # another name: fine
    # a minute later (the failures are in the audit log with their time) the name works again
    from scoring.web import auth  # the audit log cannot be rewritten: move the clock instead

    real = auth.utcnow
    try:
        import datetime as dt

        auth.utcnow = lambda: real() + dt.timedelta(minutes=2)  # type: ignore[assignment]
        assert _login(c, "clerk_a", PASSWORD).status_code == 200  # type: ignore[attr-defined]
    finally:
        auth.utcnow = real  # type: ignore[assignment]


def test_sign_in_page_and_redirect_back(sqlite_province: Province) -> None:
    c = RoleClient(sqlite_province.app, None)
    r = c.get(f"/assessments/{sqlite_province.ids['a']}")
    assert r.status_code == 303 and r.headers["location"] == f"/login?next=/assessments/{sqlite_province.ids['a']}"
    page = c.get(r.headers["location"])
    assert "Đăng nhập" in page.text and 'name="csrf_token"' in page.text
    token = c.http.cookies.get("parindex_csrf")
    bad = c.post_form("/login", {"username": "clerk_a", "password": "sai", "next": "/"}, token=token)
    assert bad.status_code == 401 and "không đúng" in bad.text
    r = c.post_form("/login", {"username": "clerk_a", "password": PASSWORD, "next": "https://evil.example/"}, token=token)
    assert r.status_code == 303 and r.headers["location"] == "/"  # never to another site
    assert "clerk_a" in c.get("/").text
    # a cross-site page cannot sign a browser in
    other = RoleClient(sqlite_province.app, None)
    r = other.http.post("/api/login", json={"username": "clerk_a", "password": PASSWORD},
                        headers={"Origin": "https://evil.example"})
    assert r.status_code == 403


def test_uploaded_file_names_never_reach_the_disk(sqlite_province: Province) -> None:
    files = sqlite_province.tmp / "files"
    before = {p for p in sqlite_province.tmp.rglob("*")}
    for name in ("../../../etc/parindex.yaml", "..\\..\\x.yaml", "/tmp/tuyet-doi.yaml", "a\x00b.yaml"):
        r = sqlite_province["clerk_a"].api_upload(name, sample(LANG_SON))
        assert r.status_code == 201, r.text
        assert "/" not in r.json()["evidence_name"] and "\\" not in r.json()["evidence_name"]
        assert ".." not in r.json()["evidence_name"]
    new = {p for p in sqlite_province.tmp.rglob("*")} - before
    assert all(files in p.parents for p in new if p.is_file()), new
    assert not Path("/etc/parindex.yaml").exists() and not Path("/tmp/tuyet-doi.yaml").exists()


def test_oversized_upload_is_refused_and_stores_nothing(province: Province) -> None:
    before = province.count("assessments")
    big = sample(LANG_SON) + b"\n# " + b"x" * (3 * 1024 * 1024)  # the fixture's limit is 2 MB
    r = province["clerk_a"].api_upload(LANG_SON, big)
    assert r.status_code == 413 and r.json()["problems"][0]["code"] == "upload_too_large"
    assert province.count("assessments") == before


def test_user_commands(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    db = str(tmp_path / "p.db")
    monkeypatch.setattr("sys.stdin", io.StringIO("ngan\n"))
    assert main(["user", "add", "a", "--role", "admin", "--password-stdin", "--db", db]) == 2
    assert "ít nhất 10 ký tự" in capsys.readouterr().err
    assert main(["user", "add", "a", "--role", "clerk", "--db", db]) == 2
    assert "--department" in capsys.readouterr().err
    monkeypatch.setattr("sys.stdin", io.StringIO("mot-mat-khau-dai\n"))
    assert main(["user", "add", "vp.stp", "--role", "clerk", "--department", DEP_A, "--password-stdin", "--db", db]) == 0
    monkeypatch.setattr("sys.stdin", io.StringIO("mot-mat-khau-dai\n"))
    assert main(["user", "add", "VP.STP", "--role", "clerk", "--department", DEP_A, "--password-stdin", "--db", db]) == 2
    assert "đã có tài khoản" in capsys.readouterr().err
    assert main(["user", "list", "--db", db]) == 0
    out = capsys.readouterr().out
    assert "vp.stp" in out and "Chuyên viên" in out and DEP_A in out
    con = sqlite3.connect(db)
    stored = con.execute("SELECT password_hash FROM users").fetchone()[0]
    assert stored.startswith("$argon2id$") and "mot-mat-khau-dai" not in stored


def test_db_backup_is_a_consistent_copy(sqlite_province: Province, tmp_path: Path) -> None:
    db = sqlite_province.store.url.replace("sqlite:///", "")
    target = tmp_path / "sao-luu" / "parindex-2026.db"
    assert main(["db", "backup", str(target), "--db", db]) == 0
    con = sqlite3.connect(target)
    assert con.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    assert con.execute("SELECT count(*) FROM assessments").fetchone()[0] == sqlite_province.count("assessments")
    assert main(["db", "backup", str(target), "--db", db]) == 2  # never overwrites without --force
    assert main(["db", "backup", str(target), "--db", "postgresql+psycopg://x@127.0.0.1/y"]) == 2


def test_serve_refuses_a_network_address_without_accounts(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["serve", "--host", "0.0.0.0", "--db", str(tmp_path / "trong.db")]) == 2
    err = capsys.readouterr().err
    assert "chưa có tài khoản" in err and "parindex user add" in err


def test_workers_read_their_settings_from_the_environment(tmp_path: Path) -> None:
    from scoring.web.config import WebConfig
    from scoring.web.server import from_env, to_env

    config = WebConfig(db=str(tmp_path / "p.db"), host="0.0.0.0", port=9000, extra_hosts=("parindex.snv.gov.vn",),
                       https_proxy=True, session_idle_hours=2.5, files_dir=tmp_path / "f")
    assert from_env(to_env(config)) == config
    assert from_env({"PARINDEX_DB": "postgresql+psycopg://u@h/d", "PARINDEX_SESSION_IDLE_HOURS": "1"}).db.startswith("postgresql")


def test_identical_uploads_at_once_all_succeed(province: Province) -> None:
    """Found by the benchmark: two uploads of the same bytes (or the first two of a criteria set) committing
    at once failed on the unique key of files / criteria_sets with a 500."""
    from concurrent.futures import ThreadPoolExecutor

    clients = [RoleClient(province.app, "clerk_a") for _ in range(6)]
    data = sample(LANG_SON) + b"\n# lan moi\n"  # bytes not stored yet: every upload inserts the same file row
    before = province.count("assessments")
    with ThreadPoolExecutor(6) as pool:
        answers = list(pool.map(lambda c: c.api_upload(LANG_SON, data).status_code, clients))
    assert answers == [201] * 6
    assert province.count("assessments") == before + 6 and province.count("files") >= 3
