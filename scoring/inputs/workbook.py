"""Excel in the Office's own formats.

* the evidence workbook: ``template`` (empty, for a clerk to fill), ``export`` (YAML → xlsx),
  :func:`read_evidence_workbook` (xlsx → :class:`EvidenceFile`, strict, errors name sheet and cell)
  and ``import-evidence`` (xlsx → YAML); YAML → xlsx → YAML gives the same evidence;
* the official self-scoring table (:func:`scorecard_xlsx`): leaves hold values, subtotals are real
  Excel formulas, plus a sheet of lost points;
* ``import-criteria`` lives in :mod:`scoring.inputs.criteria_table` (a province's criteria table →
  criteria file and rules that score at once).

openpyxl is imported inside the functions so that ``parindex --help`` stays fast.
"""

from __future__ import annotations

import datetime as dt
import io
import re
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction
from typing import Any

import yaml

from scoring.analysis.explain import pts
from scoring.core.errors import (
    InputError,
    Problem,
    ProblemList,
    did_you_mean,
)
from scoring.core.evidence import (
    Claim,
    Document,
    EvidenceFile,
    LeafEvidence,
    ValueError_,
    parse_value,
)
from scoring.core.scorecard import ILLUSTRATIVE_NOTICE
from scoring.core.yamlio import nfc

MAX_WORKBOOK_BYTES = 20 * 1024 * 1024
MAX_ROWS = 20_000
#: columns and rows a sheet of the Office's workbooks may reach (templates, appraisal and criteria tables use
#: about 15 columns); beyond, openpyxl would create millions of empty cells while reading
MAX_COLUMNS = 200
MAX_SHEET_ROWS = 100_000
HEADER_SCAN_ROWS = 30

INSTRUCTIONS = "Hướng dẫn"
CLAIMS = "Thưởng - phạt"
FIELD_SHEET = "Lĩnh vực {code}"

#: Vietnamese label of each evidence value type, written in the "Kiểu giá trị" column.
TYPE_VI: dict[str, str] = {
    "rate": "tỷ lệ (%)", "count": "số nguyên", "number": "số", "score": "điểm số", "points": "điểm",
    "boolean": "có/không", "date": "ngày", "dated_items": "ngày (theo kỳ)", "level": "chọn mức",
}
LEVELS_SHEET = "Danh sách mức"  # hidden: the choices of each "choose a level" rule, for the drop-downs
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
    "unit_kind": "Loại đơn vị (so / ban / khac)",
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
    choices: str | None = None  # drop-down range of a "choose a level" value


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
    if kind == "level":
        return parsed, "@"
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
    ids_range = _write_instructions(info, cset, ev, department, frozenset(r.kind for r in bundle.rules.values()))
    choices = _write_levels_sheet(wb, bundle)
    for fnode in cset.fields:
        ws = wb.create_sheet(FIELD_SHEET.format(code=fnode.code))
        _write_field_sheet(ws, bundle, fnode, ev, choices)
    _write_claims_sheet(wb.create_sheet(CLAIMS), cset, ev, ids_range)
    if LEVELS_SHEET in wb.sheetnames:
        wb.move_sheet(LEVELS_SHEET, offset=len(wb.sheetnames))
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


def _write_instructions(ws: Any, cset: Any, ev: EvidenceFile | None, department: str | None,
                        kinds: frozenset[str] = frozenset()) -> str:
    """Fill the instructions sheet; return the range holding the bonus/penalty ids (for a drop-down)."""
    from openpyxl.styles import Alignment
    from openpyxl.worksheet.datavalidation import DataValidation

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
        "unit_kind": ev.unit_kind if ev else None,
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
        *(["Ô kiểu «chọn mức»: bấm vào ô và chọn một mức trong danh sách (đúng như bảng tiêu chí của tỉnh), hoặc "
           "ghi số thứ tự của mức (1, 2, …)."] if "level" in kinds else []),
        *(["Ô kiểu «điểm» của tiêu chí chấm trực tiếp: nhập số điểm tự chấm (0 đến điểm tối đa) và ghi văn bản kiểm "
           "chứng trên cùng dòng; điểm không có văn bản dễ bị Hội đồng thẩm định không công nhận."]
          if "points" in kinds else []),
        "Văn bản kiểm chứng (số hiệu, ngày ban hành, cơ quan ban hành, trích yếu, tệp) ghi trên dòng của số liệu mà văn bản "
        "chứng minh. Nhiều văn bản hơn số dòng: dùng các dòng trống cuối trang, ghi Mã tiêu chí, để trống «Tên số liệu» và "
        "«Giá trị» (ghi «Mục / kỳ» nếu văn bản chứng minh cho một kỳ).",
        "Tiêu chí không phát sinh trong năm: ghi «có» ở cột «Không phát sinh» và nêu lý do ở cột «Giải trình không phát sinh» "
        "(kèm văn bản nếu có), trên dòng đầu của tiêu chí.",
        "Không sửa các cột Mã, Tên số liệu, Mục / kỳ, Kiểu giá trị và dòng tiêu đề cột; không gộp ô (merge); không dùng công "
        "thức (=…) – nhập chính giá trị. Trang tính được khóa cấu trúc, không đặt mật khẩu (nếu cần mở khóa: thẻ Xem lại → Bỏ bảo vệ trang tính; "
        "Excel tiếng Anh: Review → Unprotect Sheet).",
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


def _write_levels_sheet(wb: Any, bundle: Any) -> dict[str, str]:
    """A hidden sheet with the levels of every "choose a level" rule, one column each; returns
    code → the range its drop-down lists (labels may hold commas, so they cannot be inline)."""
    from openpyxl.utils import get_column_letter

    level_rules = [r for r in bundle.rules.values() if r.kind == "level"]
    if not level_rules:
        return {}
    ws = wb.create_sheet(LEVELS_SHEET)
    ws.sheet_state = "hidden"
    out: dict[str, str] = {}
    for j, rule in enumerate(level_rules, 1):
        letter = get_column_letter(j)
        ws.cell(row=1, column=j, value=rule.code)
        for i, lv in enumerate(rule.rule.levels, 2):
            ws.cell(row=i, column=j, value=lv.label)
        out[rule.code] = f"'{LEVELS_SHEET}'!${letter}$2:${letter}${len(rule.rule.levels) + 1}"
    return out


def _write_field_sheet(ws: Any, bundle: Any, fnode: Any, ev: EvidenceFile | None,
                       choices: dict[str, str] | None = None) -> None:
    from openpyxl.utils import get_column_letter

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
    # the evidence ids (on_time, initiatives) are parindex's keys, not words for the clerk: hidden, like the
    # original values; the clerk reads 'Nội dung cần nhập' beside each value
    ws.column_dimensions[get_column_letter(col["name"])].hidden = True
    dvs = _validations(ws)
    leaves = [n for n in cset.leaves() if n.code.split(".")[0] == fnode.code]
    row = head + 1
    for node in leaves:
        rule = bundle.rules[node.code]
        leaf = ev.evidence.get(node.code) if ev else None
        for r in _leaf_rows(rule, node, leaf, rule.target):
            if r.type == "level" and choices:
                r.choices = choices.get(node.code)
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
        if kind == "level":
            if r.choices:
                from openpyxl.worksheet.datavalidation import DataValidation

                dv = DataValidation(type="list", formula1=r.choices, allow_blank=True, showErrorMessage=True,
                                    errorStyle="stop", errorTitle="Chọn mức",
                                    error="Chọn một mức trong danh sách (hoặc ghi số thứ tự của mức).")
                ws.add_data_validation(dv)
                dv.add(c.coordinate)
        else:
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
