"""Shared fixtures: the bundled criteria/rules are loaded (and compiled) once per test session."""

from __future__ import annotations

from pathlib import Path

import pytest

from scoring.core.rules import Bundle, load_bundle

ROOT = Path(__file__).resolve().parent.parent
SAMPLES = ROOT / "sample_evidence"


@pytest.fixture(scope="session")
def bundle() -> Bundle:
    b = load_bundle(set_id="cap-so-2025")
    yield b
    b.close()
