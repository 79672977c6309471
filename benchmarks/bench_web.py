"""Benchmark: the web application on loopback (targets: scorecard page p95 < 300 ms, what-if update
p95 < 150 ms; 20 concurrent clients for 30 s with zero errors).

Run: .venv/bin/python benchmarks/bench_web.py [--requests 200] [--clients 20] [--seconds 30]

Starts ``parindex serve`` as a separate process on a free port with a fresh SQLite database, uploads the
Lạng Sơn sample (with its peers, so every page also states the rank), then measures on loopback, from
the client's side (so the figures include the HTTP round trip on 127.0.0.1):

1. p50 / p95 / max of ``GET /assessments/{id}`` (the scorecard page) over N sequential requests;
2. the same for a what-if update: ``POST /assessments/{id}/whatif`` (the htmx fragment the page swaps
   in as a value changes; a different value each time) and ``POST /api/assessments/{id}/whatif``;
3. C concurrent clients for S seconds, each alternating the scorecard page and a what-if update:
   requests, errors (any non-2xx answer or failed connection), requests/s, p50 / p95.
"""

from __future__ import annotations

import argparse
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "sample_evidence" / "so-tu-phap-lang-son-2025.yaml"
PEERS = ROOT / "sample_evidence" / "peers-lang-son-2025.yaml"


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


def line(name: str, ms: list[float]) -> str:
    return (f"{name:<34} n={len(ms):<5} p50 {statistics.median(ms):7.1f} ms   p95 {pct(ms, 95):7.1f} ms   "
            f"max {max(ms):7.1f} ms")


def start_server(tmp: Path) -> tuple[subprocess.Popen[str], str]:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {**os.environ, "PARINDEX_DATA": str(tmp)}
    proc = subprocess.Popen([sys.executable, "-m", "scoring.cli", "serve", "--port", str(port),
                             "--db", str(tmp / "bench.db")], env=env, stderr=subprocess.PIPE, text=True)
    base = f"http://127.0.0.1:{port}"
    for _ in range(300):
        try:
            if httpx.get(base + "/healthz", timeout=1).status_code == 200:
                return proc, base
        except httpx.HTTPError:
            time.sleep(0.05)
    proc.kill()
    raise SystemExit("the server did not start: " + (proc.stderr.read() if proc.stderr else ""))


def whatif_form(i: int) -> dict[str, str]:
    value = f"{86 + (i % 14)}.{i % 10}%"
    return {"set:3.4.3": value, "was:3.4.3": "86.44%", "set:7.3.4": f"{50 + i % 10}%", "was:7.3.4": "52.12%"}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--requests", type=int, default=200)
    ap.add_argument("--clients", type=int, default=20)
    ap.add_argument("--seconds", type=float, default=30)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="parindex-bench-web-") as tmpname:
        proc, base = start_server(Path(tmpname))
        try:
            with httpx.Client(base_url=base, timeout=30) as c:
                r = c.post("/api/assessments", files={"evidence": (SAMPLE.name, SAMPLE.read_bytes()),
                                                      "peers": (PEERS.name, PEERS.read_bytes())})
                r.raise_for_status()
                aid = r.json()["id"]
                page = f"/assessments/{aid}"
                c.get(page).raise_for_status()  # warm: the evidence is loaded and scored once
                token = c.cookies.get("parindex_csrf")
                headers = {"X-CSRF-Token": token}
                timings: dict[str, list[float]] = {"scorecard page": [], "what-if update (page fragment)": [],
                                                   "what-if (HTTP API, JSON)": []}
                for i in range(args.requests):
                    t = time.perf_counter()
                    c.get(page).raise_for_status()
                    timings["scorecard page"].append((time.perf_counter() - t) * 1000)
                for i in range(args.requests):
                    t = time.perf_counter()
                    c.post(f"{page}/whatif", data=whatif_form(i), headers=headers).raise_for_status()
                    timings["what-if update (page fragment)"].append((time.perf_counter() - t) * 1000)
                for i in range(args.requests):
                    t = time.perf_counter()
                    c.post(f"/api/assessments/{aid}/whatif", json={"set": {"3.4.3": f"{80 + i % 20}%"}},
                           headers=headers).raise_for_status()
                    timings["what-if (HTTP API, JSON)"].append((time.perf_counter() - t) * 1000)
            print(f"Sequential, one client, {args.requests} requests each (loopback):")
            for name, ms in timings.items():
                print("  " + line(name, ms))

            errors: list[str] = []
            done: list[float] = []
            lock = threading.Lock()
            stop = time.perf_counter() + args.seconds

            def client(k: int) -> None:
                with httpx.Client(base_url=base, timeout=30) as cc:
                    cc.get("/").raise_for_status()  # a browser session: the CSRF cookie, sent back as the header
                    cc.headers["X-CSRF-Token"] = cc.cookies.get("parindex_csrf") or ""
                    i = 0
                    while time.perf_counter() < stop:
                        t = time.perf_counter()
                        try:
                            if i % 2 == 0:
                                resp = cc.get(page)
                            else:
                                resp = cc.post(f"{page}/whatif", data=whatif_form(i + k))
                            ok = resp.status_code == 200
                            bad = None if ok else f"HTTP {resp.status_code}"
                        except httpx.HTTPError as exc:
                            bad = f"{type(exc).__name__}: {exc}"
                        with lock:
                            (errors.append(bad) if bad else done.append((time.perf_counter() - t) * 1000))
                        i += 1

            started = time.perf_counter()
            threads = [threading.Thread(target=client, args=(k,)) for k in range(args.clients)]
            for th in threads:
                th.start()
            for th in threads:
                th.join()
            took = time.perf_counter() - started
            print(f"\n{args.clients} concurrent clients for {args.seconds:g} s (scorecard page and what-if alternating):")
            print(f"  requests {len(done) + len(errors)}, errors {len(errors)}, {len(done) / took:.0f} requests/s")
            if done:
                print("  " + line("latency under load", done))
            if errors:
                print("  first errors: " + "; ".join(errors[:5]))
            return 1 if errors else 0
        finally:
            proc.terminate()
            proc.wait(10)


if __name__ == "__main__":
    sys.exit(main())
