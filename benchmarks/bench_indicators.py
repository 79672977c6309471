"""Benchmark: `parindex indicators` end to end against DuckDB on the same dossier CSV.

Run: .venv/bin/python benchmarks/bench_indicators.py [--rows 1000000,10000000] [--runs 3] [--headers vi,canonical]

Both sides run as fresh processes (interpreter start, imports, reading the CSV, computing,
printing JSON), alternately, ``--runs`` times each; the same numerators and denominators are
asserted. Reported: wall time (median and best), CPU time, the ratio parindex ÷ DuckDB, and peak
memory as the largest sum of the resident sizes of the process and its children (sampled every
10 ms from /proc; parindex reads a large file in several processes, so one process's maximum
would understate it). Target (issue 10): at most 1.15× DuckDB's wall time and 1.5× its peak
memory on every file. The CSVs are generated once by benchmarks/gen_dossiers.py into
benchmarks/data/ (git-ignored); ``--rows`` and ``--headers`` take comma-separated lists and every
combination is measured, one after the other, ending with a table.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "benchmarks"))

import gen_dossiers  # noqa: E402

PERIOD = ("2025-01-01", "2025-12-31")
NAMES = ("on_time", "apology", "digitisation", "reuse", "full_online", "online_payment")

#: The same semantics as docs/dossiers.md, in SQL; {c[...]} are the file's headers.
DUCKDB_SQL = """
WITH raw AS (SELECT * FROM read_csv('{path}', header = true, all_varchar = true, skip = {skip})),
d AS (
  SELECT CAST(strptime("{c[received_at]}", '{fmt}') AS DATE) AS rec,
         CAST(strptime("{c[due_at]}", '{fmt}') AS DATE) AS due,
         CAST(strptime(nullif("{c[finished_at]}", ''), '{fmt}') AS DATE) AS fin,
         coalesce(CAST(nullif("{c[supplement_requests]}", '') AS INTEGER), 0) AS supp,
         coalesce(CAST(nullif("{c[paused_days]}", '') AS INTEGER), 0) AS paused,
         {yes[withdrawn]} AS withdrawn, {yes[full_online]} AS full_online, {yes[digitised]} AS digitised,
         {yes[result_digitised]} AS result_digitised, {yes[reused_data]} AS reused, {yes[fee_required]} AS fee,
         {yes[paid_online]} AS paid, {yes[apology_sent]} AS apology
  FROM raw),
c AS (
  SELECT *, fin IS NOT NULL AND fin <= DATE '{end}' AS done, due + paused AS eff
  FROM d WHERE rec BETWEEN DATE '{start}' AND DATE '{end}' AND NOT withdrawn),
l AS (SELECT *, supp > 1 OR (done AND fin > eff) OR (NOT done AND eff < DATE '{end}') AS late FROM c)
SELECT count(*) AS counted,
       count(*) FILTER (WHERE NOT late) AS on_time,
       count(*) FILTER (WHERE late) AS late,
       count(*) FILTER (WHERE late AND apology) AS late_apology,
       count(*) FILTER (WHERE digitised AND (result_digitised OR NOT done)) AS digitised,
       count(*) FILTER (WHERE reused) AS reused,
       count(*) FILTER (WHERE full_online) AS full_online,
       count(*) FILTER (WHERE fee) AS fee,
       count(*) FILTER (WHERE fee AND paid) AS paid
FROM l
"""

DUCKDB_RUNNER = """
import json, sys, duckdb
con = duckdb.connect()
con.execute("SET enable_progress_bar = false")
row = con.execute(sys.argv[1]).fetchone()
keys = ["counted", "on_time", "late", "late_apology", "digitised", "reused", "full_online", "fee", "paid"]
print(json.dumps(dict(zip(keys, row))))
"""

TITLE = "VÍ DỤ DỰNG SẴN (constructed example): hồ sơ giả định cho benchmark"
TRUE_WORDS = ("true", "1", "có", "co", "x", "yes", "y", "đúng", "đạt", "đã")  # as mapping.TRUE_WORDS


def duckdb_query(path: Path, headers: str) -> str:
    names = gen_dossiers.VI_HEADERS if headers == "vi" else {c: c for c in gen_dossiers.CANONICAL}
    fmt = "%d/%m/%Y %H:%M" if headers == "vi" else "%Y-%m-%d %H:%M:%S"
    words = ", ".join(f"'{w}'" for w in TRUE_WORDS)
    yes = {c: f"coalesce(lower(trim(\"{names[c]}\")) IN ({words}), false)" for c in names}
    return DUCKDB_SQL.format(path=str(path).replace("'", "''"), c=names, fmt=fmt, yes=yes, start=PERIOD[0], end=PERIOD[1],
                             skip=1 if headers == "vi" else 0)


def _tree_rss(root: int) -> int:
    """Resident bytes of ``root`` and all its descendants, from /proc."""
    parents: dict[int, int] = {}
    rss: dict[int, int] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", "rb") as handle:
                fields = handle.read().rsplit(b")", 1)[1].split()
            parents[int(entry)] = int(fields[1])
            rss[int(entry)] = int(fields[21]) * os.sysconf("SC_PAGE_SIZE")
        except (OSError, IndexError, ValueError):
            continue
    total, todo, seen = 0, [root], set()
    while todo:
        pid = todo.pop()
        if pid in seen:
            continue
        seen.add(pid)
        total += rss.get(pid, 0)
        todo.extend(child for child, parent in parents.items() if parent == pid)
    return total


def measure(cmd: list[str]) -> tuple[float, float, int, str]:
    """(wall seconds, CPU seconds of the process tree, peak tree RSS in bytes, stdout) of one run."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    peak = 0
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    done = threading.Event()

    def sample() -> None:
        nonlocal peak
        while not done.is_set():
            peak = max(peak, _tree_rss(proc.pid))
            done.wait(0.01)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    out, err = proc.communicate()
    wall = time.perf_counter() - t0
    done.set()
    sampler.join()
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(cmd[:3])}… failed ({proc.returncode}):\n{err.decode()}")
    return wall, cpu, peak, out.decode()


def bench(rows: int, headers: str, seed: int, runs: int, regenerate: bool) -> dict[str, float]:
    path = gen_dossiers.DEFAULT_DIR / f"dossiers-{rows}-{headers}-s{seed}.csv"
    if regenerate or not path.exists():
        title = ["--title", TITLE] if headers == "vi" else []  # as the sample mapping expects (header_row: 2)
        gen_dossiers.main(["--rows", str(rows), "--seed", str(seed), "--headers", headers, "-o", str(path), *title])
    exe = Path(sys.executable).with_name("parindex")
    out_json = gen_dossiers.DEFAULT_DIR / "bench-indicators.json"
    ours = [str(exe), "indicators", str(path), "--period", f"{PERIOD[0]}..{PERIOD[1]}", "--format", "json",
            "-o", str(out_json)]
    if headers == "vi":
        ours += ["--mapping", str(ROOT / "sample_evidence" / "dossiers" / "mapping-lang-son.yaml")]
    theirs = [sys.executable, "-c", DUCKDB_RUNNER, duckdb_query(path, headers)]

    results: dict[str, list[tuple[float, float, int]]] = {"parindex": [], "duckdb": []}
    duck = None
    data = None
    for _ in range(runs):
        wall, cpu, peak, out = measure(theirs)
        results["duckdb"].append((wall, cpu, peak))
        duck = json.loads(out)
        wall, cpu, peak, _ = measure(ours)
        results["parindex"].append((wall, cpu, peak))
        data = json.loads(out_json.read_text(encoding="utf-8"))
    assert duck is not None and data is not None
    ind = data["indicators"]
    expected = {"on_time": (duck["on_time"], duck["counted"]), "apology": (duck["late_apology"], duck["late"]),
                "digitisation": (duck["digitised"], duck["counted"]), "reuse": (duck["reused"], duck["counted"]),
                "full_online": (duck["full_online"], duck["counted"]), "online_payment": (duck["paid"], duck["fee"])}
    for name in NAMES:
        got = (ind[name]["numerator"], ind[name]["denominator"])
        assert got == expected[name], f"{name}: parindex {got} != DuckDB {expected[name]}"

    size = path.stat().st_size / 1e6
    print(f"file: {path.name}, {rows:,} rows, {size:.0f} MB, {os.cpu_count()} CPUs, {runs} runs each")
    for name in NAMES:
        num, den = expected[name]
        print(f"  {name:<15} {num:>11,} / {den:>11,}  parindex = DuckDB")
    out: dict[str, float] = {"rows": rows, "mb": size}
    for tool, found in results.items():
        walls = [r[0] for r in found]
        out[f"{tool}_wall"] = statistics.median(walls)
        out[f"{tool}_cpu"] = statistics.median(r[1] for r in found)
        out[f"{tool}_peak"] = max(r[2] for r in found) / 2**20
        print(f"{tool:<9} wall median {out[f'{tool}_wall']:.2f} s (best {min(walls):.2f} s), "
              f"CPU median {out[f'{tool}_cpu']:.2f} s, peak memory {out[f'{tool}_peak']:.0f} MB")
    print(f"ratio parindex / DuckDB: wall {out['parindex_wall'] / out['duckdb_wall']:.2f}×, "
          f"peak memory {out['parindex_peak'] / out['duckdb_peak']:.2f}× (targets ≤ 1.15×, ≤ 1.5×)", flush=True)
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", default="1000000", help="comma-separated, e.g. 1000000,10000000")
    parser.add_argument("--seed", type=int, default=2025)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--headers", default="canonical,vi", help="comma-separated: canonical, vi")
    parser.add_argument("--regenerate", action="store_true", help="write the CSV again even if it exists")
    args = parser.parse_args()
    table = []
    for rows in (int(r) for r in args.rows.split(",")):
        for headers in args.headers.split(","):
            table.append((headers, bench(rows, headers, args.seed, args.runs, args.regenerate)))
    print("\n| rows | headers | MB | parindex wall | DuckDB wall | ratio | parindex peak | DuckDB peak | ratio |")
    print("|---:|---|---:|---:|---:|---:|---:|---:|---:|")
    for headers, r in table:
        print(f"| {int(r['rows']):,} | {headers} | {r['mb']:.0f} | {r['parindex_wall']:.2f} s | {r['duckdb_wall']:.2f} s | "
              f"{r['parindex_wall'] / r['duckdb_wall']:.2f}× | {r['parindex_peak']:.0f} MB | {r['duckdb_peak']:.0f} MB | "
              f"{r['parindex_peak'] / r['duckdb_peak']:.2f}× |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
