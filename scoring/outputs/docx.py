"""The self-assessment report in Word: "Báo cáo kết quả tự đánh giá, chấm điểm Chỉ số CCHC năm …".

Layout of an administrative report (Nghị định 30/2020/NĐ-CP): the issuing body and the national
motto side by side, number and date left blank for the Office, the title, then
I. the summary (total, index, band, notices), II. the self-scoring table (landscape pages),
III. the explanation of every lost point, largest first, and the signature block.
"""

from __future__ import annotations

import io
import re
from decimal import Decimal
from typing import Any

from scoring.analysis.explain import pts
from scoring.core.scorecard import OUTCOME_VI, Scorecard

FONT = "Times New Roman"


def _issuer_lines(department: str) -> tuple[str, str, str]:
    """(superior body, department, place) from e.g. 'Sở Tư pháp tỉnh Lạng Sơn'."""
    m = re.match(r"^(.*?)\s+(tỉnh|thành phố)\s+(.+)$", department.strip())
    if m:
        return f"UBND {m.group(2).upper()} {m.group(3).upper()}", m.group(1).upper(), m.group(3)
    return "", department.upper(), "……"


def scorecard_docx(card: Scorecard) -> bytes:
    """Render the self-assessment report as a .docx file (bytes)."""
    from docx import Document
    from docx.enum.section import WD_ORIENT
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.shared import Cm, Pt, RGBColor

    doc = Document()
    normal = doc.styles["Normal"]
    normal.font.name = FONT
    normal.font.size = Pt(13)
    normal.paragraph_format.space_after = Pt(4)
    _east_asian_font(normal)
    sec = doc.sections[0]
    sec.page_height, sec.page_width = Cm(29.7), Cm(21)
    sec.top_margin = sec.bottom_margin = Cm(2)
    sec.left_margin, sec.right_margin = Cm(3), Cm(1.5)

    superior, dept, place = _issuer_lines(card.department)
    if not superior and re.search(r"Lạng Sơn|lạng sơn", card.department):  # "Ban … Đồng Đăng - Lạng Sơn"
        superior, place = "UBND TỈNH LẠNG SƠN", "Lạng Sơn"
    head = doc.add_table(rows=1, cols=2)
    head.autofit = False
    head.columns[0].width, head.columns[1].width = Cm(6.5), Cm(10)
    left, right = head.rows[0].cells
    left.width, right.width = Cm(6.5), Cm(10)
    _cell_lines(left, [(superior, False), (dept, True), ("Số:      /BC-……", False)], size=12)
    _cell_lines(right, [("CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", True), ("Độc lập - Tự do - Hạnh phúc", True),
                        (f"{place}, ngày …… tháng …… năm ……", False)], size=12,
                italic_last=True)

    title = doc.add_paragraph()
    title.alignment = WD_ALIGN_PARAGRAPH.CENTER
    title.paragraph_format.space_before = Pt(18)
    _run(title, "BÁO CÁO", bold=True, size=14)
    sub = doc.add_paragraph()
    sub.alignment = WD_ALIGN_PARAGRAPH.CENTER
    _run(sub, f"Kết quả tự đánh giá, chấm điểm Chỉ số cải cách hành chính năm {card.year}", bold=True, size=14)

    t = card.total
    for text in card.notices():
        p = doc.add_paragraph()
        _run(p, text, italic=True, bold=True, size=12, color=RGBColor(0xC0, 0, 0))

    _para(doc, f"Căn cứ {card.criteria_title} (mã {card.criteria_set}), {card.department} báo cáo kết quả tự đánh "
               f"giá, chấm điểm Chỉ số cải cách hành chính năm {card.year} như sau:", indent=True)

    _heading(doc, "I. KẾT QUẢ TỰ ĐÁNH GIÁ, CHẤM ĐIỂM")
    band = f", thuộc nhóm «{t.band}»" if t.band else ""
    provisional = " (tạm tính, chưa có kết quả điều tra xã hội học)" if t.provisional else ""
    _para(doc, f"1. Tổng điểm tự đánh giá: {pts(t.points)}/{pts(t.max_points)} điểm; Chỉ số cải cách hành chính "
               f"đạt {pts(t.percent)}%{band}{provisional}.", indent=True)
    _para(doc, f"2. Điểm các lĩnh vực: {pts(t.fields_points)} điểm; điểm thưởng: +{pts(t.bonus)}; điểm phạt: "
               f"−{pts(t.penalty)}. Phần tự chấm (không gồm điều tra xã hội học): "
               f"{pts(t.self_assessed_points)}/{pts(t.self_assessed_max_points)} điểm.", indent=True)
    lost = card.lost_points()
    lost_total = sum((n.lost for n in lost), Decimal(0))
    _para(doc, f"3. Số tiêu chí thành phần chưa đạt điểm tối đa: {len(lost)}, tổng số điểm bị mất {pts(lost_total)} "
               "điểm (giải trình tại mục III).", indent=True)
    _para(doc, "4. Kết quả theo từng lĩnh vực:", indent=True)
    for n in card.nodes:
        if n.level == "field":
            pct = f" ({pts(n.percent)}%)" if n.percent is not None else ""
            _para(doc, f"- Lĩnh vực {n.code}. {n.title}: {pts(n.points)}/{pts(n.max_points)} điểm{pct}.", indent=True)
    for w in card.warnings:
        _para(doc, f"Lưu ý: {w}", indent=True, italic=True)

    # II. the table, on landscape pages
    table_sec = doc.add_section()
    table_sec.orientation = WD_ORIENT.LANDSCAPE
    table_sec.page_width, table_sec.page_height = Cm(29.7), Cm(21)
    table_sec.left_margin = table_sec.right_margin = Cm(1.5)
    table_sec.top_margin = table_sec.bottom_margin = Cm(1.5)
    _heading(doc, "II. BẢNG TỰ ĐÁNH GIÁ, CHẤM ĐIỂM CHI TIẾT")
    _score_table(doc, card)

    back = doc.add_section()
    back.orientation = WD_ORIENT.PORTRAIT
    back.page_width, back.page_height = Cm(21), Cm(29.7)
    back.top_margin = back.bottom_margin = Cm(2)
    back.left_margin, back.right_margin = Cm(3), Cm(1.5)
    _heading(doc, "III. GIẢI TRÌNH CÁC TIÊU CHÍ THÀNH PHẦN CHƯA ĐẠT ĐIỂM TỐI ĐA")
    if not lost:
        _para(doc, "Không có tiêu chí thành phần nào bị mất điểm.", indent=True)
    for i, n in enumerate(lost, 1):
        p = doc.add_paragraph()
        p.paragraph_format.first_line_indent = Cm(1)
        p.paragraph_format.space_before = Pt(6)
        _run(p, f"{i}. Tiêu chí {n.code} – {n.title}: ", bold=True)
        _run(p, f"đạt {pts(n.points)}/{pts(n.max_points)} điểm, mất {pts(n.lost)} điểm "
                f"({OUTCOME_VI.get(n.outcome or '', '')})" + (f" [{n.basis_tag}]." if n.basis_tag else "."))
        if n.basis_text:
            _bullet(doc, "Căn cứ ngưỡng điểm", n.basis_text)
        if n.external:
            _bullet(doc, "Nguồn điểm", "điều tra xã hội học do tỉnh cung cấp (đơn vị không tự chấm).")
        _bullet(doc, "Lý do", n.reason or "")
        if n.measured_text and n.outcome != "missing_evidence":
            _bullet(doc, "Kết quả đo", f"{n.measured_text}; mục tiêu: {n.target}.")
        docs = [e.text for e in n.evidence]
        _bullet(doc, "Tài liệu kiểm chứng", "; ".join(docs) + "." if docs else "(chưa có).")
        for label, ids in n.dossiers.items():
            shown = ", ".join(ids[:5]) + (f" … và {len(ids) - 5} hồ sơ khác" if len(ids) > 5 else "")
            _bullet(doc, label, f"{len(ids)} hồ sơ: {shown}.")
        if n.guidance:
            _bullet(doc, "Hướng khắc phục", n.guidance)

    _heading(doc, "IV. ĐỀ XUẤT, KIẾN NGHỊ")
    _para(doc, "…………………………………………………………………………", indent=True)
    _signature(doc, dept, card.unit)
    buf = io.BytesIO()
    doc.save(buf)
    return buf.getvalue()


# ---------------------------------------------------------------- pieces


def _east_asian_font(style: Any) -> None:
    from docx.oxml.ns import qn

    rpr = style.element.get_or_add_rPr()
    fonts = rpr.find(qn("w:rFonts"))
    if fonts is None:
        fonts = rpr.makeelement(qn("w:rFonts"), {})
        rpr.append(fonts)
    for attr in ("w:ascii", "w:hAnsi", "w:cs", "w:eastAsia"):
        fonts.set(qn(attr), FONT)


def _run(p: Any, text: str, bold: bool = False, italic: bool = False, size: float | None = None,
         color: Any = None) -> Any:
    from docx.shared import Pt

    r = p.add_run(text)
    r.bold, r.italic = bold, italic
    if size:
        r.font.size = Pt(size)
    if color is not None:
        r.font.color.rgb = color
    return r


def _para(doc: Any, text: str, indent: bool = False, italic: bool = False) -> Any:
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.shared import Cm

    p = doc.add_paragraph()
    p.alignment = WD_ALIGN_PARAGRAPH.JUSTIFY
    if indent:
        p.paragraph_format.first_line_indent = Cm(1)
    _run(p, text, italic=italic)
    return p


def _bullet(doc: Any, label: str, text: str) -> None:
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.shared import Cm

    p = doc.add_paragraph()
    p.alignment = WD_ALIGN_PARAGRAPH.JUSTIFY
    p.paragraph_format.first_line_indent = Cm(1)
    p.paragraph_format.space_after = 0
    _run(p, f"- {label}: ", italic=True)
    _run(p, text)


def _heading(doc: Any, text: str) -> None:
    from docx.shared import Cm, Pt

    p = doc.add_paragraph()
    p.paragraph_format.space_before = Pt(10)
    p.paragraph_format.first_line_indent = Cm(1)
    p.paragraph_format.keep_with_next = True
    _run(p, text, bold=True)


def _cell_lines(cell: Any, lines: list[tuple[str, bool]], size: float, italic_last: bool = False) -> None:
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.shared import Pt

    cell.paragraphs[0].text = ""
    for i, (text, bold) in enumerate(lines):
        p = cell.paragraphs[0] if i == 0 else cell.add_paragraph()
        p.alignment = WD_ALIGN_PARAGRAPH.CENTER
        p.paragraph_format.space_after = Pt(0)
        if italic_last and i == len(lines) - 1:
            p.paragraph_format.space_before = Pt(6)
        _run(p, text, bold=bold, italic=italic_last and i == len(lines) - 1, size=size)


def _shade(cell: Any, fill: str) -> None:
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn

    tcpr = cell._tc.get_or_add_tcPr()
    shd = OxmlElement("w:shd")
    shd.set(qn("w:val"), "clear")
    shd.set(qn("w:color"), "auto")
    shd.set(qn("w:fill"), fill)
    tcpr.append(shd)


def _repeat_header(row: Any) -> None:
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn

    trpr = row._tr.get_or_add_trPr()
    el = OxmlElement("w:tblHeader")
    el.set(qn("w:val"), "true")
    trpr.append(el)


def _score_table(doc: Any, card: Scorecard) -> None:
    from docx.enum.table import WD_TABLE_ALIGNMENT
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.shared import Cm, Pt

    headers = ["STT", "Lĩnh vực / Tiêu chí / Tiêu chí thành phần", "Điểm tối đa", "Điểm tự đánh giá",
               "Tài liệu kiểm chứng", "Giải trình / ghi chú"]
    widths = [Cm(1.4), Cm(7.2), Cm(1.6), Cm(1.8), Cm(7.2), Cm(7.4)]
    table = doc.add_table(rows=1, cols=6)
    table.style = "Table Grid"
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    table.autofit = False
    for col, w in zip(table.columns, widths):
        col.width = w

    def fill(row: Any, values: list[str], bold: bool = False, italic: bool = False, shade: str | None = None) -> None:
        for i, (cell, text) in enumerate(zip(row.cells, values)):
            cell.width = widths[i]
            p = cell.paragraphs[0]
            p.paragraph_format.space_after = Pt(0)
            if i in (0, 2, 3):
                p.alignment = WD_ALIGN_PARAGRAPH.CENTER
            lines = text.split("\n")
            for j, line in enumerate(lines):
                if j:
                    p = cell.add_paragraph()
                    p.paragraph_format.space_after = Pt(0)
                _run(p, line, bold=bold, italic=italic, size=10)
            if shade:
                _shade(cell, shade)

    fill(table.rows[0], headers, bold=True, shade="DDEBF7")
    _repeat_header(table.rows[0])
    for n in card.nodes:
        field = n.level == "field"
        if n.is_leaf:
            docs = "\n".join(f"- {e.text}" for e in n.evidence if e.kind == "document")
            label = OUTCOME_VI.get(n.outcome or "", "")
            reason = n.reason or ""
            note = reason if reason.startswith(label) else f"{label}. {reason}"
            if n.external:
                note = "Điểm điều tra xã hội học do tỉnh cung cấp. " + note
            if n.max_points != n.nominal_max_points:
                note += f" (Điểm tối đa gốc {pts(n.nominal_max_points)}.)"
        else:
            docs, note = "", ""
        shown = pts(n.points)
        if n.is_leaf and n.basis_tag:
            note = f"[{n.basis_tag}] {note}"
        fill(table.add_row(), [n.code, n.title.upper() if field else n.title, pts(n.max_points), shown,
                               docs, note], bold=not n.is_leaf, italic=not n.is_leaf and not field,
             shade="E2EFDA" if field else None)
    t = card.total
    fill(table.add_row(), ["", "Cộng điểm các lĩnh vực", pts(t.max_points), pts(t.fields_points), "", ""], bold=True)
    fill(table.add_row(), ["", "Điểm thưởng", "", f"+{pts(t.bonus)}", "",
                           "; ".join(f"{a.title} ({a.count} lần)" for a in card.bonus_items)], bold=True)
    fill(table.add_row(), ["", "Điểm phạt", "", f"−{pts(t.penalty)}", "",
                           "; ".join(f"{a.title} ({a.count} lần)" for a in card.penalty_items)], bold=True)
    fill(table.add_row(), ["", "TỔNG ĐIỂM", pts(t.max_points), pts(t.points), "",
                           f"Chỉ số {pts(t.percent)}%" + (f"; nhóm: {t.band}" if t.band else "")
                           + ("; tạm tính, chưa có kết quả điều tra xã hội học" if t.provisional else "")], bold=True,
         shade="FFF2CC")


def _signature(doc: Any, dept: str, unit: Any = None) -> None:
    from docx.shared import Cm, Pt

    table = doc.add_table(rows=1, cols=2)
    table.autofit = False
    table.columns[0].width, table.columns[1].width = Cm(8), Cm(8.5)
    left, right = table.rows[0].cells
    left.width, right.width = Cm(8), Cm(8.5)
    p = left.paragraphs[0]
    p.paragraph_format.space_before = Pt(12)
    _run(p, "Nơi nhận:", bold=True, italic=True, size=12)
    leadership, head = (unit.leadership, unit.head) if unit is not None else ("Lãnh đạo Sở", "GIÁM ĐỐC")
    for line in ("- Sở Nội vụ (để tổng hợp);", f"- {leadership};", "- Lưu: VT, VP."):
        q = left.add_paragraph()
        q.paragraph_format.space_after = Pt(0)
        _run(q, line, size=11)
    _cell_lines(right, [(head, True), ("(Ký, ghi rõ họ tên, đóng dấu)", False)], size=13, italic_last=True)
    right.paragraphs[0].paragraph_format.space_before = Pt(12)
