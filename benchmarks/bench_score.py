"""Benchmark: `parindex score` end to end as a process, and where the time goes.

Run: .venv/bin/python benchmarks/bench_score.py [--runs 10]
Prints the median wall time of the CLI on each bundled sample, the time to load and check all
criteria and rules, and durable-rules assessments per second in one process.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def cli_times(sample: Path, runs: int) -> list[float]:
    exe = Path(sys.executable).with_name("parindex")
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        proc = subprocess.run([str(exe), "score", str(sample), "--format", "json"], capture_output=True)
        times.append(time.perf_counter() - t0)
        if proc.returncode != 0:
            raise SystemExit(proc.stderr.decode())
    return times


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--assessments", type=int, default=2000)
    args = parser.parse_args()

    from scoring.core.engine import score
    from scoring.core.evidence import load_evidence
    from scoring.core.rules import load_bundle

    samples = sorted((ROOT / "sample_evidence").glob("*.yaml"))
    for sample in samples:
        try:
            load_evidence(sample)
        except Exception:  # noqa: BLE001 - not an evidence file (peers, options…)
            continue
        t = cli_times(sample, args.runs)
        print(f"parindex score {sample.name}: median {statistics.median(t) * 1000:.0f} ms "
              f"(min {min(t) * 1000:.0f}, max {max(t) * 1000:.0f}, {args.runs} runs)")

    loads = []
    for _ in range(args.runs):
        t0 = time.perf_counter()
        bundle = load_bundle(set_id="cap-so-2025")
        loads.append(time.perf_counter() - t0)
        bundle.close()
    print(f"load + check the cap-so-2025 criteria and rules ({len(bundle.rules)} rules): median {statistics.median(loads) * 1000:.1f} ms")

    ev = load_evidence(ROOT / "sample_evidence" / "so-tu-phap-lang-son-2025.yaml")
    bundle = load_bundle(set_id=ev.criteria_set)
    score(bundle, ev)
    t0 = time.perf_counter()
    for _ in range(args.assessments):
        score(bundle, ev)
    dt = time.perf_counter() - t0
    print(f"score() with durable-rules in one process: {args.assessments / dt:.0f} assessments/s "
          f"({len(bundle.rules)} sub-criteria each)")
    from scoring.core.durable import evaluator_for

    ev_durable = evaluator_for(bundle)
    from scoring.core.engine import measure_leaf
    from scoring.core.errors import ProblemList

    facts = {c: measure_leaf(r, ev.evidence.get(c), ev, None, ProblemList()).fact for c, r in bundle.rules.items()}
    facts = {c: f for c, f in facts.items() if f}
    t0 = time.perf_counter()
    for _ in range(args.assessments):
        ev_durable.evaluate(facts)
    dt = time.perf_counter() - t0
    print(f"durable-rules evaluate() alone: {args.assessments / dt:.0f} assessments/s ({len(facts)} facts each)")


if __name__ == "__main__":
    main()
