"""The Debian packages the browser and PostgreSQL tests need, installed by the test run itself.

README's test command is the whole of CI (`.ci/run` runs exactly it), so on a clean CI machine the
test session installs what is missing before any test runs: Debian's chromium (driven by Playwright,
no browser download), postgresql (a server the tests start in a temporary folder) and Java 17 (for
the Spark engine's tests). Only with
CI=true, or PARINDEX_INSTALL_SYSTEM_PACKAGES=1, and only as root; a developer's machine is never changed
unasked (the tests then skip, and under CI=true they fail instead of skipping).
"""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
import sys


def missing_packages() -> list[str]:
    missing = []
    if not (shutil.which("chromium") or os.path.exists("/usr/bin/chromium")):
        missing.append("chromium")
    if not glob.glob("/usr/lib/postgresql/*/bin/initdb"):
        missing.append("postgresql")
    if not (os.environ.get("JAVA_HOME") or shutil.which("java")):  # the Spark engine's tests (pyspark 4: Java 17+)
        missing.append("openjdk-17-jre-headless")
    return missing


def ensure_system_packages() -> None:
    wanted = os.environ.get("CI") == "true" or os.environ.get("PARINDEX_INSTALL_SYSTEM_PACKAGES") == "1"
    missing = missing_packages()
    if not (wanted and missing) or not shutil.which("apt-get") or os.geteuid() != 0:
        return
    sys.stderr.write(f"Installing Debian packages for the browser, database and Spark tests: {' '.join(missing)}\n")
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    subprocess.run(["apt-get", "update", "-qq"], check=True, env=env, stdout=subprocess.DEVNULL)
    subprocess.run(["apt-get", "install", "-y", "-qq", *missing], check=True, env=env, stdout=subprocess.DEVNULL)
