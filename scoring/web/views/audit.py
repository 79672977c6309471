"""Audit: the evidence gaps, largest points at risk first, each naming the sheet and cell or line to fix."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from .assessments import page_context
from .common import render, service

router = APIRouter()


@router.get("/assessments/{assessment_id}/audit", response_class=HTMLResponse)
def audit_page(request: Request, assessment_id: int) -> HTMLResponse:
    ctx = page_context(request, assessment_id)
    result = service(request).audit(ctx["a"])
    lo = service(request).loaded(ctx["a"])
    rows = [{"g": g, "where": where(g, lo.shown, lo.cells)} for g in result.gaps]
    return render(request, "audit.html", {**ctx, "tab": "audit", "result": result, "summary": result.summary(),
                                           "rows": rows})


def where(gap: Any, shown: dict[str, str], cells: dict[str, dict[str, str]]) -> str:
    """The file and YAML line, or the workbook's sheet!cell, to fix a gap at."""
    name = shown.get(gap.file or "", gap.file or "")
    if gap.line:
        return f"{name}:{gap.line}" if name else f"dòng {gap.line}"
    at = cells.get(gap.code, {})
    cell = at.get(gap.subject or "") or next((at[k] for k in at if k and gap.subject and k in gap.subject), None) \
        or at.get("")
    return f"{name} {cell}".strip() if cell else name
