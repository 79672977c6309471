"""The durable-rules adapter (scoring/durable.py) closes the traps listed in shared/DURABLE-RULES.md.

Soak: 2 000 assessments in one process agree with the exact pure-Python reference
(CompiledRule.select), start no threads and keep memory flat. Cases that crash durable-rules'
C code are run in a child process so that a segfault fails one test, not the whole run.
"""

from __future__ import annotations

import gc
import math
import os
import random
import subprocess
import sys
import textwrap
import threading
from decimal import Decimal
from fractions import Fraction
from pathlib import Path
from typing import Any

import pytest

from fixtures.kit import FIXTURES, KINDS_CRITERIA, KINDS_RULES, ROOT
from scoring.core.durable import DurableEvaluator, evaluator_for, exact_double
from scoring.core.errors import DefinitionError, EngineError
from scoring.core.rules import Bundle, CompiledRule, RulesFile, compile_rule, load_bundle
from scoring.core.yamlio import load_yaml

EPS = Fraction(1, 10**9)


def rss_mib() -> float:
    with open("/proc/self/statm", encoding="ascii") as handle:
        return int(handle.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


class Facts:
    """Random facts for every rule: values on, just off and between the rule's thresholds."""

    def __init__(self, rules: list[CompiledRule], seed: int) -> None:
        self.rules = rules
        self.rng = random.Random(seed)
        self.thresholds = {r.code: {f: r.thresholds(f) for f in r.fields} for r in rules}

    def value(self, rule: CompiledRule, name: str) -> Fraction:
        rng = self.rng
        ts = self.thresholds[rule.code][name]
        pick = rng.random()
        if ts and pick < 0.55:
            t = rng.choice(ts)
            x = t + rng.choice((Fraction(0), Fraction(0), EPS, -EPS, Fraction(1, 100), -Fraction(1, 100)))
        elif pick < 0.65:  # tiny: doubles durable-rules would read wrongly in exponent form (1e-09)
            x = Fraction(rng.randint(1, 9), 10 ** rng.randint(5, 30)) * rng.choice((1, -1))
        elif pick < 0.7:  # huge, likewise (1e+20)
            x = Fraction(10 ** rng.randint(15, 40)) * rng.choice((1, -1))
        else:
            x = Fraction(rng.randint(0, 20000), 10000)
        return x if name.startswith("c") or x >= 0 else -x

    def fact(self, rule: CompiledRule) -> dict[str, Fraction]:
        if rule.kind == "deadline":
            n = len(rule.rule.items)
            delivered = self.rng.randint(0, n)
            return {"delivered": Fraction(delivered), "late": Fraction(self.rng.randint(0, delivered))}
        return {name: self.value(rule, name) for name in rule.fields}

    def assessment(self) -> dict[str, dict[str, Fraction]]:
        return {r.code: self.fact(r) for r in self.rules if self.rng.random() < 0.5}


@pytest.fixture(scope="module")
def evaluator(bundle: Bundle) -> Any:
    ev = DurableEvaluator(list(bundle.rules.values()), name="soak")
    yield ev
    ev.close()


def test_only_the_adapter_imports_durable_rules() -> None:
    for path in sorted((ROOT / "scoring").rglob("*.py")):
        text = path.read_text(encoding="utf-8")
        imports = "import durable" in text or "from durable" in text
        assert imports == (path.relative_to(ROOT) == Path("scoring/core/durable.py")), path


def test_2000_assessments_agree_with_the_reference(bundle: Bundle, evaluator: Any) -> None:
    rules = list(bundle.rules.values())
    facts = Facts(rules, seed=20251231)
    for _ in range(100):  # warm-up: caches, first allocations
        evaluator.evaluate(facts.assessment())
    gc.collect()
    threads, memory = threading.active_count(), rss_mib()
    fired: dict[str, set[str]] = {}
    reference: dict[tuple[str, tuple[Fraction, ...]], Any] = {}  # select() is exact but slow: remember it
    for i in range(2000):
        assessment = facts.assessment()
        result = evaluator.evaluate(assessment)
        assert set(result) == set(assessment), i
        for code, fact in assessment.items():
            key = (code, tuple(fact.values()))
            if key not in reference:
                reference[key] = bundle.rules[code].select(fact)
            want = reference[key]
            assert result[code] == want, (i, code, fact, result[code].id, want.id)
            fired.setdefault(code, set()).add(want.id)
    gc.collect()
    assert threading.active_count() == threads
    assert rss_mib() - memory < 8, f"memory grew by {rss_mib() - memory:.1f} MiB"
    assert not evaluator._fired  # no per-session bookkeeping left behind
    # the random facts really did exercise every branch of every rule
    # every reachable branch fired at least once (an external rule's "else" guards negative points,
    # which evidence parsing refuses, so it cannot fire)
    reachable = {r.code: {b.id for b in r.branches if not (r.kind == "external" and b.id == "else")} for r in rules}
    assert all(fired[r.code] >= reachable[r.code] for r in rules if r.code in fired), {
        r.code: (sorted(fired[r.code]), sorted(reachable[r.code])) for r in rules
        if r.code in fired and not fired[r.code] >= reachable[r.code]}


def test_a_branch_is_fired_the_same_as_select_at_every_threshold(bundle: Bundle, evaluator: Any) -> None:
    for rule in bundle.rules.values():
        for name in rule.fields:
            for t in rule.thresholds(name):
                for x in (t - EPS, t, t + EPS):  # near 0 these are exponent-form doubles (1e-09)
                    if x < 0 and not name.startswith("c"):
                        continue
                    base = {f: (rule.thresholds(f) or [Fraction(0)])[0] for f in rule.fields}
                    fact = {**base, name: x}
                    assert evaluator.evaluate({rule.code: fact})[rule.code] == rule.select(fact), (rule.code, fact)


def test_no_timer_threads(bundle: Bundle) -> None:
    before = threading.active_count()
    evs = [DurableEvaluator(list(bundle.rules.values()), name="threads") for _ in range(5)]
    try:
        assert threading.active_count() == before
    finally:
        for ev in evs:
            ev.close()


def test_close_frees_the_ruleset(bundle: Bundle) -> None:
    rules = list(bundle.rules.values())
    DurableEvaluator(rules, name="warm").close()
    gc.collect()
    memory = rss_mib()
    for _ in range(150):  # about 1,6 MiB each when not freed (measured: 200 live evaluators ≈ 320 MiB)
        ev = DurableEvaluator(rules, name="free")
        ev.evaluate({"3.4.1": {"v": Fraction(1)}})
        ev.close()
    gc.collect()
    assert rss_mib() - memory < 40, f"memory grew by {rss_mib() - memory:.1f} MiB"


def test_closed_evaluator_refuses_work(bundle: Bundle) -> None:
    ev = DurableEvaluator([bundle.rules["3.4.1"]], name="closed")
    ev.close()
    ev.close()  # twice is fine
    with pytest.raises(EngineError) as info:
        ev.evaluate({"3.4.1": {"v": Fraction(1)}})
    assert info.value.problems[0].code == "closed"


def test_bundle_reuses_one_evaluator(tmp_path: Path) -> None:
    b = load_bundle(KINDS_CRITERIA, KINDS_RULES)
    first = evaluator_for(b)
    assert evaluator_for(b) is first
    b.close()
    assert first._closed


def test_more_assessments_than_live_sessions_allowed(bundle: Bundle, evaluator: Any) -> None:
    """durable-rules allows 1 024 live sessions per ruleset; each assessment's session is deleted."""
    for i in range(1100):
        assert evaluator.evaluate({"1.5": {"v": Fraction(i % 5)}})["1.5"].id in ("b0", "b1", "else")


# ------------------------------------------------------------------ values


@pytest.mark.parametrize("x, thresholds", [
    (Fraction(4899999999999999999, 5000000000000000000), [Fraction(9, 10), Fraction(19, 20), Fraction(49, 50)]),
    (Fraction(49, 50), [Fraction(49, 50)]),
    (Fraction(49, 50) + Fraction(1, 10**30), [Fraction(49, 50)]),
    (Fraction(11, 20), [Fraction(3, 10), Fraction(11, 20)]),
    pytest.param(Fraction(1, 3), [Fraction(1, 3), Fraction(333333333333333333, 10**18)], marks=pytest.mark.skip(reason="thresholds equal as doubles are refused at load (threshold_precision)")),
    (Fraction(0), [Fraction(0)]),
    (Fraction(-1, 10**25), [Fraction(0)]),
])
def test_exact_double_keeps_order(x: Fraction, thresholds: list[Fraction]) -> None:
    f = exact_double(x, thresholds)
    assert isinstance(f, float) and math.isfinite(f)
    for t in thresholds:
        ft = float(t)
        assert (f > ft, f == ft, f < ft) == (x > t, x == t, x < t), (x, t, f)


def test_exact_double_random() -> None:
    rng = random.Random(7)
    for _ in range(3000):
        t = Fraction(rng.randint(0, 100), 100)
        x = t + Fraction(rng.choice((-1, 0, 1)), 10 ** rng.randint(15, 30))
        f = exact_double(x, [t])
        assert (f >= float(t)) == (x >= t) and (f > float(t)) == (x > t), (x, t)


@pytest.mark.parametrize("bad", [Decimal("0.98"), float("nan"), float("inf"), -float("inf"), "0.98", "N/A", 0.98,
                                 True, 1, None])
def test_unsafe_fact_values_are_refused(bundle: Bundle, evaluator: Any, bad: Any) -> None:
    with pytest.raises(EngineError) as info:
        evaluator.evaluate({"3.4.1": {"v": bad}})
    assert info.value.problems[0].code == "bad_fact_value"
    with pytest.raises(EngineError):
        exact_double(bad, [Fraction(49, 50)])
    assert not evaluator._fired
    assert evaluator.evaluate({"3.4.1": {"v": Fraction(1)}})["3.4.1"].id == "b0"  # still usable


def test_a_missing_fact_field_is_refused(evaluator: Any) -> None:
    with pytest.raises(EngineError):
        evaluator.evaluate({"1.2": {"delivered": Fraction(4)}})


# ------------------------------------------------------------------ exactly one branch


def overlap_rule() -> CompiledRule:
    data = load_yaml(FIXTURES / "overlap" / "rules.yaml")
    rule = RulesFile.model_validate(data).rules[0]
    return compile_rule(rule, Decimal(1))


def test_overlapping_fixture_is_refused_at_load_time(tmp_path: Path) -> None:
    """The overlapping fixture would never get past load_bundle: bands_not_ordered."""
    from scoring.core.rules import _check_rule  # the load-time checks, on their own
    from scoring.core.criteria import CriteriaSet
    from scoring.core.errors import ProblemList

    cset = CriteriaSet.model_validate({
        "id": "overlap-2025", "title": "x", "level": "cap_so", "province": "x", "year": 2025, "scale": 1,
        "points_status": "illustrative", "legal_basis": ["x"],
        "fields": [{"code": "1", "title": "x", "max_points": 1,
                    "children": [{"code": "1.1", "title": "x", "max_points": 1}]}]})
    problems = ProblemList()
    _check_rule(overlap_rule().rule, cset, {}, problems)
    assert "bands_not_ordered" in [p.code for p in problems.problems]


@pytest.mark.parametrize("x, fired", [(Fraction(6, 10), 2), (Fraction(95, 100), 1), (Fraction(3, 10), 1)])
def test_overlapping_branches_are_a_definition_error(bundle: Bundle, x: Fraction, fired: int) -> None:
    rule = overlap_rule()
    ev = DurableEvaluator([rule, bundle.rules["3.4.1"]], name="overlap")
    try:
        if fired == 1:
            assert ev.evaluate({"1.1": {"v": x}})["1.1"] == rule.select({"v": x})
            return
        with pytest.raises(DefinitionError) as info:
            ev.evaluate({"1.1": {"v": x}, "3.4.1": {"v": Fraction(1)}})
        p = info.value.problems[0]
        assert (p.code, p.subject) == ("branches_not_exclusive", "1.1")
        with pytest.raises(DefinitionError):
            rule.select({"v": x})
        assert not ev._fired
        assert ev.evaluate({"3.4.1": {"v": Fraction(1)}})["3.4.1"].id == "b0"  # next assessment is clean
    finally:
        ev.close()


def run_isolated(script: str) -> subprocess.CompletedProcess[str]:
    """Run a snippet in a child process (durable-rules may segfault); cwd is the repository."""
    prelude = "import faulthandler; faulthandler.enable()\n"
    return subprocess.run([sys.executable, "-c", prelude + textwrap.dedent(script)], cwd=ROOT, capture_output=True,
                          text=True, timeout=120, env={**os.environ, "PYTHONPATH": str(ROOT / "tests")})


def test_no_branch_firing_is_a_definition_error_not_a_crash() -> None:
    proc = run_isolated("""
        import dataclasses
        from fractions import Fraction
        from scoring.core.rules import load_bundle
        from scoring.core.durable import DurableEvaluator
        from scoring.core.errors import ParindexError
        b = load_bundle(set_id="cap-so-2025")
        rule = b.rules["3.2.3"]
        gap = dataclasses.replace(rule, branches=rule.branches[:-1])  # no catch-all: 0.5 matches nothing
        ev = DurableEvaluator([gap, b.rules["3.4.1"]])
        try:
            ev.evaluate({"3.2.3": {"v": Fraction(1, 2)}, "3.4.1": {"v": Fraction(1)}})
        except ParindexError as exc:
            print("problem", exc.problems[0].code)
        print("next", ev.evaluate({"3.4.1": {"v": Fraction(1)}})["3.4.1"].id)
    """)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "problem branches_not_exclusive" in proc.stdout or "problem no_rule_fired" in proc.stdout
    assert "next b0" in proc.stdout


def test_repeated_unmatched_facts_leak_nothing() -> None:
    """After a fact no branch matches, the evaluator is rebuilt; doing it many times stays flat."""
    proc = run_isolated("""
        import dataclasses, gc, threading
        from fractions import Fraction
        from scoring.core.rules import load_bundle
        from scoring.core.durable import DurableEvaluator
        from scoring.core.errors import ParindexError
        def rss():
            import os
            return int(open("/proc/self/statm").read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20
        b = load_bundle(set_id="cap-so-2025")
        rule = b.rules["3.2.3"]
        gap = dataclasses.replace(rule, branches=rule.branches[:-1])
        ev = DurableEvaluator([gap] + [r for c, r in b.rules.items() if c != "3.2.3"])
        def once():
            try:
                ev.evaluate({"3.2.3": {"v": Fraction(1, 2)}, "3.4.1": {"v": Fraction(1)}})
            except ParindexError:
                pass
        for _ in range(20):
            once()
        gc.collect()
        threads, memory = threading.active_count(), rss()
        for _ in range(100):
            once()
        gc.collect()
        print("threads", threading.active_count() - threads)
        print("growth", round(rss() - memory))
        print("next", ev.evaluate({"3.4.1": {"v": Fraction(49, 50)}})["3.4.1"].id)
    """)
    assert proc.returncode == 0, proc.stderr[-2000:]
    out = dict(line.split(" ", 1) for line in proc.stdout.splitlines())
    assert out["threads"] == "0" and out["next"] == "b0"
    assert int(out["growth"]) < 30, proc.stdout


@pytest.mark.parametrize("evidence, code, points", [
    ({"3.4.1": {"on_time": 1, "received": 20000}}, "3.4.1", "0"),          # 0,005 %
    ({"7.3.4": {"paid_online": 3, "payments": 50000}}, "7.3.4", "0"),      # 0,006 %
    ({"1.5": {"initiatives": 10**16}}, "1.5", "2"),
    ({"8.2": {"points": "0.00005"}}, "8.2", "0.00005"),
])
def test_tiny_values_are_scored(evidence: dict[str, dict[str, Any]], code: str, points: str) -> None:
    (leaf, values), = evidence.items()
    proc = run_isolated(f"""
        from fixtures.kit import all_met, with_values
        from scoring.core.engine import score
        from scoring.core.rules import load_bundle
        from scoring.core.errors import ParindexError
        b = load_bundle(set_id="cap-so-2025")
        try:
            node = score(b, with_values(all_met(), {leaf!r}, **{values!r})).node({code!r})
            print("points", node.points)
        except ParindexError as exc:
            print("problem", exc)
    """)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert f"points {points}" in proc.stdout, proc.stdout


def test_thresholds_equal_as_doubles(tmp_path: Path) -> None:
    import shutil

    shutil.copytree(KINDS_CRITERIA, tmp_path / "criteria")
    shutil.copytree(KINDS_RULES, tmp_path / "rules")
    path = tmp_path / "rules" / "kinds-2025" / "rules.yaml"
    text = path.read_text(encoding="utf-8")
    old = "      - {min: 0.9, points: 2}\n      - {min: 0.5, points: 1}\n    else_points: 0.25"
    assert text.count(old) == 1
    path.write_text(text.replace(old, "      - {min: 0.98, points: 2}\n      - {min: 0.97999999999999999999, "
                                      "points: 1}\n    else_points: 0.25"), encoding="utf-8")
    try:
        b = load_bundle(tmp_path / "criteria", tmp_path / "rules")
    except DefinitionError:
        return  # refusing such bands at load time is an acceptable fix too
    try:
        x = Fraction("0.97999999999999999999")
        assert evaluator_for(b).evaluate({"1.1": {"v": x}})["1.1"] == b.rules["1.1"].select({"v": x})
    finally:
        b.close()
