"""Opening the store: engine, sessions, migrations (run automatically at start), the files folder."""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import Engine, create_engine, event, inspect
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

from .files import FileStore

MIGRATIONS = Path(__file__).with_name("migrations")


def data_folder() -> Path:
    """The user's data folder for parindex (``PARINDEX_DATA`` overrides it)."""
    if os.environ.get("PARINDEX_DATA"):
        return Path(os.environ["PARINDEX_DATA"])
    if sys.platform == "win32" and os.environ.get("LOCALAPPDATA"):
        return Path(os.environ["LOCALAPPDATA"]) / "parindex"
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "parindex"


def default_database() -> str:
    return str(data_folder() / "parindex.db")


def database_url(db: str | None) -> str:
    """A SQLAlchemy URL from ``--db``: a URL as given, or a SQLite file path."""
    db = db or default_database()
    if "://" in db:
        return db
    return "sqlite:///" + str(Path(db).expanduser().resolve())


def files_folder(url: str) -> Path:
    """Uploaded files sit next to a SQLite database file, else in the data folder."""
    u = make_url(url)
    if u.get_backend_name() == "sqlite" and u.database and u.database != ":memory:":
        db = Path(u.database)
        return db.with_name(db.stem + "-files")
    return data_folder() / "files"


def _sqlite_pragmas(dbapi_connection: object, _record: object) -> None:
    cur = dbapi_connection.cursor()  # type: ignore[attr-defined]
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA busy_timeout=10000")
    cur.close()


def make_engine(url: str) -> Engine:
    u = make_url(url)
    if u.get_backend_name() == "sqlite":
        if u.database and u.database != ":memory:":
            Path(u.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"check_same_thread": False})
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    # No pre-ping (a SELECT 1 round trip before every checkout, a third of a page's database time): after a
    # database restart the first statement on a dead connection fails as a disconnect, which answers 503
    # (web/auth.py) and makes SQLAlchemy discard every pooled connection, so the next requests reconnect
    # (tests/server/test_server_faults.py). 20 kept connections (30 at peak) per process: with SQLAlchemy's
    # 5 a worker under load opened a PostgreSQL backend per request; workers × 30 must stay under the
    # server's max_connections (100 by default).
    return create_engine(url, pool_size=20, max_overflow=10)


def _alembic_config(engine: Engine) -> object:
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.attributes["engine"] = engine
    return cfg


def migrate(engine: Engine) -> str | None:
    """Bring the database to the newest schema; returns the revision it was at before (None: new)."""
    from alembic import command
    from alembic.runtime.migration import MigrationContext

    with engine.connect() as conn:
        before = MigrationContext.configure(conn).get_current_revision()
    command.upgrade(_alembic_config(engine), "head")  # type: ignore[arg-type]
    return before


def current_revision(engine: Engine) -> str | None:
    from alembic.runtime.migration import MigrationContext

    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def head_revision() -> str:
    from alembic.script import ScriptDirectory

    return ScriptDirectory(str(MIGRATIONS)).get_current_head() or ""


@dataclass
class Store:
    """An opened store: the engine, a session factory and the files folder."""

    url: str
    engine: Engine
    sessions: sessionmaker[Session]
    files: FileStore
    #: the engine for single reads without a transaction (no BEGIN and ROLLBACK round trips: every request
    #: reads its sign-in session this way) and its sessions; never for writes through the ORM, whose checks
    #: and audit log are events of ``sessions``
    read_engine: Engine = field(init=False)
    reads: sessionmaker[Session] = field(init=False)

    def __post_init__(self) -> None:
        self.read_engine = self.engine.execution_options(isolation_level="AUTOCOMMIT")
        self.reads = sessionmaker(self.read_engine, expire_on_commit=False)

    @classmethod
    def open(cls, db: str | None = None, files_dir: Path | None = None, upgrade: bool = True) -> "Store":
        url = database_url(db)
        engine = make_engine(url)
        if upgrade:
            migrate(engine)
        return cls(url, engine, sessionmaker(engine, expire_on_commit=False),
                   FileStore(files_dir or files_folder(url)))

    def tables(self) -> list[str]:
        return sorted(inspect(self.engine).get_table_names())

    def close(self) -> None:
        self.engine.dispose()

    @property
    def shown_url(self) -> str:
        """The URL without a password, for messages."""
        return make_url(self.url).render_as_string(hide_password=True)
