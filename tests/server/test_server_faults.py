"""Faults on a real server process (``parindex serve``): killed with SIGKILL during uploads and restarted
(no half-stored assessment, the database passes its integrity check); PostgreSQL restarted during
requests (the server, with 2 workers, answers again within seconds without a restart of its own)."""

from __future__ import annotations

import hashlib
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from conftest import LANG_SON, PASSWORD, add_users, sample
from pgserver import PgServer, free_port, running_pg

SERVE = "import sys; from scoring.cli import main; sys.exit(main())"


class Server:
    """``parindex serve`` in its own process group (so that its workers go with it)."""

    def __init__(self, db: str, tmp: Path, workers: int = 1):
        self.db, self.tmp, self.workers = db, tmp, workers
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        env = {**os.environ, "PARINDEX_DATA": str(self.tmp / "data")}
        self.proc = subprocess.Popen([sys.executable, "-c", SERVE, "serve", "--db", self.db, "--port", str(self.port),
                                      "--workers", str(self.workers)], env=env, start_new_session=True,
                                     stdout=subprocess.DEVNULL, stderr=open(self.tmp / "server.log", "ab"))
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if httpx.get(self.base + "/healthz", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            assert self.proc.poll() is None, (self.tmp / "server.log").read_text()
            time.sleep(0.1)
        raise AssertionError("the server did not start: " + (self.tmp / "server.log").read_text())

    def kill(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(10)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.kill()


def signed_in(base: str, name: str = "clerk_a") -> tuple[httpx.Client, dict[str, str]]:
    c = httpx.Client(base_url=base, timeout=30)
    r = c.post("/api/login", json={"username": name, "password": PASSWORD})
    assert r.status_code == 200, r.text
    return c, {"X-CSRF-Token": r.json()["csrf_token"]}


def _multipart(data: bytes) -> tuple[bytes, str]:
    boundary = "parindexboundary7d1"
    body = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"evidence\"; filename=\"{LANG_SON}\"\r\n"
            "Content-Type: application/octet-stream\r\n\r\n").encode() + data + f"\r\n--{boundary}--\r\n".encode()
    return body, boundary


@pytest.fixture
def sqlite_server(tmp_path: Path) -> Iterator[Server]:
    from scoring.store.db import Store

    db = str(tmp_path / "parindex.db")
    store = Store.open(db)
    add_users(store)
    store.close()
    server = Server(db, tmp_path)
    server.start()
    yield server
    server.stop()


def _check_store(db: str, files: Path) -> int:
    """Integrity, and every stored assessment complete: its points per node and its file, bytes intact."""
    con = sqlite3.connect(db)
    try:
        assert con.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        rows = con.execute("SELECT a.id, a.evidence_sha, f.kind, (SELECT count(*) FROM node_points n "
                           "WHERE n.assessment_id = a.id) FROM assessments a LEFT JOIN files f "
                           "ON f.sha256 = a.evidence_sha").fetchall()
        for aid, sha, kind, nodes in rows:
            assert kind is not None and nodes > 10, (aid, kind, nodes)
            stored = files / sha[:2] / f"{sha}.{kind}"
            assert hashlib.sha256(stored.read_bytes()).hexdigest() == sha
        return len(rows)
    finally:
        con.close()


def test_sigkill_during_uploads_leaves_nothing_half_stored(sqlite_server: Server) -> None:
    files = Path(sqlite_server.db).with_name("parindex-files")
    c, headers = signed_in(sqlite_server.base)
    assert c.post("/api/assessments", files={"evidence": (LANG_SON, sample(LANG_SON))}, headers=headers).status_code == 201
    ok = 1
    # 1. killed while the body is still arriving: half a request stores nothing
    body, boundary = _multipart(sample(LANG_SON) + b"\n#" + b"x" * 400_000)
    with socket.create_connection(("127.0.0.1", sqlite_server.port)) as s:
        head = (f"POST /api/assessments HTTP/1.1\r\nHost: 127.0.0.1:{sqlite_server.port}\r\n"
                f"Cookie: parindex_session={c.cookies.get('parindex_session')}\r\nX-CSRF-Token: {headers['X-CSRF-Token']}\r\n"
                f"Content-Type: multipart/form-data; boundary={boundary}\r\nContent-Length: {len(body)}\r\n\r\n")
        s.sendall(head.encode() + body[: len(body) // 2])
        time.sleep(0.3)
        sqlite_server.kill()
    sqlite_server.start()
    assert _check_store(sqlite_server.db, files) == ok
    # 2. killed at random moments while uploads run back to back (some die while scoring or committing)
    kills = 2
    for i in range(kills):
        c, headers = signed_in(sqlite_server.base)  # the session survives a restart, but sign in anew anyway
        done = threading.Event()
        answered = []

        def uploads() -> None:
            while not done.is_set():
                try:
                    r = c.post("/api/assessments", files={"evidence": (LANG_SON, sample(LANG_SON))}, headers=headers)
                except httpx.HTTPError:
                    return
                answered.append(r.status_code)

        t = threading.Thread(target=uploads)
        t.start()
        time.sleep(0.6 + 0.37 * i)
        sqlite_server.kill()
        done.set()
        t.join(30)
        assert set(answered) <= {201}, answered
        ok += len(answered)
        sqlite_server.start()
        stored = _check_store(sqlite_server.db, files)
        # a kill between the commit and the answer may leave one stored upload whose 201 never arrived
        assert ok <= stored <= ok + i + 1
        ok = stored
    c, headers = signed_in(sqlite_server.base)
    assert len(c.get("/api/history").json()["assessments"]) == ok
    c.close()


@pytest.fixture
def own_pg() -> Iterator[PgServer]:
    yield from running_pg()


def test_postgresql_restart_during_requests(own_pg: PgServer, tmp_path: Path) -> None:
    from scoring.store.db import Store

    db = own_pg.new_database()
    store = Store.open(db, tmp_path / "files")
    add_users(store)
    store.close()
    server = Server(db, tmp_path, workers=2)
    server.start()
    try:
        c, headers = signed_in(server.base)
        assert c.post("/api/assessments", files={"evidence": (LANG_SON, sample(LANG_SON))},
                      headers=headers).status_code == 201
        statuses: list[int] = []
        stop = threading.Event()

        def reads() -> None:
            while not stop.is_set():
                try:
                    statuses.append(c.get("/api/history").status_code)
                except httpx.HTTPError:
                    statuses.append(-1)
                time.sleep(0.02)

        t = threading.Thread(target=reads)
        t.start()
        time.sleep(0.5)
        pid = server.proc.pid  # type: ignore[union-attr]
        own_pg.restart()
        restarted = time.monotonic()
        back: float | None = None
        while time.monotonic() - restarted < 15:
            if statuses and statuses[-1] == 200 and len(statuses) > 3 and statuses[-3:] == [200, 200, 200]:
                back = time.monotonic() - restarted
                break
            time.sleep(0.05)
        stop.set()
        t.join(10)
        assert back is not None and back < 5, statuses[-20:]
        assert server.proc.poll() is None and server.proc.pid == pid  # type: ignore[union-attr]  # no restart of its own
        assert set(statuses) <= {200, 503}, sorted(set(statuses))  # during the outage: 503 with a message, never 500
        # the same session still works (sessions live in the database), and so do writes
        r = c.post("/api/assessments", files={"evidence": (LANG_SON, sample(LANG_SON))}, headers=headers)
        assert r.status_code == 201, r.text
        print(f"PostgreSQL restarted: answering again after {back:.2f} s; statuses {sorted(set(statuses))}")
        c.close()
    finally:
        server.stop()
