"""The "choose a level" and "points" rule kinds, strict bounds (above / below), and ``--set CODE=level:N``
on every kind: the same points from durable-rules (score) and the vectorised path (simulate/plan)."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest

from fixtures.kit import KINDS_CRITERIA, KINDS_RULES, evidence_for
from scoring.core.durable import covers_every_fact
from scoring.core.engine import overrides_from, score
from scoring.core.errors import InputError
from scoring.core.rules import Bundle, load_bundle
from scoring.core.vector import VectorScorer, from_hundredths

D = Decimal


@pytest.fixture(scope="module")
def kinds() -> Iterator[Bundle]:
    b = load_bundle(KINDS_CRITERIA, KINDS_RULES)
    yield b
    b.close()


@pytest.fixture(scope="module")
def scorer(kinds: Bundle) -> VectorScorer:
    return VectorScorer(kinds)


def both(kinds: Bundle, scorer: VectorScorer, code: str, values: dict[str, Any] | None,
         sets: list[str] | None = None) -> tuple[Decimal, Any]:
    """Points of one leaf by score() and by the vector path; they must agree."""
    ev = evidence_for("kinds-2025", {code: values} if values else {})
    overrides = overrides_from(sets)
    node = score(kinds, ev, overrides, strict=False).node(code)
    pool, found = scorer.pool(ev, code, [overrides.get(code)])
    assert not found
    assert from_hundredths(int(pool.final[0])) == node.points
    return node.points, node


@pytest.mark.parametrize("raw, points, band", [
    (1, "1", "Ban hành kịp thời"), (2, "0.5", "Ban hành không kịp thời"), (3, "0", "Không ban hành"),
    ("Ban hành không kịp thời", "0.5", "Ban hành không kịp thời"),
    ("  ban hành KỊP THỜI ", "1", "Ban hành kịp thời"), ("- Không ban hành", "0", "Không ban hành"),
    ("level:2", "0.5", "Ban hành không kịp thời"), ("mức 3", "0", "Không ban hành"), ("1", "1", "Ban hành kịp thời"),
])
def test_level_rule(kinds: Bundle, scorer: VectorScorer, raw: Any, points: str, band: str) -> None:
    pts, node = both(kinds, scorer, "3.1", {"level": raw})
    assert pts == D(points) and node.band == band and band in (node.measured_text or "")
    if pts < 1:
        assert band in node.reason  # the explanation names the level in the province's words


@pytest.mark.parametrize("raw", [0, 4, "Ban hành chậm", True])
def test_level_rule_refuses_what_is_not_a_level(kinds: Bundle, raw: Any) -> None:
    with pytest.raises(InputError) as exc:
        score(kinds, evidence_for("kinds-2025", {"3.1": {"level": raw}}), strict=False)
    (p,) = exc.value.problems
    assert p.code == "bad_value" and "mức" in p.message and "1. Ban hành kịp thời" in (p.hint or "")


@pytest.mark.parametrize("raw, points", [("2", "2"), ("1,5", "1.5"), (0, "0"), ("0,25", "0.25")])
def test_points_rule(kinds: Bundle, scorer: VectorScorer, raw: Any, points: str) -> None:
    pts, node = both(kinds, scorer, "3.2", {"points": raw})
    assert pts == D(points) and node.kind == "points"


def test_points_rule_refuses_more_than_the_maximum(kinds: Bundle) -> None:
    with pytest.raises(InputError) as exc:
        score(kinds, evidence_for("kinds-2025", {"3.2": {"points": "2,5"}}), strict=False)
    assert [p.code for p in exc.value.problems] == ["points_above_max"]


@pytest.mark.parametrize("rate, points, band", [
    ("99,01%", "2", "trên 99%"), ("99%", "1", "từ 95% đến 99%"), ("100%", "2", "trên 99%"),
    ("95%", "1", "từ 95% đến 99%"), ("94,99%", "0", "dưới 95%"),
])
def test_strict_lower_bound(kinds: Bundle, scorer: VectorScorer, rate: str, points: str, band: str) -> None:
    pts, node = both(kinds, scorer, "3.3", {"rate": rate})
    assert (pts, node.band) == (D(points), band)


@pytest.mark.parametrize("rate, points, band", [
    ("0%", "3", "dưới 1%"), ("0,99%", "3", "dưới 1%"), ("1%", "1.5", "từ 1% đến 5%"),
    ("5%", "1.5", "từ 1% đến 5%"), ("5,01%", "0", "trên 5%"), ("100%", "0", "trên 5%"),
])
def test_less_is_better_bounds(kinds: Bundle, scorer: VectorScorer, rate: str, points: str, band: str) -> None:
    pts, node = both(kinds, scorer, "3.4", {"late": rate})
    assert (pts, node.band) == (D(points), band)


@pytest.mark.parametrize("code, n, points", [
    ("1.1", 1, "2"), ("1.1", 2, "1"), ("1.1", 3, "0.25"), ("1.3", 2, "0.5"), ("1.4", 1, "1"), ("1.4", 2, "0"),
    ("1.2", 2, "1.5"), ("1.6", 1, "2"), ("1.9", 2, "0"), ("3.1", 2, "0.5"), ("3.3", 1, "2"), ("3.3", 2, "1"),
    ("3.4", 3, "0"), ("3.4", 1, "3"),
])
def test_set_level_n_on_every_kind(kinds: Bundle, scorer: VectorScorer, code: str, n: int, points: str) -> None:
    pts, node = both(kinds, scorer, code, None, [f"{code}=level:{n}"])
    assert pts == D(points) and f"mức {n}" in (node.measured_text or "")


def test_set_level_out_of_range_lists_the_levels(kinds: Bundle) -> None:
    with pytest.raises(InputError) as exc:
        score(kinds, evidence_for("kinds-2025", {}), overrides_from(["1.1=level:4"]), strict=False)
    (p,) = exc.value.problems
    assert p.code == "bad_value" and "3 mức" in p.message and "1. từ 90% trở lên (2 điểm)" in p.hint


def test_set_level_on_a_points_rule_says_to_give_points(kinds: Bundle) -> None:
    with pytest.raises(InputError) as exc:
        score(kinds, evidence_for("kinds-2025", {}), overrides_from(["3.2=level:1"]), strict=False)
    (p,) = exc.value.problems
    assert p.code == "cannot_set" and "3.2=1,5" in p.hint


def test_new_kinds_are_proven_to_cover_every_fact(kinds: Bundle) -> None:
    for code in ("3.1", "3.2", "3.3", "3.4"):
        assert covers_every_fact(kinds.rules[code])
