"""Heavy work of a request in a helper process of lower CPU priority, so that pages keep answering.

Reading and scoring an upload (about 45 ms of CPU for a workbook, seconds for a dossier export) and
checking a password (about 25 ms of argon2) ran in the worker process that also renders the pages:
under load every page waited behind them (benchmarks/bench_server.py: 50 clients, page p95 1,2 s).
``parindex serve`` gives each worker one helper process at a lower priority (nice 10 on Unix, "below
normal" on Windows); the worker's request threads hand it the work and wait, and the operating system
runs the pages first. Spawned, not forked (the worker has threads); the helper loads the criteria sets
once, ignores Ctrl-C (its worker stops it) and exits by itself when its worker is gone.

What runs there must be a module-level function of picklable arguments, with no side effect that the
worker would need (it reads stored files and returns values; storing stays in the worker). A helper
that dies is replaced, and the call that saw it die runs in the worker itself: a request never fails
because of the helper. Without a helper (``Offload(0)``: tests, ``create_app`` called directly) every
call runs in place.
"""

from __future__ import annotations

import os
import threading
from collections import deque
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path
from typing import Any, TypeVar

T = TypeVar("T")

NICE = 10  # added to the helper's niceness: pages (0) run first, the helper still gets idle CPU
WATCH_SECONDS = 0.2  # how often the helper checks that its worker still lives


class Offload:
    """Where heavy calls run: ``processes`` helper processes (0: in the calling thread)."""

    def __init__(self, processes: int = 0, criteria_dir: Path | None = None, rules_dir: Path | None = None):
        self.processes = processes
        self.dirs = (criteria_dir, rules_dir)  # the criteria sets the helper loads at start
        self._pool: ProcessPoolExecutor | None = None
        self._lock = threading.Lock()
        self.replaced = 0  # helpers replaced after dying (for tests and logs)
        #: the part of a heavy request that stays in the worker (storing an upload: ~10 ms of CPU) runs one
        #: at a time: many at once shared the worker's interpreter with the pages, and the pages waited
        self.lane = Lane()

    def start(self) -> None:
        """Start the helpers now (from the worker's main thread) and wait until they are ready."""
        if self.processes < 1:
            return
        with self._lock:
            if self._pool is None:
                self._pool = self._new_pool()
            pool = self._pool
        for f in [pool.submit(_ready) for _ in range(self.processes)]:
            f.result(timeout=120)

    def _new_pool(self) -> ProcessPoolExecutor:
        import multiprocessing

        return ProcessPoolExecutor(self.processes, mp_context=multiprocessing.get_context("spawn"),
                                   initializer=_init, initargs=(os.getpid(), *self.dirs))

    def run(self, fn: Callable[..., T], *args: Any) -> T:
        """``fn(*args)`` in a helper (blocking this thread, not the others), or here without one."""
        pool = self._pool
        if pool is None:
            return fn(*args)
        try:
            return pool.submit(fn, *args).result()
        except BrokenProcessPool:
            with self._lock:
                if self._pool is pool:  # the first thread to see it replaces it
                    pool.shutdown(wait=False, cancel_futures=True)
                    self._pool = self._new_pool()
                    self.replaced += 1
            return fn(*args)

    def pids(self) -> list[int]:
        pool = self._pool
        return sorted(p.pid for p in (getattr(pool, "_processes", None) or {}).values() if p.pid) if pool else []

    def close(self) -> None:
        with self._lock:
            pool, self._pool = self._pool, None
        if pool is not None:
            pool.shutdown(wait=True, cancel_futures=True)


class Lane:
    """A lock taken in the order asked for (``threading.Lock`` is not: under load one upload waited 12 s
    while later ones went first)."""

    def __init__(self) -> None:
        self._mutex = threading.Lock()
        self._busy = False
        self._waiting: deque[threading.Event] = deque()

    def __enter__(self) -> None:
        with self._mutex:
            if not self._busy:
                self._busy = True
                return
            turn = threading.Event()
            self._waiting.append(turn)
        turn.wait()  # the holder hands the lane over: _busy stays true

    def __exit__(self, *exc: object) -> None:
        with self._mutex:
            if self._waiting:
                self._waiting.popleft().set()
            else:
                self._busy = False


def _init(parent: int, criteria_dir: Path | None, rules_dir: Path | None) -> None:
    import signal

    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C reaches the whole group: the worker stops us
    _lower_priority()
    threading.Thread(target=_watch, args=(parent,), daemon=True, name="parindex-watch-parent").start()
    from .bundles import settle

    settle(criteria_dir, rules_dir)


def _lower_priority() -> None:
    if hasattr(os, "nice"):
        try:
            os.nice(NICE)
        except OSError:
            pass
    elif os.name == "nt":  # pragma: no cover - Windows
        import ctypes

        below_normal = 0x4000
        kernel = ctypes.windll.kernel32  # type: ignore[attr-defined]
        kernel.SetPriorityClass(kernel.GetCurrentProcess(), below_normal)


def _watch(parent: int) -> None:
    """Exit when the worker is gone (killed, even with SIGKILL): no helper outlives its server."""
    import time

    while True:
        time.sleep(WATCH_SECONDS)
        if os.getppid() != parent:
            os._exit(0)


def _ready() -> int:
    return os.getpid()
