"""A throw-away PostgreSQL server must not outlive the test run that started it.

pg_ctl detaches the server from the test process, so a test run killed outright (SIGKILL, a CI timeout)
would leave it running. A small watchdog process waits for the test process to end; if the server is
still there, it stops it (``-m immediate``) and removes its folder. The fixture that stops the server
normally ends the watchdog too, so after a clean run nothing of it is left.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

_SCRIPT = """
import os, shutil, subprocess, sys, time
parent, pg_ctl, data, tmp, *prefix = sys.argv[1:]
while True:
    try:
        os.kill(int(parent), 0)
    except ProcessLookupError:
        break
    time.sleep(0.5)
subprocess.run([*prefix, pg_ctl, "-D", data, "-m", "immediate", "stop"], capture_output=True, timeout=60)
shutil.rmtree(tmp, ignore_errors=True)
"""


def start_watchdog(pg_ctl: Path, data: Path, tmp: Path, prefix: list[str]) -> subprocess.Popen[bytes]:
    return subprocess.Popen([sys.executable, "-c", _SCRIPT, str(os.getpid()), str(pg_ctl), str(data), str(tmp),
                             *prefix], start_new_session=True, stdin=subprocess.DEVNULL,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def end_watchdog(watchdog: subprocess.Popen[bytes]) -> None:
    watchdog.kill()
    watchdog.wait(timeout=10)
