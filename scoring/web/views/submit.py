"""A leader submits the department's assessment to the province: from then on it is read-only for the
department (no new upload of that year and round, no saved scenario); the appraisal rounds go on."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from ...store import accounts as acc
from ...store.queries import ROUNDS
from ..auth import current, submitted_error
from ..security import check_csrf
from .common import form_with_csrf, service

router = APIRouter()


def submit(request: Request, assessment_id: int) -> acc.Submission:
    svc = service(request)
    a = svc.get(assessment_id)  # 404 for another department's id
    p = current()
    with svc.store.sessions.begin() as s:
        if acc.submitted_round(s, a.department_id, a.year, a.round) is not None:
            raise submitted_error(a.year, ROUNDS.get(a.round, a.round))
        sub = acc.Submission(assessment_id=a.id, user_id=p.user_id if p else None)
        s.add(sub)
        s.flush()
        return sub


@router.post("/assessments/{assessment_id}/submit", response_model=None)
async def submit_form(request: Request, assessment_id: int) -> Response:
    await form_with_csrf(request)
    await run_in_threadpool(submit, request, assessment_id)
    return RedirectResponse(f"/assessments/{assessment_id}?da-nop=1", status_code=303)


@router.post("/api/assessments/{assessment_id}/submit")
async def submit_api(request: Request, assessment_id: int) -> JSONResponse:
    check_csrf(request, None, request.app.state.allowed_hosts)
    sub = await run_in_threadpool(submit, request, assessment_id)
    p = current()
    return JSONResponse({"assessment_id": assessment_id, "submitted": True,
                         "submitted_at": sub.submitted_at.isoformat() + "Z",
                         "by": p.username if p else None}, status_code=201)
