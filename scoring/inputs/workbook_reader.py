"""Reading a filled evidence workbook back, strictly, every problem with its sheet and cell; YAML out."""

from __future__ import annotations

import datetime as dt
import io
from decimal import Decimal
from pathlib import Path
from typing import Any

from scoring.core.errors import (
    InputError,
    ParindexError,
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
    parse_bool,
    parse_date,
    parse_value,
)
from scoring.core.levels import parse_level
from scoring.core.rules import available_sets, default_dirs, load_bundle
from scoring.core import safeio
from scoring.core.yamlio import dump_yaml, nfc
from scoring.inputs.workbook import (
    _DOC_COLS,
    _MISSING,
    _NUMERIC,
    CLAIM_COLUMNS,
    CLAIMS,
    EV_COLUMNS,
    FIELD_SHEET,
    HEADER_SCAN_ROWS,
    INFO_LABELS,
    INSTRUCTIONS,
    MAX_COLUMNS,
    MAX_ROWS,
    MAX_SHEET_ROWS,
    MAX_WORKBOOK_BYTES,
    TYPE_VI,
    Col,
    _norm,
    _original_value,
    _same,
    _where,
)

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
        elif kind == "level":
            raw = int(value) if isinstance(value, float) and value.is_integer() else (
                value.strip() if isinstance(value, str) else value)
        elif kind == "boolean" and not isinstance(value, bool):
            answer = workbook_yes_no(value)
            if answer is None:  # the drop-down offers có / không only: 'x', 'yes', 'Đạt', '1' are not answers
                self.add("bad_value", f"{label}: '{value}' không phải 'có' hoặc 'không'", ws.title, coord,
                         hint="chọn 'có' hoặc 'không' trong danh sách thả xuống của ô")
                return _MISSING
            raw = "có" if answer else "không"
        try:
            parse_value(kind, raw)  # type: ignore[arg-type]
        except ValueError_ as exc:
            what = "chữ trong ô số (text in a number cell)" if isinstance(value, str) and kind in _NUMERIC else "giá trị không hợp lệ"
            self.add("bad_value", f"{label}: {what}: {exc}", ws.title, coord,
                     hint=exc.hint or "sửa lại giá trị theo kiểu của cột 'Kiểu giá trị'")
            return _MISSING
        return raw



def _default_bundle(set_id: str, criteria_dir: Any = None, rules_dir: Any = None) -> Any:
    """The bundle that types and names are checked against, or None when it cannot be loaded."""
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

    safeio.check_workbook(data, name, MAX_SHEET_ROWS, MAX_COLUMNS)
    try:
        wb = load_workbook(io.BytesIO(data), data_only=data_only)
    except Exception:  # noqa: BLE001 - zip/XML errors of a damaged, renamed or non-xlsx file
        kind = "a zip archive that is not a workbook" if data[:4] == b"PK\x03\x04" else "not a zip archive"
        raise InputError(Problem(
            "unreadable_workbook",
            f"tệp không phải bảng tính Excel (.xlsx) hoặc đã bị hỏng (not an .xlsx workbook: {kind})",
            file=name, hint="mở tệp bằng Excel và lưu lại dạng Excel Workbook (.xlsx)")) from None
    safeio.check_loaded_sheets(wb, name, MAX_SHEET_ROWS, MAX_COLUMNS)
    return wb


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
    # read once, a regular file within the limit: the file itself is never opened for writing
    data = safeio.read_input_bytes(path, "bảng tính tài liệu kiểm chứng", MAX_WORKBOOK_BYTES)
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
    seen_rows: dict[tuple[str, str, str | None], tuple[str, int]] = {}
    sheets_read: list[str] = []
    cells_map: dict[str, dict[str, str]] = {}
    for ws in wb.worksheets:
        if ws.title in (INSTRUCTIONS, CLAIMS):
            continue
        is_field = _norm(ws.title).startswith(_norm("Lĩnh vực"))
        if not is_field:
            probe = _Reader(path, wb)
            if probe.header(ws, EV_COLUMNS, "trang số liệu") is None:
                continue  # a sheet of the Office's own (notes, drafts): not evidence
        if _read_field_sheet(rd, ws, bundle, evidence, seen_codes, seen_rows, cells_map):
            sheets_read.append(ws.title)
    if bundle is not None and sheets_read and not rd.problems:  # a row with a broken code is not a deleted one
        _deleted_rows(rd, bundle, seen_rows, sheets_read, wb.sheetnames)
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
                        note=info["note"], unit_kind=info.get("unit_kind"), evidence=ordered, bonus=tuple(bonus), penalty=tuple(penalty),
                        file=name, cells=cells_map)


def _read_info(rd: _Reader, ws: Any) -> dict[str, Any]:
    labels = {_norm(v): k for k, v in INFO_LABELS.items()}
    where: dict[str, tuple[int, int]] = {}
    for row in ws.iter_rows(min_row=1, max_row=min(ws.max_row, 60)):
        for c in row:
            key = labels.get(_norm(c.value)) if isinstance(c.value, str) else None
            if key is not None and key not in where:
                where[key] = (c.row, c.column + 1)
    out: dict[str, Any] = {"prepared_by": None, "note": None, "constructed_example": False, "unit_kind": None}
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
        elif key == "unit_kind":
            if value is not None and str(value).strip().lower() not in ("so", "ban", "khac"):
                rd.add("bad_value", f"'{label}': '{value}' không phải so, ban hoặc khac", ws.title, coord,
                       hint="ghi so (Sở), ban (Ban Quản lý…) hoặc khac (cơ quan khác), hoặc để trống")
            elif value is not None:
                out[key] = str(value).strip().lower()
        else:
            out[key] = None if value is None else str(value)
    return out


def _read_field_sheet(rd: _Reader, ws: Any, bundle: Any, evidence: dict[str, LeafEvidence],
                      seen_codes: dict[str, str],
                      seen_rows: dict[tuple[str, str, str | None], tuple[str, int]] | None = None,
                      cells_map: dict[str, dict[str, str]] | None = None) -> bool:
    """Read one sheet of evidence; False when its header or size kept it from being read."""
    found = rd.header(ws, EV_COLUMNS, "trang số liệu")
    if found is None:
        return False
    head, col = found
    rd.merged(ws, head)
    if ws.max_row > MAX_ROWS:
        rd.add("too_many_rows", f"trang có {ws.max_row} dòng; giới hạn {MAX_ROWS}", ws.title,
               hint="xóa các dòng thừa ở cuối trang (Ctrl+End cho biết ô cuối cùng Excel còn giữ)")
        return False
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
        if cells_map is not None:
            here = cells_map.setdefault(code, {})
            for key, column in (("#row", "code"), ("#na", "na"), ("#justification", "justification"),
                                ("#documents", "doc_number")):
                if column in col:
                    here.setdefault(key, f"'{ws.title}'!{coord(column)}")
        acc = per_code.setdefault(code, {"values": {}, "docs": [], "na": [], "justification": [], "note": [],
                                         "rows": {}, "na_rows": []})
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
            if seen_rows is not None:
                seen_rows[(code, *key)] = (ws.title, row)
            if cells_map is not None:
                cells_map.setdefault(code, {})[name if item is None else f"{name}|{item}"] = f"'{ws.title}'!{coord('value')}"
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
            if raw is not _MISSING and kind == "level" and rule is not None:
                try:
                    parse_level(rule, raw)
                except ValueError_ as exc:
                    rd.add("bad_value", f"{label}: {exc}", ws.title, coord("value"), hint=exc.hint)
                    raw = _MISSING
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
            answer = workbook_yes_no(cells["na"])
            if answer is None:
                rd.add("bad_value", f"'Không phát sinh' phải là 'có' hoặc để trống (got '{cells['na']}')", ws.title,
                       coord("na"), hint="chọn 'có' trong danh sách thả xuống nếu tiêu chí không phát sinh trong năm, "
                                         "và ghi lý do ở cột 'Giải trình không phát sinh'")
            else:
                acc["na"].append((answer, coord("na")))
                if answer:
                    acc["na_rows"].append(row)
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
        if leaf_fields.get("na") and not (leaf_fields.get("justification") or "").strip():
            where = ws.cell(row=acc["na_rows"][0], column=col["justification"]).coordinate
            rd.add("missing_justification", f"'{code}' được đánh dấu 'Không phát sinh' nhưng chưa ghi lý do "
                   f"(not applicable without a justification)", ws.title, where,
                   hint="ghi lý do ở cột 'Giải trình không phát sinh' và dẫn văn bản chứng minh, ví dụ "
                        "'Năm 2025 không có cuộc thanh tra nào (Báo cáo 301/BC-STP)'")
        leaf = LeafEvidence(values=acc["values"], documents=tuple(acc["docs"]),
                            not_applicable=bool(leaf_fields.get("na", False)),
                            justification=leaf_fields.get("justification"), note=leaf_fields.get("note"))
        if leaf.values or leaf.documents or leaf.not_applicable or leaf.justification or leaf.note:
            evidence[code] = leaf
    return True


#: What a yes/no cell of the workbook may hold: the drop-down's có / không (without diacritics too, as typed on a
#: keyboard without Vietnamese input) and Excel's own TRUE / FALSE; see docs/excel.md.
_CELL_YES = {"có", "co"}
_CELL_NO = {"không", "khong"}


def workbook_yes_no(value: Any) -> bool | None:
    """True / False for a yes/no cell, None when the cell holds anything else."""
    if isinstance(value, bool):
        return value
    if isinstance(value, str):
        text = nfc(value).strip().lower()
        if text in _CELL_YES:
            return True
        if text in _CELL_NO:
            return False
    return None


def _deleted_rows(rd: _Reader, bundle: Any, seen: dict[tuple[str, str, str | None], tuple[str, int]],
                  sheets_read: list[str], sheetnames: list[str]) -> None:
    """Rows of the template that are gone: the points they carry would be quietly missing."""
    previous: tuple[str, int] | None = None
    gone_sheets: set[str] = set()
    for node in bundle.criteria.leaves():
        rule = bundle.rules.get(node.code)
        if rule is None:
            continue
        sheet = FIELD_SHEET.format(code=node.code.split(".")[0])
        for spec in rule.rule.evidence:
            items = [i.label for i in getattr(rule.rule, "items", ())] if spec.type == "dated_items" else [None]
            for item in items:
                key = (node.code, spec.name, item)
                if key in seen:
                    previous = seen[key]
                    continue
                if sheet in sheetnames and sheet not in sheets_read:
                    continue  # its header is broken: that problem is reported already
                if sheet not in sheetnames:
                    if sheet not in gone_sheets:
                        gone_sheets.add(sheet)
                        rd.add("deleted_sheet", f"trang '{sheet}' của tệp mẫu đã bị xóa; điểm của lĩnh vực này sẽ bị thiếu "
                               f"(a template sheet was deleted)", sheet,
                               hint="tạo lại tệp mẫu bằng 'parindex template -o mau.xlsx' rồi chép trang này sang")
                    continue
                what = f"'{spec.name}'" + (f" – {item}" if item else "")
                where = (f"chèn một dòng ngay dưới dòng {previous[1]} của trang '{previous[0]}'"
                         if previous and previous[0] == sheet else f"chèn một dòng ở đầu bảng của trang '{sheet}'")
                rd.add("deleted_row", f"dòng số liệu {what} của tiêu chí '{node.code}' đã bị xóa khỏi tệp mẫu; "
                       f"điểm của tiêu chí này sẽ bị thiếu (a template row was deleted)", sheet,
                       hint=f"{where}, ghi Mã '{node.code}', Tên số liệu '{spec.name}' (cột đang ẩn)"
                            + (f", Mục / kỳ '{item}'" if item else "")
                            + " (hoặc tạo lại tệp mẫu bằng 'parindex template' và chép số liệu sang)")


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
    if ev.unit_kind is not None:
        data["unit_kind"] = ev.unit_kind
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
