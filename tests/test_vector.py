"""The vectorised batch path (scoring.vector) gives exactly what score() (durable-rules) gives.

The property tests draw batches of scenarios: each scenario overrides a random subset of the
sub-criteria with values taken at, just below and just above every threshold of their rule,
"không phát sinh" through the words (``na``) and through counts (0/0), and the evidence's own
values. Every leaf's points and effective maximum, every field, the total and the percent must be
identical. A second bundle with harder policies (a three-way redistribution with rounding, a
receiver that can itself be excluded, two sub-criteria redistributing to each other) runs the same
check. ``PARINDEX_VECTOR_EXAMPLES`` raises the number of batches for a long run.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import os
import re
import shutil
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from conftest import ROOT, SAMPLES
from scoring.core.engine import _split, score
from scoring.core.errors import DefinitionError, EngineError
from scoring.core.evidence import EvidenceFile, load_evidence, parse_value
from scoring.core.rules import Branch, Bundle, Cmp, CompiledRule, load_bundle
from scoring.core.vector import (
    VectorScorer,
    constant_pools,
    div_round,
    from_hundredths,
    rank_code,
    split_hundredths,
)

EXAMPLES = int(os.environ.get("PARINDEX_VECTOR_EXAMPLES", "60"))
ROWS = 10
# evidence files only (the folder also holds peers and options examples)
SAMPLE_FILES = [p for p in sorted(SAMPLES.glob("*.yaml")) if "\nevidence:" in p.read_text(encoding="utf-8")
                and "criteria_set: cap-so-2025\n" in p.read_text(encoding="utf-8")]  # the bundle under test


def _frac_text(x: Fraction) -> str:
    return str(x.numerator) if x.denominator == 1 else f"{x.numerator}/{x.denominator}"


def _dec_text(x: Fraction) -> str:
    d = Decimal(x.numerator) / Decimal(x.denominator)
    return format(d.normalize(), "f")


def _values_around(kind: str, points: list[Fraction], hi: Fraction | None = None) -> list[str]:
    """Raw texts (as typed on --set) at, just below and just above each threshold, valid for the type."""
    out: list[str] = []
    for t in points:
        if kind == "rate":
            hair = Fraction(1, 10**6)  # 0 + 10⁻⁶ is 1e-06 as a double: durable-rules once misread that form
            for x in (t, t - hair, t + hair):
                if 0 <= x <= 1:
                    out.append(_frac_text(x))
        elif kind == "count":
            out += [str(int(x)) for x in (t, t - 1, t + 1) if x >= 0 and x.denominator == 1]
        elif kind in ("number", "score"):
            out += [_dec_text(x) for x in (t, t - Fraction(1, 100), t + Fraction(1, 100))]
        elif kind == "points":
            out += [_dec_text(x) for x in (t, t - Fraction(1, 100)) if 0 <= x <= (hi or x)]
    return out


def leaf_pool(compiled: CompiledRule, ev: EvidenceFile) -> list[dict[str | None, str] | None]:
    """Overrides worth trying on one sub-criterion (None: the evidence as is)."""
    r = compiled.rule
    pool: list[dict[str | None, str] | None] = [None, {None: "na"}, {None: "không phát sinh"}]
    if r.kind == "ratio":
        pool += [{None: v} for v in _values_around("rate", compiled.thresholds("v")) + ["0", "100%", "1"]]
        pool += [{r.numerator: "0", r.denominator: "0"}, {r.numerator: "49", r.denominator: "50"},
                 {r.numerator: "0", r.denominator: "7"}, {r.numerator: "7", r.denominator: "7"}]
    elif r.kind in ("threshold", "count", "external"):
        spec = r.spec(r.value)
        if spec.type == "points":
            mx = Fraction(compiled.max_points)
            pool += [{None: v} for v in _values_around("points", [mx, mx / 2, Fraction(0)], mx)]
        else:
            pool += [{None: v} for v in _values_around(spec.type, compiled.thresholds("v") + [Fraction(0)])]
    elif r.kind == "boolean":
        pool += [{None: "có"}, {None: "không"}]
    elif r.kind in ("all", "any"):
        leaf = ev.evidence.get(r.code)
        given = {}
        for spec in r.evidence:
            raw = leaf.values.get(spec.name) if leaf else None
            if raw not in (None, ""):
                given[spec.name] = parse_value(spec.type, raw)
        passing: dict[str | None, str] = {}
        for check in r.checks:
            spec = r.spec(check.evidence)
            choices: list[str] = []
            if spec.type == "boolean":
                choices = ["có", "không"]
            elif spec.type == "date":
                ref = given.get(check.value_from) if check.value_from else check.value
                if isinstance(ref, dt.date):
                    choices = [(ref + dt.timedelta(days=d)).strftime("%d/%m/%Y") for d in (0, -1, 1)]
            else:
                choices = _values_around(spec.type, [Fraction(check.value)])
            pool += [{check.evidence: c} for c in choices]
            if choices:
                passing[check.evidence] = choices[0]
        if passing:
            pool.append(passing)
    return pool


@pytest.fixture(scope="module")
def evidences() -> list[EvidenceFile]:
    return [load_evidence(p) for p in SAMPLE_FILES]


@pytest.fixture(scope="module")
def hard_bundle(tmp_path_factory: pytest.TempPathFactory) -> Bundle:
    """The bundled rules with harder "không phát sinh" policies."""
    rules = tmp_path_factory.mktemp("rules") / "cap-so-2025"
    shutil.copytree(ROOT / "rules" / "cap-so-2025", rules)
    policies = {
        "3.2.4": '{policy: redistribute, to: ["3.2.1", "3.2.2", "3.2.3"]}',  # 1 point → 0,38 / 0,25 / 0,37
        "3.2.1": "{policy: exclude}",  # a receiver that can go itself
        "3.5.1": '{policy: redistribute, to: ["3.5.2"]}',  # two that redistribute to each other
        "3.5.2": '{policy: redistribute, to: ["3.5.1"]}',
    }
    path = rules / "3-thu-tuc-hanh-chinh.yaml"
    text = path.read_text(encoding="utf-8")
    for code, policy in policies.items():
        block = re.search(rf'  - code: "{re.escape(code)}"\n(.*?)(?=\n  - code:|\Z)', text, re.S)
        assert block, code
        new = re.sub(r"not_applicable: \{[^\n]*\}", f"not_applicable: {policy}", block.group(0), count=1)
        assert new != block.group(0), code
        text = text.replace(block.group(0), new)
    path.write_text(text, encoding="utf-8")
    b = load_bundle(ROOT / "criteria", rules.parent, "cap-so-2025")
    yield b
    b.close()


def _check_batch(bundle: Bundle, scorer: VectorScorer, ev: EvidenceFile,
                 pools: dict[str, list[dict[str | None, str] | None]], rows: list[dict[str, int]]) -> None:
    """Score the rows both ways and require identical numbers everywhere."""
    base = score(bundle, ev)
    columns = {}
    for code in scorer.codes:
        entries = pools.get(code, [None])
        pool, problems = _measured(scorer, ev, code, entries)
        assert not problems, (code, problems)
        idx = np.array([row.get(code, 0) for row in rows], dtype=np.int32)
        columns[code] = (pool, idx)
    res = scorer.score(columns, len(rows), bonus=base.total.bonus, penalty=base.total.penalty, leaf_points=True,
                       chunk=3)
    for i, row in enumerate(rows):
        overrides = {c: pools[c][j] for c, j in row.items() if pools[c][j] is not None}
        card = score(bundle, ev, overrides)
        where = f"{ev.file} row {i} {overrides}"
        for k, code in enumerate(scorer.codes):
            node = card.node(code)
            assert from_hundredths(res.leaves[i, k]) == node.points, (where, code)
            assert from_hundredths(res.leaf_max[i, k]) == node.max_points, (where, code)
        for k, code in enumerate(res.field_codes):
            assert from_hundredths(res.fields[i, k]) == card.node(code).points, (where, code)
        assert from_hundredths(res.points[i]) == card.total.points, where
        assert from_hundredths(res.max_points[i]) == card.total.max_points, where
        if card.total.percent is None:
            assert not res.has_percent[i]
        else:
            assert res.has_percent[i] and from_hundredths(res.percent[i]) == card.total.percent, where


_MEASURED: dict[tuple[int, str, str], Any] = {}


def _measured(scorer: VectorScorer, ev: EvidenceFile, code: str, entries: list[Any]) -> Any:
    """Pools depend only on the evidence and the entries: measure them once per test session."""
    key = (id(scorer), ev.file, code)
    if key not in _MEASURED:
        _MEASURED[key] = scorer.pool(ev, code, entries)
    return _MEASURED[key]


def _rows(data: Any, pools: dict[str, list[Any]]) -> list[dict[str, int]]:
    codes = sorted(pools)
    out = []
    for _ in range(ROWS):
        picks = data.draw(st.dictionaries(st.sampled_from(codes), st.integers(0, 10**6), max_size=len(codes)),
                          label="scenario")
        out.append({c: j % len(pools[c]) for c, j in picks.items()})
    return out


@pytest.fixture(scope="module")
def scorer(bundle: Bundle) -> VectorScorer:
    return VectorScorer(bundle)


class Ctx:
    """What the property tests need, with a short repr (hypothesis prints its arguments on failure)."""

    def __init__(self, bundle: Bundle, scorer: VectorScorer, evidences: list[EvidenceFile]) -> None:
        self.bundle, self.scorer, self.evidences = bundle, scorer, evidences

    def __repr__(self) -> str:
        return f"Ctx({self.bundle.criteria.id}, {len(self.evidences)} evidence files)"


@pytest.fixture(scope="module")
def ctx(bundle: Bundle, scorer: VectorScorer, evidences: list[EvidenceFile]) -> Ctx:
    return Ctx(bundle, scorer, evidences)


@pytest.fixture(scope="module")
def hard_ctx(hard_bundle: Bundle, evidences: list[EvidenceFile]) -> Ctx:
    return Ctx(hard_bundle, VectorScorer(hard_bundle), evidences)


# each example scores ROWS scenarios with durable-rules (~8 ms each): no shrinking, the failing batch is printed
SLOW = dict(deadline=None, phases=[Phase.explicit, Phase.reuse, Phase.generate],
            suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])


@settings(max_examples=EXAMPLES, **SLOW)  # type: ignore[arg-type]
@given(data=st.data())
def test_vector_equals_durable_reference(ctx: Ctx, data: Any) -> None:
    ev = ctx.evidences[data.draw(st.integers(0, len(ctx.evidences) - 1), label="evidence")]
    pools = {code: leaf_pool(rule, ev) for code, rule in ctx.bundle.rules.items()}
    _check_batch(ctx.bundle, ctx.scorer, ev, pools, _rows(data, pools))


@settings(max_examples=max(15, EXAMPLES // 4), **SLOW)  # type: ignore[arg-type]
@given(data=st.data())
def test_vector_equals_reference_with_hard_policies(hard_ctx: Ctx, data: Any) -> None:
    ev = hard_ctx.evidences[data.draw(st.integers(0, len(hard_ctx.evidences) - 1), label="evidence")]
    focus = ("3.2.1", "3.2.2", "3.2.3", "3.2.4", "3.4.1", "3.4.3", "3.5.1", "3.5.2", "7.3.4", "2.3.2")
    pools = {code: leaf_pool(hard_ctx.bundle.rules[code], ev) for code in focus}
    _check_batch(hard_ctx.bundle, hard_ctx.scorer, ev, pools, _rows(data, pools))


def test_every_sample_scores_the_same_both_ways(bundle: Bundle, scorer: VectorScorer,
                                                evidences: list[EvidenceFile]) -> None:
    for ev in evidences:
        card = score(bundle, ev)
        pools = constant_pools(scorer, ev)
        res = scorer.score({c: (p, None) for c, p in pools.items()}, 2, bonus=card.total.bonus,
                           penalty=card.total.penalty)
        assert [from_hundredths(x) for x in res.points] == [card.total.points] * 2
        assert from_hundredths(res.percent[0]) == card.total.percent


def test_hard_policies_split_with_rounding(hard_ctx: Ctx) -> None:
    """3.2.4 does not arise: its 1 point goes to 3.2.1 / 3.2.2 / 3.2.3 as 0,38 / 0,25 / 0,37; if 3.2.1
    does not arise either (excluded) 3.2.2 / 3.2.3 get 0,4 / 0,6."""
    ev, scorer, hard_bundle = hard_ctx.evidences[0], hard_ctx.scorer, hard_ctx.bundle
    entries = {"3.2.4": [None, {None: "na"}], "3.2.1": [None, {None: "na"}]}
    rows = [(0, 0), (1, 0), (1, 1), (0, 1)]
    columns = {}
    for code in scorer.codes:
        e = entries.get(code, [None])
        pool, problems = scorer.pool(ev, code, e)
        assert not problems
        idx = np.array([r[0] if code == "3.2.4" else r[1] for r in rows], dtype=np.int32) if code in entries else None
        columns[code] = (pool, idx)
    base = score(hard_bundle, ev)
    res = scorer.score(columns, len(rows), bonus=base.total.bonus, penalty=base.total.penalty, leaf_points=True)
    pos = {c: scorer.codes.index(c) for c in ("3.2.1", "3.2.2", "3.2.3", "3.2.4")}
    got = [[int(res.leaf_max[i, pos[c]]) for c in ("3.2.1", "3.2.2", "3.2.3", "3.2.4")] for i in range(4)]
    assert got == [[150, 100, 150, 100], [188, 125, 187, 0], [0, 140, 210, 0], [0, 100, 150, 100]]
    for i, (a, b) in enumerate(rows):
        overrides = {k: v for k, v in (("3.2.4", entries["3.2.4"][a]), ("3.2.1", entries["3.2.1"][b])) if v}
        assert from_hundredths(res.points[i]) == score(hard_bundle, ev, overrides).total.points


# ------------------------------------------------------------------ exact building blocks


@given(st.fractions(), st.lists(st.fractions(), max_size=6, unique=True))
def test_rank_code_keeps_order_with_every_threshold(x: Fraction, thresholds: list[Fraction]) -> None:
    ts = sorted(thresholds)
    rx = rank_code(x, ts)
    for t in ts:
        rt = rank_code(t, ts)
        assert (rx > rt) == (x > t) and (rx == rt) == (x == t) and (rx < rt) == (x < t)


def test_rank_code_at_a_threshold_and_a_hair_below() -> None:
    ts = [Fraction(9, 10), Fraction(95, 100), Fraction(98, 100)]
    assert rank_code(Fraction(4900, 5000), ts) == rank_code(Fraction(98, 100), ts) == 5
    assert rank_code(Fraction(98, 100) - Fraction(1, 10**20), ts) == 4


@given(st.integers(-10**9, 10**9), st.integers(1, 10**6))
def test_div_round_is_decimal_round_half_up(num: int, den: int) -> None:
    want = int((Decimal(num) / Decimal(den)).quantize(Decimal(1), rounding=ROUND_HALF_UP))
    assert div_round(num, den) == want
    assert int(div_round(np.array([num], dtype=np.int64), den)[0]) == want


@given(st.integers(0, 10_000), st.lists(st.integers(0, 1000), min_size=1, max_size=4))
def test_split_hundredths_is_engine_split(amount: int, weights: list[int]) -> None:
    from scoring.core.criteria import Node

    nodes = [Node(code=f"9.{i + 1}", title="x", max_points=Decimal(w) / 100) for i, w in enumerate(weights)]
    want = _split(Decimal(amount) / 100, nodes)
    got = split_hundredths(amount, [(i, w) for i, w in enumerate(weights)])
    assert [from_hundredths(s) for _, s in got] == [want[n.code] for n in nodes]


# ------------------------------------------------------------------ refusals


def test_points_finer_than_hundredths_are_refused(bundle: Bundle) -> None:
    code = "1.5"
    rule = bundle.rules[code]
    odd = tuple(dataclasses.replace(b, points=Decimal("0.125")) if b.id == "b1" else b for b in rule.branches)
    rules = {**bundle.rules, code: dataclasses.replace(rule, branches=odd)}
    with pytest.raises(DefinitionError) as err:
        VectorScorer(Bundle(bundle.criteria, rules))
    assert err.value.problems[0].code == "points_not_hundredths"


def test_overlapping_branches_are_refused(bundle: Bundle) -> None:
    code = "1.5"
    rule = bundle.rules[code]
    overlap = (Branch("a", Cmp("v", "ge", Fraction(1)), Decimal(1), "a"),
               Branch("b", Cmp("v", "ge", Fraction(0)), Decimal(0), "b"))
    rules = {**bundle.rules, code: dataclasses.replace(rule, branches=overlap)}
    with pytest.raises(DefinitionError) as err:
        VectorScorer(Bundle(bundle.criteria, rules))
    assert err.value.problems[0].code == "branches_not_exclusive"


def test_survey_points_finer_than_hundredths_are_a_problem_of_that_value(scorer: VectorScorer,
                                                                         evidences: list[EvidenceFile]) -> None:
    _, problems = scorer.pool(evidences[0], "8.2", [None, {None: "4.255"}])
    assert [(j, p.code) for j, p in problems] == [(1, "points_not_hundredths")]


def test_scorer_needs_every_leaf(scorer: VectorScorer, evidences: list[EvidenceFile]) -> None:
    with pytest.raises(EngineError):
        scorer.score({}, 1)
    assert Path(SAMPLE_FILES[0]).exists()
