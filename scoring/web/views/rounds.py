"""Rounds: tự chấm → thẩm định lần 1 → giải trình → thẩm định lần 2 → kết quả chính thức.

The council's points are uploaded per round (the tables ``parindex compare`` reads); the differences come
with a draft giải trình the clerk edits and downloads as .docx.
"""

from __future__ import annotations

import json
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from scoring import api
from ..service import WebError
from .assessments import page_context
from .common import form_with_csrf, render, service

router = APIRouter()
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


def _context(request: Request, assessment_id: int, problems: list[api.Problem] | None = None) -> dict[str, Any]:
    ctx = page_context(request, assessment_id)
    svc = service(request)
    rows = []
    for ap in svc.appraisals(ctx["a"]):
        rows.append({"ap": ap, "data": json.loads(ap.comparison_json),
                     "texts": {e.code: e for e in ap.explanations}})
    done = {r["ap"].round for r in rows} | {ctx["a"].round}
    return {**ctx, "tab": "rounds", "appraisals": rows, "done": done, "problems": problems or []}


@router.get("/assessments/{assessment_id}/rounds", response_class=HTMLResponse)
def rounds_page(request: Request, assessment_id: int) -> HTMLResponse:
    return render(request, "rounds.html", _context(request, assessment_id))


@router.post("/assessments/{assessment_id}/rounds", response_model=None)
async def upload_appraisal(request: Request, assessment_id: int) -> Response:
    fields, files = await form_with_csrf(request)
    svc = service(request)
    a = svc.get(assessment_id)
    try:
        if "appraisal" not in files:
            raise WebError(400, [api.Problem("appraisal_required", "chưa chọn tệp kết quả thẩm định",
                                             subject="appraisal", hint="chọn bảng điểm của Hội đồng (.xlsx hoặc .csv)")])
        ap = await run_in_threadpool(svc.add_appraisal, a, fields.get("round", "tham_dinh_1"), files["appraisal"])
    except (api.ParindexError, WebError) as exc:
        status = exc.status if isinstance(exc, WebError) else 422
        return render(request, "rounds.html", _context(request, assessment_id, exc.problems), status=status)
    return RedirectResponse(f"/assessments/{assessment_id}/rounds#tham-dinh-{ap.id}", status_code=303)


@router.post("/assessments/{assessment_id}/rounds/{appraisal_id}/explanations", response_model=None)
async def save_explanations(request: Request, assessment_id: int, appraisal_id: int) -> Response:
    fields, _files = await form_with_csrf(request)
    svc = service(request)
    a = svc.get(assessment_id)
    for key, value in fields.items():
        if key.startswith("text:"):
            await run_in_threadpool(svc.set_explanation, a, appraisal_id, key[5:], value)
    if request.headers.get("hx-request"):
        return HTMLResponse('<span class="ok" role="status">Đã lưu giải trình.</span>')
    return RedirectResponse(f"/assessments/{assessment_id}/rounds#tham-dinh-{appraisal_id}", status_code=303)


@router.get("/assessments/{assessment_id}/rounds/{appraisal_id}/giai-trinh.docx")
def explanation_docx(request: Request, assessment_id: int, appraisal_id: int) -> Response:
    svc = service(request)
    data = svc.explanation_docx(svc.get(assessment_id), appraisal_id)
    return Response(data, media_type=DOCX,
                    headers={"Content-Disposition": f'attachment; filename="giai-trinh-{assessment_id}-{appraisal_id}.docx"'})
