"""Which departments the signed-in user may see (imported by the service without importing the web layer's
routes; the value is set per request by ``scoring.web.auth.SessionMiddleware``)."""

from __future__ import annotations


def visible_departments() -> tuple[int, ...] | None:
    """Department ids the current user may see; None: all of them (appraiser, admin, one-machine mode, CLI)."""
    from .auth import visible_departments as _visible

    return _visible()
