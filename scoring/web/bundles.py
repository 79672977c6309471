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


def settle(criteria_dir: Path | None, rules_dir: Path | None) -> None:
    """Load every criteria set now and exempt everything loaded so far from the cyclic garbage collector
    (a server worker and its helpers, at start): under load its full collections walked the compiled
    sets and the libraries on every pass and stopped a worker for 0.3–0.6 s several times a minute
    (measured with gc.callbacks); now 0.1–0.2 s."""
    import gc

    for set_id in api.criteria_sets(criteria_dir):
        try:
            bundle_for(criteria_dir, rules_dir, set_id)
        except api.ParindexError:
            pass  # a broken set still fails, with its message, when an upload names it
    gc.collect()
    gc.freeze()
