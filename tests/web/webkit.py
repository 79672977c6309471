"""Helpers of the web-application tests (imported by name; fixtures live in conftest.py)."""

from __future__ import annotations

import os
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SAMPLES = ROOT / "sample_evidence"
IN_CI = os.environ.get("CI", "").lower() == "true"


def make_client(db: str, tmp: Path, **config: object):  # type: ignore[no-untyped-def]
    from fastapi.testclient import TestClient

    from scoring.web import WebConfig, create_app

    app = create_app(WebConfig(db=db, files_dir=tmp / "files", **config))  # type: ignore[arg-type]
    return TestClient(app, base_url="http://127.0.0.1:8765", raise_server_exceptions=False)


def sample(name: str) -> bytes:
    return (SAMPLES / name).read_bytes()
