"""Scenario CSVs of ``parindex simulate``: read by pyarrow's parallel CSV reader as dictionary codes
(DuckDB when a row has the wrong width), and the result columns as categoricals for DuckDB's CSV
writer (scoring.analysis.simulate.scenarios_csv). No Python object is made per cell.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

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


def read_cells(path: Path, sep: str, width: int, columns: list[int], id_pos: int | None
                ) -> tuple[list[str], list[np.ndarray], list[list[str]]]:
    """The scenario rows: ids, and for each wanted column one integer per row into its distinct
    texts (numbered by first appearance).

    pyarrow's parallel CSV reader dictionary-encodes every column in one pass (no Python object per
    cell). A file with a row of the wrong width goes to the DuckDB reader instead, which pads a short
    row with empty cells (as documented) and names the line of a long one.
    """
    import pyarrow as pa
    import pyarrow.csv as pc

    name = str(path)
    invalid: list[int] = []

    def handler(row: Any) -> str:
        invalid.append(row.actual_columns)
        return "skip"

    names = [f"c{i}" for i in range(width)]
    wanted = list(dict.fromkeys(columns))
    types = {f"c{p}": pa.dictionary(pa.int32(), pa.string()) for p in wanted}
    if id_pos is not None:
        types[f"c{id_pos}"] = pa.string()
    try:
        table = pc.read_csv(path, read_options=pc.ReadOptions(skip_rows=1, column_names=names, encoding="utf8"),
                            parse_options=pc.ParseOptions(delimiter=sep, newlines_in_values=True,
                                                          ignore_empty_lines=False, invalid_row_handler=handler),
                            convert_options=pc.ConvertOptions(column_types=types, include_columns=list(types) or None,
                                                              strings_can_be_null=False,
                                                              quoted_strings_can_be_null=False))
    except (pa.ArrowInvalid, UnicodeDecodeError):
        table = None  # the DuckDB reader says what and where
    if table is None or invalid:
        return _read_cells_duckdb(path, sep, width, columns, id_pos)
    n = table.num_rows
    if n == 0:
        return [], [], []
    by_pos: dict[int, tuple[np.ndarray, list[str]]] = {}
    for p in wanted:
        column = table.column(f"c{p}").unify_dictionaries()
        chunks = [c for c in column.chunks if len(c)]
        texts = chunks[0].dictionary.to_pylist() if chunks else []
        codes = np.concatenate([c.indices.to_numpy(zero_copy_only=False) for c in chunks]).astype(np.int64)
        by_pos[p] = _by_first_appearance(codes, texts)
    if id_pos is not None:
        raw = table.column(f"c{id_pos}").to_pylist()
        ids = [x.strip() or str(i + 1) for i, x in enumerate(raw)]
    else:
        ids = [str(i + 1) for i in range(n)]
    return ids, [by_pos[p][0] for p in columns], [by_pos[p][1] for p in columns]


def _by_first_appearance(codes: np.ndarray, texts: list[str]) -> tuple[np.ndarray, list[str]]:
    """Renumber a column's codes so that texts are numbered in order of first appearance."""
    rows = np.arange(len(codes), dtype=np.int64)
    first = np.full(len(texts), len(codes), dtype=np.int64)
    first[codes[::-1]] = rows[::-1]  # the last write wins: each text's first row
    order = np.argsort(first, kind="stable")
    remap = np.empty(len(texts), dtype=np.int64)
    remap[order] = np.arange(len(texts))
    return remap[codes].astype(np.int32), [texts[i] for i in order]


def _read_cells_duckdb(path: Path, sep: str, width: int, columns: list[int], id_pos: int | None
                       ) -> tuple[list[str], list[np.ndarray], list[list[str]]]:
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
                return [], [], []
            # pass 2: each cell as its number among them (ENUM codes), in file order
            for k, texts in enumerate(distinct):
                con.execute(f"CREATE TYPE e{k} AS ENUM ({', '.join(_sql_text(t) for t in texts)})")
            select = [f"enum_code(CAST(coalesce(c{p}, '') AS e{k})) AS v{k}" for k, p in enumerate(wanted)]
            if id_pos is not None:
                select.append(f"trim(coalesce(c{id_pos}, '')) AS id")
            got = con.execute(f"SELECT {', '.join(select) or '0 AS none'} FROM {rel}").fetchnumpy()
        except duckdb.Error as exc:
            raise _csv_error(name, str(exc), width, sep) from None
    finally:
        con.close()
    by_pos = {p: _by_first_appearance(np.asarray(got[f"v{k}"]).astype(np.int64), texts)
              for k, (p, texts) in enumerate(zip(wanted, distinct))}
    if id_pos is not None:
        ids = [x if x else str(i + 1) for i, x in enumerate(np.asarray(got["id"]).tolist())]
    else:
        ids = [str(i + 1) for i in range(n)]
    return ids, [by_pos[p][0] for p in columns], [by_pos[p][1] for p in columns]


def _sql_text(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _column(values: np.ndarray, mask: np.ndarray | None = None) -> Any:
    """Hundredths → a categorical of '88.45' / '12' / '9.5' (machine-readable, as the JSON numbers),
    each distinct value formatted once; rows outside ``mask`` are empty."""
    import pandas as pd

    codes, uniques = pd.factorize(values)
    texts = [format(from_hundredths(int(v)), "f") for v in uniques]
    if mask is not None:
        codes = np.where(mask, codes, -1)
    return pd.Categorical.from_codes(codes, categories=texts) if texts else pd.Categorical([None] * len(codes))
