"""History: total and each field across years (SVG chart), each sub-criterion's trend, what changed."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from ..charts import line_chart
from ...store.history import history_data
from .common import render, service

router = APIRouter()


@router.get("/history", response_class=HTMLResponse)
def history_page(request: Request, department: str | None = None) -> HTMLResponse:
    svc = service(request)
    deps = svc.departments()
    if department is None and deps:
        department = deps[0].name
    dep, rows = svc.history(department) if department else (None, [])
    data = history_data(rows)
    chart = line_chart(data["years"], data["series"][:1], title="Tổng điểm qua các năm") if rows else ""
    fields_chart = (line_chart(data["years"], data["series"][1:], title="Điểm từng lĩnh vực qua các năm")
                    if rows else "")
    return render(request, "history.html", {"tab": "history", "departments": deps, "dep": dep, "rows": rows,
                                            "chart": chart, "fields_chart": fields_chart, **data,
                                            "department": department})
