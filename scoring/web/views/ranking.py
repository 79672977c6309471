"""The province view (appraiser, admin): every department's total, index, band and rank for a round."""

from __future__ import annotations

import json

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, JSONResponse
from sqlalchemy import select

from ...store import accounts as acc
from ...store import province as pq
from ...store.queries import ROUNDS
from scoring import api
from ..province import TIES_NOTE, ranking
from ..service import WebError
from .common import render, service

router = APIRouter()


def _choose(request: Request, year: int | None, round_: str) -> tuple[list[int], int | None]:
    if round_ not in ROUNDS:
        raise WebError(400, [api.Problem("unknown_round", f"vòng '{round_}' không có", subject="round",
                                         hint="một trong: " + ", ".join(ROUNDS))])
    with service(request).store.sessions() as s:
        years = pq.years(s)
    return years, year if year is not None else (years[0] if years else None)


@router.get("/api/ranking")
def ranking_api(request: Request, year: int | None = None, round: str = "tu_cham") -> JSONResponse:  # noqa: A002
    _years, year = _choose(request, year, round)
    rows = ranking(service(request), year, round) if year is not None else []
    return JSONResponse({"year": year, "round": round, "round_title": ROUNDS[round], "ties": "shared",
                         "note": TIES_NOTE, "departments": [r.json() for r in rows]})


@router.get("/ranking", response_class=HTMLResponse)
def ranking_page(request: Request, year: int | None = None, round: str = "tu_cham") -> HTMLResponse:  # noqa: A002
    years, year = _choose(request, year, round)
    rows = ranking(service(request), year, round) if year is not None else []
    return render(request, "ranking.html", {"tab": "ranking", "rows": rows, "year": year, "years": years,
                                            "round": round, "note": TIES_NOTE})


@router.get("/api/audit-log")
def audit_log(request: Request, assessment: int | None = None, limit: int = 200) -> JSONResponse:
    with service(request).store.sessions() as s:
        rows = acc.audit_entries(s, assessment, max(1, min(limit, 2000)))
    return JSONResponse({"entries": [{"id": e.id, "at": e.at.isoformat() + "Z", "actor": e.actor, "action": e.action,
                                      "subject": e.subject, "assessment_id": e.assessment_id,
                                      "department_id": e.department_id, "address": e.address,
                                      "detail": json.loads(e.detail)} for e in rows]})


@router.get("/api/users")
def users_api(request: Request) -> JSONResponse:
    with service(request).store.sessions() as s:
        rows = s.scalars(select(acc.User).order_by(acc.User.key)).all()
        out = [{"username": u.username, "role": u.role, "department": u.department.name if u.department else None,
                "disabled": u.disabled_at is not None, "created_at": u.created_at.isoformat() + "Z"} for u in rows]
    return JSONResponse({"users": out})
