"""The application factory: store, middleware (Host check, CSRF cookie), error pages, routes."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.datastructures import MutableHeaders
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from scoring import api

from ..store.db import Store
from .config import WebConfig
from .problems import problems_body
from .security import CSRF_COOKIE, BadForm, CsrfError, HostCheck, TooLarge, new_token
from .service import Service, WebError

HERE = Path(__file__).parent
log = logging.getLogger("parindex.web")


class CsrfCookie:
    """The CSRF cookie of pages without a session, and the security headers of every answer (plain ASGI:
    Starlette's BaseHTTPMiddleware costs a task group per request)."""

    HEADERS = [(b"x-content-type-options", b"nosniff"), (b"x-frame-options", b"DENY"),
               (b"referrer-policy", b"same-origin")]

    def __init__(self, app: ASGIApp):
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        token = Request(scope).cookies.get(CSRF_COOKIE)
        scope.setdefault("state", {})["csrf"] = token or new_token()
        path = scope["path"]
        set_cookie = not token and not path.startswith(("/static/", "/api/", "/healthz"))

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                if set_cookie:
                    cookie = Response()
                    cookie.set_cookie(CSRF_COOKIE, scope["state"]["csrf"], httponly=True, samesite="strict", path="/")
                    headers.append("set-cookie", cookie.headers["set-cookie"])
                for name, value in self.HEADERS:
                    if name.decode() not in headers:
                        headers[name.decode()] = value.decode()
            await send(message)

        await self.app(scope, receive, send_with_headers)


def _mb(n: int) -> str:
    return f"{n / (1024 * 1024):g} MB"


def create_app(config: WebConfig | None = None, store: Store | None = None) -> FastAPI:
    config = config or WebConfig()
    store = store or Store.open(config.db, config.files_dir)
    app = FastAPI(title="parindex", docs_url=None, redoc_url=None, openapi_url=None)
    app.state.config = config
    app.state.store = store
    from .offload import Offload

    app.state.offload = Offload(config.helpers, config.criteria_dir, config.rules_dir)  # started by server.py
    app.router.on_shutdown.append(app.state.offload.close)
    app.state.service = Service(store, config, app.state.offload)
    allowed = config.allowed_hosts()
    app.state.allowed_hosts = allowed
    app.mount("/static", StaticFiles(directory=HERE / "static"), name="static")

    app.add_middleware(CsrfCookie)

    def answer(request: Request, status: int, problems: list[api.Problem]) -> Response:
        if request.url.path.startswith("/api/") or request.url.path == "/healthz":
            return JSONResponse(problems_body(problems), status_code=status)
        from .views.common import render

        return render(request, "error.html", {"status": status, "problems": problems}, status=status)

    @app.exception_handler(WebError)
    async def _web_error(request: Request, exc: WebError) -> Response:
        return answer(request, exc.status, exc.problems)

    @app.exception_handler(api.ParindexError)
    async def _input_error(request: Request, exc: api.ParindexError) -> Response:
        return answer(request, 422 if exc.exit_code == 2 else 500, exc.problems)

    @app.exception_handler(TooLarge)
    async def _too_large(request: Request, exc: TooLarge) -> Response:
        from .service import FIELD_VI

        what = FIELD_VI.get(exc.field, "dữ liệu gửi lên")
        return answer(request, 413, [api.Problem(
            "upload_too_large", f"{what} lớn hơn giới hạn {_mb(exc.limit)}", subject=exc.field or None,
            hint="chia nhỏ tệp hoặc khởi động lại máy chủ với giới hạn lớn hơn (parindex serve --max-upload-mb)")])

    @app.exception_handler(BadForm)
    async def _bad_form(request: Request, exc: BadForm) -> Response:
        return answer(request, 400, [api.Problem("bad_form", "dữ liệu biểu mẫu không đọc được",
                                                 hint="gửi lại biểu mẫu từ trang của parindex")])

    @app.exception_handler(CsrfError)
    async def _csrf(request: Request, exc: CsrfError) -> Response:
        return answer(request, 403, [api.Problem(
            "csrf_failed", "yêu cầu không mang mã xác nhận của phiên làm việc (CSRF)",
            hint="tải lại trang rồi gửi lại; chương trình khác gọi API thì gửi tiêu đề X-CSRF-Token")])

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> Response:
        problems = []
        for err in exc.errors():
            where = ".".join(str(x) for x in err.get("loc", ()) if x not in ("body", "query", "path"))
            problems.append(api.Problem("bad_request", f"giá trị không hợp lệ: {where or 'yêu cầu'}",
                                        subject=where or None, hint=str(err.get("msg", ""))))
        return answer(request, 400, problems)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> Response:
        messages = {404: ("not_found", "không có trang này"), 405: ("method_not_allowed", "không dùng được cách gửi này"),
                    400: ("bad_request", "yêu cầu không hợp lệ")}
        code, message = messages.get(exc.status_code, ("http_error", f"lỗi {exc.status_code}"))
        return answer(request, exc.status_code, [api.Problem(code, message, hint="mở Trang chủ")])

    @app.exception_handler(Exception)
    async def _internal(request: Request, exc: Exception) -> Response:
        log.exception("internal error on %s", request.url.path)
        return answer(request, 500, [api.Problem(
            "internal_error", f"lỗi nội bộ của parindex ({type(exc).__name__})",
            hint="máy chủ vẫn chạy; gửi thông báo này cho nhóm phát triển kèm tệp đã tải lên")])

    from .auth import install as install_accounts
    from .views import api as api_views
    from .views import assessments, audit, history, home, lost, rounds, whatif
    from .views import login, ranking, submit  # the province server's pages

    install_accounts(app, config, store)  # accounts, roles, isolation, audit: before the routes (see auth.py)

    for module in (login, ranking, submit, home, assessments, lost, whatif, audit, rounds, history, api_views):
        app.include_router(module.router)

    @app.get("/healthz")
    def healthz() -> dict[str, str]:
        return {"status": "ok"}

    app.add_middleware(HostCheck, allowed=allowed)  # outermost: before anything else runs
    return app


#: Environment variables ``parindex serve`` passes to the application (uvicorn imports it by name,
#: which also lets the province-server version start several worker processes).
ENV = {"db": "PARINDEX_DB", "host": "PARINDEX_HOST", "port": "PARINDEX_PORT",
       "max_evidence_bytes": "PARINDEX_MAX_EVIDENCE_BYTES", "max_dossier_bytes": "PARINDEX_MAX_DOSSIER_BYTES"}


def app_from_environment() -> FastAPI:
    """The application configured from ``PARINDEX_*`` variables (uvicorn's ``factory=True``)."""
    import os

    values: dict[str, Any] = {}
    for key, name in ENV.items():
        raw = os.environ.get(name)
        if raw:
            values[key] = int(raw) if key in ("port", "max_evidence_bytes", "max_dossier_bytes") else raw
    return create_app(WebConfig(**values))
