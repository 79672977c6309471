"""Every endpoint with every role, signed out, with an expired session, without and with a wrong CSRF token;
another department's ids by URL; on SQLite and on a real PostgreSQL.

The expected roles are written out here from the issue (not read from ``POLICY``), so a wrong policy fails."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from sqlalchemy import text

from conftest import APPRAISAL, DONG_DANG, LANG_SON, Province, RoleClient, sample

ROLES = ("clerk_a", "leader_a", "clerk_b", "appraiser", "admin")
EVERYONE = frozenset(ROLES)
DEPT = frozenset({"clerk_a", "leader_a", "clerk_b", "admin"})  # the department's own work (and the admin)
PROVINCE = frozenset({"appraiser", "admin"})
LEADER = frozenset({"leader_a", "admin"})
ADMIN = frozenset({"admin"})


@dataclass
class Case:
    method: str
    route: str  # the route's path template, as the policy names it
    allowed: frozenset[str]
    send: Callable[[RoleClient, str], Any]  # (client, token mode: "ok" | "none" | "wrong") → response
    of_a: bool = False  # the URL names department A's assessment

    @property
    def api(self) -> bool:
        return self.route.startswith("/api/")


def _token(c: RoleClient, mode: str) -> str | None:
    return {"ok": c.csrf or "", "none": None, "wrong": "x" * 43}[mode]


def _headers(c: RoleClient, mode: str) -> dict[str, str]:
    t = _token(c, mode)
    return {"X-CSRF-Token": t} if t else {}


def _evidence_for(c: RoleClient) -> tuple[str, bytes]:
    name = DONG_DANG if c.name == "clerk_b" else LANG_SON
    return name, sample(name)


def cases(p: Province) -> list[Case]:
    a, ap = p.ids["a"], p.ids["appraisal"]
    card = json.loads(p["admin"].get(f"/api/assessments/{a}").text)["scorecard"]
    lost = next(n["code"] for n in card["criteria"] if n.get("lost") and n["level"] not in ("field", "criterion"))

    def get(url: str) -> Callable[[RoleClient, str], Any]:
        return lambda c, _m: c.get(url)

    def form(url: str, data: dict[str, str], files: Callable[[RoleClient], Any] | None = None) -> Callable[..., Any]:
        return lambda c, m: c.post_form(url, data, files=files(c) if files else None, token=_token(c, m))

    def api_json(url: str, body: Any) -> Callable[..., Any]:
        return lambda c, m: c.post(url, json=body, headers=_headers(c, m))

    def api_upload(c: RoleClient, m: str) -> Any:
        return c.post("/api/assessments", files={"evidence": _evidence_for(c)}, headers=_headers(c, m))

    return [
        Case("GET", "/", EVERYONE, get("/")),
        Case("GET", "/healthz", EVERYONE | {"signed_out", "expired"}, get("/healthz")),
        Case("GET", "/template.xlsx", EVERYONE, get("/template.xlsx")),
        Case("GET", "/history", EVERYONE, get("/history")),
        Case("GET", "/api/history", EVERYONE, get("/api/history")),
        Case("GET", "/api/me", EVERYONE, get("/api/me")),
        Case("GET", "/assessments/new", DEPT, get("/assessments/new")),
        Case("POST", "/assessments/new", DEPT, form("/assessments/new", {"round": "tu_cham"},
                                                     lambda c: {"evidence": _evidence_for(c)})),
        Case("POST", "/api/assessments", DEPT, api_upload),
        Case("GET", "/assessments/{assessment_id}", EVERYONE, get(f"/assessments/{a}"), True),
        Case("GET", "/api/assessments/{assessment_id}", EVERYONE, get(f"/api/assessments/{a}"), True),
        Case("GET", "/assessments/{assessment_id}/lost", EVERYONE, get(f"/assessments/{a}/lost"), True),
        Case("GET", "/assessments/{assessment_id}/lost/{code}", EVERYONE, get(f"/assessments/{a}/lost/{lost}"), True),
        Case("GET", "/assessments/{assessment_id}/audit", EVERYONE, get(f"/assessments/{a}/audit"), True),
        Case("GET", "/assessments/{assessment_id}/whatif", EVERYONE, get(f"/assessments/{a}/whatif"), True),
        Case("POST", "/assessments/{assessment_id}/whatif", EVERYONE,
             form(f"/assessments/{a}/whatif", {"set:3.4.1": "99%"}), True),
        Case("POST", "/api/assessments/{assessment_id}/whatif", EVERYONE,
             api_json(f"/api/assessments/{a}/whatif", {"set": {"3.4.1": "99%"}}), True),
        Case("POST", "/assessments/{assessment_id}/plan", EVERYONE,
             form(f"/assessments/{a}/plan", {"target": "percent", "target_value": "90"},
                  lambda c: {"options": ("options.yaml", sample("options-lang-son-2025.yaml"))}), True),
        Case("POST", "/assessments/{assessment_id}/scenarios", DEPT,
             form(f"/assessments/{a}/scenarios", {"name": "Thử", "set:3.4.1": "99%"}), True),
        Case("GET", "/assessments/{assessment_id}/download/{fmt}", EVERYONE, get(f"/assessments/{a}/download/json"), True),
        Case("GET", "/api/assessments/{assessment_id}/export", EVERYONE,
             get(f"/api/assessments/{a}/export?format=json"), True),
        Case("GET", "/assessments/{assessment_id}/rounds", EVERYONE, get(f"/assessments/{a}/rounds"), True),
        Case("POST", "/assessments/{assessment_id}/rounds", PROVINCE,
             form(f"/assessments/{a}/rounds", {"round": "tham_dinh_1"},
                  lambda c: {"appraisal": (APPRAISAL, sample(APPRAISAL))}), True),
        Case("POST", "/assessments/{assessment_id}/rounds/{appraisal_id}/explanations", DEPT,
             form(f"/assessments/{a}/rounds/{ap}/explanations", {"text:2.1.2": "Đã có văn bản xử lý."}), True),
        Case("GET", "/assessments/{assessment_id}/rounds/{appraisal_id}/giai-trinh.docx", EVERYONE,
             get(f"/assessments/{a}/rounds/{ap}/giai-trinh.docx"), True),
        Case("GET", "/ranking", PROVINCE, get("/ranking?year=2025&round=tu_cham")),
        Case("GET", "/api/ranking", PROVINCE, get("/api/ranking?year=2025&round=tu_cham")),
        Case("GET", "/api/audit-log", ADMIN, get("/api/audit-log")),
        Case("GET", "/api/users", ADMIN, get("/api/users")),
        # last: after a submission the department's round is read-only
        Case("POST", "/assessments/{assessment_id}/submit", LEADER, form(f"/assessments/{a}/submit", {}), True),
        Case("POST", "/api/assessments/{assessment_id}/submit", LEADER,
             api_json(f"/api/assessments/{a}/submit", {}), True),
    ]


#: Routes tried by their own tests (signing in and out changes the client itself).
OWN_TESTS = {("GET", "/login"), ("POST", "/login"), ("POST", "/api/login"), ("POST", "/logout"),
             ("POST", "/api/logout")}


def _routes(app: Any) -> set[tuple[str, str]]:
    def flat(routes: Any) -> Any:
        for r in routes:
            if hasattr(r, "original_router"):
                yield from flat(r.original_router.routes)
            else:
                yield r

    return {(m, r.path) for r in flat(app.routes) for m in getattr(r, "methods", None) or () if m != "HEAD"}


def test_every_route_is_in_the_policy_and_tried_here(sqlite_province: Province) -> None:
    from scoring.web.auth import POLICY

    routes = _routes(sqlite_province.app)
    assert routes - set(POLICY) == set(), "routes without a role rule (they answer 403 to everyone)"
    tried = {(c.method, c.route) for c in cases(sqlite_province)} | OWN_TESTS
    assert routes - tried == set(), "routes this test does not try with every role"


def _denied(r: Any, case: Case, who: str) -> str | None:
    """Why the response is not the refusal expected for ``who``, or None."""
    if case.of_a and who == "clerk_b":
        want = 404
    elif who in ("signed_out", "expired"):
        if not case.api:
            if r.status_code != 303 or not r.headers["location"].startswith("/login"):
                return f"expected a redirect to /login, got {r.status_code}"
            return None
        want = 401
    else:
        want = 403
    if r.status_code != want:
        return f"expected {want}, got {r.status_code}: {r.text[:200]}"
    if case.api or want != 303:
        body = r.json() if r.headers.get("content-type", "").startswith("application/json") else None
        if case.api and (not body or not body.get("problems")):
            return "expected Vietnamese problems in the body"
    return None


def _expire(p: Province, c: RoleClient) -> None:
    from scoring.store.accounts import token_hash

    token = c.http.cookies.get("parindex_session")
    with p.store.engine.begin() as conn:
        conn.execute(text("UPDATE login_sessions SET last_seen_at = :t WHERE token_hash = :h"),
                     {"t": "2000-01-01 00:00:00", "h": token_hash(token)})


def test_every_endpoint_with_every_role(province: Province) -> None:
    expired = RoleClient(province.app, "admin")
    _expire(province, expired)
    province.clients["expired"] = expired
    stale = expired.http.cookies.get("parindex_session")
    failures = []
    for case in cases(province):
        for who in (*ROLES, "signed_out", "expired"):
            c = province[who]
            if who == "expired":  # each refusal clears the cookie: send the stale one every time
                c.http.cookies.set("parindex_session", stale)
            r = case.send(c, "ok")
            if who in case.allowed and not (case.of_a and who == "clerk_b"):
                if r.status_code in (401, 403, 404) or r.status_code >= 500:
                    failures.append(f"{case.method} {case.route} as {who}: {r.status_code} {r.text[:200]}")
            else:
                why = _denied(r, case, who)
                if why:
                    failures.append(f"{case.method} {case.route} as {who}: {why}")
    assert failures == []
    # the expired session says so, and its cookie is cleared
    expired.http.cookies.set("parindex_session", stale)
    r = expired.get("/api/history")
    assert r.status_code == 401 and r.json()["problems"][0]["code"] == "session_expired"
    assert 'parindex_session=""' in r.headers["set-cookie"]
    expired.http.cookies.set("parindex_session", stale)
    r = expired.get("/")
    assert r.status_code == 303 and "het-han=1" in r.headers["location"]


def test_state_changing_calls_need_the_session_token(province: Province) -> None:
    admin = province["admin"]
    failures = []
    before = {t: province.count(t) for t in ("assessments", "appraisals", "scenarios", "submissions")}
    for case in cases(province):
        if case.method != "POST":
            continue
        for mode in ("none", "wrong"):
            r = case.send(admin, mode)
            said = r.json()["problems"][0]["code"] if case.api else ("csrf_failed" if "CSRF" in r.text else r.text)
            if r.status_code != 403 or said != "csrf_failed":
                failures.append(f"{case.route} with {mode} token: {r.status_code} {r.text[:150]}")
    assert failures == []
    assert before == {t: province.count(t) for t in before}  # nothing was stored
    # the token of ANOTHER session does not work either (bound to the session, not merely present)
    other = province["leader_a"]
    r = admin.post(f"/api/assessments/{province.ids['a']}/whatif", json={"set": {"3.4.1": "99%"}},
                   headers={"X-CSRF-Token": other.csrf or ""})
    assert r.status_code == 403


def test_another_departments_ids_answer_exactly_like_missing_ones(province: Province) -> None:
    b = province["clerk_b"]
    a_id = province.ids["a"]
    missing = 999999
    for url in ("/api/assessments/{}", "/api/assessments/{}/export?format=json"):
        theirs, nobody = b.get(url.format(a_id)), b.get(url.format(missing))
        assert theirs.status_code == nobody.status_code == 404
        assert theirs.text.replace(str(a_id), "N") == nobody.text.replace(str(missing), "N")
    page = b.get(f"/assessments/{a_id}")
    assert page.status_code == 404 and "Sở Tư pháp" not in page.text
    # lists: only the own department
    hist = b.get("/api/history").json()["assessments"]
    assert {h["department"] for h in hist} == {"Ban Quản lý Khu kinh tế cửa khẩu Đồng Đăng - Lạng Sơn"}
    assert b.get("/api/history?department=Sở Tư pháp tỉnh Lạng Sơn").json()["assessments"] == []
    assert "Sở Tư pháp" not in b.get("/").text
    assert "Sở Tư pháp" not in b.get("/history?department=Sở Tư pháp tỉnh Lạng Sơn").text
    # the appraiser and the admin see both
    for who in ("appraiser", "admin"):
        assert len({h["department"] for h in province[who].get("/api/history").json()["assessments"]}) == 2


def test_a_clerk_cannot_upload_another_departments_workbook(province: Province) -> None:
    before = province.count("assessments")
    r = province["clerk_b"].api_upload(LANG_SON)
    assert r.status_code == 403
    p = r.json()["problems"][0]
    assert p["code"] == "wrong_department" and "Sở Tư pháp tỉnh Lạng Sơn" in p["message"]
    r = province["clerk_b"].api_upload("so-tu-phap-tuyen-quang-2025.yaml")  # a department not in the store
    assert r.status_code == 403 and r.json()["problems"][0]["code"] == "wrong_department"
    assert province.count("assessments") == before
    assert province.count("departments") == 3  # A, B and the appraiser's office: nothing created


def test_submission_makes_the_round_read_only_for_the_department(province: Province) -> None:
    a = province.ids["a"]
    clerk, leader = province["clerk_a"], province["leader_a"]
    assert clerk.post(f"/api/assessments/{a}/submit", json={}, headers=clerk.headers()).status_code == 403
    r = leader.post(f"/api/assessments/{a}/submit", json={}, headers=leader.headers())
    assert r.status_code == 201 and r.json()["by"] == "leader_a"
    again = leader.post(f"/api/assessments/{a}/submit", json={}, headers=leader.headers())
    assert again.status_code == 409
    before = province.count("assessments")
    r = clerk.api_upload(LANG_SON)
    assert r.status_code == 409 and r.json()["problems"][0]["code"] == "already_submitted"
    r = clerk.post_form(f"/assessments/{a}/scenarios", {"name": "x", "set:3.4.1": "99%"})
    assert r.status_code == 409
    assert province.count("assessments") == before and province.count("scenarios") == 0
    # another round goes on: the council's points and the department's giải trình
    r = clerk.post_form(f"/assessments/{a}/rounds/{province.ids['appraisal']}/explanations",
                        {"text:2.1.2": "Giải trình sau khi nộp."})
    assert r.status_code == 303
    assert clerk.api_upload(LANG_SON, round="giai_trinh").status_code == 201
    page = clerk.get(f"/assessments/{a}").text
    assert 'data-testid="submitted"' in page


def test_audit_log_records_who_did_what_and_refuses_changes(province: Province) -> None:
    a = province.ids["a"]
    clerk = province["clerk_a"]
    clerk.post_form(f"/assessments/{a}/rounds/{province.ids['appraisal']}/explanations",
                    {"text:2.1.2": "Bản giải trình mới."})
    entries = province["admin"].get(f"/api/audit-log?assessment={a}").json()["entries"]
    kinds = {(e["actor"], e["action"]) for e in entries}
    assert ("clerk_a", "assessments.add") in kinds
    assert ("appraiser", "appraisals.add") in kinds
    change = next(e for e in entries if e["action"] == "explanations.change")
    assert change["actor"] == "clerk_a" and change["detail"]["changes"]["text"]["after"] == "Bản giải trình mới."
    assert change["detail"]["changes"]["text"]["before"]  # the superseded text is kept
    logins = province["admin"].get("/api/audit-log").json()["entries"]
    assert any(e["action"] == "login" and e["actor"] == "clerk_b" for e in logins)
    # the database itself refuses to rewrite history
    for statement in ("UPDATE audit_log SET actor = 'x'", "DELETE FROM audit_log"):
        with pytest.raises(Exception, match="append-only"):
            with province.store.engine.begin() as conn:
                conn.execute(text(statement))
    # and the author of the upload is the account, not the browser's word
    assert province["admin"].get(f"/api/assessments/{a}").json()["author"] == "clerk_a"
