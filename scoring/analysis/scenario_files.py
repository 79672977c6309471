"""Scenario CSVs of ``parindex simulate``, in and out, without a Python object per cell.

In: pyarrow's parallel CSV reader dictionary-encodes every scenario column in one pass (each
distinct cell text becomes one Python string; a cell is an int32 code); a file with a row of the
wrong width, or one pyarrow cannot read, goes to the DuckDB reader, which pads a short row with
empty cells (as documented) and names the line of a long one or of bad UTF-8.

Out: every column of the result is a dictionary (each distinct number formatted once, exactly,
from integer hundredths) taken into Arrow strings and joined into lines by pyarrow compute; the
bytes are DuckDB's CSV writer's (its quoting rule: ``csv_text``), which wrote this file before.
"""

from __future__ import annotations

import mmap
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator, Sequence

import numpy as np

from scoring.core.errors import InputError, Problem
from scoring.core.vector import from_hundredths


def _csv_error(name: str, message: str, width: int, sep: str) -> InputError:
    found = re.search(r"[Ll]ine:? (\d+)", message)
    line = int(found.group(1)) if found else None
    if "unicode" in message.lower() or "utf-8" in message.lower():
        return InputError(Problem("bad_encoding", "tệp không phải UTF-8 (not valid UTF-8)", file=name, line=line,
                                  hint="trong Excel chọn Lưu dạng 'CSV UTF-8 (Comma delimited)'"))
    if "Expected Number of Columns" in message:
        return InputError(Problem("bad_csv", f"có dòng nhiều ô hơn {width} cột của tiêu đề "
                                  f"(a row has more cells than the header's {width})", file=name, line=line,
                                  hint=f"dấu phân cách là '{sep}'; đặt giá trị chứa dấu này trong dấu nháy kép"))
    return InputError(Problem("bad_csv", f"tệp CSV không đọc được (unreadable CSV): {message.strip().splitlines()[0]}",
                              file=name, line=line,
                              hint=f"mỗi dòng cần {width} ô cách nhau bởi '{sep}' (every row needs {width} cells)"))


class ScenarioIds(Sequence[str]):
    """The scenario ids, one per row, kept as one Arrow string array (no Python string per row)."""

    def __init__(self, array: Any) -> None:
        self.array = array

    def __len__(self) -> int:
        return len(self.array)

    def __getitem__(self, i: Any) -> Any:
        if isinstance(i, slice):
            return self.array[i].to_pylist()
        return self.array[int(i)].as_py()

    def __iter__(self) -> Iterator[str]:
        return iter(self.array.to_pylist())

    def __eq__(self, other: object) -> bool:
        if isinstance(other, ScenarioIds):
            return bool(self.array.equals(other.array))
        return isinstance(other, Sequence) and list(self) == list(other)

    def __repr__(self) -> str:
        return f"ScenarioIds({len(self)} rows)"


@dataclass
class Cells:
    """What ``read_cells`` found: the ids, and for each wanted column one int32 code per row into its
    distinct texts (numbered by first appearance) and the first row of each text."""

    ids: ScenarioIds
    codes: list[np.ndarray]
    labels: list[list[str]]
    firsts: list[np.ndarray]

    def __len__(self) -> int:
        return len(self.ids)


def arrow_ints(values: np.ndarray) -> Any:
    """A numpy int32/int64 array as an Arrow array, zero-copy.

    Built from buffers: ``pa.array`` on a list or a numpy array imports pandas (half a second of
    start-up) to check whether it was given pandas objects.
    """
    import pyarrow as pa

    values = np.ascontiguousarray(values)
    kind = {np.dtype(np.int32): pa.int32(), np.dtype(np.int64): pa.int64()}[values.dtype]
    return pa.Array.from_buffers(kind, len(values), [None, pa.py_buffer(values)])


def arrow_strings(texts: list[str]) -> Any:
    """Python strings as an Arrow string array (from buffers, see ``arrow_ints``)."""
    import pyarrow as pa

    encoded = [t.encode("utf-8") for t in texts]
    offsets = np.zeros(len(encoded) + 1, dtype=np.int64)
    np.cumsum(np.fromiter((len(e) for e in encoded), dtype=np.int64, count=len(encoded)), out=offsets[1:])
    if offsets[-1] >= 2**31:
        raise ValueError("more than 2 GiB of text")  # scenario files are at most 1 GiB
    return pa.Array.from_buffers(pa.string(), len(encoded), [None, pa.py_buffer(offsets.astype(np.int32)),
                                                            pa.py_buffer(b"".join(encoded))])


def _has_quote(path: Path) -> bool:
    """True when the file has a double quote anywhere: only then can a cell hold a line break."""
    with path.open("rb") as handle:
        try:
            with mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ) as data:
                return data.find(b'"') >= 0
        except ValueError:  # an empty file cannot be mapped
            return False


def read_cells(path: Path, sep: str, width: int, columns: list[int], id_pos: int | None) -> Cells:
    """The scenario rows: ids, and for each wanted column its codes, distinct texts and first rows.

    pyarrow's parallel CSV reader dictionary-encodes every column in one pass (no Python object per
    cell); without a double quote in the file no cell can span lines, and the reader splits the file
    into blocks freely. Any row of the wrong width, or anything pyarrow cannot read, goes to the
    DuckDB reader instead, which pads a short row with empty cells (as documented) and names the line
    of a long one.
    """
    import pyarrow as pa
    import pyarrow.csv as pc

    names = [f"c{i}" for i in range(width)]
    wanted = list(dict.fromkeys(columns))
    types = {f"c{p}": pa.dictionary(pa.int32(), pa.string()) for p in wanted}
    if id_pos is not None:
        types[f"c{id_pos}"] = pa.string()
    try:
        table = pc.read_csv(path, read_options=pc.ReadOptions(skip_rows=1, column_names=names, encoding="utf8"),
                            parse_options=pc.ParseOptions(delimiter=sep, newlines_in_values=_has_quote(path),
                                                          ignore_empty_lines=False),
                            convert_options=pc.ConvertOptions(column_types=types, include_columns=list(types) or None,
                                                              strings_can_be_null=False,
                                                              quoted_strings_can_be_null=False))
    except (pa.ArrowInvalid, UnicodeDecodeError):
        return _read_cells_duckdb(path, sep, width, columns, id_pos)  # it says what and where
    n = table.num_rows
    if n == 0:
        return Cells(ScenarioIds(arrow_strings([])), [], [], [])
    by_pos: dict[int, tuple[np.ndarray, list[str], np.ndarray]] = {}
    for p in wanted:
        column = table.column(f"c{p}").unify_dictionaries()
        chunks = [c for c in column.chunks if len(c)]
        texts = chunks[0].dictionary.to_pylist() if chunks else []
        codes = np.concatenate([np.frombuffer(c.indices.buffers()[1], dtype=np.int32, count=len(c), offset=4 * c.offset)
                                for c in chunks])
        by_pos[p] = _by_first_appearance(codes, texts)
    if id_pos is not None:
        ids = _clean_ids(table.column(f"c{id_pos}").combine_chunks())
    else:
        ids = _row_numbers(n)
    return Cells(ScenarioIds(ids), [by_pos[p][0] for p in columns], [by_pos[p][1] for p in columns],
                 [by_pos[p][2] for p in columns])


def _row_numbers(n: int, start: int = 1) -> Any:
    import pyarrow as pa

    return arrow_ints(np.arange(start, start + n, dtype=np.int64)).cast(pa.string())


def _clean_ids(raw: Any) -> Any:
    """Each id as written, blanks around it dropped (``str.strip``); a blank id is the row's number.

    Vectorised for the usual id (first and last characters printable ASCII, nothing to strip); the
    others, few, go through ``str.strip`` itself.
    """
    import pyarrow.compute as pcc

    plain = pcc.match_substring_regex(raw, r"^[!-~]$|^[!-~](?s:.*)[!-~]$")
    if pcc.all(plain).as_py() is not False:
        return raw
    rows = pcc.indices_nonzero(pcc.invert(plain))
    fixed = [x.strip() or str(i + 1) for i, x in zip(rows.to_pylist(), raw.take(rows).to_pylist())]
    return pcc.replace_with_mask(raw, pcc.invert(plain), arrow_strings(fixed))


def _by_first_appearance(codes: np.ndarray, texts: list[str]) -> tuple[np.ndarray, list[str], np.ndarray]:
    """Renumber a column's codes so that texts are numbered in order of first appearance; with each
    text's first row. Texts no row uses are dropped.

    The first rows are looked for in a growing prefix of the rows (a scenario file's few distinct
    texts mostly appear early); the codes are rewritten only when the order differs.
    """
    n, k = len(codes), len(texts)
    first = np.full(k, n, dtype=np.int64)
    stop = 0
    while stop < n:
        start, stop = stop, min(n, max(4096, 4 * stop))
        part = codes[start:stop]
        mine = np.full(k, n, dtype=np.int64)
        mine[part[::-1]] = np.arange(stop - 1, start - 1, -1, dtype=np.int64)  # the last write wins: the first
        first = np.minimum(first, mine)
        if np.all(first < n):
            break
    order = np.argsort(first, kind="stable")
    used = int(np.count_nonzero(first < n))
    if np.array_equal(order, np.arange(k)):
        return codes.astype(np.int32, copy=False), texts[:used], first[:used]
    remap = np.empty(k, dtype=np.int32)
    remap[order] = np.arange(k, dtype=np.int32)
    return remap[codes], [texts[i] for i in order[:used]], first[order[:used]]


def _read_cells_duckdb(path: Path, sep: str, width: int, columns: list[int], id_pos: int | None) -> Cells:
    """The scenario rows through DuckDB (parallel CSV reader, every cell as text): ids, and for each
    wanted column one integer per row into its distinct texts (numbered by first appearance).

    Two scans: the distinct texts of every column (become ENUM types), then each cell's code
    (``enum_code``), read into numpy without a Python object per cell.
    """
    import duckdb

    name = str(path)
    cols = "{" + ", ".join(f"'c{i}': 'VARCHAR'" for i in range(width)) + "}"
    rel = (f"read_csv('{name.replace(chr(39), chr(39) * 2)}', header = false, skip = 1, columns = {cols}, "
           f"delim = '{sep}', quote = '\"', escape = '\"', auto_detect = false, strict_mode = true, "
           "null_padding = true, encoding = 'utf-8')")
    wanted = list(dict.fromkeys(columns))
    con = duckdb.connect(":memory:")
    try:
        con.execute("SET enable_progress_bar = false")
        try:
            # pass 1: the distinct texts of each column (and the number of rows)
            lists = ", ".join(f"list(DISTINCT coalesce(c{p}, ''))" for p in wanted)
            found = con.execute(f"SELECT count(*){', ' + lists if lists else ''} FROM {rel}").fetchone()
            n, distinct = int(found[0]), [list(v) for v in found[1:]]
            if n == 0:
                return Cells(ScenarioIds(arrow_strings([])), [], [], [])
            # pass 2: each cell as its number among them (ENUM codes), in file order
            for k, texts in enumerate(distinct):
                con.execute(f"CREATE TYPE e{k} AS ENUM ({', '.join(_sql_text(t) for t in texts)})")
            select = [f"enum_code(CAST(coalesce(c{p}, '') AS e{k})) AS v{k}" for k, p in enumerate(wanted)]
            if id_pos is not None:
                select.append(f"coalesce(c{id_pos}, '') AS id")
            got = con.execute(f"SELECT {', '.join(select) or '0 AS none'} FROM {rel}").fetchnumpy()
        except duckdb.Error as exc:
            raise _csv_error(name, str(exc), width, sep) from None
    finally:
        con.close()
    by_pos = {p: _by_first_appearance(np.asarray(got[f"v{k}"]).astype(np.int32), texts)
              for k, (p, texts) in enumerate(zip(wanted, distinct))}
    if id_pos is not None:
        ids = _clean_ids(arrow_strings(np.asarray(got["id"]).tolist()))  # as the pyarrow path (str.strip)
    else:
        ids = _row_numbers(n)
    return Cells(ScenarioIds(ids), [by_pos[p][0] for p in columns], [by_pos[p][1] for p in columns],
                 [by_pos[p][2] for p in columns])


def _sql_text(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


# ------------------------------------------------------------------ writing


def factorize_bounded(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``(codes, uniques)`` of an integer array, uniques ascending; a lookup table when the values
    span a small range (points in hundredths do), else a sort."""
    values = np.asarray(values, dtype=np.int64)
    if len(values) == 0:
        return np.zeros(0, dtype=np.int32), np.zeros(0, dtype=np.int64)
    lo, hi = int(values.min()), int(values.max())
    if hi - lo > 1 << 22:
        uniques, codes = np.unique(values, return_inverse=True)
        return codes.astype(np.int32), uniques
    shifted = values - lo
    seen = np.zeros(hi - lo + 1, dtype=bool)
    seen[shifted] = True
    uniques = np.flatnonzero(seen)
    table = np.zeros(hi - lo + 1, dtype=np.int32)
    table[uniques] = np.arange(len(uniques), dtype=np.int32)
    return table[shifted], uniques + lo


_NEEDS_QUOTES = re.compile(r'[\n\r",#]')


def csv_text(text: str) -> str:
    """A cell as DuckDB's CSV writer writes it (delimiter ','): quoted, quotes doubled, when it holds
    a line break, a double quote, a comma or '#', or is empty (the empty text of a NULL is bare)."""
    if text == "" or _NEEDS_QUOTES.search(text):
        return '"' + text.replace('"', '""') + '"'
    return text


def _arrow_csv_texts(array: Any) -> Any:
    """``csv_text`` over an Arrow string array: the rows that need quotes (rare) are found vectorised
    and go through ``csv_text`` itself."""
    import pyarrow.compute as pcc

    needs = pcc.match_substring_regex(array, r'[\n\r",#]|^$')
    if not pcc.any(needs).as_py():
        return array
    rows = pcc.indices_nonzero(needs)
    return pcc.replace_with_mask(array, needs, arrow_strings([csv_text(x) for x in array.take(rows).to_pylist()]))


@dataclass
class OutColumn:
    """One output column: a header, and either codes into texts (-1: empty cell) or Arrow strings."""

    header: str
    codes: np.ndarray | None = None
    texts: list[str] | None = None
    strings: Any = None


def number_column(header: str, values: np.ndarray, mask: np.ndarray | None = None) -> OutColumn:
    """Hundredths → '88.45' / '12' / '9.5' (machine-readable, as the JSON numbers), each distinct
    value formatted once, exactly; rows outside ``mask`` are empty."""
    codes, uniques = factorize_bounded(values)
    texts = [format(from_hundredths(int(v)), "f") for v in uniques]
    if mask is not None:
        codes = np.where(mask, codes, -1).astype(np.int32)
    return OutColumn(header, codes, texts)


def write_csv(columns: list[OutColumn], rows: int, block: int = 1 << 17) -> bytes:
    """The CSV as DuckDB's writer wrote it (header, ',' between cells, '\\n' after every row), with a
    UTF-8 BOM for Excel: each block of rows is joined into lines by pyarrow compute, the blocks in
    threads (pyarrow and numpy release the GIL)."""
    import os
    from concurrent.futures import ThreadPoolExecutor

    import pyarrow.compute as pcc

    pieces: list[Any] = [("\ufeff" + ",".join(csv_text(c.header) for c in columns) + "\n").encode("utf-8")]
    last = len(columns) - 1
    comma, newline, nothing = arrow_strings([",", "\n", ""])  # scalars (a Python str would import pandas)
    dictionaries = []
    for k, c in enumerate(columns):
        if c.texts is None:
            dictionaries.append(None)
            continue
        texts = [csv_text(t) for t in c.texts] + [""]  # the last entry: an empty cell
        if k == last:
            texts = [t + "\n" for t in texts]
        dictionaries.append(arrow_strings(texts))
    def lines_of(start: int) -> Any:
        stop = min(rows, start + block)
        cells = []
        for k, c in enumerate(columns):
            if c.strings is not None:
                cells.append(_arrow_csv_texts(c.strings.slice(start, stop - start)))
                continue
            assert c.codes is not None
            codes = c.codes[start:stop]
            codes = np.where(codes < 0, len(dictionaries[k]) - 1, codes).astype(np.int32)
            cells.append(dictionaries[k].take(arrow_ints(codes)))
        lines = pcc.binary_join_element_wise(*cells, comma) if len(cells) > 1 else cells[0]
        if columns[last].strings is not None:  # the line break is not in the last column's texts
            lines = pcc.binary_join_element_wise(lines, newline, nothing)
        offsets = np.frombuffer(lines.buffers()[1], dtype=np.int32, count=len(lines) + 1, offset=4 * lines.offset)
        return memoryview(lines.buffers()[2])[offsets[0]:offsets[-1]]

    starts = range(0, rows, block)
    if len(starts) > 1:
        with ThreadPoolExecutor(max_workers=min(len(starts), os.cpu_count() or 1)) as pool:
            pieces.extend(pool.map(lines_of, starts))
    else:
        pieces.extend(lines_of(s) for s in starts)
    return b"".join(pieces)
