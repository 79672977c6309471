"""score(): evidence → measures → rules (durable-rules) → points → scorecard.

Arithmetic stays here, in exact numbers: rates are ``Fraction``, points are
``Decimal``. durable-rules only says which branch of each rule held; the
"không phát sinh" policies, redistribution, bonus/penalty caps and the
sentences that explain each lost point are computed in Python from that.
"""

from __future__ import annotations

import datetime as dt
import itertools
import re
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction
from typing import Any, Literal

from scoring.core.unit import terms
from scoring.core.criteria import CriteriaSet, Node
from scoring.core.errors import InputError, Problem, ProblemList, did_you_mean
from scoring.core.evidence import (
    EvidenceFile,
    LeafEvidence,
    ValueError_,
    format_number,
    format_value,
    parse_rate,
    parse_value,
)
from scoring.core.durable import evaluator_for
from scoring.core.levels import parse_level
from scoring.core.rules import Branch, Bundle, CompiledRule, check_condition
from scoring.core.scorecard import Adjustment, EvidenceRef, NodeResult, Scorecard, Total

#: ``--set CODE=level:N`` (or ``mức N``): the N-th level as the rule lists them, for any kind of rule
_LEVEL_SET = re.compile(r"^\s*(?:level|mức|muc)\s*:?\s*(\d+)\s*$", re.IGNORECASE)

POINTS_QUANTUM = Decimal("0.01")
#: values of --set (and scenario cells) meaning "does not arise this year"
NOT_APPLICABLE_WORDS = {"na", "n/a", "không phát sinh", "khong phat sinh", "kps"}  # only redistributed points are ever rounded

POLICY_VI = {
    "award_max": "được điểm tối đa",
    "exclude": "không tính vào điểm tối đa",
    "redistribute": "điểm chuyển sang {to}",
    "zero": "không được điểm",
}


@dataclass
class Measure:
    """What the evidence says for one leaf, ready for the rules engine."""

    status: Literal["ok", "missing", "not_applicable"]
    fact: dict[str, Fraction] = field(default_factory=dict)
    measured: Any = None
    measured_text: str | None = None
    details: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)
    na_reason: str | None = None
    refs: list[EvidenceRef] = field(default_factory=list)
    dossiers: dict[str, tuple[str, ...]] = field(default_factory=dict)


Overrides = dict[str, dict[str | None, str]]  # code → {evidence name or None (primary): raw value}


def parse_set_option(text: str) -> tuple[str, str | None, str]:
    """``CODE=VALUE`` or ``CODE:evidence=VALUE`` → (code, evidence name or None, raw value)."""
    if "=" not in text:
        raise InputError(Problem("bad_set", f"--set '{text}' thiếu dấu '=' (has no '=')", file="--set",
                                 hint="viết --set 3.4.1=98% (hoặc MÃ:tên_số_liệu=GIÁ_TRỊ)"))
    left, _, raw = text.partition("=")
    code, _, name = left.strip().partition(":")
    if not raw.strip():
        raise InputError(Problem("bad_set", f"--set '{text}' chưa có giá trị (has no value)", file="--set",
                                 hint="viết --set 3.4.1=98%"))
    return code.strip(), (name.strip() or None), raw.strip()


def overrides_from(options: list[str] | None) -> Overrides:
    out: Overrides = {}
    for text in options or []:
        code, name, raw = parse_set_option(text)
        out.setdefault(code, {})[name] = raw
    return out


# ------------------------------------------------------------------ measuring


def _where(ev: EvidenceFile, leaf: LeafEvidence | None, code: str, name: str | None = None) -> dict[str, Any]:
    line = None
    if leaf is not None:
        line = leaf.value_lines.get(name, leaf.line) if name else leaf.line
    return {"file": ev.file, "line": line, "subject": code}


def _parse(rule: CompiledRule, name: str, raw: Any, where: dict[str, Any], problems: ProblemList) -> Any:
    spec = rule.rule.spec(name)
    try:
        if spec.type == "level":
            return parse_level(rule.rule, raw)
        return parse_value(spec.type, raw)
    except ValueError_ as exc:
        problems.add("bad_value", f"'{name}' ({spec.description}): {exc}", **where, hint=exc.hint)
        return None


def _value_ref(rule: CompiledRule, name: str, value: Any, ev: EvidenceFile, where: dict[str, Any]) -> EvidenceRef:
    spec = rule.rule.spec(name)
    if spec.type == "level":  # the level chosen, in the province's words (the description lists them all)
        return EvidenceRef(kind="value", name=name, text=f"Mức đạt được: mức {value} – {rule.rule.levels[value - 1].label}",
                           file=ev.file, line=where.get("line"))
    unit = f" {spec.unit}" if spec.unit and spec.type not in ("rate",) else ""
    return EvidenceRef(kind="value", name=name, text=f"{spec.description}: {format_value(spec.type, value)}{unit}",
                       file=ev.file, line=where.get("line"), cell=ev.cells.get(rule.rule.code, {}).get(name))


def measure_leaf(rule: CompiledRule, leaf: LeafEvidence | None, ev: EvidenceFile,
                 override: dict[str | None, str] | None, problems: ProblemList) -> Measure:
    """Read one leaf's evidence (and --set overrides) into a Measure; problems are collected."""
    m = _measure_leaf(rule, leaf, ev, override, problems)
    if leaf is not None and leaf.dossiers and not override:
        m.dossiers = dict(leaf.dossiers)
    return m


def _measure_leaf(rule: CompiledRule, leaf: LeafEvidence | None, ev: EvidenceFile,
                  override: dict[str | None, str] | None, problems: ProblemList) -> Measure:
    r = rule.rule
    code = r.code
    override = dict(override or {})
    values: dict[str, Any] = {}
    refs: list[EvidenceRef] = []
    declared = {e.name for e in r.evidence}
    if leaf is not None:
        for name, raw in leaf.values.items():
            where = _where(ev, leaf, code, name)
            if name not in declared:
                hint = did_you_mean(name, declared) or f"this rule reads: {', '.join(sorted(declared))}"
                if str(name)[:1].isdigit():
                    hint = "a comma inside {…} starts a new key: quote decimal-comma values, e.g. \"83,5%\""
                problems.add("unknown_evidence", f"mục '{code}' không có số liệu tên '{name}' ('{code}' has no evidence named '{name}')", **where, hint=hint)
                continue
            if raw is None or raw == "":
                continue
            parsed = _parse(rule, name, raw, where, problems)
            if parsed is not None:
                values[name] = parsed
                ref = _value_ref(rule, name, parsed, ev, where)
                if name in leaf.computed:
                    ref = ref.model_copy(update={"text": ref.text + " (tính từ tệp hồ sơ)"})
                refs.append(ref)
        for doc in leaf.documents:
            refs.append(EvidenceRef(kind="document", name=doc.number or "", text=doc.label(),
                                    file=ev.file, line=doc.line))

    set_where = {"file": "--set", "line": None, "subject": code}
    primary_raw = override.get(None)
    if primary_raw is not None and primary_raw.strip().lower() in NOT_APPLICABLE_WORDS:
        return Measure("not_applicable", na_reason="giá trị thử --set: không phát sinh", refs=refs,
                       measured_text="không phát sinh")
    level_match = _LEVEL_SET.match(primary_raw) if primary_raw is not None else None
    if level_match and r.kind != "level":
        return _measure_listed_level(rule, int(level_match.group(1)), refs, set_where, problems)
    rate_override: Fraction | None = None
    from_set: set[str] = set()
    for name, raw in override.items():
        if name is None and r.kind == "ratio":
            try:
                rate_override = parse_rate(raw)
            except ValueError_ as exc:
                problems.add("bad_value", f"--set {code}={raw}: {exc}", **set_where, hint=exc.hint)
            continue
        if name is None and r.kind == "deadline":
            problems.add("cannot_set", f"'{code}' được chấm theo ngày của từng văn bản; --set không thay bằng một số được "
                         f"('{code}' is scored from dated items; --set cannot give it one number)",
                         **set_where, hint=f"sửa ngày của từng mục ở '{code}' trong tệp tài liệu kiểm chứng, hoặc thử "
                              f"--set {code}=na (edit the dates in the evidence file)")
            continue
        reads = r.reads()
        if name is None and len(reads) > 1:  # all/any rules: which item CODE=VALUE means is not for parindex to guess
            items = ", ".join(f"{n} ({r.spec(n).description})" for n in reads)
            problems.add("ambiguous_set", f"'{code}' chấm theo {len(reads)} số liệu; --set {code}={raw} không nói số liệu nào "
                         f"('{code}' reads {len(reads)} items; say which one)", **set_where,
                         hint=f"ghi --set {code}:TÊN={raw} với TÊN là một trong: {items}; ví dụ --set {code}:{reads[0]}={raw}")
            continue
        target = name or r.primary
        if target not in declared:
            problems.add("unknown_evidence", f"--set: mục '{code}' không có số liệu tên '{target}' ('{code}' has no evidence named '{target}')", **set_where,
                         hint=did_you_mean(target, declared) or f"this rule reads: {', '.join(sorted(declared))}")
            continue
        parsed = _parse(rule, target, raw, set_where, problems)
        if parsed is not None:
            from_set.add(target)
            values[target] = parsed
            refs = [x for x in refs if x.name != target]
            shown = _value_ref(rule, target, parsed, ev, set_where).text
            refs.append(EvidenceRef(kind="value", name=target, text=f"{shown} (--set)"))

    if leaf is not None and leaf.not_applicable and not override:
        reason = leaf.justification or "đơn vị khai không phát sinh"
        return Measure("not_applicable", na_reason=reason, refs=refs, measured_text="không phát sinh")

    def missing(names: list[str]) -> Measure:
        specs = [r.spec(n) for n in names]
        return Measure("missing", missing=names, refs=refs,
                       details=[f"thiếu: {s.description}" for s in specs if s])

    kind = r.kind
    if kind == "ratio":
        if rate_override is not None:
            v = rate_override
            return Measure("ok", {"v": v}, v, format_value("rate", v), refs=refs,
                           details=[f"tỷ lệ nhập trực tiếp: {format_value('rate', v)}"])
        absent = [n for n in (r.numerator, r.denominator) if n not in values]
        if absent:
            return missing(absent)
        num, den = values[r.numerator], values[r.denominator]
        if num > den:
            problems.add("numerator_above_denominator",
                         f"tử số '{r.numerator}' = {num} lớn hơn mẫu số '{r.denominator}' = {den} "
                         f"('{r.numerator}' = {num} is more than '{r.denominator}' = {den})",
                         **(set_where if from_set & {r.numerator, r.denominator} else _where(ev, leaf, code, r.numerator)),
                         hint=f"«{r.spec(r.numerator).description}» cannot exceed «{r.spec(r.denominator).description}»")
            return missing([])
        if den == 0:
            return Measure("not_applicable", na_reason=f"{r.spec(r.denominator).description} bằng 0 (không phát sinh)",
                           refs=refs, measured_text="không phát sinh")
        v = Fraction(num, den)
        return Measure("ok", {"v": v}, v, f"{format_value('rate', v)} ({format_number(num)}/{format_number(den)})",
                       refs=refs)
    if kind == "level":
        name = r.value
        if name not in values:
            return missing([name])
        i = values[name]
        text = f"mức {i}: {r.levels[i - 1].label}"
        return Measure("ok", {"v": Fraction(i)}, i, text, refs=refs, details=[text])
    if kind in ("threshold", "count", "external", "boolean", "points"):
        name = r.value
        if name not in values:
            return missing([name])
        value = values[name]
        spec = r.spec(name)
        if kind in ("external", "points") and spec.type == "points" and value > rule.max_points:
            problems.add("points_above_max", f"'{name}' = {value} lớn hơn điểm tối đa {rule.max_points} của '{code}' "
                         f"('{name}' = {value} is more than the maximum {rule.max_points} of '{code}')",
                         **(set_where if name in from_set else _where(ev, leaf, code, name)),
                         hint="check the figure published by the province")
            return missing([])
        v = Fraction(int(value)) if isinstance(value, bool) else Fraction(value)
        return Measure("ok", {"v": v}, value, format_value(spec.type, value), refs=refs)
    if kind == "deadline":
        name = r.value
        if name not in values:
            return missing([name])
        given: dict[str, dt.date | None] = values[name]
        labels = [i.label for i in r.items]
        for label in given:
            if label not in labels:
                problems.add("unknown_item", f"'{code}' cần các mục {', '.join(labels)}; '{label}' không thuộc số đó "
                             f"('{code}' expects items {', '.join(labels)}; '{label}' is not one)",
                             **_where(ev, leaf, code, name), hint=did_you_mean(label, labels))
        delivered = late = 0
        details = []
        for item in r.items:
            when = given.get(item.label)
            if when is None:
                details.append(f"{item.label}: chưa có (hạn {item.due:%d/%m/%Y})")
                continue
            delivered += 1
            if when > item.due:
                late += 1
                details.append(f"{item.label}: {when:%d/%m/%Y}, trễ {(when - item.due).days} ngày so với hạn {item.due:%d/%m/%Y}")
        text = f"{delivered}/{len(r.items)} đúng và đủ" if not details else f"{delivered}/{len(r.items)} đã có, {late} trễ hạn"
        return Measure("ok", {"delivered": Fraction(delivered), "late": Fraction(late)},
                       {k: v for k, v in given.items()}, text, details=details, refs=refs)
    if kind in ("all", "any"):
        absent = [n for n in r.reads() if n not in values]
        if absent and (kind == "all" or not _any_check_holds(r, values)):
            return missing(absent)
        fact: dict[str, Fraction] = {}
        details = []
        shown = []
        for i, check in enumerate(r.checks):
            if check.evidence not in values or (check.value_from and check.value_from not in values):
                # an `any` already met by another check: a blank item is "not shown", never missing
                # evidence; its fact field gets a value that fails the check, so the met check decides
                fact[f"c{i}"] = _failing(check_condition(i, check))
                shown.append(f"{check.label}: (chưa khai)")
                continue
            x = values[check.evidence]
            ref = values[check.value_from] if check.value_from else check.value
            fact[f"c{i}"] = _check_fact(check, values)
            spec = r.spec(check.evidence)
            shown.append(f"{check.label}: {format_value(spec.type, x)}")
            if not check_condition(i, check).holds(fact):
                details.append(f"chưa đạt «{check.label}» (thực tế: {format_value(spec.type, x)}"
                               + (f", so với {format_value('date', ref)}" if isinstance(ref, dt.date) else "") + ")")
        return Measure("ok", fact, values.get(r.primary), "; ".join(shown), details=details, refs=refs)
    raise AssertionError(kind)  # pragma: no cover


def listed_levels(rule: CompiledRule) -> list[Branch]:
    """The outcomes of a rule in the order its scale lists them (the top one first): what
    ``--set CODE=level:N`` counts. Outcomes whose points are the measured value itself are left out."""
    return [b for b in rule.branches if b.points is not None and b.label != "điểm âm (không hợp lệ)"
            and b.label != "không có mức"]


def _stand_in(rule: CompiledRule, branch: Branch) -> dict[str, Fraction] | None:
    """A fact for which ``branch`` holds: one value per position among the thresholds, tried in turn."""
    positions: list[list[Fraction]] = []
    for field_name in rule.fields:
        ts = rule.thresholds(field_name)
        stand = ([Fraction(0), ts[0] / 2] if ts and ts[0] > 0 else []) + ([ts[0] - 1] if ts else [Fraction(0)])
        for lo, hi in zip(ts, ts[1:]):
            stand += [lo, (lo + hi) / 2]
        if ts:
            stand += [ts[-1], ts[-1] + 1]
        positions.append(sorted(stand, key=lambda x: (x < 0, -x if x < 0 else 0)))
    for combo in itertools.product(*positions):
        fact = dict(zip(rule.fields, combo))
        if branch.cond.holds(fact):
            return fact
    return None


def _measure_listed_level(rule: CompiledRule, n: int, refs: list[EvidenceRef], where: dict[str, Any],
                          problems: ProblemList) -> Measure:
    levels = listed_levels(rule)
    code = rule.code
    if not levels:
        problems.add("cannot_set", f"'{code}' chấm bằng số điểm nhập trực tiếp, không có mức để chọn "
                     f"('{code}' takes points, not a level)", **where,
                     hint=f"thử --set {code}=1,5 (số điểm từ 0 đến {format_number(Fraction(rule.max_points))})")
        return Measure("missing", refs=refs)
    if not 1 <= n <= len(levels):
        shown = "; ".join(f"{i}. {b.label} ({format_number(Fraction(b.points))} điểm)" for i, b in enumerate(levels, 1))
        problems.add("bad_value", f"--set {code}=level:{n}: '{code}' có {len(levels)} mức ({code} has "
                     f"{len(levels)} levels)", **where, hint=f"chọn N từ 1 đến {len(levels)}: {shown}")
        return Measure("missing", refs=refs)
    branch = levels[n - 1]
    fact = _stand_in(rule, branch)
    if fact is None:  # pragma: no cover - a branch that never holds is refused at load
        problems.add("cannot_set", f"mức {n} của '{code}' không đạt được với số liệu nào", **where)
        return Measure("missing", refs=refs)
    text = f"mức {n}: {branch.label}"
    return Measure("ok", fact, fact.get("v"), text, refs=refs + [EvidenceRef(kind="value", name="level",
                                                                                 text=f"{text} (--set)")],
                   details=[f"{text} (--set)"])


def _check_fact(check: Any, values: dict[str, Any]) -> Fraction:
    x = values[check.evidence]
    ref = values[check.value_from] if check.value_from else check.value
    if isinstance(x, dt.date):
        return Fraction((x - ref).days)
    if check.value_from is not None:
        return Fraction(x) - Fraction(ref)
    return Fraction(int(x)) if isinstance(x, bool) else Fraction(x)


def _any_check_holds(r: Any, values: dict[str, Any]) -> bool:
    """Whether some check of an `any` rule whose items are all given holds (one is enough)."""
    for i, check in enumerate(r.checks):
        if check.evidence in values and (not check.value_from or check.value_from in values):
            if check_condition(i, check).holds({f"c{i}": _check_fact(check, values)}):
                return True
    return False


def _failing(cmp: Any) -> Fraction:
    """A value for which ``cmp`` does not hold (the fact field of a check whose item is blank)."""
    if cmp.op == "ne":
        return cmp.value
    return cmp.value - 1 if cmp.op in ("ge", "gt") else cmp.value + 1


# ------------------------------------------------------------------ scoring


def _q(value: Decimal) -> Decimal:
    return value.quantize(POINTS_QUANTUM, rounding=ROUND_HALF_UP)


def norm(value: Decimal) -> Decimal:
    """Drop trailing zeros (12.0 → 12, 0.750 → 0.75) without changing the value."""
    return value.quantize(Decimal(1)) if value == value.to_integral_value() else value.normalize()


def _split(amount: Decimal, targets: list[Node]) -> dict[str, Decimal]:
    """Split points among targets in proportion to their maximum; shares add up exactly."""
    total = sum((t.max_points for t in targets), Decimal(0))
    shares: dict[str, Decimal] = {}
    left = amount
    for i, t in enumerate(targets):
        if i == len(targets) - 1:
            shares[t.code] = left
        else:
            share = _q(amount * t.max_points / total) if total else _q(amount / len(targets))
            shares[t.code] = share
            left -= share
    return shares


def effective_maxima(bundle: Bundle, statuses: dict[str, str]) -> dict[str, Decimal]:
    """Each leaf's maximum after the "không phát sinh" policies of the leaves that did not arise.

    ``exclude`` takes the leaf's points out of every maximum; ``redistribute`` moves them to the
    named siblings in proportion to their maxima (shares rounded to 0.01, adding up exactly). A
    sibling that is itself excluded or redistributed receives nothing; if no sibling can receive
    the points they are left out, like ``exclude``.
    """
    index = bundle.criteria.index()
    eff = {code: index[code].max_points for code in bundle.rules}
    gone = {code for code, status in statuses.items() if status == "not_applicable"
            and bundle.rules[code].rule.not_applicable.policy in ("exclude", "redistribute")}
    for code in gone:
        eff[code] = Decimal(0)
    for code in gone:
        na = bundle.rules[code].rule.not_applicable
        receivers = [index[t] for t in na.to if t not in gone]
        if na.policy == "redistribute" and receivers:
            for target, share in _split(index[code].max_points, receivers).items():
                eff[target] += share
    return eff


def _level(code: str) -> Literal["field", "criterion", "sub_criterion"]:
    """By depth: "3" is a field, "3.4" a criterion (scored directly when it has no children), "3.4.1" below."""
    return ("field", "criterion", "sub_criterion")[min(code.count("."), 2)]


def score(bundle: Bundle, ev: EvidenceFile, overrides: Overrides | None = None, strict: bool = True,
          evaluator: Any = None, base: Scorecard | None = None) -> Scorecard:
    """Score one department's evidence. Raises InputError listing every evidence problem.

    ``base``: this evidence's own scorecard (same bundle, no overrides) when the caller has it, as a
    what-if does: then only the overridden leaves, and leaves whose maximum the "không phát sinh"
    policies move, are measured and evaluated again; every other leaf's result is the base's. The
    scorecard is the same as without ``base`` (a property test checks it).
    """
    cset: CriteriaSet = bundle.criteria
    index = cset.index()
    problems = ProblemList()
    warnings: list[str] = list(ev.warnings)
    overrides = overrides or {}
    if ev.criteria_set != cset.id:
        problems.add("wrong_criteria_set", f"tài liệu kiểm chứng dành cho bộ tiêu chí '{ev.criteria_set}', nhưng đang dùng '{cset.id}' "
                     f"(evidence is for criteria set '{ev.criteria_set}', but '{cset.id}' is loaded)",
                     file=ev.file, line=None, hint=f"set criteria_set: {cset.id} or pass --criteria-set {ev.criteria_set}")
    if ev.year != cset.year:
        warnings.append(f"Tài liệu kiểm chứng của năm {ev.year} nhưng bộ tiêu chí '{cset.id}' dành cho năm {cset.year}.")
    for code in ev.evidence:
        if code not in bundle.rules:
            msg = (f"'{code}' có tiêu chí thành phần; nhập số liệu vào từng mục con ('{code}' has sub-criteria; "
                   f"give evidence under them)" if code in index
                   else f"không có tiêu chí thành phần '{code}' trong bộ tiêu chí '{cset.id}' "
                        f"(no sub-criterion '{code}' in criteria set '{cset.id}')")
            hint = did_you_mean(code, bundle.rules) if code not in index else ", ".join(c.code for c in index[code].children)
            if strict:
                problems.add("unknown_code", msg, file=ev.file, line=ev.evidence[code].line, subject=code, hint=hint)
            else:
                warnings.append(f"{code}: {msg}")
    for code in overrides:
        if code not in bundle.rules:
            problems.add("unknown_code", f"--set: không có tiêu chí thành phần '{code}' (no sub-criterion '{code}')", file="--set", subject=code,
                         hint=did_you_mean(code, bundle.rules) or "use a leaf code such as 3.4.1")

    reused = _reusable(bundle, ev, overrides, strict, base)
    measures: dict[str, Measure] = {}
    for code, rule in bundle.rules.items():
        if code in reused:
            continue
        leaf_problems = ProblemList()
        measures[code] = measure_leaf(rule, ev.evidence.get(code), ev, overrides.get(code), leaf_problems)
        for p in leaf_problems.problems:
            if p.code == "unknown_evidence" and not strict and p.file != "--set":
                warnings.append(f"{code}: {p.message}")
            else:
                problems.problems.append(p)

    claims: dict[str, list[Adjustment]] = {"bonus": [], "penalty": []}
    claimed: dict[str, Decimal] = {"bonus": Decimal(0), "penalty": Decimal(0)}
    for kind in ("bonus", "penalty"):
        adj = getattr(cset.adjustments, kind)
        catalogue = {i.id: i for i in adj.items} if adj else {}
        for claim in getattr(ev, kind):
            item = catalogue.get(claim.id)
            if item is None:
                problems.add("unknown_adjustment", f"mục {'điểm thưởng' if kind == 'bonus' else 'điểm phạt'} '{claim.id}' không có trong bộ tiêu chí "
                             f"'{cset.id}' ({kind} item '{claim.id}' is not in criteria set '{cset.id}')",
                             file=ev.file, line=claim.line, subject=kind,
                             hint=did_you_mean(claim.id, catalogue) or (f"known: {', '.join(catalogue)}" if catalogue else f"this set has no {kind}"))
                continue
            pts = item.points * claim.count
            claims[kind].append(Adjustment(id=item.id, title=item.title, count=claim.count, points=pts))
            claimed[kind] += pts
    problems.raise_if_any(InputError)

    ok = {code: m.fact for code, m in measures.items() if m.status == "ok"}
    fired: dict[str, Branch] = (evaluator or evaluator_for(bundle)).evaluate(ok)

    # effective maxima after "không phát sinh" policies
    eff_max = effective_maxima(bundle, {**{code: _status_of(n) for code, n in reused.items()},
                                        **{code: m.status for code, m in measures.items()}})
    moved = [code for code, n in reused.items() if n.max_points != norm(eff_max[code])]
    if moved:  # a tried value changed a "không phát sinh" status: these leaves' maxima moved too
        return score(bundle, ev, overrides, strict, evaluator)

    unit = terms(ev.unit_kind, ev.department)
    results: dict[str, NodeResult] = {}
    for code, rule in bundle.rules.items():
        if code in reused:
            results[code] = reused[code]
            continue
        results[code] = _leaf_result(cset, index[code], rule, measures[code], fired.get(code), eff_max[code],
                                     unit.noun)
        if ev.cells.get(code):  # evidence read from a workbook: say where, in its terms
            results[code] = results[code].model_copy(update={"cells": ev.cells[code]})

    def visit(node: Node) -> NodeResult:
        if node.is_leaf:
            return results[node.code]
        kids = [visit(c) for c in node.children]
        pts = norm(sum((k.points for k in kids), Decimal(0)))
        mx = norm(sum((k.max_points for k in kids), Decimal(0)))
        res = NodeResult(code=node.code, title=node.title, level=_level(node.code), is_leaf=False,
                         points=pts, max_points=mx, nominal_max_points=node.max_points, lost=mx - pts,
                         percent=_pct(pts, mx), points_status=cset.status_of(node),
                         external=cset.is_external(node.code), source=node.source)
        results[node.code] = res
        return res

    fields = [visit(f) for f in cset.fields]
    fields_points = norm(sum((f.points for f in fields), Decimal(0)))
    fields_max = norm(sum((f.max_points for f in fields), Decimal(0)))
    bonus = min(claimed["bonus"], cset.adjustments.bonus.max_points) if cset.adjustments.bonus else Decimal(0)
    penalty = min(claimed["penalty"], cset.adjustments.penalty.max_points) if cset.adjustments.penalty else Decimal(0)
    total_points = norm(fields_points + bonus - penalty)
    leaves = [results[c] for c in bundle.rules]
    self_leaves = [n for n in leaves if not n.external]
    ext_missing = any(n.outcome == "missing_evidence" for n in leaves if n.external)
    if ext_missing:
        warnings.append("Chưa có điểm điều tra xã hội học (lĩnh vực 8) do tỉnh cung cấp: tổng điểm chưa đầy đủ; "
                        "tổng điểm, chỉ số và nhóm xếp loại là tạm tính.")
    if claimed["bonus"] > bonus:
        warnings.append(f"Điểm thưởng đề nghị {_fmt_pts(claimed['bonus'])} vượt mức tối đa {_fmt_pts(bonus)}; "
                        f"chỉ tính {_fmt_pts(bonus)}.")
    if claimed["penalty"] > penalty:
        warnings.append(f"Điểm phạt {_fmt_pts(claimed['penalty'])} vượt mức trừ tối đa {_fmt_pts(penalty)}; "
                        f"chỉ trừ {_fmt_pts(penalty)}.")
    percent = _pct(total_points, fields_max)
    exact_percent = total_points * 100 / fields_max if fields_max else None  # bands on the unrounded index
    total = Total(points=total_points, max_points=fields_max, percent=percent, fields_points=fields_points,
                  bonus=bonus, penalty=penalty, bonus_claimed=claimed["bonus"], penalty_claimed=claimed["penalty"],
                  self_assessed_points=norm(sum((n.points for n in self_leaves), Decimal(0))),
                  self_assessed_max_points=norm(sum((n.max_points for n in self_leaves), Decimal(0))),
                  external_missing=ext_missing, band=cset.band_of(exact_percent), provisional=ext_missing)
    shown_overrides = tuple(f"{c}{':' + n if n else ''}={v}" for c, d in overrides.items() for n, v in d.items())
    return Scorecard(criteria_set=cset.id, criteria_title=cset.title, points_status=cset.points_status,
                     department=ev.department, year=ev.year, evidence_file=ev.file,
                     constructed_example=ev.constructed_example,
                     nodes=tuple(results[n.code] for n in cset.walk()), total=total,
                     bonus_items=tuple(claims["bonus"]), penalty_items=tuple(claims["penalty"]),
                     warnings=tuple(warnings), overrides=shown_overrides, unit_kind=unit.kind)


def _reusable(bundle: Bundle, ev: EvidenceFile, overrides: Overrides, strict: bool,
              base: Scorecard | None) -> dict[str, NodeResult]:
    """The leaves of ``base`` that scoring again with ``overrides`` would give unchanged (see ``score``)."""
    if base is None or not strict or base.overrides or base.criteria_set != bundle.criteria.id \
            or base.evidence_file != ev.file:
        return {}
    leaves = {n.code: n for n in base.nodes if n.is_leaf}
    if leaves.keys() != bundle.rules.keys():
        return {}
    return {code: n for code, n in leaves.items() if code not in overrides}


def _status_of(n: NodeResult) -> str:
    """What ``effective_maxima`` needs of a scored leaf: did it not arise ("không phát sinh")?"""
    return "not_applicable" if n.not_applicable_policy is not None else "ok"


def _pct(points: Decimal, max_points: Decimal) -> Decimal | None:
    if max_points == 0:
        return None
    return _q(points * 100 / max_points)


def _fmt_pts(value: Decimal) -> str:
    return format_number(Fraction(value))


def _guidance(r: Any, m: Measure, lost: Decimal, values: dict[str, str]) -> str | None:
    if lost <= 0:
        return None
    text = r.guidance.format(**values)
    if m.status == "missing":
        need = "; ".join(d.removeprefix("thiếu: ") for d in m.details) or "số liệu hợp lệ"
        if r.kind == "external" and m.missing:
            return f"Nhập điểm khi tỉnh công bố kết quả điều tra xã hội học ({need}). {text}"
        return f"Bổ sung số liệu và tài liệu kiểm chứng ({need}). {text}"
    return text


def _leaf_result(cset: CriteriaSet, node: Node, rule: CompiledRule, m: Measure, branch: Branch | None,
                 eff_max: Decimal, unit: str = "Sở") -> NodeResult:
    r = rule.rule
    na = r.not_applicable
    band = None
    guidance_values: dict[str, str] = {"unit": unit, "title": node.title, "code": node.code, "target": rule.target,
                                       "max_points": _fmt_pts(eff_max), "measured": m.measured_text or "",
                                       "points": "", "lost": "", "band": "", "details": "; ".join(m.details)}
    if m.status == "missing":
        points = Decimal(0)
        outcome = "missing_evidence"
        need = "; ".join(m.details) or "số liệu không dùng được"
        reason = f"Thiếu số liệu/tài liệu kiểm chứng ({need}). Mất {_fmt_pts(eff_max)} điểm cho đến khi bổ sung."
        if cset.is_external(node.code) and m.missing:
            reason = (f"Chưa có kết quả điều tra xã hội học do tỉnh công bố ({need}): tạm tính 0/{_fmt_pts(eff_max)} "
                      "điểm; đơn vị không tự bổ sung được.")
    elif m.status == "not_applicable":
        outcome = "not_applicable"
        if na.policy == "award_max":
            points = eff_max
        else:
            points = Decimal(0)
        policy = POLICY_VI[na.policy].format(to=", ".join(na.to))
        reason = f"Không phát sinh ({m.na_reason}): {policy}."
        if na.policy == "zero":
            reason += f" Mất {_fmt_pts(eff_max)} điểm."
    else:
        assert branch is not None
        band = branch.label
        raw = branch.points if branch.points is not None else Decimal(m.measured)  # external: given points
        nominal = node.max_points
        points = raw if eff_max == nominal else (_q(raw * eff_max / nominal) if nominal else Decimal(0))
        if points == eff_max:
            outcome = "met"
        elif points == 0:
            outcome = "not_met"
        else:
            outcome = "partial"
        lost = eff_max - points
        values = {"unit": unit, "title": node.title, "code": node.code, "measured": m.measured_text or "", "target": rule.target,
                  "points": _fmt_pts(points), "max_points": _fmt_pts(eff_max), "lost": _fmt_pts(lost),
                  "band": band, "details": "; ".join(m.details) or (m.measured_text or "")}
        guidance_values = values
        if lost > 0:
            reason = r.explain.format(**values)
        else:
            reason = f"Đạt: {m.measured_text} (mục tiêu {rule.target})."
        if eff_max != nominal:
            reason += f" Điểm tối đa điều chỉnh {_fmt_pts(nominal)} → {_fmt_pts(eff_max)} do chuyển điểm từ tiêu chí không phát sinh."
    points, eff_max = norm(points), norm(eff_max)
    lost = norm(eff_max - points)
    return NodeResult(
        code=node.code, title=node.title, level=_level(node.code), is_leaf=True, points=points,
        max_points=eff_max, nominal_max_points=node.max_points, lost=lost, percent=_pct(points, eff_max),
        points_status=cset.status_of(node), external=cset.is_external(node.code), kind=r.kind, outcome=outcome,
        measured=m.measured if m.status == "ok" else None, measured_text=m.measured_text, target=rule.target,
        band=band, branch=branch.id if branch else None, reason=reason,
        guidance=_guidance(r, m, lost, guidance_values), details=tuple(m.details), evidence=tuple(m.refs),
        missing=tuple(m.missing), not_applicable_policy=na.policy if m.status == "not_applicable" else None,
        source=r.source or node.source, dossiers=m.dossiers,
        basis_full=r.basis.full_points if r.basis else None, basis_lower=r.basis.lower_bands if r.basis else None,
        basis_tag=r.basis.tag() if r.basis else None, basis_text=r.basis.text() if r.basis else None,
    )
