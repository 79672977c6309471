"""Password hashes: argon2id through argon2-cffi (the reference C implementation).

OWASP's argon2id minimum (m = 19 MiB, t = 2, p = 1, ~25 ms here) rather than the library's 64 MiB default,
and at most 4 hashes at once per process: a burst of sign-ins must not exhaust the memory. The
parameters live in each hash, so they can be raised later."""

from __future__ import annotations

import secrets
import threading
from typing import Any

_hasher: Any = None
_slots = threading.BoundedSemaphore(4)
_dummy: str | None = None


def _ph() -> Any:
    global _hasher
    if _hasher is None:
        from argon2 import PasswordHasher

        _hasher = PasswordHasher(time_cost=2, memory_cost=19 * 1024, parallelism=1)
    return _hasher


def hash_password(password: str) -> str:
    with _slots:
        return str(_ph().hash(password))


def verify_password(stored: str | None, password: str) -> bool:
    """True when ``password`` matches; with ``stored`` None a dummy hash is checked, so that an unknown user
    costs the same time as a wrong password."""
    from argon2.exceptions import InvalidHashError, VerificationError

    global _dummy
    if _dummy is None:
        _dummy = hash_password(secrets.token_urlsafe(16))
    with _slots:
        try:
            ok = bool(_ph().verify(stored or _dummy, password))
        except (VerificationError, InvalidHashError):
            ok = False
    return ok and stored is not None


def password_problem(password: str) -> str | None:
    """Why a new password is refused (Vietnamese), or None."""
    if len(password) < 10:
        return "mật khẩu phải dài ít nhất 10 ký tự"
    if len(password) > 200:
        return "mật khẩu dài quá 200 ký tự"
    return None
