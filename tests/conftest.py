"""Shared fixtures: the bundled criteria/rules are loaded (and compiled) once per test session."""

from __future__ import annotations

from pathlib import Path

import pytest

from scoring.core.rules import Bundle, load_bundle
from system_deps import ensure_system_packages

ROOT = Path(__file__).resolve().parent.parent
SAMPLES = ROOT / "sample_evidence"


def pytest_configure(config: pytest.Config) -> None:
    ensure_system_packages()  # CI: Debian's chromium and postgresql, before any test is collected


@pytest.fixture(scope="session")
def bundle() -> Bundle:
    b = load_bundle(set_id="cap-so-2025")
    yield b
    b.close()
