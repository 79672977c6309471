"""End-to-end smoke: the README's main command works on the bundled sample."""

from __future__ import annotations

import json
import subprocess
import sys

from conftest import SAMPLES


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "scoring.cli", *args], capture_output=True, text=True,
                          encoding="utf-8")


def test_score_sample_json_contract() -> None:
    proc = run("score", str(SAMPLES / "so-tu-phap-lang-son-2025.yaml"), "--format", "json")
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout)
    assert set(data["total"]) >= {"points", "max_points", "percent"}
    codes = [c["code"] for c in data["criteria"]]
    assert "3.4.1" in codes and "1.10" not in codes
    for rec in data["criteria"]:
        assert set(rec) >= {"code", "title", "points", "max_points", "lost", "outcome", "measured", "target",
                            "reason", "evidence"}


def test_missing_file_is_exit_2_without_traceback() -> None:
    proc = run("score", "/nonexistent/evidence.yaml")
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr
    assert "file_not_found" in proc.stderr
