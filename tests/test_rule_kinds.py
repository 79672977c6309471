"""Every rule kind, on the fixture set (tests/fixtures/kinds) and on the bundled set."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from decimal import Decimal
from fractions import Fraction
from typing import Any

import pytest

from fixtures.kit import KINDS_CRITERIA, KINDS_RULES, all_met, evidence_for, with_values
from scoring.core.engine import score
from scoring.core.errors import InputError
from scoring.core.rules import RULE_KINDS, Bundle, load_bundle
from scoring.core.scorecard import NodeResult

D = Decimal


@pytest.fixture(scope="module")
def kinds() -> Iterator[Bundle]:
    b = load_bundle(KINDS_CRITERIA, KINDS_RULES)
    yield b
    b.close()


def one(kinds: Bundle, code: str, values: dict[str, Any]) -> NodeResult:
    return score(kinds, evidence_for("kinds-2025", {code: values}), strict=False).node(code)


def test_fixture_has_every_kind_and_policy(kinds: Bundle) -> None:
    assert {r.kind for r in kinds.rules.values()} == set(RULE_KINDS)
    assert {r.rule.not_applicable.policy for r in kinds.rules.values()} == {"award_max", "exclude", "redistribute",
                                                                           "zero"}
    assert "1.10" in kinds.rules and "1.1" in kinds.rules  # "1.10" stays a text code


def test_bundled_set_uses_every_kind(bundle: Bundle) -> None:
    kinds_used = {r.kind for r in bundle.rules.values()}
    # every scale of the bundled set is computable; "level" and "points" are what an import of a
    # province's table falls back to (tests/test_criteria_table.py covers them end to end)
    assert kinds_used == set(RULE_KINDS) - {"level", "points"}
    externals = [r for r in bundle.rules.values() if r.kind == "external"]
    assert any(r.rule.bands for r in externals) and any(not r.rule.bands for r in externals)
    assert any(r.kind == "boolean" and r.rule.expect is False for r in bundle.rules.values())


@pytest.mark.parametrize("rate, points, outcome, branch", [
    ("90%", "2", "met", "b0"), ("100%", "2", "met", "b0"), ("89,9%", "1", "partial", "b1"),
    ("50%", "1", "partial", "b1"), ("49%", "0.25", "partial", "else"),  # else_points 0,25 is still partial
])
def test_threshold(kinds: Bundle, rate: str, points: str, outcome: str, branch: str) -> None:
    node = one(kinds, "1.1", {"rate": rate})
    assert (node.points, node.outcome, node.branch) == (D(points), outcome, branch)
    assert node.target == "từ 90% trở lên"
    assert node.kind == "threshold"


@pytest.mark.parametrize("done, total, points, outcome", [(5, 5, "2", "met"), (4, 5, "1.5", "partial"),
                                                          (3, 5, "0", "not_met"), (0, 0, "2", "not_applicable")])
def test_ratio(kinds: Bundle, done: int, total: int, points: str, outcome: str) -> None:
    node = one(kinds, "1.2", {"done": done, "total": total})
    assert (node.points, node.outcome) == (D(points), outcome)
    if total:
        assert node.measured == Fraction(done, total)
        assert f"{done}/{total}" in (node.measured_text or "")
    assert node.target == "đạt 100%"


@pytest.mark.parametrize("n, points", [(0, "0"), (1, "0.5"), (2, "0.5"), (3, "1"), (30, "1")])
def test_count(kinds: Bundle, n: int, points: str) -> None:
    node = one(kinds, "1.3", {"n": n})
    assert node.points == D(points)
    assert node.target == "từ 3 trở lên"


@pytest.mark.parametrize("code, raw, points, outcome", [
    ("1.4", "có", "1", "met"), ("1.4", "không", "0", "not_met"),
    ("1.5", "không", "1", "met"), ("1.5", "có", "0", "not_met"),  # expect: false
    ("1.5", False, "1", "met"), ("1.5", True, "0", "not_met"),
])
def test_boolean(kinds: Bundle, code: str, raw: Any, points: str, outcome: str) -> None:
    name = "done" if code == "1.4" else "violation"
    node = one(kinds, code, {name: raw})
    assert (node.points, node.outcome) == (D(points), outcome)
    assert node.target == ("có" if code == "1.4" else "không")


@pytest.mark.parametrize("reports, points, branch", [
    ({"Quý I": "15/03/2025", "Năm": "15/12/2025"}, "2", "on_time"),
    ({"Quý I": "14/03/2025", "Năm": "01/12/2025"}, "2", "on_time"),
    ({"Quý I": "16/03/2025", "Năm": "15/12/2025"}, "1", "late"),
    ({"Quý I": "20/03/2025", "Năm": "20/12/2025"}, "1", "late"),
    ({"Quý I": "15/03/2025", "Năm": ""}, "0.5", "missing"),
    ({"Quý I": "15/03/2025"}, "0.5", "missing"),
    ({"Quý I": "20/03/2025"}, "0.5", "missing"),  # late and missing: missing decides
])
def test_deadline(kinds: Bundle, reports: dict[str, str], points: str, branch: str) -> None:
    node = one(kinds, "1.6", {"reports": reports})
    assert (node.points, node.branch) == (D(points), branch)


def test_deadline_explains_each_late_item(kinds: Bundle) -> None:
    node = one(kinds, "1.6", {"reports": {"Quý I": "20/03/2025", "Năm": ""}})
    assert any("Quý I" in d and "trễ 5 ngày" in d for d in node.details)
    assert any("Năm" in d and "chưa có" in d for d in node.details)
    assert "trễ 5 ngày" in (node.reason or "")


def test_deadline_unknown_item_is_an_error(kinds: Bundle) -> None:
    with pytest.raises(InputError) as info:
        one(kinds, "1.6", {"reports": {"Quý I": "15/03/2025", "Nam": "15/12/2025"}})
    problem = info.value.problems[0]
    assert problem.code == "unknown_item" and "Năm" in (problem.hint or "")


@pytest.mark.parametrize("index, points, band", [("80", "2", "tốt"), ("95.5", "2", "tốt"), ("79,99", "1", "khá"),
                                                 ("60", "1", "khá"), ("59", "0", None)])
def test_external_with_bands(kinds: Bundle, index: str, points: str, band: str | None) -> None:
    node = one(kinds, "1.7", {"index": index})
    assert node.points == D(points)
    if band:
        assert node.band == band


@pytest.mark.parametrize("given, outcome", [("2", "met"), ("1.5", "partial"), ("0", "not_met"), ("0.25", "partial")])
def test_external_direct_points(kinds: Bundle, given: str, outcome: str) -> None:
    node = one(kinds, "1.8", {"points": given})
    assert (node.points, node.outcome) == (D(given), outcome)


ALL_OK = {"sessions": 2, "issued_on": "30/06/2025", "approved": "có", "share": "10%"}


@pytest.mark.parametrize("change, points, failed_label", [
    ({}, "2", None),
    ({"sessions": 1}, "0", "Ít nhất 2 buổi"),
    ({"issued_on": "01/07/2025"}, "0", "Ban hành trước 30/6"),
    ({"approved": "không"}, "0", "Được phê duyệt"),
    ({"share": "10,01%"}, "0", "Sai sót không quá 10%"),
    ({"share": "0%", "sessions": 9, "issued_on": dt.date(2025, 1, 1)}, "2", None),
])
def test_all(kinds: Bundle, change: dict[str, Any], points: str, failed_label: str | None) -> None:
    node = one(kinds, "1.9", {**ALL_OK, **change})
    assert node.points == D(points)
    if failed_label:
        assert [d for d in node.details if failed_label in d], node.details
        assert len(node.details) == 1
    else:
        assert node.details == ()


def test_all_reports_every_failed_check(kinds: Bundle) -> None:
    node = one(kinds, "1.9", {**ALL_OK, "sessions": 0, "approved": "không"})
    assert len(node.details) == 2


def test_all_missing_one_item_is_missing_evidence(kinds: Bundle) -> None:
    node = one(kinds, "1.9", {k: v for k, v in ALL_OK.items() if k != "approved"})
    assert (node.outcome, node.missing) == ("missing_evidence", ("approved",))


@pytest.mark.parametrize("values, points", [
    ({"used": 5, "planned": 5, "own_system": "không"}, "1"),   # used ≥ planned (value_from), equal
    ({"used": 4, "planned": 5, "own_system": "có"}, "1"),
    ({"used": 6, "planned": 5, "own_system": "có"}, "1"),
    ({"used": 4, "planned": 5, "own_system": "không"}, "0"),
])
def test_any(kinds: Bundle, values: dict[str, Any], points: str) -> None:
    assert one(kinds, "1.10", values).points == D(points)


def test_every_rule_has_a_catch_all(kinds: Bundle, bundle: Bundle) -> None:
    """For every rule, exactly one branch holds for values across (and beyond) its thresholds.

    Measured values are never negative (counts, rates, points); differences in all/any checks may be.
    """
    steps = (Fraction(-1), Fraction(-1, 10**12), Fraction(0), Fraction(1, 10**12), Fraction(1))
    for b in (kinds, bundle):
        for rule in b.rules.values():
            base = {name: (rule.thresholds(name) or [Fraction(0)])[0] for name in rule.fields}
            for f in rule.fields:
                for x in {p + d for p in (rule.thresholds(f) or [Fraction(0)]) for d in steps}:
                    if x < 0 and not f.startswith("c"):
                        continue
                    rule.select({**base, f: x})  # raises unless exactly one branch holds


# ------------------------------------------------------------------ bundled set, one leaf per kind


@pytest.mark.parametrize("code, values, points, outcome", [
    ("1.2", {"reports": {"Quý I": "15/03/2025", "6 tháng": "15/06/2025", "9 tháng": "15/09/2025"}},
     "0", "not_met"),  # the yearly report is missing: missing_points 0
    ("4.3.1", {"delegation_rules_applied": "không", "delegation_findings_fixed": "không"}, "0", "not_met"),
    ("7.1.1", {"architecture_updated": "không", "architecture_applied": "có"}, "1", "met"),
    ("5.3", {"leader_disciplined": "có"}, "0", "not_met"),
    ("6.1.1", {"spending_violation": "có"}, "0", "not_met"),
    ("3.4.4", {"service_index": "49,9"}, "0", "not_met"),
    ("3.4.4", {"service_index": 50}, "1", "partial"),
    ("8.2", {"points": "2.5"}, "2.5", "partial"),
    ("1.5", {"initiatives": 7}, "2", "met"),
])
def test_bundled_kinds(bundle: Bundle, code: str, values: dict[str, Any], points: str, outcome: str) -> None:
    node = score(bundle, with_values(all_met(), code, **values)).node(code)
    assert (node.points, node.outcome) == (D(points), outcome)


def test_bundled_kinds_json_measured(bundle: Bundle) -> None:
    """measured in JSON: a number for numeric measures (rates as 0–1), a string otherwise."""
    card = score(bundle, all_met())
    data = {c["code"]: c for c in card.to_json()["criteria"]}
    assert data["3.4.1"]["measured"] == pytest.approx(0.98)
    assert data["7.2.1"]["measured"] == pytest.approx(0.8)
    assert data["1.5"]["measured"] == 3
    assert data["3.4.4"]["measured"] == 90
    assert data["8.2"]["measured"] == 4.5
    assert data["5.3"]["measured"] is False
    assert isinstance(data["1.2"]["measured"], str)
    assert data["3"]["measured"] is None
