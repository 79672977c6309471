"""Rule models (a discriminated union on ``kind``), load-time checks, and compilation.

Each scored leaf of a criteria set has exactly one rule. A rule declares the
evidence it reads, how points are awarded, its "không phát sinh" policy, and the
Vietnamese sentences used to explain a loss. Loading compiles every rule into
*branches*: mutually exclusive conditions over a small numeric fact, one of
which always holds (a catch-all included). Both evaluators (durable-rules, and
the vectorised batch path) run these same branches.
"""

from __future__ import annotations

import string
from dataclasses import dataclass, field
from decimal import Decimal
from fractions import Fraction
from pathlib import Path
from typing import Annotated, Any, Literal, Union

import datetime as dt

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError, field_validator, model_validator

from scoring.core.branches import And, Branch, Cmp, CompiledRule, Cond, Or
from scoring.core.criteria import CriteriaSet, load_criteria
from scoring.core.levels import level_key
from scoring.core.errors import DefinitionError, Problem, ProblemList, did_you_mean
from scoring.core.numbers import decimal_field
from scoring.core.evidence import ValueType, format_number, format_percent, to_fraction
from scoring.core.yamlio import LineDict, LineList, YamlFloat, load_yaml, pydantic_problems

TEMPLATE_FIELDS = {"title", "code", "measured", "target", "points", "max_points", "lost", "band", "details", "unit"}
MAX_BRANCHES = 32  # durable-rules fails when one fact matches more than 64 conditions
MAX_CHECKS = 40  # durable-rules refuses facts with more than 255 properties


_dec = decimal_field  # points: by their YAML text, bounded


def _frac(value: Any) -> Any:
    if isinstance(value, bool):
        raise ValueError("expected a number, not true/false")
    if isinstance(value, (int, float, Decimal, str)):
        return to_fraction(value)
    return value


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", arbitrary_types_allowed=True)


class EvidenceSpec(_Model):
    """One evidence item a rule reads."""

    name: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    type: ValueType
    unit: str | None = None
    description: str
    # indicator computed from the one-stop dossier export that fills this item,
    # e.g. "on_time.numerator", "on_time.denominator", "digitisation.rate" (see docs/dossiers.md)
    computed_from: str | None = Field(default=None, pattern=r"^[a-z_]+\.(numerator|denominator|rate)$")


class BandSpec(_Model):
    """One band of a scale, with exactly one bound.

    ``min`` (at least, "từ 98% trở lên") or ``above`` (strictly more, "trên 99%") for a scale where more is
    better, listed from the highest bound down; ``max`` (at most, "không quá 1%") or ``below`` (strictly
    less, "dưới 1%") for a scale where less is better, listed from the lowest bound up. A band holds when
    its bound holds and the band listed before it does not.
    """

    min: Fraction | None = None
    above: Fraction | None = None
    max: Fraction | None = None
    below: Fraction | None = None
    points: Decimal = Field(ge=0)
    label: str | None = None
    _m = field_validator("min", "above", "max", "below", mode="before")(
        lambda cls, v: None if v is None else _frac(v))
    _p = field_validator("points", mode="before")(lambda cls, v: _dec(v))

    @model_validator(mode="after")
    def _one_bound(self) -> BandSpec:
        given = [k for k in ("min", "above", "max", "below") if getattr(self, k) is not None]
        if len(given) != 1:
            raise ValueError("a band has exactly one of 'min', 'above', 'max', 'below'"
                             + (f" (found {', '.join(given)})" if given else ""))
        return self

    @property
    def bound_key(self) -> str:
        return next(k for k in ("min", "above", "max", "below") if getattr(self, k) is not None)

    @property
    def bound(self) -> Fraction:
        return getattr(self, self.bound_key)

    @property
    def upward(self) -> bool:
        """More is better (``min`` / ``above``)."""
        return self.bound_key in ("min", "above")

    def meeting_value(self, whole: bool = False) -> Fraction:
        """A value inside this band's bound (the bound itself unless the bound is strict)."""
        step = Fraction(1) if whole else Fraction(1, 10000)
        return {"min": self.bound, "max": self.bound, "above": self.bound + step,
                "below": max(self.bound - step, Fraction(0))}[self.bound_key]

    def cond(self) -> Cmp:
        return Cmp("v", {"min": "ge", "above": "gt", "max": "le", "below": "lt"}[self.bound_key], self.bound)


class Check(_Model):
    """One condition inside an ``all`` / ``any`` rule."""

    evidence: str
    op: Literal["ge", "gt", "le", "lt", "eq", "ne", "on_or_before", "on_or_after"]
    value: bool | int | Fraction | dt.date | None = None
    value_from: str | None = None  # compare with another evidence item instead of a constant
    label: str  # Vietnamese, e.g. "Tổ chức ít nhất 01 buổi tọa đàm"

    @field_validator("value", mode="before")
    @classmethod
    def _value(cls, v: Any) -> Any:
        if isinstance(v, (bool, dt.date)) or v is None:
            return v
        return to_fraction(v)

    @model_validator(mode="after")
    def _one_reference(self) -> Check:
        if (self.value is None) == (self.value_from is None):
            raise ValueError("give exactly one of 'value' or 'value_from'")
        return self


class NotApplicable(_Model):
    """What happens when the sub-criterion does not arise ("không phát sinh")."""

    policy: Literal["award_max", "exclude", "redistribute", "zero"]
    to: tuple[str, ...] = ()  # siblings receiving the points, for "redistribute"
    note: str | None = None

    @model_validator(mode="after")
    def _targets(self) -> NotApplicable:
        if self.policy == "redistribute" and not self.to:
            raise ValueError("policy 'redistribute' needs 'to: [sibling codes]'")
        if self.policy != "redistribute" and self.to:
            raise ValueError("'to' is only used with policy 'redistribute'")
        return self


class DeadlineItem(_Model):
    label: str
    due: dt.date


BASIS_VI = {"seed": "mục tiêu trong kế hoạch của đơn vị (seed)", "decision": "quyết định của tỉnh",
            "illustrative": "minh họa của parindex", "none": "không có (được hoặc không được điểm)"}
BASIS_TAG = {"seed": "KH", "decision": "QĐ", "illustrative": "MH"}


class Basis(_Model):
    """Where a rule's numbers come from: the full-points threshold, and the lower bands (partial points)."""

    full_points: Literal["seed", "decision", "illustrative"]
    lower_bands: Literal["seed", "decision", "illustrative", "none"]

    def tag(self) -> str:
        """Short form shown beside the points: "KH/MH" = threshold from the plan, lower bands illustrative."""
        head = BASIS_TAG[self.full_points]
        return head if self.lower_bands == "none" else f"{head}/{BASIS_TAG[self.lower_bands]}"

    def text(self) -> str:
        return (f"Ngưỡng điểm tối đa: {BASIS_VI[self.full_points]}; các mức thấp hơn: {BASIS_VI[self.lower_bands]}.")


BASIS_LEGEND = ("Căn cứ ngưỡng điểm (ghi cạnh điểm): KH = mục tiêu trong kế hoạch của đơn vị (seed); QĐ = quyết định "
                "của tỉnh; MH = minh họa của parindex; dạng \"KH/MH\": ngưỡng điểm tối đa theo kế hoạch, các mức thấp hơn "
                "minh họa.")


class _RuleBase(_Model):
    code: str
    evidence: tuple[EvidenceSpec, ...] = Field(min_length=1)
    not_applicable: NotApplicable
    explain: str  # Vietnamese template, placeholders from TEMPLATE_FIELDS
    guidance: str  # Vietnamese: what to do to win the points back
    target: str | None = None  # Vietnamese target text; derived from the rule when absent
    source: str | None = None
    basis: Basis | None = None  # where the full-points threshold and the lower bands come from
    line: int | None = None  # where the rule starts in its file

    @field_validator("code", mode="before")
    @classmethod
    def _code(cls, value: Any) -> Any:
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            raw = getattr(value, "raw", value)
            raise ValueError(f"code {raw} was read as a number; write it in quotes: \"{raw}\"")
        return value

    def spec(self, name: str) -> EvidenceSpec | None:
        return next((e for e in self.evidence if e.name == name), None)

    def reads(self) -> list[str]:
        """Evidence names the rule's logic refers to."""
        raise NotImplementedError

    @property
    def primary(self) -> str:
        return self.reads()[0]


class _BandsMixin(_Model):
    bands: tuple[BandSpec, ...] = Field(min_length=1)
    else_points: Decimal = Decimal(0)
    else_label: str | None = None  # the lowest level in the province's words, e.g. "Dưới 90%"
    _e = field_validator("else_points", mode="before")(lambda cls, v: _dec(v))


class ThresholdRule(_RuleBase, _BandsMixin):
    """Bands on one measured value (a rate, a number, a score)."""

    kind: Literal["threshold"]
    value: str

    def reads(self) -> list[str]:
        return [self.value]


class RatioRule(_RuleBase, _BandsMixin):
    """Bands on numerator ÷ denominator, computed exactly from counts."""

    kind: Literal["ratio"]
    numerator: str
    denominator: str

    def reads(self) -> list[str]:
        return [self.numerator, self.denominator]


class CountRule(_RuleBase, _BandsMixin):
    """At-least-N counts (≥ 3 initiatives), with lower bands if the set has them."""

    kind: Literal["count"]
    value: str

    def reads(self) -> list[str]:
        return [self.value]


class BooleanRule(_RuleBase):
    """A yes/no fact; ``expect`` is the answer that earns the points."""

    kind: Literal["boolean"]
    value: str
    expect: bool = True
    points: Decimal | None = None  # default: the leaf's max_points
    yes_label: str | None = None  # the earning answer in the province's words, e.g. "Không có sai phạm"
    no_label: str | None = None
    else_points: Decimal = Decimal(0)
    _p = field_validator("points", "else_points", mode="before")(lambda cls, v: _dec(v))

    def reads(self) -> list[str]:
        return [self.value]


class DeadlineRule(_RuleBase):
    """Dated items (a plan, each periodic report) due by a date."""

    kind: Literal["deadline"]
    value: str  # evidence of type dated_items: label → date delivered (empty if not)
    items: tuple[DeadlineItem, ...] = Field(min_length=1)
    on_time_points: Decimal | None = None  # default: max_points
    late_points: Decimal = Decimal(0)
    missing_points: Decimal = Decimal(0)
    _p = field_validator("on_time_points", "late_points", "missing_points", mode="before")(
        lambda cls, v: _dec(v))

    def reads(self) -> list[str]:
        return [self.value]


class ExternalRule(_RuleBase):
    """Points given from outside (survey), or an external score mapped by bands (QĐ 766)."""

    kind: Literal["external"]
    value: str
    bands: tuple[BandSpec, ...] = ()
    else_points: Decimal = Decimal(0)
    _e = field_validator("else_points", mode="before")(lambda cls, v: _dec(v))

    def reads(self) -> list[str]:
        return [self.value]


class LevelSpec(_Model):
    """One level of a "choose a level" rule, in the province's words."""

    label: str
    points: Decimal = Field(ge=0)
    source: str | None = None  # where the level is written (table row, guidance sentence)
    _p = field_validator("points", mode="before")(lambda cls, v: _dec(v))


class LevelRule(_RuleBase):
    """The levels of a scale as written, each with its points; the evidence names the level reached.

    The evidence item (type ``level``) holds the level's number counted from 1 as listed, or its text.
    """

    kind: Literal["level"]
    value: str
    levels: tuple[LevelSpec, ...] = Field(min_length=1)

    def reads(self) -> list[str]:
        return [self.value]


class PointsRule(_RuleBase):
    """Points entered directly (0 to the maximum), with the documents that justify them."""

    kind: Literal["points"]
    value: str

    def reads(self) -> list[str]:
        return [self.value]


class _ChecksRule(_RuleBase):
    checks: tuple[Check, ...] = Field(min_length=1, max_length=MAX_CHECKS)
    points: Decimal | None = None
    else_points: Decimal = Decimal(0)
    _p = field_validator("points", "else_points", mode="before")(lambda cls, v: _dec(v))

    def reads(self) -> list[str]:
        names: list[str] = []
        for c in self.checks:
            for n in (c.evidence, c.value_from):
                if n and n not in names:
                    names.append(n)
        return names


class AllRule(_ChecksRule):
    """Points when every check holds."""

    kind: Literal["all"]


class AnyRule(_ChecksRule):
    """Points when at least one check holds."""

    kind: Literal["any"]


Rule = Annotated[
    Union[ThresholdRule, RatioRule, CountRule, BooleanRule, DeadlineRule, ExternalRule, AllRule, AnyRule,
          LevelRule, PointsRule],
    Field(discriminator="kind"),
]
RULE_KINDS = ("threshold", "ratio", "count", "boolean", "deadline", "external", "all", "any", "level", "points")


class RulesFile(_Model):
    criteria_set: str
    field: str | None = None
    rules: tuple[Rule, ...]


@dataclass
class Bundle:
    """A criteria set with its compiled rules: what scoring needs, checked at load."""

    criteria: CriteriaSet
    rules: dict[str, CompiledRule]
    files: list[str] = field(default_factory=list)
    _evaluator: Any = None  # the durable-rules evaluator, built once by scoring.core.durable.evaluator_for

    def close(self) -> None:
        if self._evaluator is not None:
            self._evaluator.close()
            self._evaluator = None


# ------------------------------------------------------------------ compilation


def _is_rate(rule: Any) -> bool:
    if rule.kind == "ratio":
        return True
    spec = rule.spec(getattr(rule, "value", "")) if hasattr(rule, "value") else None
    return bool(spec and spec.type == "rate")


def _show(rule: Any, x: Fraction) -> str:
    return format_percent(x) if _is_rate(rule) else format_number(x)


def _at_least(rule: Any, x: Fraction) -> str:
    if _is_rate(rule) and x == 1:
        return "đạt 100%"
    return f"từ {_show(rule, x)} trở lên"


def _bound_text(rule: Any, band: BandSpec) -> str:
    x = band.bound
    return {"min": _at_least(rule, x), "above": f"trên {_show(rule, x)}",
            "max": f"từ {_show(rule, x)} trở xuống", "below": f"dưới {_show(rule, x)}"}[band.bound_key]


def _between_text(rule: Any, band: BandSpec, before: BandSpec) -> str:
    """The words for "this band's bound holds and the one listed before does not"."""
    if band.upward:  # lower bound from this band, upper from the one before
        lo = f"từ {_show(rule, band.bound)}" if band.bound_key == "min" else f"trên {_show(rule, band.bound)}"
        hi = f"dưới {_show(rule, before.bound)}" if before.bound_key == "min" else _show(rule, before.bound)
    else:  # upper bound from this band, lower from the one before
        lo = f"trên {_show(rule, before.bound)}" if before.bound_key == "max" else f"từ {_show(rule, before.bound)}"
        hi = _show(rule, band.bound) if band.bound_key == "max" else f"dưới {_show(rule, band.bound)}"
    return f"{lo} đến {hi}"


def _band_branches(rule: Any, bands: tuple[BandSpec, ...], else_points: Decimal) -> list[Branch]:
    out: list[Branch] = []
    for i, band in enumerate(bands):
        if i == 0:
            cond: Cond = band.cond()
            label = band.label or _bound_text(rule, band)
        else:
            cond = And((band.cond(), bands[i - 1].cond().negate()))
            label = band.label or _between_text(rule, band, bands[i - 1])
        out.append(Branch(f"b{i}", cond, band.points, label, top=(i == 0)))
    last = bands[-1]
    neg = last.cond().negate()
    else_label = getattr(rule, "else_label", None) or {
        "ge": f"dưới {_show(rule, last.bound)}", "gt": f"từ {_show(rule, last.bound)} trở xuống",
        "le": f"trên {_show(rule, last.bound)}", "lt": f"từ {_show(rule, last.bound)} trở lên"}[last.cond().op]
    out.append(Branch("else", neg, else_points, else_label))
    return out


def check_condition(i: int, check: Check) -> Cmp:
    field_name = f"c{i}"
    if check.op in ("on_or_before", "on_or_after"):
        return Cmp(field_name, "le" if check.op == "on_or_before" else "ge", Fraction(0))
    if check.value_from is not None:
        return Cmp(field_name, check.op, Fraction(0))  # the fact holds the difference
    value = check.value
    if isinstance(value, bool):
        value = Fraction(int(value))
    return Cmp(field_name, check.op, Fraction(value))  # type: ignore[arg-type]


def compile_rule(rule: Any, max_points: Decimal) -> CompiledRule:
    kind = rule.kind
    if kind in ("threshold", "ratio", "count") or (kind == "external" and rule.bands):
        branches = _band_branches(rule, rule.bands, rule.else_points)
        fields: tuple[str, ...] = ("v",)
        target = rule.target or rule.bands[0].label or _bound_text(rule, rule.bands[0])
    elif kind == "external":
        branches = [Branch("given", Cmp("v", "ge", Fraction(0)), None, "điểm do tỉnh cung cấp", top=False),
                    # never reached (negative points are refused when read) but keeps the rule total
                    Branch("else", Cmp("v", "lt", Fraction(0)), Decimal(0), "điểm âm (không hợp lệ)")]
        fields = ("v",)
        target = rule.target or f"{max_points} điểm"
    elif kind == "boolean":
        want = Fraction(int(rule.expect))
        pts = rule.points if rule.points is not None else max_points
        yes = rule.yes_label or ("có" if rule.expect else "không")
        branches = [Branch("yes", Cmp("v", "eq", want), pts, yes, top=True),
                    Branch("else", Cmp("v", "ne", want), rule.else_points,
                           rule.no_label or ("không" if rule.expect else "có"))]
        fields = ("v",)
        target = rule.target or yes
    elif kind == "level":
        # the fact is the level's number (1 … n); each level covers [i, i + 1) so that the
        # branches cover every possible fact (durable.covers_every_fact proves it at load)
        n = len(rule.levels)
        branches = []
        for i, lv in enumerate(rule.levels, 1):
            parts = [Cmp("v", "ge", Fraction(i if n > 1 else 0))] if i > 1 or n == 1 else []
            parts += [Cmp("v", "lt", Fraction(i + 1))] if i < n else []
            cond: Cond = parts[0] if len(parts) == 1 else And(tuple(parts))
            branches.append(Branch(f"l{i}", cond, lv.points, lv.label, top=lv.points == max_points))
        if n == 1:  # keep the rule total for impossible facts below 0
            branches.append(Branch("else", Cmp("v", "lt", Fraction(0)), Decimal(0), "không có mức"))
        fields = ("v",)
        best = max(rule.levels, key=lambda lv: lv.points)
        target = rule.target or best.label
    elif kind == "points":
        branches = [Branch("given", Cmp("v", "ge", Fraction(0)), None, "điểm đơn vị tự chấm", top=False),
                    # never reached (negative points are refused when read) but keeps the rule total
                    Branch("else", Cmp("v", "lt", Fraction(0)), Decimal(0), "điểm âm (không hợp lệ)")]
        fields = ("v",)
        target = rule.target or f"{format_number(Fraction(max_points))} điểm, có tài liệu kiểm chứng"
    elif kind == "deadline":
        n = Fraction(len(rule.items))
        on_time = rule.on_time_points if rule.on_time_points is not None else max_points
        done = Cmp("delivered", "ge", n)
        branches = [Branch("on_time", And((done, Cmp("late", "le", Fraction(0)))), on_time,
                           "đủ và đúng hạn", top=True),
                    Branch("late", And((done, Cmp("late", "gt", Fraction(0)))), rule.late_points,
                           "đủ nhưng có mục trễ hạn"),
                    Branch("missing", Cmp("delivered", "lt", n), rule.missing_points, "thiếu mục")]
        fields = ("delivered", "late")
        target = rule.target or f"đủ {len(rule.items)} mục, mỗi mục đúng hạn"
    elif kind in ("all", "any"):
        parts = tuple(check_condition(i, c) for i, c in enumerate(rule.checks))
        pts = rule.points if rule.points is not None else max_points
        if kind == "all":
            yes: Cond = And(parts) if len(parts) > 1 else parts[0]
            no: Cond = Or(tuple(p.negate() for p in parts)) if len(parts) > 1 else parts[0].negate()
        else:
            yes = Or(parts) if len(parts) > 1 else parts[0]
            no = And(tuple(p.negate() for p in parts)) if len(parts) > 1 else parts[0].negate()
        joiner = "; " if kind == "all" else "; hoặc "
        branches = [Branch("yes", yes, pts, "đạt", top=True), Branch("else", no, rule.else_points, "không đạt")]
        fields = tuple(f"c{i}" for i in range(len(parts)))
        target = rule.target or joiner.join(c.label for c in rule.checks)
    else:  # pragma: no cover - the discriminated union admits nothing else
        raise AssertionError(kind)
    return CompiledRule(rule, max_points, tuple(branches), fields, target)


# ------------------------------------------------------------------ loading


def _check_rule(rule: Any, cset: CriteriaSet, where: dict[str, Any], problems: ProblemList) -> None:
    code = rule.code
    node = cset.index().get(code)
    declared = {e.name for e in rule.evidence}
    names = [e.name for e in rule.evidence]
    for dup in sorted({n for n in names if names.count(n) > 1}):
        problems.add("duplicate_evidence", f"evidence '{dup}' is declared twice", **where)
    for name in rule.reads():
        if name not in declared:
            problems.add("unknown_evidence", f"rule reads '{name}' but does not declare it under 'evidence'",
                         **where, hint=did_you_mean(name, declared))
    for name in sorted(declared - set(rule.reads())):
        problems.add("unused_evidence_spec", f"evidence '{name}' is declared but the rule never reads it",
                     **where, hint="remove it or use it in the rule")
    if node is None:
        return
    maxp = node.max_points
    expected_types: dict[str, tuple[str, ...]] = {
        "threshold": ("rate", "number", "score"), "count": ("count",), "boolean": ("boolean",),
        "deadline": ("dated_items",), "external": ("points", "score", "rate", "number"),
        "level": ("level",), "points": ("points",),
    }
    if rule.kind in expected_types:
        spec = rule.spec(rule.value)
        if spec and spec.type not in expected_types[rule.kind]:
            problems.add("wrong_evidence_type",
                         f"a {rule.kind} rule reads '{spec.name}' of type {spec.type}; expected {' or '.join(expected_types[rule.kind])}",
                         **where)
    if rule.kind == "ratio":
        for name in (rule.numerator, rule.denominator):
            spec = rule.spec(name)
            if spec and spec.type != "count":
                problems.add("wrong_evidence_type", f"ratio parts are counts; '{name}' is {spec.type}", **where)
    if rule.kind == "external" and not rule.bands:
        spec = rule.spec(rule.value)
        if spec and spec.type != "points":
            problems.add("wrong_evidence_type",
                         f"an external rule without bands reads points; '{spec.name}' is {spec.type}",
                         **where, hint="declare type: points, or add bands that map the score to points")
    bands = getattr(rule, "bands", ())
    for i, band in enumerate(bands):
        if band.points > maxp:
            problems.add("points_above_max", f"band {i + 1} gives {band.points} points; '{code}' is worth {maxp}",
                         **where)
        if i and band.upward != bands[i - 1].upward:
            problems.add("bands_not_ordered",
                         f"band {i + 1} uses '{band.bound_key}' but band {i} uses '{bands[i - 1].bound_key}'",
                         **where, hint="use min/above (more is better) or max/below (less is better) in every band")
        elif i and not _band_after(bands[i - 1], band):
            word = "lower" if band.upward else "higher"
            problems.add("bands_not_ordered",
                         f"band {i + 1} ({band.bound_key} {format_number(band.bound)}) must be {word} than band {i} "
                         f"({bands[i - 1].bound_key} {format_number(bands[i - 1].bound)})",
                         **where, hint=("list bands from the highest 'min' to the lowest" if band.upward
                                        else "list 'max'/'below' bands from the lowest bound to the highest"))
        if i and band.points > bands[i - 1].points:
            problems.add("bands_not_ordered", f"band {i + 1} gives more points than the band above it", **where)
    if bands and getattr(rule, "else_points", Decimal(0)) > bands[-1].points:
        problems.add("bands_not_ordered", "else_points is higher than the lowest band's points", **where)
    if bands and rule.kind != "external" and bands[0].points != maxp:
        problems.add("top_band_not_max",
                     f"the highest band gives {bands[0].points} points but '{code}' is worth {maxp}", **where,
                     hint="the top band should earn the maximum, or change max_points in the criteria")
    for key in ("points", "on_time_points", "late_points", "missing_points", "else_points"):
        value = getattr(rule, key, None)
        if value is not None and value > maxp:
            problems.add("points_above_max", f"{key} {value} is above the maximum {maxp} of '{code}'", **where)
    if rule.kind == "level":
        labels = [level_key(lv.label) for lv in rule.levels]
        for i, lv in enumerate(rule.levels, 1):
            if lv.points > maxp:
                problems.add("points_above_max", f"level {i} ('{lv.label}') gives {lv.points} points; '{code}' is "
                             f"worth {maxp}", **where, hint="fix the level's points or max_points in the criteria")
            if labels.count(labels[i - 1]) > 1 and labels.index(labels[i - 1]) == i - 1:
                problems.add("duplicate_item", f"level '{lv.label}' appears twice", **where,
                             hint="give each level its own words")
        if len(rule.levels) > MAX_BRANCHES - 1:
            problems.add("too_many_bands", f"more than {MAX_BRANCHES - 1} levels", **where)
    if rule.kind == "deadline":
        labels = [i.label for i in rule.items]
        for dup in sorted({x for x in labels if labels.count(x) > 1}):
            problems.add("duplicate_item", f"deadline item '{dup}' appears twice", **where)
        if rule.late_points > (rule.on_time_points or maxp) or rule.missing_points > rule.late_points:
            problems.add("bands_not_ordered", "deadline points must be on_time ≥ late ≥ missing", **where)
    if rule.kind in ("all", "any"):
        for check in rule.checks:
            spec = rule.spec(check.evidence)
            if spec is None:
                continue
            if check.op in ("on_or_before", "on_or_after"):
                if spec.type != "date":
                    problems.add("operator_type", f"'{check.op}' compares dates; '{spec.name}' is {spec.type}", **where)
                ref = rule.spec(check.value_from) if check.value_from else None
                if check.value_from is None and not isinstance(check.value, dt.date):
                    problems.add("operator_type", f"'{check.op}' needs a date in 'value' or 'value_from'", **where)
                elif ref is not None and ref.type != "date":
                    problems.add("operator_type", f"'{check.value_from}' is {ref.type}, not a date", **where)
            elif spec.type == "boolean":
                if check.op not in ("eq", "ne") or not isinstance(check.value, bool):
                    problems.add("operator_type", f"'{spec.name}' is yes/no: use op eq/ne with value true/false",
                                 **where)
            elif spec.type in ("date", "dated_items"):
                problems.add("operator_type", f"'{spec.name}' is {spec.type}: use on_or_before/on_or_after",
                             **where)
            elif isinstance(check.value, (bool, dt.date)):
                problems.add("operator_type", f"'{spec.name}' is {spec.type}; compare it with a number", **where)
    if len(getattr(rule, "bands", ())) + 1 > MAX_BRANCHES:
        problems.add("too_many_bands", f"more than {MAX_BRANCHES - 1} bands", **where)
    for tmpl_name in ("explain", "guidance"):
        text = getattr(rule, tmpl_name)
        try:
            used = {f for _, f, _, _ in string.Formatter().parse(text) if f is not None}
        except ValueError as exc:
            problems.add("bad_template", f"{tmpl_name}: {exc}", **where, hint="write braces as {{ and }}")
            continue
        for name in sorted(used - TEMPLATE_FIELDS):
            problems.add("bad_template", f"{tmpl_name} uses unknown placeholder '{{{name}}}'", **where,
                         hint=did_you_mean(name, TEMPLATE_FIELDS) or f"known: {', '.join(sorted(TEMPLATE_FIELDS))}")
    na = rule.not_applicable
    if na.policy == "redistribute":
        parent = cset.parent_of(code)
        siblings = {c.code for c in cset.index()[parent].children} - {code} if parent else set()
        for target in na.to:
            if target not in siblings:
                problems.add("bad_redistribution", f"'{target}' is not a sibling of '{code}'", **where,
                             hint=did_you_mean(target, siblings) or "points can only move to siblings")


def _band_after(before: BandSpec, band: BandSpec) -> bool:
    """Does ``band`` hold for some value ``before`` does not (the bands narrow down in order)?"""
    a, b = before.bound, band.bound
    if band.upward:  # "≥ 98%" may follow "> 98%" (then it means exactly 98%), not the other way round
        return b < a or (b == a and before.bound_key == "above" and band.bound_key == "min")
    return b > a or (b == a and before.bound_key == "below" and band.bound_key == "max")


def has_lower_bands(rule: CompiledRule) -> bool:
    """Whether some branch other than the top one gives points (partial credit)."""
    return any(not b.top and b.points is not None and b.points > 0 for b in rule.branches)


def _check_basis(rule: CompiledRule, where: dict[str, Any], problems: ProblemList) -> None:
    basis = rule.rule.basis
    if basis is None:
        return
    lower = has_lower_bands(rule)
    if basis.lower_bands == "none" and lower:
        problems.add("basis_mismatch", "basis says lower_bands: none, but the rule gives partial points below the top",
                     **where, hint="say where the lower bands come from: seed, decision or illustrative")
    elif basis.lower_bands != "none" and not lower:
        problems.add("basis_mismatch", f"basis says lower_bands: {basis.lower_bands}, but the rule has no partial "
                     "points below the top", **where, hint="write lower_bands: none")
    if rule.kind == "external" and not getattr(rule.rule, "bands", ()) and basis.full_points == "seed":
        problems.add("basis_mismatch", "points given by the province (external, no bands) have no seed threshold",
                     **where, hint="write full_points: decision or illustrative")


def _check_thresholds(rule: CompiledRule, where: dict[str, Any], problems: ProblemList) -> None:
    """Thresholds must stay distinct and exact as doubles, for the durable-rules engine."""
    for field_name in rule.fields:
        ts = rule.thresholds(field_name)
        doubles = [float(t) for t in ts]
        if len(set(doubles)) != len(doubles):
            problems.add("threshold_precision", "two thresholds differ by less than a double can tell apart",
                         **where, hint="round the band limits to at most 15 significant digits")
        for t, d in zip(ts, doubles):
            if d != 0 and not 1e-3 <= abs(d) < 1e15:
                problems.add("threshold_precision", f"threshold {format_number(t, 6)} is too small or too large",
                             **where, hint="use limits between 0,001 and 10^15 (a rate of 0,1% is 0.001)")


def _rule_lines(data: Any) -> list[int | None]:
    rules = data.get("rules") if isinstance(data, dict) else None
    if not isinstance(rules, LineList):
        return []
    return [rules.line_of(i) for i in range(len(rules))]


def load_rules_file(path: Path, cset: CriteriaSet, problems: ProblemList) -> list[Any]:
    name = str(path)
    data = load_yaml(path, "rules file")
    if not isinstance(data, dict) or "rules" not in data:
        problems.add("not_a_rules_file", "a rules file is a mapping with 'criteria_set' and 'rules: [...]'",
                     file=name, line=1)
        return []
    lines = _rule_lines(data)
    known = KNOWN_RULE_KEYS
    out = []
    header = {k: v for k, v in data.items() if k != "rules"}
    try:
        RulesFile.model_validate({**header, "rules": []})
    except ValidationError as exc:
        problems.extend(pydantic_problems(exc, data, name, known_keys=known))
    if data.get("criteria_set") not in (None, cset.id):
        problems.add("wrong_criteria_set", f"file is for criteria set '{data.get('criteria_set')}', not '{cset.id}'",
                     file=name, line=data.line_of("criteria_set") if isinstance(data, LineDict) else None)
    raw_rules = data["rules"] if isinstance(data["rules"], list) else []
    for i, raw in enumerate(raw_rules):
        subject = raw.get("code") if isinstance(raw, dict) else None
        subject = getattr(subject, "raw", None) or (str(subject) if subject is not None else None)
        if isinstance(raw, dict) and raw.get("kind") not in RULE_KINDS:
            kind = raw.get("kind")
            problems.add("unknown_kind" if kind is not None else "missing",
                         f"unknown rule kind '{kind}'" if kind is not None else "rule has no 'kind'",
                         file=name, line=raw.line_of("kind") if isinstance(raw, LineDict) else lines[i],
                         subject=subject,
                         hint=(did_you_mean(str(kind), RULE_KINDS) or f"known kinds: {', '.join(RULE_KINDS)}"))
            continue
        try:
            rule = _RULE_ADAPTER.validate_python({**raw, "line": lines[i] if i < len(lines) else None}
                                                 if isinstance(raw, dict) else raw)
        except ValidationError as exc:
            problems.extend(pydantic_problems(exc, data, name, prefix=("rules", i), subject=subject,
                                              known_keys=known, tags=RULE_KINDS))
            continue
        out.append((rule, name))
    return out


_RULE_ADAPTER: TypeAdapter[Any] = TypeAdapter(Rule)
#: every key a rules file may use, for "did you mean" on a misspelt one
KNOWN_RULE_KEYS = sorted(set().union(*(m.model_fields for m in (
    ThresholdRule, RatioRule, CountRule, BooleanRule, DeadlineRule, ExternalRule, AllRule, Check,
    EvidenceSpec, BandSpec, NotApplicable, DeadlineItem, RulesFile, Basis, LevelRule, LevelSpec, PointsRule))))


def default_dirs() -> tuple[Path, Path]:
    """The criteria/ and rules/ folders shipped with parindex (source tree or installed)."""
    here = Path(__file__).resolve().parent.parent  # the scoring package
    source = here.parent
    if (source / "criteria").is_dir() and (source / "rules").is_dir():
        return source / "criteria", source / "rules"
    return here / "_data" / "criteria", here / "_data" / "rules"


def available_sets(criteria_dir: Path) -> list[str]:
    return sorted(p.stem for p in criteria_dir.glob("*.yaml"))


def load_bundle(criteria_dir: Path | str | None = None, rules_dir: Path | str | None = None,
                set_id: str | None = None) -> Bundle:
    """Load a criteria set and its rules, check everything, compile, or raise every problem."""
    default_c, default_r = default_dirs()
    cdir = Path(criteria_dir) if criteria_dir else default_c
    rdir = Path(rules_dir) if rules_dir else default_r
    for d, what in ((cdir, "criteria"), (rdir, "rules")):
        if not d.is_dir():
            raise DefinitionError(Problem("folder_not_found", f"không có thư mục '{d}' ({what} folder '{d}' does not "
                                          f"exist)", file=str(d), hint=f"chỉ --{what} tới một thư mục có thật"))
    sets = available_sets(cdir)
    if not sets:
        raise DefinitionError(Problem("no_criteria", f"thư mục '{cdir}' không có bộ tiêu chí nào (*.yaml) "
                                      f"(no criteria set in '{cdir}')", file=str(cdir)))
    if set_id is None:
        set_id = sets[-1] if len(sets) == 1 else _latest(cdir, sets)
    if set_id not in sets:
        raise DefinitionError(Problem("unknown_criteria_set", f"không có bộ tiêu chí '{set_id}' trong '{cdir}' "
                                      f"(criteria set '{set_id}' is not in '{cdir}')",
                                      file=str(cdir), hint=did_you_mean(set_id, sets) or f"các bộ có: {', '.join(sets)}"))
    cset = load_criteria(cdir / f"{set_id}.yaml")
    problems = ProblemList()
    set_rules_dir = rdir / set_id if (rdir / set_id).is_dir() else rdir
    files = sorted(set_rules_dir.glob("*.yaml"))
    if not files:
        problems.add("no_rules", f"no rules file (*.yaml) for criteria set '{set_id}' in '{set_rules_dir}'",
                     file=str(set_rules_dir))
    loaded: list[tuple[Any, str]] = []
    for path in files:
        try:
            loaded.extend(load_rules_file(path, cset, problems))
        except DefinitionError as exc:
            problems.extend(exc.problems)
        except Exception as exc:  # InputError from YAML reading
            problems.extend(getattr(exc, "problems", [Problem("unreadable", str(exc), file=str(path))]))
    index = cset.index()
    compiled: dict[str, CompiledRule] = {}
    first_seen: dict[str, str] = {}
    for rule, fname in loaded:
        where = {"file": fname, "line": rule.line, "subject": rule.code}
        node = index.get(rule.code)
        if node is None:
            problems.add("unknown_code", f"no criterion '{rule.code}' in criteria set '{cset.id}'", **where,
                         hint=did_you_mean(rule.code, [n.code for n in cset.leaves()]))
        elif not node.is_leaf:
            problems.add("rule_on_parent", f"'{rule.code}' has sub-criteria; rules go on its leaves", **where,
                         hint=", ".join(c.code for c in node.children))
        if rule.code in first_seen:
            problems.add("duplicate_rule", f"a second rule for '{rule.code}' (first in {first_seen[rule.code]})",
                         **where, hint="keep exactly one rule per sub-criterion")
            continue
        first_seen[rule.code] = f"{fname}:{rule.line}"
        _check_rule(rule, cset, where, problems)
        if node is not None and node.is_leaf:
            compiled[rule.code] = compile_rule(rule, node.max_points)
            _check_thresholds(compiled[rule.code], where, problems)
            _check_basis(compiled[rule.code], where, problems)
    for leaf in cset.leaves():
        if leaf.code not in first_seen:
            problems.add("missing_rule", f"sub-criterion '{leaf.code}' ({leaf.title}) has no rule",
                         file=str(set_rules_dir), subject=leaf.code,
                         hint=f"add a rule with code: \"{leaf.code}\" to the rules file of field {leaf.code.split('.')[0]}")
    problems.raise_if_any(DefinitionError)
    ordered = {leaf.code: compiled[leaf.code] for leaf in cset.leaves()}
    return Bundle(cset, ordered, [str(f) for f in files])


def _latest(cdir: Path, sets: list[str]) -> str:
    best: tuple[int, str] | None = None
    for s in sets:
        try:
            data = load_yaml(cdir / f"{s}.yaml", "criteria file")
            year = int(data.get("year", 0)) if isinstance(data, dict) else 0
        except Exception:
            year = 0
        if best is None or (year, s) > best:
            best = (year, s)
    return best[1] if best else sets[-1]
