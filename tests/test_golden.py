"""Golden folders (checkov style): tests/golden/<case>/evidence.yaml + expected.yaml.

A new case is new data, not new code. expected.yaml holds values worked out by hand from the
rules (never pasted from the engine's output):

    default_leaf: met          # leaves not listed under nodes: met, points = max = nominal max
    total: {points, max_points, percent, fields_points, bonus, penalty, ...}
    nodes: {code: {points, max_points, nominal_max_points, lost, outcome, branch, missing, ...}}
    lost: [codes, largest loss first]
    warnings: []               # exact list, or warnings_contain: [...] and warnings_count: n
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import yaml

from scoring.core.engine import score
from scoring.core.evidence import load_evidence
from scoring.core.rules import Bundle, load_bundle
from scoring.core.scorecard import NodeResult, Scorecard

GOLDEN = Path(__file__).resolve().parent / "golden"
CASES = sorted(p.name for p in GOLDEN.iterdir() if (p / "expected.yaml").is_file())
DECIMAL_KEYS = {"points", "max_points", "nominal_max_points", "lost", "percent", "fields_points", "bonus",
                "penalty", "bonus_claimed", "penalty_claimed", "self_assessed_points", "self_assessed_max_points"}


def _dec(value: Any) -> Decimal:
    return Decimal(str(value))


def _compare(where: str, actual: Any, expected: dict[str, Any], errors: list[str]) -> None:
    for key, want in expected.items():
        got = getattr(actual, key)
        if key in DECIMAL_KEYS:
            ok = got is not None and Decimal(got) == _dec(want)
        elif key == "missing":
            ok = list(got) == list(want)
        else:
            ok = got == want
        if not ok:
            errors.append(f"{where}.{key}: expected {want!r}, got {got!r}")


def _check_default_leaf(node: NodeResult, default: str, errors: list[str]) -> None:
    if default != "met":
        raise AssertionError(f"unknown default_leaf {default!r}")
    if node.outcome != "met" or node.points != node.max_points or node.max_points != node.nominal_max_points:
        errors.append(f"{node.code}: expected met at full points, got {node.outcome} "
                      f"{node.points}/{node.max_points} (nominal {node.nominal_max_points}): {node.reason}")


def check_card(card: Scorecard, expected: dict[str, Any]) -> list[str]:
    """Every difference between a scorecard and an expected.yaml, as readable lines."""
    errors: list[str] = []
    _compare("total", card.total, expected.get("total", {}), errors)
    nodes: dict[str, Any] = expected.get("nodes", {})
    known = {n.code for n in card.nodes}
    for code, want in nodes.items():
        if code not in known:
            errors.append(f"{code}: not in the scorecard")
            continue
        _compare(code, card.node(code), want, errors)
    if "default_leaf" in expected:
        for leaf in card.leaves():
            if leaf.code not in nodes:
                _check_default_leaf(leaf, expected["default_leaf"], errors)
    if "lost" in expected:
        got = [n.code for n in card.lost_points()]
        if got != list(expected["lost"]):
            errors.append(f"lost order: expected {expected['lost']}, got {got}")
    if "warnings" in expected and list(card.warnings) != list(expected["warnings"]):
        errors.append(f"warnings: expected {expected['warnings']}, got {list(card.warnings)}")
    for part in expected.get("warnings_contain", []):
        if not any(part in w for w in card.warnings):
            errors.append(f"warnings: none contains {part!r}: {list(card.warnings)}")
    if "warnings_count" in expected and len(card.warnings) != expected["warnings_count"]:
        errors.append(f"warnings: expected {expected['warnings_count']}, got {list(card.warnings)}")
    return errors


_OTHER_SETS: dict[str, Bundle] = {}


def _bundle_for(default: Bundle, folder: Path) -> Bundle:
    """The bundle the case's evidence names in criteria_set (the session's cap-so-2025 for most cases)."""
    set_id = load_evidence(folder / "evidence.yaml").criteria_set
    if set_id == default.criteria.id:
        return default
    if set_id not in _OTHER_SETS:
        _OTHER_SETS[set_id] = load_bundle(set_id=set_id)
    return _OTHER_SETS[set_id]


def test_there_are_enough_golden_cases() -> None:
    assert len(CASES) >= 6, CASES


@pytest.mark.parametrize("case", CASES)
def test_golden(case: str, bundle: Bundle) -> None:
    folder = GOLDEN / case
    expected = yaml.safe_load((folder / "expected.yaml").read_text(encoding="utf-8"))
    card = score(_bundle_for(bundle, folder), load_evidence(folder / "evidence.yaml"))
    errors = check_card(card, expected)
    assert not errors, f"golden case '{case}':\n  " + "\n  ".join(errors)


@pytest.mark.parametrize("case", CASES)
def test_golden_invariants(case: str, bundle: Bundle) -> None:
    """Whatever the case, every node's max − points equals the sum of its leaves' losses."""
    card = score(_bundle_for(bundle, GOLDEN / case), load_evidence(GOLDEN / case / "evidence.yaml"))
    leaves = card.leaves()
    for node in card.nodes:
        under = [n for n in leaves if n.code == node.code or n.code.startswith(node.code + ".")]
        assert node.max_points - node.points == node.lost == sum((n.lost for n in under), Decimal(0)), node.code
        assert Decimal(0) <= node.points <= node.max_points, node.code
    t = card.total
    fields = [n for n in card.nodes if n.level == "field"]
    assert t.points == sum((f.points for f in fields), Decimal(0)) + t.bonus - t.penalty
    assert t.max_points == sum((f.max_points for f in fields), Decimal(0))


def test_checker_catches_a_wrong_expectation(bundle: Bundle) -> None:
    """The golden comparison itself can fail: a wrong total, outcome or order is reported."""
    card = score(bundle, load_evidence(GOLDEN / "typical" / "evidence.yaml"))
    wrong = {"total": {"points": "84.5"}, "nodes": {"1.5": {"outcome": "met"}},
             "lost": ["6.3", "3.4.4"], "default_leaf": "met"}
    errors = check_card(card, wrong)
    assert any(e.startswith("total.points") for e in errors)
    assert any(e.startswith("1.5.outcome") for e in errors)
    assert any(e.startswith("lost order") for e in errors)
    assert any(e.startswith("3.4.4:") for e in errors)  # not listed, so expected met by default
