"""A throw-away PostgreSQL server for the web and province-server tests (Debian's binaries, initdb/pg_ctl in
a temp folder, as the postgres user when running as root, on 127.0.0.1 and a free port), which the fault
tests can also restart. A watchdog stops it if the test run is killed."""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path

from pg_watchdog import end_watchdog, start_watchdog

IN_CI = os.environ.get("CI", "").lower() == "true"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def pg_bin() -> Path | None:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    if found:
        return Path(found[-1]).parent
    initdb = shutil.which("initdb")
    return Path(initdb).parent if initdb else None


class PgServer:
    def __init__(self) -> None:
        bindir = pg_bin()
        if bindir is None:
            raise FileNotFoundError("initdb")
        self.bin = bindir
        self.tmp = Path(tempfile.mkdtemp(prefix="parindex-pg-"))
        self.as_root = os.geteuid() == 0
        if self.as_root:
            shutil.chown(self.tmp, "postgres", "postgres")
        self.port = free_port()
        self.data = self.tmp / "data"
        self._run("initdb", "-D", str(self.data), "-U", "postgres", "-A", "trust", "-E", "UTF8",
                  "--locale=C.UTF-8", "--no-sync")
        self.start()
        prefix = ["runuser", "-u", "postgres", "--"] if self.as_root else []
        self.watchdog = start_watchdog(self.bin / "pg_ctl", self.data, self.tmp, prefix)

    def _run(self, tool: str, *args: str) -> None:
        prefix = ["runuser", "-u", "postgres", "--"] if self.as_root else []
        subprocess.run([*prefix, str(self.bin / tool), *args], check=True, capture_output=True, timeout=60)

    @property
    def url(self) -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}"

    def start(self) -> None:
        self._run("pg_ctl", "-D", str(self.data), "-l", str(self.tmp / "log"), "-w", "-t", "30", "-o",
                  f"-c listen_addresses=127.0.0.1 -p {self.port} -k {self.tmp} -c fsync=off -c max_connections=200",
                  "start")

    def stop(self) -> None:
        self._run("pg_ctl", "-D", str(self.data), "-m", "fast", "-w", "stop")

    def restart(self) -> None:
        self._run("pg_ctl", "-D", str(self.data), "-l", str(self.tmp / "log"), "-m", "fast", "-w", "-t", "30", "restart", "-o",
                  f"-c listen_addresses=127.0.0.1 -p {self.port} -k {self.tmp} -c fsync=off -c max_connections=200")

    def new_database(self) -> str:
        import psycopg

        name = "t_" + uuid.uuid4().hex[:12]
        with psycopg.connect(f"postgresql://postgres@127.0.0.1:{self.port}/postgres", autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        return f"{self.url}/{name}"

    def close(self) -> None:
        try:
            self.stop()
        except subprocess.CalledProcessError:
            pass
        end_watchdog(self.watchdog)
        shutil.rmtree(self.tmp, ignore_errors=True)


def running_pg() -> Iterator[PgServer]:
    """A fixture's body: a throw-away server, stopped afterwards; outside CI a machine without
    PostgreSQL skips, under CI=true it fails (the test session installs PostgreSQL there)."""
    import pytest

    if pg_bin() is None:
        if IN_CI:
            pytest.fail("CI=true but PostgreSQL (initdb) is not installed: the test session installs it under "
                        "CI=true as root (tests/system_deps.py)")
        pytest.skip("PostgreSQL binaries not installed (apt-get install postgresql)")
    server = PgServer()
    try:
        yield server
    finally:
        server.close()
