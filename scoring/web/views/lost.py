"""Lost points, largest first; one opens with its reason, measured vs target, levels, documents, guidance."""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from scoring import api
from ..service import WebError
from .assessments import page_context
from .common import pts, render, service

router = APIRouter()


def _min_text(kind: str, value: Fraction) -> str:
    if kind == "ratio" or (kind == "threshold" and value <= 1):
        return pts(Decimal(value.numerator) / Decimal(value.denominator) * 100) + "%"
    return pts(Decimal(value.numerator) / Decimal(value.denominator))


def _rule_levels(request: Request, assessment_id: int, code: str) -> list[str]:
    """The rule's levels as its rules file states them: each band, check or expectation with its points."""
    svc = service(request)
    lo = svc.loaded(svc.get(assessment_id))
    compiled = lo.bundle.rules.get(code)
    spec = getattr(compiled, "rule", None)
    if spec is None:
        return []
    out: list[str] = []
    kind = spec.kind
    for band in getattr(spec, "bands", None) or ():
        label = f" ({band.label})" if band.label else ""
        out.append(f"từ {_min_text(kind, band.min)} trở lên: {pts(band.points)} điểm{label}")
    if getattr(spec, "bands", None):
        out.append(f"thấp hơn: {pts(spec.else_points)} điểm")
    for check in getattr(spec, "checks", None) or ():
        out.append(("cần: " if kind == "all" else "một trong: ") + check.label)
    if getattr(spec, "checks", None):
        full = spec.points if spec.points is not None else lo.card.node(code).max_points
        out.append(f"{'đủ tất cả' if kind == 'all' else 'có ít nhất một'}: {pts(full)} điểm; "
                   f"ngược lại {pts(spec.else_points)} điểm")
    if kind == "boolean":
        out.append(f"{'có' if spec.expect else 'không'}: được điểm; ngược lại {pts(spec.else_points)} điểm")
    if kind == "deadline":
        for item in spec.items:
            out.append(f"{item.label}: hạn {item.due.strftime('%d/%m/%Y')}")
    return out


@router.get("/assessments/{assessment_id}/lost", response_class=HTMLResponse)
def lost(request: Request, assessment_id: int, code: str | None = None) -> HTMLResponse:
    ctx = page_context(request, assessment_id)
    items = ctx["card"].lost_points()
    chosen = None
    if code:
        chosen = next((n for n in items if n.code == code), None)
    return render(request, "lost.html", {**ctx, "tab": "lost", "items": items, "chosen": chosen,
                                         "levels": _rule_levels(request, assessment_id, code) if chosen else []})


@router.get("/assessments/{assessment_id}/lost/{code}", response_class=HTMLResponse)
def lost_detail(request: Request, assessment_id: int, code: str) -> HTMLResponse:
    ctx = page_context(request, assessment_id)
    n = next((n for n in ctx["card"].lost_points() if n.code == code), None)
    if n is None:
        raise WebError(404, [api.Problem("not_found", f"tiêu chí {code} không mất điểm", subject=code)])
    return render(request, "_lost_detail.html", {**ctx, "n": n,
                                                  "levels": _rule_levels(request, assessment_id, code)})
