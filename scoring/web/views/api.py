"""The HTTP API the pages and other programs use; its JSON equals the CLI's ``--format json``."""

from __future__ import annotations

import json
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response
from starlette.concurrency import run_in_threadpool

from scoring import api

from ...store.queries import ROUNDS
from ..security import check_csrf
from ..service import WebError
from .assessments import export_response
from .common import form_with_csrf, service

router = APIRouter(prefix="/api")


def _raw(text: str, status: int = 200) -> Response:
    return Response(text, status_code=status, media_type="application/json")


def record(a: Any, scorecard: str) -> str:
    """The stored assessment as JSON text: ``scorecard`` is the stored CLI JSON, byte for byte."""
    head = json.dumps({"id": a.id, "department": a.department.name, "year": a.year, "round": a.round,
                       "round_title": ROUNDS.get(a.round, a.round), "criteria_set": a.criteria_set.set_id,
                       "created_at": a.created_at.isoformat() + "Z", "author": a.author,
                       "evidence_name": a.evidence_name}, ensure_ascii=False, indent=2)
    return head[:-2] + ',\n  "scorecard": ' + scorecard.rstrip("\n").replace("\n", "\n  ") + "\n}\n"


@router.post("/assessments")
async def create(request: Request) -> Response:
    fields, files = await form_with_csrf(request)
    a = await run_in_threadpool(service(request).create_assessment, files, fields.get("round", "tu_cham"))
    svc = service(request)
    return _raw(record(svc.get(a.id), svc.stored_json(a.id)), 201)


@router.get("/assessments/{assessment_id}")
def get(request: Request, assessment_id: int) -> Response:
    svc = service(request)
    return _raw(record(svc.get(assessment_id), svc.stored_json(assessment_id)))


async def _json_body(request: Request) -> Any:
    ctype = request.headers.get("content-type", "")
    if not ctype.startswith("application/json"):
        raise WebError(400, [api.Problem("bad_request", "nội dung gửi lên phải là JSON",
                                         hint='gửi Content-Type: application/json, ví dụ {"set": {"3.4.1": "99%"}}')])
    body = await request.body()
    if len(body) > 1024 * 1024:
        raise WebError(413, [api.Problem("upload_too_large", "nội dung JSON lớn hơn 1 MB")])
    try:
        return json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise WebError(400, [api.Problem("bad_json", f"JSON không đọc được: {exc}",
                                         hint='ví dụ {"set": {"3.4.1": "99%"}}')]) from None


@router.post("/assessments/{assessment_id}/whatif")
async def whatif(request: Request, assessment_id: int) -> Response:
    check_csrf(request, None, request.app.state.allowed_hosts)
    body = await _json_body(request)
    values = body.get("set") if isinstance(body, dict) else None
    if not isinstance(values, dict) or not values or not all(isinstance(v, (str, int, float)) for v in values.values()):
        raise WebError(400, [api.Problem("bad_set", "cần \"set\": một bảng mã → giá trị",
                                         subject="set", hint='ví dụ {"set": {"3.4.1": "99%", "7.3.1:reuse_rate": "55%"}}')])
    sets = [f"{k}={v}" for k, v in values.items()]
    svc = service(request)
    a = svc.get(assessment_id)
    _result, text = await run_in_threadpool(svc.whatif, a, sets)
    return _raw(text)


@router.get("/assessments/{assessment_id}/export")
def export(request: Request, assessment_id: int, format: str = "json") -> Response:  # noqa: A002
    return export_response(request, assessment_id, format)


@router.get("/history")
def history(request: Request, department: str | None = None) -> JSONResponse:
    rows = []
    svc = service(request)
    for a in sorted(svc.list(department), key=lambda a: (a.department.name, a.year, list(ROUNDS).index(a.round)
                                                         if a.round in ROUNDS else 0, a.id)):
        data = json.loads(a.scorecard_json)
        rows.append({"id": a.id, "department": a.department.name, "year": a.year, "round": a.round,
                     "round_title": ROUNDS.get(a.round, a.round), "criteria_set": a.criteria_set.set_id,
                     "created_at": a.created_at.isoformat() + "Z", "total": data["total"],
                     "fields": [{"code": c["code"], "title": c["title"], "points": c["points"],
                                 "max_points": c["max_points"]} for c in data["criteria"] if c["level"] == "field"]})
    return JSONResponse({"department": department, "assessments": rows})
