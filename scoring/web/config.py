"""Settings of one running web application."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

MB = 1024 * 1024


@dataclass(frozen=True)
class WebConfig:
    db: str | None = None  # SQLite file or SQLAlchemy URL; None: the user's data folder
    host: str = "127.0.0.1"
    port: int = 8765
    files_dir: Path | None = None  # uploaded files; None: next to the SQLite file / in the data folder
    criteria_dir: Path | None = None
    rules_dir: Path | None = None
    max_evidence_bytes: int = 20 * MB  # evidence workbook or YAML, mapping, procedures, peers, appraisal
    max_dossier_bytes: int = 500 * MB  # the one-stop system's dossier export
    extra_hosts: tuple[str, ...] = field(default_factory=tuple)  # Host header values allowed besides loopback
    # the province server (scoring/web/auth.py): sign-in required once an account exists or off loopback
    require_accounts: bool = False
    session_idle_hours: float = 8.0  # a session expires after this long without a request
    https_proxy: bool = False  # TLS ends at a proxy in front: session cookies are Secure
    helpers: int = 0  # helper processes of lower priority for uploads and passwords (offload.py; serve: 1)

    def allowed_hosts(self) -> set[str]:
        hosts = {"127.0.0.1", "localhost", "[::1]", "::1", *self.extra_hosts}
        if self.host not in ("0.0.0.0", "::"):
            hosts.add(self.host if ":" not in self.host or self.host.startswith("[") else f"[{self.host}]")
        return {h.lower() for h in hosts}

