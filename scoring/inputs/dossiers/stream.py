"""One pass over a clean dossier export: the indicators without keeping the dossier table.

The full path (compute.read_dossiers) keeps every row in DuckDB, typed, for the bad rows' row
numbers, ``--list`` and ``--by``: about 100 bytes a row, 1 GB at 10 M rows. Most runs need none of
that: the file is clean and only the counts are asked for. This module reads the file once through
the same conversions (convert.py) and the same compiled definitions (definitions.yaml), and takes
out of DuckDB, per row, only a 64-bit hash of the dossier id and one bit per predicate. The bits
are counted batch by batch; the hashes are sorted once, for the duplicate check.

Whatever needs the rows makes ``indicators_one_pass`` return None, and the caller reads the file
the full way, which finds, numbers and words the problems: a row the conversion marks suspect
(convert.suspect_sql: every row a check could find bad), a repeated hash, any error of DuckDB's
reader, a reception date after the guessed default year. Results are the same by construction
(the same SQL per cell and per predicate); tests/test_dossiers_one_pass.py compares both paths.
"""

from __future__ import annotations

import csv
import datetime as dt
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Iterator

from .convert import convert_sql, sample_spellings
from .definitions import definitions, deadline_sql, flags_sql, indicator_predicates, names_read
from .mapping import COLUMNS, OK, Mapping, Period, from_day, scalar_day
from .reader import _STOP, PARQUET, PROGRESS_MIN_BYTES, XLSX, Engine, Loaded, csv_head, csv_relation, parquet_source, q

if TYPE_CHECKING:
    from .compute import DossierTable, Result

BATCH = 1 << 18  # rows per Arrow batch out of DuckDB (2 MB of hashes and bits)
MAX_BITS = 62  # predicates counted in one BIGINT per row (the definitions have about 30)
#: DuckDB's memory for the pass: it holds no table, and its CSV reader otherwise keeps read buffers up to
#: the limit (280 MB of a 10 M-row file at 1 GB); at 128 MB the pass took 5 % longer (2 threads; 24 MB a
#: thread on larger machines). Too little for some file (very wide rows) is an error of DuckDB's, and then
#: the full path runs.
ONE_PASS_MEMORY = os.environ.get("PARINDEX_ONE_PASS_MEMORY") or f"{max(128, 24 * (os.cpu_count() or 1))}MB"
TAIL_BYTES = 1 << 18  # the end of a CSV read to guess the default period (exports are often sorted by date)


def eligible(path: Path, mapping: Mapping, by: str | None, has_catalogue: bool) -> bool:
    """Whether one pass can give the whole result: CSV or Parquet, no ``--by``, no catalogue (its notes
    need the procedure codes), calendar deadlines (working days join a calendar built from the
    rows), and no definition reading a text column (the full path normalises those)."""
    if path.suffix.lower() in XLSX or by is not None or has_catalogue:
        return False
    dl = mapping.deadlines
    if dl.paused_days == "working" and not dl.due_includes_pauses:
        return False
    return not any(COLUMNS[n].kind == "text" for n in names_read(definitions()) if n in COLUMNS)


@dataclass
class StreamedTable:
    """What render.py and the front-ends read of a dossier table, for a file read in one pass.

    The rows themselves (``--list``, ``frame``, row numbers) come from ``full()``: the file read
    again the full way, once, when first asked for.
    """

    path: Path
    mapping: Mapping
    skip_bad_rows: bool
    file: str
    columns: tuple[str, ...]
    headers: dict[str, str]
    rows_read: int
    deadlines: Any
    problems: list[Any] = field(default_factory=list)
    problem_counts: dict[str, int] = field(default_factory=dict)
    skipped_rows: list[int] = field(default_factory=list)
    one_pass: bool = True
    _full: DossierTable | None = None

    @property
    def problem_total(self) -> int:
        return 0

    def full(self) -> DossierTable:
        if self._full is None:
            from .compute import read_dossiers

            self._full = read_dossiers(self.path, self.mapping, skip_bad_rows=self.skip_bad_rows)
        return self._full

    def __len__(self) -> int:
        return self.rows_read

    def rows_of(self, ks: Any) -> Any:
        return self.full().rows_of(ks)

    def id_list(self) -> list[str]:
        return self.full().id_list()

    @property
    def frame(self) -> Any:
        return self.full().frame

    @property
    def engine(self) -> Engine:
        return self.full().engine

    @property
    def loaded(self) -> Loaded:
        return self.full().loaded

    def close(self) -> None:
        if self._full is not None:
            self._full.close()


def indicators_one_pass(path: Path, mapping: Mapping, period: Period | None, skip_bad_rows: bool = False,
                        progress: Callable[[float], None] | None = None) -> Result | None:
    """The indicators of a clean export in one pass, or None when the full path must run (see the module)."""
    import duckdb

    engine = Engine(memory_limit=ONE_PASS_MEMORY)
    try:
        return _run(engine, path, mapping, period, skip_bad_rows, progress)
    except duckdb.Error:
        if _STOP.is_set():
            raise KeyboardInterrupt from None
        return None  # the full path reads the file again and names the problem
    finally:
        engine.close()


def _run(engine: Engine, path: Path, mapping: Mapping, period: Period | None, skip_bad_rows: bool,
         progress: Callable[[float], None] | None) -> Result | None:
    from .compute import Result, add_notes, assemble

    tm = mapping.dossiers
    name = str(path)
    size = path.stat().st_size
    if path.suffix.lower() in PARQUET:
        src = parquet_source(engine, path, tm)
        relation, sources, used, row_bytes, head = src.relation, src.sources, src.used, 0.0, None
        progress = None
    else:
        head = csv_head(path, tm, COLUMNS, "tệp hồ sơ")  # its problems are the full path's too
        relation, used = csv_relation(name, head), head.used
        sources = {c: f"c{p}" for c, p in head.positions.items()}
        row_bytes = _row_bytes(path, head.offset)
        if size < PROGRESS_MIN_BYTES:
            progress = None
    present = tuple(sources)
    quoted = {n: q(c) for n, c in sources.items()}
    sample = sample_spellings(engine, relation, quoted)
    outer, inner, _ = convert_sql(quoted, tm.values, sample, {})
    typed = f"(SELECT {outer} FROM (SELECT {inner} FROM {relation}) AS _r)"
    guarded = period is None
    if period is None:
        period = _guess_period(engine, path, typed, head)
        if period is None:
            return None
    defs = definitions()
    dl = mapping.deadlines
    relation_d = (f"(SELECT *, {deadline_sql('duckdb', 'calendar', dl.due_includes_pauses)} AS deadline "
                  f"FROM {typed} AS _t WHERE NOT _empty)")
    flagged = flags_sql(defs, period.start, period.end, relation_d)
    preds = indicator_predicates(defs, period.start, period.end, set(present))
    checks = ["_suspect"]
    if guarded:  # the guessed year is the default period only if no row is later and some row is in it
        checks += [f"received_at > DATE '{period.end}'", f"received_at >= DATE '{period.start}'"]
    bit_of: dict[str, int] = {}
    for sql in checks + list(preds.values()):
        bit_of.setdefault(sql, len(bit_of))
    if len(bit_of) > MAX_BITS:
        return None
    bits = " + ".join(f"CASE WHEN {sql} THEN {1 << i} ELSE 0 END" for sql, i in bit_of.items())
    query = f"SELECT hash({q('dossier_id')}) AS h, CAST({bits} AS UBIGINT) AS b FROM {flagged} AS _q"
    report = (lambda n: progress(min(99.0, 100.0 * n * row_bytes / size))) if progress else None
    found = _scan(engine, query, len(bit_of), _capacity(size, row_bytes, head), report)
    if found is None:
        return None
    rows, totals = found
    if guarded and (totals[1] or not totals[2]):
        return None
    values = {key: int(totals[bit_of[sql]]) for key, sql in preds.items()}
    counts = {"used": rows, **{n: values[f"count:{n}"] for n in defs.counts}}
    indicators, unavailable = assemble(values, set(present), False, lambda spec: (0, 0))
    table = StreamedTable(path, mapping, skip_bad_rows, name, present, used, rows, dl)
    result = Result(table=table, period=period, indicators=indicators, unavailable=unavailable,  # type: ignore[arg-type]
                    counts=counts, catalogue=None)
    add_notes(result, values, lambda sql: [], "", q)
    return result


class _ReadFailed(Exception):
    """DuckDB's reader stopped on the file: the full path reads it again and names the problem."""


def _batches(engine: Engine, query: str) -> Iterator[Any]:
    """The query's Arrow batches; an error of the reader becomes ``_ReadFailed`` (or KeyboardInterrupt
    after ``request_stop``), and nothing else is caught."""
    import duckdb

    try:
        reader = engine.con.sql(query).to_arrow_reader(BATCH)
        while True:
            try:
                batch = reader.read_next_batch()
            except StopIteration:
                return
            if _STOP.is_set():
                raise KeyboardInterrupt
            yield batch
    except (duckdb.Error, OSError, ValueError) as exc:  # DuckDB's errors reach the Arrow reader as OSError
        if _STOP.is_set() or isinstance(exc, duckdb.InterruptException):
            raise KeyboardInterrupt from None
        raise _ReadFailed from exc


def _scan(engine: Engine, query: str, nbits: int, capacity: int,
          report: Callable[[int], None] | None) -> tuple[int, list[int]] | None:
    """(rows, count per bit) of the query's rows, or None when some row is suspect (bit 0), two rows
    share a dossier-id hash, or the reader failed. ``report`` gets the number of rows read so far."""
    import numpy as np

    engine.execute("SET preserve_insertion_order = false")  # the rows' order does not matter here
    hashes = np.empty(capacity, dtype=np.uint64)
    totals = [0] * nbits
    masks = [np.uint64(1 << i) for i in range(nbits)]
    n = 0
    try:
        for batch in _batches(engine, query):
            b = _values(batch.column(1))
            if np.count_nonzero(b & masks[0]):
                return None
            for i in range(1, nbits):
                totals[i] += int(np.count_nonzero(b & masks[i]))
            h = _values(batch.column(0))
            if n + len(h) > len(hashes):
                hashes = np.concatenate([hashes[:n], np.empty(max(len(h), n // 2), dtype=np.uint64)])
            hashes[n:n + len(h)] = h
            n += len(h)
            if report is not None:
                report(n)
    except _ReadFailed:
        return None
    seen = hashes[:n]
    seen.sort()
    if n > 1 and np.count_nonzero(seen[1:] == seen[:-1]):
        return None
    return n, totals


def _values(array: Any) -> Any:
    """A UBIGINT Arrow array without nulls as a numpy view (pyarrow's own to_numpy imports pandas: 0,3 s)."""
    import numpy as np

    return np.frombuffer(array.buffers()[1], dtype=np.uint64, count=len(array), offset=array.offset * 8)


def _row_bytes(path: Path, offset: int) -> float:
    """Average bytes per record in the first megabyte of data (for the capacity and the progress)."""
    with open(path, "rb") as handle:
        handle.seek(offset)
        block = handle.read(1 << 20)
    return len(block) / max(1, block.count(b"\n"))


def _capacity(size: int, row_bytes: float, head: Any) -> int:
    if head is None or row_bytes <= 0:
        return 1 << 16  # Parquet: grown as the batches come
    return int(size / row_bytes * 1.2) + 1024


def _guess_period(engine: Engine, path: Path, typed: str, head: Any) -> Period | None:
    """The year of the latest reception date among the first rows and, for a CSV, the last ones."""
    latest = engine.rows(f"SELECT max(received_at) FROM (SELECT * FROM {typed} LIMIT 2000) WHERE NOT _empty")[0][0]
    if head is not None and "received_at" in head.positions:
        tail = _tail_latest(path, head.offset, head.delimiter, head.positions["received_at"])
        if tail is not None and (latest is None or tail > latest):
            latest = tail
    return Period.year(latest.year, default=True) if latest is not None else None


def _tail_latest(path: Path, offset: int, delimiter: str, position: int) -> dt.date | None:
    """The latest reception date in the last records of a CSV (a guess: verified by the pass itself)."""
    size = path.stat().st_size
    start = max(offset, size - TAIL_BYTES)
    with open(path, "rb") as handle:
        handle.seek(start)
        data = handle.read()
    if start > offset:
        data = data[data.find(b"\n") + 1:]
    best = None
    for record in csv.reader(data.decode("utf-8", "replace").splitlines(), delimiter=delimiter):
        if position < len(record):
            kind, day = scalar_day(record[position])
            if kind == OK:
                found = from_day(day)
                best = found if best is None or found > best else best
    return best


__all__ = ["StreamedTable", "eligible", "indicators_one_pass"]
