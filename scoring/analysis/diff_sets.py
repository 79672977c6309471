"""What changed, code by code, between two criteria sets (e.g. cap-so-2025 → cap-so-lang-son-2026).

``diff_sets(a, b)`` compares two loaded bundles: for every code of either tree, whether it was added,
removed or changed, and each change as (what, before, after) in Vietnamese: title, maximum points,
points status, and for leaves the rule: kind, target, evidence items, bands, deadline dates, checks,
"không phát sinh" policy and basis. No printing here: ``render_text`` and ``to_json`` give the outputs
(the command is registered by ``scoring/cli/diff_sets.py``; the library call is ``scoring.api.diff_sets``).
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

from scoring.core.evidence import format_number
from scoring.core.rules import Bundle, CompiledRule

Status = Literal["added", "removed", "changed", "same"]
STATUS_VI = {"added": "mới", "removed": "bỏ", "changed": "thay đổi", "same": "giữ nguyên"}


class Change(BaseModel):
    model_config = ConfigDict(frozen=True)
    what: str  # Vietnamese: "tiêu đề", "điểm tối đa", "mục tiêu", …
    before: str | None
    after: str | None


class CodeDiff(BaseModel):
    model_config = ConfigDict(frozen=True)
    code: str
    status: Status
    title: str  # the newer title when both exist
    changes: tuple[Change, ...] = ()


class SetsDiff(BaseModel):
    model_config = ConfigDict(frozen=True)
    set_a: str
    set_b: str
    year_a: int
    year_b: int
    codes: tuple[CodeDiff, ...]

    def counts(self) -> dict[str, int]:
        return {s: sum(1 for c in self.codes if c.status == s) for s in ("added", "removed", "changed", "same")}

    def to_json(self) -> dict[str, Any]:
        return {"set_a": self.set_a, "set_b": self.set_b, "year_a": self.year_a, "year_b": self.year_b,
                "counts": self.counts(), "codes": [c.model_dump() for c in self.codes if c.status != "same"]}


def _num(x: Any) -> str:
    return format_number(x)


def _bands(rule: CompiledRule) -> str | None:
    bands = getattr(rule.rule, "bands", ())
    if not bands:
        return None
    return "; ".join(f"≥ {_num(b.min)}: {_num(b.points)}" for b in bands)


def _items(rule: CompiledRule) -> str | None:
    items = getattr(rule.rule, "items", ())
    return "; ".join(f"{i.label}: {i.due:%d/%m/%Y}" for i in items) or None


def _checks(rule: CompiledRule) -> str | None:
    checks = getattr(rule.rule, "checks", ())
    return "; ".join(c.label for c in checks) or None


def _rule_facts(rule: CompiledRule | None) -> dict[str, str | None]:
    if rule is None:
        return {}
    r = rule.rule
    basis = r.basis
    return {
        "loại quy tắc": r.kind,
        "mục tiêu": rule.target,
        "số liệu": ", ".join(f"{e.name} ({e.description})" for e in r.evidence),
        "các mức điểm": _bands(rule),
        "hạn": _items(rule),
        "điều kiện": _checks(rule),
        "khi không phát sinh": r.not_applicable.policy,
        "căn cứ ngưỡng": basis.tag() if basis else None,
    }


def diff_sets(a: Bundle, b: Bundle) -> SetsDiff:
    """Per code, what changed from set ``a`` to set ``b``."""
    ia, ib = a.criteria.index(), b.criteria.index()
    order = [n.code for n in b.criteria.walk()] + [n.code for n in a.criteria.walk() if n.code not in ib]
    out: list[CodeDiff] = []
    for code in order:
        na, nb = ia.get(code), ib.get(code)
        if na is None or nb is None:
            node = nb or na
            out.append(CodeDiff(code=code, status="added" if na is None else "removed", title=node.title))
            continue
        changes: list[Change] = []
        pairs = {"tiêu đề": (na.title, nb.title),
                 "điểm tối đa": (_num(na.max_points), _num(nb.max_points)),
                 "trạng thái điểm": (a.criteria.status_of(na), b.criteria.status_of(nb))}
        fa, fb = _rule_facts(a.rules.get(code)), _rule_facts(b.rules.get(code))
        for key in dict.fromkeys([*fa, *fb]):
            pairs[key] = (fa.get(key), fb.get(key))
        for what, (before, after) in pairs.items():
            if before != after:
                changes.append(Change(what=what, before=before, after=after))
        out.append(CodeDiff(code=code, status="changed" if changes else "same", title=nb.title,
                            changes=tuple(changes)))
    return SetsDiff(set_a=a.criteria.id, set_b=b.criteria.id, year_a=a.criteria.year, year_b=b.criteria.year,
                    codes=tuple(out))


def render_text(diff: SetsDiff) -> str:
    """The Vietnamese report: counts, then every added, removed and changed code."""
    c = diff.counts()
    lines = [f"SO SÁNH BỘ TIÊU CHÍ: {diff.set_a} (năm {diff.year_a}) → {diff.set_b} (năm {diff.year_b})",
             f"Mục mới: {c['added']}; mục bỏ: {c['removed']}; mục thay đổi: {c['changed']}; "
             f"giữ nguyên: {c['same']}.", ""]
    for item in diff.codes:
        if item.status == "same":
            continue
        lines.append(f"{item.code} [{STATUS_VI[item.status]}] {item.title}")
        for ch in item.changes:
            lines.append(f"    {ch.what}: {ch.before or '(không có)'} → {ch.after or '(không có)'}")
    return "\n".join(lines).rstrip() + "\n"


__all__ = ["diff_sets", "render_text", "SetsDiff", "CodeDiff", "Change"]
