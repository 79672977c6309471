"""Shared by the pages: templates (autoescaped), the CSRF check, number formats."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment, FileSystemLoader, select_autoescape
from markupsafe import Markup

from ...store.queries import ROUNDS
from ..security import CSRF_FIELD, check_csrf, read_form
from ..service import Loaded, Service

TEMPLATES = Path(__file__).resolve().parent.parent / "templates"
HTMX = "htmx-2.0.11.min.js"

OUTCOME_VI = {"met": "Đạt", "partial": "Đạt một phần", "not_met": "Không đạt", "missing_evidence": "Thiếu tài liệu",
              "not_applicable": "Không phát sinh", "external": "Điều tra XHH", "bonus": "Thưởng", "penalty": "Phạt"}


def pts(value: Any) -> str:
    """Points the Vietnamese way: 88,45; 1,5; 12."""
    if value is None or value == "":
        return "–"
    d = Decimal(str(value))
    d = d.quantize(Decimal(1)) if d == d.to_integral_value() else d.normalize()
    text = format(d, "f")
    whole, _, frac = text.partition(".")
    sign = "-" if whole.startswith("-") else ""
    whole = whole.lstrip("-")
    groups = []
    while len(whole) > 3:
        groups.insert(0, whole[-3:])
        whole = whole[:-3]
    groups.insert(0, whole)
    return sign + ".".join(groups) + ("," + frac if frac else "")


def signed(value: Any) -> str:
    d = Decimal(str(value))
    return ("+" if d > 0 else "−" if d < 0 else "±") + pts(abs(d))


env = Environment(loader=FileSystemLoader(str(TEMPLATES)), autoescape=select_autoescape(default=True,
                                                                                          default_for_string=True),
                  trim_blocks=True, lstrip_blocks=True)
env.filters["pts"] = pts
env.filters["signed"] = signed
env.globals.update(ROUNDS=ROUNDS, OUTCOME_VI=OUTCOME_VI, HTMX=HTMX)


def render(request: Request, name: str, context: dict[str, Any], status: int = 200) -> HTMLResponse:
    ctx = {"request": request, "csrf": getattr(request.state, "csrf", ""), "csrf_field": CSRF_FIELD,
           "principal": getattr(request.state, "principal", None), **context}
    return HTMLResponse(env.get_template(name).render(ctx), status_code=status)


def fragment(lo: Loaded, name: str, context: dict[str, Any]) -> Markup:
    """A part of a page that depends only on the stored assessment (``context`` holds nothing else),
    rendered once per worker and kept with the loaded assessment: the scorecard's tree is most of the
    page's work."""
    html = lo.fragments.get(name)
    if html is None:
        html = lo.fragments.setdefault(name, env.get_template(name).render(context))
    return Markup(html)


def service(request: Request) -> Service:
    return request.app.state.service


def limits(request: Request) -> tuple[dict[str, int], int, int]:
    cfg = request.app.state.config
    per = {"evidence": cfg.max_evidence_bytes, "dossiers": cfg.max_dossier_bytes}
    total = cfg.max_dossier_bytes + 5 * cfg.max_evidence_bytes + 1024 * 1024
    return per, cfg.max_evidence_bytes, total


async def form_with_csrf(request: Request) -> tuple[dict[str, str], dict[str, Any]]:
    """The submitted form, after the CSRF check (the header is checked before the body is read)."""
    allowed = request.app.state.allowed_hosts
    if request.headers.get("x-csrf-token") or not request.cookies:
        check_csrf(request, None, allowed)
        early = True
    else:
        early = False
    per, default, total = limits(request)
    fields, files = await read_form(request, per, default, total)
    if not early:
        check_csrf(request, fields.get(CSRF_FIELD), allowed)
    return fields, files
