"""Least-effort plan to a target (or best score within a budget), solved exactly with OR-Tools CP-SAT.

An options file lists improvements the Office could make, each with an effort and the values it
would set (as on ``--set``). Options interact only through the sub-criteria they set, and
sub-criteria interact only through "không phát sinh" redistribution, so the leaves are cut into
*groups* (connected by redistribution). For a group, every way of taking each value it can receive
from one of the options that set it (or keeping the evidence's value) is an *assignment*; every
assignment is scored exactly, all at once, on the vectorised path (scoring.vector, held equal to
``score()`` by tests), giving the group's points and maximum. When several chosen options set the
same value, the combination that scores best is kept ("the best value"): the model picks, for each
group, the best-ranked assignment consistent with the chosen options. Totals are sums over
groups, so gains come from scoring combinations, never from adding single gains.

CP-SAT then finds the exact optimum (least effort reaching the target; or the highest index within
the budget), with ``requires`` and ``excludes``. The chosen set is scored again with ``score()``
(durable-rules) and must give the same total, or the run stops with an internal error.
"""

from __future__ import annotations

import datetime as dt
import itertools
import math
import time
from dataclasses import dataclass, field
from decimal import Decimal
from fractions import Fraction
from pathlib import Path
from typing import Any, Literal, Sequence

import numpy as np

from scoring.core.engine import Overrides, measure_leaf, score
from scoring.core.errors import EngineError, InputError, Problem, ProblemList, did_you_mean
from scoring.core.evidence import EvidenceFile, ValueError_, parse_count, to_fraction
from scoring.analysis.explain import pts
from scoring.core.rules import Bundle
from scoring.core.scorecard import Scorecard
from scoring.analysis.simulate import (
    PeerSet,
    compare_cards,
    rank_for_card,
)
from scoring.core.vector import VectorScorer, div_round, from_hundredths, hundredths
from scoring.core.yamlio import LineDict, LineList, load_yaml

ASSIGNMENT_CAP = 4096  # assignments per group; beyond this the options on one group are too entangled
TOP_KEYS = ("effort_unit", "options", "example", "note", "source")
OPTION_KEYS = ("id", "title", "effort", "owner", "set", "requires", "excludes", "note")
Key = tuple[str, str | None]  # (sub-criterion code, evidence name or None for the primary value)


# ------------------------------------------------------------------ options file


@dataclass(frozen=True)
class Option:
    """One improvement the Office could make."""

    id: str
    title: str
    effort: Decimal
    sets: tuple[tuple[Key, str], ...]
    owner: str | None = None
    requires: tuple[str, ...] = ()
    excludes: tuple[str, ...] = ()
    line: int | None = None
    key_lines: tuple[tuple[str, int | None], ...] = ()  # where 'requires' / 'excludes' are written

    def line_of(self, key: str) -> int | None:
        return dict(self.key_lines).get(key) or self.line

    def set_text(self) -> str:
        return ", ".join(f"{c}{':' + n if n else ''}={v}" for (c, n), v in self.sets)


@dataclass(frozen=True)
class OptionsFile:
    file: str
    effort_unit: str
    options: tuple[Option, ...]
    example: bool = False
    note: str | None = None

    def by_id(self) -> dict[str, Option]:
        return {o.id: o for o in self.options}


def _raw_text(value: Any) -> str:
    """A YAML scalar as the text one would type on --set."""
    if isinstance(value, bool):
        return "có" if value else "không"
    if isinstance(value, (dt.date, dt.datetime)):
        return value.strftime("%d/%m/%Y")
    raw = getattr(value, "raw", None)
    return str(raw if raw else value).strip()


def _line(data: Any, key: Any) -> int | None:
    return data.line_of(key) if isinstance(data, (LineDict, LineList)) else None


def load_options(path: Path | str, bundle: Bundle, ev: EvidenceFile) -> OptionsFile:
    """Read and check an options file; every problem names the file and line."""
    path = Path(path)
    name = str(path)
    data = load_yaml(path, "options file")
    problems = ProblemList()
    if not isinstance(data, dict):
        raise InputError(Problem("not_a_mapping", "tệp phương án cần có 'effort_unit' và 'options' "
                                 "(an options file is a mapping with 'effort_unit' and 'options')",
                                 file=name, line=1))
    for key in data:
        if key not in TOP_KEYS:
            problems.add("extra_forbidden", f"khóa '{key}' không dùng được ở đây (unknown key '{key}')", file=name,
                         line=_line(data, key),
                         hint=did_you_mean(str(key), TOP_KEYS) or f"các khóa dùng được: {', '.join(TOP_KEYS)}")
    unit = data.get("effort_unit")
    if not isinstance(unit, str) or not unit.strip():
        problems.add("missing", "thiếu 'effort_unit', ví dụ effort_unit: ngày công ('effort_unit' is missing)", file=name,
                     line=_line(data, "effort_unit") or 1)
    raw_options = data.get("options")
    if not isinstance(raw_options, list) or not raw_options:
        problems.add("missing", "'options' cần ít nhất một phương án ('options' must list at least one option)",
                     file=name,
                     line=_line(data, "options") or 1)
        problems.raise_if_any()
    options: list[Option] = []
    seen: dict[str, int | None] = {}
    all_ids = {_raw_text(r["id"]) for r in raw_options if isinstance(r, dict) and r.get("id") not in (None, "")}
    for i, raw in enumerate(raw_options):
        line = _line(raw_options, i)
        if not isinstance(raw, dict):
            problems.add("not_a_mapping", "mỗi phương án ghi dạng {id, title, effort, set} "
                         "(an option is a mapping {id, title, effort, set})", file=name, line=line)
            continue
        opt = _option(raw, line, name, bundle, ev, problems)
        if opt is None:
            continue
        if opt.id in seen:
            problems.add("duplicate_id", f"mã phương án '{opt.id}' dùng hai lần, lần đầu ở dòng {seen[opt.id]} "
                         f"(option id '{opt.id}' is used twice)",
                         file=name, line=line, subject=opt.id)
            continue
        seen[opt.id] = line
        options.append(opt)
    ids = {o.id for o in options}
    for opt in options:
        for kind in ("requires", "excludes"):
            for other in getattr(opt, kind):
                if other == opt.id:
                    problems.add("self_reference", f"phương án '{opt.id}' tự dẫn tới chính nó ở '{kind}' "
                                 f"(option '{opt.id}' {kind} itself)", file=name,
                                 line=opt.line_of(kind), subject=opt.id)
                elif other not in all_ids:
                    problems.add("unknown_option", f"'{opt.id}' ghi '{kind}: {other}' nhưng không có phương án '{other}' "
                                 f"('{other}' is not an option id)",
                                 file=name, line=opt.line_of(kind), subject=opt.id,
                                 hint=did_you_mean(other, ids - {opt.id}) or f"các mã: {', '.join(sorted(ids))}")
    problems.raise_if_any()
    cycle = _requires_cycle(options)
    if cycle:
        first = next(o for o in options if o.id == cycle[0])
        raise InputError(Problem("requires_cycle", "các phương án cần nhau theo vòng tròn (options require each other in a "
                                 "cycle): " + " → ".join(cycle),
                                 file=name, line=first.line_of("requires"), subject=cycle[0],
                                 hint="gộp chúng thành một phương án, hoặc bỏ một 'requires'"))
    return OptionsFile(name, str(unit).strip(), tuple(options), bool(data.get("example", False)),
                       str(data.get("note") or data.get("source") or "") or None)


def _option(raw: dict[str, Any], line: int | None, name: str, bundle: Bundle, ev: EvidenceFile,
            problems: ProblemList) -> Option | None:
    before = len(problems.problems)
    for key in raw:
        if key not in OPTION_KEYS:
            problems.add("extra_forbidden", f"khóa '{key}' không dùng được trong một phương án "
                         f"(unknown key '{key}' in an option)", file=name, line=_line(raw, key),
                         hint=did_you_mean(str(key), OPTION_KEYS) or f"các khóa dùng được: {', '.join(OPTION_KEYS)}")
    oid = raw.get("id")
    oid = _raw_text(oid) if oid is not None else ""
    subject = oid or None
    for key in ("id", "title", "effort", "set"):
        value = raw.get(key)
        if value in (None, "") or (isinstance(value, str) and not value.strip()):  # an id of spaces is no id
            problems.add("missing", f"phương án thiếu '{key}' (option has no '{key}')", file=name, line=line,
                         subject=subject)
    effort = Decimal(0)
    if raw.get("effort") not in (None, ""):
        try:
            frac = to_fraction(raw["effort"] if not isinstance(raw["effort"], str) else raw["effort"].strip())
            effort = Decimal(frac.numerator) / Decimal(frac.denominator)
            if Fraction(effort) != frac:
                raise ValueError_(f"{raw['effort']} has too many decimals")
            if effort < 0:
                problems.add("negative_effort", f"công sức {_raw_text(raw['effort'])} là số âm "
                             f"(effort {_raw_text(raw['effort'])} is negative)", file=name,
                             line=_line(raw, "effort"), subject=subject, hint="công sức từ 0 trở lên")
        except ValueError_ as exc:
            problems.add("bad_value", f"effort: {exc}", file=name, line=_line(raw, "effort"), subject=subject,
                         hint=exc.hint)
    sets: list[tuple[Key, str]] = []
    raw_sets = raw.get("set")
    if raw_sets not in (None, "") and not isinstance(raw_sets, dict):
        problems.add("not_a_mapping", "'set' ghi dạng MÃ: GIÁ_TRỊ, ví dụ \"7.3.4\": 60% ('set' is a mapping CODE: VALUE)",
                     file=name,
                     line=_line(raw, "set"), subject=subject)
    elif isinstance(raw_sets, dict):
        per_code: dict[str, dict[str | None, str]] = {}
        code_line: dict[str, int | None] = {}
        for key, value in raw_sets.items():
            kline = _line(raw_sets, key)
            text_key = _raw_text(key)
            code, _, ev_name = text_key.partition(":")
            code, ev_name = code.strip(), (ev_name.strip() or None)
            if code not in bundle.rules:
                index = bundle.criteria.index()
                hint = ("dùng các tiêu chí thành phần: " + ", ".join(c.code for c in index[code].children)
                        if code in index else did_you_mean(code, bundle.rules) or "dùng mã tiêu chí thành phần, ví dụ 3.4.1")
                if isinstance(key, float):
                    hint = f"đặt mã trong dấu nháy kép: \"{text_key}\" (YAML đọc nó là số)"
                problems.add("unknown_code", f"không có tiêu chí thành phần '{code}' (no sub-criterion '{code}')",
                             file=name, line=kline, subject=subject, hint=hint)
                continue
            if value in (None, ""):
                problems.add("missing", f"'{text_key}' chưa có giá trị ('{text_key}' has no value)", file=name, line=kline,
                             subject=subject)
                continue
            text = _raw_text(value)
            per_code.setdefault(code, {})[ev_name] = text
            code_line.setdefault(code, kline)
            sets.append(((code, ev_name), text))
        for code, override in per_code.items():
            found = ProblemList()
            measure_leaf(bundle.rules[code], ev.evidence.get(code), ev, override, found)
            for p in found.problems:
                problems.add(p.code, f"set {code}: {p.message.replace('--set ', '')}", file=name,
                             line=code_line.get(code, line),
                             subject=subject, hint=p.hint)
    requires = _id_list(raw, "requires", name, subject, problems)
    excludes = _id_list(raw, "excludes", name, subject, problems)
    if len(problems.problems) > before:
        return None
    owner = raw.get("owner")
    return Option(oid, str(raw.get("title")).strip(), effort, tuple(sets), str(owner).strip() if owner else None,
                  requires, excludes, line, tuple((k, _line(raw, k)) for k in ("requires", "excludes") if k in raw))


def _id_list(raw: dict[str, Any], key: str, name: str, subject: str | None, problems: ProblemList) -> tuple[str, ...]:
    value = raw.get(key)
    if value in (None, ""):
        return ()
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list):
        problems.add("bad_value", f"'{key}' là danh sách mã phương án ('{key}' is a list of option ids)", file=name,
                     line=_line(raw, key), subject=subject)
        return ()
    return tuple(_raw_text(v) for v in value)


def _requires_cycle(options: Sequence[Option]) -> list[str] | None:
    graph = {o.id: list(o.requires) for o in options}
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        stack.append(node)
        for nxt in graph.get(node, []):
            if state.get(nxt) == 1:
                return stack[stack.index(nxt):] + [nxt]
            if state.get(nxt) is None:
                found = visit(nxt)
                if found:
                    return found
        stack.pop()
        state[node] = 2
        return None

    for o in options:
        if state.get(o.id) is None:
            found = visit(o.id)
            if found:
                return found
    return None


# ------------------------------------------------------------------ groups and assignments


@dataclass
class Group:
    """Leaves coupled by redistribution that options touch, with every assignment scored."""

    codes: list[str]
    keys: list[Key]
    setters: list[list[int]]  # per key: indexes of options that set it
    assignments: list[tuple[int | None, ...]]  # per assignment: per key the option index or None (evidence)
    points: list[int] = field(default_factory=list)  # Δ points of the group, hundredths
    maxima: list[int] = field(default_factory=list)  # Δ effective maximum of the group, hundredths
    ranked: list[int] = field(default_factory=list)  # assignment indexes, best first

    def overrides(self, a: tuple[int | None, ...], options: Sequence[Option]) -> Overrides:
        out: Overrides = {}
        for key, o in zip(self.keys, a):
            if o is not None:
                value = dict(options[o].sets)[key]
                out.setdefault(key[0], {})[key[1]] = value
        return out

    def state(self, chosen: set[int]) -> int:
        """The best-ranked assignment consistent with the chosen options (the "best value" rule)."""
        for a in self.ranked:
            if all((o is None and not (set(s) & chosen)) or (o is not None and o in chosen)
                   for o, s in zip(self.assignments[a], self.setters)):
                return a
        raise AssertionError("no consistent assignment")  # pragma: no cover - all-None is always consistent


def _groups(bundle: Bundle, options: Sequence[Option], file: str | None = None) -> list[Group]:
    parent: dict[str, str] = {c: c for c in bundle.rules}

    def find(c: str) -> str:
        while parent[c] != c:
            parent[c] = parent[parent[c]]
            c = parent[c]
        return c

    for code, rule in bundle.rules.items():
        for t in rule.rule.not_applicable.to:
            parent[find(code)] = find(t)
    keys_by_root: dict[str, list[Key]] = {}
    for o in options:
        for key, _ in o.sets:
            lst = keys_by_root.setdefault(find(key[0]), [])
            if key not in lst:
                lst.append(key)
    groups = []
    for root, keys in keys_by_root.items():
        codes = [c for c in bundle.rules if find(c) == root]
        setters = [[i for i, o in enumerate(options) if any(k == key for k, _ in o.sets)] for key in keys]
        count = math.prod(len(s) + 1 for s in setters)
        if count > ASSIGNMENT_CAP:
            raise InputError(Problem(
                "too_many_combinations",
                f"{count} cách kết hợp phương án trên các tiêu chí {', '.join(codes)}, quá giới hạn {ASSIGNMENT_CAP} "
                f"({count} combinations of options, limit {ASSIGNMENT_CAP})",
                file=file, subject=", ".join(codes),
                hint="gộp các phương án đặt cùng giá trị, hoặc tách tệp (merge options or split the file)"))
        assignments = list(itertools.product(*[[None] + s for s in setters]))
        groups.append(Group(codes, keys, setters, assignments))
    return groups


@dataclass
class Model:
    """Everything the solver and the reports need, computed once."""

    bundle: Bundle
    ev: EvidenceFile
    options: OptionsFile
    base: Scorecard
    groups: list[Group]
    base_points: int  # total points (fields + bonus − penalty), hundredths
    base_max: int
    scale: int  # effort × scale is an integer
    scorer: VectorScorer

    @property
    def opts(self) -> tuple[Option, ...]:
        return self.options.options

    def effort_int(self, o: Option) -> int:
        return int(Fraction(o.effort) * self.scale)

    def evaluate(self, chosen: set[int]) -> tuple[int, int]:
        """Exact (total points, maximum) in hundredths for a set of options (from the group tables)."""
        p, m = self.base_points, self.base_max
        for g in self.groups:
            a = g.state(chosen)
            p += g.points[a]
            m += g.maxima[a]
        return p, m

    def overrides(self, chosen: set[int]) -> Overrides:
        out: Overrides = {}
        for g in self.groups:
            for code, values in g.overrides(g.assignments[g.state(chosen)], self.opts).items():
                out.setdefault(code, {}).update(values)
        return out


def build_model(bundle: Bundle, ev: EvidenceFile, options: OptionsFile, scorer: VectorScorer | None = None) -> Model:
    """Score every assignment of every group at once (vectorised) and rank them."""
    base = score(bundle, ev)
    scorer = scorer or VectorScorer(bundle)
    opts = options.options
    groups = _groups(bundle, opts, options.file)
    rows: list[tuple[int, int]] = [(-1, -1)]  # (group, assignment); row 0 is the evidence as is
    for gi, g in enumerate(groups):
        rows += [(gi, a) for a in range(len(g.assignments))]
    n = len(rows)
    columns = {}
    problems: list[Problem] = []
    for code in scorer.codes:
        gi_of = next((gi for gi, g in enumerate(groups) if code in g.codes), None)
        if gi_of is None:
            pool, found = scorer.pool(ev, code, [None])
            columns[code] = (pool, None)
            continue
        g = groups[gi_of]
        entries: list[dict[str | None, str] | None] = [None]
        seen: dict[tuple[tuple[str | None, str], ...], int] = {(): 0}
        idx = np.zeros(n, dtype=np.int32)
        for r, (gi, a) in enumerate(rows):
            if gi != gi_of:
                continue
            override = g.overrides(g.assignments[a], opts).get(code, {})
            key = tuple(sorted(override.items(), key=lambda kv: kv[0] or ""))
            if key not in seen:
                seen[key] = len(entries)
                entries.append(dict(override))
            idx[r] = seen[key]
        pool, found = scorer.pool(ev, code, entries)
        for j, p in found:
            who = [opts[o].id for r, (gi, a) in enumerate(rows) if gi == gi_of and idx[r] == j
                   for o in g.assignments[a] if o is not None]
            names = sorted(set(who))
            lead = f"option {names[0]}" if len(names) == 1 else f"options {', '.join(names)} together"
            problems.append(Problem(p.code, f"{lead}: {p.message}",
                                    file=options.file, subject=code, hint=p.hint))
        columns[code] = (pool, idx)
    if problems:
        raise InputError(problems[:30])
    res = scorer.score(columns, n, bonus=base.total.bonus, penalty=base.total.penalty, leaf_points=True)
    assert res.leaves is not None and res.leaf_max is not None
    pos = {c: i for i, c in enumerate(scorer.codes)}
    for gi, g in enumerate(groups):
        cols = [pos[c] for c in g.codes]
        first = 1 + sum(len(x.assignments) for x in groups[:gi])
        block = slice(first, first + len(g.assignments))
        g.points = (res.leaves[block][:, cols].sum(axis=1) - res.leaves[0, cols].sum()).tolist()
        g.maxima = (res.leaf_max[block][:, cols].sum(axis=1) - res.leaf_max[0, cols].sum()).tolist()
        if not np.array_equal(res.points[block] - res.points[0], np.asarray(g.points)):
            raise EngineError(Problem("group_not_independent", "a group's points moved other sub-criteria",
                                      subject=", ".join(g.codes)))
        # best first: more points, then a smaller maximum (higher index), then the file's order
        g.ranked = sorted(range(len(g.assignments)), key=lambda a: (-g.points[a], g.maxima[a], a))
    fractions = [Fraction(o.effort) for o in opts]
    scale = math.lcm(*[f.denominator for f in fractions]) if fractions else 1
    if scale > 10**6:
        raise InputError(Problem("bad_value", "efforts have too many decimals", file=options.file,
                                 hint="round efforts to at most 6 decimals"))
    return Model(bundle, ev, options, base, groups, int(res.points[0]), int(res.max_points[0]), scale, scorer)


# ------------------------------------------------------------------ solving


Mode = Literal["percent", "points", "rank", "budget"]


@dataclass
class Target:
    mode: Mode
    value: Decimal  # percent, points, rank or budget as given
    percent_h: int | None = None  # the index to reach, hundredths of a percent
    points_h: int | None = None  # the total points to reach, hundredths
    budget: int | None = None  # scaled effort
    text: str = ""


@dataclass
class Solution:
    chosen: list[int]
    points: int
    max_points: int
    effort: int
    status: str


def _cp_model(m: Model) -> tuple[Any, list[Any], Any, Any, Any]:
    from ortools.sat.python import cp_model

    model = cp_model.CpModel()
    x = [model.new_bool_var(f"x_{o.id}") for o in m.opts]
    ids = {o.id: i for i, o in enumerate(m.opts)}
    for i, o in enumerate(m.opts):
        for r in o.requires:
            model.add_implication(x[i], x[ids[r]])
        for e in o.excludes:
            model.add_bool_or([x[i].Not(), x[ids[e]].Not()])
    point_terms: list[Any] = []
    max_terms: list[Any] = []
    for gi, g in enumerate(m.groups):
        earlier = None  # "some better-ranked assignment is consistent"
        ys = []
        for rank_pos, a in enumerate(g.ranked):
            lits = []
            for o, setters in zip(g.assignments[a], g.setters):
                lits += [x[o]] if o is not None else [x[s].Not() for s in setters]
            c = model.new_bool_var(f"c_{gi}_{a}")
            model.add_bool_and(lits).only_enforce_if(c)
            model.add_bool_or([lit.Not() for lit in lits]).only_enforce_if(c.Not())
            y = model.new_bool_var(f"y_{gi}_{a}")
            if earlier is None:
                model.add(y == c)
                now = c
            else:
                model.add_bool_and([c, earlier.Not()]).only_enforce_if(y)
                model.add_bool_or([c.Not(), earlier, y])
                now = model.new_bool_var(f"p_{gi}_{rank_pos}")
                model.add_max_equality(now, [earlier, c])
            earlier = now
            ys.append(y)
            if g.points[a]:
                point_terms.append(g.points[a] * y)
            if g.maxima[a]:
                max_terms.append(g.maxima[a] * y)
        model.add_exactly_one(ys)
    total = m.base_points + sum(point_terms) if point_terms else m.base_points
    maximum = m.base_max + sum(max_terms) if max_terms else m.base_max
    effort = sum(m.effort_int(o) * x[i] for i, o in enumerate(m.opts))
    return model, x, total, maximum, effort


def _solve(m: Model, target: Target | None, budget: int | None, objective: str,
           ratio: tuple[int, int] | None = None) -> Solution | None:
    """One CP-SAT solve (objective: lexicographic | max_points | ratio); None when infeasible."""
    from ortools.sat.python import cp_model

    model, x, total, maximum, effort = _cp_model(m)
    if target is not None and target.points_h is not None:
        model.add(total >= target.points_h)
    if target is not None and target.percent_h is not None:
        model.add(maximum >= 1)
        model.add(20000 * total >= (2 * target.percent_h - 1) * maximum)
    if budget is not None:
        model.add(effort <= budget)
    if objective == "lexicographic":
        # least effort, then most points, then fewest options, in one objective: each weight exceeds the
        # whole range of what follows it (points move by at most `spread` hundredths, count by at most n)
        n = len(x)
        spread = sum(max(g.points) - min(g.points) for g in m.groups) + 1
        model.minimize(effort * (spread * (n + 1)) - total * (n + 1) + sum(x))
    elif objective == "max_points":
        model.maximize(total)
    elif objective == "ratio" and ratio is not None:
        model.add(maximum >= 1)
        model.maximize(total * ratio[1] - maximum * ratio[0])
    else:
        raise ValueError(objective)
    solver = cp_model.CpSolver()
    solver.parameters.num_workers = 2
    solver.parameters.max_time_in_seconds = 60
    status = solver.solve(model)
    if status not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        return None
    if status != cp_model.OPTIMAL:
        raise EngineError(Problem("solver_timeout", "CP-SAT found a plan but could not prove it optimal in 60 s"))
    chosen = [i for i, v in enumerate(x) if solver.boolean_value(v)]
    return Solution(chosen, int(solver.value(total)), int(solver.value(maximum)), int(solver.value(effort)),
                    solver.status_name(status))


def _best_percent(m: Model, budget: int | None) -> int:
    """The highest index (hundredths of a percent) reachable within the budget, when options move the maximum.

    The index is a ratio of two sums (points / maximum); Dinkelbach's method maximises it exactly: from a
    plan with ratio p/q, maximise points × q − p × maximum; a positive optimum is a plan with a higher
    ratio, zero proves p/q the highest. The rounded index of the highest ratio is the highest index.
    """
    p, q = m.base_points, m.base_max  # the empty plan is always allowed
    if q <= 0:
        return 0
    while True:
        sol = _solve(m, None, budget, objective="ratio", ratio=(p, q))
        assert sol is not None
        if sol.max_points <= 0 or sol.points * q - p * sol.max_points <= 0:
            return div_round(p * 10000, q)
        p, q = sol.points, sol.max_points


def optimise(m: Model, target: Target) -> tuple[Solution | None, Solution]:
    """(the plan, or None if the target cannot be reached; the best reachable within the budget or at all).

    With a target: the least effort, then the most points, then the fewest options. With a budget (and
    for "best reachable"): the highest index, then the least effort, then the most points.
    """

    def best(budget: int | None) -> Solution:
        if any(v for g in m.groups for v in g.maxima):  # options change the maximum: search the index itself
            q = _best_percent(m, budget)
        else:
            top = _solve(m, None, budget, objective="max_points")
            assert top is not None
            q = div_round(top.points * 10000, m.base_max) if m.base_max else 0
        sol = _solve(m, Target("percent", Decimal(0), percent_h=q), budget, objective="lexicographic")
        assert sol is not None
        return sol

    if target.mode == "budget":
        sol = best(target.budget)
        return sol, sol
    plan = _solve(m, target, None, objective="lexicographic")
    if plan is None:
        return None, best(None)
    return plan, plan


# ------------------------------------------------------------------ the plan and its reports


def make_target(m: Model, *, percent: Decimal | None = None, points: Decimal | None = None, rank: int | None = None,
                budget: Decimal | None = None, peers: PeerSet | None = None) -> Target:
    """Check the target against the criteria set's maximum and turn it into exact integer bounds."""
    cset = m.bundle.criteria
    bonus_cap = cset.adjustments.bonus.max_points if cset.adjustments.bonus else Decimal(0)
    top_points = cset.scale + bonus_cap
    top_percent = Decimal(100) + bonus_cap * 100 / cset.scale if cset.scale else Decimal(100)
    if percent is not None:
        if percent < 0 or percent > top_percent:
            raise InputError(Problem("target_above_maximum",
                                     f"--target-percent {pts(percent)} nằm ngoài 0–{pts(top_percent)} % "
                                     f"(is outside 0–{pts(top_percent)} %)",
                                     subject="--target-percent",
                                     hint=f"chỉ số không vượt quá {pts(top_percent)} % (100 % cộng điểm thưởng tối đa)"))
        return Target("percent", percent, percent_h=math.ceil(Fraction(percent) * 100),
                      text=f"chỉ số từ {pts(percent)}% trở lên")
    if points is not None:
        if points < 0 or points > top_points:
            raise InputError(Problem("target_above_maximum",
                                     f"--target-points {pts(points)} nằm ngoài 0–{pts(top_points)} "
                                     f"(is outside 0–{pts(top_points)})",
                                     subject="--target-points",
                                     hint=f"tối đa {pts(cset.scale)} điểm cộng tối đa {pts(bonus_cap)} điểm thưởng"))
        return Target("points", points, points_h=math.ceil(Fraction(points) * 100),
                      text=f"tổng điểm từ {pts(points)} trở lên")
    if rank is not None:
        if peers is None:
            raise InputError(Problem("peers_required", "--target-rank cần --peers TỆP (needs --peers FILE)",
                                     subject="--target-rank",
                                     hint="thêm kết quả công bố của các đơn vị, ví dụ --peers peers.yaml"))
        of = len(peers.peers) + 1
        if rank < 1 or rank > of:
            raise InputError(Problem("target_above_maximum", f"--target-rank {rank} nằm ngoài 1–{of} (is outside 1–{of})",
                                     subject="--target-rank", file=peers.file,
                                     hint=f"có {of} đơn vị kể cả đơn vị mình"))
        text = f"xếp hạng {rank}/{of} trở lên"
        if rank == of:
            return Target("rank", Decimal(rank), points_h=-10**9, text=text)
        v = peers.peers[rank - 1].value
        if peers.measure == "percent":
            return Target("rank", Decimal(rank), percent_h=math.ceil(Fraction(v) * 100), text=text)
        return Target("rank", Decimal(rank), points_h=math.ceil(Fraction(v) * 100), text=text)
    assert budget is not None
    if budget < 0:
        raise InputError(Problem("negative_effort", f"--budget {budget} là số âm (is negative)", subject="--budget",
                                 hint="công sức từ 0 trở lên"))
    return Target("budget", budget, budget=math.floor(Fraction(budget) * m.scale),
                  text=f"điểm cao nhất với công sức không quá {pts(budget)} {m.options.effort_unit}")


def plan(m: Model, target: Target, peers: PeerSet | None = None) -> dict[str, Any]:
    """Solve, verify with score(), and gather everything the reports show."""
    started = time.perf_counter()
    sol, reachable = optimise(m, target)
    took = time.perf_counter() - started
    shown = sol if sol is not None else reachable
    chosen = set(shown.chosen)
    overrides = m.overrides(chosen)
    after = score(m.bundle, m.ev, overrides)
    if (hundredths(after.total.points, "points") != shown.points
            or hundredths(after.total.max_points, "max_points") != shown.max_points):
        raise EngineError(Problem("plan_not_verified",
                                  f"the solver's total {from_hundredths(shown.points)} differs from score() "
                                  f"{after.total.points}", hint="report this with the options file"))
    return {"model": m, "target": target, "feasible": sol is not None, "solution": shown, "after": after,
            "overrides": overrides, "diff": compare_cards(m.base, after, overrides, peers),
            "opportunities": opportunities(m), "still_losing": still_losing(m, after, overrides),
            "peers": peers, "rank_before": rank_for_card(m.base, peers) if peers else None,
            "rank_after": rank_for_card(after, peers) if peers else None, "seconds": took}


def opportunities(m: Model) -> list[dict[str, Any]]:
    """Every option alone: its exact gain (scored), effort and gain per effort, best ratio first."""
    out = []
    base_pct = div_round(m.base_points * 10000, m.base_max) if m.base_max else None
    for i, o in enumerate(m.opts):
        p, mx = m.evaluate({i})
        pct = div_round(p * 10000, mx) if mx else None
        gain = from_hundredths(p - m.base_points)
        per = (gain / o.effort) if o.effort else None
        out.append({"id": o.id, "title": o.title, "effort": o.effort, "owner": o.owner, "set": o.set_text(),
                    "gain_points": gain,
                    "gain_percent": from_hundredths(pct - base_pct) if pct is not None and base_pct is not None else None,
                    "gain_per_effort": per.quantize(Decimal("0.0001")) if per is not None else None,
                    "requires": list(o.requires)})
    out.sort(key=lambda r: (-(r["gain_per_effort"] if r["gain_per_effort"] is not None
                              else (Decimal(10**9) if r["gain_points"] > 0 else Decimal(0))), -r["gain_points"]))
    return out


def _winback(m: Model, code: str, card: Scorecard, overrides: Overrides) -> tuple[str, dict[str | None, str] | None]:
    """What value would win the sub-criterion's points back (from its top band), and that override."""
    compiled = m.bundle.rules[code]
    r = compiled.rule
    node = card.node(code)
    if node.outcome == "missing_evidence":
        return f"bổ sung số liệu, tài liệu kiểm chứng ({'; '.join(node.details) or 'còn thiếu'})", None
    if node.outcome == "not_applicable":
        return "không phát sinh: bộ tiêu chí không cho điểm trường hợp này", None
    if r.kind == "external" and not getattr(r, "bands", ()):
        return "điểm do tỉnh cung cấp (điều tra xã hội học), không tự chấm được", None
    if r.kind in ("ratio", "threshold", "count") or (r.kind == "external" and r.bands):
        spec = r.spec(r.value) if r.kind != "ratio" else None
        t = r.bands[0].meeting_value(whole=bool(spec and spec.type == "count"))
        is_rate = r.kind == "ratio" or bool(spec and spec.type == "rate")
        text = f"cần: {compiled.target}"
        leaf = m.ev.evidence.get(code)
        if r.kind == "ratio" and leaf is not None and code not in overrides:
            try:
                num_, den = parse_count(leaf.values.get(r.numerator)), parse_count(leaf.values.get(r.denominator))
                need = math.ceil(t * den) - num_
                if need > 0:
                    unit = r.spec(r.numerator).unit or ""
                    text += f" (thêm {need:,} {unit} trên tổng {den:,})".replace(",", ".")
            except ValueError:
                pass
        raw = f"{t.numerator}/{t.denominator}" if is_rate else (
            str(t.numerator) if t.denominator == 1 else format(Decimal(t.numerator) / Decimal(t.denominator), "f"))
        return text, {None: raw}
    if r.kind == "boolean":
        return f"cần: {'có' if r.expect else 'không'}", {None: "có" if r.expect else "không"}
    if r.kind == "level":
        best = max(range(len(r.levels)), key=lambda i: r.levels[i].points)
        return f"cần: {r.levels[best].label}", {None: f"level:{best + 1}"}
    if r.kind == "points":
        return f"cần: {compiled.target}", {None: str(compiled.max_points)}
    if r.kind in ("all", "any"):
        override: dict[str | None, str] = {}
        for check in r.checks:
            if isinstance(check.value, bool):
                override[check.evidence] = "có" if check.value == (check.op == "eq") else "không"
            elif isinstance(check.value, Fraction) and check.op in ("ge", "eq", "le"):
                spec = r.spec(check.evidence)
                v = check.value
                override[check.evidence] = (f"{v.numerator}/{v.denominator}" if spec.type == "rate"
                                            else str(v.numerator) if v.denominator == 1 else str(float(v)))
            else:
                override = {}
                break
            if r.kind == "any":
                break
        failing = "; ".join(node.details) or compiled.target
        return f"cần: {failing}", override or None
    return f"cần: {'; '.join(node.details) or compiled.target}", None


def still_losing(m: Model, after: Scorecard, overrides: Overrides) -> list[dict[str, Any]]:
    """Each sub-criterion still losing points after the plan, what would win them back, and the exact gain."""
    rows = []
    trials: list[Overrides] = []
    for node in after.lost_points():
        text, win = _winback(m, node.code, after, overrides)
        rows.append({"code": node.code, "title": node.title, "lost": node.lost, "measured": node.measured_text,
                     "win_back": text, "gain_points": None, "external": node.external})
        if win is not None:
            trials.append({**overrides, node.code: win})
            rows[-1]["_trial"] = len(trials) - 1
    totals = totals_of(m, trials)
    for r in rows:
        j = r.pop("_trial", None)
        if j is not None and totals[j] is not None:
            r["gain_points"] = totals[j] - after.total.points
    return rows


def totals_of(m: Model, trials: Sequence[Overrides]) -> list[Decimal | None]:
    """Exact total points of many override sets at once (vectorised); None where a value is refused."""
    if not trials:
        return []
    n = len(trials)
    bad = np.zeros(n, dtype=bool)
    columns = {}
    for code in m.scorer.codes:
        entries: list[dict[str | None, str] | None] = []
        seen: dict[Any, int] = {}
        idx = np.empty(n, dtype=np.int32)
        for i, t in enumerate(trials):
            override = t.get(code)
            key = tuple(sorted(override.items(), key=lambda kv: kv[0] or "")) if override else None
            if key not in seen:
                seen[key] = len(entries)
                entries.append(dict(override) if override else None)
            idx[i] = seen[key]
        pool, found = m.scorer.pool(m.ev, code, entries)
        for j, _ in found:
            bad |= idx == j
        columns[code] = (pool, idx)
    res = m.scorer.score(columns, n, bonus=m.base.total.bonus, penalty=m.base.total.penalty)
    return [None if bad[i] else from_hundredths(res.points[i]) for i in range(n)]


__all__ = ["Option", "OptionsFile", "Model", "Target", "Solution", "load_options", "build_model", "make_target",
           "optimise", "plan"]
