"""The criteria sets of a process, loaded once (read-only once compiled): the workers' and their helpers'."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

from scoring import api

_BUNDLES: dict[tuple[str, str, str], Any] = {}
_BUNDLES_LOCK = threading.Lock()


def bundle_for(criteria_dir: Path | None, rules_dir: Path | None, set_id: str | None) -> Any:
    """Criteria and rules, loaded once per process (they are read-only once compiled)."""
    key = (str(criteria_dir), str(rules_dir), set_id or "")
    with _BUNDLES_LOCK:
        b = _BUNDLES.get(key)
    if b is None:
        b = api.load_bundle(criteria_dir, rules_dir, set_id)
        with _BUNDLES_LOCK:
            b = _BUNDLES.setdefault(key, b)
    return b
