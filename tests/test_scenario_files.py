"""Scenario files in and out (scoring.analysis.scenario_files): the vectorised paths agree with their
references — the pyarrow reader with the DuckDB reader, the id clean-up with ``str.strip``, the
Arrow CSV writer with DuckDB's CSV writer (which wrote the results before) byte for byte."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from scoring.analysis.scenario_files import (
    OutColumn,
    _clean_ids,
    _read_cells_duckdb,
    arrow_strings,
    csv_text,
    factorize_bounded,
    number_column,
    read_cells,
    write_csv,
)
from scoring.core.errors import InputError
from scoring.core.vector import from_hundredths

CELLS = ["", " ", "60%", " 60 % ", "0,6", "3/5", "na", "không phát sinh", "có", 'a "b"', "x\ny", "#1", "1e-1",
         "\u00a0na\u00a0", "\t7\t"]
IDS = st.text(st.characters(codec="utf-8", exclude_characters="\x00"), max_size=6)
SLOW = settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


def _write(path: Path, header: list[str], rows: list[list[str]], sep: str = ",") -> None:
    with path.open("w", encoding="utf-8", newline="") as handle:
        csv.writer(handle, delimiter=sep, lineterminator="\n").writerows([header, *rows])


@SLOW
@given(rows=st.lists(st.tuples(IDS.map(lambda s: s.replace("\r", "")), st.sampled_from(CELLS), st.sampled_from(CELLS)), min_size=1, max_size=40),
       sep=st.sampled_from([",", ";"]))
def test_pyarrow_reader_equals_the_duckdb_reader(tmp_path_factory: pytest.TempPathFactory,
                                                 rows: list[tuple[str, str, str]], sep: str) -> None:
    """A bare carriage return (unquoted: the csv module quotes only '\\n') ends a row for pyarrow, not
    for DuckDB: such ids are left out."""
    path = tmp_path_factory.mktemp("s") / "s.csv"
    _write(path, ["id", "a", "b"], [list(r) for r in rows], sep)
    try:
        fast = read_cells(path, sep, 3, [1, 2], 0)
    except InputError as exc:  # pyarrow could not read it, nor DuckDB after it: the same error
        with pytest.raises(InputError) as ref_exc:
            _read_cells_duckdb(path, sep, 3, [1, 2], 0)
        assert str(ref_exc.value) == str(exc)
        return
    try:
        ref = _read_cells_duckdb(path, sep, 3, [1, 2], 0)
    except InputError:  # DuckDB refuses a few files pyarrow reads (a line break in a quoted last cell)
        return
    assert list(fast.ids) == list(ref.ids)
    assert fast.labels == ref.labels
    for a, b, fa, fb in zip(fast.codes, ref.codes, fast.firsts, ref.firsts):
        assert np.array_equal(a, b) and np.array_equal(fa, fb)
    # the labels are in order of first appearance, and each first row holds its label
    for codes, labels, first in zip(fast.codes, fast.labels, fast.firsts):
        assert list(np.unique(codes, return_index=True)[1]) == list(first)
        assert [int(codes[f]) for f in first] == list(range(len(labels)))


def test_a_text_no_row_uses_is_dropped_and_order_is_by_first_row() -> None:
    from scoring.analysis.scenario_files import _by_first_appearance

    codes = np.array([2, 2, 0, 2, 0] + [3] * 10000, dtype=np.int32)
    got, labels, first = _by_first_appearance(codes, ["a", "unused", "c", "d"])
    assert labels == ["c", "a", "d"] and list(first) == [0, 2, 5]
    assert list(got[:6]) == [0, 0, 1, 0, 1, 2]


@given(st.lists(IDS, min_size=1, max_size=60))
def test_ids_are_cleaned_as_str_strip(ids: list[str]) -> None:
    assert _clean_ids(arrow_strings(ids)).to_pylist() == [x.strip() or str(i + 1) for i, x in enumerate(ids)]


@given(st.lists(st.integers(-10**6, 10**6), min_size=1, max_size=200) | st.lists(st.integers(-2**40, 2**40),
                                                                               min_size=1, max_size=50))
def test_factorize_bounded_is_np_unique(values: list[int]) -> None:
    codes, uniques = factorize_bounded(np.array(values, dtype=np.int64))
    ref_uniques, ref_codes = np.unique(np.array(values, dtype=np.int64), return_inverse=True)
    assert np.array_equal(uniques, ref_uniques) and np.array_equal(codes, ref_codes)


def _copy(con: object, table: object) -> bytes:
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "out.csv"
        con.register("results", table)  # type: ignore[attr-defined]
        con.execute(f"COPY (SELECT * FROM results) TO '{out}' (HEADER, DELIMITER ',')")  # type: ignore[attr-defined]
        return b"\xef\xbb\xbf" + out.read_bytes()


@SLOW
@given(ids=st.lists(IDS.filter(lambda s: s != ""), min_size=1, max_size=30), data=st.data())
def test_the_writer_is_duckdbs_byte_for_byte(ids: list[str], data: st.DataObject) -> None:
    n = len(ids)
    points = data.draw(st.lists(st.integers(-500, 10000), min_size=n, max_size=n))
    has = data.draw(st.lists(st.booleans(), min_size=n, max_size=n))
    ranks = data.draw(st.lists(st.sampled_from([None, "1/15", "15/15"]), min_size=n, max_size=n))
    texts = lambda vs, mask=None: [format(from_hundredths(v), "f") if mask is None or m else None  # noqa: E731
                                   for v, m in zip(vs, mask or [True] * len(vs))]
    rank_texts = ["1/15", "15/15"]
    rank_codes = np.array([-1 if r is None else rank_texts.index(r) for r in ranks], dtype=np.int32)
    for last_rank in (False, True):
        cols = [OutColumn("scenario", strings=arrow_strings(ids)), number_column("points", np.array(points)),
                number_column("percent", np.array(points), np.array(has))]
        ref: dict[str, list[str | None]] = {"scenario": list(ids), "points": texts(points), "percent": texts(points, has)}
        if last_rank:
            cols.append(OutColumn("rank", rank_codes, rank_texts))
            ref["rank"] = list(ranks)
        assert write_csv(cols, n, block=7) == _copy_table(ref)


def _copy_table(columns: dict[str, list[str | None]]) -> bytes:
    import duckdb
    import pyarrow as pa

    con = duckdb.connect(":memory:")
    try:
        return _copy(con, pa.table({k: pa.array(v, pa.string()) for k, v in columns.items()}))
    finally:
        con.close()


def test_the_last_column_may_be_text() -> None:
    out = write_csv([number_column("p", np.array([1, 250])), OutColumn("id", strings=arrow_strings(["a,b", "c"]))], 2)
    assert out == b'\xef\xbb\xbfp,id\n0.01,"a,b"\n2.5,c\n'


@given(st.text(max_size=8))
def test_csv_text_round_trips_through_the_csv_module(text: str) -> None:
    if "\r" in text or "\x00" in text:
        return
    row = next(csv.reader(io.StringIO(csv_text(text) + ",x\n")))
    assert row == [text, "x"]
