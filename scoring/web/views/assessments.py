"""New assessment (upload), the scorecard page, downloads, the empty template."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from scoring import api

from ...store.queries import ROUNDS
from ..province import own_rank
from ..service import WebError
from .common import form_with_csrf, fragment, render, service

router = APIRouter()

EXPORTS = {"xlsx": ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "bang-tu-cham"),
           "docx": ("application/vnd.openxmlformats-officedocument.wordprocessingml.document", "bao-cao-tu-cham"),
           "json": ("application/json", "bang-tu-cham"),
           "markdown": ("text/markdown; charset=utf-8", "bang-tu-cham"),
           "csv": ("text/csv; charset=utf-8", "bang-tu-cham")}
SUFFIX = {"markdown": "md"}


@router.get("/assessments/new", response_class=HTMLResponse)
def new_form(request: Request) -> HTMLResponse:
    return render(request, "new.html", {"problems": [], "round": "tu_cham"})


@router.post("/assessments/new", response_model=None)
async def upload(request: Request) -> Response:
    fields, files = await form_with_csrf(request)
    round_ = fields.get("round", "tu_cham")
    try:
        a = await run_in_threadpool(service(request).create_assessment, files, round_)
    except (api.ParindexError, WebError) as exc:
        status = exc.status if isinstance(exc, WebError) else 422
        return render(request, "new.html", {"problems": exc.problems, "round": round_}, status=status)
    return RedirectResponse(f"/assessments/{a.id}", status_code=303)


@router.get("/template.xlsx")
def empty_template(request: Request) -> Response:
    data = service(request).template()
    return Response(data, media_type=EXPORTS["xlsx"][0],
                    headers={"Content-Disposition": 'attachment; filename="mau-tai-lieu-kiem-chung.xlsx"'})


def page_context(request: Request, assessment_id: int) -> dict[str, Any]:
    """What every page of one assessment shows: the record, its scorecard, the rank, the round's name."""
    svc = service(request)
    a = svc.get(assessment_id)
    lo = svc.loaded(a)
    rank = api.rank(lo.card, lo.peers) if lo.peers is not None else own_rank(svc, a)  # no peers file: stored scores
    return {"a": a, "lo": lo, "card": lo.card, "rank": rank, "round_title": ROUNDS.get(a.round, a.round)}


@router.get("/assessments/{assessment_id}", response_class=HTMLResponse)
def scorecard(request: Request, assessment_id: int) -> HTMLResponse:
    ctx = page_context(request, assessment_id)
    tree = fragment(ctx["lo"], "_card_tree.html", {"a": ctx["a"], "card": ctx["card"]})
    return render(request, "scorecard.html", {**ctx, "tab": "scorecard", "tree": tree})


def export_response(request: Request, assessment_id: int, fmt: str) -> Response:
    if fmt not in EXPORTS:
        raise WebError(400, [api.Problem("unknown_format", f"không có định dạng '{fmt}'", subject="format",
                                         hint="một trong: " + ", ".join(EXPORTS))])
    svc = service(request)
    a = svc.get(assessment_id)
    data = svc.export(a, fmt)
    media, stem = EXPORTS[fmt]
    name = f"{stem}-{a.year}-{a.id}.{SUFFIX.get(fmt, fmt)}"
    return Response(data, media_type=media, headers={"Content-Disposition": f'attachment; filename="{name}"'})


@router.get("/assessments/{assessment_id}/download/{fmt}")
def download(request: Request, assessment_id: int, fmt: str) -> Response:
    return export_response(request, assessment_id, fmt)
