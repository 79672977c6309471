"""The one-pass read of a clean dossier export (stream.py) against the full path (compute.read_dossiers).

Every case runs both ways and compares the whole JSON of ``parindex indicators``; the cases that
one pass cannot settle (a bad row, a duplicate, a CSV error, a year it guessed wrong) must fall back
to the full path and give exactly its result or its error.
"""

from __future__ import annotations

import importlib
from pathlib import Path

import pytest

from conftest import ROOT
from scoring.core.errors import InputError
from scoring.inputs import dossiers as d
from scoring.inputs.dossiers.render import result_json

stream = importlib.import_module("scoring.inputs.dossiers.stream")

HEADER = ("dossier_id,procedure_code,unit,received_at,due_at,finished_at,channel,full_online,supplement_requests,"
          "paused_days,withdrawn,digitised,result_digitised,reused_data,fee_required,paid_online,apology_sent")
SAMPLE = ROOT / "sample_evidence" / "dossiers" / "ho-so-mot-cua-2025.csv"
MAPPING = ROOT / "sample_evidence" / "dossiers" / "mapping-lang-son.yaml"


def row(i: int, year: int = 2025, **change: str) -> str:
    """A varied clean row: late, unfinished, paid, withdrawn and apology cases all occur."""
    month, day = 1 + i % 12, 1 + i % 27
    values = {"dossier_id": f"H{i:06d}", "procedure_code": f"P{i % 7}", "unit": f"Phòng {'ABC'[i % 3]}",
              "received_at": f"{year}-{month:02d}-{day:02d} 08:{i % 60:02d}:00",
              "due_at": f"{year}-{month:02d}-{min(28, day + 1 + i % 4):02d}",
              "finished_at": "" if i % 11 == 0 else f"{year}-{month:02d}-{min(28, day + i % 6):02d}",
              "channel": ("online", "direct", "postal")[i % 3], "full_online": "true" if i % 2 else "false",
              "supplement_requests": str(i % 3), "paused_days": str(i % 2), "withdrawn": "true" if i % 37 == 0 else "false",
              "digitised": "true" if i % 5 else "false", "result_digitised": "true" if i % 4 else "false",
              "reused_data": "true" if i % 3 else "false", "fee_required": "true" if i % 2 else "false",
              "paid_online": "true" if i % 4 == 1 else "false", "apology_sent": "true" if i % 2 else "false"}
    values.update(change)
    return ",".join(values.values())


def write(path: Path, rows: list[str], header: str = HEADER, before: str = "") -> Path:
    path.write_text(before + header + "\n" + "\n".join(rows) + "\n", encoding="utf-8")
    return path


def both(path: Path, **inputs: object) -> tuple[dict, dict, d.Result]:
    """(JSON by one pass, JSON by the full path, the one-pass result)."""
    args = d.DossierInputs(dossiers=path, **inputs)  # type: ignore[arg-type]
    fast = d.load_indicators(args)
    full = d.load_indicators(args, one_pass=False)
    try:
        return result_json(fast), result_json(full), fast
    finally:
        full.table.close()


def one_pass(result: d.Result) -> bool:
    return getattr(result.table, "one_pass", False)


@pytest.mark.parametrize("case", ["explicit period", "default period", "title rows and BOM", "semicolons and CRLF",
                                  "empty lines", "bundled sample", "parquet"])
def test_a_clean_file_is_read_in_one_pass_with_the_same_result(tmp_path: Path, case: str) -> None:
    rows = [row(i) for i in range(3000)]
    inputs: dict[str, object] = {}
    if case == "explicit period":
        path = write(tmp_path / "a.csv", rows)
        inputs["period"] = "2025-02-01..2025-10-31"
    elif case == "default period":
        path = write(tmp_path / "a.csv", [row(i, 2024, dossier_id=f"K{i}") for i in range(500)] + rows)
    elif case == "title rows and BOM":
        path = write(tmp_path / "a.csv", rows, before="\ufeffSỞ TƯ PHÁP\nDanh sách hồ sơ,,\n")
    elif case == "semicolons and CRLF":
        path = tmp_path / "a.csv"
        path.write_bytes(("\r\n".join([HEADER.replace(",", ";")] + [r.replace(",", ";") for r in rows]) + "\r\n")
                         .encode("utf-8"))
    elif case == "empty lines":
        path = write(tmp_path / "a.csv", rows[:10] + ["", ""] + rows[10:] + [""])
    elif case == "bundled sample":  # a title row, Vietnamese headers, dd/mm/yyyy HH:MM, có/không, x
        path = SAMPLE
        inputs["mapping"] = MAPPING
    else:
        import duckdb

        src = write(tmp_path / "a.csv", rows)
        path = tmp_path / "a.parquet"
        duckdb.connect().execute(f"COPY (SELECT * FROM read_csv('{src}', all_varchar = true)) TO '{path}' (FORMAT parquet)")
    fast, full, result = both(path, **inputs)
    assert one_pass(result), case
    assert fast == full
    assert fast["rows"]["counted"] > 0 and fast["indicators"]["on_time"]["denominator"] > 0


def test_vietnamese_headers_and_spellings(tmp_path: Path) -> None:
    """The bench's Vietnamese export: title row, Vietnamese headers, dd/mm/yyyy HH:MM, có/không."""
    import sys

    sys.path.insert(0, str(ROOT / "benchmarks"))
    import gen_dossiers

    path = tmp_path / "vi.csv"
    gen_dossiers.main(["--rows", "4000", "--seed", "7", "--headers", "vi", "-o", str(path), "--title", "VÍ DỤ"])
    fast, full, result = both(path, mapping=MAPPING)
    assert one_pass(result) and fast == full and fast["rows"]["read"] == 4000


@pytest.mark.parametrize("change, code", [
    ({"due_at": "2025-02-30"}, "impossible_date"), ({"dossier_id": "H000007"}, "duplicate_id"),
    ({"dossier_id": ""}, "missing_value"), ({"channel": "fax"}, "unknown_channel"),
    ({"supplement_requests": "-1"}, "negative_count"), ({"due_at": "2024-01-01"}, "due_before_received"),
])
def test_a_bad_row_falls_back_to_the_full_path_and_its_error(tmp_path: Path, change: dict[str, str], code: str) -> None:
    rows = [row(i) for i in range(2000)]
    rows[1900] = row(1900, **change)
    path = write(tmp_path / "a.csv", rows)
    with pytest.raises(d.BadRowsError) as fast:
        d.load_indicators(d.DossierInputs(dossiers=path))
    with pytest.raises(d.BadRowsError) as full:
        d.load_indicators(d.DossierInputs(dossiers=path), one_pass=False)
    assert [p.to_dict() for p in fast.value.problems] == [p.to_dict() for p in full.value.problems]
    assert fast.value.problems[0].code == code and fast.value.problems[0].line == 1902
    fast_json, full_json, result = both(path, skip_bad_rows=True)
    assert not one_pass(result) and fast_json == full_json and fast_json["skipped_rows"] == [1902]


def test_a_spelling_only_the_reference_parser_reads_falls_back(tmp_path: Path) -> None:
    """A cell the SQL tiers leave to mapping.py (decomposed Unicode, as some Windows tools write it)."""
    import unicodedata

    rows = [row(i) for i in range(3000)] + [row(3000, channel=unicodedata.normalize("NFD", "Trực tuyến"))]
    path = write(tmp_path / "a.csv", rows)  # after the sample of 2 000 rows whose spellings convert in SQL
    fast, full, result = both(path)
    assert not one_pass(result) and fast == full and fast["rows"]["used"] == 3001


@pytest.mark.parametrize("kind", ["too many cells", "not UTF-8 near the end", "unclosed quote at the end"])
def test_a_csv_error_falls_back_and_names_the_line(tmp_path: Path, kind: str) -> None:
    rows = [row(i) for i in range(3000)]
    path = write(tmp_path / "a.csv", rows)
    data = path.read_bytes()
    if kind == "too many cells":
        data = data.replace(row(2990).encode(), (row(2990) + ",x,y").encode())
    elif kind == "not UTF-8 near the end":
        data = data.replace(b"H002990,P1,Ph\xc3\xb2ng", b"H002990,P1,Ph\xf2ng")
    else:
        data = data + b'H9,"P1,Ph\n'
    path.write_bytes(data)
    errors = []
    for flag in (True, False):
        with pytest.raises(InputError) as info:
            d.load_indicators(d.DossierInputs(dossiers=path), one_pass=flag)
        errors.append([p.to_dict() for p in info.value.problems])
    assert errors[0] == errors[1] and str(path) in errors[0][0]["file"]


def test_the_default_year_is_checked_not_guessed(tmp_path: Path) -> None:
    """The latest year only in the middle of the file (not in the first or last rows one pass
    guesses from): one pass gives up, and the full path's default period is the answer."""
    rows = [row(i, 2024) for i in range(3000)] + [row(3000 + i, 2026) for i in range(5)] + \
           [row(4000 + i, 2024) for i in range(3000)]
    path = write(tmp_path / "a.csv", rows)
    fast, full, result = both(path)
    assert not one_pass(result) and fast == full and fast["period"]["from"] == "2026-01-01"
    rows = [row(i, 2024) for i in range(3000)] + [row(4000 + i, 2025) for i in range(3000)]  # sorted by date
    fast, full, result = both(write(tmp_path / "b.csv", rows))
    assert one_pass(result) and fast == full and fast["period"] == {"from": "2025-01-01", "to": "2025-12-31",
                                                                     "default": True}


def test_the_dossiers_behind_a_loss_are_read_when_asked_for(tmp_path: Path) -> None:
    path = write(tmp_path / "a.csv", [row(i) for i in range(800)])
    fast = d.load_indicators(d.DossierInputs(dossiers=path))
    full = d.load_indicators(d.DossierInputs(dossiers=path), one_pass=False)
    try:
        assert one_pass(fast)
        assert fast.loss_rows("on_time") == full.loss_rows("on_time") != []
        assert fast.loss_ids("digitisation") == full.loss_ids("digitisation")
        assert len(fast.table) == len(full.table) == 800
        assert fast.table.frame.equals(full.table.frame)
    finally:
        fast.table.close()
        full.table.close()


def test_options_that_need_the_rows_take_the_full_path(tmp_path: Path) -> None:
    path = write(tmp_path / "a.csv", [row(i) for i in range(300)])
    catalogue = tmp_path / "tthc.csv"
    catalogue.write_text("procedure_code,name,full_online_eligible,full_online_offered\nP1,Cấp phép,có,có\n",
                         encoding="utf-8")
    for inputs in ({"by": "unit"}, {"procedures": catalogue}):
        fast, full, result = both(path, **inputs)
        assert not one_pass(result) and fast == full


def test_too_little_memory_for_the_pass_falls_back(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(stream, "ONE_PASS_MEMORY", "2MB")
    path = write(tmp_path / "a.csv", [row(i) for i in range(20000)])
    fast, full, result = both(path)
    assert fast == full


def test_a_hash_collision_is_checked_by_the_full_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Two ids with the same 64-bit hash are not a duplicate: one pass cannot tell, so it gives up."""
    real = stream._scan

    def colliding(engine, query, *args):  # type: ignore[no-untyped-def]
        return real(engine, query.replace('hash("dossier_id")', "CAST(42 AS UBIGINT)"), *args)

    monkeypatch.setattr(stream, "_scan", colliding)
    path = write(tmp_path / "a.csv", [row(i) for i in range(50)])
    fast, full, result = both(path)
    assert not one_pass(result) and fast == full and fast["rows"]["read"] == 50
