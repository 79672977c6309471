"""Home: the department's assessments by year and round, with the latest total, index and band."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from .common import render, service

router = APIRouter()


@router.get("/", response_class=HTMLResponse)
def home(request: Request) -> HTMLResponse:
    rows = service(request).list()
    latest: dict[int, object] = {}
    for a in rows:  # newest year first, latest round first
        latest.setdefault(a.department_id, a)
    return render(request, "home.html", {"assessments": rows, "latest": list(latest.values())})
