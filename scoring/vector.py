"""Batch scoring: many scenarios at once with numpy, from the same compiled branches as durable.py.

``score()`` (durable-rules) scores one assessment at a time, in about 8 ms. A
simulation or a plan needs thousands to millions of assessments that differ from
one evidence file in a few values. This module compiles the branches of every
``CompiledRule`` (conditions ``Cmp``/``And``/``Or`` over the fact fields) into
numpy operations over arrays of scenarios.

How exactness is kept:

* Facts are never doubles. Each fact field's value is replaced by its *rank code*
  among the thresholds the rule compares that field with (``2 i + 1`` when the
  value equals the i-th threshold, ``2 i`` when it lies strictly between the
  (i-1)-th and the i-th). The code is computed from the exact ``Fraction`` with
  ``bisect`` and compares with every threshold's code exactly as the fraction
  compares with the threshold, so 4 900/5 000 meets 0.98 and 0.98 − 10⁻²⁰ does
  not. Conditions are compiled onto these small integers.
* Points are integers in hundredths (``int64``). Every point value of the
  criteria set and rules is checked to be a multiple of 0.01 when compiling; the
  one rounding the engine does (redistributed points, ``ROUND_HALF_UP`` to 0.01)
  is reproduced with exact integer division, signs included.
* The "không phát sinh" policies (award_max, exclude, redistribute, zero) follow
  ``engine.effective_maxima`` and ``engine._leaf_result``: a redistributed
  maximum is split among the targets that did not go themselves, in proportion
  to their nominal maxima, the last taking the remainder (the shares are
  precomputed for every pattern of gone targets), and a leaf whose maximum moved
  is scaled as ``_q(raw × eff_max / nominal)``.
* Each leaf's measure (status ok / missing / không phát sinh, and its fact) comes
  from ``engine.measure_leaf`` on the evidence plus the scenario's override, so
  values are read exactly as ``score --set`` reads them. Only distinct values are
  measured; scenarios point at them with integer indexes.
* Branches may not overlap for any combination of rank codes (checked when
  compiling, i.e. for every possible input), and exactly one must hold for each
  measured value (checked when it is measured).

tests/test_vector.py holds this path equal to ``score()`` on random scenarios.
"""

from __future__ import annotations

import itertools
import os
from bisect import bisect_left
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from decimal import Decimal
from fractions import Fraction
from typing import Any, Mapping, Sequence

import numpy as np

from .engine import Measure, measure_leaf
from .errors import DefinitionError, EngineError, Problem, ProblemList
from .evidence import EvidenceFile
from .rules import And, Bundle, Cmp, CompiledRule, Cond, Or

OK, MISSING, NOT_APPLICABLE = 0, 1, 2
_STATUS = {"ok": OK, "missing": MISSING, "not_applicable": NOT_APPLICABLE}
Override = dict[str | None, str]  # {evidence name or None (primary): raw value}, as engine.Overrides values
CHUNK = 1 << 15  # rows per pass: keeps every temporary array in the CPU cache


def hundredths(value: Decimal | Fraction | int, what: str, subject: str | None = None) -> int:
    """Points as an exact integer number of hundredths; refuse anything finer."""
    scaled = Fraction(value) * 100
    if scaled.denominator != 1:
        raise DefinitionError(Problem(
            "points_not_hundredths", f"{what} = {value} is not a multiple of 0.01 point", subject=subject,
            hint="the batch path counts points in hundredths; round the figure to 2 decimals"))
    return int(scaled)


def div_round(num: Any, den: Any) -> Any:
    """``num / den`` rounded to an integer half away from zero (Decimal ROUND_HALF_UP), exactly.

    Works on Python ints and int64 arrays alike; ``den`` must be positive.
    """
    if isinstance(num, int) and isinstance(den, int):
        mag = (2 * abs(num) + den) // (2 * den)
        return -mag if num < 0 else mag
    num = np.asarray(num, dtype=np.int64)
    mag = (2 * np.abs(num) + den) // (2 * np.asarray(den, dtype=np.int64))
    return np.where(num < 0, -mag, mag)


def split_hundredths(amount: int, receivers: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """engine._split in hundredths: shares proportional to the receivers' maxima, the last takes the rest."""
    total = sum(w for _, w in receivers)
    shares = []
    left = amount
    for i, (pos, w) in enumerate(receivers):
        if i == len(receivers) - 1:
            share = left
        else:
            share = div_round(amount * w, total) if total else div_round(amount, len(receivers))
            left -= share
        shares.append((pos, share))
    return shares


def rank_code(x: Fraction, thresholds: Sequence[Fraction]) -> int:
    """Order-preserving integer code of ``x`` among sorted ``thresholds`` (threshold i has code 2i+1)."""
    i = bisect_left(thresholds, x)
    return 2 * i + (1 if i < len(thresholds) and thresholds[i] == x else 0)


# ------------------------------------------------------------------ compiled conditions


@dataclass(frozen=True)
class _RCmp:
    slot: int  # index of the fact field in the leaf's field list
    op: str
    code: int  # rank code of the threshold


@dataclass(frozen=True)
class _RBool:
    op: str  # "and" | "or"
    items: tuple[Any, ...]


_NP_OPS = {"ge": np.greater_equal, "gt": np.greater, "le": np.less_equal, "lt": np.less,
           "eq": np.equal, "ne": np.not_equal}


def _compile_cond(cond: Cond, slots: dict[str, int], thresholds: list[list[Fraction]]) -> Any:
    if isinstance(cond, Cmp):
        slot = slots[cond.field]
        return _RCmp(slot, cond.op, rank_code(cond.value, thresholds[slot]))
    if isinstance(cond, (And, Or)):
        return _RBool("and" if isinstance(cond, And) else "or",
                      tuple(_compile_cond(c, slots, thresholds) for c in cond.items))
    raise DefinitionError(Problem("bad_condition", f"unknown condition {cond!r}"))  # pragma: no cover


def _eval(cond: Any, ranks: Sequence[np.ndarray]) -> np.ndarray:
    if isinstance(cond, _RCmp):
        return _NP_OPS[cond.op](ranks[cond.slot], cond.code)
    out = _eval(cond.items[0], ranks)
    for item in cond.items[1:]:
        out = (out & _eval(item, ranks)) if cond.op == "and" else (out | _eval(item, ranks))
    return out


@dataclass
class LeafPlan:
    """One leaf's rule compiled for arrays."""

    code: str
    position: int  # index among the bundle's leaves (tree order)
    field_index: int  # index of its top-level field
    nominal: int  # nominal maximum, hundredths
    fields: tuple[str, ...]
    thresholds: list[list[Fraction]]
    branches: list[tuple[Any, int | None]]  # (compiled condition, points in hundredths or None = given)
    policy: str
    targets: list[tuple[int, int]]  # redistribute: (leaf position, nominal hundredths of the target)
    rule: CompiledRule
    # redistribute: for each pattern of which targets that can go are gone, the shares each other target gets
    splits: list[tuple[tuple[tuple[int, bool], ...], list[tuple[int, int]]]] = field(default_factory=list)

    @property
    def gives(self) -> bool:
        """True when a branch awards the measured points themselves (external, no bands)."""
        return any(pts is None for _, pts in self.branches)


@dataclass
class LeafPool:
    """The distinct measures of one leaf used by a batch (entry 0 is usually the evidence as is)."""

    status: np.ndarray  # int8 (K,)
    ranks: np.ndarray  # int16 (fields, K)
    given: np.ndarray  # int64 (K,) external points given as such, hundredths
    measures: list[Measure]

    def __post_init__(self) -> None:
        self.any_ok = bool(np.any(self.status == OK))
        self.all_ok = bool(np.all(self.status == OK))
        self.any_na = bool(np.any(self.status == NOT_APPLICABLE))

    def __len__(self) -> int:
        return len(self.status)


@dataclass
class BatchResult:
    """Per-scenario results, exact: points and percent in hundredths (int64)."""

    points: np.ndarray  # total points (fields + bonus − penalty), hundredths
    max_points: np.ndarray  # effective maximum of the fields, hundredths
    percent: np.ndarray  # index in hundredths of a percent; meaningful where has_percent
    has_percent: np.ndarray  # False where the maximum is 0 (percent undefined, as engine's None)
    fields: np.ndarray  # (N, F) field points, hundredths
    field_codes: list[str]
    leaves: np.ndarray | None = None  # (N, L) leaf points, hundredths, when asked for
    leaf_max: np.ndarray | None = None  # (N, L) leaf effective maxima, hundredths, when asked for
    leaf_codes: list[str] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.points)


class VectorScorer:
    """The bundle's rules compiled once for batch scoring."""

    def __init__(self, bundle: Bundle) -> None:
        self.bundle = bundle
        cset = bundle.criteria
        index = cset.index()
        self.field_codes = [f.code for f in cset.fields]
        field_pos = {c: i for i, c in enumerate(self.field_codes)}
        self.codes = list(bundle.rules)
        position = {c: i for i, c in enumerate(self.codes)}
        self.leaves: list[LeafPlan] = []
        for i, (code, rule) in enumerate(bundle.rules.items()):
            node = index[code]
            nominal = hundredths(node.max_points, "max_points", code)
            thresholds = [list(rule.thresholds(f)) for f in rule.fields]
            slots = {f: k for k, f in enumerate(rule.fields)}
            branches: list[tuple[Any, int | None]] = []
            for b in rule.branches:
                pts = None if b.points is None else hundredths(b.points, f"points of branch '{b.id}'", code)
                branches.append((_compile_cond(b.cond, slots, thresholds), pts))
            na = rule.rule.not_applicable
            targets = [(position[t], hundredths(index[t].max_points, "max_points", t)) for t in na.to]
            plan = LeafPlan(code, i, field_pos[code.split(".")[0]], nominal, tuple(rule.fields), thresholds,
                            branches, na.policy, targets, rule)
            self._check_exclusive(plan)
            self.leaves.append(plan)
        for plan in self.leaves:
            if plan.policy == "redistribute":
                plan.splits = self._splits(plan)
        for kind in ("bonus", "penalty"):
            adj = getattr(cset.adjustments, kind)
            if adj is not None:
                hundredths(adj.max_points, f"{kind} max_points")
                for item in adj.items:
                    hundredths(item.points, f"{kind} item '{item.id}'")
        self._policy_leaves = [p for p in self.leaves if p.policy in ("exclude", "redistribute")]

    def _splits(self, plan: LeafPlan) -> list[tuple[tuple[tuple[int, bool], ...], list[tuple[int, int]]]]:
        """engine._split of the source's nominal maximum for every pattern of gone targets."""
        can_go = [pos for pos, _ in plan.targets if self.leaves[pos].policy in ("exclude", "redistribute")]
        out = []
        for bits in itertools.product((False, True), repeat=len(can_go)):
            pattern = tuple(zip(can_go, bits))
            away = {pos for pos, is_gone in pattern if is_gone}
            receivers = [(pos, w) for pos, w in plan.targets if pos not in away]
            out.append((pattern, split_hundredths(plan.nominal, receivers)))
        return out

    @staticmethod
    def _check_exclusive(plan: LeafPlan) -> None:
        """At most one branch may hold for any combination of rank codes (every possible fact).

        That a branch holds at all is checked for each measured value (``pool``): a rule may leave
        impossible facts uncovered (points given are never negative).
        """
        axes = [np.arange(2 * len(t) + 1, dtype=np.int16) for t in plan.thresholds]
        grid = [g.ravel() for g in np.meshgrid(*axes, indexing="ij")] if axes else []
        hits = sum(_eval(cond, grid).astype(np.int64) for cond, _ in plan.branches)
        if np.any(hits > 1):
            raise DefinitionError(Problem(
                "branches_not_exclusive", "two branches hold for one possible fact; exactly one must",
                subject=plan.code, hint="bands must not overlap"))

    # -------------------------------------------------------------- measuring

    def pool(self, ev: EvidenceFile, code: str, overrides: Sequence[Override | None]
             ) -> tuple[LeafPool, list[tuple[int, Problem]]]:
        """Measure each distinct override of one leaf (None: the evidence as is) exactly as ``score`` does.

        Returns the pool and the problems found, each with the index of the override it belongs to.
        """
        plan = self.leaves[self.codes.index(code)] if code in self.codes else None
        if plan is None:
            raise DefinitionError(Problem("unknown_code", f"no sub-criterion '{code}'", subject=code))
        rule = plan.rule
        leaf = ev.evidence.get(code)
        k = len(overrides)
        status = np.zeros(k, dtype=np.int8)
        ranks = np.zeros((len(plan.fields), k), dtype=np.int16)
        given = np.zeros(k, dtype=np.int64)
        measures: list[Measure] = []
        found: list[tuple[int, Problem]] = []
        for j, override in enumerate(overrides):
            problems = ProblemList()
            m = measure_leaf(rule, leaf, ev, override or None, problems)
            for p in problems.problems:
                found.append((j, p))
            measures.append(m)
            if problems:
                status[j] = MISSING
                continue
            status[j] = _STATUS[m.status]
            if m.status != "ok":
                continue
            for s, name in enumerate(plan.fields):
                ranks[s, j] = rank_code(m.fact[name], plan.thresholds[s])
            hits = sum(bool(_eval(cond, [r[j:j + 1] for r in ranks])[0]) for cond, _ in plan.branches)
            if hits != 1:
                raise EngineError(Problem("no_rule_fired", f"{hits} branches hold for the fact {m.fact}",
                                          subject=code, hint="every rule needs a catch-all branch"))
            if plan.gives:
                try:
                    given[j] = hundredths(Decimal(m.measured), "points given", code)
                except DefinitionError as exc:
                    found.extend((j, p) for p in exc.problems)
        return LeafPool(status, ranks, given, measures), found

    # -------------------------------------------------------------- scoring

    def score(self, columns: Mapping[str, tuple[LeafPool, np.ndarray | None]], n: int, *,
              bonus: Decimal = Decimal(0), penalty: Decimal = Decimal(0), leaf_points: bool = False,
              chunk: int = CHUNK, workers: int | None = None) -> BatchResult:
        """Score ``n`` scenarios. ``columns[code] = (pool, index)``: scenario i uses ``pool`` entry ``index[i]``
        (``index`` None: every scenario uses entry 0). Every leaf of the bundle must be present.
        ``workers`` threads share the chunks (default: one per CPU)."""
        missing = [c for c in self.codes if c not in columns]
        if missing:
            raise DefinitionError(Problem("incomplete_batch", f"no pool for {', '.join(missing)}"))
        adj = hundredths(bonus, "bonus") - hundredths(penalty, "penalty")
        nf, nl = len(self.field_codes), len(self.leaves)
        out_points = np.empty(n, dtype=np.int64)
        out_max = np.empty(n, dtype=np.int64)
        out_pct = np.zeros(n, dtype=np.int64)
        out_has = np.empty(n, dtype=bool)
        out_fields = np.empty((n, nf), dtype=np.int64)
        out_leaves = np.empty((n, nl), dtype=np.int64) if leaf_points else None
        out_leaf_max = np.empty((n, nl), dtype=np.int64) if leaf_points else None
        pools = [columns[c] for c in self.codes]
        spans = [(start, min(n, start + chunk)) for start in range(0, n, chunk)]

        def run(span: tuple[int, int]) -> None:
            self._chunk(pools, span[0], span[1], adj, out_points, out_max, out_pct, out_has, out_fields,
                        out_leaves, out_leaf_max)

        workers = min(workers if workers is not None else (os.cpu_count() or 1), len(spans))
        if workers > 1:
            # numpy releases the GIL inside each operation; chunks write disjoint slices
            with ThreadPoolExecutor(workers) as pool_:
                list(pool_.map(run, spans))
        else:
            for span in spans:
                run(span)
        return BatchResult(out_points, out_max, out_pct, out_has, out_fields, list(self.field_codes),
                           out_leaves, out_leaf_max, list(self.codes) if leaf_points else [])

    def _chunk(self, pools: list[tuple[LeafPool, np.ndarray | None]], start: int, stop: int, adj: int,
               out_points: np.ndarray, out_max: np.ndarray, out_pct: np.ndarray, out_has: np.ndarray,
               out_fields: np.ndarray, out_leaves: np.ndarray | None, out_leaf_max: np.ndarray | None) -> None:
        m = stop - start
        status: list[Any] = []
        gathered: list[Any] = []
        for pool, idx in pools:
            if idx is None or len(pool) == 1:
                status.append(pool.status[:1])
                gathered.append(None)
            else:
                sel = idx[start:stop]
                status.append(pool.status[sel])
                gathered.append(sel)
        # effective maxima (engine.effective_maxima): leaves that did not arise under exclude/redistribute
        # are "gone"; a redistributed maximum is split among the targets that are not gone themselves
        eff: list[Any] = [p.nominal for p in self.leaves]
        gone: dict[int, Any] = {}
        for plan in self._policy_leaves:
            if pools[plan.position][0].any_na:
                gone[plan.position] = status[plan.position] == NOT_APPLICABLE
                eff[plan.position] = np.where(gone[plan.position], 0, plan.nominal)
        for plan in self._policy_leaves:
            if plan.policy != "redistribute" or plan.position not in gone:
                continue
            for pattern, shares in plan.splits:
                if any(is_gone and t not in gone for t, is_gone in pattern):
                    continue  # that target never goes in this batch
                mask = gone[plan.position]
                for t, is_gone in pattern:
                    mask = mask & (gone[t] if is_gone else ~gone[t])
                for pos, share in shares:
                    eff[pos] = eff[pos] + np.where(mask, share, 0)
        fields = np.zeros((len(self.field_codes), m), dtype=np.int64)
        fmax = np.zeros((len(self.field_codes), m), dtype=np.int64)
        for plan, (pool, _), st, sel in zip(self.leaves, pools, status, gathered):
            e = eff[plan.position]
            pts = self._leaf_points(plan, pool, st, sel, e)
            fields[plan.field_index] += pts
            fmax[plan.field_index] += e
            if out_leaves is not None and out_leaf_max is not None:
                out_leaves[start:stop, plan.position] = pts
                out_leaf_max[start:stop, plan.position] = e
        fields_points = fields.sum(axis=0)
        max_points = fmax.sum(axis=0)
        total = fields_points + adj
        has = max_points != 0
        safe = np.where(has, max_points, 1)
        out_points[start:stop] = total
        out_max[start:stop] = max_points
        out_has[start:stop] = has
        out_pct[start:stop] = np.where(has, div_round(total * 10000, safe), 0)
        out_fields[start:stop] = fields.T

    @staticmethod
    def _leaf_points(plan: LeafPlan, pool: LeafPool, st: np.ndarray, sel: np.ndarray | None, eff: Any) -> Any:
        pts_ok: Any = 0
        if pool.any_ok:
            ranks = [pool.ranks[s][sel] if sel is not None else pool.ranks[s][:1] for s in range(len(plan.fields))]
            given = (pool.given[sel] if sel is not None else pool.given[:1]) if plan.gives else None

            def value(pts: int | None) -> Any:
                return given if pts is None else pts

            # exactly one branch holds for every measured value (checked in pool()), so the last needs no test
            raw = value(plan.branches[-1][1])
            for cond, pts in reversed(plan.branches[:-1]):
                raw = np.where(_eval(cond, ranks), value(pts), raw)
            if isinstance(eff, int) and eff == plan.nominal:
                pts_ok = raw
            elif plan.nominal:
                pts_ok = np.where(eff == plan.nominal, raw, div_round(raw * eff, plan.nominal))
            else:
                pts_ok = 0
        if pool.all_ok:
            return pts_ok
        na_pts = eff if plan.policy == "award_max" else 0
        out = np.where(st == NOT_APPLICABLE, na_pts, 0)
        if pool.any_ok:
            out = np.where(st == OK, pts_ok, out)
        return out


# ------------------------------------------------------------------ helpers for callers


def constant_pools(scorer: VectorScorer, ev: EvidenceFile) -> dict[str, LeafPool]:
    """One-entry pools (the evidence as is) for every leaf; raises if the evidence has problems."""
    pools: dict[str, LeafPool] = {}
    problems = ProblemList()
    for code in scorer.codes:
        pool, found = scorer.pool(ev, code, [None])
        problems.extend(p for _, p in found)
        pools[code] = pool
    problems.raise_if_any()
    return pools


def from_hundredths(value: int) -> Decimal:
    """Hundredths back to the Decimal the engine would show (e.g. 8845 → Decimal('88.45'))."""
    return (Decimal(int(value)) / 100).normalize() if value % 100 else Decimal(int(value) // 100)


def factorize_rows(keys: Sequence[Any]) -> tuple[list[Any], np.ndarray]:
    """Distinct values in order of first appearance, and each row's index into them."""
    seen: dict[Any, int] = {}
    idx = np.empty(len(keys), dtype=np.int32)
    for i, k in enumerate(keys):
        j = seen.get(k)
        if j is None:
            j = seen[k] = len(seen)
        idx[i] = j
    return list(seen), idx


__all__ = ["VectorScorer", "LeafPool", "BatchResult", "constant_pools", "rank_code", "hundredths",
           "from_hundredths", "factorize_rows", "div_round", "OK", "MISSING", "NOT_APPLICABLE"]
