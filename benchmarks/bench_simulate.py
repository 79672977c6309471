"""Benchmark: batch scoring of 1 000 000 scenarios on the vectorised path vs the reference engine.

Run: .venv/bin/python benchmarks/bench_simulate.py [--rows 1000000] [--sample 200] [--csv-rows 200000]

Every sub-criterion of the bundled set varies across the scenarios: each takes values at, just below
and just above every threshold of its rule, "không phát sinh" (na, and 0/0 counts for ratios) and the
evidence's own value. In the same run:

1. the vectorised path (scoring.vector) scores all rows: measuring the distinct values once, then
   numpy over the rows (threads = CPUs);
2. the reference engine (``score()``, durable-rules) loops over a random sample of the same rows;
   its time per scenario is extrapolated to all rows, and each sampled row must give the same total;
3. ``parindex simulate`` end to end as a process on a CSV (read, check, score, write) of --csv-rows
   rows in which every sub-criterion varies (target, issue 10: ≥ 500 000 scenarios/s).

Targets (issue 5): ≥ 1 000 000 scenario scorings per second on the 2-core machine and ≥ 100× the loop.
"""

from __future__ import annotations

import argparse
import io
import os
import statistics
import sys
import tempfile
import time
from fractions import Fraction
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from scoring.core.engine import score  # noqa: E402
from scoring.core.evidence import load_evidence  # noqa: E402
from scoring.core.rules import CompiledRule, load_bundle  # noqa: E402
from scoring.core.vector import VectorScorer, from_hundredths  # noqa: E402

SAMPLE = ROOT / "sample_evidence" / "so-tu-phap-lang-son-2025.yaml"


def _text(x: Fraction, kind: str) -> str:
    if kind == "rate":
        return f"{x.numerator}/{x.denominator}"
    if x.denominator == 1:
        return str(x.numerator)
    return f"{float(x):.6f}".rstrip("0")


def menu(rule: CompiledRule) -> list[dict[str | None, str] | None]:
    """Values worth trying on one sub-criterion (None keeps the evidence's value)."""
    r = rule.rule
    out: list[dict[str | None, str] | None] = [None, {None: "na"}]
    if r.kind == "ratio":
        for t in rule.thresholds("v"):
            for x in (t, t - Fraction(1, 10**6), t + Fraction(1, 10**6)):
                if 0 <= x <= 1:
                    out.append({None: _text(x, "rate")})
        out += [{None: "0"}, {None: "1"}, {r.numerator: "0", r.denominator: "0"}]
    elif r.kind in ("threshold", "count") or (r.kind == "external" and r.bands):
        kind = r.spec(r.value).type
        step = Fraction(1) if kind == "count" else Fraction(1, 100)
        for t in rule.thresholds("v"):
            out += [{None: _text(x, kind)} for x in (t, t - step, t + step) if x >= 0 and (kind != "rate" or x <= 1)]
    elif r.kind == "external":
        mx = Fraction(rule.max_points)
        out += [{None: _text(x, "points")} for x in (mx, mx - Fraction(1, 4), mx / 2, Fraction(0))]
    elif r.kind == "boolean":
        out += [{None: "có"}, {None: "không"}]
    elif r.kind in ("all", "any"):
        for check in r.checks:
            spec = r.spec(check.evidence)
            if spec.type == "boolean":
                out += [{check.evidence: "có"}, {check.evidence: "không"}]
            elif spec.type in ("rate", "count", "number", "score") and isinstance(check.value, Fraction):
                out += [{check.evidence: _text(check.value, spec.type)}]
    return out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--sample", type=int, default=200, help="rows scored by the reference engine")
    parser.add_argument("--csv-rows", type=int, default=1_000_000, help="rows of the end-to-end CSV run (0: skip)")
    parser.add_argument("--csv-only", action="store_true", help="only the end-to-end CSV run")
    parser.add_argument("--csv-runs", type=int, default=5, help="runs of each process in the end-to-end CSV run")
    parser.add_argument("--workers", type=int, default=None)
    parser.add_argument("--seed", type=int, default=2025)
    parser.add_argument("--repeat", type=int, default=3, help="timed runs of the vectorised scoring")
    args = parser.parse_args()

    ev = load_evidence(SAMPLE)
    bundle = load_bundle(set_id=ev.criteria_set)  # the set the evidence names, as the CLI picks it
    base = score(bundle, ev)
    rng = np.random.default_rng(args.seed)
    n = args.rows
    menus = {code: menu(rule) for code, rule in bundle.rules.items()}
    choice = {code: rng.integers(0, len(m), n).astype(np.int32) for code, m in menus.items()}
    varied = sum(1 for m in menus.values() if len(m) > 1)
    print(f"{n:,} scenarios over {len(bundle.rules)} sub-criteria ({varied} vary; "
          f"{sum(len(m) for m in menus.values())} distinct values in all); {os.cpu_count()} CPUs")

    if args.csv_only:
        csv_end_to_end(bundle, args.csv_rows, rng, menus, args.csv_runs)
        return
    scorer = VectorScorer(bundle)
    t0 = time.perf_counter()
    columns = {}
    for code, entries in menus.items():
        pool, problems = scorer.pool(ev, code, entries)
        assert not problems, (code, problems)
        columns[code] = (pool, choice[code])
    measure_s = time.perf_counter() - t0
    runs: dict[int, list[float]] = {}
    for workers in ([args.workers] if args.workers else [1, os.cpu_count() or 1]):
        for _ in range(args.repeat):
            t1 = time.perf_counter()
            res = scorer.score(columns, n, bonus=base.total.bonus, penalty=base.total.penalty, workers=workers)
            runs.setdefault(workers, []).append(time.perf_counter() - t1)
    for workers, times in runs.items():
        print(f"vectorised, {workers} thread(s): score {', '.join(f'{t:.3f}' for t in times)} s "
              f"(median {n / statistics.median(times):,.0f} scenarios/s)")
    best_workers = min(runs, key=lambda w: statistics.median(runs[w]))
    score_s = statistics.median(runs[best_workers])
    vector_rate = n / (measure_s + score_s)
    print(f"vectorised: measure {sum(len(m) for m in menus.values())} distinct values once {measure_s:.3f} s + "
          f"score {score_s:.3f} s ({best_workers} thread(s), median) = {vector_rate:,.0f} scenarios/s")

    sample = rng.choice(n, size=min(args.sample, n), replace=False)
    t0 = time.perf_counter()
    for i in sample:
        overrides = {c: menus[c][choice[c][i]] for c in menus if menus[c][choice[c][i]] is not None}
        card = score(bundle, ev, overrides)
        if from_hundredths(res.points[i]) != card.total.points or from_hundredths(res.max_points[i]) != card.total.max_points:
            raise SystemExit(f"MISMATCH at row {i}: vector {from_hundredths(res.points[i])} vs score() {card.total.points}")
    loop_s = time.perf_counter() - t0
    per = loop_s / len(sample)
    print(f"reference score() loop: {len(sample)} scenarios in {loop_s:.2f} s = {per * 1000:.2f} ms each "
          f"({1 / per:,.0f}/s); 1 000 000 would take {per * 1_000_000 / 3600:.1f} h; all {len(sample)} equal")
    print(f"speed-up: {vector_rate * per:,.0f}× (including the measuring of distinct values)")
    ok_rate, ok_ratio = vector_rate >= 1_000_000, vector_rate * per >= 100
    print(f"targets: ≥ 1 000 000/s {'met' if ok_rate else 'NOT met'}; ≥ 100× {'met' if ok_ratio else 'NOT met'}")

    if args.csv_rows:
        csv_end_to_end(bundle, args.csv_rows, rng, menus, args.csv_runs)


def csv_end_to_end(bundle: Any, rows: int, rng: np.random.Generator, menus: dict[str, list[Any]], runs: int = 5
                   ) -> None:
    """`parindex simulate` as a process on a CSV of `rows` scenarios in which all sub-criteria vary.

    The CSV (one column per sub-criterion: CODE, or CODE:evidence for the rules whose menus set a
    named value; cells drawn from the same menus, blank for "as is") is written once into benchmarks/data/ (git-ignored). Timed:
    the whole process (interpreter start, reading and checking the CSV, scoring, writing the result
    CSV), best and median of --csv-runs runs, alternating with a floor: a process that only reads the
    file with pyarrow (what any reading costs on this machine at this moment).
    """
    import subprocess

    import pandas as pd

    def key(entries: list[Any]) -> Any:  # one column per sub-criterion: its value, else its first evidence set
        keys = sorted({k for e in entries if e for k in e}, key=lambda k: (k is not None, k or ""))
        return keys[0]

    columns = [code if key(m) is None else f"{code}:{key(m)}" for code, m in menus.items()]
    path = ROOT / "benchmarks" / "data" / f"scenarios-{rows}-s{len(columns)}.csv"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        data: dict[str, Any] = {"id": np.char.add("s", np.arange(rows).astype(str))}
        for (code, entries), col in zip(menus.items(), columns):
            k = key(entries)
            texts = np.array(sorted({(e or {}).get(k, "") for e in entries}), dtype=object)
            data[col] = texts[rng.integers(0, len(texts), rows)]
        pd.DataFrame(data).to_csv(path, index=False, lineterminator="\n")
    out = path.with_suffix(".out.csv")
    exe = Path(sys.executable).with_name("parindex")
    # the floor: a process that only reads the same file with pyarrow's CSV reader (dictionary columns)
    floor = ("import sys, pyarrow as pa, pyarrow.csv as c; "
             "t = c.read_csv(sys.argv[1], convert_options=c.ConvertOptions(column_types={n: pa.dictionary(pa.int32(), "
             "pa.string()) for n in c.open_csv(sys.argv[1]).schema.names[1:]}))")
    times: dict[str, list[float]] = {"parindex": [], "floor": []}
    for _ in range(runs):  # alternating, so that a busy machine slows both alike
        for what, argv in (("parindex", [str(exe), "simulate", str(SAMPLE), "--scenarios", str(path), "-o", str(out)]),
                           ("floor", [sys.executable, "-c", floor, str(path)])):
            t0 = time.perf_counter()
            done = subprocess.run(argv, capture_output=True, text=True)
            times[what].append(time.perf_counter() - t0)
            if done.returncode != 0:
                raise SystemExit(f"{what} failed with exit code {done.returncode}:\n{done.stderr}")
    size = path.stat().st_size / 1e6
    best, median = min(times["parindex"]), statistics.median(times["parindex"])
    floor_median = statistics.median(times["floor"])
    print(f"parindex simulate as a process (read {size:.0f} MB CSV of {len(columns)} columns, check, score, write "
          f"{out.stat().st_size / 1e6:.0f} MB): {rows:,} scenarios, runs {', '.join(f'{t:.2f}' for t in times['parindex'])} s; "
          f"median {median:.2f} s (best {best:.2f} s) = {rows / median:,.0f} scenarios/s (best {rows / best:,.0f}/s); "
          f"target ≥ 500 000/s {'met' if rows / median >= 500_000 else 'NOT met'}")
    print(f"floor, a process that only reads the file with pyarrow: runs {', '.join(f'{t:.2f}' for t in times['floor'])} s; "
          f"median {floor_median:.2f} s; parindex / floor = {median / floor_median:.2f}×")
    out.unlink()


if __name__ == "__main__":
    main()
