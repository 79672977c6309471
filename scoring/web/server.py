"""Serving for real: the refusal to open a network address without accounts, and ``--workers N``.

With several uvicorn workers each worker process imports ``scoring.web.server:app_from_env`` (a factory)
and reads its settings from ``PARINDEX_*`` environment variables that ``parindex serve`` sets (or a systemd
unit sets: see docs/server.md). The migrations run once, in ``parindex serve``, before the workers start.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, fields
from pathlib import Path
from typing import Any

from ..store.db import Store
from .config import WebConfig

ENV = "PARINDEX_WEB_CONFIG"  # JSON of WebConfig (parindex serve sets it for its workers)


def to_env(config: WebConfig) -> dict[str, str]:
    data = {k: (str(v) if isinstance(v, Path) else list(v) if isinstance(v, tuple) else v)
            for k, v in asdict(config).items()}
    return {ENV: json.dumps(data, ensure_ascii=False)}


def from_env(environ: dict[str, str] | None = None) -> WebConfig:
    """Settings from ``PARINDEX_WEB_CONFIG`` (JSON), then single ``PARINDEX_DB``, ``PARINDEX_HOST``… variables."""
    env = os.environ if environ is None else environ
    data: dict[str, Any] = json.loads(env[ENV]) if env.get(ENV) else {}
    simple = {"db": str, "host": str, "port": int, "session_idle_hours": float, "max_evidence_bytes": int,
              "max_dossier_bytes": int}
    for name, kind in simple.items():
        value = env.get(f"PARINDEX_{name.upper()}")
        if value:
            data[name] = kind(value)
    if env.get("PARINDEX_HTTPS_PROXY"):
        data["https_proxy"] = env["PARINDEX_HTTPS_PROXY"].lower() in ("1", "true", "yes")
    if env.get("PARINDEX_ALLOWED_HOSTS"):
        data["extra_hosts"] = [h.strip() for h in env["PARINDEX_ALLOWED_HOSTS"].split(",") if h.strip()]
    known = {f.name for f in fields(WebConfig)}
    kw: dict[str, Any] = {k: v for k, v in data.items() if k in known}
    for k in ("files_dir", "criteria_dir", "rules_dir"):
        if kw.get(k):
            kw[k] = Path(kw[k])
    if "extra_hosts" in kw:
        kw["extra_hosts"] = tuple(kw["extra_hosts"])
    return WebConfig(**kw)


def app_from_env() -> Any:
    """The application of one worker process (``uvicorn --factory scoring.web.server:app_from_env``)."""
    from .app import create_app
    from .bundles import settle

    config = from_env()
    store = Store.open(config.db, config.files_dir, upgrade=os.environ.get("PARINDEX_MIGRATED") != "1")
    app = create_app(config, store)
    settle(config.criteria_dir, config.rules_dir)  # the criteria sets loaded, then frozen out of the GC
    app.state.offload.start()  # here, in the worker's main thread: the helpers then live as long as it
    return app
