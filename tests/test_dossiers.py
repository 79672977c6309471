"""Dossier indicators (issue 4): semantics, bad rows, formats, the CLI and --dossiers in score.

The fixture tests/data/dossiers/semantics.csv holds twelve dossiers, one per rule (period 2025):
D01 on time · D02 finished after its deadline · D03 finished late but within the deadline
extended by 3 paused days · D04 asked to supplement twice · D05 supplemented once, on time ·
D06 unfinished, deadline passed · D07 unfinished, deadline in 2026 · D08 withdrawn · D09 received
in 2024 · D10 finished in 2026 after a deadline in 2025 · D11 finished on its due day · D12
unfinished, due on the last day of the period. vi-export.csv is the same twelve dossiers as a
province might export them (mapping-vi.yaml).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Iterator
from decimal import Decimal
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from conftest import ROOT
from scoring.inputs.dossiers import legacy as d
from scoring.cli import main
from scoring.core.errors import InputError

DATA = ROOT / "tests" / "data" / "dossiers"
SEMANTICS = DATA / "semantics.csv"
VI = DATA / "vi-export.csv"
MAPPING = DATA / "mapping-vi.yaml"
PROCEDURES = DATA / "procedures.csv"
BAD = DATA / "bad-rows.csv"
EVIDENCE = DATA / "evidence-2025.yaml"
YEAR = d.Period.year(2025)
HEADER = ("dossier_id,procedure_code,unit,received_at,due_at,finished_at,channel,full_online,supplement_requests,"
          "paused_days,withdrawn,digitised,result_digitised,reused_data,fee_required,paid_online,apology_sent")


def result(path: Path = SEMANTICS, mapping: Path | None = None, period: d.Period = YEAR, **kw: object) -> d.Result:
    table = d.read_dossiers(path, d.load_mapping(mapping) if mapping else None, **kw)  # type: ignore[arg-type]
    catalogue = d.read_procedures(PROCEDURES) if kw.get("catalogue") else None
    return d.compute(table, period, catalogue)


def counts(res: d.Result) -> dict[str, tuple[int, int]]:
    return {name: (i.numerator, i.denominator) for name, i in res.indicators.items()}


def run(*argv: str, capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def write(path: Path, rows: list[str], header: str = HEADER) -> Path:
    path.write_text(header + "\n" + "\n".join(rows) + "\n", encoding="utf-8")
    return path


def row(i: int, received: str = "2025-03-01", due: str = "2025-03-10", finished: str = "2025-03-05", *,
        supplements: int = 0, withdrawn: bool = False, fee: bool = False, paid: bool = False,
        apology: bool = False, digitised: bool = True, reused: bool = True, full_online: bool = True) -> str:
    b = {True: "true", False: "false"}
    return (f"R{i:05d},P1,Phòng A,{received},{due},{finished},online,{b[full_online]},{supplements},0,{b[withdrawn]},"
            f"{b[digitised]},true,{b[reused]},{b[fee]},{b[paid]},{b[apology]}")


@pytest.fixture(scope="module")
def semantics() -> d.Result:
    return result()


# ------------------------------------------------------------------ semantics, one rule at a time


LATE_REASONS = {
    "D02": "trả kết quả sau ngày hẹn (đã cộng ngày tạm dừng)",
    "D04": "yêu cầu bổ sung hồ sơ quá một lần",
    "D06": "quá hạn nhưng chưa giải quyết xong",
    "D10": "quá hạn nhưng chưa giải quyết xong",
}


@pytest.mark.parametrize("dossier, why", [
    ("D01", "finished before its due day"),
    ("D03", "paused days extend the deadline: due 10/03 + 3 days, finished 12/03"),
    ("D05", "one supplement request is not late"),
    ("D07", "unfinished and still within its deadline (05/01/2026)"),
    ("D11", "finished on its due day: a deadline is met on the day"),
    ("D12", "unfinished, due on the last day of the period: not yet passed"),
])
def test_on_time(semantics: d.Result, dossier: str, why: str) -> None:
    assert dossier not in semantics.loss_ids("on_time"), why


@pytest.mark.parametrize("dossier, reason", sorted(LATE_REASONS.items()))
def test_late_with_reason(semantics: d.Result, dossier: str, reason: str) -> None:
    rows = {r["dossier_id"]: r for r in semantics.loss_rows("on_time")}
    assert rows[dossier]["reason"] == reason


def test_late_set_is_exactly_those(semantics: d.Result) -> None:
    assert set(semantics.loss_ids("on_time")) == set(LATE_REASONS)


def test_withdrawn_and_out_of_period_are_left_out_of_every_denominator(semantics: d.Result) -> None:
    assert semantics.counts["withdrawn"] == 1 and semantics.counts["out_of_period"] == 1
    assert all(ind.denominator <= 10 for ind in semantics.indicators.values())
    for name in d.INDICATORS:
        ids = semantics.loss_ids(name) if name != "full_online_services" else ()
        assert "D08" not in ids and "D09" not in ids, name


def test_finished_after_the_period_is_judged_at_its_end(semantics: d.Result) -> None:
    # D10: finished 03/01/2026, due 28/12/2025: unfinished (and overdue) on 31/12/2025
    assert semantics.counts["unfinished"] == 4  # D06, D07, D10, D12


def test_all_indicators_of_the_fixture(semantics: d.Result) -> None:
    assert counts(semantics) == {
        "on_time": (6, 10),  # D01 D03 D05 D07 D11 D12
        "apology": (2, 4),  # D02 and D06 of the late D02 D04 D06 D10
        "digitisation": (8, 10),  # not D02 (finished, result not digitised) nor D05 (components not digitised)
        "reuse": (5, 10),
        "full_online": (4, 10),
        "online_payment": (3, 6),  # fee: D01 D02 D04 D05 D10 D11; paid: D01 D04 D10
    }
    assert semantics.indicators["on_time"].rate == Fraction(3, 5)


def test_loss_lists(semantics: d.Result) -> None:
    assert semantics.loss_ids("apology") == ("D04", "D10")
    assert semantics.loss_ids("digitisation") == ("D02", "D05")
    assert semantics.loss_ids("online_payment") == ("D02", "D05", "D11")


def test_by_unit_and_procedure() -> None:
    table = d.read_dossiers(SEMANTICS)
    by_unit = d.compute(table, YEAR, by="unit")
    assert {k: (v["on_time"].numerator, v["on_time"].denominator) for k, v in by_unit.groups.items()} == {
        "Phòng A": (5, 6), "Phòng B": (1, 4)}
    by_proc = d.compute(table, YEAR, d.read_procedures(PROCEDURES), by="procedure")
    assert set(by_proc.groups) == {"P1", "P2", "P3", "P4"}  # P3, P4: in the catalogue, no dossiers
    assert by_proc.groups["P2"]["full_online_services"] == d.Indicator(0, 1)
    assert by_proc.groups["P3"]["full_online_services"] == d.Indicator(0, 0)
    assert by_proc.groups["P4"]["on_time"].rate is None


def test_full_online_services_from_the_catalogue() -> None:
    res = d.compute(d.read_dossiers(SEMANTICS), YEAR, d.read_procedures(PROCEDURES))
    assert res.indicators["full_online_services"] == d.Indicator(2, 3)  # P1, P4 of eligible P1, P2, P4
    assert res.loss_ids("full_online_services") == ("P2",)
    assert "full_online_services" in d.compute(d.read_dossiers(SEMANTICS), YEAR).unavailable


def test_a_period_picks_the_dossiers_received_in_it() -> None:
    res = d.compute(d.read_dossiers(SEMANTICS), d.parse_period("2025-03-01..2025-03-31"))
    assert res.indicators["on_time"] == d.Indicator(2, 3)  # D01 D02 D03; D02 late
    res = d.compute(d.read_dossiers(SEMANTICS), d.parse_period("01/12/2024..31/12/2024"))
    # D09: finished 15/01/2025 after its deadline 30/12/2024, but on 31/12/2024 it was unfinished and overdue
    assert res.indicators["on_time"] == d.Indicator(0, 1)


@pytest.mark.parametrize("text, start, end", [
    ("2025", dt.date(2025, 1, 1), dt.date(2025, 12, 31)),
    ("2025-01-01..2025-06-30", dt.date(2025, 1, 1), dt.date(2025, 6, 30)),
    ("01/07/2025..31/12/2025", dt.date(2025, 7, 1), dt.date(2025, 12, 31)),
])
def test_period(text: str, start: dt.date, end: dt.date) -> None:
    assert (d.parse_period(text).start, d.parse_period(text).end) == (start, end)


@pytest.mark.parametrize("text", ["2025-12-31..2025-01-01", "2025-02-30..2025-03-01", "last year"])
def test_bad_period(text: str) -> None:
    with pytest.raises(InputError) as info:
        d.parse_period(text)
    assert info.value.problems[0].code == "bad_period"


# ------------------------------------------------------------------ exact thresholds, through score


def score_json(tmp_path: Path, rows: list[str], capsys: pytest.CaptureFixture[str], *extra: str) -> dict:
    dossiers = write(tmp_path / "ho-so.csv", rows)
    code, out, err = run("score", str(EVIDENCE), "--dossiers", str(dossiers), "--format", "json", *extra, capsys=capsys)
    assert code == 0, err
    return json.loads(out)


def node(data: dict, code: str) -> dict:
    return next(c for c in data["criteria"] if c["code"] == code)


def test_4900_of_5000_meets_98_percent(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rows = [row(i, supplements=2 if i < 100 else 0, apology=True) for i in range(5000)]
    data = score_json(tmp_path, rows, capsys)
    n = node(data, "3.4.1")
    assert n["outcome"] == "met" and Decimal(str(n["points"])) == Decimal(str(n["max_points"])), n
    assert n["measured"] == pytest.approx(0.98)
    rows[100] = row(100, supplements=2, apology=True)  # 4 899 / 5 000: below 98 %
    assert node(score_json(tmp_path, rows, capsys), "3.4.1")["outcome"] == "partial"


def test_11_of_20_meets_55_percent(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rows = [row(i, fee=True, paid=i < 11) for i in range(20)]
    n = node(score_json(tmp_path, rows, capsys), "7.3.4")
    assert n["outcome"] == "met", n
    rows[10] = row(10, fee=True, paid=False)  # 10 / 20 = 50 %
    assert node(score_json(tmp_path, rows, capsys), "7.3.4")["outcome"] != "met"


def test_zero_denominators_are_not_applicable(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rows = [row(i) for i in range(5)]  # nobody late, nobody pays a fee
    res = d.compute(d.read_dossiers(write(tmp_path / "a.csv", rows)), YEAR)
    assert res.indicators["apology"].rate is None and res.indicators["online_payment"].rate is None
    code, out, _ = run("indicators", str(tmp_path / "a.csv"), "--format", "json", capsys=capsys)
    data = json.loads(out)
    assert data["indicators"]["apology"] == {"numerator": 0, "denominator": 0, "rate": None,
                                             "rate_text": "không phát sinh"}
    card = score_json(tmp_path, rows, capsys)
    assert node(card, "3.4.3")["outcome"] == "not_applicable"  # redistributed to 3.4.1
    assert node(card, "7.3.4")["outcome"] == "not_applicable" and node(card, "7.3.4")["max_points"] == 0
    # no counted dossier at all: the rates of 7.3.1 do not arise either
    card = score_json(tmp_path, [row(i, withdrawn=True) for i in range(3)], capsys)
    assert node(card, "7.3.1")["outcome"] == "not_applicable"
    assert node(card, "3.4.1")["outcome"] == "not_applicable"


# ------------------------------------------------------------------ score / explain --dossiers


def test_score_with_dossiers_reports_disagreement(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run("score", str(EVIDENCE), "--dossiers", str(SEMANTICS), "--format", "json", capsys=capsys)
    assert code == 0, err
    data = json.loads(out)
    warnings = "\n".join(data["warnings"])
    # the file says 7 of 10 on time; the dossiers say 6 of 10: computed wins, and it is said
    assert "3.4.1" in warnings and "là 7, nhưng tính từ tệp hồ sơ được 6; dùng số tính được" in warnings
    assert "3.4.3" not in warnings.split("Số liệu")[0]  # 2 of 4 as stated: no disagreement
    n = node(data, "3.4.1")
    assert n["measured"] == pytest.approx(0.6)
    code, out, _ = run("score", str(EVIDENCE), "--dossiers", str(SEMANTICS), capsys=capsys)
    assert "Lưu ý: 3.4.1: tệp kiểm chứng ghi" in out


def test_augment_fills_values_computed_and_dossiers(bundle: object) -> None:

    from scoring.core.evidence import load_evidence

    ev = load_evidence(EVIDENCE)
    inputs = d.DossierInputs(dossiers=SEMANTICS, procedures=PROCEDURES)
    out = d.augment_evidence(bundle, ev, inputs)
    leaf = out.evidence["3.4.1"]
    assert leaf.values["on_time"] == 6 and leaf.values["received"] == 10
    assert set(leaf.computed) == {"on_time", "received"} and leaf.stated_values == {"on_time": 7, "received": 10}
    assert leaf.dossiers == {"Hồ sơ trễ hạn": ("D02", "D04", "D06", "D10")}
    assert out.evidence["3.4.3"].dossiers == {"Hồ sơ trễ hạn chưa có văn bản xin lỗi": ("D04", "D10")}
    assert out.evidence["7.3.1"].values == {"digitised_rate": Fraction(4, 5), "reuse_rate": Fraction(1, 2)}
    assert out.evidence["7.3.1"].dossiers["Hồ sơ chưa số hóa đầy đủ"] == ("D02", "D05")
    assert out.evidence["7.3.4"].dossiers == {"Hồ sơ phải nộp phí chưa thanh toán trực tuyến": ("D02", "D05", "D11")}
    assert out.evidence["7.3.2"].values == {"full_online_offered": 2, "full_online_eligible": 3}  # not in the file
    assert ev.evidence["3.4.1"].values == {"on_time": 7, "received": 10}  # the loaded evidence is not changed


def test_explain_names_the_late_dossiers(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rows = [row(i, supplements=2 if i < 7 else 0) for i in range(100)]  # 7 late, no apology letter
    dossiers = write(tmp_path / "ho-so.csv", rows)
    code, out, err = run("explain", str(EVIDENCE), "--dossiers", str(dossiers), capsys=capsys)
    assert code == 0, err
    assert "Hồ sơ trễ hạn chưa có văn bản xin lỗi (7): R00000, R00001, R00002, R00003, R00004 … và 2" in out
    code, out, _ = run("explain", str(EVIDENCE), "--dossiers", str(dossiers), "--all-dossiers", capsys=capsys)
    assert "R00005, R00006" in out


def test_inputs_are_never_modified(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    files = [EVIDENCE, VI, MAPPING, PROCEDURES, BAD]
    before = {f: hashlib.sha256(f.read_bytes()).hexdigest() for f in files}
    run("score", str(EVIDENCE), "--dossiers", str(VI), "--mapping", str(MAPPING), "--procedures", str(PROCEDURES),
        "-o", str(tmp_path / "out.json"), "--format", "json", capsys=capsys)
    run("indicators", str(BAD), "--skip-bad-rows", "-o", str(tmp_path / "i.json"), capsys=capsys)
    run("indicators", str(BAD), capsys=capsys)
    assert {f: hashlib.sha256(f.read_bytes()).hexdigest() for f in files} == before
    code, _, err = run("indicators", str(VI), "--mapping", str(MAPPING), "-o", str(VI), capsys=capsys)
    assert code == 2 and "would_overwrite_input" in err


# ------------------------------------------------------------------ bad rows


EXPECTED_BAD = [  # row, code, column, value shown
    (3, "impossible_date", "received_at", "31/02/2025"),
    (4, "due_before_received", "due_at", "01/03/2025"),
    (5, "negative_count", "supplement_requests", "-1"),
    (6, "unknown_channel", "channel", "fax"),
    (7, "duplicate_id", "dossier_id", "B01"),
    (8, "bad_boolean", "withdrawn", "maybe"),
    (9, "bad_date", "due_at", "abc"),
]


def test_bad_rows_stop_with_row_column_value_and_fix() -> None:
    with pytest.raises(d.BadRowsError) as info:
        d.read_dossiers(BAD)
    problems = info.value.problems
    got = [(p.line, p.code, p.subject) for p in problems[:-1]]
    assert got == [(r, c, col) for r, c, col, _ in EXPECTED_BAD]
    for p, (_, _, _, value) in zip(problems, EXPECTED_BAD):
        assert value in p.message and p.hint and p.file == str(BAD)
    assert problems[-1].code == "bad_rows" and "7 dòng lỗi" in problems[-1].message and info.value.total == 7
    assert "trùng với dòng 2" in problems[4].message


def test_bad_rows_exit_2_without_traceback(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run("indicators", str(BAD), capsys=capsys)
    assert code == 2 and not out and "Traceback" not in err
    assert f"{BAD}:3: received_at: impossible_date" in err and "--skip-bad-rows" in err


def test_skip_bad_rows_says_how_many_and_which(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run("indicators", str(BAD), "--skip-bad-rows", "--format", "json", "--period", "2025", capsys=capsys)
    assert code == 0
    data = json.loads(out)
    assert data["skipped_rows"] == [3, 4, 5, 6, 7, 8, 9] and data["rows"]["skipped"] == 7
    assert data["indicators"]["on_time"] == {"numerator": 2, "denominator": 2, "rate": 1.0, "rate_text": "100%"}
    assert "Đã bỏ qua 7 dòng lỗi" in err and "dòng 3–9" in err


def test_more_than_twenty_bad_rows_shows_twenty_and_counts_all(tmp_path: Path) -> None:
    rows = [row(i, received="30/02/2025") for i in range(25)]
    with pytest.raises(d.BadRowsError) as info:
        d.read_dossiers(write(tmp_path / "x.csv", rows))
    assert len(info.value.problems) == 21 and info.value.total == 25
    assert [p.line for p in info.value.problems[:20]] == list(range(2, 22))
    assert "25 dòng lỗi" in info.value.problems[-1].message


def test_missing_required_column(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run("indicators", str(DATA / "no-paused-days.csv"), capsys=capsys)
    assert code == 2 and "missing_column" in err and "'paused_days'" in err and ":1:" in err


def test_missing_optional_column_makes_its_indicator_unavailable(tmp_path: Path) -> None:
    path = tmp_path / "few.csv"
    path.write_text("dossier_id,received_at,due_at,finished_at,supplement_requests,paused_days,withdrawn\n"
                    "A,2025-01-02,2025-01-09,2025-01-03,0,0,false\n", encoding="utf-8")
    res = d.compute(d.read_dossiers(path), YEAR)
    assert set(res.indicators) == {"on_time"}
    assert "apology_sent" in res.unavailable["apology"]


def test_mapped_header_missing_from_the_file(tmp_path: Path) -> None:
    mapping = tmp_path / "m.yaml"
    mapping.write_text("dossiers:\n  header_row: 2\n  delimiter: ';'\n  columns:\n    dossier_id: Mã hồ sơ\n"
                       "    received_at: Ngày nhận\n", encoding="utf-8")
    with pytest.raises(InputError) as info:
        d.read_dossiers(VI, d.load_mapping(mapping))
    first = info.value.problems[0]
    assert first.code == "missing_column" and "Ngày nhận" in first.message and "Ngày tiếp nhận" in (first.hint or "")


@pytest.mark.parametrize("text, code", [
    ("dossiers:\n  colums: {}\n", "unknown_key"),
    ("dossiers:\n  columns:\n    dosier_id: Mã\n", "unknown_column"),
    ("dossiers:\n  values:\n    channel: {Bưu điện: pigeon}\n", "bad_value"),
    ("dossiers:\n  header_row: 0\n", "bad_value"),
])
def test_bad_mapping_file(tmp_path: Path, text: str, code: str) -> None:
    path = tmp_path / "m.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(InputError) as info:
        d.load_mapping(path)
    assert info.value.problems[0].code == code and info.value.problems[0].line


# ------------------------------------------------------------------ formats


def test_mapping_yaml_with_vietnamese_headers_gives_the_same_indicators(semantics: d.Result) -> None:
    # title row, ';', BOM, CRLF, dd/mm/yyyy HH:MM, an Excel serial, x/blank, Có/Không, 1/0, a quoted cell
    res = result(VI, MAPPING)
    assert counts(res) == counts(semantics)
    assert res.table.skipped_rows == [] and res.table.rows_read == 12
    # title on row 1, header on row 2, D01 on row 3; an empty line (row 9) after D06 still counts as a row
    assert [r["row"] for r in res.loss_rows("on_time")] == [4, 6, 8, 13]


def test_header_row_is_found_below_title_rows(tmp_path: Path, semantics: d.Result) -> None:
    path = tmp_path / "titled.csv"
    path.write_text("SỞ VÍ DỤ\nBáo cáo hồ sơ năm 2025,,\n" + SEMANTICS.read_text(encoding="utf-8"), encoding="utf-8")
    res = result(path)
    assert counts(res) == counts(semantics) and res.table.frame["row"].iloc[0] == 4
    with pytest.raises(InputError) as info:  # a header that is not there: the closest row is named
        d.read_dossiers(DATA / "no-paused-days.csv")
    assert info.value.problems[0].line == 1


def test_csv_with_and_without_bom(tmp_path: Path, semantics: d.Result) -> None:
    with_bom = tmp_path / "bom.csv"
    with_bom.write_bytes(b"\xef\xbb\xbf" + SEMANTICS.read_bytes())
    assert counts(result(with_bom)) == counts(semantics)


def test_vietnamese_titles_work_without_a_mapping(tmp_path: Path) -> None:
    path = tmp_path / "vi.csv"
    path.write_text("Mã hồ sơ,Ngày tiếp nhận,Ngày hẹn trả kết quả,Ngày có kết quả,Số lần yêu cầu bổ sung hồ sơ,"
                    "Số ngày tạm dừng chờ bổ sung,Hồ sơ đã rút\nA,02/01/2025,09/01/2025,05/01/2025,0,0,không\n", encoding="utf-8")
    assert d.compute(d.read_dossiers(path), YEAR).indicators["on_time"] == d.Indicator(1, 1)


# "Phòng Hành chính" as Windows-1258 writes it (a base letter and a combining tone mark)
WIN_FROM = "Phòng Hành chính".encode("utf-8")
WIN_TO = "Pho\u0300ng Ha\u0300nh chi\u0301nh".encode("cp1258")


def test_wrong_encoding_names_the_problem_and_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "cp1258.csv"
    text = HEADER + "\n" + row(1) + "\n" + row(2).replace("Phòng A", "Phòng Hành chính") + "\n"
    path.write_bytes(text.encode("utf-8").replace(WIN_FROM, WIN_TO))
    code, _, err = run("indicators", str(path), capsys=capsys)
    assert code == 2 and "bad_encoding" in err and f"{path}:3:" in err and "UTF-8" in err and "Windows-1258" in err


def test_wrong_encoding_far_into_a_large_file(tmp_path: Path) -> None:
    rows = [row(i) for i in range(3000)]
    rows[2500] = rows[2500].replace("Phòng A", "Phòng Hành chính")
    path = tmp_path / "late-bad-byte.csv"
    path.write_bytes((HEADER + "\n" + "\n".join(rows) + "\n").encode("utf-8").replace(WIN_FROM, WIN_TO))
    with pytest.raises(InputError) as info:
        d.read_dossiers(path)
    assert info.value.problems[0].code == "bad_encoding" and info.value.problems[0].line == 2502


def test_utf16_file_is_named_as_such(tmp_path: Path) -> None:
    path = tmp_path / "u16.csv"
    path.write_bytes((HEADER + "\n" + row(1) + "\n").encode("utf-16"))
    with pytest.raises(InputError) as info:
        d.read_dossiers(path)
    assert info.value.problems[0].code == "bad_encoding" and "UTF-16" in info.value.problems[0].message


def test_xlsx_input(tmp_path: Path, semantics: d.Result) -> None:
    import csv

    import openpyxl

    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "Hồ sơ"
    with open(SEMANTICS, encoding="utf-8") as handle:
        for i, values in enumerate(csv.reader(handle)):
            if i:  # cells as a spreadsheet holds them: dates, numbers, booleans
                for j, v in enumerate(values):
                    if j in (3, 4, 5) and v:
                        values[j] = dt.datetime.fromisoformat(v) + dt.timedelta(hours=9)
                    elif j in (8, 9):
                        values[j] = int(v)
                    elif j >= 7 and j != 8 and j != 9:
                        values[j] = v == "true"
                values[4] = 45818 if values[0] == "D11" else values[4]  # an Excel serial (10/06/2025)
            sheet.append(values)
    path = tmp_path / "ho-so.xlsx"
    book.save(path)
    res = result(path)
    assert counts(res) == counts(semantics)
    assert res.table.file == f"{path}[Hồ sơ]"


def test_xlsx_bad_cell_names_sheet_and_row(tmp_path: Path) -> None:
    import openpyxl

    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(HEADER.split(","))
    sheet.append(row(1).split(","))
    sheet.append(row(2, due="2025-02-30").split(","))
    path = tmp_path / "bad.xlsx"
    book.save(path)
    with pytest.raises(d.BadRowsError) as info:
        d.read_dossiers(path)
    p = info.value.problems[0]
    assert (p.file, p.line, p.code, p.subject) == (f"{path}[Sheet]", 3, "impossible_date", "due_at")


def test_fast_reader_and_pandas_parser_agree(tmp_path: Path) -> None:
    for path, mapping in ((SEMANTICS, None), (VI, MAPPING), (BAD, None)):
        m = d.load_mapping(mapping) if mapping else None
        a = d.read_dossiers(path, m, skip_bad_rows=True)
        b = d.read_dossiers(path, m, skip_bad_rows=True, fast=False)
        assert a.frame.equals(b.frame), path
        assert a.id_list() == b.id_list() and a.skipped_rows == b.skipped_rows
        assert [p.format() for p in a.problems] == [p.format() for p in b.problems]


def test_newline_inside_quotes_falls_back_to_pandas(tmp_path: Path) -> None:
    path = tmp_path / "multiline.csv"
    path.write_text("dossier_id,unit,received_at,due_at,finished_at,supplement_requests,paused_days,withdrawn\n"
                    'A,"Phòng\nA",2025-01-02,2025-01-09,,0,0,false\nB,"Phòng ""B""",2025-01-02,2025-01-09,,0,0,0\n',
                    encoding="utf-8")
    table = d.read_dossiers(path)
    assert list(table.frame["unit"]) == ["Phòng\nA", 'Phòng "B"']


@pytest.mark.parametrize("fast", [True, False])
def test_a_row_with_more_cells_than_the_header_is_refused(tmp_path: Path, fast: bool) -> None:
    """An unquoted comma in a cell shifts the row; pandas would silently drop the surplus cell."""
    path = tmp_path / "ragged.csv"
    path.write_text("dossier_id,received_at,due_at,finished_at,supplement_requests,paused_days,withdrawn,unit\n"
                    "A,2025-01-02,2025-01-09,,0,0,false,Phòng A\n"
                    "B,2025-01-02,2025-01-09,,0,0,false,Phòng A, B\n", encoding="utf-8")
    with pytest.raises(InputError) as info:
        d.read_dossiers(path, fast=fast)
    p = info.value.problems[0]
    assert p.code == "bad_csv" and p.line == 3 and "nhiều ô hơn 8 cột" in p.message


def test_several_processes_give_the_same_table(tmp_path: Path) -> None:
    rows = [row(i, supplements=2 if i % 50 == 0 else 0) for i in range(3000)]
    rows[2999] = row(5)  # a duplicate across the blocks
    path = write(tmp_path / "big.csv", rows)
    one = d.read_dossiers(path, skip_bad_rows=True, workers=1)
    two = d.read_dossiers(path, skip_bad_rows=True, workers=2)
    assert one.frame.equals(two.frame) and one.id_list() == two.id_list()
    assert one.skipped_rows == two.skipped_rows == [3001]
    assert counts(d.compute(one, YEAR)) == counts(d.compute(two, YEAR))


def test_last_line_without_newline_and_long_last_cell(tmp_path: Path) -> None:
    unit = "Trung tâm Dịch vụ đấu giá tài sản tỉnh Lạng Sơn"  # 60 bytes: words read past the end of the file
    path = tmp_path / "tail.csv"
    path.write_text("dossier_id,received_at,due_at,finished_at,supplement_requests,paused_days,withdrawn,unit\n"
                    f"A,2025-01-02,2025-01-09,,0,0,false,{unit}\nB,2025-01-02,2025-01-09,2025-01-05,0,0,x,{unit}",
                    encoding="utf-8")
    for fast in (True, False):
        table = d.read_dossiers(path, fast=fast)
        assert list(table.frame["unit"]) == [unit, unit] and list(table.frame["withdrawn"]) == [False, True]


def test_a_cut_inside_quotes_is_redone(tmp_path: Path) -> None:
    # every record has a cell over two lines: the quick cut (next newline) lands inside quotes
    head = "dossier_id,unit,received_at,due_at,finished_at,supplement_requests,paused_days,withdrawn\n"
    body = "".join(f'K{i},"Phòng\nsố {i % 3}",2025-01-02,2025-01-09,2025-01-0{2 + i % 8},0,0,false\n' for i in range(2000))
    path = tmp_path / "multiline.csv"
    path.write_text(head + body, encoding="utf-8")
    one = d.read_dossiers(path, workers=1, skip_bad_rows=True)
    two = d.read_dossiers(path, workers=2, skip_bad_rows=True)
    assert one.frame.equals(two.frame) and one.id_list() == two.id_list() and len(one.frame) == 2000
    assert list(two.frame["unit"][:4]) == ["Phòng\nsố 0", "Phòng\nsố 1", "Phòng\nsố 2", "Phòng\nsố 0"]


DATE_PIECES = st.sampled_from(["", " ", "15/03/2025", "5/3/2025", "2025-03-15", "31/02/2025", "29/02/2024",
                               "15.03.2025", "15-03-2025", "2025-13-01", "45658", "abc", "00/00/0000"])
TIME_PIECES = st.sampled_from(["", " 08:15", " 23:59:59", " 24:00", "T08:15", " 8:15", " 08:60", ":00", "Z"])


@settings(max_examples=150, deadline=None)
@given(st.lists(st.tuples(DATE_PIECES, TIME_PIECES), min_size=1, max_size=12))
def test_date_fast_paths_agree_with_the_one_value_parser(cells: list[tuple[str, str]]) -> None:
    texts = [a + b for a, b in cells]
    expected = [d._scalar_day(t) for t in texts]
    raw = ",".join(texts).encode("utf-8")
    buf = np.zeros(len(raw) + d.PAD, dtype=np.uint8)
    buf[: len(raw)] = np.frombuffer(raw, dtype=np.uint8)
    starts, pos = [], 0
    for t in texts:
        starts.append(pos)
        pos += len(t.encode("utf-8")) + 1
    lengths = [len(t.encode("utf-8")) for t in texts]
    fast = d._ByteCells(buf, np.array(starts, dtype=np.int64), np.array(lengths, dtype=np.int32)).days()
    values = d._ValueCells(np.array(texts, dtype=object)).days()
    for got in (fast, values):
        assert [(int(k), int(v)) for v, k in zip(*got)] == expected


# ------------------------------------------------------------------ the indicators command


def test_indicators_json_contract(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run("indicators", str(SEMANTICS), "--procedures", str(PROCEDURES), "--by", "unit", "--format", "json",
                       "--period", "2025-01-01..2025-12-31", capsys=capsys)
    assert code == 0
    data = json.loads(out)
    assert set(data["indicators"]) == set(d.INDICATORS)
    assert data["indicators"]["on_time"] == {"numerator": 6, "denominator": 10, "rate": 0.6, "rate_text": "60%"}
    assert data["by"]["dimension"] == "unit"
    assert data["by"]["groups"]["Phòng B"]["indicators"]["on_time"]["numerator"] == 1
    assert data["period"] == {"from": "2025-01-01", "to": "2025-12-31", "default": False}


def test_indicators_table_is_vietnamese(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run("indicators", str(VI), "--mapping", str(MAPPING), capsys=capsys)
    assert code == 0
    assert "Tỷ lệ hồ sơ giải quyết đúng hạn" in out and "60%" in out and "không phát sinh" not in out
    assert "Kỳ đánh giá: 01/01/2025 – 31/12/2025 (mặc định" in out


def test_indicators_csv(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run("indicators", str(SEMANTICS), "--format", "csv", "--by", "procedure", capsys=capsys)
    assert code == 0 and out.startswith("\ufeffscope,key,name,indicator,numerator,denominator,rate,rate_text")
    assert "procedure,P2,,on_time,1,4,0.25,25%" in out


def test_list_late_and_late_without_apology(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run("indicators", str(SEMANTICS), "--list", "on_time", capsys=capsys)
    assert code == 0 and out.splitlines()[0].startswith("Hồ sơ trễ hạn")
    assert [line.split("\t")[1] for line in out.splitlines()[2:]] == ["D02", "D04", "D06", "D10"]
    code, out, _ = run("indicators", str(SEMANTICS), "--list", "apology", "--format", "json", capsys=capsys)
    assert [i["dossier_id"] for i in json.loads(out)["items"]] == ["D04", "D10"]
    code, _, err = run("indicators", str(SEMANTICS), "--list", "ontime", capsys=capsys)
    assert code == 2 and "did you mean 'on_time'" in err


def test_sample_export_reads_cleanly(capsys: pytest.CaptureFixture[str]) -> None:
    sample = ROOT / "sample_evidence" / "dossiers"
    code, out, err = run("indicators", str(sample / "ho-so-mot-cua-2025.csv"), "--mapping",
                         str(sample / "mapping-lang-son.yaml"), "--procedures", str(sample / "danh-muc-tthc.csv"),
                         "--format", "json", capsys=capsys)
    assert code == 0, err
    data = json.loads(out)
    assert data["rows"]["read"] == 300 and data["skipped_rows"] == [] and not data["unavailable"]


@pytest.fixture(autouse=True)
def _no_leftover_children() -> Iterator[None]:
    yield


# ------------------------------------------------------------------ docs/dossiers.md cannot drift


DOC = (ROOT / "docs" / "dossiers.md").read_text(encoding="utf-8")


def test_doc_output_blocks_are_current(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    import re
    import shlex

    monkeypatch.chdir(ROOT)
    blocks = re.findall(r"<!-- output: (.*?) -->\n```text\n(.*?)```", DOC, re.S)
    assert blocks
    for args, text in blocks:
        code, out, err = run(*shlex.split(args), capsys=capsys)
        assert code == 0, err
        stale = [line for line in text.splitlines() if "…" not in line and line not in out]
        assert not stale, f"docs/dossiers.md shows lines `parindex {args}` no longer prints: {stale}"


def test_doc_mapping_example_loads(tmp_path: Path) -> None:
    import re

    text = re.search(r"```yaml\n(dossiers:.*?)```", DOC, re.S)
    assert text
    path = tmp_path / "m.yaml"
    path.write_text(text.group(1), encoding="utf-8")
    mapping = d.load_mapping(path)
    assert mapping.dossiers.header_row == 2 and mapping.dossiers.values["withdrawn"] == {"đã rút": "có"}
    assert mapping.procedures.header_row is None
    assert mapping.procedures.columns["full_online_offered"] == "Đã cung cấp trực tuyến toàn trình"


def test_doc_lists_every_column_and_indicator() -> None:
    import re

    columns = DOC.split("## Canonical columns")[1].split("###")[0]
    semantics = DOC.split("## Semantics")[1].split("## Bad rows")[0]
    assert re.findall(r"^\| `([a-z_]+)` \|", columns, re.M) == list(d.COLUMNS)
    assert re.findall(r"^\| `([a-z_]+)` \|", semantics, re.M) == list(d.INDICATORS)


@pytest.mark.parametrize("raw, computed, same", [
    ("83,5%", Fraction(8347, 10000), True),
    ("83%", Fraction(8347, 10000), True),
    ("84%", Fraction(8347, 10000), False),
    ("0.835", Fraction(8347, 10000), True),
    ("98%", Fraction(4900, 5000), True),
    ("49/50", Fraction(4899, 5000), False),
])
def test_stated_rate_agrees_when_rounded_as_written(raw: str, computed: Fraction, same: bool) -> None:
    from scoring.core.evidence import parse_rate, same_as_stated

    assert same_as_stated("rate", raw, parse_rate(raw), computed) is same
