"""Build the corpus of province criteria tables (annex layouts) and the expected criteria of each.

Run from the repository root: ``python tests/data/criteria_tables/make_tables.py``. It writes, for
each table, ``<name>.xlsx`` (the annex as a province would lay it out) and ``<name>.expected.yaml``:
the tree the import must produce (dotted code, printed label, title, maximum points) and, for every
leaf, the rule kind its scale must become, a value a clerk would enter and the points that value
must score. The expected files are written from the specification below, never by parindex.

Every number here is illustrative (constructed examples, not any province's decision).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

import yaml
from openpyxl import Workbook
from openpyxl.styles import Alignment, Font

HERE = Path(__file__).resolve().parent


@dataclass
class N:
    """A node of a table: printed label, title, maximum points, and for a leaf its scale."""

    label: str
    title: str
    max: str | None  # as printed in the points cell (None: left empty)
    guidance: str | None = None  # scale text in the guidance cell
    levels: list[tuple[str, str | None]] = field(default_factory=list)  # level rows: (text, points cell)
    kind: str | None = None  # the rule kind the import must give the leaf
    fill: Any = None  # what a clerk enters in the workbook
    expect: str | None = None  # the points that value scores
    children: list[N] = field(default_factory=list)
    title_more: str | None = None  # the title's second line, in the row below (code cell merged down)
    note: str | None = None


@dataclass
class Table:
    name: str
    description: str
    fields: list[N]
    headers: dict[str, str]  # role → header text, in column order
    two_line: bool = False  # "Điểm" over "Tối đa" / "Tự chấm"
    layout: str = "one"  # one | tables_on_sheet | sheet_per_field
    field_row: str = "normal"  # normal | merged_code ("I. TITLE" over all columns) | merged_title
    column_numbers: bool = False
    total: bool = True
    footnotes: tuple[str, ...] = ()
    intro_sheet: bool = False
    int_codes: bool = False  # whole-number codes typed as numbers
    points_text: bool = False  # "3 điểm" in the points cells of the fields
    external: tuple[str, ...] = ()
    unread: tuple[str, ...] = ()  # problem codes the import must report for rows it cannot read


def leaf_total(n: N) -> Decimal:
    if n.children:
        return sum((leaf_total(c) for c in n.children), Decimal(0))
    return Decimal((n.max or "0").replace(",", ".").replace(" điểm", ""))


def dec(text: str) -> Decimal:
    return Decimal(text.replace(",", ".").replace(" điểm", "").replace("đ", "").strip())


# ------------------------------------------------------------------ the corpus

T1 = Table(
    "la-ma-huong-dan",
    "Roman fields, criteria restarting at 1 in each field, 1.1 below; scales in 'Hướng dẫn chấm điểm'; a row "
    "of column numbers; Tổng cộng and a footnote.",
    [
        N("I", "CÔNG TÁC CHỈ ĐẠO, ĐIỀU HÀNH CẢI CÁCH HÀNH CHÍNH", "6", children=[
            N("1", "Kế hoạch cải cách hành chính năm", "3", children=[
                N("1.1", "Ban hành kế hoạch cải cách hành chính năm", "1",
                  "Ban hành kịp thời: 1 điểm; ban hành không kịp thời: 0,5 điểm; không ban hành: 0 điểm",
                  kind="level", fill="Ban hành không kịp thời", expect="0.5"),
                N("1.2", "Mức độ thực hiện kế hoạch", "2",
                  "Từ 98% trở lên: 2 điểm; từ 90% đến dưới 98%: 1 điểm; dưới 90%: 0 điểm",
                  kind="threshold", fill="97,99%", expect="1"),
            ]),
            N("2", "Báo cáo cải cách hành chính định kỳ", "1", "Có: 1 điểm; Không: 0 điểm",
              kind="boolean", fill="có", expect="1"),
            N("3", "Sáng kiến cải cách hành chính được công nhận", "2",
              "Từ 03 sáng kiến trở lên: 2 điểm; 02 sáng kiến: 1 điểm; 01 sáng kiến: 0,5 điểm",
              kind="count", fill=2, expect="1"),
        ]),
        N("II", "CẢI CÁCH THỦ TỤC HÀNH CHÍNH", "5", children=[
            N("1", "Tỷ lệ hồ sơ giải quyết đúng hạn", "3",
              "Trên 99%: 3 điểm; từ 95% đến 99%: 2 điểm; dưới 95%: 0 điểm",
              kind="threshold", fill="99%", expect="2"),
            N("2", "Công khai thủ tục hành chính", "2", "Thực hiện: 2 điểm; Không thực hiện: 0 điểm",
              kind="boolean", fill="không", expect="0"),
        ]),
    ],
    {"code": "STT", "title": "Lĩnh vực/Tiêu chí/Tiêu chí thành phần", "max": "Điểm tối đa", "self": "Điểm tự chấm",
     "guidance": "Hướng dẫn chấm điểm", "docs": "Tài liệu kiểm chứng"},
    column_numbers=True,
    footnotes=("Ghi chú: điểm trong bảng là điểm minh họa (ví dụ dựng sẵn), không phải điểm của tỉnh nào.",),
)

T2 = Table(
    "thang-dong-1-1-1",
    "Straight 1 / 1.1 / 1.1.1 numbering, a header over two lines ('Điểm' over 'Tối đa' / 'Tự chấm'), scales as "
    "level rows under the sub-criterion, a leaf with no scale.",
    [
        N("1", "Công tác tuyên truyền cải cách hành chính", "3", children=[
            N("1.1", "Tuyên truyền, phổ biến", "3", children=[
                N("1.1.1", "Ban hành kế hoạch tuyên truyền cải cách hành chính", "1",
                  levels=[("- Ban hành kịp thời", "1"), ("- Không kịp thời", "0,5"), ("- Không ban hành", "0")],
                  kind="level", fill=3, expect="0"),
                N("1.1.2", "Tổ chức hội nghị, tọa đàm về cải cách hành chính", "2",
                  levels=[("- Tổ chức từ 02 cuộc trở lên", "2"), ("- Tổ chức 01 cuộc", "1"), ("- Không tổ chức", "0")],
                  kind="count", fill=1, expect="1"),
            ]),
        ]),
        N("2", "Cải cách tổ chức bộ máy", "2", children=[
            N("2.1", "Thực hiện quy định về cơ cấu tổ chức", "1,5",
              levels=[("- Đúng quy định", "1,5"), ("- Có sai sót nhưng đã khắc phục", "1"),
                      ("- Không đúng quy định", "0")],
              kind="level", fill="Có sai sót nhưng đã khắc phục", expect="1"),
            N("2.2", "Đánh giá của Thủ trưởng về tổ chức bộ máy", "0,5", kind="points", fill="0,25", expect="0.25"),
        ]),
    ],
    {"code": "STT", "title": "Lĩnh vực/Tiêu chí/Tiêu chí thành phần", "max": "Tối đa", "self": "Tự chấm",
     "docs": "Tài liệu kiểm chứng"},
    two_line=True,
)

T3 = Table(
    "chu-cai-la-ma-so",
    "A / I / 1 numbering; the part rows' titles merged across the columns (no points of their own); "
    "'Phương pháp đánh giá'; a per-unit count scale; a survey part marked --external.",
    [
        N("A", "ĐÁNH GIÁ KẾT QUẢ CẢI CÁCH HÀNH CHÍNH", None, children=[
            N("I", "Cải cách thể chế", "4", children=[
                N("1", "Tỷ lệ văn bản quy phạm pháp luật được rà soát", "2", "Đạt 100%: 2 điểm; dưới 100%: 0 điểm",
                  kind="threshold", fill="49/50", expect="0"),
                N("2", "Kiểm tra văn bản", "2", "Không có sai phạm: 2 điểm; Có sai phạm: 0 điểm",
                  kind="boolean", fill="có", expect="2"),
            ]),
            N("II", "Hiện đại hóa hành chính", "3", children=[
                N("1", "Tỷ lệ hồ sơ trực tuyến toàn trình", "2",
                  "Từ 80% trở lên: 2 điểm; từ 50% đến dưới 80%: 1 điểm; dưới 50%: 0 điểm",
                  kind="threshold", fill="80%", expect="2"),
                N("2", "Ứng dụng phần mềm dùng chung", "1", "Mỗi phần mềm dùng chung được 0,25 điểm, tối đa 1 điểm",
                  kind="count", fill=3, expect="0.75"),
            ]),
        ]),
        N("B", "ĐIỂM ĐIỀU TRA XÃ HỘI HỌC", None, children=[
            N("I", "Mức độ hài lòng của người dân, tổ chức", "2", "Do Sở Nội vụ cung cấp kết quả điều tra",
              kind="external", fill="1,5", expect="1.5"),
        ]),
    ],
    {"code": "TT", "title": "Nội dung tiêu chí", "max": "Điểm tối đa", "guidance": "Phương pháp đánh giá",
     "note": "Ghi chú"},
    field_row="merged_title", external=("2",), total=False,
)

T4 = Table(
    "nhieu-bang-mot-trang",
    "Several tables on one sheet, each field with its own banner and header; 'Thang điểm' holds the scale; "
    "a less-is-better rate; 'Cộng' rows; blank rows between tables.",
    [
        N("1", "Công tác chỉ đạo, điều hành", "4", children=[
            N("1.1", "Tỷ lệ hồ sơ chậm hạn", "2",
              "Tỷ lệ hồ sơ chậm hạn dưới 1%: 2 điểm; từ 1% đến dưới 3%: 1 điểm; từ 3% trở lên: 0 điểm",
              kind="threshold", fill="1%", expect="1"),
            N("1.2", "Thực hiện chế độ báo cáo", "2",
              "Thực hiện đầy đủ: 2 điểm\nThực hiện chưa đầy đủ: 1 điểm\nKhông thực hiện: 0 điểm",
              kind="level", fill=1, expect="2"),
        ]),
        N("2", "Cải cách tài chính công", "3", children=[
            N("2.1", "Tỷ lệ giải ngân vốn đầu tư công", "3",
              "Từ 95% trở lên: 3đ; từ 80% đến dưới 95%: 1,5đ; dưới 80%: 0đ",
              kind="threshold", fill="79,99%", expect="0", note="Theo số liệu của Kho bạc"),
        ]),
    ],
    {"code": "STT", "title": "Tiêu chí", "max": "Điểm", "guidance": "Thang điểm", "note": "Ghi chú"},
    layout="tables_on_sheet",
)

T5 = Table(
    "moi-trang-mot-linh-vuc",
    "One table per sheet (a sheet per field) after an instructions sheet; codes typed as numbers; "
    "field rows whose points are a formula with no cached value (taken from the children).",
    [
        N("I", "Cải cách chế độ công vụ", "3", children=[
            N("1", "Tỷ lệ công chức được đánh giá, xếp loại đúng hạn", "2",
              "Từ 100% trở lên: 2 điểm; từ 90% đến dưới 100%: 1 điểm; dưới 90%: 0 điểm",
              kind="threshold", fill="90%", expect="1"),
            N("2", "Vi phạm kỷ luật, kỷ cương hành chính", "1", "Không có sai phạm: 1 điểm; có sai phạm: 0 điểm",
              kind="boolean", fill="không", expect="0"),
        ]),
        N("II", "Xây dựng chính quyền điện tử", "2", children=[
            N("1", "Số dịch vụ công trực tuyến phát sinh hồ sơ", "2",
              "Từ 10 dịch vụ trở lên: 2 điểm; từ 5 đến 9 dịch vụ: 1 điểm; dưới 5 dịch vụ: 0 điểm",
              kind="count", fill=9, expect="1"),
        ]),
    ],
    {"code": "STT", "title": "Lĩnh vực/Tiêu chí/Tiêu chí thành phần", "max": "Điểm tối đa",
     "guidance": "Hướng dẫn chấm điểm"},
    layout="sheet_per_field", intro_sheet=True, int_codes=True, total=False,
)

T6 = Table(
    "ma-trong-o-gop",
    "The field's number and title in one cell merged over the row ('I. TITLE'); points written '3 điểm'; a "
    "title over two rows; strict bounds; a scale not recognised; a level row without points (reported).",
    [
        N("I", "CÔNG TÁC KIỂM SOÁT THỦ TỤC HÀNH CHÍNH", None, children=[
            N("1", "Tỷ lệ hồ sơ được giải quyết trước và đúng hạn", "2 điểm",
              "Trên 99% hồ sơ đúng hạn: 2 điểm; từ 97% đến 99%: 1 điểm; dưới 97%: 0 điểm",
              kind="threshold", fill="99,01%", expect="2", title_more="(tính trên tổng số hồ sơ đã giải quyết)"),
            N("2", "Mức độ hài lòng qua phiếu khảo sát tại bộ phận một cửa", "1,5 điểm",
              levels=[("- Rất hài lòng", "1,5"), ("- Hài lòng", "1"), ("- Chưa hài lòng", "0"),
                      ("- Có ý kiến phản ánh nhưng đã giải trình", None)],
              kind="level", fill="Hài lòng", expect="1"),
        ]),
        N("II", "CÔNG TÁC THANH TRA, KIỂM TRA", None, children=[
            N("1", "Thực hiện kết luận thanh tra", "1 điểm", "Thực hiện đầy đủ: 1 điểm",
              kind="boolean", fill="có", expect="1"),
            N("2", "Kết quả tự kiểm tra nội bộ", "0,5 điểm", "Căn cứ biên bản tự kiểm tra của đơn vị",
              kind="points", fill="0,5", expect="0.5"),
        ]),
    ],
    {"code": "STT", "title": "Lĩnh vực/Tiêu chí", "max": "Điểm tối đa", "self": "Điểm tự chấm",
     "guidance": "Hướng dẫn chấm điểm", "docs": "Tài liệu kiểm chứng"},
    field_row="merged_code", points_text=True, unread=("unread_level",),
)

TABLES = [T1, T2, T3, T4, T5, T6]


# ------------------------------------------------------------------ writing the workbooks


def _walk(nodes: list[N]) -> list[tuple[N, int]]:
    out: list[tuple[N, int]] = []

    def visit(n: N, depth: int) -> None:
        out.append((n, depth))
        for c in n.children:
            visit(c, depth + 1)

    for n in nodes:
        visit(n, 0)
    return out


def _header(ws: Any, t: Table, row: int) -> int:
    """Write the header at ``row``; returns the first data row."""
    roles = list(t.headers)
    bold = Font(bold=True)
    if t.two_line:
        for j, role in enumerate(roles, 1):
            if role in ("max", "self"):
                continue
            ws.cell(row, j, t.headers[role]).font = bold
            ws.merge_cells(start_row=row, start_column=j, end_row=row + 1, end_column=j)
        j_max = roles.index("max") + 1
        ws.cell(row, j_max, "Điểm").font = bold
        ws.merge_cells(start_row=row, start_column=j_max, end_row=row, end_column=j_max + 1)
        ws.cell(row + 1, j_max, t.headers["max"]).font = bold
        ws.cell(row + 1, j_max + 1, t.headers["self"]).font = bold
        row += 2
    else:
        for j, role in enumerate(roles, 1):
            c = ws.cell(row, j, t.headers[role])
            c.font, c.alignment = bold, Alignment(wrap_text=True)
        row += 1
    if t.column_numbers:
        for j in range(1, len(roles) + 1):
            ws.cell(row, j, f"({j})")
        row += 1
    return row


def _rows(ws: Any, t: Table, nodes: list[N], row: int) -> int:
    roles = list(t.headers)
    col = {role: j for j, role in enumerate(roles, 1)}
    width = len(roles)
    for n, depth in _walk(nodes):
        is_field = depth == 0
        code: Any = n.label
        if t.int_codes and n.label.isdigit():
            code = int(n.label)
        if is_field and t.field_row == "merged_code":
            ws.cell(row, 1, f"{n.label}. {n.title}").font = Font(bold=True)
            ws.merge_cells(start_row=row, start_column=1, end_row=row, end_column=width)
            row += 1
            continue
        ws.cell(row, col["code"], code)
        ws.cell(row, col["title"], n.title)
        if is_field and t.field_row == "merged_title":
            ws.merge_cells(start_row=row, start_column=col["title"], end_row=row, end_column=width)
            row += 1
            continue
        if n.max is not None:
            if t.layout == "sheet_per_field" and is_field:
                ws.cell(row, col["max"], f"=SUM({ws.cell(row + 1, col['max']).coordinate}:"
                                         f"{ws.cell(row + 20, col['max']).coordinate})")
            elif t.points_text or "điểm" in n.max:
                ws.cell(row, col["max"], n.max)
            else:
                value = dec(n.max)
                ws.cell(row, col["max"], int(value) if value == int(value) else float(value))
        if n.guidance and "guidance" in col:
            ws.cell(row, col["guidance"], n.guidance).alignment = Alignment(wrap_text=True)
        if n.note and "note" in col:
            ws.cell(row, col["note"], n.note)
        if n.title_more:
            row += 1
            ws.cell(row, col["title"], n.title_more)
            ws.merge_cells(start_row=row - 1, start_column=col["code"], end_row=row, end_column=col["code"])
        row += 1
        for text, pts in n.levels:
            ws.cell(row, col["title"], text)
            if pts is not None:
                value = dec(pts)
                ws.cell(row, col["max"], int(value) if value == int(value) else float(value))
            row += 1
    return row


def _total(ws: Any, t: Table, row: int, nodes: list[N], word: str = "Tổng cộng") -> int:
    col = {role: j for j, role in enumerate(t.headers, 1)}
    ws.cell(row, col["title"], word).font = Font(bold=True)
    total = sum((leaf_total(n) for n in nodes), Decimal(0))
    ws.cell(row, col["max"], int(total) if total == int(total) else float(total))
    return row + 1


def build(t: Table) -> Workbook:
    wb = Workbook()
    ws = wb.active
    width = len(t.headers)
    if t.intro_sheet:
        ws.title = "Hướng dẫn"
        ws["A1"] = "Hướng dẫn tự chấm điểm (ví dụ dựng sẵn)"
        ws["A2"] = "Các trang sau: mỗi trang một lĩnh vực."
        ws = wb.create_sheet("Lĩnh vực I")
    else:
        ws.title = "Phụ lục"
    if t.layout == "sheet_per_field":
        for i, f in enumerate(t.fields):
            if i:
                ws = wb.create_sheet(f"Lĩnh vực {f.label}")
            ws["A1"] = f"BẢNG TIÊU CHÍ – LĨNH VỰC {f.label} (ví dụ dựng sẵn)"
            row = _header(ws, t, 3)
            _rows(ws, t, [f], row)
        return wb
    ws["A1"] = "PHỤ LỤC"
    ws.merge_cells(start_row=1, start_column=1, end_row=1, end_column=width)
    ws["A2"] = "BẢNG TIÊU CHÍ XÁC ĐỊNH CHỈ SỐ CẢI CÁCH HÀNH CHÍNH CẤP SỞ (ví dụ dựng sẵn, điểm minh họa)"
    ws.merge_cells(start_row=2, start_column=1, end_row=2, end_column=width)
    if t.layout == "tables_on_sheet":
        row = 4
        for i, f in enumerate(t.fields, 1):
            ws.cell(row, 1, f"Bảng {i}. Lĩnh vực {f.label}: {f.title}").font = Font(bold=True)
            row = _header(ws, t, row + 1)
            row = _rows(ws, t, [f], row)
            row = _total(ws, t, row, [f], word=f"Cộng lĩnh vực {f.label}")
            row += 2  # blank rows between tables
        return wb
    row = _header(ws, t, 4)
    row = _rows(ws, t, t.fields, row)
    row += 1  # a blank row before the total
    if t.total:
        row = _total(ws, t, row, t.fields)
    for note in t.footnotes:
        ws.cell(row + 1, 1, note)
        row += 1
    return wb


# ------------------------------------------------------------------ the expected criteria


def expected(t: Table) -> dict[str, Any]:
    def node(n: N, code: str) -> dict[str, Any]:
        d: dict[str, Any] = {"code": code, "label": n.label, "title": " ".join(
            (n.title + (" " + n.title_more if n.title_more else "")).split()),
            "max_points": str(leaf_total(n))}
        if n.children:
            d["children"] = [node(c, f"{code}.{ordinal(c.label)}") for c in n.children]
        else:
            d.update({"kind": n.kind, "fill": n.fill, "expect": n.expect})
        return d

    return {"table": f"{t.name}.xlsx", "description": t.description, "scale": str(sum(leaf_total(f) for f in t.fields)),
            "external": list(t.external), "unread": list(t.unread),
            "fields": [node(f, str(ordinal(f.label))) for f in t.fields]}


def ordinal(label: str) -> int:
    roman = {"I": 1, "II": 2, "III": 3, "IV": 4, "V": 5, "VI": 6, "VII": 7, "VIII": 8, "IX": 9, "X": 10}
    if label in roman:
        return roman[label]
    if len(label) == 1 and label.isalpha():
        return ord(label) - ord("A") + 1
    return int(label.split(".")[-1])


def main() -> None:
    for t in TABLES:
        wb = build(t)
        wb.properties.creator = "parindex tests (constructed example)"
        wb.save(HERE / f"{t.name}.xlsx")
        text = ("# Expected import of " + t.name + ".xlsx (written by make_tables.py from its specification).\n"
                + yaml.safe_dump(expected(t), allow_unicode=True, sort_keys=False, width=110))
        (HERE / f"{t.name}.expected.yaml").write_text(text, encoding="utf-8")


if __name__ == "__main__":
    main()
