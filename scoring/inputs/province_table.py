"""A province's criteria table (.xlsx) read into a criteria file and a rules skeleton."""

from __future__ import annotations

import re
import tempfile
import unicodedata
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any, Iterable

from scoring.core.criteria import load_criteria
from scoring.core.errors import (
    DefinitionError,
    InputError,
    Problem,
    ProblemList,
    did_you_mean,
)
from scoring.core.yamlio import dump_yaml, nfc
from scoring.inputs.workbook import (
    HEADER_SCAN_ROWS,
    MAX_ROWS,
    _norm,
)
from scoring.inputs.workbook_reader import (
    open_workbook,
)
from scoring.outputs.xlsx import (
    _num,
)

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
