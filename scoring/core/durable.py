"""The only module that imports durable-rules: compile branches, assert facts, collect what fired.

durable-rules is the rules engine of record for one assessment. Each rule branch
becomes one durable rule whose condition is the branch's condition plus two
discriminators (``kind`` and ``code``); each sub-criterion's fact is asserted
once per session and the fired rule names which branch held.

The traps measured on this machine (shared/DURABLE-RULES.md) and how each is closed:

1. Timer threads corrupt results → ``_QuietHost`` overrides ``_run`` so none start.
2. Hosts/rulesets leak → one host per loaded bundle, reused; ``close()`` deletes
   the ruleset handle in the C engine.
3. ``$nex`` loops forever → never used; every condition starts with
   ``kind == "parindex_fact"`` so the re-asserted session state matches nothing.
4. Limits (64 conditions per fact, 255 properties, 1 024 live sessions) → one
   fact per sub-criterion with a handful of fields (checked at load), one session
   per assessment, deleted in ``finally``.
5. Strings compared as strings, Decimal/NaN/inf refused → facts are built here
   from exact ``Fraction`` values only; anything else raises. Fractions become
   doubles *that keep their order against every threshold of the rule*, so
   4 900/5 000 meets 0.98 and 0.98 − 10⁻²⁰ does not.
6. Exceptions in actions are swallowed into the state → checked after each assert.
   A fact that no rule matches raises MessageNotHandledException, after which touching that
   session crashes the process (measured here) → the ruleset is retired and rebuilt instead.
7. The ruleset dict is modified by ``Host`` → built afresh; actions are plain
   one-argument closures.
8. The GIL is held → no threads here; batch work uses the vectorised path.
"""

from __future__ import annotations

import itertools
import math
import threading
from fractions import Fraction
from typing import Any, Callable

import durable.engine as _engine
import durable_rules_engine as _native

from scoring.core.errors import DefinitionError, EngineError, Problem
from scoring.core.branches import And, Branch, Cmp, CompiledRule, Cond
from scoring.core.rules import Bundle

_FACT_KIND = "parindex_fact"
_OPS = {"ge": "$gte", "gt": "$gt", "le": "$lte", "lt": "$lt", "ne": "$neq"}


class _QuietHost(_engine.Host):
    """A Host without the two repeating timer threads (trap 1)."""

    def _run(self) -> None:  # noqa: D401 - overriding the thread starter
        return None


def _condition(cond: Cond) -> dict[str, Any]:
    if isinstance(cond, Cmp):
        value = float(cond.value)
        if cond.op == "eq":
            return {cond.field: value}
        return {_OPS[cond.op]: {cond.field: value}}
    key = "$and" if isinstance(cond, And) else "$or"
    return {key: [_condition(c) for c in cond.items]}


#: doubles that durable-rules' JSON layer writes in exponent form (1e-05, 1e+16) are misread by its
#: C parser: no branch fires, or the process crashes (measured here)
SAFE_MIN, SAFE_MAX = 1e-4, 1e15


def _plain(f: float) -> bool:
    return f == 0 or SAFE_MIN <= abs(f) < SAFE_MAX


def exact_double(x: Fraction, thresholds: list[Fraction]) -> float:
    """A double that compares with every threshold exactly as the fraction ``x`` does.

    Usually ``float(x)``, nudged with ``nextafter`` where rounding would cross a threshold. When
    that double would be written in exponent form (tiny or huge values), a stand-in with the
    same position among the thresholds is used instead; thresholds themselves are checked at
    load time to be plain and distinct as doubles (``threshold_precision``).
    """
    if not isinstance(x, Fraction):
        raise EngineError(Problem("bad_fact_value", f"fact value {x!r} is not an exact number"))
    f = float(x)
    if math.isnan(f) or math.isinf(f):
        raise EngineError(Problem("bad_fact_value", f"fact value {x} is not finite"))
    for t in thresholds:
        ft = float(t)
        if x > t and f <= ft:
            f = math.nextafter(ft, math.inf)
        elif x < t and f >= ft:
            f = math.nextafter(ft, -math.inf)
        elif x == t:
            f = ft
    if _plain(f):
        return f
    ts = sorted(thresholds)
    below = [float(t) for t in ts if t < x]
    above = [float(t) for t in ts if t > x]
    if below and above:
        f = (below[-1] + above[0]) / 2
    elif below:
        f = below[-1] + 1.0
    elif above:
        f = above[0] - 1.0
    else:
        f = 1.0 if x > 0 else -1.0
    return f


MAX_COVERAGE_CELLS = 100_000


def covers_every_fact(rule: CompiledRule) -> bool:
    """True when exactly one branch holds for every possible fact (proven, not sampled).

    A branch condition only compares fields with the rule's thresholds, so a value matters only
    by its position among them: below, equal to, or between thresholds. One stand-in per
    position and field, in every combination, covers every possible fact.
    """
    positions: list[list[Fraction]] = []
    for field_name in rule.fields:
        ts = rule.thresholds(field_name)
        if not ts:
            positions.append([Fraction(0)])
            continue
        stand_ins = [ts[0] - 1]
        for lo, hi in zip(ts, ts[1:]):
            stand_ins += [lo, (lo + hi) / 2]
        stand_ins += [ts[-1], ts[-1] + 1]
        positions.append(stand_ins)
    if math.prod(len(p) for p in positions) > MAX_COVERAGE_CELLS:
        return False
    for combo in itertools.product(*positions):
        fact = dict(zip(rule.fields, combo))
        if sum(1 for b in rule.branches if b.cond.holds(fact)) != 1:
            return False
    return True


class DurableEvaluator:
    """One durable-rules host and ruleset for one loaded bundle, reused for every assessment."""

    _ids = itertools.count(1)

    def __init__(self, rules: list[CompiledRule], name: str = "parindex") -> None:
        self.name = f"{name}_{next(self._ids)}"
        self.rules = {r.code: r for r in rules}
        self._fired: dict[str, list[tuple[str, str]]] = {}
        self._lock = threading.Lock()
        self._thresholds = {r.code: {f: r.thresholds(f) for f in r.fields} for r in rules}
        for rule in rules:
            if len(rule.fields) + 3 > 255:
                raise DefinitionError(Problem("fact_too_wide", "more than 252 fact fields", subject=rule.code))
        self._closed = False
        # rules whose branches are not proven to cover every possible fact get a Python check
        # before asserting: durable-rules must never see a fact that no rule matches (see _rebuild)
        self._unproven = {r.code for r in rules if not covers_every_fact(r)}
        self.host = _QuietHost({self.name: self._definition()})

    def _definition(self) -> dict[str, Any]:
        """The ruleset in durable-rules' dict form, built afresh each time (Host modifies it, trap 7)."""
        definition: dict[str, Any] = {}
        for i, rule in enumerate(self.rules.values()):
            for branch in rule.branches:
                definition[f"r{i}_{branch.id}"] = {
                    "all": [{"m": {"$and": [{"kind": _FACT_KIND}, {"code": rule.code}, _condition(branch.cond)]}}],
                    "run": self._action(rule.code, branch.id),
                }
        return definition

    def _rebuild(self) -> None:
        """Retire the ruleset and start a fresh one under a new name.

        After durable-rules raises MessageNotHandledException, deleting or retracting that
        session's state crashes the process (segmentation fault, measured here), so the session
        is never touched again: the whole ruleset is deleted in the C engine instead.
        """
        self._delete_ruleset()
        self.name = f"{self.name.rsplit('_', 1)[0]}_{next(self._ids)}"
        self.host = _QuietHost({self.name: self._definition()})

    def _action(self, code: str, branch_id: str) -> Callable[[Any], None]:
        fired = self._fired

        def action(c: Any) -> None:
            sid = c.s.sid
            fired.setdefault(sid, []).append((code, branch_id))

        return action

    def facts(self, sid: str, measures: dict[str, dict[str, Fraction]]) -> list[dict[str, Any]]:
        out = []
        for code, values in measures.items():
            rule = self.rules[code]
            fact: dict[str, Any] = {"sid": sid, "kind": _FACT_KIND, "code": code}
            for field_name in rule.fields:
                if field_name not in values:
                    raise EngineError(Problem("bad_fact", f"fact field '{field_name}' missing", subject=code))
                fact[field_name] = exact_double(values[field_name], self._thresholds[code][field_name])
            out.append(fact)
        return out

    def evaluate(self, measures: dict[str, dict[str, Fraction]]) -> dict[str, Branch]:
        """Assert one fact per sub-criterion; return the single branch that fired for each."""
        if self._closed:
            raise EngineError(Problem("closed", "the rules engine was closed"))
        if not measures:
            return {}
        for code in self._unproven & measures.keys():
            self.rules[code].select(measures[code])  # raises DefinitionError unless exactly one holds
        with self._lock:
            sid = str(next(self._ids))
            self._fired[sid] = []
            unhandled = False
            try:
                state = self.host.assert_facts(self.name, self.facts(sid, measures))
                if isinstance(state, dict) and state.get("exception"):
                    first_line = str(state["exception"]).strip().splitlines()[0]
                    raise EngineError(Problem("action_failed", f"a rule action failed: {first_line}"))
                fired = self._fired[sid]
            except _engine.MessageNotHandledException:
                unhandled = True
                codes = ", ".join(sorted(measures))
                raise DefinitionError(Problem(
                    "no_rule_fired", "no branch matched a fact; every rule needs a catch-all branch",
                    subject=codes if len(measures) == 1 else None,
                    hint="check that the bands cover every possible value")) from None
            finally:
                self._fired.pop(sid, None)
                if unhandled:
                    self._rebuild()
                else:
                    try:
                        self.host.delete_state(self.name, sid)
                    except Exception:  # noqa: BLE001 - nothing to delete when asserting failed early
                        pass
        result: dict[str, Branch] = {}
        by_code: dict[str, list[str]] = {}
        for code, branch_id in fired:
            ids = by_code.setdefault(code, [])
            if branch_id not in ids:  # an $or condition fires once per alternative that holds
                ids.append(branch_id)
        for code in measures:
            ids = by_code.get(code, [])
            if len(ids) != 1:
                raise DefinitionError(Problem(
                    "branches_not_exclusive",
                    f"{len(ids)} branches fired for one fact ({', '.join(ids) or 'none'}); exactly one must",
                    subject=code, hint="bands must not overlap and need a catch-all"))
            branch = next(b for b in self.rules[code].branches if b.id == ids[0])
            result[code] = branch
        return result

    def _delete_ruleset(self) -> None:
        try:
            ruleset = self.host.get_ruleset(self.name)
            _native.delete_ruleset(ruleset._handle)
        except Exception:  # noqa: BLE001 - nothing more to free
            pass

    def close(self) -> None:
        """Free the ruleset in the C engine (trap 2)."""
        if self._closed:
            return
        self._closed = True
        self._delete_ruleset()

    def __del__(self) -> None:
        try:
            self.close()
        except Exception:  # noqa: BLE001
            pass


def evaluator_for(bundle: Bundle) -> DurableEvaluator:
    """The durable-rules evaluator of ``bundle``, built once and reused."""
    if bundle._evaluator is None:
        bundle._evaluator = DurableEvaluator(list(bundle.rules.values()), name=f"parindex_{id(bundle)}")
    return bundle._evaluator
