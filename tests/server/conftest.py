"""Fixtures of the province-server tests: a province (two departments, a clerk and a leader of the first,
a clerk of the second, an appraiser, an admin) on SQLite and on a real PostgreSQL, one signed-in client
per role. PostgreSQL skips only outside CI when its binaries are missing; under CI=true it must run."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).parent))
from pgserver import IN_CI, PgServer, running_pg  # noqa: E402, F401  (IN_CI: test_server_browser imports it from here)

ROOT = Path(__file__).resolve().parents[2]
SAMPLES = ROOT / "sample_evidence"
LANG_SON = "so-tu-phap-lang-son-2025.yaml"
DONG_DANG = "bql-kkt-cua-khau-dong-dang-lang-son-2025.yaml"
DEP_A = "Sở Tư pháp tỉnh Lạng Sơn"
DEP_B = "Ban Quản lý Khu kinh tế cửa khẩu Đồng Đăng - Lạng Sơn"
APPRAISAL = "appraisal-lang-son-2025.csv"
PASSWORD = "mat-khau-thu-nghiem"
#: role account → (role, department)
ACCOUNTS = {"clerk_a": ("clerk", DEP_A), "leader_a": ("leader", DEP_A), "clerk_b": ("clerk", DEP_B),
            "appraiser": ("appraiser", "Sở Nội vụ tỉnh Lạng Sơn"), "admin": ("admin", None)}


def sample(name: str) -> bytes:
    return (SAMPLES / name).read_bytes()


@pytest.fixture(scope="session")
def pg() -> Iterator[PgServer]:
    yield from running_pg()


def add_users(store: Any) -> None:
    from scoring.store import accounts as acc
    from scoring.store import queries as q
    from scoring.store.passwords import hash_password

    hashed = hash_password(PASSWORD)  # one hash for all: the tests stay fast
    with store.sessions.begin() as s:
        for name, (role, dep) in ACCOUNTS.items():
            acc.add_user(s, name, role, hashed, q.department_for(s, dep) if dep else None)


class RoleClient:
    """A TestClient with its own cookies, signed in as one account (or not at all)."""

    def __init__(self, app: Any, name: str | None):
        from fastapi.testclient import TestClient

        self.name = name
        self.http = TestClient(app, base_url="http://127.0.0.1:8765", raise_server_exceptions=False)
        self.csrf: str | None = None
        if name:
            r = self.http.post("/api/login", json={"username": name, "password": PASSWORD})
            assert r.status_code == 200, r.text
            self.csrf = r.json()["csrf_token"]

    def headers(self, **extra: str) -> dict[str, str]:
        return {**({"X-CSRF-Token": self.csrf} if self.csrf else {}), **extra}

    def get(self, url: str, **kw: Any) -> Any:
        return self.http.get(url, follow_redirects=False, **kw)

    def post(self, url: str, **kw: Any) -> Any:
        return self.http.post(url, follow_redirects=False, **kw)

    def post_form(self, url: str, data: dict[str, str] | None = None, files: Any = None, token: str | None = "") -> Any:
        """A browser-style form post: the token in the body (``token=None``: none; default: the session's)."""
        data = dict(data or {})
        if token is not None:
            data["csrf_token"] = token or (self.csrf or "")
        return self.http.post(url, data=data, files=files, follow_redirects=False)

    def api_upload(self, name: str, data: bytes | None = None, **fields: str) -> Any:
        return self.http.post("/api/assessments", files={"evidence": (name, data if data is not None else sample(name))},
                              data=fields, headers=self.headers())


@dataclass
class Province:
    app: Any
    store: Any
    tmp: Path
    clients: dict[str, RoleClient] = field(default_factory=dict)
    ids: dict[str, int] = field(default_factory=dict)  # assessment of A, of B, appraisal of A

    def __getitem__(self, name: str) -> RoleClient:
        return self.clients[name]

    def count(self, table: str) -> int:
        from sqlalchemy import text

        with self.store.engine.connect() as c:
            return int(c.execute(text(f"SELECT count(*) FROM {table}")).scalar() or 0)


def make_province(db: str, tmp: Path, uploads: bool = True, **config: Any) -> Province:
    from scoring.store.db import Store
    from scoring.web import WebConfig, create_app

    store = Store.open(db, tmp / "files")
    add_users(store)
    app = create_app(WebConfig(db=db, files_dir=tmp / "files", **config), store)
    prov = Province(app, store, tmp)
    if not uploads:
        return prov
    for name in (*ACCOUNTS, None):
        prov.clients[name or "signed_out"] = RoleClient(app, name)
    a = prov["clerk_a"].api_upload(LANG_SON)
    b = prov["clerk_b"].api_upload(DONG_DANG)
    assert a.status_code == 201 and b.status_code == 201, (a.text, b.text)
    prov.ids["a"], prov.ids["b"] = a.json()["id"], b.json()["id"]
    r = prov["appraiser"].post_form(f"/assessments/{prov.ids['a']}/rounds", {"round": "tham_dinh_1"},
                                    files={"appraisal": (APPRAISAL, sample(APPRAISAL))})
    assert r.status_code == 303, r.text
    prov.ids["appraisal"] = int(r.headers["location"].rsplit("-", 1)[1])
    return prov


@pytest.fixture(params=["sqlite", "postgresql"])
def province(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Province]:
    db = str(tmp_path / "parindex.db") if request.param == "sqlite" else request.getfixturevalue("pg").new_database()
    prov = make_province(db, tmp_path, max_evidence_bytes=2 * 1024 * 1024)
    yield prov
    for c in prov.clients.values():
        c.http.close()
    prov.store.close()


@pytest.fixture
def sqlite_province(tmp_path: Path) -> Iterator[Province]:
    prov = make_province(str(tmp_path / "parindex.db"), tmp_path, max_evidence_bytes=2 * 1024 * 1024)
    yield prov
    for c in prov.clients.values():
        c.http.close()
    prov.store.close()
