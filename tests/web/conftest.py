"""Fixtures of the web-application tests: the store on SQLite and PostgreSQL, a client, a live server.

PostgreSQL: ``PARINDEX_TEST_PG_URL`` names a server to use; otherwise a throw-away server is started in a
temporary folder (initdb/pg_ctl, as the postgres user when running as root) for the session and
stopped at the end. Without the binaries the PostgreSQL cases skip, except under CI=true, where they fail.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from pgserver import running_pg
from webkit import make_client


@pytest.fixture(scope="session")
def pg_server() -> Iterator[str]:
    """The URL (without database name) of a PostgreSQL server for this session."""
    given = os.environ.get("PARINDEX_TEST_PG_URL")
    if given:
        yield given.rstrip("/")
        return
    for server in running_pg():
        yield server.url


def _new_pg_database(server: str, template: str | None = None) -> str:
    import psycopg

    name = "t_" + uuid.uuid4().hex[:12]
    plain = server.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(plain + "/postgres", autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"' + (f' TEMPLATE "{template}"' if template else ""))
    return f"{server}/{name}"


@pytest.fixture(scope="session")
def pg_migrated_template(pg_server: str) -> str:
    """A database at the newest schema, copied for each test that needs a migrated store (faster)."""
    from scoring.store.db import Store

    url = _new_pg_database(pg_server)
    Store.open(url).close()
    return url.rsplit("/", 1)[-1]


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A fresh, empty database on each engine."""
    if request.param == "sqlite":
        return str(tmp_path / "parindex.db")
    return _new_pg_database(request.getfixturevalue("pg_server"))


@pytest.fixture(params=["sqlite", "postgresql"])
def migrated_db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A database already at the newest schema, on each engine (migrations run again on open: a no-op)."""
    if request.param == "sqlite":
        return str(tmp_path / "parindex.db")
    template = request.getfixturevalue("pg_migrated_template")
    return _new_pg_database(request.getfixturevalue("pg_server"), template)


@pytest.fixture
def sqlite_db(tmp_path: Path) -> str:
    return str(tmp_path / "parindex.db")


@pytest.fixture
def client(sqlite_db: str, tmp_path: Path):  # type: ignore[no-untyped-def]
    c = make_client(sqlite_db, tmp_path)
    yield c
    c.app.state.store.close()
    c.close()
