"""Who is changing the store: the signed-in account of a web request (set per request by the web layer's
middleware), or, outside a request, the command line (``cli:<os user>``). A context variable, so that
worker threads of a request inherit it and the store's events (audit log, author) can read it."""

from __future__ import annotations

import contextvars
from dataclasses import dataclass

#: Roles bound to one department (they see only its assessments).
DEPARTMENT_ROLES = ("clerk", "leader")
ROLES: dict[str, str] = {
    "clerk": "Chuyên viên (đơn vị)",
    "leader": "Lãnh đạo (đơn vị)",
    "appraiser": "Thẩm định (Sở Nội vụ)",
    "admin": "Quản trị",
}


@dataclass(frozen=True)
class Actor:
    user_id: int | None
    username: str
    role: str
    department_id: int | None
    department: str | None
    csrf: str | None = None
    address: str | None = None
    token: str | None = None

    @property
    def sees_all(self) -> bool:
        return self.role not in DEPARTMENT_ROLES

    @property
    def role_title(self) -> str:
        return ROLES.get(self.role, self.role)


_current: contextvars.ContextVar[Actor | None] = contextvars.ContextVar("parindex_actor", default=None)


def current() -> Actor | None:
    return _current.get()


def use(actor: Actor | None) -> contextvars.Token[Actor | None]:
    return _current.set(actor)


def reset(token: contextvars.Token[Actor | None]) -> None:
    _current.reset(token)


def visible_departments() -> tuple[int, ...] | None:
    """Department ids the current actor may see; None: all of them (appraiser, admin, one machine, CLI)."""
    a = current()
    if a is None or a.sees_all:
        return None
    return (a.department_id,) if a.department_id is not None else ()


def described() -> tuple[str, int | None, str | None]:
    """(actor name, user id, address) for the audit log."""
    a = current()
    if a is None:
        import getpass

        try:
            who = getpass.getuser()
        except Exception:  # noqa: BLE001 - no user name in this environment
            who = "?"
        return f"cli:{who}", None, None
    return a.username, a.user_id, a.address
