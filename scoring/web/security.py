"""Safety on one machine: the Host header, CSRF tokens, upload limits enforced while the body streams."""

from __future__ import annotations

import hmac
import secrets
import unicodedata
from contextlib import aclosing
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from starlette.datastructures import FormData, Headers, UploadFile
from starlette.formparsers import MultiPartException, MultiPartParser
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse
from starlette.types import ASGIApp, Receive, Scope, Send

CSRF_COOKIE = "parindex_csrf"
CSRF_HEADER = "x-csrf-token"
CSRF_FIELD = "csrf_token"


def host_name(value: str) -> str:
    """``example.org:8765`` → ``example.org``; ``[::1]:8765`` → ``[::1]``."""
    value = value.strip().lower()
    if value.startswith("["):
        return value[: value.find("]") + 1] if "]" in value else value
    return value.rsplit(":", 1)[0] if value.count(":") == 1 else value


class HostCheck:
    """Refuse requests whose Host header is not this machine (no DNS-rebinding access from other sites)."""

    def __init__(self, app: ASGIApp, allowed: set[str]):
        self.app = app
        self.allowed = allowed

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            host = Headers(scope=scope).get("host", "")
            if host_name(host) not in self.allowed:
                body = {"problems": [{
                    "code": "host_not_allowed",
                    "message": f"địa chỉ '{host}' không được phép truy cập máy chủ parindex này",
                    "location": "Host", "hint": "mở http://127.0.0.1:<cổng>/ trên chính máy chạy parindex",
                    "file": None, "line": None, "subject": "Host"}]}
                if scope["path"].startswith("/api/"):
                    response: Any = JSONResponse(body, status_code=400)
                else:
                    response = PlainTextResponse("Địa chỉ máy chủ không hợp lệ (Host không được phép).", status_code=400)
                await response(scope, receive, send)
                return
        await self.app(scope, receive, send)


# ------------------------------------------------------------------ CSRF (double-submit cookie)


def new_token() -> str:
    return secrets.token_urlsafe(32)


class CsrfError(Exception):
    pass


def check_csrf(request: Request, form_token: str | None, allowed_hosts: set[str]) -> None:
    """Every POST: a browser session (it has the cookie) must send the same token in the X-CSRF-Token
    header or the form's ``csrf_token`` field; a request that looks like it comes from a browser on
    another site (Origin or Sec-Fetch-Site) is refused; a program (no cookie, no browser headers) passes,
    since the server only listens on this machine."""
    origin = request.headers.get("origin")
    if origin and origin != "null" and host_name(urlsplit(origin).netloc) not in allowed_hosts:
        raise CsrfError("origin")
    bound = getattr(request.state, "session_csrf", None)  # signed in (scoring/web/auth.py): the session's token
    if bound:
        sent = request.headers.get(CSRF_HEADER) or form_token
        if not sent or not hmac.compare_digest(sent.encode(), bound.encode()):
            raise CsrfError("session token")
        return
    cookie = request.cookies.get(CSRF_COOKIE)
    sent = request.headers.get(CSRF_HEADER) or form_token
    if cookie:
        if not sent or not hmac.compare_digest(sent.encode(), cookie.encode()):
            raise CsrfError("token")
        return
    if origin or request.headers.get("sec-fetch-site") or sent:
        raise CsrfError("no cookie")


# ------------------------------------------------------------------ uploads


class TooLarge(Exception):
    def __init__(self, field: str, limit: int):
        super().__init__(field)
        self.field = field
        self.limit = limit


class BadForm(Exception):
    pass


class _LimitedParser(MultiPartParser):
    """Starlette's multipart parser with a size limit per file field, checked as the bytes arrive."""

    def __init__(self, headers: Headers, stream: Any, limits: dict[str, int], default_limit: int):
        super().__init__(headers, stream, max_files=10, max_fields=100, max_part_size=1024 * 1024)
        self.limits = limits
        self.default_limit = default_limit
        self._sizes: dict[int, int] = {}

    def on_part_data(self, data: bytes, start: int, end: int) -> None:
        part = self._current_part
        if part.file is not None:
            size = self._sizes.get(id(part), 0) + (end - start)
            self._sizes[id(part)] = size
            limit = self.limits.get(part.field_name, self.default_limit)
            if size > limit:
                raise TooLarge(part.field_name, limit)
        super().on_part_data(data, start, end)


@dataclass
class Upload:
    field: str
    name: str  # the name the browser sent, cleaned, shown only (never used to store the file)
    data: bytes


def clean_name(name: str | None, default: str) -> str:
    """The last path component of a browser-sent file name, NFC, without control characters."""
    name = unicodedata.normalize("NFC", name or "").replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(c for c in name if unicodedata.category(c)[0] != "C").strip().lstrip(".")
    return name[:120] or default


async def read_form(request: Request, limits: dict[str, int], default_limit: int,
                    total_limit: int) -> tuple[dict[str, str], dict[str, Upload]]:
    """Parse a multipart or urlencoded body, stopping as soon as a part or the whole body is too large."""
    ctype = request.headers.get("content-type", "")
    length = request.headers.get("content-length")
    if length and length.isdigit() and int(length) > total_limit:
        raise TooLarge("", total_limit)

    async def counted() -> Any:
        seen = 0
        async for chunk in request.stream():
            seen += len(chunk)
            if seen > total_limit:
                raise TooLarge("", total_limit)
            yield chunk

    fields: dict[str, str] = {}
    files: dict[str, Upload] = {}
    if ctype.startswith("multipart/form-data"):
        try:
            async with aclosing(counted()) as stream:
                form: FormData = await _LimitedParser(request.headers, stream, limits, default_limit).parse()
        except MultiPartException as exc:
            raise BadForm(exc.message) from None
    elif ctype.startswith("application/x-www-form-urlencoded"):
        from starlette.formparsers import FormParser

        try:
            async with aclosing(counted()) as stream:
                form = await FormParser(request.headers, stream, max_fields=1000,
                                        max_part_size=1024 * 1024).parse()
        except MultiPartException as exc:
            raise BadForm(exc.message) from None
    else:
        raise BadForm("content type")
    try:
        for key, value in form.multi_items():
            if isinstance(value, UploadFile):
                data = await value.read()
                if data or value.filename:
                    if data:
                        files[key] = Upload(key, clean_name(value.filename, key), data)
            else:
                fields[key] = value
    finally:
        await form.close()
    return fields, files
