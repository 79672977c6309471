"""Accounts on the web (the province server): passwords, server-side sessions, a CSRF token bound to the
session, the sign-in rate limit, the role policy checked on EVERY endpoint, department isolation, and the
audit log written in the same transaction as every change.

How a request goes through:

1. ``SessionMiddleware`` (pure ASGI) reads the session cookie, loads the session and its user (one query),
   refuses an expired or revoked one, and publishes the signed-in ``Principal`` in a context variable
   (``current()``), which worker threads inherit. Without any account in the database and on loopback the
   application runs as the web application of one machine (``LOCAL``: no sign-in, as before).
2. ``guard`` is a dependency of every route (added to the app's router before the routes are included): it
   looks the route up in ``POLICY`` (a route missing from it answers 403: nothing is open by accident),
   answers 401 when signed out, checks the CSRF header of state-changing calls against the session, answers
   404 for another department's assessment id (before the role check: its existence is not revealed), and
   403 when the role may not do this.
3. The store's session events (``before_flush``) refuse, whatever the route, a row written for another
   department or into a submitted assessment, fill ``author``; ``after_flush`` appends one audit entry per
   changed row (before and after values of a change: nothing is lost, only superseded).
"""

from __future__ import annotations

import datetime as dt
import hmac
import logging
import secrets
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from anyio import to_thread
from fastapi import Depends, FastAPI, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response
from sqlalchemy import event, insert
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.orm import Session
from starlette.types import ASGIApp, Receive, Scope, Send

from ..store import accounts as acc
from ..store import audit
from ..store import queries as q
from ..store.actor import Actor, current, visible_departments  # noqa: F401  (visible_departments: the pages' filter)
from ..store.actor import reset as _reset_actor
from ..store.actor import use as _use_actor
from ..store.db import Store
from ..store.models import AppraisalPoints, Assessment, Department, NodePoints, StoredFile, utcnow
from ..store.passwords import hash_password, password_problem, verify_password  # noqa: F401
from scoring import api
from .config import WebConfig
from .offload import Offload
from .problems import problems_body
from .security import CSRF_HEADER, CsrfError
from .service import WebError

log = logging.getLogger("parindex.web.auth")

LOOPBACK = ("127.0.0.1", "localhost", "::1")
SESSION_COOKIE = "parindex_session"
SAFE_METHODS = ("GET", "HEAD", "OPTIONS")
LOGIN_FAILURES_PER_MINUTE = 10
TOUCH_EVERY = dt.timedelta(seconds=60)  # last_seen_at is written at most once a minute per session

def is_loopback(host: str) -> bool:
    return host.strip("[]").lower() in LOOPBACK


# ------------------------------------------------------------------ who is signed in

Principal = Actor

#: The web application of one machine (no account in the database, loopback only): everything allowed.
LOCAL = Principal(None, "local", "admin", None, None)


# ------------------------------------------------------------------ errors


class NotSignedIn(Exception):
    def __init__(self, reason: str | None = None):
        super().__init__(reason or "")
        self.reason = reason


def not_found(assessment_id: Any) -> WebError:
    """Exactly what an id that does not exist answers (``Service.get``): another department's is the same."""
    return WebError(404, [api.Problem("not_found", f"không có bản đánh giá số {assessment_id}",
                                      subject=str(assessment_id), hint="mở Trang chủ để xem danh sách")])


def forbidden(p: Principal, what: str) -> WebError:
    return WebError(403, [api.Problem(
        "forbidden", f"tài khoản '{p.username}' ({p.role_title}) không được {what}", subject=p.role,
        hint="đăng nhập bằng tài khoản có quyền này hoặc nhờ quản trị viên phân quyền")])


def wrong_department(p: Principal, name: str) -> WebError:
    return WebError(403, [api.Problem(
        "wrong_department", f"tệp ghi đơn vị '{name}', nhưng tài khoản '{p.username}' thuộc đơn vị "
        f"'{p.department or '(chưa gán)'}'", subject="department",
        hint="sửa tên đơn vị trong tệp kiểm chứng cho đúng tên đơn vị của tài khoản, hoặc nhờ quản trị viên")])


def submitted_error(year: int, round_title: str) -> WebError:
    return WebError(409, [api.Problem(
        "already_submitted", f"bản {round_title} năm {year} của đơn vị đã được lãnh đạo nộp: chỉ còn xem được",
        subject="submitted", hint="nếu cần sửa, đề nghị Sở Nội vụ (quản trị viên) xử lý")])


# ------------------------------------------------------------------ the role policy

ALL = frozenset(acc.ROLES)
DEPT_WRITERS = frozenset({"clerk", "leader", "admin"})
PROVINCE = frozenset({"appraiser", "admin"})
LEADERS = frozenset({"leader", "admin"})
ADMINS = frozenset({"admin"})
PUBLIC = frozenset({"*"})  # signed out too


@dataclass(frozen=True)
class Rule:
    roles: frozenset[str]
    what: str  # Vietnamese, for the 403 message: "không được <what>"


def _r(roles: frozenset[str], what: str) -> Rule:
    return Rule(roles, what)


#: (method, route path) → who may call it. HEAD follows GET. A route missing here answers 403.
POLICY: dict[tuple[str, str], Rule] = {
    ("GET", "/healthz"): _r(PUBLIC, ""),
    ("GET", "/login"): _r(PUBLIC, ""),
    ("POST", "/login"): _r(PUBLIC, ""),
    ("POST", "/api/login"): _r(PUBLIC, ""),
    ("POST", "/logout"): _r(ALL, "đăng xuất"),
    ("POST", "/api/logout"): _r(ALL, "đăng xuất"),
    ("GET", "/api/me"): _r(ALL, "xem tài khoản"),
    ("GET", "/"): _r(ALL, "xem trang chủ"),
    ("GET", "/template.xlsx"): _r(ALL, "tải mẫu"),
    ("GET", "/history"): _r(ALL, "xem lịch sử"),
    ("GET", "/api/history"): _r(ALL, "xem lịch sử"),
    ("GET", "/assessments/new"): _r(DEPT_WRITERS, "tải lên bản tự chấm"),
    ("POST", "/assessments/new"): _r(DEPT_WRITERS, "tải lên bản tự chấm"),
    ("POST", "/api/assessments"): _r(DEPT_WRITERS, "tải lên bản tự chấm"),
    ("GET", "/assessments/{assessment_id}"): _r(ALL, "xem bảng điểm"),
    ("GET", "/api/assessments/{assessment_id}"): _r(ALL, "xem bảng điểm"),
    ("GET", "/assessments/{assessment_id}/lost"): _r(ALL, "xem điểm bị mất"),
    ("GET", "/assessments/{assessment_id}/lost/{code}"): _r(ALL, "xem điểm bị mất"),
    ("GET", "/assessments/{assessment_id}/audit"): _r(ALL, "xem rà soát"),
    ("GET", "/assessments/{assessment_id}/whatif"): _r(ALL, "dùng nếu … thì"),
    ("POST", "/assessments/{assessment_id}/whatif"): _r(ALL, "dùng nếu … thì"),
    ("POST", "/api/assessments/{assessment_id}/whatif"): _r(ALL, "dùng nếu … thì"),
    ("POST", "/assessments/{assessment_id}/plan"): _r(ALL, "lập phương án cải thiện"),
    ("POST", "/assessments/{assessment_id}/scenarios"): _r(DEPT_WRITERS, "lưu kịch bản"),
    ("GET", "/assessments/{assessment_id}/download/{fmt}"): _r(ALL, "tải về"),
    ("GET", "/api/assessments/{assessment_id}/export"): _r(ALL, "tải về"),
    ("GET", "/assessments/{assessment_id}/rounds"): _r(ALL, "xem các vòng thẩm định"),
    ("POST", "/assessments/{assessment_id}/rounds"): _r(PROVINCE, "nhập điểm thẩm định của Hội đồng"),
    ("POST", "/assessments/{assessment_id}/rounds/{appraisal_id}/explanations"): _r(DEPT_WRITERS, "sửa giải trình"),
    ("GET", "/assessments/{assessment_id}/rounds/{appraisal_id}/giai-trinh.docx"): _r(ALL, "tải giải trình"),
    ("POST", "/assessments/{assessment_id}/submit"): _r(LEADERS, "nộp bản đánh giá (chỉ lãnh đạo đơn vị)"),
    ("POST", "/api/assessments/{assessment_id}/submit"): _r(LEADERS, "nộp bản đánh giá (chỉ lãnh đạo đơn vị)"),
    ("GET", "/ranking"): _r(PROVINCE, "xem xếp hạng các đơn vị"),
    ("GET", "/api/ranking"): _r(PROVINCE, "xem xếp hạng các đơn vị"),
    ("GET", "/api/audit-log"): _r(ADMINS, "xem nhật ký thay đổi"),
    ("GET", "/api/users"): _r(ADMINS, "quản lý tài khoản"),
}


def rule_for(method: str, path: str) -> Rule | None:
    return POLICY.get(("GET" if method == "HEAD" else method, path))


# ------------------------------------------------------------------ accounts of one application


class Accounts:
    """Sign-in, sessions and checks for one application (its store and settings)."""

    def __init__(self, store: Store, config: WebConfig):
        self.store = store
        self.config = config
        self.idle = dt.timedelta(hours=config.session_idle_hours)
        self._required = config.require_accounts or not is_loopback(config.host)
        self._departments: dict[int, int] = {}  # assessment id → its department (see department_of)
        self.offload: Offload = Offload(0)  # where passwords are checked: install() gives the app's

    # accounts are never deleted, so once one exists sign-in is required for good
    def required(self) -> bool:
        if not self._required:
            with self.store.sessions() as s:
                self._required = acc.count_users(s, active_only=False) > 0
        return self._required

    def resolve(self, token: str, address: str | None) -> tuple[Principal | None, str | None]:
        now = utcnow()
        with self.store.read_engine.connect() as conn:  # autocommit: no transaction round trips for one read
            ls = acc.session_row(conn, token)
            if ls is None or ls.revoked_at is not None or ls.disabled_at is not None:
                return None, "invalid"
            if now - ls.last_seen_at > self.idle:
                return None, "expired"
            if now - ls.last_seen_at >= TOUCH_EVERY:
                acc.touch_session(conn, token, now)
            return Principal(ls.user_id, ls.username, ls.role, ls.department_id, ls.department, ls.csrf_token,
                             address, token), None

    def sign_in(self, username: str, password: str, address: str | None) -> tuple[int, Principal | None]:
        """(200, principal) or (401, None) or (429, None); every outcome is audited."""
        key = acc.user_key(username)[:100]
        since = utcnow() - dt.timedelta(minutes=1)
        with self.store.sessions() as s:
            if acc.recent_failures(s, key, address, since) >= LOGIN_FAILURES_PER_MINUTE:
                s.execute(insert(acc.AuditEntry), [acc.audit_row(actor=username or "?", action="login_throttled",
                                                                 subject=key, address=address)])
                s.commit()
                return 429, None
            u = acc.find_user(s, username) if key else None
            ok = self.offload.run(verify_password, u.password_hash if u is not None else None, password)
            if not ok or u is None or u.disabled_at is not None:
                s.execute(insert(acc.AuditEntry), [acc.audit_row(
                    actor=username or "?", action="login_failed", subject=key, address=address,
                    user_id=u.id if u else None, detail={"reason": "disabled" if ok else "password"})])
                s.commit()
                return 401, None
            token, csrf = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
            acc.add_session(s, token, u, csrf, address)
            s.execute(insert(acc.AuditEntry), [acc.audit_row(actor=u.username, user_id=u.id, action="login",
                                                             subject=key, address=address,
                                                             department_id=u.department_id)])
            s.commit()
            return 200, Principal(u.id, u.username, u.role, u.department_id,
                                  u.department.name if u.department else None, csrf, address, token)

    def sign_out(self, p: Principal) -> None:
        if p.token is None:
            return
        with self.store.sessions.begin() as s:
            ls = acc.get_session(s, p.token)
            if ls is not None and ls.revoked_at is None:
                ls.revoked_at = utcnow()
            s.execute(insert(acc.AuditEntry), [acc.audit_row(actor=p.username, user_id=p.user_id, action="logout",
                                                             subject=acc.user_key(p.username), address=p.address)])

    def known_department(self, assessment_id: int) -> int | None:
        return self._departments.get(assessment_id)

    def department_of(self, assessment_id: int) -> int | None:
        """An assessment's department never changes: kept once read (every request of a page asks)."""
        dep = self._departments.get(assessment_id)
        if dep is None:
            with self.store.reads() as s:
                dep = q.department_of(s, assessment_id)
            if dep is not None:
                if len(self._departments) > 100_000:
                    self._departments.clear()
                self._departments[assessment_id] = dep
        return dep

    def submission(self, assessment_id: int) -> acc.Submission | None:
        with self.store.sessions() as s:
            return acc.submission(s, assessment_id)

    def cookie(self, response: Response, token: str) -> None:
        response.set_cookie(SESSION_COOKIE, token, httponly=True, samesite="lax", secure=self.config.https_proxy,
                            path="/", max_age=int(self.idle.total_seconds()) + 3600)

    def clear_cookie(self, response: Response) -> None:
        response.delete_cookie(SESSION_COOKIE, path="/", httponly=True, samesite="lax",
                               secure=self.config.https_proxy)


def accounts_of(request: Request) -> Accounts:
    return request.app.state.accounts


def client_address(scope: Scope) -> str | None:
    client = scope.get("client")
    return str(client[0])[:100] if client else None


# ------------------------------------------------------------------ the middleware


def _db_down_body() -> dict[str, Any]:
    return problems_body([api.Problem(
        "database_unavailable", "máy chủ cơ sở dữ liệu tạm thời không trả lời",
        hint="thử lại sau vài giây; nếu kéo dài, báo quản trị viên kiểm tra PostgreSQL")])


class SessionMiddleware:
    def __init__(self, app: ASGIApp, accounts: Accounts):
        self.app = app
        self.accounts = accounts

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"].startswith("/static/"):
            await self.app(scope, receive, send)
            return
        from starlette.requests import Request as _Request

        request = _Request(scope)
        state = scope.setdefault("state", {})
        address = client_address(scope)
        token = request.cookies.get(SESSION_COOKIE)
        principal: Principal | None = None
        problem: str | None = None
        try:
            required = self.accounts._required or await to_thread.run_sync(self.accounts.required)
            if required and token:
                principal, problem = await to_thread.run_sync(self.accounts.resolve, token, address)
        except (OperationalError, DBAPIError):
            log.warning("database unavailable while reading the session", exc_info=True)
            await JSONResponse(_db_down_body(), status_code=503, headers={"Retry-After": "5"})(scope, receive, send)
            return
        if not required:
            principal = LOCAL if address is None else Principal(None, "local", "admin", None, None, address=address)
        state["accounts_on"] = required
        state["principal"] = principal if required else None
        state["session_problem"] = problem
        if principal is not None and principal.csrf:
            state["session_csrf"] = principal.csrf
        reset = _use_actor(principal)
        try:
            await self.app(scope, receive, send)
        finally:
            _reset_actor(reset)


# ------------------------------------------------------------------ the guard (every route)


def _is_form(request: Request) -> bool:
    ctype = request.headers.get("content-type", "")
    return ctype.startswith(("multipart/form-data", "application/x-www-form-urlencoded"))


async def guard(request: Request) -> None:
    route = request.scope.get("route")
    path = getattr(route, "path", request.url.path)
    rule = rule_for(request.method, path)
    if rule is None:
        log.error("route %s %s has no entry in the role policy: refused", request.method, path)
        raise WebError(403, [api.Problem("not_in_policy", "trang này chưa được phân quyền nên không mở",
                                         subject=path, hint="báo nhóm phát triển (scoring/web/auth.py: POLICY)")])
    p: Principal | None = request.state.principal
    if p is not None and p.csrf:
        request.state.csrf = p.csrf  # the forms of this page carry the session's token
    if rule.roles == PUBLIC or not request.state.accounts_on:
        return
    if p is None:
        raise NotSignedIn(request.state.session_problem)
    if request.method not in SAFE_METHODS:
        sent = request.headers.get(CSRF_HEADER)
        if sent is not None:
            if not p.csrf or not hmac.compare_digest(sent.encode(), p.csrf.encode()):
                raise CsrfError("token")
        elif not _is_form(request):  # a form's token is in its body: the route checks it (form_with_csrf)
            raise CsrfError("missing")
    raw = request.path_params.get("assessment_id")
    if raw is not None and str(raw).isdigit() and not p.sees_all:
        accounts = accounts_of(request)
        dep = accounts.known_department(int(raw))  # no thread hop when kept
        if dep is None:
            dep = await to_thread.run_sync(accounts.department_of, int(raw))
        if dep is None or dep != p.department_id:
            raise not_found(raw)
    if p.role not in rule.roles:
        raise forbidden(p, rule.what)


# ------------------------------------------------------------------ the store's events: isolation, author, audit

def _before_flush(s: Session, _ctx: Any, _instances: Any) -> None:
    """A department's account writes only its own department's rows, never into a submitted round."""
    p = current()
    if p is None or p.sees_all:
        return
    from ..store.queries import ROUNDS

    for obj in list(s.new) + list(s.dirty):
        if isinstance(obj, (acc.AuditEntry, acc.LoginSession, StoredFile, NodePoints, AppraisalPoints)):
            continue
        if isinstance(obj, Department):
            raise wrong_department(p, obj.name)
        if isinstance(obj, acc.User) or (isinstance(obj, acc.Submission) and p.role != "leader"):
            raise forbidden(p, "thay đổi tài khoản" if isinstance(obj, acc.User) else "nộp bản đánh giá")
        a = audit.assessment_of(s, obj)
        if a is None:
            continue
        if a.department_id != p.department_id:
            if isinstance(obj, Assessment):
                with s.no_autoflush:
                    dep = s.get(Department, a.department_id)
                raise wrong_department(p, dep.name if dep else "?")
            raise not_found(a.id)
        if isinstance(obj, Assessment) or getattr(obj, "__tablename__", "") == "scenarios":
            with s.no_autoflush:
                done = acc.submitted_round(s, a.department_id, a.year, a.round)
            if done is not None:
                raise submitted_error(a.year, ROUNDS.get(a.round, a.round))


def watch_store(store: Store) -> None:
    """The audit log (scoring.store.audit) and, for web requests, the isolation checks above (idempotent)."""
    audit.watch(store)
    if not event.contains(store.sessions, "before_flush", _before_flush):
        event.listen(store.sessions, "before_flush", _before_flush)


# ------------------------------------------------------------------ installing into the application


def _safe_next(value: str | None) -> str:
    if not value or not value.startswith("/") or value.startswith("//") or "\\" in value:
        return "/"
    return value


def install(app: FastAPI, config: WebConfig, store: Store) -> None:
    """Called by ``create_app`` BEFORE the routes are included (the guard joins every route)."""
    accounts = Accounts(store, config)
    accounts.offload = app.state.offload
    app.state.accounts = accounts
    watch_store(store)
    app.router.dependencies.append(Depends(guard))
    app.add_middleware(SessionMiddleware, accounts=accounts)

    def is_api(request: Request) -> bool:
        return request.url.path.startswith("/api/")

    @app.exception_handler(NotSignedIn)
    async def _signed_out(request: Request, exc: NotSignedIn) -> Response:
        if exc.reason == "expired":
            code, message = "session_expired", "phiên làm việc đã hết hạn vì lâu không dùng"
        else:
            code, message = "not_signed_in", "chưa đăng nhập"
        response: Response
        if is_api(request):
            response = JSONResponse(problems_body([api.Problem(code, message, hint="đăng nhập: POST /api/login")]),
                                    status_code=401)
        else:
            target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
            extra = "&het-han=1" if exc.reason == "expired" else ""
            response = RedirectResponse(f"/login?next={quote(_safe_next(target))}{extra}", status_code=303)
        if request.cookies.get(SESSION_COOKIE):
            accounts.clear_cookie(response)
        return response

    @app.exception_handler(OperationalError)
    async def _db_down(request: Request, exc: OperationalError) -> Response:
        log.warning("database unavailable on %s", request.url.path)
        return JSONResponse(_db_down_body(), status_code=503, headers={"Retry-After": "5"})
