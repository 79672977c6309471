"""Threshold edge cases: a value exactly at a threshold meets it, a hair below does not.

Values go through the whole engine (evidence or --set → Fraction → durable-rules → Decimal points).
"""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from fractions import Fraction
from typing import Any

import pytest

from fixtures.kit import all_met, not_applicable, with_values
from scoring.cli import main
from scoring.core.engine import overrides_from, score
from scoring.core.errors import InputError
from scoring.core.rules import Bundle, load_bundle
from scoring.core.scorecard import NodeResult

_BUNDLE = load_bundle(set_id="cap-so-2025")  # only to list the band rules at collection time; tests use the session fixture
BAND_RULES = {code: r for code, r in _BUNDLE.rules.items() if getattr(r.rule, "bands", ())}
_BUNDLE.close()


def leaf(bundle: Bundle, code: str, sets: list[str] | None = None, ev: Any = None) -> NodeResult:
    card = score(bundle, ev or all_met(), overrides_from(sets or []))
    return card.node(code)


def text(x: Fraction) -> str:
    """An exact decimal text for a fraction whose denominator divides a power of ten."""
    value = Decimal(x.numerator) / Decimal(x.denominator)
    assert Fraction(value) == x
    return format(value, "f")


# ------------------------------------------------------------------ worked by hand


@pytest.mark.parametrize("on_time, received, points, outcome", [
    (4900, 5000, "3", "met"),        # 98 % exactly meets ≥ 98 %
    (4899, 5000, "2", "partial"),    # 97,98 % falls to ≥ 95 %
    (4901, 5000, "3", "met"),
    (4750, 5000, "2", "partial"),    # 95 % exactly
    (4749, 5000, "1", "partial"),
    (4500, 5000, "1", "partial"),    # 90 %
    (4499, 5000, "0", "not_met"),
    (49, 50, "3", "met"),
    (0, 5000, "0", "not_met"),
])
def test_3_4_1_on_time_rate(bundle: Bundle, on_time: int, received: int, points: str, outcome: str) -> None:
    node = leaf(bundle, "3.4.1", ev=with_values(all_met(), "3.4.1", on_time=on_time, received=received))
    assert (node.points, node.outcome) == (Decimal(points), outcome)
    assert node.measured == Fraction(on_time, received)


@pytest.mark.parametrize("paid, payments, points", [(11, 20, "2.5"), (10, 20, "1.25"), (6, 20, "1.25"),
                                                    (5, 20, "0"), (55, 100, "2.5"), (549, 1000, "1.25")])
def test_7_3_4_paid_online(bundle: Bundle, paid: int, payments: int, points: str) -> None:
    node = leaf(bundle, "7.3.4", ev=with_values(all_met(), "7.3.4", paid_online=paid, payments=payments))
    assert node.points == Decimal(points)


# ------------------------------------------------------------------ every band of every band rule

def _band_cases() -> list[Any]:
    cases = []
    for code, rule in BAND_RULES.items():
        bands = rule.rule.bands
        for i, band in enumerate(bands):
            below = bands[i + 1].points if i + 1 < len(bands) else rule.rule.else_points
            cases.append(pytest.param(code, band.min, band.points, below, id=f"{code}-band{i}"))
    return cases


def _hair_below(code: str, x: Fraction) -> Fraction:
    rule = BAND_RULES[code]
    if rule.kind == "count":
        return x - 1
    return x - Fraction(1, 10**9)


@pytest.mark.parametrize("code, minimum, at_points, below_points", _band_cases())
def test_every_band_boundary_via_set(bundle: Bundle, code: str, minimum: Fraction, at_points: Decimal,
                                     below_points: Decimal) -> None:
    """Exactly at a band's minimum earns the band; just below earns the band beneath (or else_points)."""
    at = leaf(bundle, code, [f"{code}={text(minimum)}"])
    assert at.points == at_points, at.reason
    below = leaf(bundle, code, [f"{code}={text(_hair_below(code, minimum))}"])
    assert below.points == below_points, below.reason


def _ratio_cases() -> list[Any]:
    return [c for c in _band_cases() if BAND_RULES[c.values[0]].kind == "ratio"]


@pytest.mark.parametrize("code, minimum, at_points, below_points", _ratio_cases())
def test_every_ratio_boundary_from_counts(bundle: Bundle, code: str, minimum: Fraction, at_points: Decimal,
                                          below_points: Decimal) -> None:
    """The same boundaries reached from counts in the evidence (numerator/denominator)."""
    rule = BAND_RULES[code].rule
    den = minimum.denominator * 1000
    num = minimum.numerator * 1000
    at = leaf(bundle, code, ev=with_values(all_met(), code, **{rule.numerator: num, rule.denominator: den}))
    assert at.points == at_points, at.reason
    below = leaf(bundle, code, ev=with_values(all_met(), code, **{rule.numerator: num - 1, rule.denominator: den}))
    assert below.points == below_points, below.reason


# ------------------------------------------------------------------ ways to write a rate


@pytest.mark.parametrize("raw, points", [("98%", "3"), ("98,5%", "3"), ("98.5%", "3"), ("49/50", "3"),
                                         ("0.98", "3"), ("0,98", "3"), ("97,99%", "2"), ("0.9799", "2"),
                                         ("4899/5000", "2"), ("100%", "3"), ("1", "3"), ("0", "0")])
def test_rate_forms_via_set(bundle: Bundle, raw: str, points: str) -> None:
    assert leaf(bundle, "3.4.1", [f"3.4.1={raw}"]).points == Decimal(points)


@pytest.mark.parametrize("raw, points", [("80%", "2.5"), ("80,0%", "2.5"), ("4/5", "2.5"), (0.8, "2.5"),
                                         ("0,8", "2.5"), ("79,99%", "1.25"), ("60%", "1.25"), ("59,9%", "0")])
def test_rate_forms_in_evidence(bundle: Bundle, raw: Any, points: str) -> None:
    node = leaf(bundle, "7.2.1", ev=with_values(all_met(), "7.2.1", lowest_unit_rate=raw))
    assert node.points == Decimal(points)


# ------------------------------------------------------------------ a hair from a threshold, as doubles


HAIR_BELOW_98 = "4899999999999999999/5000000000000000000"
HAIR_ABOVE_95 = "4750000000000000001/5000000000000000000"
HAIR_BELOW_95 = "4749999999999999999/5000000000000000000"


def test_hair_values_round_to_the_thresholds_as_doubles() -> None:
    """The premise of the next tests: as IEEE doubles these rates ARE the thresholds."""
    assert float(Fraction(HAIR_BELOW_98)) == float(Fraction(49, 50)) == 0.98
    assert float(Fraction(HAIR_ABOVE_95)) == float(Fraction(HAIR_BELOW_95)) == 0.95


@pytest.mark.parametrize("raw, points", [(HAIR_BELOW_98, "2"), (HAIR_ABOVE_95, "2"), (HAIR_BELOW_95, "1")])
def test_hair_from_threshold_keeps_its_side(bundle: Bundle, raw: str, points: str) -> None:
    assert leaf(bundle, "3.4.1", [f"3.4.1={raw}"]).points == Decimal(points)


@pytest.mark.parametrize("raw, points", [("0.97999999999999999999", "2"), ("97,999999999999999999%", "2"),
                                         ("0.95000000000000000001", "2"), ("0.94999999999999999999", "1")])
def test_hair_from_threshold_as_decimal_text(bundle: Bundle, raw: str, points: str) -> None:
    from scoring.core.evidence import parse_rate

    assert float(parse_rate(raw)) in (0.98, 0.95)  # as a double the rate IS the threshold
    assert leaf(bundle, "3.4.1", [f"3.4.1={raw}"]).points == Decimal(points)


def test_hair_below_threshold_via_cli(capsys: pytest.CaptureFixture[str]) -> None:
    from fixtures.kit import ALL_MET

    assert main(["score", str(ALL_MET), "--format", "json", "--set", f"3.4.1={HAIR_BELOW_98}"]) == 0
    data = json.loads(capsys.readouterr().out)
    rec = next(c for c in data["criteria"] if c["code"] == "3.4.1")
    assert rec["points"] == 2 and rec["outcome"] == "partial"


def test_hair_below_via_counts(bundle: Bundle) -> None:
    ev = with_values(all_met(), "3.4.1", on_time=4899999999999999999, received=5000000000000000000)
    assert leaf(bundle, "3.4.1", ev=ev).points == Decimal(2)


# ------------------------------------------------------------------ checks inside all / any, deadlines


@pytest.mark.parametrize("code, values, points", [
    ("7.3.1", {"digitised_rate": "80%", "reuse_rate": "50%"}, "3"),
    ("7.3.1", {"digitised_rate": "79,9%", "reuse_rate": "50%"}, "0"),
    ("7.3.1", {"digitised_rate": "80%", "reuse_rate": "49,9%"}, "0"),
    ("1.1", {"plan_issued_on": "31/12/2024", "plan_deadline": "31/12/2024"}, "2"),
    ("1.1", {"plan_issued_on": "01/01/2025", "plan_deadline": "31/12/2024"}, "0"),
    ("1.1", {"tasks_done_rate": "99,99%"}, "0"),
    ("1.4", {"seminars": 0}, "0"),
    ("1.4", {"news_items": 1, "seminars": 1}, "1.5"),
])
def test_check_boundaries(bundle: Bundle, code: str, values: dict[str, Any], points: str) -> None:
    assert leaf(bundle, code, ev=with_values(all_met(), code, **values)).points == Decimal(points)


@pytest.mark.parametrize("year_end, points, branch", [
    ("15/12/2025", "1.5", "on_time"),   # on the due day
    ("16/12/2025", "0.75", "late"),     # one day late
    ("", "0", "missing"),               # not delivered
])
def test_deadline_boundary(bundle: Bundle, year_end: str, points: str, branch: str) -> None:
    reports = {"Quý I": "15/03/2025", "6 tháng": "15/06/2025", "9 tháng": "15/09/2025", "Năm": year_end}
    node = leaf(bundle, "1.2", ev=with_values(all_met(), "1.2", reports=reports))
    assert (node.points, node.branch) == (Decimal(points), branch)


@pytest.mark.parametrize("given, points, outcome", [("3", "3", "met"), ("0", "0", "not_met"),
                                                    ("2.95", "2.95", "partial")])
def test_external_points(bundle: Bundle, given: str, points: str, outcome: str) -> None:
    node = leaf(bundle, "8.1.1", ev=with_values(all_met(), "8.1.1", points=given))
    assert (node.points, node.outcome) == (Decimal(points), outcome)


def test_external_points_above_max_is_an_error(bundle: Bundle) -> None:
    with pytest.raises(InputError) as info:
        score(bundle, with_values(all_met(), "8.1.1", points="3.01"))
    assert [p.code for p in info.value.problems] == ["points_above_max"]


# ------------------------------------------------------------------ zero denominators


@pytest.mark.parametrize("code, names, policy, points, max_points", [
    ("1.6", ("tasks_on_time", "tasks_assigned"), "award_max", "3", "3"),
    ("1.3.1", ("units_inspected", "units_planned"), "zero", "0", "1"),
    ("7.3.4", ("paid_online", "payments"), "exclude", "0", "0"),
    ("3.4.3", ("late_with_apology", "late"), "redistribute", "0", "0"),
])
def test_zero_over_zero_is_not_applicable(bundle: Bundle, code: str, names: tuple[str, str], policy: str,
                                          points: str, max_points: str) -> None:
    node = leaf(bundle, code, ev=with_values(all_met(), code, **{names[0]: 0, names[1]: 0}))
    assert node.outcome == "not_applicable"
    assert node.not_applicable_policy == policy
    assert (node.points, node.max_points) == (Decimal(points), Decimal(max_points))


def test_zero_over_zero_same_as_declared_not_applicable(bundle: Bundle) -> None:
    by_counts = score(bundle, with_values(all_met(), "3.4.3", late_with_apology=0, late=0))
    declared = score(bundle, not_applicable(all_met(), "3.4.3"))
    for code in ("3.4.1", "3.4.3", "3.4", "3"):
        a, b = by_counts.node(code), declared.node(code)
        assert (a.points, a.max_points) == (b.points, b.max_points), code
    assert by_counts.node("3.4.1").max_points == Decimal(4)


@pytest.mark.parametrize("num", [1, 5])
def test_n_over_zero_is_an_error(bundle: Bundle, num: int) -> None:
    with pytest.raises(InputError) as info:
        score(bundle, with_values(all_met(), "1.6", tasks_on_time=num, tasks_assigned=0))
    problems = info.value.problems
    assert [p.code for p in problems] == ["numerator_above_denominator"]
    assert problems[0].subject == "1.6"
    assert "tasks_on_time" in problems[0].message


def test_set_rate_with_zero_denominator_is_an_error(bundle: Bundle) -> None:
    with pytest.raises(InputError) as info:
        score(bundle, all_met(), overrides_from(["3.4.1=5/0"]))
    assert [p.code for p in info.value.problems] == ["bad_value"]


def test_dates_are_compared_by_day(bundle: Bundle) -> None:
    """Python dates (from unquoted YAML) and day-first text compare the same way."""
    node = leaf(bundle, "1.1", ev=with_values(all_met(), "1.1", plan_issued_on=dt.date(2024, 12, 31),
                                              plan_deadline="31/12/2024"))
    assert node.points == Decimal(2)
