"""Benchmark: the province server under load, on loopback only (targets: p95 < 500 ms for pages and what-if,
zero 5xx, nothing lost).

Run: .venv/bin/pip install -e '.[bench]' && .venv/bin/python benchmarks/bench_server.py [--clients 50] [--seconds 60]
     [--workers 2] [--departments 10] [--think-ms 0]

Starts a throw-away PostgreSQL (initdb/pg_ctl in a temp folder, as in the tests) and ``parindex serve
--workers N`` on it, creates one clerk per client spread over D departments (each department's evidence is
the Lạng Sơn sample under its own name), then runs C concurrent clients (asyncio + aiohttp, whose C parser
leaves the 2 cores to the server; httpx took a quarter of the CPU) for S seconds.
Each client signs in, then repeats: the scorecard page, a what-if through the API (a different value each
time), every 5th round an upload (a different file each time), every 20th round a new sign-in. Reported per kind of request: count,
p50, p95, max; errors (non-2xx, failed connections) and 5xx; then the stored assessments are counted in
the database and compared with the successful uploads. Bounded: stops after S seconds, stops everything
it started.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

import httpx  # only to wait for the server; the clients use aiohttp (a tenth of httpx's CPU per request)

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))
from pgserver import PgServer, free_port  # noqa: E402

SAMPLE = ROOT / "sample_evidence" / "so-tu-phap-lang-son-2025.yaml"
ORIGINAL = "department: Sở Tư pháp tỉnh Lạng Sơn"
PASSWORD = "mat-khau-do-tai-benchmark"


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


def evidence_for(dep: int) -> bytes:
    text = SAMPLE.read_text(encoding="utf-8")
    assert ORIGINAL in text
    return text.replace(ORIGINAL, f"department: Sở Thử Nghiệm {dep:02d}").encode()


def prepare(db: str, clients: int, departments: int) -> None:
    from scoring.store import accounts as acc
    from scoring.store import queries as q
    from scoring.store.db import Store
    from scoring.store.passwords import hash_password

    store = Store.open(db)
    hashed = hash_password(PASSWORD)
    with store.sessions.begin() as s:
        for i in range(clients):
            dep = q.department_for(s, f"Sở Thử Nghiệm {i % departments:02d}")
            acc.add_user(s, f"cv{i:02d}", "clerk", hashed, dep)
    store.close()


async def client(i: int, base: str, departments: int, until: float, think: float, times: dict[str, list[float]],
                 errors: dict[str, list[str]], uploads: list[int]) -> None:
    import aiohttp

    evidence = evidence_for(i % departments)
    sent = [0]
    jar = aiohttp.CookieJar(unsafe=True)  # cookies for 127.0.0.1 (an address, not a name)
    async with aiohttp.ClientSession(base_url=base, cookie_jar=jar,
                                     timeout=aiohttp.ClientTimeout(total=60)) as c:
        async def timed(kind: str, method: str, url: str, **kw: object) -> tuple[int, bytes] | None:
            t0 = time.perf_counter()
            try:
                async with c.request(method, url, **kw) as r:  # type: ignore[arg-type]
                    body = await r.read()
                    status = r.status
            except (aiohttp.ClientError, asyncio.TimeoutError) as exc:
                errors[kind].append(type(exc).__name__)
                return None
            times[kind].append((time.perf_counter() - t0) * 1000)
            if not 200 <= status < 300:
                errors[kind].append(str(status))
            if think:
                await asyncio.sleep(think)
            return status, body

        async def sign_in() -> str | None:
            jar.clear()
            r = await timed("đăng nhập (POST /api/login)", "POST", "/api/login",
                            json={"username": f"cv{i:02d}", "password": PASSWORD})
            return json.loads(r[1])["csrf_token"] if r is not None and r[0] == 200 else None

        async def upload(token: str) -> int | None:
            form = aiohttp.FormData()
            sent[0] += 1  # every upload a different file (stored anew, not found by its hash)
            body = evidence + f"# lần tải lên {sent[0]} của tài khoản cv{i:02d}\n".encode()
            form.add_field("evidence", body, filename="tu-cham.yaml", content_type="application/x-yaml")
            r = await timed("tải lên (POST /api/assessments)", "POST", "/api/assessments", data=form,
                            headers={"X-CSRF-Token": token})
            if r is not None and r[0] == 201:
                uploads.append(1)
                return int(json.loads(r[1])["id"])
            return None

        token = await sign_in()
        if token is None:
            return
        aid = await upload(token)
        n = 0
        while time.monotonic() < until and aid is not None:
            n += 1
            await timed("bảng điểm (GET /assessments/{id})", "GET", f"/assessments/{aid}")
            await timed("nếu … thì (POST …/whatif)", "POST", f"/api/assessments/{aid}/whatif",
                        json={"set": {"3.4.1": f"{90 + (n % 10)}%"}}, headers={"X-CSRF-Token": token})
            if n % 5 == 0:
                aid = await upload(token) or aid
            if n % 20 == 0:
                token = await sign_in() or token


def cpu_seconds(pgrp: int | None = None, comm: str | None = None) -> float:
    """CPU time (user + system) of the live processes of a process group, or of a command name, from /proc
    (Linux). Finished processes are not counted: PostgreSQL's backends live as long as their connection."""
    total = 0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            text = stat.read_text()
        except OSError:
            continue
        name, fields = text[text.index("(") + 1:text.rindex(")")], text.rsplit(")", 1)[1].split()
        if (pgrp is not None and int(fields[2]) == pgrp) or (comm is not None and name == comm):
            total += int(fields[11]) + int(fields[12])  # after the command: state, ppid, pgrp, …, utime, stime
    return total / os.sysconf("SC_CLK_TCK")


def count_assessments(db: str) -> int:
    from sqlalchemy import create_engine, text

    engine = create_engine(db)
    with engine.connect() as conn:
        n = int(conn.execute(text("SELECT count(*) FROM assessments")).scalar() or 0)
    engine.dispose()
    return n


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--clients", type=int, default=50)
    ap.add_argument("--seconds", type=float, default=60)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--departments", type=int, default=10)
    ap.add_argument("--think-ms", type=float, default=0,
                    help="pause of each client after every answer (default 0: the clients never pause)")
    args = ap.parse_args()
    pg = PgServer()
    server: subprocess.Popen[bytes] | None = None
    tmp = Path(tempfile.mkdtemp(prefix="parindex-bench-"))
    try:
        db = pg.new_database()
        prepare(db, args.clients, args.departments)
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        server = subprocess.Popen([sys.executable, "-c", "import sys; from scoring.cli import main; sys.exit(main())",
                                   "serve", "--db", db, "--port", str(port), "--workers", str(args.workers)],
                                  env={**os.environ, "PARINDEX_DATA": str(tmp)}, start_new_session=True,
                                  stdout=subprocess.DEVNULL, stderr=open(tmp / "server.log", "wb"))
        for _ in range(600):
            try:
                if httpx.get(base + "/healthz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.1)
        times: dict[str, list[float]] = defaultdict(list)
        errors: dict[str, list[str]] = defaultdict(list)
        uploads: list[int] = []
        t0 = time.monotonic()
        server_cpu0, client_cpu0, pg_cpu0 = cpu_seconds(server.pid), time.process_time(), cpu_seconds(comm="postgres")

        async def run() -> None:
            until = time.monotonic() + args.seconds
            await asyncio.gather(*(client(i, base, args.departments, until, args.think_ms / 1000, times, errors,
                                          uploads)
                                   for i in range(args.clients)))

        asyncio.run(run())
        wall = time.monotonic() - t0
        server_cpu, client_cpu = cpu_seconds(server.pid) - server_cpu0, time.process_time() - client_cpu0
        pg_cpu = cpu_seconds(comm="postgres") - pg_cpu0
        total = sum(len(v) for v in times.values())
        pause = f"a pause of {args.think_ms:g} ms after each answer" if args.think_ms else "no pause between requests"
        print(f"parindex province server: {args.clients} clients ({pause}), {args.seconds:g} s, {args.workers} workers, "
              f"PostgreSQL, {os.cpu_count()} cores; {total} requests in {wall:.1f} s ({total / wall:.1f}/s)")
        for kind in sorted(times):
            ms = times[kind]
            print(f"  {kind:<38} n={len(ms):<6} p50 {statistics.median(ms):7.1f} ms  p95 {pct(ms, 95):7.1f} ms  "
                  f"max {max(ms):7.1f} ms  errors {len(errors.get(kind, []))}")
        print(f"  CPU per request: server {server_cpu / total * 1000:.1f} ms (workers, {server_cpu:.1f} s in all), "
              f"PostgreSQL {pg_cpu / total * 1000:.1f} ms, clients {client_cpu / total * 1000:.1f} ms; "
              f"load average at the end {os.getloadavg()[0]:.1f}")
        all_errors = [e for v in errors.values() for e in v]
        fivexx = [e for e in all_errors if e.startswith("5")]
        print(f"  errors: {len(all_errors)} ({', '.join(sorted(set(all_errors))) or 'none'}); 5xx: {len(fivexx)}")
        stored = count_assessments(db)
        print(f"  stored assessments {stored} == successful uploads {len(uploads)}: {stored == len(uploads)}")
        return 0 if stored == len(uploads) and not fivexx else 1
    finally:
        if server is not None and server.poll() is None:
            os.killpg(server.pid, signal.SIGTERM)
            try:
                server.wait(20)
            except subprocess.TimeoutExpired:
                os.killpg(server.pid, signal.SIGKILL)
        pg.close()


if __name__ == "__main__":
    sys.exit(main())
