"""Audit: the evidence gaps, largest points at risk first, each naming the sheet and cell or line to fix."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from .assessments import page_context
from .common import render, service

router = APIRouter()


@router.get("/assessments/{assessment_id}/audit", response_class=HTMLResponse)
def audit_page(request: Request, assessment_id: int) -> HTMLResponse:
    ctx = page_context(request, assessment_id)
    result = service(request).audit(ctx["a"])
    shown = service(request).loaded(ctx["a"]).shown
    return render(request, "audit.html", {**ctx, "tab": "audit", "result": result, "summary": result.summary(),
                                           "shown": shown})
