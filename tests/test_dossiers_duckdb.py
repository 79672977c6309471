"""Dossier indicators on DuckDB (issue 10): definitions as data, deadlines, each bad-row check, bad files.

The semantics tests of issue 4 stay in tests/test_dossiers.py; these cover what issue 10 added.
"""

from __future__ import annotations

import datetime as dt
import importlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from conftest import ROOT
from scoring.core.errors import DefinitionError, InputError
from scoring.inputs import dossiers as d

from scoring.inputs.dossiers.workdays import add_working_days, working_days

defs_mod = importlib.import_module("scoring.inputs.dossiers.definitions")  # the package exports a function of that name

HEADER = ("dossier_id,procedure_code,unit,received_at,due_at,finished_at,channel,full_online,supplement_requests,"
          "paused_days,withdrawn,digitised,result_digitised,reused_data,fee_required,paid_online,apology_sent")
GOOD = "A1,P1,Phòng A,2025-03-03,2025-03-07,2025-03-05,online,true,0,0,false,true,true,true,false,false,false"
YEAR = d.Period.year(2025)


def write(path: Path, *rows: str, header: str = HEADER) -> Path:
    path.write_text(header + "\n" + "\n".join(rows) + "\n", encoding="utf-8")
    return path


def cells(**change: str) -> str:
    values = dict(zip(HEADER.split(","), GOOD.split(",")))
    values.update(change)
    return ",".join(values.values())


# ------------------------------------------------------------------ definitions


def test_every_definition_compiles_and_names_its_columns() -> None:
    defs = defs_mod.definitions()
    assert list(defs.indicators) == list(d.INDICATORS) == ["on_time", "apology", "digitisation", "reuse", "full_online",
                                                           "online_payment", "full_online_services"]
    assert d.INDICATORS["digitisation"].needs == ("digitised", "result_digitised")
    assert d.INDICATORS["online_payment"].needs == ("fee_required", "paid_online")
    sql = defs_mod.predicate_sql(defs, d.INDICATORS["apology"].numerator, YEAR.start, YEAR.end)
    assert sql == '("late" AND "apology_sent")'
    nested = defs_mod.flags_sql(defs, YEAR.start, YEAR.end, "x")
    assert "DATE '2025-12-31'" in nested and nested.count("SELECT") == len(defs.flags)


@pytest.mark.parametrize("pred, message", [
    ("counted and lat", "unknown name 'lat'"),
    ("counted and (late", "expected ')'"),
    ("received_at >= :begin", "unknown parameter ':begin'"),
    ("counted late", "unexpected 'late'"),
])
def test_a_bad_predicate_is_a_definition_error(pred: str, message: str) -> None:
    with pytest.raises(DefinitionError) as info:
        defs_mod.compile_predicate(pred, defs_mod.definitions(), "2025-01-01", "2025-12-31", where="test")
    assert message in info.value.problems[0].message


def test_a_flag_cannot_use_a_flag_below_it() -> None:
    data = {"flags": {"a": "b", "b": "withdrawn"}, "indicators": {}}
    with pytest.raises(DefinitionError):
        defs_mod.parse_definitions(data)


def test_the_same_predicates_give_spark_sql() -> None:
    defs = defs_mod.definitions()
    sql = defs_mod.predicate_sql(defs, "counted and supplement_requests > 1", YEAR.start, YEAR.end,
                                 column=lambda c: f"`{c}`")
    assert sql == "(`counted` AND (`supplement_requests` > 1))"
    # backticks: "due_at" would be a string literal in Spark SQL; date_add takes an INT count
    assert defs_mod.deadline_sql("spark", "calendar", False) == "date_add(`due_at`, CAST(`paused_days` AS INT))"


# ------------------------------------------------------------------ deadlines and working days


@pytest.mark.parametrize("day, n, expected, why", [
    (dt.date(2025, 3, 7), 1, dt.date(2025, 3, 10), "Friday + 1 working day = Monday"),
    (dt.date(2025, 3, 8), 1, dt.date(2025, 3, 10), "from a Saturday, the next working day"),
    (dt.date(2025, 1, 24), 2, dt.date(2025, 2, 4), "Tết 2025 (27/1–2/2 off): Friday 24/1 + 2 = Tuesday 4/2"),
    (dt.date(2025, 4, 29), 1, dt.date(2025, 5, 5), "30/4 and 1/5 (and 2/5 moved) are holidays"),
    (dt.date(2025, 3, 7), 0, dt.date(2025, 3, 7), "no pause, no change"),
])
def test_add_working_days(day: dt.date, n: int, expected: dt.date, why: str) -> None:
    assert add_working_days(day, n) == expected, why


def test_a_province_day_off_is_skipped_too() -> None:
    assert add_working_days(dt.date(2025, 3, 7), 1, [dt.date(2025, 3, 10)]) == dt.date(2025, 3, 11)
    assert dt.date(2025, 9, 2) not in working_days(dt.date(2025, 9, 1), dt.date(2025, 9, 5))


def mapping_with(tmp_path: Path, deadlines: str) -> d.Mapping:
    path = tmp_path / "m.yaml"
    path.write_text("dossiers:\n  columns: {}\ndeadlines:\n" + deadlines, encoding="utf-8")
    return d.load_mapping(path)


@pytest.mark.parametrize("deadlines, on_time", [
    ("", (1, 2)),  # calendar: due Fri 07/03 + 3 days = Mon 10/03: B (finished 11/03) late, A (10/03) on time
    ("  paused_days: working\n", (2, 2)),  # working: Fri + 3 working days = Wed 12/03: both on time
    ("  paused_days: working\n  days_off: [2025-03-11, 12/03/2025]\n", (2, 2)),  # deadline moves to Fri 14/03
    ("  due_includes_pauses: true\n", (0, 2)),  # due 07/03 already includes the pause: both late
])
def test_deadline_modes(tmp_path: Path, deadlines: str, on_time: tuple[int, int]) -> None:
    path = write(tmp_path / "p.csv", cells(dossier_id="A", finished_at="2025-03-10", paused_days="3"),
                 cells(dossier_id="B", finished_at="2025-03-11", paused_days="3"))
    table = d.read_dossiers(path, mapping_with(tmp_path, deadlines))
    res = d.compute(table, YEAR)
    assert (res.indicators["on_time"].numerator, res.indicators["on_time"].denominator) == on_time


def test_working_day_deadline_is_listed(tmp_path: Path) -> None:
    path = write(tmp_path / "p.csv", cells(dossier_id="A", finished_at="2025-03-20", paused_days="3"))
    res = d.compute(d.read_dossiers(path, mapping_with(tmp_path, "  paused_days: working\n")), YEAR)
    assert [(r["dossier_id"], r["deadline"]) for r in res.loss_rows("on_time")] == [("A", "12/03/2025")]


@pytest.mark.parametrize("text, code", [
    ("deadlines:\n  paused_days: weekly\n", "bad_value"),
    ("deadlines:\n  paused: working\n", "unknown_key"),
    ("deadlines:\n  days_off: [30/02/2025]\n", "bad_value"),
    ("deadline:\n  paused_days: working\n", "unknown_key"),
])
def test_bad_deadline_settings(tmp_path: Path, text: str, code: str) -> None:
    path = tmp_path / "m.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(InputError) as info:
        d.load_mapping(path)
    assert info.value.problems[0].code == code and info.value.problems[0].line


# ------------------------------------------------------------------ each bad-row check


@pytest.mark.parametrize("change, code, column, shown", [
    ({"dossier_id": ""}, "missing_value", "dossier_id", "để trống"),
    ({"received_at": ""}, "missing_value", "received_at", "để trống"),
    ({"due_at": "hôm qua"}, "bad_date", "due_at", "'hôm qua'"),
    ({"finished_at": "30/02/2025"}, "impossible_date", "finished_at", "'30/02/2025'"),
    ({"received_at": "2025-03-03 25:10"}, "impossible_date", "received_at", "25:10"),
    ({"due_at": "2025-03-01"}, "due_before_received", "due_at", "01/03/2025"),
    ({"finished_at": "2025-03-01"}, "finished_before_received", "finished_at", "01/03/2025"),
    ({"supplement_requests": "-2"}, "negative_count", "supplement_requests", "'-2'"),
    ({"paused_days": "1.5"}, "bad_count", "paused_days", "'1.5'"),
    ({"withdrawn": "có lẽ"}, "bad_boolean", "withdrawn", "'có lẽ'"),
    ({"channel": "trực tuyn"}, "unknown_channel", "channel", "trực tuyn"),
    ({"unit": ""}, "missing_value", "unit", "để trống"),
    ({"procedure_code": " "}, "missing_value", "procedure_code", "để trống"),
])
def test_each_check_names_row_column_value_and_fix(tmp_path: Path, change: dict[str, str], code: str, column: str,
                                                   shown: str) -> None:
    path = write(tmp_path / "x.csv", GOOD, cells(dossier_id="A2"), cells(**{"dossier_id": "A3", **change}))
    with pytest.raises(d.BadRowsError) as info:
        d.read_dossiers(path)
    p = info.value.problems[0]
    assert (p.line, p.code, p.subject, p.file) == (4, code, column, str(path))
    assert shown in p.message and p.hint
    table = d.read_dossiers(path, skip_bad_rows=True)
    assert table.skipped_rows == [4] and table.id_list() == ["A1", "A2"]


def test_duplicate_and_the_did_you_mean_of_a_channel(tmp_path: Path) -> None:
    path = write(tmp_path / "x.csv", GOOD, cells(channel="trực tuyn"), cells(dossier_id="A1 "))
    with pytest.raises(d.BadRowsError) as info:
        d.read_dossiers(path)
    problems = info.value.problems
    assert [(p.line, p.code) for p in problems[:-1]] == [(3, "duplicate_id"), (3, "unknown_channel")]
    assert "trùng với dòng 2" in problems[0].message and "trực tuyến" in (problems[1].hint or "")
    assert info.value.total == 2  # "A1 " (with a space) is another id: ids are compared exactly as written


def test_a_mapped_spelling_is_not_a_bad_row(tmp_path: Path) -> None:
    path = write(tmp_path / "x.csv", cells(withdrawn="Đã rút"), cells(dossier_id="A2", channel="Cổng DVC"))
    mapping = tmp_path / "m.yaml"
    mapping.write_text("dossiers:\n  values:\n    withdrawn: {Đã rút: có}\n    channel: {Cổng DVC: online}\n",
                       encoding="utf-8")
    table = d.read_dossiers(path, d.load_mapping(mapping))
    assert list(table.frame["withdrawn"]) == [True, False] and list(table.frame["channel"]) == ["online", "online"]


def test_decomposed_vietnamese_spellings_read_as_composed(tmp_path: Path) -> None:
    import unicodedata

    path = write(tmp_path / "x.csv", cells(withdrawn=unicodedata.normalize("NFD", "Có"),
                                           unit=unicodedata.normalize("NFD", "Phòng Hành chính")))
    table = d.read_dossiers(path)
    assert list(table.frame["withdrawn"]) == [True] and list(table.frame["unit"]) == ["Phòng Hành chính"]


def test_a_unit_first_seen_after_the_sample_is_kept(tmp_path: Path) -> None:
    """Units and procedure codes are stored as ENUM codes made from the first rows; a value first
    seen later (or one that NFC changes) is kept all the same."""
    import unicodedata

    rows = [cells(dossier_id=f"A{i}") for i in range(2100)]
    rows += [cells(dossier_id="B1", unit="Phòng B", procedure_code="P9"),
             cells(dossier_id="B2", unit=unicodedata.normalize("NFD", "Phòng Hành chính"))]
    table = d.read_dossiers(write(tmp_path / "x.csv", *rows))
    result = d.compute(table, YEAR, by="unit")
    assert {u: g["on_time"].denominator for u, g in result.groups.items()} == {
        "Phòng A": 2100, "Phòng B": 1, "Phòng Hành chính": 1}
    assert list(table.frame["procedure_code"])[-2:] == ["P9", "P1"]


# ------------------------------------------------------------------ bad files


def test_empty_file(tmp_path: Path) -> None:
    path = tmp_path / "empty.csv"
    path.write_bytes(b"")
    with pytest.raises(InputError) as info:
        d.read_dossiers(path)
    assert info.value.problems[0].code == "empty_file"


def test_renamed_files(tmp_path: Path) -> None:
    import openpyxl

    book = openpyxl.Workbook()
    book.active.append(HEADER.split(","))
    xlsx_as_csv = tmp_path / "ho-so.csv"
    book.save(xlsx_as_csv)
    with pytest.raises(InputError) as info:
        d.read_dossiers(xlsx_as_csv)
    assert info.value.problems[0].code == "wrong_format" and ".xlsx" in (info.value.problems[0].hint or "")
    csv_as_xlsx = write(tmp_path / "ho-so.xlsx", GOOD)
    with pytest.raises(InputError) as info:
        d.read_dossiers(csv_as_xlsx)
    assert info.value.problems[0].code == "bad_xlsx" and ".csv" in (info.value.problems[0].hint or "")


def test_truncated_file_names_the_cut_row(tmp_path: Path) -> None:
    path = write(tmp_path / "cut.csv", GOOD, cells(dossier_id="A2"))
    data = path.read_bytes()
    path.write_bytes(data[: len(data) - 30])  # the download stopped in the middle of the last row
    with pytest.raises(d.BadRowsError) as info:
        d.read_dossiers(path)
    p = info.value.problems[0]
    assert p.code == "bad_csv" and p.line == 3 and "ít ô hơn" in p.message


def test_truncated_inside_quotes(tmp_path: Path) -> None:
    path = write(tmp_path / "cut.csv", GOOD, cells(dossier_id="A2", unit='"Phòng A'))
    with pytest.raises(InputError) as info:
        d.read_dossiers(path)
    assert info.value.problems[0].code == "bad_csv" and info.value.problems[0].file == str(path)


def test_one_bad_row_near_the_end_of_a_large_file(tmp_path: Path) -> None:
    n = 200_000
    rows = [f"R{i:06d},P1,Phòng A,2025-03-03,2025-03-07,2025-03-05,online,true,0,0,false,true,true,true,false,false,false"
            for i in range(n)]
    rows[n - 3] = rows[n - 3].replace("2025-03-07", "2025-02-30")
    path = write(tmp_path / "big.csv", *rows)
    with pytest.raises(d.BadRowsError) as info:
        d.read_dossiers(path)
    assert [(p.line, p.code) for p in info.value.problems[:-1]] == [(n - 1, "impossible_date")]
    table = d.read_dossiers(path, skip_bad_rows=True)
    assert table.skipped_rows == [n - 1] and len(table) == n - 1


def _bad_file(kind: str, tmp_path: Path) -> Path:
    if kind == "empty":
        path = tmp_path / "empty.csv"
        path.write_bytes(b"")
    elif kind == "xlsx called csv":
        import openpyxl

        book = openpyxl.Workbook()
        book.active.append(HEADER.split(","))
        path = tmp_path / "ho-so.csv"
        book.save(path)
    elif kind == "csv called xlsx":
        path = write(tmp_path / "ho-so.xlsx", GOOD)
    elif kind == "truncated":
        path = write(tmp_path / "cut.csv", GOOD, cells(dossier_id="A2"))
        path.write_bytes(path.read_bytes()[:-30])
    elif kind == "windows-1258":
        path = tmp_path / "cp1258.csv"
        path.write_bytes((HEADER + "\n" + GOOD + "\n" + cells(dossier_id="A2", unit="Phòng Hành chính") + "\n")
                         .encode("utf-8").replace("Phòng Hành chính".encode("utf-8"),
                                                  "Pho\u0300ng Ha\u0300nh chi\u0301nh".encode("cp1258")))
    else:  # a bad row at the very end
        path = write(tmp_path / "end.csv", *(cells(dossier_id=f"A{i}") for i in range(50)), cells(dossier_id="A50", due_at="x"))
    return path


@pytest.mark.parametrize("kind, code", [("empty", "empty_file"), ("xlsx called csv", "wrong_format"),
                                        ("csv called xlsx", "bad_xlsx"), ("truncated", "bad_csv"),
                                        ("windows-1258", "bad_encoding"), ("bad last row", "bad_date")])
def test_a_bad_file_exits_2_naming_it_and_leaves_nothing(tmp_path: Path, kind: str, code: str,
                                                         monkeypatch: pytest.MonkeyPatch,
                                                         capsys: pytest.CaptureFixture[str]) -> None:
    import tempfile

    from scoring.cli import main

    path = _bad_file(kind, tmp_path)
    tmp = tmp_path / "tmp"
    tmp.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(tmp))
    out = tmp_path / "out.json"
    assert main(["indicators", str(path), "--format", "json", "-o", str(out)]) == 2
    err = capsys.readouterr().err
    assert f"{path}" in err and f"{code}:" in err and "Traceback" not in err, err
    assert not out.exists() and not list(tmp.iterdir())


def test_the_rows_marked_suspect_cover_every_check(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The conversion's _suspect column lets a clean file skip the checks: with every row marked
    suspect, the same problems come out for a file holding one bad row of each kind (and clean
    rows starting with a space, which are marked but not bad)."""
    changes = [{"dossier_id": ""}, {"dossier_id": " "}, {"received_at": ""}, {"due_at": "hôm qua"},
               {"finished_at": "30/02/2025"}, {"due_at": "2025-03-01"}, {"finished_at": "2025-03-01"},
               {"supplement_requests": "-2"}, {"paused_days": "1.5"}, {"withdrawn": "có lẽ"},
               {"channel": "trực tuyn"}, {"unit": "\u00a0"}, {"procedure_code": " "}, {"dossier_id": "A1"},
               {"unit": " Phòng A"}, {"dossier_id": " A9"}]
    rows = [GOOD] + [cells(**{"dossier_id": f"B{i}", **c}) for i, c in enumerate(changes)] + [cells(dossier_id="C1")]
    path = write(tmp_path / "x.csv", *rows)

    def found() -> list[tuple[int | None, str, str | None]]:
        with pytest.raises(d.BadRowsError) as info:
            d.read_dossiers(path)
        return [(p.line, p.code, p.subject) for p in info.value.problems]

    fast = found()
    convert_mod = importlib.import_module("scoring.inputs.dossiers.convert")
    monkeypatch.setattr(convert_mod, "suspect_sql", lambda sources, odd: "true")
    assert found() == fast
    assert len(fast) == 15 and {c for _, c, _ in fast} >= {"missing_value", "duplicate_id", "due_before_received"}
    assert d.read_dossiers(path, skip_bad_rows=True).id_list() == ["A1", "B14", " A9", "C1"]


def test_progress_is_reported_while_a_statement_runs(monkeypatch: pytest.MonkeyPatch) -> None:
    """DuckDB tracks progress only with its progress bar on (else -1): the engine turns it on, without
    DuckDB's own printing, for the statements a front-end watches, and off again."""
    reader = importlib.import_module("scoring.inputs.dossiers.reader")
    monkeypatch.setattr(reader, "PROGRESS_EVERY", 0.02)
    engine = reader.Engine()
    try:
        got: list[float] = []
        engine.execute("CREATE TEMP TABLE x AS SELECT (i * 7919) % 10000019 AS v FROM range(4000000) r(i) ORDER BY v",
                       progress=got.append)
        assert got and all(0 <= p <= 100 for p in got) and max(got) > 0
        assert engine.rows("SELECT current_setting('enable_progress_bar')") == [(False,)]
    finally:
        engine.close()


def test_xlsx_formula_without_a_cached_value_is_an_error(tmp_path: Path) -> None:
    import openpyxl

    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(HEADER.split(","))
    sheet.append(GOOD.split(","))
    second = cells(dossier_id="A2").split(",")
    second[4] = "=D3+7"  # due_at as a formula that no spreadsheet program ever computed
    sheet.append(second)
    path = tmp_path / "formula.xlsx"
    book.save(path)
    with pytest.raises(InputError) as info:
        d.read_dossiers(path)
    p = info.value.problems[0]
    assert (p.code, p.subject, p.line) == ("formula_without_value", "'Sheet'!E3", 3) and "Paste Special" in (p.hint or "")


def test_xlsx_formula_with_a_cached_value_is_read(tmp_path: Path) -> None:
    import zipfile

    import openpyxl

    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(HEADER.split(","))
    sheet.append(cells(due_at="=D2+4").split(","))
    path = tmp_path / "cached.xlsx"
    book.save(path)
    # what Excel writes after computing: the formula and its value side by side
    with zipfile.ZipFile(path) as z:
        parts = {n: z.read(n) for n in z.namelist()}
    sheet_xml = next(n for n in parts if n.startswith("xl/worksheets/sheet"))
    assert b"<f>D2+4</f><v></v>" in parts[sheet_xml]
    parts[sheet_xml] = parts[sheet_xml].replace(b"<f>D2+4</f><v></v>", b"<f>D2+4</f><v>45723</v>")  # 07/03/2025
    with zipfile.ZipFile(path, "w") as z:
        for n, data in parts.items():
            z.writestr(n, data)
    table = d.read_dossiers(path)
    assert [str(r)[:10] for r in table.frame["due_at"]] == ["2025-03-07"]


# ------------------------------------------------------------------ interrupted runs, processes


def test_no_worker_process_and_no_temporary_folder_left(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import tempfile

    tmp = tmp_path / "tmp"  # a private temporary folder: other processes' engines come and go in /tmp
    tmp.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(tmp))
    kids = set(_children())  # other tests of the session may have started some (servers, browsers)
    table = d.read_dossiers(write(tmp_path / "a.csv", GOOD))
    assert len(table) == 1 and list(tmp.glob("parindex-duckdb-*"))
    table.close()
    assert not list(tmp.iterdir())
    children = Path(f"/proc/{os.getpid()}/task")
    assert children.exists()  # DuckDB runs in this process: threads, never child processes
    assert set(_children()) <= kids


def _children() -> list[str]:
    return [p.name for p in Path("/proc").iterdir() if p.name.isdigit() and _parent(p) == os.getpid()]


def _parent(proc: Path) -> int | None:
    try:
        return int((proc / "stat").read_text().rsplit(")", 1)[1].split()[1])
    except (OSError, IndexError, ValueError):
        return None


@pytest.mark.parametrize("sig, code", [(signal.SIGTERM, 2), (signal.SIGINT, 130)])
def test_an_interrupted_run_leaves_nothing_behind(tmp_path: Path, sig: int, code: int) -> None:
    rows = [f"R{i:07d},P1,Phòng A,{3 + i % 20:02d}/03/2025 08:00,{10 + i % 15:02d}/04/2025,,trực tuyến,x,0,0,Không,1,,x,,,"
            for i in range(600_000)]
    path = write(tmp_path / "big.csv", *rows)
    tmp = tmp_path / "tmp"
    tmp.mkdir()
    env = {**os.environ, "TMPDIR": str(tmp)}
    proc = subprocess.Popen([sys.executable, "-m", "scoring.cli", "indicators", str(path), "--format", "json",
                             "-o", str(tmp_path / "out.json")], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            env=env, cwd=ROOT)
    deadline = time.time() + 30
    while time.time() < deadline and not list(tmp.glob("parindex-duckdb-*")):  # the read has started
        time.sleep(0.02)
    time.sleep(0.2)
    proc.send_signal(sig)
    out, err = proc.communicate(timeout=60)
    if proc.returncode == 0:
        pytest.skip("the run finished before the signal arrived (a fast machine)")
    assert proc.returncode == code, err.decode()
    assert str(path) in err.decode() and "Traceback" not in err.decode()
    assert not list(tmp.iterdir()) and not (tmp_path / "out.json").exists()
