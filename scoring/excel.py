"""Excel in the Office's own formats.

* the evidence workbook: ``template`` (empty, for a clerk to fill), ``export`` (YAML → xlsx),
  :func:`read_evidence_workbook` (xlsx → :class:`EvidenceFile`, strict, errors name sheet and cell)
  and ``import-evidence`` (xlsx → YAML); YAML → xlsx → YAML gives the same evidence;
* the official self-scoring table (:func:`scorecard_xlsx`): leaves hold values, subtotals are real
  Excel formulas, plus a sheet of lost points;
* ``import-criteria``: a province's criteria table (code, title, maximum points) → a criteria file
  checked like any other, with a rules skeleton that ``parindex check`` reports as incomplete.

openpyxl is imported inside the functions so that ``parindex --help`` stays fast.
"""

from __future__ import annotations

import argparse
import datetime as dt
import io
import re
import sys
import tempfile
import unicodedata
import zipfile
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from fractions import Fraction
from pathlib import Path
from typing import Any, Iterable

import yaml

from .errors import DefinitionError, InputError, ParindexError, Problem, ProblemList, did_you_mean
from .evidence import (
    Claim,
    Document,
    EvidenceFile,
    LeafEvidence,
    ValueError_,
    parse_bool,
    parse_date,
    parse_value,
)
from .yamlio import dump_yaml, nfc, write_atomic

MAX_WORKBOOK_BYTES = 20 * 1024 * 1024
MAX_ROWS = 20_000
HEADER_SCAN_ROWS = 30

INSTRUCTIONS = "Hướng dẫn"
CLAIMS = "Thưởng - phạt"
FIELD_SHEET = "Lĩnh vực {code}"

#: Vietnamese label of each evidence value type, written in the "Kiểu giá trị" column.
TYPE_VI: dict[str, str] = {
    "rate": "tỷ lệ (%)", "count": "số nguyên", "number": "số", "score": "điểm số", "points": "điểm",
    "boolean": "có/không", "date": "ngày", "dated_items": "ngày (theo kỳ)",
}
_NUMERIC = ("rate", "count", "number", "score", "points")

FILL_INPUT = "FFF9E5"  # pale yellow: "type here"
FILL_HEAD = "DDEBF7"
FILL_FIELD = "E2EFDA"
RED = "C00000"


@dataclass(frozen=True)
class Col:
    key: str
    header: str
    width: float
    required: bool  # data-bearing: the workbook cannot be read without it


_DOC_COLS = [
    Col("doc_number", "Số hiệu văn bản", 17, True),
    Col("doc_date", "Ngày ban hành", 12, True),
    Col("doc_issuer", "Cơ quan ban hành", 22, True),
    Col("doc_title", "Trích yếu", 32, True),
    Col("doc_file", "Tệp đính kèm", 18, True),
]

EV_COLUMNS: list[Col] = [
    Col("code", "Mã", 8, True),
    Col("title", "Tiêu chí thành phần", 30, False),
    Col("name", "Tên số liệu", 16, True),
    Col("item", "Mục / kỳ", 12, True),
    Col("description", "Nội dung cần nhập", 40, False),
    Col("unit", "Đơn vị tính", 9, False),
    Col("type", "Kiểu giá trị", 11, True),
    Col("value", "Giá trị", 13, True),
    *_DOC_COLS,
    Col("na", "Không phát sinh", 10, True),
    Col("justification", "Giải trình không phát sinh", 30, True),
    Col("note", "Ghi chú", 24, True),
    Col("original", "Giá trị gốc (không sửa)", 10, False),
]

CLAIM_COLUMNS: list[Col] = [
    Col("kind", "Loại", 9, True),
    Col("id", "Mã mục", 24, True),
    Col("title", "Nội dung", 40, False),
    Col("count", "Số lần", 8, True),
    Col("note", "Ghi chú", 36, True),
    *_DOC_COLS,
]

INFO_LABELS: dict[str, str] = {
    "department": "Đơn vị",
    "year": "Năm đánh giá",
    "criteria_set": "Bộ tiêu chí",
    "prepared_by": "Người lập",
    "constructed_example": "Ví dụ dựng sẵn",
    "note": "Ghi chú chung",
}

EXTRA_ROWS = 5  # blank rows at the end of each field sheet for more documents


def _norm(text: Any) -> str:
    """Header text for matching: first line, NFC, case-folded, single spaces."""
    if text is None:
        return ""
    first = str(text).strip().split("\n")[0]
    return re.sub(r"\s+", " ", nfc(first)).strip().casefold()


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _where(path: str, sheet: str, coord: str | None = None) -> dict[str, Any]:
    return {"file": path, "subject": f"'{sheet}'!{coord}" if coord else f"'{sheet}'"}


# ====================================================================== writing the evidence workbook


@dataclass
class _Row:
    code: str
    name: str | None = None
    item: str | None = None
    type: str | None = None
    title: str | None = None
    description: str | None = None
    unit: str | None = None
    value: Any = None  # raw value as in the YAML
    has_value: bool = False
    doc: Document | None = None
    na: bool = False
    justification: str | None = None
    note: str | None = None
    first: bool = False


_MISSING = object()


def _original_text(raw: Any) -> str:
    """A YAML flow rendering of a raw value, read back by :func:`_original_value`."""
    if hasattr(raw, "raw") and isinstance(raw, float):
        raw = float(raw)
    return yaml.safe_dump([raw], default_flow_style=True, allow_unicode=True, width=10_000).strip()


def _original_value(text: str) -> Any:
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError:
        return _MISSING
    if isinstance(data, list) and len(data) == 1:
        return data[0]
    return _MISSING


def _cell_for(kind: str, raw: Any) -> tuple[Any, str | None]:
    """The typed cell value (and number format) that shows a raw evidence value."""
    parsed = parse_value(kind, raw)  # type: ignore[arg-type]
    if kind == "rate":
        pct = Fraction(parsed) * 100
        places = 0
        while places < 4 and (pct * 10 ** places).denominator != 1:
            places += 1
        return float(parsed), "0%" if places == 0 else "0." + "0" * places + "%"
    if kind == "count":
        return int(parsed), "#,##0"
    if kind in ("number", "score", "points"):
        frac = Fraction(parsed)
        return (frac.numerator if frac.denominator == 1 else float(frac)), "General"
    if kind == "boolean":
        return ("có" if parsed else "không"), None
    if kind == "date":
        return parsed, "DD/MM/YYYY"
    raise ValueError(kind)


def _same(kind: str, a: Any, b: Any) -> bool:
    """Do two raw values say the same thing once parsed (as far as a cell can tell)?"""
    try:
        pa, pb = parse_value(kind, a), parse_value(kind, b)  # type: ignore[arg-type]
    except ValueError_:
        return False
    if kind in _NUMERIC:
        return float(pa) == float(pb)
    return bool(pa == pb)


def _identical(a: Any, b: Any) -> bool:
    if isinstance(a, float) and isinstance(b, float):
        return a == b
    return type(a) is type(b) and a == b


def _leaf_rows(rule: Any, node: Any, leaf: LeafEvidence | None, target: str) -> list[_Row]:
    """Rows of one sub-criterion: one per evidence item (per label for dated items), then extra
    rows for documents that do not fit, keeping the documents' order."""
    r = rule.rule
    rows: list[_Row] = []
    for spec in r.evidence:
        base = {"code": r.code, "name": spec.name, "type": spec.type, "description": spec.description,
                "unit": spec.unit}
        if spec.type == "dated_items":
            given = leaf.values.get(spec.name, _MISSING) if leaf else _MISSING
            for item in getattr(r, "items", ()):
                raw = given.get(item.label, _MISSING) if isinstance(given, dict) else _MISSING
                rows.append(_Row(item=item.label, value=None if raw is _MISSING else raw,
                                 has_value=raw is not _MISSING, **base))
        else:
            raw = leaf.values.get(spec.name, _MISSING) if leaf else _MISSING
            rows.append(_Row(value=None if raw is _MISSING else raw, has_value=raw is not _MISSING, **base))
    first = rows[0]
    first.first = True
    first.title = f"{node.title}\n(tối đa {_pts(node.max_points)} điểm; mục tiêu: {target})"
    if leaf is not None:
        first.na, first.justification, first.note = leaf.not_applicable, leaf.justification, leaf.note
        slot = 0
        spill = False
        for doc in leaf.documents:
            if not spill:
                found = None
                for i in range(slot, len(rows)):
                    if rows[i].doc is None and rows[i].item == doc.item:
                        found = i
                        break
                if found is None:
                    spill = True
                else:
                    rows[found].doc = doc
                    slot = found + 1
                    continue
            rows.append(_Row(code=r.code, item=doc.item, doc=doc))
    return rows


def _pts(value: Decimal | Fraction | int | float) -> str:
    from .explain import pts

    return pts(Decimal(str(value)) if isinstance(value, float) else value)  # type: ignore[arg-type]


def _check_exportable(bundle: Any, ev: EvidenceFile) -> None:
    """Refuse evidence the workbook cannot hold, with the same problems ``score`` would report."""
    problems = ProblemList()
    index = bundle.criteria.index()
    for code, leaf in ev.evidence.items():
        where = {"file": ev.file, "line": leaf.line, "subject": code}
        rule = bundle.rules.get(code)
        if rule is None:
            msg = (f"'{code}' has sub-criteria; give evidence under them" if code in index
                   else f"no sub-criterion '{code}' in criteria set '{bundle.criteria.id}'")
            problems.add("unknown_code", msg, **where, hint=did_you_mean(code, bundle.rules))
            continue
        if leaf.computed or leaf.stated_values or leaf.dossiers:
            problems.add("computed_values", "values computed from dossiers cannot be exported",
                         **where, hint="remove 'computed:' and 'stated_values:' written by a tool, or export the "
                                       "file the values were typed in")
        specs = {s.name: s for s in rule.rule.evidence}
        for name, raw in leaf.values.items():
            w = {**where, "line": leaf.value_lines.get(name, leaf.line)}
            spec = specs.get(name)
            if spec is None:
                problems.add("unknown_evidence", f"'{code}' has no evidence named '{name}'", **w,
                             hint=did_you_mean(name, specs) or f"this rule reads: {', '.join(specs)}")
                continue
            if raw is None or raw == "":
                continue
            try:
                parsed = parse_value(spec.type, raw)
            except ValueError_ as exc:
                problems.add("bad_value", f"'{name}' ({spec.description}): {exc}", **w, hint=exc.hint)
                continue
            if spec.type == "dated_items":
                labels = [i.label for i in getattr(rule.rule, "items", ())]
                for label in parsed:
                    if label not in labels:
                        problems.add("unknown_item", f"'{code}' expects items {', '.join(labels)}; '{label}' is not one",
                                     **w, hint=did_you_mean(label, labels))
    for kind in ("bonus", "penalty"):
        for claim in getattr(ev, kind):
            if any(d.item for d in claim.documents):
                problems.add("unsupported", f"a document of {kind} item '{claim.id}' names an 'item'",
                             file=ev.file, line=claim.line, subject=kind,
                             hint="'item' only links a document to a dated item of a sub-criterion; remove it")
    if ev.warnings:
        problems.add("computed_values", "the evidence carries notes added by tools (warnings)", file=ev.file,
                     hint="remove 'warnings:' written by a tool, or export the file the values were typed in")
    problems.raise_if_any(InputError)


def evidence_workbook(bundle: Any, ev: EvidenceFile | None = None, department: str | None = None) -> bytes:
    """The evidence workbook for ``bundle``'s criteria set: empty (a template) or filled from ``ev``."""
    from openpyxl import Workbook

    if ev is not None:
        _check_exportable(bundle, ev)
        if ev.criteria_set != bundle.criteria.id:
            raise InputError(Problem("wrong_criteria_set",
                                     f"evidence is for criteria set '{ev.criteria_set}', but '{bundle.criteria.id}' is loaded",
                                     file=ev.file, hint=f"pass --criteria-set {ev.criteria_set}"))
    cset = bundle.criteria
    wb = Workbook()
    info = wb.active
    info.title = INSTRUCTIONS
    ids_range = _write_instructions(info, cset, ev, department)
    for fnode in cset.fields:
        ws = wb.create_sheet(FIELD_SHEET.format(code=fnode.code))
        _write_field_sheet(ws, bundle, fnode, ev)
    _write_claims_sheet(wb.create_sheet(CLAIMS), cset, ev, ids_range)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def _styles() -> dict[str, Any]:
    from openpyxl.styles import Alignment, Border, Font, PatternFill, Protection, Side

    thin = Side(style="thin", color="A6A6A6")
    return {
        "bold": Font(name="Times New Roman", bold=True, size=11),
        "title": Font(name="Times New Roman", bold=True, size=14),
        "normal": Font(name="Times New Roman", size=11),
        "red": Font(name="Times New Roman", italic=True, bold=True, size=11, color=RED),
        "grey": Font(name="Times New Roman", size=10, color="7F7F7F"),
        "ibold": Font(name="Times New Roman", italic=True, bold=True, size=11),
        "wrap": Alignment(wrap_text=True, vertical="top"),
        "left": Alignment(horizontal="left", wrap_text=True, vertical="top"),
        "center": Alignment(horizontal="center", vertical="center", wrap_text=True),
        "ctop": Alignment(horizontal="center", vertical="top", wrap_text=True),
        **{f"indent{i}": Alignment(wrap_text=True, vertical="top", indent=i) for i in range(6)},
        "border": Border(left=thin, right=thin, top=thin, bottom=thin),
        "top": Border(left=thin, right=thin, top=Side(style="medium", color="404040"), bottom=thin),
        "input": PatternFill("solid", fgColor=FILL_INPUT),
        "head": PatternFill("solid", fgColor=FILL_HEAD),
        "field": PatternFill("solid", fgColor=FILL_FIELD),
        "unlocked": Protection(locked=False),
        "_cache": {},
    }


def _look(cell: Any, st: dict[str, Any], *names: str, fmt: str | None = None) -> Any:
    """Give ``cell`` the named styles; each combination is built once and then copied, because
    openpyxl's per-cell style setters are slow (they hash every style each time)."""
    from copy import copy

    from openpyxl.styles import Alignment, Border, Font, PatternFill, Protection

    key = (names, fmt)
    cached = st["_cache"].get(key)
    if cached is not None:
        cell._style = copy(cached)
        return cell
    attr = {Font: "font", Border: "border", PatternFill: "fill", Alignment: "alignment", Protection: "protection"}
    for name in names:
        style = st[name]
        setattr(cell, attr[type(style)], style)
    if fmt is not None:
        cell.number_format = fmt
    st["_cache"][key] = copy(cell._style)
    return cell


def _protect(ws: Any) -> None:
    """Lock structure cells (no password: Review → Unprotect Sheet undoes it)."""
    p = ws.protection
    p.sheet = True
    p.formatColumns = False
    p.formatRows = False
    p.formatCells = False
    p.insertRows = False
    p.autoFilter = False
    p.sort = False


def _auto_height(ws: Any, row: int, min_lines: int = 1) -> None:
    """Set a row's height from its wrapped text: neither Excel nor LibreOffice grows rows of a
    generated file on opening."""
    import math

    from openpyxl.utils import get_column_letter

    lines = min_lines
    merged = {r.min_col: r for r in ws.merged_cells.ranges if r.min_row <= row <= r.max_row}
    for cell in ws[row]:
        if not isinstance(cell.value, str) or not cell.value or cell.value.startswith("="):
            continue
        span = merged.get(cell.column)
        cols = range(cell.column, (span.max_col if span else cell.column) + 1)
        width = sum(ws.column_dimensions[get_column_letter(c)].width or 9 for c in cols)
        size = (cell.font.sz or 11) if cell.font else 11
        chars = max(1.0, width * 1.3 * 11 / size)
        n = sum(max(1, math.ceil(len(part) / chars)) for part in cell.value.split("\n"))
        lines = max(lines, n)
    ws.row_dimensions[row].height = max(15.0, 13.5 * lines + 3)


def _write_instructions(ws: Any, cset: Any, ev: EvidenceFile | None, department: str | None) -> str:
    """Fill the instructions sheet; return the range holding the bonus/penalty ids (for a drop-down)."""
    from openpyxl.styles import Alignment
    from openpyxl.worksheet.datavalidation import DataValidation

    from .scorecard import ILLUSTRATIVE_NOTICE

    st = _styles()
    ws.column_dimensions["A"].width = 24
    ws.column_dimensions["B"].width = 60
    ws.column_dimensions["C"].width = 36
    ws.column_dimensions["D"].width = 10
    year = ev.year if ev else cset.year
    ws["A1"] = f"MẪU TÀI LIỆU KIỂM CHỨNG CHỈ SỐ CẢI CÁCH HÀNH CHÍNH NĂM {year}"
    ws["A1"].font = st["title"]
    ws["A2"] = f"{cset.title} [{cset.id}]"
    ws["A2"].font = st["normal"]
    values = {
        "department": ev.department if ev else (department or ""),
        "year": year,
        "criteria_set": cset.id,
        "prepared_by": ev.prepared_by if ev else None,
        "constructed_example": ("có" if ev.constructed_example else "không") if ev else "không",
        "note": ev.note if ev else None,
    }
    row = 4
    ws.cell(row=row - 1, column=1, value="THÔNG TIN CHUNG").font = st["bold"]
    yesno = DataValidation(type="list", formula1='"có,không"', allow_blank=True, showErrorMessage=True,
                           errorTitle="Có/không", error="Chọn 'có' hoặc 'không'.")
    ws.add_data_validation(yesno)
    for key, label in INFO_LABELS.items():
        a = ws.cell(row=row, column=1, value=label)
        a.font = st["bold"]
        a.border = st["border"]
        b = ws.cell(row=row, column=2, value=values[key])
        b.font, b.border, b.fill, b.protection = st["normal"], st["border"], st["input"], st["unlocked"]
        b.alignment = Alignment(horizontal="left", vertical="top", wrap_text=True)
        if key == "criteria_set":
            b.protection = st["unlocked"]
        if key == "constructed_example":
            yesno.add(b.coordinate)
        row += 1
    row += 1
    notices = []
    if cset.points_status == "illustrative":
        notices.append(f"LƯU Ý: {ILLUSTRATIVE_NOTICE}")
    if ev is not None and ev.constructed_example:
        notices.append("Số liệu trong tệp này là VÍ DỤ DỰNG SẴN, không phải số liệu thật của đơn vị.")
    for text in notices:
        c = ws.cell(row=row, column=1, value=text)
        c.font, c.alignment = st["red"], st["wrap"]
        ws.merge_cells(start_row=row, start_column=1, end_row=row, end_column=4)
        _auto_height(ws, row)
        row += 1
    row += 1
    ws.cell(row=row, column=1, value="CÁCH ĐIỀN").font = st["bold"]
    row += 1
    steps = [
        "Mỗi lĩnh vực một trang tính (Lĩnh vực 1, Lĩnh vực 2, …); mỗi dòng là một số liệu của một tiêu chí thành phần. "
        "Chỉ nhập vào các ô nền vàng.",
        "Cột «Giá trị»: tỷ lệ nhập 98% (hoặc 0,98); số nhập bằng chữ số (4900, không viết «bốn nghìn chín trăm»); "
        "ngày nhập dd/mm/yyyy, ví dụ 15/07/2025; ô có/không chọn «có» hoặc «không» trong danh sách.",
        "Dòng có cột «Mục / kỳ» (báo cáo quý I, 6 tháng…): nhập ngày gửi của từng kỳ; để trống nếu chưa gửi.",
        "Văn bản kiểm chứng (số hiệu, ngày ban hành, cơ quan ban hành, trích yếu, tệp) ghi trên dòng của số liệu mà văn bản "
        "chứng minh. Nhiều văn bản hơn số dòng: dùng các dòng trống cuối trang, ghi Mã tiêu chí, để trống «Tên số liệu» và "
        "«Giá trị» (ghi «Mục / kỳ» nếu văn bản chứng minh cho một kỳ).",
        "Tiêu chí không phát sinh trong năm: ghi «có» ở cột «Không phát sinh» và nêu lý do ở cột «Giải trình không phát sinh» "
        "(kèm văn bản nếu có), trên dòng đầu của tiêu chí.",
        "Không sửa các cột Mã, Tên số liệu, Mục / kỳ, Kiểu giá trị và dòng tiêu đề cột; không gộp ô (merge); không dùng công "
        "thức (=…) – nhập chính giá trị. Trang tính được khóa cấu trúc, không đặt mật khẩu (Review → Unprotect Sheet nếu cần).",
        "Điểm thưởng, điểm phạt: trang «Thưởng - phạt», mỗi dòng một mục theo danh mục dưới đây.",
        "Chấm điểm: parindex score tep.xlsx; giải thích điểm bị mất: parindex explain tep.xlsx; "
        "chuyển sang YAML: parindex import-evidence tep.xlsx -o tep.yaml.",
    ]
    for i, text in enumerate(steps, 1):
        label = ws.cell(row=row, column=1, value=f"Bước {i}")
        label.font, label.alignment = st["bold"], st["wrap"]
        c = ws.cell(row=row, column=2, value=text)
        c.font, c.alignment = st["normal"], st["wrap"]
        ws.merge_cells(start_row=row, start_column=2, end_row=row, end_column=4)
        _auto_height(ws, row)
        row += 1
    row += 1
    ws.cell(row=row, column=1, value="DANH MỤC ĐIỂM THƯỞNG, ĐIỂM PHẠT").font = st["bold"]
    row += 1
    for col, head in enumerate(("Loại", "Mã mục", "Nội dung", "Điểm"), 1):
        c = ws.cell(row=row, column=col, value=head)
        c.font, c.fill, c.border = st["bold"], st["head"], st["border"]
    row += 1
    first_id = row
    for kind, label in (("bonus", "thưởng"), ("penalty", "phạt")):
        adj = getattr(cset.adjustments, kind)
        for item in (adj.items if adj else ()):
            for col, val in enumerate((label, item.id, item.title, float(item.points)), 1):
                c = ws.cell(row=row, column=col, value=val)
                c.font, c.border, c.alignment = st["normal"], st["border"], st["wrap"]
            _auto_height(ws, row)
            row += 1
    ws.sheet_properties.tabColor = "2F5597"
    _page(ws, "A4")
    _protect(ws)
    return f"'{INSTRUCTIONS}'!$B${first_id}:$B${max(first_id, row - 1)}"


def _header_row(ws: Any, row: int, columns: list[Col], st: dict[str, Any]) -> None:
    from openpyxl.utils import get_column_letter

    for i, col in enumerate(columns, 1):
        c = ws.cell(row=row, column=i, value=col.header)
        c.font, c.fill, c.border, c.alignment = st["bold"], st["head"], st["border"], st["center"]
        ws.column_dimensions[get_column_letter(i)].width = col.width
    ws.row_dimensions[row].height = 32
    ws.freeze_panes = ws.cell(row=row + 1, column=1)


def _validations(ws: Any) -> dict[str, Any]:
    from openpyxl.worksheet.datavalidation import DataValidation

    def dv(**kw: Any) -> Any:
        v = DataValidation(allow_blank=True, showErrorMessage=True, errorStyle="stop", **kw)
        ws.add_data_validation(v)
        return v

    return {
        "count": dv(type="whole", operator="greaterThanOrEqual", formula1="0",
                    errorTitle="Số nguyên", error="Nhập số nguyên từ 0 trở lên, ví dụ 4900."),
        "number": dv(type="decimal", operator="greaterThanOrEqual", formula1="0",
                     errorTitle="Số", error="Nhập một số từ 0 trở lên, ví dụ 84,6."),
        "rate": dv(type="decimal", operator="between", formula1="0", formula2="1",
                   errorTitle="Tỷ lệ", error="Nhập tỷ lệ từ 0% đến 100%, ví dụ 98%."),
        "date": dv(type="date", operator="between", formula1="DATE(1990,1,1)", formula2="DATE(2100,12,31)",
                   errorTitle="Ngày", error="Nhập ngày dạng dd/mm/yyyy, ví dụ 15/07/2025."),
        "boolean": dv(type="list", formula1='"có,không"', errorTitle="Có/không", error="Chọn 'có' hoặc 'không'."),
    }


def _write_field_sheet(ws: Any, bundle: Any, fnode: Any, ev: EvidenceFile | None) -> None:
    from openpyxl.utils import get_column_letter

    from .scorecard import ILLUSTRATIVE_NOTICE

    st = _styles()
    cset = bundle.criteria
    ws["A1"] = f"LĨNH VỰC {fnode.code}. {fnode.title.upper()} (tối đa {_pts(fnode.max_points)} điểm)"
    ws["A1"].font = st["title"]
    ws["A2"] = ("Nhập vào các ô nền vàng. Không sửa các cột Mã, Tên số liệu, Mục / kỳ, Kiểu giá trị; không gộp ô; "
                "không dùng công thức.")
    ws["A2"].font = st["grey"]
    if cset.points_status == "illustrative":
        ws["A3"] = ILLUSTRATIVE_NOTICE
        ws["A3"].font = st["red"]
    head = 5
    _header_row(ws, head, EV_COLUMNS, st)
    col = {c.key: i for i, c in enumerate(EV_COLUMNS, 1)}
    ws.column_dimensions[get_column_letter(col["original"])].hidden = True
    dvs = _validations(ws)
    leaves = [n for n in cset.leaves() if n.code.split(".")[0] == fnode.code]
    row = head + 1
    for node in leaves:
        rule = bundle.rules[node.code]
        leaf = ev.evidence.get(node.code) if ev else None
        for r in _leaf_rows(rule, node, leaf, rule.target):
            _write_ev_row(ws, row, r, col, dvs, st)
            _auto_height(ws, row)
            row += 1
    ws.cell(row=row, column=col["title"],
            value="Dòng trống để bổ sung văn bản kiểm chứng (ghi Mã tiêu chí):").font = st["grey"]
    row += 1
    for _ in range(EXTRA_ROWS):
        for key in ("code", "name", "item", "value", "na", "justification", "note") + tuple(c.key for c in _DOC_COLS):
            fmt = "@" if key in ("code", "doc_number") else "DD/MM/YYYY" if key == "doc_date" else None
            _look(ws.cell(row=row, column=col[key]), st, "normal", "input", "border", "unlocked", fmt=fmt)
        dvs["date"].add(ws.cell(row=row, column=col["doc_date"]).coordinate)
        row += 1
    ws.print_title_rows = f"{head}:{head}"
    _page(ws, "A3")
    _protect(ws)


def _page(ws: Any, paper: str) -> None:
    """Landscape, as wide as one page, as many pages long as needed."""
    ws.page_setup.orientation = "landscape"
    ws.page_setup.paperSize = ws.PAPERSIZE_A3 if paper == "A3" else ws.PAPERSIZE_A4
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.page_margins.left = ws.page_margins.right = 0.4
    ws.page_margins.top = ws.page_margins.bottom = 0.5


def _write_ev_row(ws: Any, row: int, r: _Row, col: dict[str, int], dvs: dict[str, Any], st: dict[str, Any]) -> None:
    border = "top" if r.first else "border"

    def put(key: str, value: Any, editable: bool = False, fmt: str | None = None, font: str = "normal") -> Any:
        c = ws.cell(row=row, column=col[key], value=value)
        align = "center" if key in ("value", "doc_date", "na", "type", "unit", "item") else "wrap"
        names = (font, border, align) + (("input", "unlocked") if editable else ())
        return _look(c, st, *names, fmt=fmt)

    put("code", r.code, fmt="@", font="bold" if r.first else "normal")
    put("title", r.title)
    put("name", r.name, fmt="@", font="grey")
    put("item", r.item, fmt="@")
    put("description", r.description)
    put("unit", r.unit)
    put("type", TYPE_VI.get(r.type or "", None))
    # value cell: editable only on evidence rows (document-only rows have no value)
    if r.name is not None:
        kind = "date" if r.type == "dated_items" else r.type or "number"
        cell_value, fmt = None, {"rate": "0.0%", "count": "#,##0", "date": "DD/MM/YYYY"}.get(kind)
        original = None
        if r.has_value and not _blank(r.value):
            cell_value, fmt = _cell_for(kind, r.value)
            if not _identical(_canonical(kind, cell_value, fmt), r.value):
                original = _original_text(r.value)
        elif r.has_value:
            original = _original_text(r.value)  # present but empty in the YAML (null / "")
        c = put("value", cell_value, editable=True, fmt=fmt)
        dvs["number" if kind in ("number", "score", "points") else kind].add(c.coordinate)
        put("original", original, font="grey")
    else:
        put("value", None)
        put("original", None)
    d = r.doc
    put("doc_number", d.number if d else None, editable=True, fmt="@")
    dc = put("doc_date", d.date if d else None, editable=True, fmt="DD/MM/YYYY")
    dvs["date"].add(dc.coordinate)
    put("doc_issuer", d.issuer if d else None, editable=True)
    put("doc_title", d.title if d else None, editable=True)
    put("doc_file", d.file if d else None, editable=True)
    if r.first:
        na = put("na", "có" if r.na else None, editable=True)
        dvs["boolean"].add(na.coordinate)
        put("justification", r.justification, editable=True)
        put("note", r.note, editable=True)
    else:
        for key in ("na", "justification", "note"):
            put(key, None)


def _write_claims_sheet(ws: Any, cset: Any, ev: EvidenceFile | None, ids_range: str) -> None:
    from openpyxl.worksheet.datavalidation import DataValidation

    st = _styles()
    ws["A1"] = "ĐIỂM THƯỞNG, ĐIỂM PHẠT"
    ws["A1"].font = st["title"]
    ws["A2"] = ("Mỗi dòng một mục: Loại (thưởng/phạt), Mã mục theo danh mục ở trang Hướng dẫn, số lần, ghi chú và văn bản. "
                "Văn bản thứ hai trở đi của cùng mục: dòng tiếp theo, để trống Loại và Mã mục.")
    ws["A2"].font = st["grey"]
    head = 4
    _header_row(ws, head, CLAIM_COLUMNS, st)
    col = {c.key: i for i, c in enumerate(CLAIM_COLUMNS, 1)}
    titles: dict[str, str] = {}
    for kind in ("bonus", "penalty"):
        adj = getattr(cset.adjustments, kind)
        titles.update({i.id: i.title for i in (adj.items if adj else ())})
    kinds = DataValidation(type="list", formula1='"thưởng,phạt"', allow_blank=True, showErrorMessage=True,
                           errorTitle="Loại", error="Chọn 'thưởng' hoặc 'phạt'.")
    counts = DataValidation(type="whole", operator="greaterThanOrEqual", formula1="1", allow_blank=True,
                            showErrorMessage=True, errorTitle="Số lần", error="Nhập số nguyên từ 1 trở lên.")
    dates = DataValidation(type="date", operator="between", formula1="DATE(1990,1,1)", formula2="DATE(2100,12,31)",
                           allow_blank=True, showErrorMessage=True, errorTitle="Ngày",
                           error="Nhập ngày dạng dd/mm/yyyy, ví dụ 15/07/2025.")
    ids = DataValidation(type="list", formula1=ids_range, allow_blank=True, showErrorMessage=False)
    for v in (kinds, counts, dates, ids):
        ws.add_data_validation(v)
    rows: list[tuple[str | None, Claim | None, Document | None]] = []
    for kind, label in (("bonus", "thưởng"), ("penalty", "phạt")):
        for claim in (getattr(ev, kind) if ev else ()):
            docs = list(claim.documents) or [None]
            rows.append((label, claim, docs[0]))
            rows.extend((None, None, d) for d in docs[1:])
    rows.extend([(None, None, None)] * 15)
    for i, (label, claim, doc) in enumerate(rows):
        row = head + 1 + i
        values = {
            "kind": label, "id": claim.id if claim else None,
            "title": titles.get(claim.id) if claim else None,
            "count": claim.count if claim else None, "note": claim.note if claim else None,
            "doc_number": doc.number if doc else None, "doc_date": doc.date if doc else None,
            "doc_issuer": doc.issuer if doc else None, "doc_title": doc.title if doc else None,
            "doc_file": doc.file if doc else None,
        }
        for key, value in values.items():
            c = ws.cell(row=row, column=col[key], value=value)
            names = ("normal", "border", "wrap") + (("input", "unlocked") if key != "title" else ())
            fmt = "@" if key in ("id", "doc_number") else "DD/MM/YYYY" if key == "doc_date" else None
            _look(c, st, *names, fmt=fmt)
        kinds.add(ws.cell(row=row, column=col["kind"]).coordinate)
        counts.add(ws.cell(row=row, column=col["count"]).coordinate)
        dates.add(ws.cell(row=row, column=col["doc_date"]).coordinate)
        ids.add(ws.cell(row=row, column=col["id"]).coordinate)
        _auto_height(ws, row)
    ws.print_title_rows = f"{head}:{head}"
    _page(ws, "A4")
    _protect(ws)


# ====================================================================== reading the evidence workbook


class _Reader:
    """Reads one workbook, collecting every problem with its sheet and cell."""

    def __init__(self, path: Path, formulas: Any):
        self.path = path
        self.name = str(path)
        self.wb = formulas
        self.problems = ProblemList()

    def add(self, code: str, message: str, sheet: str, coord: str | None = None, hint: str | None = None) -> None:
        self.problems.add(code, message, **_where(self.name, sheet, coord), hint=hint)

    # ---------------------------------------------------------------- structure

    def header(self, ws: Any, columns: list[Col], what: str) -> tuple[int, dict[str, int]] | None:
        """Find the header row by its texts (columns may have moved) and say which headers are missing."""
        known = {_norm(c.header): c.key for c in columns}
        best: tuple[int, dict[str, int]] | None = None
        for row in ws.iter_rows(min_row=1, max_row=min(ws.max_row, HEADER_SCAN_ROWS)):
            found: dict[str, int] = {}
            for cell in row:
                key = known.get(_norm(cell.value)) if isinstance(cell.value, str) else None
                if key is not None:
                    if key in found:
                        self.add("duplicate_column", f"cột tiêu đề '{cell.value}' xuất hiện hai lần (duplicate header)",
                                 ws.title, cell.coordinate, hint="xóa một cột hoặc đổi lại tiêu đề như mẫu")
                    found[key] = cell.column
            if found and (best is None or len(found) > len(best[1])):
                best = (row[0].row, found)
        if best is None or len(best[1]) < 3:
            self.add("no_header_row", f"không tìm thấy dòng tiêu đề cột của {what} (header row not found)",
                     ws.title, hint="các cột cần có tiêu đề: " + ", ".join(f"'{c.header}'" for c in columns if c.required)
                     + "; tạo lại tệp mẫu bằng 'parindex template' và chép số liệu sang")
            return None
        head, found = best
        missing = [c for c in columns if c.required and c.key not in found]
        for c in missing:
            self.add("missing_column", f"thiếu cột '{c.header}' ở dòng tiêu đề {head} (column deleted or renamed)",
                     ws.title, f"{head}:{head}", hint=f"thêm lại cột có tiêu đề đúng '{c.header}' (vị trí cột không quan trọng)")
        return (head, found) if not missing else None

    def merged(self, ws: Any, head: int) -> None:
        for rng in ws.merged_cells.ranges:
            if rng.max_row > head:
                self.add("merged_cells", f"các ô {rng.coord} bị gộp (merged) trong vùng số liệu",
                         ws.title, rng.coord.split(":")[0],
                         hint="bỏ gộp ô (Home → Merge & Center → Unmerge) và ghi giá trị vào từng ô")

    def cell(self, ws: Any, row: int, col: int | None) -> Any:
        """The cell's value, or None; a formula is reported and read as None."""
        if col is None:
            return None
        c = ws.cell(row=row, column=col)
        if c.data_type == "f" or (isinstance(c.value, str) and c.value.startswith("=")):
            formula = c.value if isinstance(c.value, str) else getattr(c.value, "text", "công thức")
            self.add("formula", f"ô chứa công thức {formula!s:.40} thay vì giá trị (formula instead of a value)",
                     ws.title, c.coordinate, hint="nhập chính giá trị, hoặc Copy → Paste Special → Values")
            return None
        value = c.value
        if isinstance(value, str):
            value = nfc(value)
            if not value.strip():
                return None
        return value

    def fmt(self, ws: Any, row: int, col: int) -> str:
        return str(ws.cell(row=row, column=col).number_format or "")

    # ---------------------------------------------------------------- values

    def text(self, value: Any) -> str | None:
        if value is None:
            return None
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        if isinstance(value, (dt.datetime, dt.date)):
            return value.strftime("%d/%m/%Y")
        return str(value)

    def date(self, ws: Any, row: int, col: int, value: Any) -> dt.date | None:
        if value is None:
            return None
        coord = ws.cell(row=row, column=col).coordinate
        if isinstance(value, dt.datetime):
            return value.date()
        if isinstance(value, dt.date):
            return value
        if isinstance(value, str):
            try:
                return parse_date(value)
            except ValueError_ as exc:
                self.add("bad_date", f"'{value}' không phải ngày hợp lệ ({exc})", ws.title, coord,
                         hint="nhập ngày dạng dd/mm/yyyy, ví dụ 15/07/2025")
                return None
        self.add("bad_date", f"ô ngày chứa số {value}, không phải ngày (a number in a date cell)", ws.title, coord,
                 hint="định dạng ô là Date (dd/mm/yyyy) và nhập lại, ví dụ 15/07/2025")
        return None

    def raw_value(self, ws: Any, row: int, col: int, kind: str, value: Any, label: str) -> Any:
        """The raw evidence value a cell holds (as a clerk would write it in YAML), checked by type."""
        coord = ws.cell(row=row, column=col).coordinate
        fmt = self.fmt(ws, row, col)
        raw: Any = value
        if kind == "date":
            if isinstance(value, (int, float)) and not isinstance(value, bool):
                self.add("bad_value", f"{label}: ô ngày chứa số {value}, không phải ngày", ws.title, coord,
                         hint="định dạng ô là Date (dd/mm/yyyy) và nhập lại, ví dụ 15/07/2025")
                return _MISSING
            if isinstance(value, (dt.datetime, dt.date)):
                raw = value.strftime("%d/%m/%Y")
        elif kind in _NUMERIC:
            if isinstance(value, bool):
                raw = value
            elif isinstance(value, (dt.datetime, dt.date)):
                self.add("bad_value", f"{label}: ô số chứa ngày {value:%d/%m/%Y}", ws.title, coord,
                         hint="định dạng ô là Number và nhập lại số")
                return _MISSING
            elif kind == "rate" and isinstance(value, (int, float)) and "%" in fmt:
                pct = (Decimal(repr(value)) * 100).normalize()
                text = format(pct, "f")
                raw = text.replace(".", ",") + "%"
            elif kind == "count" and isinstance(value, float) and value.is_integer():
                raw = int(value)
        elif kind == "boolean" and isinstance(value, str):
            raw = value.strip()
        try:
            parse_value(kind, raw)  # type: ignore[arg-type]
        except ValueError_ as exc:
            what = "chữ trong ô số (text in a number cell)" if isinstance(value, str) and kind in _NUMERIC else "giá trị không hợp lệ"
            self.add("bad_value", f"{label}: {what}: {exc}", ws.title, coord,
                     hint=exc.hint or "sửa lại giá trị theo kiểu của cột 'Kiểu giá trị'")
            return _MISSING
        return raw


def _canonical(kind: str, cell_value: Any, fmt: str | None) -> Any:
    """What the reader makes of a cell the writer filled (used to decide whether to keep the original)."""
    if cell_value is None:
        return None
    if kind == "date" and isinstance(cell_value, (dt.date, dt.datetime)):
        return cell_value.strftime("%d/%m/%Y")
    if kind == "rate" and fmt and "%" in fmt:
        pct = (Decimal(repr(float(cell_value))) * 100).normalize()
        return format(pct, "f").replace(".", ",") + "%"
    return cell_value


def _default_bundle(set_id: str, criteria_dir: Any = None, rules_dir: Any = None) -> Any:
    """The bundle that types and names are checked against, or None when it cannot be loaded."""
    from .rules import available_sets, default_dirs, load_bundle

    if criteria_dir is None and rules_dir is None:
        if set_id not in available_sets(default_dirs()[0]):
            return None
        try:
            return load_bundle(set_id=set_id)
        except ParindexError:
            return None
    return load_bundle(criteria_dir, rules_dir, set_id)


def open_workbook(data: bytes, name: str, data_only: bool) -> Any:
    """Open workbook bytes with openpyxl; a damaged or non-xlsx file is bad input, said in words."""
    from openpyxl import load_workbook

    try:
        return load_workbook(io.BytesIO(data), data_only=data_only)
    except Exception:  # noqa: BLE001 - zip/XML errors of a damaged, renamed or non-xlsx file
        kind = "a zip archive that is not a workbook" if data[:4] == b"PK\x03\x04" else "not a zip archive"
        raise InputError(Problem(
            "unreadable_workbook",
            f"tệp không phải bảng tính Excel (.xlsx) hoặc đã bị hỏng (not an .xlsx workbook: {kind})",
            file=name, hint="mở tệp bằng Excel và lưu lại dạng Excel Workbook (.xlsx)")) from None


def read_evidence_workbook(path: Path | str, bundle: Any = None, criteria_dir: Any = None,
                           rules_dir: Any = None) -> EvidenceFile:
    """Read a filled evidence workbook strictly; the workbook is never modified.

    Columns are found by their header text. Every problem (missing column, merged cells, formula,
    text in a number cell, unknown code or evidence name) is reported with its sheet and cell.
    Codes and evidence names are checked against ``bundle`` (default: the criteria set named in the
    workbook, from ``criteria_dir``/``rules_dir`` or the bundled folders, when it loads).
    """

    path = Path(path)
    name = str(path)
    if not path.is_file():
        raise InputError(Problem("file_not_found", f"evidence workbook '{name}' does not exist", file=name,
                                 hint="kiểm tra lại đường dẫn và tên tệp (check the path and spelling)"))
    size = path.stat().st_size
    if size > MAX_WORKBOOK_BYTES:
        raise InputError(Problem("file_too_large", f"workbook is {size:,} bytes; the limit is {MAX_WORKBOOK_BYTES:,}",
                                 file=name))
    data = path.read_bytes()  # read once: the file itself is never opened for writing
    wb = open_workbook(data, name, data_only=False)
    rd = _Reader(path, wb)
    if INSTRUCTIONS not in wb.sheetnames:
        raise InputError(Problem("not_an_evidence_workbook",
                                 f"không có trang tính '{INSTRUCTIONS}' (this is not a parindex evidence workbook)",
                                 file=name, hint="tạo tệp mẫu bằng 'parindex template -o tep.xlsx' rồi chép số liệu sang"))
    info = _read_info(rd, wb[INSTRUCTIONS])
    rd.problems.raise_if_any(InputError)
    if bundle is None:
        bundle = _default_bundle(info["criteria_set"], criteria_dir, rules_dir)
    evidence: dict[str, LeafEvidence] = {}
    seen_codes: dict[str, str] = {}
    for ws in wb.worksheets:
        if ws.title in (INSTRUCTIONS, CLAIMS):
            continue
        is_field = _norm(ws.title).startswith(_norm("Lĩnh vực"))
        if not is_field:
            probe = _Reader(path, wb)
            if probe.header(ws, EV_COLUMNS, "trang số liệu") is None:
                continue  # a sheet of the Office's own (notes, drafts): not evidence
        _read_field_sheet(rd, ws, bundle, evidence, seen_codes)
    bonus: list[Claim] = []
    penalty: list[Claim] = []
    if CLAIMS in wb.sheetnames:
        _read_claims(rd, wb[CLAIMS], bundle, bonus, penalty)
    rd.problems.raise_if_any(InputError)
    ordered = evidence
    if bundle is not None:
        order = {code: i for i, code in enumerate(bundle.rules)}
        ordered = dict(sorted(evidence.items(), key=lambda kv: order.get(kv[0], len(order))))
    return EvidenceFile(department=info["department"], year=info["year"], criteria_set=info["criteria_set"],
                        constructed_example=info["constructed_example"], prepared_by=info["prepared_by"],
                        note=info["note"], evidence=ordered, bonus=tuple(bonus), penalty=tuple(penalty),
                        file=name)


def _read_info(rd: _Reader, ws: Any) -> dict[str, Any]:
    labels = {_norm(v): k for k, v in INFO_LABELS.items()}
    where: dict[str, tuple[int, int]] = {}
    for row in ws.iter_rows(min_row=1, max_row=min(ws.max_row, 60)):
        for c in row:
            key = labels.get(_norm(c.value)) if isinstance(c.value, str) else None
            if key is not None and key not in where:
                where[key] = (c.row, c.column + 1)
    out: dict[str, Any] = {"prepared_by": None, "note": None, "constructed_example": False}
    for key, label in INFO_LABELS.items():
        if key not in where:
            if key in ("department", "year", "criteria_set"):
                rd.add("missing_label", f"không tìm thấy ô '{label}' (label not found)", ws.title,
                       hint=f"ghi lại nhãn '{label}' ở một ô và giá trị ở ô bên phải (như tệp mẫu)")
            continue
        row, col = where[key]
        value = rd.cell(ws, row, col)
        coord = ws.cell(row=row, column=col).coordinate
        if key in ("department", "criteria_set"):
            if value is None:
                rd.add("missing_value", f"ô '{label}' đang trống", ws.title, coord,
                       hint="ghi tên đơn vị, ví dụ Sở Tư pháp tỉnh Lạng Sơn" if key == "department"
                       else "ghi mã bộ tiêu chí, ví dụ cap-so-2025")
            else:
                out[key] = str(value).strip()
        elif key == "year":
            try:
                year = int(value) if isinstance(value, (int, float)) and float(value).is_integer() else int(str(value).strip())
                if not 1990 <= year <= 2100:
                    raise ValueError
                out["year"] = year
            except (TypeError, ValueError):
                rd.add("bad_value", f"'{label}' phải là năm, ví dụ 2025 (got {value!r})", ws.title, coord,
                       hint="nhập năm bằng 4 chữ số")
        elif key == "constructed_example":
            if value is not None:
                try:
                    out[key] = parse_bool(value)
                except ValueError_ as exc:
                    rd.add("bad_value", f"'{label}': {exc}", ws.title, coord, hint="chọn 'có' hoặc 'không'")
        else:
            out[key] = None if value is None else str(value)
    return out


def _read_field_sheet(rd: _Reader, ws: Any, bundle: Any, evidence: dict[str, LeafEvidence],
                      seen_codes: dict[str, str]) -> None:
    found = rd.header(ws, EV_COLUMNS, "trang số liệu")
    if found is None:
        return
    head, col = found
    rd.merged(ws, head)
    if ws.max_row > MAX_ROWS:
        rd.add("too_many_rows", f"trang có {ws.max_row} dòng; giới hạn {MAX_ROWS}", ws.title,
               hint="xóa các dòng thừa ở cuối trang (Ctrl+End cho biết ô cuối cùng Excel còn giữ)")
        return
    data_keys = ["code", "name", "item", "value", "na", "justification", "note"] + [c.key for c in _DOC_COLS]
    types_vi = {_norm(v): k for k, v in TYPE_VI.items()}
    per_code: dict[str, dict[str, Any]] = {}
    for row in range(head + 1, ws.max_row + 1):
        cells = {k: rd.cell(ws, row, col.get(k)) for k in data_keys}
        if all(v is None for v in cells.values()):
            continue

        def coord(key: str) -> str:
            return ws.cell(row=row, column=col[key]).coordinate

        code_v = cells["code"]
        if code_v is None:
            rd.add("missing_code", "dòng có số liệu nhưng thiếu Mã tiêu chí (row without a code)", ws.title, coord("code"),
                   hint="ghi mã tiêu chí thành phần, ví dụ 3.4.1, hoặc xóa nội dung dòng này")
            continue
        if isinstance(code_v, (int, float)) and not isinstance(code_v, bool):
            rd.add("code_is_number", f"mã {code_v} được lưu dạng số nên có thể sai (1.10 thành 1.1)", ws.title, coord("code"),
                   hint="định dạng ô là Text rồi nhập lại mã, hoặc gõ dấu ' trước mã: '1.10")
            continue
        code = str(code_v).strip()
        if bundle is not None and code not in bundle.rules:
            index = bundle.criteria.index()
            msg = (f"'{code}' có tiêu chí thành phần; ghi số liệu vào từng tiêu chí thành phần" if code in index
                   else f"không có tiêu chí thành phần '{code}' trong bộ tiêu chí '{bundle.criteria.id}' (unknown code)")
            rd.add("unknown_code", msg, ws.title, coord("code"),
                   hint=did_you_mean(code, bundle.rules) if code not in index
                   else ", ".join(c.code for c in index[code].children))
            continue
        if code in seen_codes and seen_codes[code] != ws.title:
            rd.add("duplicate_code", f"mã '{code}' đã có ở trang '{seen_codes[code]}'", ws.title, coord("code"),
                   hint="ghi mỗi tiêu chí ở một trang")
            continue
        seen_codes[code] = ws.title
        acc = per_code.setdefault(code, {"values": {}, "docs": [], "na": [], "justification": [], "note": [],
                                         "rows": {}})
        rule = bundle.rules[code].rule if bundle is not None else None
        specs = {s.name: s for s in rule.evidence} if rule is not None else {}
        name = cells["name"]
        item = rd.text(cells["item"])
        if name is not None:
            name = str(name).strip()
            if rule is not None and name not in specs:
                rd.add("unknown_evidence", f"'{code}' không có số liệu tên '{name}' (unknown evidence name)", ws.title,
                       coord("name"), hint=did_you_mean(name, specs) or f"tiêu chí này đọc: {', '.join(specs)}")
                continue
            if rule is not None:
                kind = specs[name].type
            else:
                kind = types_vi.get(_norm(rd.cell(ws, row, col["type"])))
                if kind is None:
                    rd.add("unknown_type", f"không rõ kiểu giá trị '{rd.cell(ws, row, col['type'])}'", ws.title,
                           coord("type"), hint="dùng một trong: " + ", ".join(TYPE_VI.values()))
                    continue
            if kind == "dated_items":
                labels = [i.label for i in getattr(rule, "items", ())] if rule is not None else None
                if item is None:
                    rd.add("missing_item", f"số liệu '{name}' theo kỳ cần ghi 'Mục / kỳ'", ws.title, coord("item"),
                           hint="ghi tên kỳ như trong mẫu, ví dụ Quý I")
                    continue
                if labels is not None and item not in labels:
                    rd.add("unknown_item", f"'{code}' có các kỳ {', '.join(labels)}; '{item}' không có trong đó",
                           ws.title, coord("item"), hint=did_you_mean(item, labels))
                    continue
                key = (name, item)
            else:
                key = (name, None)
            if key in acc["rows"]:
                rd.add("duplicate_row", f"số liệu '{name}'{' – ' + item if item else ''} của '{code}' ghi hai lần "
                       f"(đã có ở dòng {acc['rows'][key]})", ws.title, coord("name"), hint="giữ một dòng")
                continue
            acc["rows"][key] = row
            value = cells["value"]
            original = rd.cell(ws, row, col["original"]) if "original" in col else None
            label = f"{code} '{name}'" + (f" – {item}" if item else "")
            cell_kind = "date" if kind == "dated_items" else kind
            raw: Any = _MISSING
            if value is not None:
                raw = rd.raw_value(ws, row, col["value"], cell_kind, value, label)
                if raw is not _MISSING and isinstance(original, str):
                    orig = _original_value(original)
                    if orig is not _MISSING and orig is not None and _same(cell_kind, orig, raw):
                        raw = orig
            elif isinstance(original, str) and _original_value(original) in (None, ""):
                raw = _original_value(original)  # written as empty in the YAML, kept as such
            if raw is not _MISSING:
                if kind == "dated_items":
                    acc["values"].setdefault(name, {})[item] = raw
                else:
                    acc["values"][name] = raw
        elif cells["value"] is not None:
            rd.add("value_without_name", "ô Giá trị có số liệu nhưng dòng không có 'Tên số liệu'", ws.title,
                   coord("value"), hint="dòng bổ sung chỉ ghi văn bản; ghi số liệu vào dòng có sẵn của tiêu chí")
            continue
        doc_cells = {k: cells[k] for k in ("doc_number", "doc_date", "doc_issuer", "doc_title", "doc_file")}
        if any(v is not None for v in doc_cells.values()):
            date = rd.date(ws, row, col["doc_date"], doc_cells["doc_date"])
            doc_item = item if (name is None or (rule is not None and specs[name].type == "dated_items")
                                or (rule is None and item is not None)) else None
            acc["docs"].append(Document(number=rd.text(doc_cells["doc_number"]), date=date,
                                        issuer=rd.text(doc_cells["doc_issuer"]), title=rd.text(doc_cells["doc_title"]),
                                        file=rd.text(doc_cells["doc_file"]), item=doc_item))
        if cells["na"] is not None:
            try:
                acc["na"].append((parse_bool(cells["na"]), coord("na")))
            except ValueError_:
                rd.add("bad_value", f"'Không phát sinh' phải là 'có' hoặc để trống (got '{cells['na']}')", ws.title,
                       coord("na"), hint="chọn 'có' nếu tiêu chí không phát sinh trong năm")
        for key in ("justification", "note"):
            if cells[key] is not None:
                acc[key].append((rd.text(cells[key]), coord(key)))
    for code, acc in per_code.items():
        leaf_fields: dict[str, Any] = {}
        for key in ("na", "justification", "note"):
            distinct = {v for v, _ in acc[key]}
            if len(distinct) > 1:
                rd.add("conflicting_cells", f"'{code}': cột '{_header_of(key)}' ghi khác nhau ở nhiều dòng",
                       ws.title, acc[key][1][1], hint="chỉ ghi một lần, trên dòng đầu của tiêu chí")
            if distinct:
                leaf_fields[key] = acc[key][0][0]
        leaf = LeafEvidence(values=acc["values"], documents=tuple(acc["docs"]),
                            not_applicable=bool(leaf_fields.get("na", False)),
                            justification=leaf_fields.get("justification"), note=leaf_fields.get("note"))
        if leaf.values or leaf.documents or leaf.not_applicable or leaf.justification or leaf.note:
            evidence[code] = leaf


def _header_of(key: str) -> str:
    return next(c.header for c in EV_COLUMNS if c.key == key)


_KIND_WORDS = {"thưởng": "bonus", "thuong": "bonus", "bonus": "bonus", "điểm thưởng": "bonus",
               "phạt": "penalty", "phat": "penalty", "penalty": "penalty", "điểm phạt": "penalty"}


def _read_claims(rd: _Reader, ws: Any, bundle: Any, bonus: list[Claim], penalty: list[Claim]) -> None:
    found = rd.header(ws, CLAIM_COLUMNS, "trang thưởng - phạt")
    if found is None:
        return
    head, col = found
    rd.merged(ws, head)
    catalogue: dict[str, list[str]] = {"bonus": [], "penalty": []}
    if bundle is not None:
        for kind in catalogue:
            adj = getattr(bundle.criteria.adjustments, kind)
            catalogue[kind] = [i.id for i in (adj.items if adj else ())]
    current: dict[str, Any] | None = None
    pending: list[tuple[str, dict[str, Any]]] = []
    keys = ["kind", "id", "count", "note"] + [c.key for c in _DOC_COLS]
    for row in range(head + 1, min(ws.max_row, MAX_ROWS) + 1):
        cells = {k: rd.cell(ws, row, col.get(k)) for k in keys}
        if all(v is None for v in cells.values()):
            continue

        def coord(key: str) -> str:
            return ws.cell(row=row, column=col[key]).coordinate

        doc = None
        if any(cells[c.key] is not None for c in _DOC_COLS):
            doc = Document(number=rd.text(cells["doc_number"]), date=rd.date(ws, row, col["doc_date"], cells["doc_date"]),
                           issuer=rd.text(cells["doc_issuer"]), title=rd.text(cells["doc_title"]),
                           file=rd.text(cells["doc_file"]))
        if cells["kind"] is None and cells["id"] is None:
            if current is None or cells["count"] is not None or cells["note"] is not None:
                rd.add("missing_value", "dòng thiếu 'Loại' và 'Mã mục'", ws.title, coord("kind"),
                       hint="ghi Loại (thưởng/phạt) và Mã mục; dòng chỉ có văn bản phải nằm ngay dưới mục của nó")
                continue
            if doc is not None:
                current["documents"].append(doc)
            continue
        kind = _KIND_WORDS.get(_norm(cells["kind"])) if cells["kind"] is not None else None
        if kind is None:
            rd.add("bad_value", f"'Loại' phải là 'thưởng' hoặc 'phạt' (got '{cells['kind']}')", ws.title, coord("kind"),
                   hint="chọn trong danh sách")
            current = None
            continue
        if cells["id"] is None:
            rd.add("missing_value", "thiếu 'Mã mục'", ws.title, coord("id"), hint="chọn mã trong danh mục ở trang Hướng dẫn")
            current = None
            continue
        claim_id = str(cells["id"]).strip()
        if bundle is not None and claim_id not in catalogue[kind]:
            rd.add("unknown_adjustment", f"mục {('thưởng' if kind == 'bonus' else 'phạt')} '{claim_id}' không có trong danh mục",
                   ws.title, coord("id"), hint=did_you_mean(claim_id, catalogue[kind])
                   or (f"các mã: {', '.join(catalogue[kind])}" if catalogue[kind] else "bộ tiêu chí không có mục này"))
            current = None
            continue
        count = 1
        if cells["count"] is not None:
            c = cells["count"]
            if isinstance(c, (int, float)) and not isinstance(c, bool) and float(c).is_integer() and c >= 1:
                count = int(c)
            elif isinstance(c, str) and c.strip().isdigit() and int(c) >= 1:
                count = int(c)
            else:
                rd.add("bad_value", f"'Số lần' phải là số nguyên từ 1 trở lên (got '{c}')", ws.title, coord("count"),
                       hint="nhập 1, 2, …")
                current = None
                continue
        current = {"id": claim_id, "count": count, "note": rd.text(cells["note"]), "documents": [doc] if doc else []}
        pending.append((kind, current))
    for kind, data in pending:
        (bonus if kind == "bonus" else penalty).append(Claim(id=data["id"], count=data["count"], note=data["note"],
                                                             documents=tuple(data["documents"])))


# ====================================================================== evidence → YAML


def evidence_yaml(ev: EvidenceFile, source: str | None = None) -> str:
    """The evidence as YAML text in the layout of the bundled sample (round-trips through load_evidence)."""
    head = [f"# Tài liệu kiểm chứng – {ev.department}, năm {ev.year}"]
    if source:
        head.append(f"# Chuyển từ {source} bằng 'parindex import-evidence'.")
    if ev.constructed_example:
        head.append("# VÍ DỤ DỰNG SẴN (constructed example): số liệu giả định để minh họa, không phải số liệu thật.")
    data: dict[str, Any] = {"department": ev.department, "year": ev.year, "criteria_set": ev.criteria_set,
                            "constructed_example": ev.constructed_example}
    if ev.prepared_by is not None:
        data["prepared_by"] = ev.prepared_by
    if ev.note is not None:
        data["note"] = ev.note
    evidence: dict[str, Any] = {}
    for code, leaf in ev.evidence.items():
        item: dict[str, Any] = {}
        if leaf.values:
            item["values"] = {k: _yaml_value(v) for k, v in leaf.values.items()}
        if leaf.not_applicable:
            item["not_applicable"] = True
        if leaf.justification is not None:
            item["justification"] = leaf.justification
        if leaf.note is not None:
            item["note"] = leaf.note
        if leaf.documents:
            item["documents"] = [_doc_dict(d) for d in leaf.documents]
        evidence[code] = item
    data["evidence"] = evidence
    for kind in ("bonus", "penalty"):
        claims = getattr(ev, kind)
        if claims:
            out = []
            for c in claims:
                d: dict[str, Any] = {"id": c.id}
                if c.count != 1:
                    d["count"] = c.count
                if c.note is not None:
                    d["note"] = c.note
                if c.documents:
                    d["documents"] = [_doc_dict(x) for x in c.documents]
                out.append(d)
            data[kind] = out
    return "\n".join(head) + "\n" + dump_yaml(data)


def _yaml_value(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _yaml_value(v) for k, v in value.items()}
    if isinstance(value, float) and hasattr(value, "raw"):
        return float(value)
    return value


def _doc_dict(doc: Document) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key in ("number", "date", "issuer", "title", "file", "item"):
        value = getattr(doc, key)
        if value is None:
            continue
        out[key] = value.strftime("%d/%m/%Y") if isinstance(value, dt.date) else value
    return out


# ====================================================================== the self-scoring table


def scorecard_xlsx(card: Any) -> bytes:
    """The official self-scoring table: one row per node; subtotals and totals are Excel formulas
    (=SUM of the children's cells), leaves hold values; a second sheet lists the lost points."""
    from openpyxl import Workbook
    from openpyxl.styles import Alignment

    from .explain import pts
    from .scorecard import OUTCOME_VI

    st = _styles()
    wb = Workbook()
    ws = wb.active
    ws.title = "Bảng tự chấm điểm"
    widths = {"A": 8, "B": 52, "C": 10, "D": 11, "E": 42, "F": 48}
    for letter, w in widths.items():
        ws.column_dimensions[letter].width = w
    lines = [(f"BẢNG TỰ ĐÁNH GIÁ, CHẤM ĐIỂM CHỈ SỐ CẢI CÁCH HÀNH CHÍNH NĂM {card.year}", st["title"]),
             (f"Đơn vị: {card.department}", st["bold"]),
             (f"Loại đơn vị: {card.unit.label}", st["normal"]),
             (f"Bộ tiêu chí: {card.criteria_title} [{card.criteria_set}]", st["normal"])]
    from .rules import BASIS_LEGEND

    for text in _notices(card) + ([BASIS_LEGEND] if any(n.basis_tag for n in card.nodes) else []):
        lines.append((text, st["red"]))
    row = 1
    for text, font in lines:
        c = ws.cell(row=row, column=1, value=text)
        c.font = font
        c.alignment = Alignment(wrap_text=True, vertical="top",
                                horizontal="center" if row == 1 else "left")
        ws.merge_cells(start_row=row, start_column=1, end_row=row, end_column=6)
        _auto_height(ws, row)
        row += 1
    row += 1
    head = row
    headers = ["STT", "Lĩnh vực / Tiêu chí / Tiêu chí thành phần", "Điểm tối đa", "Điểm tự đánh giá",
               "Tài liệu kiểm chứng", "Giải trình / ghi chú"]
    for i, h in enumerate(headers, 1):
        c = ws.cell(row=head, column=i, value=h)
        c.font, c.fill, c.border, c.alignment = st["bold"], st["head"], st["border"], st["center"]
    ws.row_dimensions[head].height = 32
    for i in range(1, 7):
        c = ws.cell(row=head + 1, column=i, value=f"({i})")
        c.font, c.border, c.alignment = st["grey"], st["border"], st["center"]
    row = head + 2
    rows: dict[str, int] = {}
    for n in card.nodes:
        rows[n.code] = row
        row += 1
    children: dict[str, list[str]] = {}
    for n in card.nodes:
        if "." in n.code:
            children.setdefault(n.code.rsplit(".", 1)[0], []).append(n.code)
    cached: dict[str, Any] = {}
    for n in card.nodes:
        r = rows[n.code]
        bold = n.level == "field"
        title = n.title.upper() if bold else n.title
        ws.cell(row=r, column=1, value=n.code)
        ws.cell(row=r, column=2, value=title)
        if n.is_leaf:
            ws.cell(row=r, column=3, value=_num(n.max_points))
            ws.cell(row=r, column=4, value=_num(n.points))
            docs = [e.text for e in n.evidence if e.kind == "document"]
            ws.cell(row=r, column=5, value="\n".join(f"- {d}" for d in docs) if docs else None)
            label = OUTCOME_VI.get(n.outcome or "", "")
            reason = n.reason or ""
            note = reason if reason.startswith(label) else f"{label}. {reason}".strip()
            if n.external:
                note = "Điểm điều tra xã hội học do tỉnh cung cấp (không tự chấm). " + note
            if n.max_points != n.nominal_max_points:
                note += f" (Điểm tối đa gốc {pts(n.nominal_max_points)}.)"
            if n.basis_tag:  # where the threshold and the lower bands come from, beside the points
                note = f"[{n.basis_tag}] {note}"
            ws.cell(row=r, column=6, value=note)
        else:
            kids = children.get(n.code, [])
            for col, letter in ((3, "C"), (4, "D")):
                ws.cell(row=r, column=col, value="=SUM(" + ",".join(f"{letter}{rows[k]}" for k in kids) + ")")
                cached[f"{letter}{r}"] = _num(n.max_points if col == 3 else n.points)
            if n.max_points != n.nominal_max_points:
                ws.cell(row=r, column=6, value=f"Điểm tối đa gốc {pts(n.nominal_max_points)}, điều chỉnh do tiêu chí "
                                                f"không phát sinh.")
        font = "bold" if bold else ("normal" if n.is_leaf else "ibold")
        for col in range(1, 7):
            align = f"indent{min(5, n.code.count('.'))}" if col == 2 else "ctop" if col in (1, 3, 4) else "left"
            _look(ws.cell(row=r, column=col), st, font, "border", align, *(("field",) if bold else ()))
        _auto_height(ws, r)
    t = card.total
    fields = [rows[n.code] for n in card.nodes if n.level == "field"]
    sum_row, bonus_row, penalty_row, total_row, index_row = row, row + 1, row + 2, row + 3, row + 4
    bonus_note = "; ".join(f"{a.title} ({a.count} lần): +{pts(a.points)}" for a in card.bonus_items)
    if t.bonus_claimed > t.bonus:
        bonus_note += f" (đề nghị {pts(t.bonus_claimed)}, chỉ tính tối đa {pts(t.bonus)})"
    penalty_note = "; ".join(f"{a.title} ({a.count} lần): −{pts(a.points)}" for a in card.penalty_items)
    if t.penalty_claimed > t.penalty:
        penalty_note += f" (tổng {pts(t.penalty_claimed)}, chỉ trừ tối đa {pts(t.penalty)})"
    totals = [
        (sum_row, "Cộng điểm các lĩnh vực", "=SUM(" + ",".join(f"C{r}" for r in fields) + ")",
         "=SUM(" + ",".join(f"D{r}" for r in fields) + ")", None),
        (bonus_row, "Điểm thưởng", None, _num(t.bonus), bonus_note or None),
        (penalty_row, "Điểm phạt (trừ)", None, _num(t.penalty), penalty_note or None),
        (total_row, "TỔNG ĐIỂM", f"=C{sum_row}", f"=D{sum_row}+D{bonus_row}-D{penalty_row}",
         f"Phần tự chấm (không gồm điều tra xã hội học): {pts(t.self_assessed_points)}/{pts(t.self_assessed_max_points)} điểm."),
        (index_row, "CHỈ SỐ CẢI CÁCH HÀNH CHÍNH (%)", None, f"=ROUND(D{total_row}/C{total_row}*100,2)",
         (f"Nhóm: {t.band}" if t.band else "") + ("; tạm tính, chưa có kết quả điều tra xã hội học"
                                                   if t.provisional else "") or None),
    ]
    cached.update({f"C{sum_row}": _num(t.max_points), f"D{sum_row}": _num(t.fields_points),
                   f"C{total_row}": _num(t.max_points), f"D{total_row}": _num(t.points)})
    if t.percent is not None:
        cached[f"D{index_row}"] = _num(t.percent)
    for r, label, cmax, cpts, note in totals:
        ws.cell(row=r, column=2, value=label)
        ws.cell(row=r, column=3, value=cmax)
        ws.cell(row=r, column=4, value=cpts)
        ws.cell(row=r, column=6, value=note)
        for col in range(1, 7):
            _look(ws.cell(row=r, column=col), st, "bold", "border", "ctop" if col in (3, 4) else "left")
        _auto_height(ws, r)
    ws.freeze_panes = ws.cell(row=head + 2, column=1)
    ws.print_title_rows = f"{head}:{head + 1}"
    _page(ws, "A4")
    ws.oddFooter.center.text = "Trang &P / &N"
    lost_cached = _lost_sheet(wb.create_sheet("Điểm bị mất"), card, st)
    buf = io.BytesIO()
    wb.save(buf)
    return _with_cached_values(buf.getvalue(), {1: cached, 2: lost_cached})


def _num(value: Decimal | None) -> int | float | None:
    if value is None:
        return None
    return int(value) if value == value.to_integral_value() else float(value)


def _notices(card: Any) -> list[str]:
    return card.notices() + [f"Lưu ý: {w}" for w in card.warnings]


def _lost_sheet(ws: Any, card: Any, st: dict[str, Any]) -> dict[str, Any]:
    from openpyxl.styles import Alignment

    from .explain import pts
    from .scorecard import OUTCOME_VI

    widths = {"A": 5, "B": 8, "C": 34, "D": 9, "E": 11, "F": 14, "G": 50, "H": 44, "I": 38}
    for letter, w in widths.items():
        ws.column_dimensions[letter].width = w
    lost = card.lost_points()
    ws["A1"] = f"CÁC TIÊU CHÍ THÀNH PHẦN BỊ MẤT ĐIỂM – {card.department}, năm {card.year} (lớn nhất trước)"
    ws["A1"].font = st["title"]
    row = 2
    for text in _notices(card):
        c = ws.cell(row=row, column=1, value=text)
        c.font, c.alignment = st["red"], Alignment(wrap_text=True, vertical="top")
        ws.merge_cells(start_row=row, start_column=1, end_row=row, end_column=9)
        _auto_height(ws, row)
        row += 1
    row += 1
    head = row
    headers = ["STT", "Mã", "Tiêu chí thành phần", "Điểm bị mất", "Đạt / tối đa", "Kết quả", "Lý do",
               "Cần làm để lấy lại điểm", "Tài liệu kiểm chứng"]
    for i, h in enumerate(headers, 1):
        c = ws.cell(row=head, column=i, value=h)
        c.font, c.fill, c.border, c.alignment = st["bold"], st["head"], st["border"], st["center"]
    ws.row_dimensions[head].height = 32
    row = head + 1
    for i, n in enumerate(lost, 1):
        docs = [e.text for e in n.evidence]
        reason = n.reason or ""
        if n.external:
            reason = "Điểm điều tra xã hội học do tỉnh cung cấp. " + reason
        values = [i, n.code, n.title, _num(n.lost), f"{pts(n.points)}/{pts(n.max_points)}",
                  OUTCOME_VI.get(n.outcome or "", ""), reason, n.guidance,
                  "\n".join(f"- {d}" for d in docs) if docs else "(chưa có)"]
        for col, v in enumerate(values, 1):
            _look(ws.cell(row=row, column=col, value=v), st, "normal", "border",
                  "ctop" if col in (1, 2, 4, 5) else "left")
        _auto_height(ws, row)
        row += 1
    cached: dict[str, Any] = {}
    if not lost:
        ws.cell(row=row, column=3, value="Không có tiêu chí thành phần nào bị mất điểm.").font = st["normal"]
    else:
        ws.cell(row=row, column=3, value="Tổng điểm bị mất").font = st["bold"]
        c = ws.cell(row=row, column=4, value=f"=SUM(D{head + 1}:D{row - 1})")
        c.font, c.border = st["bold"], st["border"]
        c.alignment = Alignment(horizontal="center")
        cached[f"D{row}"] = _num(sum((n.lost for n in lost), Decimal(0)))
    ws.freeze_panes = ws.cell(row=head + 1, column=1)
    ws.print_title_rows = f"{head}:{head}"
    _page(ws, "A4")
    return cached


def _with_cached_values(data: bytes, cached: dict[int, dict[str, Any]]) -> bytes:
    """Store each formula's result next to it, so that viewers that do not calculate (previews,
    pandas) show the numbers too; Excel recalculates on opening anyway."""
    src = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            body = src.read(info.filename)
            m = re.fullmatch(r"xl/worksheets/sheet(\d+)\.xml", info.filename)
            values = cached.get(int(m.group(1))) if m else None
            if values:
                text = body.decode("utf-8")

                def fill(match: re.Match[str]) -> str:
                    ref = match.group(1)
                    value = values.get(ref)
                    if value is None:
                        return match.group(0)
                    return f'<c r="{ref}"{match.group(2)}><f>{match.group(3)}</f><v>{value!r}</v></c>'

                text = re.sub(r'<c r="([A-Z]+\d+)"([^>]*)><f>([^<]*)</f><v\s*/?>(?:</v>)?</c>', fill, text)
                body = text.encode("utf-8")
            dst.writestr(info, body)
    return out.getvalue()


# ====================================================================== import a criteria table

CODE_HEADERS = ("mã", "stt", "tt", "số tt", "mã tiêu chí", "mã số")
TITLE_HEADERS = ("lĩnh vực / tiêu chí / tiêu chí thành phần", "lĩnh vực, tiêu chí, tiêu chí thành phần", "tiêu chí",
                 "nội dung", "lĩnh vực/tiêu chí/tiêu chí thành phần", "nội dung tiêu chí")
MAX_HEADERS = ("điểm tối đa", "điểm chuẩn", "thang điểm", "điểm")
_CODE_RE = re.compile(r"^\d+(\.\d+)*$")


@dataclass
class _TNode:
    code: str
    title: str
    max_points: Decimal | None
    row: int
    children: list[_TNode] = field(default_factory=list)
    numeric_code: bool = False
    max_from_children: bool = False


@dataclass
class ImportedCriteria:
    """What ``import-criteria`` produced: the YAML text, the rules skeleton and what to tell the user."""

    yaml_text: str
    set_id: str
    rows: dict[str, int]
    notes: list[str]
    rules_files: dict[str, str]
    problems: list[Problem]
    leaves: int
    fields: int
    scale: Decimal


def _resolve_column(ws: Any, spec: str | None, candidates: tuple[str, ...], option: str,
                    table: str) -> tuple[int, int]:
    """(column index, header row; 0 when given as a letter) for a header text or a column letter."""
    from openpyxl.utils import column_index_from_string

    if spec and re.fullmatch(r"[A-Za-z]{1,3}", spec.strip()) and not _header_cells(ws, spec):
        return column_index_from_string(spec.strip().upper()), 0
    wanted = [_norm(spec)] if spec else [_norm(c) for c in candidates]
    cells = list(_all_header_cells(ws))
    for w in wanted:
        exact = [(c.column, c.row) for c in cells if _norm(c.value) == w]
        if exact:
            return exact[0]
    if spec:
        partial = [(c.column, c.row) for c in cells if wanted[0] in _norm(c.value)]
        if len({p[0] for p in partial}) == 1:
            return partial[0]
    seen: list[str] = []
    for c in cells:  # in reading order, so the header row comes first; codes and numbers are not headers
        text = str(c.value).strip().split("\n")[0]
        if text not in seen and not re.fullmatch(r"[\d.,\s]+", text) and len(text) <= 60:
            seen.append(text)
    raise InputError(Problem(
        "missing_column",
        f"không tìm thấy cột '{spec}' (column not found)" if spec
        else f"không đoán được cột cho {option} (tried headers: {', '.join(candidates)})",
        file=table, subject=f"'{ws.title}'",
        hint=f"give {option} with the header text or the column letter; headers seen: " + "; ".join(seen[:12])))


def _all_header_cells(ws: Any) -> Iterable[Any]:
    for row in ws.iter_rows(min_row=1, max_row=min(ws.max_row, HEADER_SCAN_ROWS)):
        for c in row:
            if isinstance(c.value, str) and c.value.strip():
                yield c


def _header_cells(ws: Any, text: str) -> list[Any]:
    return [c for c in _all_header_cells(ws) if _norm(c.value) == _norm(text)]


def _parse_max(value: Any) -> Decimal | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, bool):
        raise ValueError("true/false is not a number of points")
    if isinstance(value, int):
        return Decimal(value)
    if isinstance(value, float):
        return Decimal(repr(value))
    text = str(value).strip().replace("\u00a0", "").replace(" ", "")
    if "," in text and "." not in text:
        text = text.replace(",", ".")
    try:
        dec = Decimal(text)
    except InvalidOperation:
        raise ValueError(f"'{value}' is not a number of points") from None
    if not dec.is_finite():
        raise ValueError(f"'{value}' is not a number of points")
    return dec


def _slug(text: str, words: int = 4) -> str:
    text = unicodedata.normalize("NFD", text.replace("đ", "d").replace("Đ", "D"))
    text = "".join(ch for ch in text if unicodedata.category(ch) != "Mn").lower()
    parts = re.findall(r"[a-z0-9]+", text)
    return "-".join(parts[:words]) or "linh-vuc"


def import_criteria_table(path: Path | str, *, set_id: str, province: str, year: int, level: str = "cap_so",
                          title: str | None = None, sheet: str | None = None, code_column: str | None = None,
                          title_column: str | None = None, max_column: str | None = None, official: bool = False,
                          source: str | None = None, external: Iterable[str] = (),
                          scale: Decimal | None = None) -> ImportedCriteria:
    """Turn a province's criteria table into a criteria file (text) and a rules skeleton, and check
    the result with :func:`scoring.criteria.load_criteria`; problems name the sheet rows."""
    from openpyxl.utils import get_column_letter

    from .criteria import load_criteria

    path = Path(path)
    table = str(path)
    if not path.is_file():
        raise InputError(Problem("file_not_found", f"criteria table '{table}' does not exist", file=table))
    if official and not source:
        raise InputError(Problem("missing_source", "--official needs --source (the decision and annex the points come from)",
                                 subject="--source", hint='e.g. --source "QĐ 2211/QĐ-UBND ngày 15/10/2025, Phụ lục I"'))
    if not re.fullmatch(r"[a-z0-9][a-z0-9-]*", set_id):
        raise InputError(Problem("bad_id", f"criteria set id '{set_id}' must be lower-case letters, digits and '-'",
                                 subject="--id", hint="e.g. son-la-cap-so-2025"))
    data = path.read_bytes()
    wb_f = open_workbook(data, table, data_only=False)
    wb_v = open_workbook(data, table, data_only=True)
    if sheet is not None and sheet not in wb_f.sheetnames:
        raise InputError(Problem("unknown_sheet", f"no sheet '{sheet}' in the table", file=table, subject="--sheet",
                                 hint=did_you_mean(sheet, wb_f.sheetnames) or f"sheets: {', '.join(wb_f.sheetnames)}"))
    ws = wb_f[sheet] if sheet else wb_f.worksheets[0]
    wv = wb_v[ws.title]
    code_col, code_head = _resolve_column(ws, code_column, CODE_HEADERS, "--code-column", table)
    title_col, title_head = _resolve_column(ws, title_column, TITLE_HEADERS, "--title-column", table)
    max_col, max_head = _resolve_column(ws, max_column, MAX_HEADERS, "--max-column", table)
    if len({code_col, title_col, max_col}) < 3:
        raise InputError(Problem("same_column", "code, title and maximum points must be three different columns",
                                 file=table, subject=f"'{ws.title}'",
                                 hint="give --code-column, --title-column and --max-column explicitly"))
    first = max(code_head, title_head, max_head) + 1
    # a cell covered by a merge belongs to the merge's top-left cell: vertical merges in a column
    # continue the row above, horizontal merges from another column leave the cell empty
    covered: dict[tuple[int, int], tuple[int, int]] = {}
    for rng in ws.merged_cells.ranges:
        for r in range(rng.min_row, rng.max_row + 1):
            for c in range(rng.min_col, rng.max_col + 1):
                if (r, c) != (rng.min_row, rng.min_col):
                    covered[(r, c)] = (rng.min_row, rng.min_col)
    problems = ProblemList()
    notes: list[str] = []
    letter = {code_col: get_column_letter(code_col), title_col: get_column_letter(title_col),
              max_col: get_column_letter(max_col)}

    def where(row: int, col: int, code: str | None = None) -> dict[str, Any]:
        subject = f"'{ws.title}'!{letter[col]}{row}"
        return {"file": table, "subject": f"{code} ({subject})" if code else subject}

    def value(row: int, col: int) -> tuple[Any, bool]:
        """(value, covered by a vertical merge from above in this column)."""
        anchor = covered.get((row, col))
        if anchor is not None:
            return (None, anchor[1] == col)
        cell = ws.cell(row=row, column=col)
        if cell.data_type == "f":
            return (wv.cell(row=row, column=col).value, False)
        v = cell.value
        return (nfc(v) if isinstance(v, str) else v, False)

    nodes: dict[str, _TNode] = {}
    roots: list[_TNode] = []
    total_rows: list[tuple[int, Decimal]] = []  # "Tổng cộng" rows, checked against the fields
    last: _TNode | None = None
    for row in range(first, min(ws.max_row, MAX_ROWS) + 1):
        raw_code, cont = value(row, code_col)
        raw_title, _ = value(row, title_col)
        raw_max, max_cont = value(row, max_col)
        if cont and last is not None:  # the same node, spread over several rows
            if isinstance(raw_title, str) and raw_title.strip() and raw_title.strip() not in last.title:
                last.title = f"{last.title} {raw_title.strip()}"
            if last.max_points is None and not max_cont:
                try:
                    last.max_points = _parse_max(raw_max)
                except ValueError as exc:
                    problems.add("bad_points", str(exc), **where(row, max_col, last.code))
            continue
        if raw_code is None or (isinstance(raw_code, str) and not raw_code.strip()):
            last = None
            if isinstance(raw_title, str) and _norm(raw_title).startswith("tổng") and not max_cont:
                try:
                    stated = _parse_max(raw_max)
                except ValueError:
                    stated = None
                if stated is not None:
                    total_rows.append((row, stated))
            continue
        numeric = False
        if isinstance(raw_code, bool):
            continue
        if isinstance(raw_code, int):
            code = str(raw_code)
        elif isinstance(raw_code, float):
            code, numeric = (str(int(raw_code)) if raw_code.is_integer() else repr(raw_code)), not raw_code.is_integer()
        else:
            code = re.sub(r"\s+", "", str(raw_code)).rstrip(".")
        if not _CODE_RE.match(code):
            last = None
            if any(v is not None and str(v).strip() for v in (raw_title, raw_max)):
                notes.append(f"dòng {row}: bỏ qua '{str(raw_code).strip()}' (không phải mã dạng 1, 1.1, 1.1.1)")
            continue
        title_text = re.sub(r"\s+", " ", str(raw_title)).strip() if raw_title is not None else ""
        try:
            maxp = None if max_cont else _parse_max(raw_max)
        except ValueError as exc:
            problems.add("bad_points", str(exc), **where(row, max_col, code),
                         hint="write the maximum points as a number, e.g. 1,5")
            maxp = None
        if code in nodes:
            first_row = nodes[code].row
            hint = "every code must appear once"
            if numeric or nodes[code].numeric_code:
                hint = (f"a code cell holds a number, so 1.10 reads as 1.1: format column {letter[code_col]} "
                        "as Text and type the codes again (or type ' before the code)")
            problems.add("duplicate_code", f"code '{code}' appears twice (rows {first_row} and {row})",
                         **where(row, code_col, code), hint=hint)
            last = None
            continue
        node = _TNode(code, title_text, maxp, row, numeric_code=numeric)
        if numeric:
            notes.append(f"dòng {row}: mã {code} được lưu dạng số; nếu là 1.10 (không phải 1.1) hãy định dạng cột là Text")
        parent_code = code.rsplit(".", 1)[0] if "." in code else None
        if parent_code is None:
            roots.append(node)
        elif parent_code in nodes:
            nodes[parent_code].children.append(node)
        else:
            problems.add("missing_parent", f"'{code}' has no parent row '{parent_code}' above it",
                         **where(row, code_col, code), hint=f"add the row of '{parent_code}' before row {row}")
        nodes[code] = node
        last = node
    if not nodes:
        raise InputError(Problem("no_criteria_rows", f"no row of sheet '{ws.title}' has a code such as 1, 1.1, 1.1.1 "
                                 f"in column {letter[code_col]}", file=table,
                                 hint="check --sheet and --code-column"))

    def finish(n: _TNode) -> None:
        for c in n.children:
            finish(c)
        if n.max_points is None:
            if n.children:
                n.max_points = sum((c.max_points or Decimal(0) for c in n.children), Decimal(0))
                n.max_from_children = True
                notes.append(f"dòng {n.row}: '{n.code}' không ghi điểm tối đa; lấy tổng các mục con = {n.max_points}")
            else:
                problems.add("missing_points", f"'{n.code}' has no maximum points", **where(n.row, max_col, n.code),
                             hint="fill the maximum points of every sub-criterion")
                n.max_points = Decimal(0)

    for r in roots:
        finish(r)
    externals = {str(e) for e in external}
    for e in sorted(externals - set(nodes)):
        problems.add("unknown_code", f"--external '{e}' is not a code of the table", subject="--external",
                     hint=did_you_mean(e, nodes))
    status = "official" if official else "illustrative"
    origin = f"{path.name}, trang '{ws.title}'"

    def node_dict(n: _TNode) -> dict[str, Any]:
        d: dict[str, Any] = {"code": n.code, "title": n.title, "max_points": _num(n.max_points)}
        d["source"] = f"{source + '; ' if source else ''}{origin}, dòng {n.row}"
        if n.code in externals:
            d["external"] = True
        if n.children:
            d["children"] = [node_dict(c) for c in n.children]
        return d

    total = sum((r.max_points or Decimal(0) for r in roots), Decimal(0))
    for row, stated in total_rows:
        if stated != total:
            problems.add("points_mismatch", f"the total row says {stated} points but the fields add up to {total}",
                         **where(row, max_col), hint="fix the fields' maximum points or the total row")
    set_title = title or f"Bộ tiêu chí xác định Chỉ số cải cách hành chính {province} năm {year}" + (
        "" if official else " (điểm minh họa)")
    legal = [source] if source else [f"Bảng tiêu chí {path.name} (trang '{ws.title}'), chưa đối chiếu với quyết định của tỉnh"]
    criteria: dict[str, Any] = {
        "id": set_id, "title": set_title, "level": level, "province": province, "year": year,
        "scale": _num(scale if scale is not None else total), "points_status": status, "legal_basis": legal,
    }
    if not official:
        criteria["note"] = ("Điểm tối đa nhập từ bảng của tỉnh nhưng chưa xác nhận là chính thức (illustrative); "
                            "nhập lại với --official --source khi đã đối chiếu quyết định.")
    criteria["fields"] = [node_dict(r) for r in roots]
    header = [f"# Bộ tiêu chí {set_id}: nhập từ {path.name} (trang '{ws.title}') bằng 'parindex import-criteria'.",
              f"# Cột: mã {letter[code_col]}, tên {letter[title_col]}, điểm tối đa {letter[max_col]}. "
              f"Điểm: {'CHÍNH THỨC theo ' + str(source) if official else 'MINH HỌA (chưa xác nhận chính thức)'}."]
    text = "\n".join(header) + "\n" + dump_yaml(criteria)
    rows = {code: n.row for code, n in nodes.items()}
    # check it like any other criteria file, and point each problem at its sheet row
    with tempfile.TemporaryDirectory() as tmp:
        tmp_file = Path(tmp) / f"{set_id}.yaml"
        tmp_file.write_text(text, encoding="utf-8")
        try:
            load_criteria(tmp_file)
        except DefinitionError as exc:
            for p in exc.problems:
                code = p.subject if p.subject in rows else None
                subject = f"{code} ('{ws.title}' dòng {rows[code]})" if code else f"'{ws.title}'"
                hint = p.hint
                if p.code == "points_mismatch" and code:
                    kids = ", ".join(f"{c.code} (dòng {c.row}): {c.max_points}" for c in nodes[code].children)
                    hint = f"the rows are {kids}; fix the table or the parent's maximum"
                problems.add(p.code, p.message.replace(str(tmp_file), table), file=table, subject=subject, hint=hint)
    skeleton = {f"{r.code}-{_slug(r.title)}.yaml": _rules_skeleton(set_id, r, rows) for r in roots}
    leaves = sum(1 for n in nodes.values() if not n.children)
    return ImportedCriteria(text, set_id, rows, notes, skeleton, problems.problems, leaves, len(roots), total)


def _rules_skeleton(set_id: str, field_node: _TNode, rows: dict[str, int]) -> str:
    """A rules file with no rules yet (``parindex check`` lists each leaf as ``missing_rule``) and,
    as comments, a stub per leaf that becomes a valid rule once uncommented and filled in."""
    out = [f"# Lĩnh vực {field_node.code}: {field_node.title}",
           "# Khung quy tắc do 'parindex import-criteria' tạo. Mỗi tiêu chí thành phần cần đúng một quy tắc;",
           "# cho đến khi viết xong, 'parindex check' báo missing_rule cho từng mã dưới đây.",
           "# Cách làm: bỏ dấu '# ' ở một khối, sửa các chỗ TODO, và đổi 'rules: []' thành 'rules:'.",
           "# Các loại quy tắc: threshold | ratio | count | boolean | deadline | external | all | any",
           "# (xem docs/ và rules/cap-so-2025/ để có ví dụ của từng loại).",
           f"criteria_set: {set_id}",
           f'field: "{field_node.code}"',
           "rules: []"]

    def leaves(n: _TNode) -> list[_TNode]:
        return [n] if not n.children else [x for c in n.children for x in leaves(c)]

    for leaf in leaves(field_node):
        stub = [f"  # {leaf.code} {leaf.title} (tối đa {_num(leaf.max_points)} điểm; bảng: dòng {rows[leaf.code]})",
                f'  - code: "{leaf.code}"',
                "    kind: boolean  # TODO: chọn loại quy tắc phù hợp",
                "    evidence:",
                '      - {name: done, type: boolean, description: "TODO: số liệu/tài liệu cần nhập"}',
                "    value: done",
                "    not_applicable: {policy: zero}  # TODO: award_max | exclude | redistribute | zero",
                '    explain: "TODO: lý do mất điểm ({details}). Mất {lost} điểm."',
                '    guidance: "TODO: cần làm gì để đạt điểm tối đa"']
        out += [""] + [f"# {line}" for line in stub]
    return "\n".join(out) + "\n"


# ====================================================================== command line


def register(subparsers: Any) -> None:
    """Add ``template``, ``export``, ``import-evidence`` and ``import-criteria`` to ``parindex``."""
    from .cli import common_options

    p = subparsers.add_parser("template", help="tạo tệp Excel mẫu để nhập tài liệu kiểm chứng (evidence template)")
    common_options(p)
    p.add_argument("-o", "--output", metavar="FILE", required=True, help="the workbook to write (.xlsx)")
    p.add_argument("--department", metavar="NAME", help="điền sẵn tên đơn vị")
    p.set_defaults(func=cmd_template)

    p = subparsers.add_parser("export", help="chuyển tệp YAML tài liệu kiểm chứng sang Excel (YAML → xlsx)")
    p.add_argument("evidence", metavar="EVIDENCE", help="evidence file (.yaml)")
    common_options(p)
    p.add_argument("-o", "--output", metavar="FILE", required=True, help="the workbook to write (.xlsx)")
    p.set_defaults(func=cmd_export)

    p = subparsers.add_parser("import-evidence", help="chuyển tệp Excel đã điền sang YAML (xlsx → YAML)")
    p.add_argument("workbook", metavar="WORKBOOK", help="filled evidence workbook (.xlsx)")
    common_options(p)
    p.add_argument("-o", "--output", metavar="FILE", help="write the YAML to FILE instead of the screen")
    p.set_defaults(func=cmd_import_evidence)

    p = subparsers.add_parser("import-criteria", help="nhập bảng tiêu chí của tỉnh (xlsx) thành tệp bộ tiêu chí")
    p.add_argument("table", metavar="TABLE", help="the province's criteria table (.xlsx)")
    p.add_argument("-o", "--output", metavar="FILE", required=True, help="criteria file to write, e.g. criteria/<id>.yaml")
    p.add_argument("--sheet", metavar="NAME", help="sheet to read (default: the first)")
    p.add_argument("--code-column", metavar="H", help="header text or column letter of the codes (default: STT / Mã)")
    p.add_argument("--title-column", metavar="H", help="header text or column letter of the titles")
    p.add_argument("--max-column", metavar="H", help="header text or column letter of the maximum points")
    p.add_argument("--id", dest="set_id", metavar="ID", help="criteria set id (default: the output file name)")
    p.add_argument("--title", metavar="TEXT", help="title of the criteria set")
    p.add_argument("--province", metavar="P", required=True, help="province, e.g. 'tỉnh Sơn La'")
    p.add_argument("--year", metavar="Y", type=int, required=True, help="assessment year")
    p.add_argument("--level", metavar="L", default="cap_so", help="level (default: cap_so)")
    p.add_argument("--official", action="store_true", help="the points are the province's official ones (needs --source)")
    p.add_argument("--source", metavar="TEXT", help="decision and annex the table comes from")
    p.add_argument("--external", metavar="CODE", action="append", default=[],
                   help="a field or criterion scored by survey (điều tra xã hội học); repeatable")
    p.add_argument("--scale", metavar="N", help="total points of the set (default: the sum of the fields; checked)")
    p.add_argument("--rules-out", metavar="DIR", help="folder for the rules skeleton (default: rules/<id>/ next to "
                                                     "the criteria folder)")
    p.add_argument("--keep-going", action="store_true", help="write the files even when the table has problems")
    p.add_argument("--debug", action="store_true", help="show Python tracebacks on internal errors")
    p.set_defaults(func=cmd_import_criteria)


def cmd_template(args: argparse.Namespace) -> int:
    from .cli import emit, load_bundle_for

    bundle = load_bundle_for(args)
    emit(evidence_workbook(bundle, None, department=args.department), args.output)
    return 0


def cmd_export(args: argparse.Namespace) -> int:
    from .cli import emit, load_bundle_for
    from .evidence import load_evidence

    ev = load_evidence(Path(args.evidence))
    bundle = load_bundle_for(args, ev.criteria_set)
    emit(evidence_workbook(bundle, ev), args.output, [args.evidence])
    return 0


def cmd_import_evidence(args: argparse.Namespace) -> int:
    from .cli import emit

    ev = read_evidence_workbook(args.workbook, criteria_dir=args.criteria, rules_dir=args.rules)
    emit(evidence_yaml(ev, source=Path(args.workbook).name), args.output, [args.workbook])
    return 0


def cmd_import_criteria(args: argparse.Namespace) -> int:
    from .cli import emit

    out = Path(args.output)
    set_id = args.set_id or out.stem
    scale = None
    if args.scale is not None:
        try:
            scale = _parse_max(args.scale)
        except ValueError as exc:
            raise InputError(Problem("bad_scale", str(exc), subject="--scale")) from None
    result = import_criteria_table(args.table, set_id=set_id, province=args.province, year=args.year,
                                   level=args.level, title=args.title, sheet=args.sheet,
                                   code_column=args.code_column, title_column=args.title_column,
                                   max_column=args.max_column, official=args.official, source=args.source,
                                   external=args.external, scale=scale)
    for note in result.notes:
        sys.stderr.write(f"Lưu ý: {note}\n")
    if result.problems and not args.keep_going:
        raise DefinitionError(result.problems)
    if args.rules_out:
        rules_dir = Path(args.rules_out)
    else:
        base = out.parent.parent if out.parent.name == "criteria" else out.parent
        rules_dir = base / "rules" / set_id
    emit(result.yaml_text, args.output, [args.table])
    rules_dir.mkdir(parents=True, exist_ok=True)
    kept = []
    for fname, text in result.rules_files.items():
        target = rules_dir / fname
        if target.exists() or any(p.name.split("-")[0] == fname.split("-")[0] for p in rules_dir.glob("*.yaml")):
            kept.append(fname)
            continue
        write_atomic(target, text)
    status = "chính thức" if args.official else "minh họa"
    sys.stderr.write(f"Đã nhập {result.fields} lĩnh vực, {result.leaves} tiêu chí thành phần, tổng {_pts(result.scale)} "
                     f"điểm ({status}). Khung quy tắc: {rules_dir}"
                     + (f" (giữ nguyên tệp đã có cho lĩnh vực: {', '.join(k.split('-')[0] for k in kept)})" if kept else "")
                     + "\n")
    crit_dir = out.parent
    sys.stderr.write(f"Bước tiếp: viết quy tắc rồi chạy 'parindex check --criteria {crit_dir} --rules {rules_dir.parent} "
                     f"--criteria-set {set_id}'.\n")
    if result.problems:
        for p in result.problems:
            sys.stderr.write(p.format() + "\n")
        sys.stderr.write(f"{len(result.problems)} lỗi: đã ghi tệp (--keep-going) nhưng cần sửa trước khi dùng.\n")
        return 2
    return 0

