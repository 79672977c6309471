"""parindex compare: appraisal files (CSV, XLSX, per round or long format), differences, totals and
draft explanations; bad appraisal files fail with file, row, cell and fix (exit 2), never modified."""

from __future__ import annotations

import hashlib
import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from conftest import SAMPLES
from scoring.analysis.audit import audit
from scoring.cli import main
from scoring.analysis.compare import compare, read_appraisal
from scoring.core.engine import score
from scoring.core.errors import InputError
from scoring.core.evidence import EvidenceFile, load_evidence

EVIDENCE = SAMPLES / "so-tu-phap-lang-son-2025.yaml"
APPRAISAL = SAMPLES / "appraisal-lang-son-2025.csv"
D = Decimal


@pytest.fixture(scope="module")
def ev() -> EvidenceFile:
    return load_evidence(EVIDENCE)


@pytest.fixture(scope="module")
def card(bundle: Any, ev: EvidenceFile) -> Any:
    return score(bundle, ev)


def run_compare(bundle: Any, card: Any, path: Path, ev: EvidenceFile | None = None, sheet: str | None = None) -> Any:
    gaps = audit(bundle, ev).gaps if ev is not None else ()
    return compare(bundle, card, read_appraisal(path, bundle, card, sheet), gaps, ev)


def write_csv(tmp: Path, text: str, name: str = "tham-dinh.csv") -> Path:
    path = tmp / name
    path.write_text(text, encoding="utf-8")
    return path


def problems(bundle: Any, card: Any, path: Path) -> list[Any]:
    with pytest.raises(InputError) as info:
        read_appraisal(path, bundle, card)
    return info.value.problems


# ------------------------------------------------------------------ the example appraisal


def test_sample_appraisal_differences_and_totals(bundle: Any, card: Any, ev: EvidenceFile) -> None:
    cmp = run_compare(bundle, card, APPRAISAL, ev)
    assert cmp.appraisal.rounds == (1, 2)
    assert [(d.code, d.difference) for d in cmp.differences] == [
        ("3.4.1", D(-1)), ("6.1.2", D(-1)), ("2.1.2", D(0)), ("5.4", D("0.5"))]
    # 88,45 self; round 1 cuts 2.1.2, 3.4.1, 6.1.2 by 1 and raises 5.4 by 0,5; round 2 restores 2.1.2
    assert card.total.points == D("88.45")
    assert cmp.round_totals == {1: D("85.95"), 2: D("86.95")}
    assert cmp.not_appraised == ()
    d = {x.code: x for x in cmp.differences}
    assert d["3.4.1"].rounds == {1: D(2), 2: D(2)} and d["6.1.2"].rounds == {1: D(0)}
    assert d["3.4.1"].council_note and "97,6%" in d["3.4.1"].council_note


def test_drafts_say_what_the_office_asks(bundle: Any, card: Any, ev: EvidenceFile) -> None:
    d = {x.code: x for x in run_compare(bundle, card, APPRAISAL, ev).differences}
    cut = d["3.4.1"].draft
    assert "Sở tự chấm 3 điểm, Hội đồng thẩm định chấm 2 điểm (giảm 1 điểm)" in cut
    assert "98,8% (4.871/4.930)" in cut and "HTTTGQTTHC-2025" in cut
    assert cut.endswith("Đề nghị Hội đồng thẩm định xem xét, công nhận 3 điểm cho tiêu chí 3.4.1.")
    na = d["6.1.2"].draft
    assert "không phát sinh: Năm 2025 Sở không có cuộc thanh tra, kiểm toán nào" in na
    assert "[bổ sung số hiệu" in na  # no document yet: a placeholder the Office fills
    assert [g.kind for g in d["6.1.2"].likely_causes] == ["missing_evidence"]  # the audit saw it coming
    assert "thống nhất" in d["5.4"].draft and d["5.4"].likely_causes == ()
    assert "không cần giải trình thêm" in d["2.1.2"].draft


def test_cli_json_and_markdown(capsys: Any, tmp_path: Path) -> None:
    before = [hashlib.sha256(p.read_bytes()).hexdigest() for p in (EVIDENCE, APPRAISAL)]
    rc = main(["compare", str(EVIDENCE), "--appraisal", str(APPRAISAL), "--format", "json"])
    data = json.loads(capsys.readouterr().out)
    assert rc == 0
    assert data["totals"] == {"self": 88.45, "max_points": 100, "appraised": {"1": 85.95, "2": 86.95},
                              "final": 86.95, "difference": -1.5}
    first = data["differences"][0]
    assert set(first) >= {"code", "self_points", "appraised", "final_points", "difference", "evidence",
                          "draft_explanation"}
    assert first["code"] == "3.4.1" and first["appraised"] == {"1": 2, "2": 2}
    out = tmp_path / "giai-trinh.md"
    assert main(["compare", str(EVIDENCE), "--appraisal", str(APPRAISAL), "--format", "markdown",
                 "-o", str(out)]) == 0
    text = out.read_text(encoding="utf-8")
    assert text.startswith("# SO SÁNH ĐIỂM TỰ CHẤM VÀ ĐIỂM THẨM ĐỊNH") and "**Dự thảo giải trình**" in text
    assert main(["compare", str(EVIDENCE), "--appraisal", str(APPRAISAL), "-o", str(APPRAISAL)]) == 2
    assert "would_overwrite_input" in capsys.readouterr().err
    assert [hashlib.sha256(p.read_bytes()).hexdigest() for p in (EVIDENCE, APPRAISAL)] == before


# ------------------------------------------------------------------ other layouts


def sample_xlsx(tmp: Path, card: Any) -> Path:
    """The example appraisal as an official-looking workbook: title rows, a two-row merged header, codes
    typed as numbers where Excel does that (1.1, 2.2), points as numbers or Vietnamese text."""
    from openpyxl import Workbook

    changes = {"2.1.2": (0, 1), "3.4.1": (2, 2), "5.4": (1.5, None), "6.1.2": (0, None)}
    wb = Workbook()
    ws = wb.active
    ws.title = "Kết quả thẩm định"
    ws.append(["KẾT QUẢ THẨM ĐỊNH CHỈ SỐ CCHC NĂM 2025 (ví dụ)"])
    ws.append([])
    ws.append(["STT", "Mã", "Nội dung", "Điểm tối đa", "Điểm thẩm định", None, "Ghi chú"])
    ws.append([None, None, None, None, "Lần 1", "Lần 2", None])
    for col in "ABCDG":
        ws.merge_cells(f"{col}3:{col}4")
    ws.merge_cells("E3:F3")
    for i, n in enumerate(card.leaves(), 1):
        code: Any = float(n.code) if n.code in ("1.1", "2.2") else n.code
        r1, r2 = changes.get(n.code, (float(n.points), None))
        if n.code == "1.2":
            r1 = "0,75"
        ws.append([i, code, n.title, float(n.nominal_max_points), r1, r2, None])
    ws.append([None, "Điểm thưởng", None, 2, 0.5, None, None])
    path = tmp / "tham-dinh.xlsx"
    wb.save(path)
    return path


def test_xlsx_with_merged_header_matches_csv(bundle: Any, card: Any, ev: EvidenceFile, tmp_path: Path) -> None:
    from_csv = run_compare(bundle, card, APPRAISAL, ev)
    path = sample_xlsx(tmp_path, card)
    before = path.read_bytes()
    from_xlsx = run_compare(bundle, card, path, ev)
    assert from_xlsx.round_totals == from_csv.round_totals
    assert [(d.code, d.rounds, d.difference) for d in from_xlsx.differences] == \
        [(d.code, d.rounds, d.difference) for d in from_csv.differences]
    assert path.read_bytes() == before


def test_long_format_with_round_column(bundle: Any, card: Any, tmp_path: Path) -> None:
    path = write_csv(tmp_path, "code;round;appraised;note\n3.4.1;1;2;theo Cổng DVC\n3.4.1;2;3;\n6.1.2;Lần 1;0;\n")
    cmp = run_compare(bundle, card, path)
    assert cmp.appraisal.rounds == (1, 2)
    assert [(d.code, d.rounds, d.final_points) for d in cmp.differences] == [
        ("6.1.2", {1: D(0)}, D(0)), ("3.4.1", {1: D(2), 2: D(3)}, D(3))]
    assert cmp.round_totals == {1: D("86.45"), 2: D("87.45")}
    assert len(cmp.not_appraised) == len(card.leaves()) - 2
    assert any("không có trong tệp thẩm định" in n for n in cmp.notes)


def test_single_points_column_english_headers(bundle: Any, card: Any, tmp_path: Path) -> None:
    path = write_csv(tmp_path, "code,points\n1.5,1\n1.6,3\n")
    cmp = run_compare(bundle, card, path)
    assert cmp.appraisal.rounds == (1,)
    assert [(d.code, d.difference) for d in cmp.differences] == [("1.6", D(1))]  # 1.5 agrees (1 point)
    assert cmp.final_total == card.total.points + 1


def test_parent_rows_are_subtotals_or_units(bundle: Any, card: Any, tmp_path: Path) -> None:
    # 3.4 given with its leaves: a subtotal, checked but not compared
    ok = write_csv(tmp_path, "Mã,Điểm thẩm định\n3.4,5\n3.4.1,2\n3.4.3,0\n3.4.4,3\n", "a.csv")
    cmp = run_compare(bundle, card, ok)
    assert [d.code for d in cmp.differences] == ["3.4.1"]
    assert not any(n.startswith("Lần 1: dòng 3.4 ") for n in cmp.notes)
    wrong = write_csv(tmp_path, "Mã,Điểm thẩm định\n3.4,6\n3.4.1,2\n3.4.3,0\n3.4.4,3\n", "b.csv")
    assert any(n.startswith("Lần 1: dòng 3.4 ghi 6 điểm nhưng các dòng con cộng lại 5 điểm")
               for n in run_compare(bundle, card, wrong).notes)
    # 3.4 alone: the council scored the criterion as a whole
    alone = write_csv(tmp_path, "Mã,Điểm thẩm định\n3.4,5\n", "c.csv")
    cmp = run_compare(bundle, card, alone)
    assert [(d.code, d.self_points, d.final_points) for d in cmp.differences] == [("3.4", D(6), D(5))]
    assert "3.4.1" in cmp.differences[0].draft and cmp.final_total == card.total.points - 1


# ------------------------------------------------------------------ bad appraisal files


@pytest.mark.parametrize("text, code, line, hint", [
    ("Mã,Điểm thẩm định\n3.4.1,2\n3.4.2,1\n", "unknown_code", 3, "did you mean"),
    ("Mã,Điểm thẩm định\n3.4.1,hai\n", "bad_points", 2, "number"),
    ("Mã,Điểm thẩm định\n3.4.1,4\n", "points_above_max", 2, "check"),
    ("Mã,Điểm thẩm định\n3.4.1,-1\n", "bad_points", 2, "0 or more"),
    ("Mã,Điểm thẩm định\n3.4.1,2\n3.4.1,3\n", "duplicate_code", 3, "one row"),
    ("Mã,Điểm thẩm định\n,2\n", "missing_code", 2, "merged"),
    ("Mã,Tiêu chí\n3.4.1,Tỷ lệ\n", "missing_column", 1, "Điểm thẩm định"),
    ("STT,Điểm\n1,2\n", "missing_column", None, "Mã"),
    ("code,round,points\n3.4.1,cuối,2\n", "bad_round", 2, "Lần 1"),
    ("Mã,Điểm,Điểm thẩm định\n3.4.1,2,2\n", "ambiguous_columns", 1, "Lần"),
    ("Mã,Lần 1,Lần 1\n3.4.1,2,2\n", "ambiguous_columns", 1, "round"),
    ("Mã,Điểm thẩm định\n3.4.1,\n", "no_points", None, "fill"),
])
def test_bad_csv(bundle: Any, card: Any, tmp_path: Path, text: str, code: str, line: int | None, hint: str) -> None:
    path = write_csv(tmp_path, text)
    found = problems(bundle, card, path)
    assert found[0].code == code and found[0].line == line and str(path) in (found[0].file or "")
    assert hint in (found[0].hint or ""), found[0].hint
    assert path.read_text(encoding="utf-8") == text


def test_all_row_problems_at_once_with_cells(bundle: Any, card: Any, tmp_path: Path) -> None:
    path = write_csv(tmp_path, "Mã,Điểm thẩm định lần 1,Điểm thẩm định lần 2\n3.4.1,2,x\n9.9,1,\n1.5,3,\n")
    found = problems(bundle, card, path)
    assert [(p.code, p.line, p.subject) for p in found] == [
        ("bad_points", 2, "dòng 2, cột 3"), ("unknown_code", 3, "dòng 3, cột 1"),
        ("points_above_max", 4, "dòng 4, cột 2")]


def test_not_utf8_and_unknown_format(bundle: Any, card: Any, tmp_path: Path) -> None:
    path = tmp_path / "cp1258.csv"
    path.write_bytes("Mã,Điểm\n3.4.1,2\n".encode("utf-16"))
    assert problems(bundle, card, path)[0].code == "not_utf8"
    ods = tmp_path / "tham-dinh.ods"
    ods.write_bytes(b"x")
    assert problems(bundle, card, ods)[0].code == "workbook_format"  # told to save it as .xlsx
    pdf = tmp_path / "tham-dinh.pdf"
    pdf.write_bytes(b"%PDF-1.4")
    assert problems(bundle, card, pdf)[0].code == "unsupported_format"
    assert problems(bundle, card, tmp_path / "none.csv")[0].code == "file_not_found"


def bad_xlsx(tmp: Path, rows: list[list[Any]], merge: str | None = None) -> Path:
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    ws.title = "TĐ"
    for row in rows:
        ws.append(row)
    if merge:
        ws.merge_cells(merge)
    path = tmp / "bad.xlsx"
    wb.save(path)
    return path


@pytest.mark.parametrize("rows, merge, code, subject", [
    ([["Mã", "Điểm thẩm định"], ["3.4.1", "=1+1"]], None, "formula_without_value", "TĐ!B2"),
    ([["Mã", "Điểm thẩm định"], ["3.4.1", 2], [None, 3]], "A2:A3", "missing_code", "TĐ!B3"),
    ([["Mã", "Điểm thẩm định"], ["3.4.1", "ba"]], None, "bad_points", "TĐ!B2"),
    ([["Mã", "Điểm thẩm định"], [3.41, 2]], None, "unknown_code", "TĐ!A2"),
])
def test_bad_xlsx(bundle: Any, card: Any, tmp_path: Path, rows: list[list[Any]], merge: str | None, code: str,
                  subject: str) -> None:
    path = bad_xlsx(tmp_path, rows, merge)
    before = path.read_bytes()
    found = problems(bundle, card, path)
    assert (found[0].code, found[0].subject) == (code, subject)
    assert path.read_bytes() == before


def test_xlsx_date_in_points_cell(bundle: Any, card: Any, tmp_path: Path) -> None:
    import datetime as dt

    found = problems(bundle, card, bad_xlsx(tmp_path, [["Mã", "Điểm thẩm định"], ["3.4.1", dt.date(2025, 2, 1)]]))
    assert found[0].code == "bad_points" and "Number" in (found[0].hint or "")


def test_cli_bad_appraisal_exit_2(capsys: Any, tmp_path: Path) -> None:
    path = write_csv(tmp_path, "Mã,Điểm thẩm định\n3.4.1,hai\n")
    rc = main(["compare", str(EVIDENCE), "--appraisal", str(path)])
    err = capsys.readouterr().err
    assert rc == 2 and "Traceback" not in err
    assert f"{path}:2: dòng 2, cột 2: bad_points" in err
    assert main(["compare", str(EVIDENCE), "--appraisal", str(path), "--sheet", "x"]) == 2  # csv: sheet ignored
    capsys.readouterr()
    rc = main(["compare", str(EVIDENCE)])
    assert rc == 2 and "--appraisal" in capsys.readouterr().err
