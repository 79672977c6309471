"""Problems as the HTTP API and the pages show them (Vietnamese, with file and sheet!cell)."""

from __future__ import annotations

from typing import Any

from scoring.api import Problem


def location(p: Problem) -> str | None:
    where = p.file or ""
    if p.line is not None:
        where = f"{where}:{p.line}" if where else f"dòng {p.line}"
    if p.subject:
        where = f"{where} {p.subject}".strip()
    return where or None


def problem_dict(p: Problem) -> dict[str, Any]:
    return {"code": p.code, "message": p.message, "location": location(p), "hint": p.hint,
            "file": p.file, "line": p.line, "subject": p.subject}


def problems_body(problems: list[Problem]) -> dict[str, Any]:
    return {"problems": [problem_dict(p) for p in problems]}


def web_problem(code: str, message: str, hint: str | None = None, subject: str | None = None) -> Problem:
    return Problem(code, message, subject=subject, hint=hint)
