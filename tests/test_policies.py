"""Each "không phát sinh" policy: award_max, exclude, redistribute, zero — bundled set and fixture set."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pytest

from fixtures.kit import KINDS_CRITERIA, KINDS_RULES, all_met, evidence_for, not_applicable, with_values
from scoring.core.engine import overrides_from, score
from scoring.core.evidence import LeafEvidence
from scoring.core.rules import Bundle, load_bundle
from scoring.core.scorecard import Scorecard

D = Decimal


@pytest.fixture(scope="module")
def kinds() -> Iterator[Bundle]:
    b = load_bundle(KINDS_CRITERIA, KINDS_RULES)
    yield b
    b.close()


def sums_hold(card: Scorecard) -> None:
    leaves = card.leaves()
    for node in card.nodes:
        under = [n for n in leaves if n.code == node.code or n.code.startswith(node.code + ".")]
        assert node.lost == node.max_points - node.points == sum((n.lost for n in under), D(0)), node.code
    fields = [n for n in card.nodes if n.level == "field"]
    assert card.total.max_points == sum((f.max_points for f in fields), D(0))


# ------------------------------------------------------------------ bundled set


class TestBundled:
    def test_award_max(self, bundle: Bundle) -> None:
        card = score(bundle, not_applicable(all_met(), "2.3.2"))
        node = card.node("2.3.2")
        assert (node.points, node.max_points, node.lost) == (D("1.5"), D("1.5"), D(0))
        assert node.outcome == "not_applicable" and node.not_applicable_policy == "award_max"
        assert "Không phát sinh" in node.reason and "được điểm tối đa" in node.reason
        assert "kiểm thử" in node.reason  # the department's justification is quoted
        assert node.guidance is None
        assert card.node("2").points == D(8)
        sums_hold(card)

    def test_exclude(self, bundle: Bundle) -> None:
        card = score(bundle, not_applicable(all_met(), "7.3.4"))
        node = card.node("7.3.4")
        assert (node.points, node.max_points, node.nominal_max_points, node.lost) == (D(0), D(0), D("2.5"), D(0))
        assert node.not_applicable_policy == "exclude" and "không tính vào điểm tối đa" in node.reason
        assert (card.node("7").points, card.node("7").max_points) == (D("14.5"), D("14.5"))
        assert card.total.max_points == D("97.5")
        assert card.total.points == D("97")  # 99,5 − 2,5
        assert card.total.percent == D("99.49")  # 97 / 97,5 = 99,487… %
        assert card.total.self_assessed_max_points == D("77.5")
        assert "7.3.4" not in [n.code for n in card.lost_points()]
        sums_hold(card)

    def test_redistribute(self, bundle: Bundle) -> None:
        card = score(bundle, not_applicable(all_met(), "3.4.3"))
        gone, target = card.node("3.4.3"), card.node("3.4.1")
        assert (gone.points, gone.max_points, gone.lost) == (D(0), D(0), D(0))
        assert gone.not_applicable_policy == "redistribute" and "3.4.1" in gone.reason
        assert (target.points, target.max_points, target.nominal_max_points) == (D(4), D(4), D(3))
        assert target.outcome == "met"
        assert (card.node("3.4").max_points, card.node("3").max_points) == (D(8), D(20))
        assert card.total.max_points == D(100)
        sums_hold(card)

    def test_redistribute_then_the_target_loses_in_proportion(self, bundle: Bundle) -> None:
        ev = with_values(not_applicable(all_met(), "3.4.3"), "3.4.1", on_time=4500, received=5000)  # 90 %: 1 of 3
        target = score(bundle, ev).node("3.4.1")
        assert (target.points, target.max_points, target.lost) == (D("1.33"), D(4), D("2.67"))  # 1 × 4/3
        assert target.outcome == "partial"
        assert "3 → 4" in target.reason

    def test_redistribute_to_a_target_without_evidence(self, bundle: Bundle) -> None:
        ev = not_applicable(all_met(), "3.4.3")
        ev = ev.model_copy(update={"evidence": {k: v for k, v in ev.evidence.items() if k != "3.4.1"}})
        target = score(bundle, ev).node("3.4.1")
        assert (target.outcome, target.points, target.max_points, target.lost) == ("missing_evidence", D(0), D(4), D(4))

    def test_zero(self, bundle: Bundle) -> None:
        card = score(bundle, not_applicable(all_met(), "3.4.4"))
        node = card.node("3.4.4")
        assert (node.points, node.max_points, node.lost) == (D(0), D(4), D(4))
        assert node.outcome == "not_applicable" and node.not_applicable_policy == "zero"
        assert "Mất 4 điểm" in node.reason
        assert [n.code for n in card.lost_points()][:1] == ["3.4.4"]
        sums_hold(card)

    @pytest.mark.parametrize("word", ["na", "N/A", "không phát sinh", "kps"])
    def test_set_not_applicable(self, bundle: Bundle, word: str) -> None:
        card = score(bundle, all_met(), overrides_from([f"3.4.3={word}"]))
        assert card.node("3.4.3").outcome == "not_applicable"
        assert card.node("3.4.1").max_points == D(4)

    def test_set_value_overrides_a_declared_not_applicable(self, bundle: Bundle) -> None:
        card = score(bundle, not_applicable(all_met(), "2.3.2"), overrides_from(["2.3.2=50%"]))
        node = card.node("2.3.2")
        assert (node.outcome, node.points, node.max_points) == ("not_met", D(0), D("1.5"))

    def test_declared_not_applicable_wins_over_values(self, bundle: Bundle) -> None:
        leaf = LeafEvidence(values={"unlawful_handled": 0, "unlawful_found": 3}, not_applicable=True)
        ev = all_met().model_copy(update={"evidence": {**all_met().evidence, "2.3.2": leaf}})
        assert score(bundle, ev).node("2.3.2").outcome == "not_applicable"

    def test_missing_is_not_not_applicable(self, bundle: Bundle) -> None:
        """Missing evidence never takes a không phát sinh policy: award_max leaves lose their points."""
        ev = all_met().model_copy(update={"evidence": {k: v for k, v in all_met().evidence.items() if k != "2.3.2"}})
        node = score(bundle, ev).node("2.3.2")
        assert (node.outcome, node.points, node.lost) == ("missing_evidence", D(0), D("1.5"))

    def test_every_policy_at_once(self, bundle: Bundle) -> None:
        ev = all_met()
        for code in ("2.3.2", "7.3.4", "3.4.3", "3.4.4"):
            ev = not_applicable(ev, code)
        card = score(bundle, ev)
        assert card.total.max_points == D("97.5")
        assert card.total.points == D("99.5") - D("2.5") - D(4)
        sums_hold(card)


# ------------------------------------------------------------------ fixture set (tests/fixtures/kinds)

FULL = {
    "2.1": {"done": 5, "total": 5}, "2.2": {"done": 4, "total": 4}, "2.3": {"rate": "100%"},
    "2.4": {"done": 2, "total": 2}, "2.5": {"done": "có"}, "2.6": {"n": 1},
}


def field2(kinds: Bundle, **changes: dict[str, object]) -> Scorecard:
    evidence = {**FULL, **changes}
    return score(kinds, evidence_for("kinds-2025", evidence), strict=False)


class TestFixture:
    def test_all_met(self, kinds: Bundle) -> None:
        card = field2(kinds)
        assert (card.node("2").points, card.node("2").max_points) == (D(8), D(8))

    def test_award_max(self, kinds: Bundle) -> None:
        node = field2(kinds, **{"2.5": {"na": True}}).node("2.5")
        assert (node.points, node.max_points, node.outcome) == (D(1), D(1), "not_applicable")

    def test_exclude(self, kinds: Bundle) -> None:
        card = field2(kinds, **{"2.4": {"na": True}})
        assert (card.node("2.4").max_points, card.node("2").max_points, card.node("2").points) == (D(0), D(7), D(7))

    def test_zero(self, kinds: Bundle) -> None:
        node = field2(kinds, **{"2.6": {"na": True}}).node("2.6")
        assert (node.points, node.max_points, node.lost) == (D(0), D(2), D(2))

    def test_zero_by_zero_count_band(self, kinds: Bundle) -> None:
        node = field2(kinds, **{"2.6": {"n": 0}}).node("2.6")
        assert (node.points, node.outcome) == (D(0), "not_met")

    def test_redistribute_splits_in_proportion_and_adds_up(self, kinds: Bundle) -> None:
        """1 point to 2.2 (max 1) and 2.3 (max 2): 0,33 and the rest, 0,67; nothing lost or created."""
        card = field2(kinds, **{"2.1": {"na": True}})
        assert card.node("2.1").max_points == D(0)
        assert card.node("2.2").max_points == D("1.33")
        assert card.node("2.3").max_points == D("2.67")
        assert card.node("2").max_points == D(8)
        assert card.node("2").points == D(8)
        sums_hold(card)

    def test_redistribute_receivers_partly_met(self, kinds: Bundle) -> None:
        card = field2(kinds, **{"2.1": {"na": True}, "2.3": {"rate": "50%"}})
        node = card.node("2.3")
        # band ≥50 %: 1 of 2, scaled to the new maximum 2,67: 1,335 → 1,34 (half up)
        assert (node.points, node.max_points, node.lost) == (D("1.34"), D("2.67"), D("1.33"))
        sums_hold(card)

    def test_redistribute_to_an_award_max_receiver_that_did_not_arise(self, kinds: Bundle) -> None:
        card = field2(kinds, **{"2.1": {"na": True}, "2.2": {"na": True}})
        node = card.node("2.2")
        assert (node.points, node.max_points) == (D("1.33"), D("1.33"))
        sums_hold(card)

    def test_not_applicable_overridden_by_set(self, kinds: Bundle) -> None:
        card = score(kinds, evidence_for("kinds-2025", {**FULL, "2.4": {"na": True}}), overrides_from(["2.4=1/2"]),
                     strict=False)
        assert (card.node("2.4").points, card.node("2.4").max_points) == (D(0), D(1))


def _variant(tmp_path: Path, edits: list[tuple[str, str]]) -> Bundle:
    shutil.copytree(KINDS_CRITERIA, tmp_path / "criteria")
    shutil.copytree(KINDS_RULES, tmp_path / "rules")
    path = tmp_path / "rules" / "kinds-2025" / "rules.yaml"
    text = path.read_text(encoding="utf-8")
    for old, new in edits:
        assert text.count(old) == 1, old
        text = text.replace(old, new)
    path.write_text(text, encoding="utf-8")
    return load_bundle(tmp_path / "criteria", tmp_path / "rules")


RULE_22_POLICY = """      - {min: 0.5, points: 0.5}
    not_applicable: {policy: award_max}"""


def test_excluded_receiver_gets_nothing_and_the_other_receiver_gets_all(tmp_path: Path) -> None:
    b = _variant(tmp_path, [(RULE_22_POLICY, RULE_22_POLICY.replace("award_max", "exclude"))])
    try:
        card = score(b, evidence_for("kinds-2025", {**FULL, "2.1": {"na": True}, "2.2": {"na": True}}), strict=False)
        assert (card.node("2.2").max_points, card.node("2.2").lost) == (D(0), D(0))
        assert card.node("2.3").max_points == D(3)  # its 2 + all of 2.1's point
        assert card.node("2").max_points == D(7)  # 8 − 2.2's excluded point
        sums_hold(card)
    finally:
        b.close()


def test_redistribution_does_not_depend_on_rule_order(tmp_path: Path) -> None:
    """2.4 (after 2.2 in the tree) gives its point to 2.2, which is excluded: the point is left out."""
    b = _variant(tmp_path, [("not_applicable: {policy: exclude}", 'not_applicable: {policy: redistribute, to: ["2.2"]}'),
                            (RULE_22_POLICY, RULE_22_POLICY.replace("award_max", "exclude"))])
    try:
        card = score(b, evidence_for("kinds-2025", {**FULL, "2.2": {"na": True}, "2.4": {"na": True}}), strict=False)
        for code in ("2.2", "2.4"):
            node = card.node(code)
            assert (node.points, node.max_points, node.lost) == (D(0), D(0), D(0)), code
        assert card.node("2").max_points == D(6)
        sums_hold(card)
    finally:
        b.close()
