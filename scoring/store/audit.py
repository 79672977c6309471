"""The append-only audit log, written by the store's own session events, so that every change, from the web
or the command line, adds its entry in the same transaction (a change without its entry cannot be
committed). Nothing is deleted from the store: a flush that deletes a row fails.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import event, insert
from sqlalchemy import inspect as sa_inspect
from sqlalchemy.orm import Session

from . import accounts as acc
from .actor import current, described
from .db import Store
from .models import Appraisal, AppraisalPoints, Assessment, Explanation, NodePoints, StoredFile

#: Rows that are parts of another row (audited with it) or bookkeeping.
_NOT_AUDITED = (acc.AuditEntry, acc.LoginSession, NodePoints, AppraisalPoints, StoredFile)


def assessment_of(s: Session, obj: Any) -> Assessment | None:
    with s.no_autoflush:
        if isinstance(obj, Assessment):
            return obj
        aid = getattr(obj, "assessment_id", None)
        if aid is None and isinstance(obj, Explanation):
            ap = s.get(Appraisal, obj.appraisal_id)
            aid = ap.assessment_id if ap is not None else None
        return s.get(Assessment, aid) if aid is not None else None


def _before_flush(s: Session, _ctx: Any, _instances: Any) -> None:
    for obj in s.deleted:
        if not isinstance(obj, acc.LoginSession):
            raise RuntimeError(f"nothing is deleted from the store ({type(obj).__name__})")
    a = current()
    if a is not None:
        for obj in list(s.new):
            if hasattr(obj, "author") and getattr(obj, "author") is None:
                obj.author = a.username  # the account, never what the browser said


def _plain(value: Any) -> Any:
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    return str(value)


def _after_flush(s: Session, _ctx: Any) -> None:
    actor, user_id, address = described()
    rows = []
    for kind, objs in (("add", s.new), ("change", s.dirty)):
        for obj in objs:
            if isinstance(obj, _NOT_AUDITED) or not hasattr(obj, "__tablename__"):
                continue
            state = sa_inspect(obj)
            pk = state.mapper.primary_key_from_instance(obj)
            detail: dict[str, Any] = {"id": _plain(pk[0] if len(pk) == 1 else "/".join(map(str, pk)))}
            if kind == "change":
                changes = {}
                for attr in state.mapper.column_attrs:
                    hist = state.attrs[attr.key].history
                    if hist.has_changes():
                        before = hist.deleted[0] if hist.deleted else None
                        after = hist.added[0] if hist.added else None
                        if attr.key == "password_hash":
                            before, after = "…", "…"  # the fact, never the hash
                        changes[attr.key] = {"before": _plain(before), "after": _plain(after)}
                if not changes:
                    continue
                detail["changes"] = changes
            elif isinstance(obj, acc.User):
                detail.update(username=obj.username, role=obj.role, department_id=obj.department_id)
            a = assessment_of(s, obj)
            rows.append(acc.audit_row(
                actor=actor, user_id=user_id, address=address, action=f"{obj.__tablename__}.{kind}",
                subject=f"{obj.__tablename__}:{detail['id']}", assessment_id=a.id if a is not None else None,
                department_id=a.department_id if a is not None else getattr(obj, "department_id", None),
                detail=detail))
    if rows:
        s.connection().execute(insert(acc.AuditEntry), rows)


def watch(store: Store) -> None:
    """Write the audit log for every change through this store's sessions (idempotent)."""
    if not event.contains(store.sessions, "after_flush", _after_flush):
        event.listen(store.sessions, "before_flush", _before_flush)
        event.listen(store.sessions, "after_flush", _after_flush)
