"""Sign-in and sign-out: the page, ``POST /api/login`` / ``/api/logout``, ``GET /api/me``.

A wrong user name and a wrong password answer the same 401, in about the same time (a dummy hash is
checked for an unknown name); 10 failures in a minute for one name from one address answer 429.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlsplit

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from scoring import api
from ..auth import Principal, _safe_next, accounts_of, client_address, current
from ..problems import problems_body
from ..security import CSRF_FIELD, CsrfError, check_csrf, host_name, read_form
from ..service import WebError
from .common import render

router = APIRouter()

FAILED = api.Problem("login_failed", "tên đăng nhập hoặc mật khẩu không đúng",
                     hint="kiểm tra lại (chữ hoa, chữ thường, bộ gõ tiếng Việt); quên mật khẩu thì nhờ quản trị viên")
THROTTLED = api.Problem("too_many_attempts", "đăng nhập sai quá 10 lần trong một phút",
                        hint="chờ một phút rồi thử lại; quên mật khẩu thì nhờ quản trị viên đặt lại")


def me(p: Principal) -> dict[str, Any]:
    return {"username": p.username, "role": p.role, "role_title": p.role_title, "department": p.department,
            "csrf_token": p.csrf}


async def _sign_in(request: Request, username: str, password: str) -> tuple[int, Principal | None]:
    if not username or not password or len(username) > 100 or len(password) > 200:
        return 401, None
    return await run_in_threadpool(accounts_of(request).sign_in, username, password, client_address(request.scope))


def _not_cross_site(request: Request) -> None:
    """Another site's page cannot sign a browser in (no session exists yet to bind a token to)."""
    origin = request.headers.get("origin")
    allowed = request.app.state.allowed_hosts
    if (origin and origin != "null" and host_name(urlsplit(origin).netloc) not in allowed) \
            or request.headers.get("sec-fetch-site") == "cross-site":
        raise CsrfError("cross-site sign-in")


@router.post("/api/login")
async def api_login(request: Request) -> Response:
    _not_cross_site(request)
    body = await request.body()
    try:
        data = json.loads(body) if len(body) < 4096 else None
    except (UnicodeDecodeError, json.JSONDecodeError):
        data = None
    if not isinstance(data, dict) or not isinstance(data.get("username"), str) or not isinstance(data.get("password"), str):
        raise WebError(400, [api.Problem("bad_request", 'cần JSON {"username": "…", "password": "…"}',
                                         hint="gửi Content-Type: application/json")])
    status, p = await _sign_in(request, data["username"], data["password"])
    if p is None:
        headers = {"Retry-After": "60"} if status == 429 else {}
        return JSONResponse(problems_body([THROTTLED if status == 429 else FAILED]), status_code=status,
                            headers=headers)
    response = JSONResponse(me(p))
    accounts_of(request).cookie(response, p.token or "")
    return response


@router.get("/login", response_class=HTMLResponse, response_model=None)
def login_page(request: Request, next: str | None = None) -> Response:  # noqa: A002
    if request.state.principal is not None:
        return RedirectResponse(_safe_next(next), status_code=303)
    expired = "het-han" in request.query_params
    return render(request, "login.html", {"next": _safe_next(next), "problems": [], "username": "",
                                          "expired": expired})


@router.post("/login", response_model=None)
async def login_form(request: Request) -> Response:
    fields, _files = await read_form(request, {}, 4096, 16 * 1024)
    check_csrf(request, fields.get(CSRF_FIELD), request.app.state.allowed_hosts)
    username = fields.get("username", "").strip()
    status, p = await _sign_in(request, username, fields.get("password", ""))
    target = _safe_next(fields.get("next"))
    if p is None:
        return render(request, "login.html", {"next": target, "username": username, "expired": False,
                                              "problems": [THROTTLED if status == 429 else FAILED]}, status=status)
    response = RedirectResponse(target, status_code=303)
    accounts_of(request).cookie(response, p.token or "")
    return response


async def _sign_out(request: Request) -> None:
    p = current()
    if p is not None and p.token:
        await run_in_threadpool(accounts_of(request).sign_out, p)


@router.post("/api/logout")
async def api_logout(request: Request) -> Response:
    check_csrf(request, None, request.app.state.allowed_hosts)
    await _sign_out(request)
    response = JSONResponse({"status": "signed_out"})
    accounts_of(request).clear_cookie(response)
    return response


@router.post("/logout", response_model=None)
async def logout_form(request: Request) -> Response:
    fields, _files = await read_form(request, {}, 4096, 16 * 1024)
    check_csrf(request, fields.get(CSRF_FIELD), request.app.state.allowed_hosts)
    await _sign_out(request)
    response = RedirectResponse("/login", status_code=303)
    accounts_of(request).clear_cookie(response)
    return response


@router.get("/api/me")
def api_me(request: Request) -> JSONResponse:
    p = current()
    if p is None or p.user_id is None:
        return JSONResponse({"username": None, "role": "admin", "department": None, "csrf_token": None,
                             "accounts": False})
    return JSONResponse({**me(p), "accounts": True})
