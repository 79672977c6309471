"""What-if: a value per sub-criterion; total, band, fields and rank update as the value changes."""

from __future__ import annotations

import json

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from scoring import api

from ..service import PLAN_TARGETS, WebError
from .assessments import page_context
from .common import form_with_csrf, render, service

router = APIRouter()

#: Rule kinds whose main value is a rate (a slider from 0 to 100 %).
RATE_KINDS = ("ratio",)


def sets_from(fields: dict[str, str]) -> list[str]:
    """``set:CODE`` fields that the clerk changed (a value differing from the shown one) → CODE=VALUE."""
    out = []
    for key, value in fields.items():
        if key.startswith("set:") and value.strip():
            code = key[4:]
            if fields.get(f"was:{code}", "") != value.strip():
                out.append(f"{code}={value.strip()}")
    return out


def _inputs(card: object) -> list[dict[str, object]]:
    rows = []
    for n in card.leaves():  # type: ignore[attr-defined]
        if n.kind == "deadline":  # several dated items: one value cannot say them (cannot_set)
            continue
        current = ""
        if n.kind == "ratio" and n.percent is not None and n.measured is not None and n.outcome != "not_applicable":
            try:
                current = f"{float(n.measured) * 100:.2f}".rstrip("0").rstrip(".") + "%"
            except (TypeError, ValueError):
                current = ""
        elif n.kind in ("count", "threshold", "external") and n.measured_text:
            current = n.measured_text
        elif n.kind == "boolean" and n.measured_text:
            current = n.measured_text
        rows.append({"n": n, "current": current, "rate": n.kind in RATE_KINDS})
    return rows


@router.get("/assessments/{assessment_id}/whatif", response_class=HTMLResponse)
def whatif_page(request: Request, assessment_id: int) -> HTMLResponse:
    ctx = page_context(request, assessment_id)
    scenarios = service(request).scenarios(ctx["a"])
    return render(request, "whatif.html", {**ctx, "tab": "whatif", "inputs": _inputs(ctx["card"]),
                                           "result": None, "scenarios": scenarios, "problems": [],
                                           "targets": PLAN_TARGETS})


@router.post("/assessments/{assessment_id}/whatif", response_class=HTMLResponse)
async def whatif_update(request: Request, assessment_id: int) -> HTMLResponse:
    fields, _files = await form_with_csrf(request)
    svc = service(request)
    a = svc.get(assessment_id)
    sets = sets_from(fields)
    result, problems = None, []
    if sets:
        try:
            result, _text = await run_in_threadpool(svc.whatif, a, sets)
        except api.ParindexError as exc:
            problems = exc.problems
    card = svc.loaded(a).card
    return render(request, "_whatif_result.html", {"a": a, "card": card, "result": result, "sets": sets,
                                                   "problems": problems},
                  status=422 if problems else 200)


@router.post("/assessments/{assessment_id}/plan", response_class=HTMLResponse)
async def plan(request: Request, assessment_id: int) -> HTMLResponse:
    """The plan form: the options file and one target → the chosen options and their effort."""
    fields, files = await form_with_csrf(request)
    svc = service(request)
    a = svc.get(assessment_id)
    result, problems = None, []
    try:
        if "options" not in files:
            raise WebError(400, [api.Problem("options_required", "chưa chọn tệp phương án cải thiện",
                                             subject="options", hint="tệp .yaml như sample_evidence/options-lang-son-2025.yaml")])
        result = await run_in_threadpool(svc.plan, a, files["options"], fields.get("target", "percent"),
                                         fields.get("target_value", ""))
        status = 200
    except WebError as exc:
        problems, status = exc.problems, exc.status
    except api.ParindexError as exc:
        problems, status = exc.problems, 422
    if request.headers.get("hx-request"):
        return render(request, "_plan_result.html", {"a": a, "plan": result, "problems": problems}, status=status)
    ctx = page_context(request, assessment_id)  # without JavaScript: the whole page with the plan in it
    return render(request, "whatif.html", {**ctx, "tab": "whatif", "inputs": _inputs(ctx["card"]), "result": None,
                                           "scenarios": svc.scenarios(a), "problems": [], "targets": PLAN_TARGETS,
                                           "plan": result, "plan_problems": problems}, status=status)


@router.post("/assessments/{assessment_id}/scenarios", response_model=None)
async def save_scenario(request: Request, assessment_id: int) -> Response:
    fields, _files = await form_with_csrf(request)
    svc = service(request)
    a = svc.get(assessment_id)
    sets = sets_from(fields) or json.loads(fields.get("sets") or "[]")
    name = (fields.get("name") or "").strip()[:200] or "Kịch bản " + ", ".join(sets)[:150]
    try:
        await run_in_threadpool(svc.save_scenario, a, name, sets)
    except api.ParindexError as exc:
        ctx = page_context(request, assessment_id)
        return render(request, "whatif.html", {**ctx, "tab": "whatif", "inputs": _inputs(ctx["card"]),
                                               "result": None, "scenarios": svc.scenarios(a),
                                               "problems": exc.problems, "targets": PLAN_TARGETS}, status=422)
    return RedirectResponse(f"/assessments/{assessment_id}/whatif#kich-ban", status_code=303)
