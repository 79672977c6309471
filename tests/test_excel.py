"""The Office's Excel formats: evidence template, YAML ⇄ xlsx round trip, strict reading with
sheet/cell errors, the self-scoring table with formula subtotals, and the criteria-table import.

Workbooks are generated here with openpyxl (no binary fixtures); nothing needs LibreOffice.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from openpyxl import Workbook, load_workbook

from conftest import ROOT, SAMPLES
from scoring.cli import main
from scoring.core.criteria import load_criteria
from scoring.core.engine import score
from scoring.core.errors import DefinitionError, InputError
from scoring.core.evidence import EvidenceFile, load_evidence
from scoring.inputs.criteria_table import import_criteria_table
from scoring.inputs.workbook import CLAIMS, EV_COLUMNS, INSTRUCTIONS, evidence_workbook
from scoring.inputs.workbook_reader import evidence_yaml, read_evidence_workbook
from scoring.outputs.xlsx import scorecard_xlsx
from scoring.core.rules import Bundle, load_bundle

DATA = ROOT / "tests" / "data" / "excel"
SAMPLE = SAMPLES / "so-tu-phap-lang-son-2025.yaml"
BOOKKEEPING = ("line", "value_lines", "file", "cells")


# ---------------------------------------------------------------- helpers


def plain(ev: EvidenceFile) -> dict[str, Any]:
    """The evidence as data, without file/line bookkeeping."""

    def strip(value: Any) -> Any:
        if isinstance(value, dict):
            return {k: strip(v) for k, v in value.items() if k not in BOOKKEEPING}
        if isinstance(value, (list, tuple)):
            return [strip(v) for v in value]
        return value

    return strip(ev.model_dump())


def assert_same(a: Any, b: Any, where: str = "") -> None:
    """Equal values of the same type (a YAML float and a float count as the same type)."""
    if isinstance(a, dict):
        assert isinstance(b, dict) and set(a) == set(b), f"{where}: keys {sorted(a)} != {sorted(b)}"
        for k in a:
            assert_same(a[k], b[k], f"{where}.{k}")
    elif isinstance(a, list):
        assert isinstance(b, list) and len(a) == len(b), f"{where}: {a!r} != {b!r}"
        for i, (x, y) in enumerate(zip(a, b)):
            assert_same(x, y, f"{where}[{i}]")
    elif isinstance(a, float):
        assert isinstance(b, float) and a == b, f"{where}: {a!r} != {b!r}"
    else:
        assert type(a) is type(b) and a == b, f"{where}: {a!r} ({type(a).__name__}) != {b!r} ({type(b).__name__})"


def sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def bundle_for(ev: EvidenceFile, default: Bundle) -> Bundle:
    return default if ev.criteria_set == default.criteria.id else load_bundle(set_id=ev.criteria_set)


@pytest.fixture(scope="module")
def sample_xlsx(tmp_path_factory: pytest.TempPathFactory, bundle: Bundle) -> Path:
    path = tmp_path_factory.mktemp("wb") / "sample.xlsx"
    path.write_bytes(evidence_workbook(bundle, load_evidence(SAMPLE)))
    return path


@pytest.fixture(scope="module")
def tricky_xlsx(tmp_path_factory: pytest.TempPathFactory, bundle: Bundle) -> Path:
    path = tmp_path_factory.mktemp("wb") / "tricky.xlsx"
    path.write_bytes(evidence_workbook(bundle, load_evidence(DATA / "tricky.yaml")))
    return path


def edited(src: Path, dst: Path, change: Any) -> Path:
    """A copy of ``src`` changed by ``change(workbook)``, as a clerk would edit it."""
    wb = load_workbook(src)
    change(wb)
    wb.save(dst)
    return dst


def col_of(ws: Any, header: str, head_row: int = 5) -> int:
    for c in ws[head_row]:
        if c.value == header:
            return c.column
    raise KeyError(header)


def row_of(ws: Any, code: str, name: str | None = None, head_row: int = 5) -> int:
    ccode, cname = col_of(ws, "Mã"), col_of(ws, "Tên số liệu")
    for r in range(head_row + 1, ws.max_row + 1):
        if ws.cell(r, ccode).value == code and (name is None or ws.cell(r, cname).value == name):
            return r
    raise KeyError((code, name))


def problems_of(exc: pytest.ExceptionInfo[Any]) -> list[Any]:
    return exc.value.problems


# ---------------------------------------------------------------- round trip


def evidence_samples() -> list[Path]:
    """The sample evidence files (sample_evidence/ also holds other data, e.g. peer rankings)."""
    top = re.compile(r"^(department|criteria_set|evidence):", re.M)
    return [p for p in sorted(SAMPLES.glob("*.yaml")) if len(set(top.findall(p.read_text(encoding="utf-8")))) == 3]


@pytest.mark.parametrize("path", evidence_samples() + [DATA / "tricky.yaml"], ids=lambda p: p.name)
def test_yaml_to_xlsx_to_yaml_is_lossless(path: Path, bundle: Bundle, tmp_path: Path) -> None:
    ev = load_evidence(path)
    b = bundle_for(ev, bundle)
    xlsx = tmp_path / "ev.xlsx"
    xlsx.write_bytes(evidence_workbook(b, ev))
    back = read_evidence_workbook(xlsx, bundle=b)
    assert_same(plain(ev), plain(back), "xlsx")
    yaml_file = tmp_path / "ev.yaml"
    yaml_file.write_text(evidence_yaml(back, source="ev.xlsx"), encoding="utf-8")
    again = load_evidence(yaml_file)
    assert_same(plain(ev), plain(again), "yaml")
    assert score(b, again).to_json()["total"] == score(b, ev).to_json()["total"]


def test_tricky_values_keep_their_written_form(bundle: Bundle, tricky_xlsx: Path) -> None:
    xlsx = tricky_xlsx
    back = read_evidence_workbook(xlsx, bundle=bundle)
    assert back.evidence["7.3.1"].values["digitised_rate"] == "83,5 %"
    assert back.evidence["1.1"].values["plan_issued_on"] == dt.date(2024, 12, 27)
    assert back.evidence["1.2"].values["reports"] == {"Quý I": "12/03/2025", "6 tháng": None,
                                                      "Năm": dt.date(2025, 12, 20)}
    assert [d.item for d in back.evidence["1.2"].documents] == ["Quý I", None, "Năm"]
    assert len(back.evidence["1.1"].documents) == 4
    assert back.bonus[0].count == 2 and len(back.bonus[0].documents) == 2
    # the cells themselves are typed: a clerk sees a real percentage and a real date
    ws = load_workbook(xlsx)["Lĩnh vực 7"]
    cell = ws.cell(row_of(ws, "7.3.1", "digitised_rate"), col_of(ws, "Giá trị"))
    assert cell.value == pytest.approx(0.835) and "%" in cell.number_format
    ws1 = load_workbook(xlsx)["Lĩnh vực 1"]
    date_cell = ws1.cell(row_of(ws1, "1.1", "plan_issued_on"), col_of(ws1, "Giá trị"))
    assert isinstance(date_cell.value, dt.datetime) and date_cell.number_format.upper() == "DD/MM/YYYY"


def test_a_changed_value_wins_over_the_remembered_original(bundle: Bundle, tricky_xlsx: Path,
                                                            tmp_path: Path) -> None:
    src = tricky_xlsx

    def change(wb: Any) -> None:
        ws = wb["Lĩnh vực 7"]
        ws.cell(row_of(ws, "7.3.1", "digitised_rate"), col_of(ws, "Giá trị")).value = 0.9

    back = read_evidence_workbook(edited(src, tmp_path / "c.xlsx", change), bundle=bundle)
    assert back.evidence["7.3.1"].values["digitised_rate"] == "90%"


def test_export_and_import_evidence_commands(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    xlsx, out = tmp_path / "e.xlsx", tmp_path / "e.yaml"
    assert main(["export", str(SAMPLE), "-o", str(xlsx)]) == 0
    assert main(["import-evidence", str(xlsx), "-o", str(out)]) == 0
    assert_same(plain(load_evidence(SAMPLE)), plain(load_evidence(out)))
    text = out.read_text(encoding="utf-8")
    assert "'1.1':" in text and "tasks_done_rate: 100%" in text
    assert main(["import-evidence", str(xlsx)]) == 0  # to the screen
    assert "department: Sở Tư pháp tỉnh Lạng Sơn" in capsys.readouterr().out


def test_score_reads_the_workbook_like_the_yaml(sample_xlsx: Path, capsys: pytest.CaptureFixture[str]) -> None:
    def result() -> Any:
        data = json.loads(capsys.readouterr().out)
        return data["total"], [(c["code"], c["points"], c["outcome"], c["reason"], c["evidence"])
                               for c in data["criteria"]]

    assert main(["score", str(sample_xlsx), "--format", "json"]) == 0
    from_xlsx = result()
    assert main(["score", str(SAMPLE), "--format", "json"]) == 0
    assert from_xlsx == result()


# ---------------------------------------------------------------- the template


def test_template_layout(bundle: Bundle, tmp_path: Path) -> None:
    path = tmp_path / "t.xlsx"
    assert main(["template", "-o", str(path), "--department", "Sở Y tế tỉnh Mẫu", "--criteria-set", "cap-so-2025"]) == 0
    wb = load_workbook(path)
    fields = [f.code for f in bundle.criteria.fields]
    assert wb.sheetnames == [INSTRUCTIONS] + [f"Lĩnh vực {c}" for c in fields] + [CLAIMS]
    info = wb[INSTRUCTIONS]
    text = " ".join(str(c.value) for row in info.iter_rows() for c in row if c.value)
    for needle in ("98%", "dd/mm/yyyy", "có", "không", "MINH HỌA", "Sở Y tế tỉnh Mẫu", "cap-so-2025"):
        assert needle in text
    # one row per evidence item; dated items one row per item label
    expected = 0
    for rule in bundle.rules.values():
        for spec in rule.rule.evidence:
            expected += len(rule.rule.items) if spec.type == "dated_items" else 1
    rows = 0
    for code in fields:
        ws = wb[f"Lĩnh vực {code}"]
        assert [c.value for c in ws[5]] == [c.header for c in EV_COLUMNS]
        assert ws.protection.sheet and ws.freeze_panes == "A6"
        name_col = col_of(ws, "Tên số liệu")
        rows += sum(1 for r in range(6, ws.max_row + 1) if ws.cell(r, name_col).value)
        assert ws.column_dimensions["Q"].hidden  # the remembered originals
    assert rows == expected
    ws = wb["Lĩnh vực 1"]
    reports = [ws.cell(r, col_of(ws, "Mục / kỳ")).value for r in range(6, ws.max_row + 1)
               if ws.cell(r, col_of(ws, "Tên số liệu")).value == "reports"]
    assert reports == ["Quý I", "6 tháng", "9 tháng", "Năm"]
    # data validation by type on the input cells
    value_col = ws.cell(1, col_of(ws, "Giá trị")).column_letter
    kinds = {}
    for dv in ws.data_validations.dataValidation:
        for rng in dv.sqref.ranges:
            for r in range(rng.min_row, rng.max_row + 1):
                if rng.min_col <= col_of(ws, "Giá trị") <= rng.max_col:
                    kinds[r] = (dv.type, dv.operator, dv.formula1, dv.formula2)
    assert kinds[row_of(ws, "1.1", "tasks_done_rate")] == ("decimal", "between", "0", "1")
    assert kinds[row_of(ws, "1.3.1", "units_inspected")][:3] == ("whole", "greaterThanOrEqual", "0")
    assert kinds[row_of(ws, "1.1", "plan_issued_on")][0] == "date"
    assert kinds[row_of(ws, "1.4", "plan_carried_out")][:3] == ("list", None, '"có,không"')
    assert ws[f"{value_col}{row_of(ws, '1.1', 'tasks_done_rate')}"].protection.locked is False
    assert ws[f"A{row_of(ws, '1.1', 'tasks_done_rate')}"].protection.locked is True
    # the template holds no formulas
    assert not any(c.data_type == "f" for s in wb.worksheets for row in s.iter_rows() for c in row)


def test_an_unfilled_template_names_the_empty_department_cell(bundle: Bundle, tmp_path: Path) -> None:
    path = tmp_path / "t.xlsx"
    path.write_bytes(evidence_workbook(bundle))
    with pytest.raises(InputError) as exc:
        read_evidence_workbook(path, bundle=bundle)
    (p,) = problems_of(exc)
    assert p.code == "missing_value" and p.subject == f"'{INSTRUCTIONS}'!B4"


def test_a_clerk_fills_the_template(bundle: Bundle, tmp_path: Path) -> None:
    src = tmp_path / "t.xlsx"
    src.write_bytes(evidence_workbook(bundle))

    def fill(wb: Any) -> None:
        wb[INSTRUCTIONS]["B4"] = "Sở Y tế tỉnh Mẫu"
        ws = wb["Lĩnh vực 1"]
        value = col_of(ws, "Giá trị")
        ws.cell(row_of(ws, "1.1", "plan_issued_on"), value).value = dt.datetime(2024, 12, 20)
        ws.cell(row_of(ws, "1.1", "plan_deadline"), value).value = "31/12/2024"  # typed as text
        ws.cell(row_of(ws, "1.1", "tasks_done_rate"), value).value = 0.98  # "98%" in a percent cell
        ws.cell(row_of(ws, "1.1", "tasks_done_rate"), col_of(ws, "Số hiệu văn bản")).value = "12/KH-SYT"
        ws.cell(row_of(ws, "1.1", "tasks_done_rate"), col_of(ws, "Ngày ban hành")).value = dt.datetime(2024, 12, 20)
        ws.cell(row_of(ws, "1.6", "tasks_on_time"), value).value = 40
        ws.cell(row_of(ws, "1.6", "tasks_assigned"), value).value = 40.0
        ws.cell(row_of(ws, "1.4", "plan_carried_out"), value).value = "có"
        ws2 = wb["Lĩnh vực 2"]
        first = row_of(ws2, "2.3.2")
        ws2.cell(first, col_of(ws2, "Không phát sinh")).value = "có"
        ws2.cell(first, col_of(ws2, "Giải trình không phát sinh")).value = "Không có văn bản trái pháp luật"
        claims = wb[CLAIMS]
        claims["A5"], claims["B5"], claims["D5"] = "thưởng", "mo-hinh-moi", 1

    path = edited(src, tmp_path / "filled.xlsx", fill)
    ev = read_evidence_workbook(path, bundle=bundle)
    assert ev.department == "Sở Y tế tỉnh Mẫu" and ev.year == bundle.criteria.year
    assert ev.evidence["1.1"].values == {"plan_issued_on": "20/12/2024", "plan_deadline": "31/12/2024",
                                         "tasks_done_rate": "98%"}
    assert ev.evidence["1.1"].documents[0].number == "12/KH-SYT"
    assert ev.evidence["1.6"].values == {"tasks_on_time": 40, "tasks_assigned": 40}
    assert ev.evidence["2.3.2"].not_applicable and ev.evidence["2.3.2"].justification
    assert [c.id for c in ev.bonus] == ["mo-hinh-moi"]
    card = score(bundle, ev)
    assert card.node("1.6").outcome == "met"
    assert card.node("1.1").outcome == "not_met"  # 98% of the plan's tasks, the rule wants 100%
    assert card.node("3.4.1").outcome == "missing_evidence"


# ---------------------------------------------------------------- bad workbooks


def _bad(sample_xlsx: Path, tmp_path: Path, bundle: Bundle, change: Any) -> list[Any]:
    path = edited(sample_xlsx, tmp_path / "bad.xlsx", change)
    before = sha(path)
    with pytest.raises(InputError) as exc:
        read_evidence_workbook(path, bundle=bundle)
    assert sha(path) == before  # never modified
    return problems_of(exc)


def test_deleted_column_names_the_missing_header(sample_xlsx: Path, tmp_path: Path, bundle: Bundle) -> None:
    def change(wb: Any) -> None:
        ws = wb["Lĩnh vực 3"]
        ws.delete_cols(col_of(ws, "Giá trị"))

    (p,) = _bad(sample_xlsx, tmp_path, bundle, change)
    assert p.code == "missing_column" and "'Giá trị'" in p.message and p.subject == "'Lĩnh vực 3'!5:5"
    assert "Giá trị" in p.hint


def test_moved_columns_are_found_by_their_header(sample_xlsx: Path, tmp_path: Path, bundle: Bundle) -> None:
    def change(wb: Any) -> None:
        for ws in wb.worksheets[1:]:
            ws.insert_cols(1, 2)  # two new columns in front: every column moves right

    path = edited(sample_xlsx, tmp_path / "moved.xlsx", change)
    assert_same(plain(read_evidence_workbook(path, bundle=bundle)), plain(load_evidence(SAMPLE)))


def test_every_defect_is_reported_with_its_sheet_cell_and_fix(sample_xlsx: Path, tmp_path: Path,
                                                              bundle: Bundle) -> None:
    """Merged cells, a formula, text in a number cell and a code typed as a number, all at once."""
    at: dict[str, str] = {}

    def change(wb: Any) -> None:
        wb["Lĩnh vực 2"].merge_cells("I8:J9")
        ws = wb["Lĩnh vực 3"]
        cell = ws.cell(row_of(ws, "3.4.1", "on_time"), col_of(ws, "Giá trị"))
        cell.value, at["formula"] = "=4800+71", cell.coordinate
        cell = ws.cell(row_of(ws, "3.4.1", "received"), col_of(ws, "Giá trị"))
        cell.value, at["text"] = "khoảng 5 nghìn", cell.coordinate
        ws = wb["Lĩnh vực 1"]
        cell = ws.cell(row_of(ws, "1.6", "tasks_on_time"), col_of(ws, "Mã"))
        cell.value, at["number"] = 1.6, cell.coordinate

    problems = {p.code: p for p in _bad(sample_xlsx, tmp_path, bundle, change)}
    assert set(problems) == {"merged_cells", "formula", "bad_value", "code_is_number"}
    merged = problems["merged_cells"]
    assert "I8:J9" in merged.message and merged.subject == "'Lĩnh vực 2'!I8" and "Unmerge" in merged.hint
    formula = problems["formula"]
    assert formula.subject == f"'Lĩnh vực 3'!{at['formula']}" and "=4800+71" in formula.message
    assert "Paste Special" in formula.hint
    text = problems["bad_value"]
    assert text.subject == f"'Lĩnh vực 3'!{at['text']}" and "khoảng 5 nghìn" in text.message
    assert "text in a number cell" in text.message and text.hint
    number = problems["code_is_number"]
    assert number.subject == f"'Lĩnh vực 1'!{at['number']}" and "'1.10" in number.hint


def test_not_a_workbook_and_not_an_evidence_workbook(tmp_path: Path, bundle: Bundle) -> None:
    junk = tmp_path / "junk.xlsx"
    junk.write_bytes(b"not a zip file")
    with pytest.raises(InputError) as exc:
        read_evidence_workbook(junk, bundle=bundle)
    assert problems_of(exc)[0].code == "unreadable_workbook"
    other = tmp_path / "other.xlsx"
    Workbook().save(other)
    with pytest.raises(InputError) as exc:
        read_evidence_workbook(other, bundle=bundle)
    assert problems_of(exc)[0].code == "not_an_evidence_workbook"


def test_cli_reports_sheet_and_cell_with_exit_2(sample_xlsx: Path, tmp_path: Path,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    def change(wb: Any) -> None:
        ws = wb["Lĩnh vực 5"]
        ws.cell(row_of(ws, "5.4", "courses_done"), col_of(ws, "Giá trị")).value = "mười bốn"

    path = edited(sample_xlsx, tmp_path / "bad.xlsx", change)
    before = sha(path)
    assert main(["score", str(path)]) == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err and "'Lĩnh vực 5'!H" in err and "bad_value" in err
    assert sha(path) == before
    assert main(["import-evidence", str(path), "-o", str(tmp_path / "x.yaml")]) == 2
    assert not (tmp_path / "x.yaml").exists()


def test_export_refuses_evidence_score_would_reject(bundle: Bundle, tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(SAMPLE.read_text(encoding="utf-8").replace("on_time: 4871", "on_tim: 4871"), encoding="utf-8")
    with pytest.raises(InputError) as exc:
        evidence_workbook(bundle, load_evidence(bad))
    (p,) = problems_of(exc)
    assert p.code == "unknown_evidence" and p.hint == "có phải 'on_time'? (did you mean 'on_time'?)" and p.line


# ---------------------------------------------------------------- the self-scoring table


def _evaluate(ws: Any, coord: str, seen: set[str] | None = None) -> Decimal:
    """A tiny evaluator for the formulas the table uses: SUM(a,b,…), SUM(a:b), +, -, ROUND(x/y*100,2)."""
    value = ws[coord].value
    if not (isinstance(value, str) and value.startswith("=")):
        return Decimal(str(value or 0))
    expr = value[1:]
    m = re.fullmatch(r"ROUND\(([A-Z]+\d+)/([A-Z]+\d+)\*100,2\)", expr)
    if m:
        return round(_evaluate(ws, m.group(1)) / _evaluate(ws, m.group(2)) * 100, 2)
    m = re.fullmatch(r"SUM\(([A-Z]+)(\d+):\1(\d+)\)", expr)
    if m:
        return sum((_evaluate(ws, f"{m.group(1)}{r}") for r in range(int(m.group(2)), int(m.group(3)) + 1)),
                   Decimal(0))
    m = re.fullmatch(r"SUM\(([A-Z0-9,]+)\)", expr)
    if m:
        return sum((_evaluate(ws, ref) for ref in m.group(1).split(",")), Decimal(0))
    total, sign = Decimal(0), 1
    for token in re.findall(r"[+-]|[A-Z]+\d+", expr):
        if token in "+-":
            sign = 1 if token == "+" else -1
        else:
            total += sign * _evaluate(ws, token)
    return total


def test_scorecard_xlsx_subtotals_are_formulas_that_add_up(bundle: Bundle, tmp_path: Path) -> None:
    card = score(bundle, load_evidence(SAMPLE))
    path = tmp_path / "bang.xlsx"
    path.write_bytes(scorecard_xlsx(card))
    wb = load_workbook(path)
    cached = load_workbook(path, data_only=True)
    ws, wsv = wb["Bảng tự chấm điểm"], cached["Bảng tự chấm điểm"]
    head = next(r for r in range(1, 15) if ws.cell(r, 1).value == "STT")
    assert [ws.cell(head, c).value for c in range(1, 7)] == [
        "STT", "Lĩnh vực / Tiêu chí / Tiêu chí thành phần", "Điểm tối đa", "Điểm tự đánh giá",
        "Tài liệu kiểm chứng", "Giải trình / ghi chú"]
    rows = {ws.cell(r, 1).value: r for r in range(head + 2, ws.max_row + 1) if ws.cell(r, 1).value}
    for n in card.nodes:
        r = rows[n.code]
        points, maxp = ws.cell(r, 4).value, ws.cell(r, 3).value
        if n.is_leaf:
            assert Decimal(str(points)) == n.points and Decimal(str(maxp)) == n.max_points
        else:
            assert points.startswith("=SUM(") and maxp.startswith("=SUM(")
            kids = [c.code for c in card.nodes if c.code.rsplit(".", 1)[0] == n.code and "." in c.code]
            assert points == "=SUM(" + ",".join(f"D{rows[k]}" for k in kids) + ")"
            assert _evaluate(ws, f"D{r}") == n.points and _evaluate(ws, f"C{r}") == n.max_points
            assert Decimal(str(wsv.cell(r, 4).value)) == n.points  # cached for viewers that do not calculate
        font = ws.cell(r, 2).font
        assert (font.b, font.i) == ((True, False) if n.level == "field" else (False, False) if n.is_leaf
                                    else (True, True))
    total_row = next(r for r in range(head, ws.max_row + 1) if ws.cell(r, 2).value == "TỔNG ĐIỂM")
    assert _evaluate(ws, f"D{total_row}") == card.total.points
    assert "-D" in ws.cell(total_row, 4).value and "+D" in ws.cell(total_row, 4).value  # bonus and penalty
    assert _evaluate(ws, f"D{total_row + 1}") == card.total.percent
    top = " ".join(str(ws.cell(r, 1).value) for r in range(1, head))
    assert "MINH HỌA" in top and "VÍ DỤ DỰNG SẴN" in top
    assert ws.freeze_panes == f"A{head + 2}" and ws.column_dimensions["B"].width >= 40
    assert ws.cell(rows["1.1"], 5).alignment.wrap_text
    # the lost points sheet: largest first, with reasons and guidance
    lost = wb["Điểm bị mất"]
    lhead = next(r for r in range(1, 10) if lost.cell(r, 1).value == "STT")
    codes = [lost.cell(r, 2).value for r in range(lhead + 1, lhead + 1 + len(card.lost_points()))]
    assert codes == [n.code for n in card.lost_points()]
    first = card.lost_points()[0]
    assert lost.cell(lhead + 1, 7).value == first.reason and lost.cell(lhead + 1, 8).value == first.guidance
    sums = lost.cell(lhead + 1 + len(codes), 4).value
    assert sums.startswith("=SUM(") and _evaluate(lost, f"D{lhead + 1 + len(codes)}") == sum(
        (n.lost for n in card.lost_points()), Decimal(0))


def test_score_format_xlsx_needs_an_output_file(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    assert main(["score", str(SAMPLE), "--format", "xlsx"]) == 2
    assert "output_required" in capsys.readouterr().err
    out = tmp_path / "bang-tu-cham.xlsx"
    assert main(["score", str(SAMPLE), "--format", "xlsx", "-o", str(out)]) == 0
    assert load_workbook(out).sheetnames == ["Bảng tự chấm điểm", "Điểm bị mất"]


# ---------------------------------------------------------------- importing a criteria table


def make_table(path: Path, rows: list[tuple[Any, Any, Any]], merges: list[str] = (), head: int = 3) -> Path:
    """A province-style table: a merged banner, the header on row ``head``, then the rows."""
    wb = Workbook()
    ws = wb.active
    ws.title = "Phụ lục I"
    ws["A1"] = "BẢNG TIÊU CHÍ XÁC ĐỊNH CHỈ SỐ CCHC CẤP SỞ (ví dụ dựng sẵn)"
    ws.merge_cells("A1:D1")
    ws.cell(head, 1, "STT")
    ws.cell(head, 2, "Lĩnh vực/Tiêu chí/Tiêu chí thành phần")
    ws.cell(head, 3, "Điểm tối đa")
    ws.cell(head, 4, "Ghi chú")
    for i, row in enumerate(rows, head + 1):
        for j, value in enumerate(row, 1):
            if value is not None:
                ws.cell(i, j, value)
    for m in merges:
        ws.merge_cells(m)
    wb.save(path)
    return path


GOOD_ROWS: list[tuple[Any, Any, Any]] = [
    ("1", "Công tác chỉ đạo, điều hành", 11.5),
    *[(f"1.{i}", f"Tiêu chí 1.{i}", 2.5 if i == 1 else 1) for i in range(1, 11)],  # row 4..14: 1.1 … 1.10
    ("2", "Cải cách thể chế", None),  # row 15: merged title over the max column → sum of children
    ("2.1", "Theo dõi thi hành pháp luật", "2,5"),
    ("2.1.1", "Hoạt động theo dõi", 1.5),
    ("2.1.2", "Xử lý kết quả theo dõi", 1),  # row 18
    (None, "(tên tiêu chí 2.1.2 viết tiếp ở dòng dưới)", None),  # row 19: code cell merged with row 18
    ("2.2", "Kiểm tra văn bản", 5.5),
    (None, "Tổng cộng", 19.5),  # row 21
]
GOOD_MERGES = ["B15:C15", "A18:A19"]
MISMATCH_ROWS = [r if r[0] != "1" else ("1", "Công tác chỉ đạo, điều hành", 12) for r in GOOD_ROWS]


def test_import_criteria_table(tmp_path: Path) -> None:
    table = make_table(tmp_path / "bang.xlsx", GOOD_ROWS, GOOD_MERGES)
    before = sha(table)
    res = import_criteria_table(table, set_id="tinh-mau-2025", province="tỉnh Mẫu", year=2025)
    assert res.problems == () and sha(table) == before
    assert "'1.10'" in res.criteria_yaml and "'1.1'" in res.criteria_yaml  # quoted: 1.10 stays 1.10
    out = tmp_path / "criteria" / "tinh-mau-2025.yaml"
    out.parent.mkdir()
    out.write_text(res.criteria_yaml, encoding="utf-8")
    cset = load_criteria(out)
    idx = cset.index()
    assert idx["1.10"].title == "Tiêu chí 1.10" and idx["1.1"].max_points == Decimal("2.5")
    assert cset.points_status == "illustrative" and cset.scale == Decimal("19.5")
    assert idx["2"].max_points == Decimal("8") and any("'2'" in n for n in res.notes)
    assert idx["2.1.2"].title == "Xử lý kết quả theo dõi (tên tiêu chí 2.1.2 viết tiếp ở dòng dưới)"
    assert idx["2.1.1"].source.endswith("dòng 17") and idx["2.1.1"].label == "2.1.1"
    assert res.rows["1.10"] == "'Phụ lục I' dòng 14"
    # no scale in the table: every leaf is a direct-points rule, and the set loads at once
    assert (res.computed_rules, res.level_rules, res.points_rules) == (0, 0, 13)


def test_import_criteria_reports_sum_mismatch_with_sheet_rows(tmp_path: Path) -> None:
    table = make_table(tmp_path / "bang.xlsx", MISMATCH_ROWS, GOOD_MERGES)
    res = import_criteria_table(table, set_id="tinh-mau-2025", province="tỉnh Mẫu", year=2025)
    by_subject = {p.subject: p for p in res.problems}
    mismatch = by_subject["'Phụ lục I' dòng 4"]
    assert mismatch.code == "points_mismatch" and "11,5" in mismatch.message and "12" in mismatch.message
    assert "1.10: 1 ('Phụ lục I' dòng 14)" in mismatch.hint
    total = by_subject["'Phụ lục I' dòng 21"]
    assert total.code == "points_mismatch" and "19,5" in total.message and "20" in total.message


def test_numeric_codes_that_collide_get_a_text_hint(tmp_path: Path) -> None:
    rows = [("1", "Lĩnh vực", 2)] + [(float(f"1.{i}"), f"Tiêu chí 1.{i}", 0.2) for i in range(1, 11)]
    table = make_table(tmp_path / "bang.xlsx", rows)
    res = import_criteria_table(table, set_id="tinh-mau-2025", province="tỉnh Mẫu", year=2025)
    dup = next(p for p in res.problems if p.code == "duplicate_code")
    assert "'1.1'" in dup.message and "Text" in dup.hint and dup.subject.endswith("A14")


def test_columns_by_letter_or_header_and_unknown_header(tmp_path: Path) -> None:
    table = make_table(tmp_path / "bang.xlsx", GOOD_ROWS, GOOD_MERGES)
    by_letter = import_criteria_table(table, set_id="a", province="P", year=2025,
                                      columns={"code": "A", "title": "B", "max": "C"})
    by_text = import_criteria_table(table, set_id="a", province="P", year=2025, columns={"max": "điểm tối đa"})
    assert by_letter.criteria_yaml == by_text.criteria_yaml and by_letter.rules_files == by_text.rules_files
    with pytest.raises(InputError) as exc:
        import_criteria_table(table, set_id="a", province="P", year=2025, columns={"max": "Điểm chuẩn"})
    (p,) = problems_of(exc)
    assert p.code == "missing_column" and "Điểm tối đa" in p.hint and p.subject == "--max-column"


def test_official_needs_a_source(tmp_path: Path) -> None:
    table = make_table(tmp_path / "bang.xlsx", GOOD_ROWS, GOOD_MERGES)
    with pytest.raises(InputError):
        import_criteria_table(table, set_id="a", province="P", year=2025, official=True)
    res = import_criteria_table(table, set_id="a", province="P", year=2025, official=True,
                                source="QĐ 99/QĐ-UBND ngày 01/10/2025, Phụ lục I")
    assert res.problems == () and "points_status: official" in res.criteria_yaml


def test_import_criteria_command_writes_a_set_that_checks_at_once(tmp_path: Path,
                                                                  capsys: pytest.CaptureFixture[str]) -> None:
    table = make_table(tmp_path / "bang.xlsx", GOOD_ROWS, GOOD_MERGES)
    (tmp_path / "criteria").mkdir()
    out = tmp_path / "criteria" / "tinh-mau-2025.yaml"
    assert main(["import-criteria", str(table), "-o", str(out), "--province", "tỉnh Mẫu", "--year", "2025",
                 "--external", "2.2"]) == 0
    err = capsys.readouterr().err
    assert "0 tính tự động" in err and "12 nhập điểm trực tiếp" in err
    rules = tmp_path / "rules" / "tinh-mau-2025"
    assert sorted(p.name for p in rules.glob("*.yaml")) == ["1-cong-tac-chi-dao.yaml", "2-cai-cach-the-che.yaml"]
    assert load_criteria(out).index()["2.2"].external
    bundle = load_bundle(tmp_path / "criteria", tmp_path / "rules", "tinh-mau-2025")
    assert bundle.rules["2.2"].kind == "external" and bundle.rules["1.10"].kind == "points"
    bundle.close()
    assert main(["check", "--criteria", str(tmp_path / "criteria"), "--rules", str(tmp_path / "rules")]) == 0
    # running again keeps the author's edited rules
    f2 = rules / "2-cai-cach-the-che.yaml"
    f2.write_text(f2.read_text(encoding="utf-8") + "# sửa tay\n", encoding="utf-8")
    assert main(["import-criteria", str(table), "-o", str(out), "--province", "tỉnh Mẫu", "--year", "2025",
                 "--external", "2.2"]) == 0
    assert f2.read_text(encoding="utf-8").endswith("# sửa tay\n")
    assert "Giữ nguyên tệp quy tắc đã có của lĩnh vực: 1, 2" in capsys.readouterr().err


def test_import_criteria_command_stops_on_problems(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    table = make_table(tmp_path / "bang.xlsx", MISMATCH_ROWS, GOOD_MERGES)
    out = tmp_path / "x.yaml"
    assert main(["import-criteria", str(table), "-o", str(out), "--province", "P", "--year", "2025"]) == 2
    err = capsys.readouterr().err
    assert "points_mismatch" in err and "dòng" in err and "Traceback" not in err
    assert not out.exists() and not (tmp_path / "rules").exists()


def test_import_criteria_writes_nothing_when_the_rules_cannot_be_written(tmp_path: Path,
                                                                         capsys: pytest.CaptureFixture[str]) -> None:
    table = make_table(tmp_path / "bang.xlsx", GOOD_ROWS, GOOD_MERGES)
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("x", encoding="utf-8")
    out = tmp_path / "criteria.yaml"
    assert main(["import-criteria", str(table), "-o", str(out), "--province", "P", "--year", "2025",
                 "--rules-out", str(blocker / "rules")]) == 2
    assert "cannot_write" in capsys.readouterr().err and not out.exists()


def test_every_problem_code_is_documented() -> None:
    source = "".join((ROOT / "scoring" / f).read_text(encoding="utf-8") for f in
                     ("inputs/workbook.py", "inputs/workbook_reader.py", "outputs/xlsx.py", "inputs/criteria_table.py", "cli/workbook.py"))
    codes = set(re.findall(r'(?:\.add|Problem)\(\s*"([a-z_]+)"', source))
    doc = "".join((ROOT / "docs" / name).read_text(encoding="utf-8") for name in ("excel.md", "criteria-import.md"))
    assert len(codes) > 30
    assert sorted(c for c in codes if f"`{c}`" not in doc) == []


def test_without_the_rules_types_come_from_the_workbook(sample_xlsx: Path, tmp_path: Path) -> None:
    """A criteria set parindex does not have: values are read by the 'Kiểu giá trị' column."""

    def change(wb: Any) -> None:
        wb[INSTRUCTIONS]["B6"] = "tinh-khac-2025"

    back = read_evidence_workbook(edited(sample_xlsx, tmp_path / "other.xlsx", change))
    expected = plain(load_evidence(SAMPLE))
    expected["criteria_set"] = "tinh-khac-2025"
    assert_same(expected, plain(back))
