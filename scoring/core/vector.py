"""Batch scoring: many scenarios at once with numpy, from the same compiled branches as durable.py.

``score()`` (durable-rules) scores one assessment at a time, in about 10 ms. A
simulation or a plan needs thousands to millions of assessments that differ from
one evidence file in a few values. This module compiles the branches of every
``CompiledRule`` (conditions ``Cmp``/``And``/``Or`` over the fact fields) into
numpy, and scores arrays of scenarios.

How it works, and how exactness is kept:

* Facts are never doubles. Each fact field's value is replaced by its *rank code*
  among the thresholds the rule compares that field with (``2 i + 1`` when the
  value equals the i-th threshold, ``2 i`` when it lies strictly between the
  (i-1)-th and the i-th). The code is computed from the exact ``Fraction`` with
  ``bisect`` and compares with every threshold's code exactly as the fraction
  compares with the threshold, so 4 900/5 000 meets 0.98 and 0.98 − 10⁻²⁰ does
  not.
* Compiling a rule evaluates every branch's condition with numpy over *every*
  combination of rank codes of its fields: the result is a table from the
  combined code to the branch that holds. Two branches holding for one
  combination is a definition error, found for every possible input, not only
  the ones seen; a measured value for which no branch holds is an engine error.
* Each leaf's measure (status ok / missing / không phát sinh, and its fact) comes
  from ``engine.measure_leaf`` on the evidence plus the scenario's override, so
  values are read exactly as ``score --set`` reads them. Only distinct values are
  measured and looked up; scenarios point at them with integer indexes, and the
  per-scenario work (gathers, policies, effective maxima, scaling, sums, the
  index) is integer numpy over all rows, in cache-sized chunks on every CPU.
* Points are integers in hundredths. Every point value of the criteria set and
  rules is checked to be a multiple of 0.01 when compiling (given survey points
  when measured); the one rounding the engine does (``ROUND_HALF_UP`` to 0.01)
  is reproduced with exact integer division, signs included.
* The "không phát sinh" policies (award_max, exclude, redistribute, zero) follow
  ``engine.effective_maxima`` and ``engine._leaf_result``: a redistributed
  maximum is split among the targets that did not go themselves, in proportion
  to their nominal maxima, the last taking the remainder (the shares are
  precomputed for every pattern of gone targets), and a leaf whose maximum moved
  is scaled as ``_q(raw × eff_max / nominal)``.

tests/test_vector.py holds this path equal to ``score()`` on random scenarios.
"""

from __future__ import annotations

import itertools
import math
import os
from bisect import bisect_left
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from decimal import Decimal
from fractions import Fraction
from typing import Any, Mapping, Sequence

import numpy as np

from scoring.core.engine import Measure, measure_leaf
from scoring.core.errors import DefinitionError, EngineError, Problem, ProblemList
from scoring.core.evidence import EvidenceFile
from scoring.core.branches import And, Cmp, CompiledRule, Cond, Or
from scoring.core.rules import Bundle

OK, MISSING, NOT_APPLICABLE = 0, 1, 2
_STATUS = {"ok": OK, "missing": MISSING, "not_applicable": NOT_APPLICABLE}
Override = dict[str | None, str]  # {evidence name or None (primary): raw value}, as engine.Overrides values
CHUNK = 1 << 15  # rows per pass: keeps every temporary array in the CPU cache


def hundredths(value: Decimal | Fraction | int, what: str, subject: str | None = None,
               file: str | None = None, line: int | None = None) -> int:
    """Points as an exact integer number of hundredths; refuse anything finer."""
    scaled = Fraction(value) * 100
    if scaled.denominator != 1:
        raise DefinitionError(Problem(
            "points_not_hundredths", f"{what} = {value} is not a multiple of 0.01 point", subject=subject,
            file=file, line=line,
            hint="simulate và plan tính điểm đến 0,01: làm tròn số điểm đến 2 chữ số thập phân "
                 "(round the figure to 2 decimals)"))
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
    """One leaf's rule compiled for arrays: a table from the rank codes of its fact to the branch that holds."""

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
    strides: tuple[int, ...] = ()  # combined code = Σ rank code × stride
    table: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int16))  # combined code → branch, −1
    # redistribute: for each pattern of which targets that can go are gone, the shares each other target gets
    splits: list[tuple[tuple[tuple[int, bool], ...], list[tuple[int, int]]]] = field(default_factory=list)

    @property
    def gives(self) -> bool:
        """True when a branch awards the measured points themselves (external, no bands)."""
        return any(pts is None for _, pts in self.branches)


@dataclass
class LeafPool:
    """The distinct measures of one leaf used by a batch, each already looked up in the leaf's table."""

    status: np.ndarray  # int8 (K,): OK / MISSING / NOT_APPLICABLE
    raw: np.ndarray  # int64 (K,): points of the branch that holds (ok entries), hundredths
    final: np.ndarray  # int32 (K,): the leaf's points when its maximum is the nominal one
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
            nominal = hundredths(node.max_points, "max_points", code, file=cset.file)
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
            self._compile_table(plan)
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
        if sum(p.nominal for p in self.leaves) >= 2**30:
            raise DefinitionError(Problem("scale_too_large", "the criteria set's points are too large for the batch path",
                                          file=cset.file, hint="at most 10 000 000 points in all"))

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
    def _compile_table(plan: LeafPlan) -> None:
        """Evaluate every branch's condition over every combination of rank codes (every possible fact).

        The result is the leaf's table: combined code → the branch that holds, or −1 where none does (a
        rule may leave impossible facts uncovered: points given are never negative; each measured value
        must find a branch, checked in ``pool``). Two branches holding for one combination is a
        definition error, found here for every possible input.
        """
        sizes = [2 * len(t) + 1 for t in plan.thresholds]
        axes = [np.arange(size, dtype=np.int16) for size in sizes]
        grid = [g.ravel() for g in np.meshgrid(*axes, indexing="ij")] if axes else []
        cells = math.prod(sizes)
        table = np.full(cells, -1, dtype=np.int16)
        hits = np.zeros(cells, dtype=np.int16)
        for b, (cond, _) in enumerate(plan.branches):
            hold = _eval(cond, grid)
            hits += hold
            table[hold] = b
        if np.any(hits > 1):
            raise DefinitionError(Problem(
                "branches_not_exclusive", "two branches hold for one possible fact; exactly one must",
                subject=plan.code, hint="bands must not overlap"))
        plan.strides = tuple(math.prod(sizes[s + 1:]) for s in range(len(sizes)))
        plan.table = table

    # -------------------------------------------------------------- measuring

    def pool(self, ev: EvidenceFile, code: str, overrides: Sequence[Override | None]
             ) -> tuple[LeafPool, list[tuple[int, Problem]]]:
        """Measure each distinct override of one leaf (None: the evidence as is) exactly as ``score`` does,
        and look its fact up in the leaf's table.

        Returns the pool and the problems found, each with the index of the override it belongs to.
        """
        plan = self.leaves[self.codes.index(code)] if code in self.codes else None
        if plan is None:
            raise DefinitionError(Problem("unknown_code", f"no sub-criterion '{code}'", subject=code))
        rule = plan.rule
        leaf = ev.evidence.get(code)
        k = len(overrides)
        status = np.zeros(k, dtype=np.int8)
        raw = np.zeros(k, dtype=np.int64)
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
            combined = sum(rank_code(m.fact[name], plan.thresholds[s]) * plan.strides[s]
                           for s, name in enumerate(plan.fields))
            branch = int(plan.table[combined])
            if branch < 0:
                raise EngineError(Problem("no_rule_fired", f"no branch holds for the fact {m.fact}",
                                          subject=code, hint="every rule needs a catch-all branch"))
            pts = plan.branches[branch][1]
            if pts is None:
                try:
                    raw[j] = hundredths(Decimal(m.measured), "points given", code, file=ev.file,
                                        line=leaf.value_lines.get(rule.rule.value, leaf.line) if leaf else None)
                except DefinitionError as exc:
                    found.extend((j, p) for p in exc.problems)
            else:
                raw[j] = pts
        na_points = plan.nominal if plan.policy == "award_max" else 0
        final = np.where(status == OK, raw, np.where(status == NOT_APPLICABLE, na_points, 0)).astype(np.int32)
        return LeafPool(status, raw, final, measures), found

    # -------------------------------------------------------------- scoring

    def score(self, columns: Mapping[str, tuple[LeafPool, np.ndarray | None]], n: int, *,
              bonus: Decimal = Decimal(0), penalty: Decimal = Decimal(0), leaf_points: bool = False,
              chunk: int = CHUNK, workers: int | None = None) -> BatchResult:
        """Score ``n`` scenarios. ``columns[code] = (pool, index)``: scenario i uses ``pool`` entry ``index[i]``
        (``index`` None: every scenario uses entry 0). Every leaf of the bundle must be present.
        ``workers`` threads share the chunks (default: one per CPU)."""
        missing = [c for c in self.codes if c not in columns]
        if missing:
            raise EngineError(Problem("incomplete_batch", f"no pool for {', '.join(missing)}"))
        adj = hundredths(bonus, "bonus") - hundredths(penalty, "penalty")
        pools = [columns[c] for c in self.codes]
        # leaves whose maximum can move in this batch: they did not arise under exclude/redistribute, or
        # receive points from one that did not; every other leaf scores as its pool entry says
        gone = {p.position for p in self._policy_leaves if pools[p.position][0].any_na}
        moving = set(gone)
        for p in self._policy_leaves:
            if p.policy == "redistribute" and p.position in gone:
                moving |= {pos for pos, _ in p.targets}
        nf, nl = len(self.field_codes), len(self.leaves)
        const = np.zeros(nf, dtype=np.int64)  # points and maxima of leaves that are the same in every scenario
        const_max = np.zeros(nf, dtype=np.int64)
        varying: list[LeafPlan] = []
        for plan, (pool, idx) in zip(self.leaves, pools):
            if plan.position not in moving:
                const_max[plan.field_index] += plan.nominal
                if idx is None or len(pool) == 1:
                    const[plan.field_index] += int(pool.final[0])
                    continue
            varying.append(plan)
        out = BatchResult(np.empty(n, dtype=np.int64), np.empty(n, dtype=np.int64), np.zeros(n, dtype=np.int64),
                          np.empty(n, dtype=bool), np.empty((n, nf), dtype=np.int64), list(self.field_codes),
                          np.empty((n, nl), dtype=np.int64) if leaf_points else None,
                          np.empty((n, nl), dtype=np.int64) if leaf_points else None,
                          list(self.codes) if leaf_points else [])
        spans = [(start, min(n, start + chunk)) for start in range(0, n, chunk)]

        def run(span: tuple[int, int]) -> None:
            self._chunk(pools, varying, gone, moving, const, const_max, span[0], span[1], adj, out)

        workers = min(workers if workers is not None else (os.cpu_count() or 1), len(spans))
        if workers > 1:
            # numpy releases the GIL inside each operation; chunks write disjoint slices
            with ThreadPoolExecutor(workers) as pool_:
                list(pool_.map(run, spans))
        else:
            for span in spans:
                run(span)
        return out

    def _chunk(self, pools: list[tuple[LeafPool, np.ndarray | None]], varying: list[LeafPlan], gone: set[int],
               moving: set[int], const: np.ndarray, const_max: np.ndarray, start: int, stop: int, adj: int,
               out: BatchResult) -> None:
        m = stop - start
        # int32 sums: every maximum together is checked to fit when compiling; gathers of int32 are fast
        fields = np.repeat(const.astype(np.int32)[:, None], m, axis=1)
        fmax = np.repeat(const_max.astype(np.int32)[:, None], m, axis=1)

        def sel(pos: int) -> np.ndarray | None:
            pool, idx = pools[pos]
            return None if idx is None or len(pool) == 1 else idx[start:stop]

        def take(values: np.ndarray, s: np.ndarray | None) -> Any:
            return np.take(values, s) if s is not None else values[:1]

        # effective maxima (engine.effective_maxima): leaves that did not arise under exclude/redistribute
        # are "gone"; a redistributed maximum is split among the targets that are not gone themselves
        eff: dict[int, Any] = {pos: self.leaves[pos].nominal for pos in moving}
        went: dict[int, Any] = {}
        for pos in gone:
            went[pos] = take(pools[pos][0].status, sel(pos)) == NOT_APPLICABLE
            eff[pos] = np.where(went[pos], 0, self.leaves[pos].nominal)
        for plan in self._policy_leaves:
            if plan.policy != "redistribute" or plan.position not in gone:
                continue
            for pattern, shares in plan.splits:
                if any(is_gone and t not in gone for t, is_gone in pattern):
                    continue  # that target never goes in this batch
                mask = went[plan.position]
                for t, is_gone in pattern:
                    mask = mask & (went[t] if is_gone else ~went[t])
                for pos, share in shares:
                    eff[pos] = eff[pos] + np.where(mask, share, 0)
        for plan in varying:
            pool = pools[plan.position][0]
            s = sel(plan.position)
            if plan.position not in moving:
                pts: Any = take(pool.final, s)
                e: Any = plan.nominal
            else:
                e = eff[plan.position]
                pts = self._moved_points(plan, pool, s, e, take)
                fmax[plan.field_index] += e
            fields[plan.field_index] += pts
            if out.leaves is not None and out.leaf_max is not None:
                out.leaves[start:stop, plan.position] = pts
                out.leaf_max[start:stop, plan.position] = e
        if out.leaves is not None and out.leaf_max is not None:
            for plan, (pool, _) in zip(self.leaves, pools):
                if plan not in varying:
                    out.leaves[start:stop, plan.position] = pool.final[0]
                    out.leaf_max[start:stop, plan.position] = plan.nominal
        total = fields.sum(axis=0, dtype=np.int64) + adj
        max_points = fmax.sum(axis=0, dtype=np.int64)
        has = max_points != 0
        out.points[start:stop] = total
        out.max_points[start:stop] = max_points
        out.has_percent[start:stop] = has
        out.percent[start:stop] = np.where(has, div_round(total * 10000, np.where(has, max_points, 1)), 0)
        out.fields[start:stop] = fields.T

    @staticmethod
    def _moved_points(plan: LeafPlan, pool: LeafPool, s: np.ndarray | None, eff: Any, take: Any) -> Any:
        """engine._leaf_result for a leaf whose maximum moves: scaled points, award_max, zero."""
        raw = take(pool.raw, s).astype(np.int64)
        if plan.nominal:
            scaled = np.where(eff == plan.nominal, raw, div_round(raw * eff, plan.nominal))
        else:
            scaled = np.zeros_like(raw)
        if pool.all_ok:
            return scaled
        st = take(pool.status, s)
        na_pts = eff if plan.policy == "award_max" else 0
        return np.where(st == OK, scaled, np.where(st == NOT_APPLICABLE, na_pts, 0))


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


__all__ = ["VectorScorer", "LeafPool", "BatchResult", "constant_pools", "rank_code", "hundredths",
           "from_hundredths", "div_round", "split_hundredths", "OK", "MISSING", "NOT_APPLICABLE"]
