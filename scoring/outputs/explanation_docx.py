"""The giải trình letter (.docx): one section per difference with the appraisal council, with the
clerk's edited text (or parindex's draft)."""

from __future__ import annotations

import io
from decimal import Decimal
from typing import Any

from scoring.core.evidence import format_number


def _pts(value: Any) -> str:
    return format_number(Decimal(str(value)))


def explanation_docx(comparison: dict[str, Any], texts: dict[str, str], round_title: str) -> bytes:
    """``comparison`` is the JSON of ``compare`` (as stored); ``texts`` the explanation of each code."""
    from docx import Document
    from docx.shared import Pt

    doc = Document()
    style = doc.styles["Normal"]
    style.font.name = "Times New Roman"
    style.font.size = Pt(13)
    doc.add_heading(f"GIẢI TRÌNH KẾT QUẢ THẨM ĐỊNH CHỈ SỐ CCHC NĂM {comparison['year']}", level=1)
    doc.add_paragraph(f"Đơn vị: {comparison['department']}")
    doc.add_paragraph(f"Vòng: {round_title}")
    t = comparison["totals"]
    doc.add_paragraph(f"Điểm tự chấm: {_pts(t['self'])}/{_pts(t['max_points'])}; điểm thẩm định: {_pts(t['final'])}; "
                      f"chênh lệch: {_pts(t['difference'])}.")
    if comparison.get("constructed_example"):
        doc.add_paragraph("Số liệu: VÍ DỤ DỰNG SẴN, không phải số liệu thật của đơn vị.")
    if comparison.get("illustrative_notice"):
        doc.add_paragraph(f"Lưu ý: {comparison['illustrative_notice']}")
    for d in comparison["differences"]:
        doc.add_heading(f"{d['code']} {d['title']}", level=2)
        doc.add_paragraph(f"Tự chấm {_pts(d['self_points'])}, thẩm định {_pts(d['final_points'])} "
                          f"(tối đa {_pts(d['max_points'])}).")
        if d.get("council_note"):
            doc.add_paragraph(f"Ý kiến của Hội đồng: {d['council_note']}")
        doc.add_paragraph(texts.get(d["code"]) or d["draft_explanation"])
    buf = io.BytesIO()
    doc.save(buf)
    return buf.getvalue()
