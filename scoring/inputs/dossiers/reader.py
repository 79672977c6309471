"""Dossier exports (CSV, Parquet, XLSX) into a typed DuckDB table.

CSV is read by DuckDB's parallel reader (every cell as text, no type guessing), Parquet by
DuckDB, XLSX by openpyxl in read-only mode and handed to DuckDB as a DataFrame. parindex finds
the header row itself (title rows above it are common), resolves the canonical columns
(mapping.py), and converts every cell in SQL, once, into the table ``t`` of the connection (one
row per record, in file order: ``rowid``; typed columns; ``_empty`` for a row of blank cells).
Every common spelling converts in SQL (exact words, then the key form; dates by shape with
try_strptime, then mapping.py's own patterns, Excel serials). A cell that does not leaves its
typed column NULL and its row keeps the raw text in ``_odd``; only the distinct leftovers go to
the reference parsers of mapping.py (``fix_leftovers``), so a spelling means the same whichever
path reads it and Python never runs per row. ``checks.py`` turns the leftovers that stay bad
(``odd_kinds``) and the typed values into bad-row problems.
"""

from __future__ import annotations

import codecs
import csv
import os
import shutil
import tempfile
import threading
import weakref
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from ...core.errors import InputError, Problem, did_you_mean
from .convert import convert_sql, fix_leftovers, lit, q, sample_enums, sample_spellings
from .mapping import COLUMNS, ColumnSpec, TableMapping, key, nfc, scalar_text

HEADER_SEARCH = 20  # rows searched for the header when the mapping does not say which row it is
XLSX = (".xlsx", ".xlsm")
PARQUET = (".parquet", ".pq")
CSV_BUFFER = 4 << 20  # bytes per CSV read buffer: DuckDB's default (16 MB) held 50 MB more at the peak, no faster
PROGRESS_MIN_BYTES = 100 * 1024 * 1024  # about 400 000 rows: shorter reads finish before a line would help
PROGRESS_EVERY = 0.5  # seconds between two progress calls
#: DuckDB's memory for one run (its buffer manager: the dossier table, hash tables, read buffers); past it,
#: the table's blocks and large hash tables spill into the engine's private temporary folder. The dossier
#: table takes about 100 bytes a row, so up to about 8 M rows stay in memory; a national file streams
#: through the folder instead of needing its size in RAM (10 M rows: 1,7 GB resident without a limit).
#: 1 GB, not less: with 256 MB a 1 M-row file took 1,7× DuckDB's own time (its reader and hash tables
#: spill too), with 1 GB 1,07–1,17× (benchmarks/bench_indicators.py).
MEMORY_LIMIT = os.environ.get("PARINDEX_DUCKDB_MEMORY", "1GB")


# ------------------------------------------------------------------ the connection


_ENGINES: "weakref.WeakSet[Engine]" = weakref.WeakSet()
_STOP = threading.Event()


def request_stop() -> None:
    """Stop the running queries (safe to call from a signal handler): every engine raises KeyboardInterrupt.

    A front-end calls this on Ctrl-C or SIGTERM instead of raising inside DuckDB, whose own calls
    into Python (imports, the reference parsers) would turn the exception into another error.
    """
    _STOP.set()
    for engine in list(_ENGINES):
        try:
            engine.con.interrupt()
        except Exception:  # noqa: BLE001 - a closed connection has nothing to stop
            pass


def clear_stop() -> None:
    _STOP.clear()


class Engine:
    """A DuckDB connection with a private spill folder, removed when the engine is closed or collected."""

    def __init__(self, memory_limit: str | None = None) -> None:
        import duckdb

        self.tmp = tempfile.mkdtemp(prefix="parindex-duckdb-")
        self.convertible: list[str] = []  # the columns whose leftover cells t._odd holds, in order
        self.con = duckdb.connect(":memory:", config={"temp_directory": self.tmp,
                                                      "memory_limit": memory_limit or MEMORY_LIMIT})
        self.con.execute("SET enable_progress_bar = false")
        self._finalizer = weakref.finalize(self, _cleanup, self.con, self.tmp)
        _ENGINES.add(self)

    def close(self) -> None:
        self._finalizer()

    def execute(self, sql: str, params: Any = None, progress: Callable[[float], None] | None = None) -> Any:
        """Run one statement; with ``progress``, call it with DuckDB's progress (0–100) every half second.

        After ``request_stop`` every statement raises KeyboardInterrupt.
        """
        import duckdb

        if _STOP.is_set():
            raise KeyboardInterrupt
        try:
            return self._execute(sql, params, progress)
        except duckdb.Error:
            if _STOP.is_set():
                raise KeyboardInterrupt from None
            raise

    def _execute(self, sql: str, params: Any, progress: Callable[[float], None] | None) -> Any:
        if progress is None:
            return self.con.execute(sql, params) if params is not None else self.con.execute(sql)
        done = threading.Event()

        def watch() -> None:
            while not done.wait(PROGRESS_EVERY):
                try:
                    value = self.con.query_progress()
                except Exception:  # noqa: BLE001 - progress is best effort
                    return
                if value is not None and value >= 0:
                    progress(float(value))

        # DuckDB tracks a query's progress only while its progress bar is on (query_progress() is -1
        # otherwise); its own printing stays off: the front-end draws the line
        self.con.execute("SET enable_progress_bar = true")
        self.con.execute("SET enable_progress_bar_print = false")
        watcher = threading.Thread(target=watch, daemon=True)
        watcher.start()
        try:
            return self.con.execute(sql, params) if params is not None else self.con.execute(sql)
        finally:
            done.set()
            watcher.join()
            self.con.execute("SET enable_progress_bar = false")

    def rows(self, sql: str, params: Any = None) -> list[tuple[Any, ...]]:
        return self.execute(sql, params).fetchall()


def _cleanup(con: Any, tmp: str) -> None:
    try:
        con.close()
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


# ------------------------------------------------------------------ headers


def resolve(headers: list[str], mapping: TableMapping, specs: dict[str, ColumnSpec], file: str,
            header_row: int, what: str) -> tuple[dict[str, int], dict[str, str], list[Problem]]:
    """Canonical column → position in the file, and the header used for each."""
    keys: dict[str, int] = {}
    for i, h in enumerate(headers):
        keys.setdefault(key(h), i)
    positions: dict[str, int] = {}
    used: dict[str, str] = {}
    problems: list[Problem] = []
    shown = ", ".join(f"'{h}'" for h in headers if str(h).strip())
    for name, spec in specs.items():
        header = mapping.columns.get(name)
        if header is not None:
            pos = keys.get(key(header))
            if pos is None:
                hint = did_you_mean(header, headers)
                problems.append(Problem(
                    "missing_column", f"cột '{header}' ({name}) không có trong {what} (missing column)", file=file,
                    line=header_row, subject=name,
                    hint=(hint + "; " if hint else "") + "sửa tên cột trong tệp ánh xạ cột cho đúng tiêu đề trong tệp; "
                                                         f"các cột có: {shown}"))
                continue
        else:
            pos = keys.get(key(name))
            if pos is None:  # the Vietnamese title (before any parenthesis) is accepted too: "Ngày hẹn trả kết quả"
                pos = keys.get(key(spec.title.split(" (")[0]))
            if pos is None:
                if spec.required:
                    problems.append(Problem(
                        "missing_column", f"thiếu cột bắt buộc '{name}' – {spec.title} (missing required column)",
                        file=file, line=header_row, subject=name,
                        hint="thêm cột này vào tệp xuất, hoặc chỉ cột tương ứng trong tệp ánh xạ cột (--mapping), "
                             f"ví dụ: {name}: \"{spec.title.split(' (')[0]}\"; các cột có: {shown}"))
                continue
        positions[name] = pos
        used[name] = nfc(str(headers[pos])).strip()
    return positions, used, problems


def pick_header(rows: list[tuple[int, list[str]]], tm: TableMapping, specs: dict[str, ColumnSpec], file: str,
                what: str) -> tuple[int, list[str], dict[str, int], dict[str, str]]:
    """The header row: ``tm.header_row``, or the first candidate row in which every column resolves."""
    best: list[Problem] | None = None
    for number, headers in rows:
        positions, used, problems = resolve(headers, tm, specs, file, number, what)
        if not problems:
            return number, headers, positions, used
        if best is None or len(problems) < len(best):
            best = problems
    if best is None:
        row = tm.header_row or 1
        raise InputError(Problem("no_header", f"không tìm thấy dòng tiêu đề ở dòng {row}", file=file, line=row,
                                 hint="kiểm tra header_row trong tệp ánh xạ cột"))
    if tm.header_row is None and len(rows) > 1:
        best = [Problem(p.code, p.message, file=p.file, line=p.line, subject=p.subject,
                        hint=(p.hint or "") + f" (đã tìm dòng tiêu đề trong {len(rows)} dòng đầu; "
                                              "có thể chỉ rõ header_row trong tệp ánh xạ cột)") for p in best]
    raise InputError(best)


def encoding_problem(path: Path) -> Problem:
    """The first byte that is not UTF-8: its line, and what the file probably is."""
    name = str(path)
    decoder = codecs.getincrementaldecoder("utf-8")()
    line = 1
    with open(path, "rb") as handle:
        if handle.read(3) != b"\xef\xbb\xbf":
            handle.seek(0)
        while True:
            block = handle.read(1 << 20)
            if not block:
                break
            try:
                decoder.decode(block, final=False)
            except UnicodeDecodeError as exc:
                pos = exc.start
                line += block[:pos].count(b"\n")
                sample = block[block.rfind(b"\n", 0, pos) + 1: pos + 40].split(b"\n")[0]
                guess = ""
                try:
                    guess = (f"; có thể tệp được lưu bằng bảng mã Windows-1258 (dòng đó đọc theo Windows-1258: "
                             f"«{nfc(sample.decode('cp1258'))[:60]}»)")
                except UnicodeDecodeError:
                    pass
                return Problem("bad_encoding", f"tệp không phải UTF-8: byte 0x{block[pos]:02x} ở dòng {line} không hợp lệ "
                                               f"(not UTF-8){guess}", file=name, line=line,
                               hint="mở tệp bằng Excel hoặc LibreOffice rồi lưu lại dạng 'CSV UTF-8', hoặc chuyển mã "
                                    "sang UTF-8 (từ Windows-1258/TCVN3) bằng trình soạn thảo")
            line += block.count(b"\n")
    try:
        decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        return Problem("bad_encoding", f"tệp bị cắt giữa một ký tự ở dòng {line} (truncated UTF-8 character at the end)",
                       file=name, line=line, hint="xuất lại tệp từ hệ thống; tệp có thể chưa tải về hết")
    return Problem("bad_encoding", "tệp không đọc được dạng UTF-8 (not UTF-8)", file=name,
                   hint="lưu lại tệp dạng 'CSV UTF-8'")


def _count_outside_quotes(text: str, ch: str) -> int:
    return sum(part.count(ch) for part in text.split('"')[::2])


@dataclass
class CsvHead:
    offset: int  # byte offset of the first data record
    delimiter: str
    skip: int  # physical lines before the first data record
    first_row: int  # row number of the first data record
    positions: dict[str, int]
    used: dict[str, str]
    width: int


def csv_head(path: Path, tm: TableMapping, specs: dict[str, ColumnSpec], what: str) -> CsvHead:
    """Encoding checks, the header record and where the data starts."""
    name = str(path)
    with open(path, "rb") as handle:
        head = handle.read(1 << 16)
    if not head.strip():
        raise InputError(Problem("empty_file", "tệp rỗng (empty file)", file=name, hint="xuất lại tệp từ hệ thống"))
    if head[:4] == b"PK\x03\x04":  # before the NUL check: a zip archive holds NUL bytes too
        raise InputError(Problem("wrong_format", "tệp là bảng tính Excel nhưng không có đuôi .xlsx", file=name,
                                 hint="đổi đuôi tệp thành .xlsx"))
    if head[:4] == b"PAR1":
        raise InputError(Problem("wrong_format", "tệp là Parquet nhưng không có đuôi .parquet", file=name,
                                 hint="đổi đuôi tệp thành .parquet"))
    sample = head[:4096]
    if head[:2] not in (b"\xff\xfe", b"\xfe\xff") and 0 < sample.count(b"\x00") * 10 < len(sample):
        # a few NUL bytes in UTF-8 text (UTF-16 has one in nearly every other byte): name the line
        line = head[:head.index(b"\x00")].count(b"\n") + 1
        raise InputError(Problem("nul_byte", f"dòng {line} chứa ký tự NUL (mã 0) (line {line} holds a NUL byte)",
                                 file=name, line=line,
                                 hint="xóa ký tự lạ trong ô đó (thường do chép từ phần mềm khác) rồi xuất lại"))
    if head[:2] in (b"\xff\xfe", b"\xfe\xff") or b"\x00" in sample:
        raise InputError(Problem("bad_encoding", "tệp được lưu dạng UTF-16 (Unicode của Excel), không phải UTF-8 "
                                                 "(file is UTF-16, not UTF-8)", file=name, line=1,
                                 hint="trong Excel chọn Lưu dạng 'CSV UTF-8 (Comma delimited)'"))
    start = 3 if head[:3] == b"\xef\xbb\xbf" else 0
    try:
        head[start:].decode("utf-8")
    except UnicodeDecodeError as exc:
        if exc.start < len(head) - start - 4:  # not just a character cut at the end of the block
            raise InputError(encoding_problem(path)) from None
    wanted = tm.header_row or HEADER_SEARCH
    bounds = [start]
    quotes = 0
    pos = start
    while len(bounds) <= wanted:
        nl = head.find(b"\n", pos)
        if nl < 0:
            if len(head) < (1 << 16) and pos < len(head):
                bounds.append(len(head))
            break
        quotes += head.count(b'"', pos, nl)
        pos = nl + 1
        if quotes % 2 == 0:
            bounds.append(pos)
    rows: list[tuple[int, list[str]]] = []
    delimiters: dict[int, str] = {}
    for number in ([tm.header_row] if tm.header_row else range(1, len(bounds))):
        if number >= len(bounds):
            break
        text = head[bounds[number - 1]: bounds[number]].decode("utf-8", "replace").rstrip("\r\n")
        delimiter = tm.delimiter or max((",", ";", "\t", "|"), key=lambda ch: _count_outside_quotes(text, ch))
        delimiters[number] = delimiter
        rows.append((number, [nfc(h) for h in next(csv.reader([text], delimiter=delimiter))] if text else []))
    number, headers, positions, used = pick_header(rows, tm, specs, name, what)
    offset = bounds[number]
    return CsvHead(offset, delimiters[number], head.count(b"\n", 0, offset), number + 1, positions, used, len(headers))


# ------------------------------------------------------------------ row numbers


@dataclass
class RowNumbers:
    """Record ordinal (DuckDB rowid, 0-based) → the row a spreadsheet shows.

    ``first``: the row of ordinal 0; ``gaps``: rows that hold no record of the table (empty lines,
    rows DuckDB rejected), sorted. ``explicit``: the row of each ordinal, when known (XLSX).
    """

    first: int = 2
    found: list[int] | None = field(default_factory=list)
    explicit: Any = None
    find: Callable[[], list[int]] | None = None  # computes the gaps on first use (a scan of the file)

    @property
    def gaps(self) -> list[int]:
        if self.found is None:
            self.found = self.find() if self.find else []
        return self.found

    def of(self, ks: Any) -> Any:
        import numpy as np

        ks = np.asarray(ks, dtype=np.int64)
        if self.explicit is not None:
            return self.explicit[ks] if len(ks) else ks
        if not self.gaps:
            return ks + self.first
        keys = np.array(self.gaps, dtype=np.int64) - self.first - np.arange(len(self.gaps))
        return self.first + ks + np.searchsorted(keys, ks, side="right")

    def one(self, k: int) -> int:
        return int(self.of([k])[0])


def _empty_lines(path: Path, head: CsvHead, rows: int, rejected: list[int]) -> list[int]:
    """Rows of the empty lines after the header (DuckDB skips them; a spreadsheet shows them).

    Read in blocks (a whole-file map or slice of a 10 M-row export would hold gigabytes); the
    line numbers are counted in a second pass, only when there are empty lines.
    """
    size = path.stat().st_size
    if size <= head.offset:
        return []
    found: set[int] = set()  # byte offsets where an empty line starts
    newlines = 0
    last = b""
    with open(path, "rb") as handle:
        handle.seek(head.offset)
        pos, tail = head.offset, b""
        while True:
            block = handle.read(EMPTY_LINE_BLOCK)
            if not block:
                break
            if pos == head.offset and block[:1] in (b"\n", b"\r"):
                found.add(head.offset)
            buf, base = tail + block, pos - len(tail)
            for pattern in (b"\n\n", b"\n\r\n"):
                i = buf.find(pattern)
                while i >= 0:
                    if base + i + 1 >= head.offset:
                        found.add(base + i + 1)
                    i = buf.find(pattern, i + 1)
            newlines += block.count(b"\n")
            last = block[-1:]
            pos += len(block)
            tail = buf[-2:]
        if not found:
            return []
        lines = newlines + (1 if last != b"\n" else 0)
        if lines != rows + len(found) + len(rejected):
            return _empty_records_slow(path, head)
        out = []
        line, at = head.first_row, head.offset
        handle.seek(head.offset)
        for p in sorted(found):
            while at < p:
                chunk = handle.read(min(EMPTY_LINE_BLOCK, p - at))
                line += chunk.count(b"\n")
                at += len(chunk)
            out.append(line)
        return out


EMPTY_LINE_BLOCK = 16 << 20


def _empty_records_slow(path: Path, head: CsvHead) -> list[int]:
    """Empty records numbered by Python's csv module (records spanning lines: rare, and only then)."""
    with open(path, encoding="utf-8-sig", newline="") as handle:
        handle.seek(0)
        raw = handle.buffer
        raw.seek(head.offset)
        import io

        text = io.TextIOWrapper(raw, encoding="utf-8", newline="")
        out = []
        for i, record in enumerate(csv.reader(text, delimiter=head.delimiter)):
            if not record:
                out.append(head.first_row + i)
        return out


# ------------------------------------------------------------------ reading a file


@dataclass
class Loaded:
    """What ``load`` leaves in the engine: the table ``t`` and how to number and name its rows."""

    file: str
    present: tuple[str, ...]
    headers: dict[str, str]
    rows: RowNumbers
    rejected: list[tuple[int, str, str]]  # (row, DuckDB error type, the line as written)
    width: int = 0


def load(engine: Engine, path: Path, tm: TableMapping, progress: Callable[[float], None] | None = None) -> Loaded:
    """Read ``path`` into the engine's table ``t`` (see the module docstring)."""
    suffix = path.suffix.lower()
    if suffix in XLSX:
        return _load_xlsx(engine, path, tm)
    if suffix in PARQUET:
        return _load_parquet(engine, path, tm)
    return _load_csv(engine, path, tm, progress)


def convert(engine: Engine, relation: str, sources: dict[str, str], values: dict[str, dict[str, str]],
            progress: Callable[[float], None] | None = None, extra: str = "") -> None:
    """The table ``t`` from ``relation`` (canonical name → its raw text column in ``sources``)."""
    quoted = {n: q(c) for n, c in sources.items()}
    texts = tuple(c for c in sources if COLUMNS[c].kind == "text")
    sample = sample_spellings(engine, relation, quoted)
    enums = sample_enums(engine, sample, texts)
    outer, inner, convertible = convert_sql(quoted, values, sample, enums)
    engine.execute(f"CREATE OR REPLACE TEMP TABLE t AS SELECT {outer}{extra} FROM (SELECT {inner}{extra} FROM {relation})",
                   progress=progress)
    engine.convertible = convertible
    fix_leftovers(engine, convertible, values, texts, enums)


def csv_relation(name: str, head: CsvHead, rejects: bool = False) -> str:
    """DuckDB's reader over the data records of a CSV: every cell as text, columns c0, c1, …"""
    columns = "{" + ", ".join(f"{lit('c' + str(i))}: 'VARCHAR'" for i in range(head.width)) + "}"
    return (f"read_csv({lit(name)}, auto_detect = false, header = false, skip = {head.skip}, "
            f"delim = {lit(head.delimiter)}, quote = '\"', escape = '\"', columns = {columns}, "
            f"encoding = 'utf-8', buffer_size = {CSV_BUFFER}{', store_rejects = true' if rejects else ''})")


def _load_csv(engine: Engine, path: Path, tm: TableMapping, progress: Callable[[float], None] | None) -> Loaded:
    import duckdb

    name = str(path)
    head = csv_head(path, tm, COLUMNS, "tệp hồ sơ")

    def relation(rejects: bool) -> str:
        return csv_relation(name, head, rejects)

    sources = {c: f"c{p}" for c, p in head.positions.items()}
    if path.stat().st_size < PROGRESS_MIN_BYTES:
        progress = None
    rejected: list[tuple[int, str, str]] = []
    try:
        try:
            convert(engine, relation(False), sources, tm.values, progress)
        except duckdb.InvalidInputException as exc:
            if "unicode" in str(exc).lower() or "utf-8" in str(exc).lower():
                raise InputError(encoding_problem(path)) from None
            if "CSV Error" not in str(exc):
                raise
            # read again, keeping the rows DuckDB cannot split, to name them all
            convert(engine, relation(True), sources, tm.values, progress)
            rejected = [(int(line), str(kind), str(text or "")) for line, kind, text in engine.rows(
                "SELECT line, error_type, csv_line FROM reject_errors ORDER BY line")]
            rejected = _dedupe_rejects(rejected)
    except duckdb.InvalidInputException as exc:
        message = str(exc)
        if "unicode" in message.lower():
            raise InputError(encoding_problem(path)) from None
        if "CSV Error" not in message:
            raise
        raise InputError(Problem("bad_csv", "tệp CSV không đọc được: " + message.splitlines()[0], file=name,
                                 hint="mỗi dòng phải có đúng số cột như dòng tiêu đề; ô có dấu phẩy phải để trong "
                                      "ngoặc kép")) from None
    count = engine.rows("SELECT count(*) FROM t")[0][0]
    bad = [r for r, _, _ in rejected]

    def gaps() -> list[int]:  # only when a row number is shown: most runs never scan the file for empty lines
        return sorted(set(_empty_lines(path, head, count, bad) + bad))

    return Loaded(name, tuple(head.positions), head.used, RowNumbers(head.first_row, None, find=gaps), rejected,
                  head.width)


def _dedupe_rejects(rejected: list[tuple[int, str, str]]) -> list[tuple[int, str, str]]:
    seen: dict[int, tuple[int, str, str]] = {}
    for r in rejected:
        seen.setdefault(r[0], r)
    return sorted(seen.values())


@dataclass
class ParquetSource:
    relation: str  # every column as text
    sources: dict[str, str]  # canonical column → its column in ``relation``
    used: dict[str, str]
    width: int


def parquet_source(engine: Engine, path: Path, tm: TableMapping) -> ParquetSource:
    """The columns of a Parquet export, resolved, and a relation reading them as text."""
    import duckdb

    name = str(path)
    try:
        headers = [r[0] for r in engine.rows(f"DESCRIBE SELECT * FROM read_parquet({lit(name)})")]
    except duckdb.Error as exc:
        raise InputError(Problem("bad_parquet", f"không đọc được tệp Parquet ({str(exc).splitlines()[0]})", file=name,
                                 hint="xuất lại tệp")) from None
    _, _, positions, used = pick_header([(1, headers)], tm, COLUMNS, name, "tệp hồ sơ")
    relation = f"(SELECT {', '.join(f'CAST({q(h)} AS VARCHAR) AS {q(h)}' for h in headers)} FROM read_parquet({lit(name)}))"
    return ParquetSource(relation, {c: headers[p] for c, p in positions.items()}, used, len(headers))


def _load_parquet(engine: Engine, path: Path, tm: TableMapping) -> Loaded:
    src = parquet_source(engine, path, tm)
    convert(engine, src.relation, src.sources, tm.values)
    return Loaded(str(path), tuple(src.sources), src.used, RowNumbers(1), [], src.width)


# ------------------------------------------------------------------ XLSX


def xlsx_cell_text(value: Any) -> str | None:
    """A cell as text for the SQL conversions: dates ISO, integral numbers without '.0'."""
    import datetime as dt

    if value is None:
        return None
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dt.datetime):
        return value.isoformat(sep=" ")
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, dt.time):
        return "?" + value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return scalar_text(value) if not isinstance(value, (int, float)) else repr(value)


def open_sheet(path: Path, tm: TableMapping) -> tuple[Any, Any, str]:
    """(workbook, sheet, "file[sheet]") in read-only mode, or the problem why not."""
    import zipfile

    import openpyxl

    name = str(path)
    if not zipfile.is_zipfile(path):
        with open(path, "rb") as handle:
            start = handle.read(64)
        hint = ("tệp có vẻ là CSV (văn bản): đổi đuôi thành .csv" if start.strip() and b"\x00" not in start
                else "mở bằng Excel và lưu lại dạng .xlsx")
        raise InputError(Problem("bad_xlsx" if start.strip() else "empty_file",
                                 "tệp có đuôi .xlsx nhưng không phải bảng tính Excel (not an XLSX workbook)"
                                 if start.strip() else "tệp rỗng (empty file)", file=name, hint=hint))
    from scoring.core.safeio import check_workbook

    # size and zip-bomb guards; formulas without values are named by formulas_without_values (cell and row)
    check_workbook(path, name, max_rows=1_048_576, max_columns=1_000)
    try:
        book = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, OSError, ValueError, EOFError) as exc:
        raise InputError(Problem("bad_xlsx", f"không mở được bảng tính ({exc})", file=name,
                                 hint="mở bằng Excel và lưu lại dạng .xlsx")) from None
    if tm.sheet is not None:
        if tm.sheet not in book.sheetnames:
            book.close()
            raise InputError(Problem("unknown_sheet", f"không có trang tính '{tm.sheet}'", file=name,
                                     hint=did_you_mean(tm.sheet, book.sheetnames) or f"có: {', '.join(book.sheetnames)}"))
        sheet = book[tm.sheet]
    else:
        sheet = book.worksheets[0]
    return book, sheet, f"{name}[{sheet.title}]"


def formulas_without_values(path: Path, sheet: Any, file: str, columns: set[int], first_row: int) -> list[Problem]:
    """Cells holding a formula that Excel never computed (no cached value): openpyxl would read them as blank.

    A workbook written by a program (not saved by Excel) often has them. Only cells in the columns
    read, from the first data row on, are named (first 20, then a count).
    """
    import re
    import zipfile

    member = getattr(sheet, "_worksheet_path", None)
    if not member:
        return []
    member = member.lstrip("/")
    with zipfile.ZipFile(path) as archive:
        try:
            data = archive.read(member)
        except KeyError:
            return []
    if b"<f" not in data:
        return []
    cells = []
    for m in re.finditer(rb'<c r="([A-Z]+)(\d+)"[^>]*?(?:/>|>(.*?)</c>)', data, re.S):
        body = m.group(3) or b""
        if b"<f" in body and not re.search(rb"<v>[^<]", body):
            col = _column_index(m.group(1).decode())
            row = int(m.group(2))
            if col in columns and row >= first_row:
                cells.append(f"{m.group(1).decode()}{row}")
    title = getattr(sheet, "title", "")
    problems = [Problem("formula_without_value", f"ô {c} có công thức nhưng chưa có giá trị đã tính "
                                                 "(formula without a cached value)", file=file,
                        line=int(re.sub(r"[A-Z]", "", c)), subject=f"'{title}'!{c}",
                        hint="mở tệp bằng Excel hoặc LibreOffice cho công thức được tính rồi lưu lại, hoặc dán giá trị "
                             "(Paste Special → Values) thay cho công thức") for c in cells[:20]]
    if len(cells) > 20:
        problems.append(Problem("formula_without_value", f"tổng cộng {len(cells)} ô có công thức chưa có giá trị",
                                file=file))
    return problems


def _column_index(letters: str) -> int:
    n = 0
    for ch in letters:
        n = n * 26 + ord(ch) - 64
    return n - 1


def read_sheet(path: Path, tm: TableMapping, specs: dict[str, ColumnSpec], what: str
               ) -> tuple[dict[str, list[Any]], list[int], dict[str, str], tuple[str, ...], str]:
    """The needed columns of a sheet as lists of cell values, with their row numbers."""
    book, sheet, file = open_sheet(path, tm)
    try:
        first = tm.header_row or 1
        it = sheet.iter_rows(min_row=first, values_only=True)
        candidates: list[tuple[int, list[str]]] = []
        for number in range(first, first + (1 if tm.header_row else HEADER_SEARCH)):
            values = next(it, None)
            if values is None:
                break
            candidates.append((number, [scalar_text(h) for h in values]))
        number, _, positions, used = pick_header(candidates, tm, specs, file, what)
        problems = formulas_without_values(path, sheet, file, set(positions.values()), number + 1)
        if problems:
            raise InputError(problems)
        data: dict[str, list[Any]] = {c: [] for c in positions}
        rows: list[int] = []
        r = number
        for values in sheet.iter_rows(min_row=number + 1, values_only=True):
            r += 1
            if values is None or all(v is None or (isinstance(v, str) and not v.strip()) for v in values):
                continue
            rows.append(r)
            for c, pos in positions.items():
                data[c].append(values[pos] if pos < len(values) else None)
    finally:
        book.close()
    return data, rows, used, tuple(positions), file


def _load_xlsx(engine: Engine, path: Path, tm: TableMapping) -> Loaded:
    import numpy as np
    import pandas as pd

    data, rows, used, present, file = read_sheet(path, tm, COLUMNS, "tệp hồ sơ")
    frame = pd.DataFrame({f"c{i}": pd.Series([xlsx_cell_text(v) for v in data[c]], dtype=object)
                          for i, c in enumerate(present)})
    if frame.empty:
        frame = pd.DataFrame({f"c{i}": pd.Series([], dtype=object) for i in range(len(present))})
    engine.con.register("xlsx_cells", frame)
    try:
        convert(engine, "xlsx_cells", {c: f"c{i}" for i, c in enumerate(present)}, tm.values)
    finally:
        engine.con.unregister("xlsx_cells")
    return Loaded(file, present, used, RowNumbers(explicit=np.array(rows, dtype=np.int64)), [], len(present))


__all__ = ["Engine", "Loaded", "RowNumbers", "load", "read_sheet", "encoding_problem", "csv_head", "lit", "q"]
_ = (os,)
