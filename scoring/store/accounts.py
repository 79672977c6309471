"""Accounts of the province server: users and roles, server-side sessions, submissions, the audit log.

The tables sit beside the web application's (same ``Base``, same Alembic history: revision ``0002``).
Nothing here is ever deleted: a user is disabled, a session revoked or left to expire, an audit entry
only added (the database refuses UPDATE and DELETE on ``audit_log`` by trigger).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, ForeignKey, Index, Integer, String, Text, bindparam, func, select, update
from sqlalchemy.orm import Mapped, Session, mapped_column, relationship

from .models import Assessment, Base, Department, utcnow

from .actor import DEPARTMENT_ROLES, ROLES  # noqa: E402,F401  (the roles belong to the accounts)


def user_key(username: str) -> str:
    return unicodedata.normalize("NFC", username).strip().casefold()


class User(Base):
    __tablename__ = "users"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(100))
    key: Mapped[str] = mapped_column(String(100), unique=True)  # NFC, case-folded username
    role: Mapped[str] = mapped_column(String(20))
    department_id: Mapped[int | None] = mapped_column(ForeignKey("departments.id"), default=None)
    password_hash: Mapped[str] = mapped_column(String(300))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    password_changed_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    disabled_at: Mapped[dt.datetime | None] = mapped_column(default=None)

    department: Mapped[Department | None] = relationship(lazy="joined")


class LoginSession(Base):
    """A signed-in browser or program; the cookie holds a random token, the table only its SHA-256."""

    __tablename__ = "login_sessions"
    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    csrf_token: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    last_seen_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    address: Mapped[str | None] = mapped_column(String(100), default=None)
    revoked_at: Mapped[dt.datetime | None] = mapped_column(default=None)

    user: Mapped[User] = relationship(lazy="joined")


class Submission(Base):
    """A leader submitted this assessment to the province: from then on it is read-only for the department."""

    __tablename__ = "submissions"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    assessment_id: Mapped[int] = mapped_column(ForeignKey("assessments.id"), unique=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), default=None)
    submitted_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class AuditEntry(Base):
    """Append-only: who, when, what, which assessment."""

    __tablename__ = "audit_log"
    __table_args__ = (Index("ix_audit_action_subject_at", "action", "subject", "at"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    actor: Mapped[str] = mapped_column(String(200))  # username, "cli:<os user>" or "local"
    user_id: Mapped[int | None] = mapped_column(Integer, default=None)
    action: Mapped[str] = mapped_column(String(60))
    subject: Mapped[str | None] = mapped_column(String(200), default=None)  # a table row, or a username key
    assessment_id: Mapped[int | None] = mapped_column(Integer, default=None, index=True)
    department_id: Mapped[int | None] = mapped_column(Integer, default=None)
    address: Mapped[str | None] = mapped_column(String(100), default=None)
    detail: Mapped[str] = mapped_column(Text, default="{}")  # JSON


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


# ------------------------------------------------------------------ users


def count_users(s: Session, active_only: bool = True) -> int:
    q = select(func.count()).select_from(User)
    if active_only:
        q = q.where(User.disabled_at.is_(None))
    return int(s.scalar(q) or 0)


def find_user(s: Session, username: str) -> User | None:
    return s.scalar(select(User).where(User.key == user_key(username)))


def users(s: Session) -> Sequence[User]:
    return s.scalars(select(User).order_by(User.key)).all()


def add_user(s: Session, username: str, role: str, password_hash: str, department: Department | None) -> User:
    u = User(username=unicodedata.normalize("NFC", username).strip(), key=user_key(username), role=role,
             password_hash=password_hash, department_id=department.id if department else None)
    s.add(u)
    s.flush()
    return u


def revoke_sessions(s: Session, user_id: int) -> int:
    result = s.execute(update(LoginSession).where(LoginSession.user_id == user_id, LoginSession.revoked_at.is_(None))
                       .values(revoked_at=utcnow()))
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


# ------------------------------------------------------------------ sessions


def add_session(s: Session, token: str, user: User, csrf: str, address: str | None) -> LoginSession:
    ls = LoginSession(token_hash=token_hash(token), user_id=user.id, csrf_token=csrf, address=address)
    s.add(ls)
    s.flush()
    return ls


def get_session(s: Session, token: str) -> LoginSession | None:
    return s.get(LoginSession, token_hash(token))


@dataclass(frozen=True)
class SessionRow:
    """What every request needs of its session: one row of plain columns (no ORM objects)."""

    revoked_at: dt.datetime | None
    last_seen_at: dt.datetime
    csrf_token: str
    user_id: int
    username: str
    role: str
    department_id: int | None
    disabled_at: dt.datetime | None
    department: str | None


_SESSION_ROW = (select(LoginSession.revoked_at, LoginSession.last_seen_at, LoginSession.csrf_token, User.id,
                       User.username, User.role, User.department_id, User.disabled_at, Department.name)
                .join(User, User.id == LoginSession.user_id).outerjoin(Department, Department.id == User.department_id)
                .where(LoginSession.token_hash == bindparam("token_hash")))


def session_row(conn: Connection, token: str) -> SessionRow | None:
    """Built once, run on a plain connection (no ORM session): every request of a signed-in user asks."""
    row = conn.execute(_SESSION_ROW, {"token_hash": token_hash(token)}).first()
    return None if row is None else SessionRow(*row)


def touch_session(s: Session | Connection, token: str, now: dt.datetime) -> None:
    s.execute(update(LoginSession).where(LoginSession.token_hash == token_hash(token)).values(last_seen_at=now))


# ------------------------------------------------------------------ submissions


def submission(s: Session, assessment_id: int) -> Submission | None:
    return s.scalar(select(Submission).where(Submission.assessment_id == assessment_id))


def submitted_round(s: Session, department_id: int, year: int, round: str) -> Submission | None:
    """The submission of this department's year and round, if one of its assessments was submitted."""
    return s.scalar(select(Submission).join(Assessment, Assessment.id == Submission.assessment_id)
                    .where(Assessment.department_id == department_id, Assessment.year == year,
                           Assessment.round == round))


def submissions(s: Session, assessment_ids: Sequence[int]) -> dict[int, Submission]:
    if not assessment_ids:
        return {}
    rows = s.scalars(select(Submission).where(Submission.assessment_id.in_(assessment_ids))).all()
    return {r.assessment_id: r for r in rows}


# ------------------------------------------------------------------ audit log


def audit_row(*, actor: str, action: str, user_id: int | None = None, subject: str | None = None,
              assessment_id: int | None = None, department_id: int | None = None, address: str | None = None,
              detail: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"at": utcnow(), "actor": actor[:200], "user_id": user_id, "action": action[:60],
            "subject": subject[:200] if subject else None, "assessment_id": assessment_id,
            "department_id": department_id, "address": address,
            "detail": json.dumps(detail or {}, ensure_ascii=False, default=str)}


def recent_failures(s: Session, key: str, address: str | None, since: dt.datetime) -> int:
    q = select(func.count()).select_from(AuditEntry).where(
        AuditEntry.action == "login_failed", AuditEntry.subject == key, AuditEntry.at >= since)
    q = q.where(AuditEntry.address == address) if address else q.where(AuditEntry.address.is_(None))
    return int(s.scalar(q) or 0)


def audit_entries(s: Session, assessment_id: int | None = None, limit: int = 500) -> Sequence[AuditEntry]:
    q = select(AuditEntry)
    if assessment_id is not None:
        q = q.where(AuditEntry.assessment_id == assessment_id)
    return s.scalars(q.order_by(AuditEntry.id.desc()).limit(limit)).all()
