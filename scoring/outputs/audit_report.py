"""The evidence audit as a terminal table and as a workbook of gaps."""

from __future__ import annotations

import io
from typing import Any

from scoring.core.scorecard import ILLUSTRATIVE_NOTICE
from scoring.analysis.audit import (
    AuditResult,
    KIND_VI,
    SEVERITY_VI,
    _num,
    _pts,
)


# ------------------------------------------------------------------ rendering


def render_table(result: AuditResult) -> str:
    c = result.card
    s = result.summary()
    lines = [f"RÀ SOÁT TÀI LIỆU KIỂM CHỨNG – {c.department}, năm {c.year}",
             f"Tệp tài liệu kiểm chứng: {result.evidence_file}",
             "Thư mục văn bản: " + (result.documents_dir or "(không kiểm tra tệp; thêm --documents THƯ_MỤC)")]
    if c.constructed_example:
        lines.append("Số liệu: VÍ DỤ DỰNG SẴN, không phải số liệu thật của đơn vị.")
    if c.points_status == "illustrative":
        lines.append(f"Lưu ý: {ILLUSTRATIVE_NOTICE}")
    lines.append(f"Điểm tự chấm hiện tại: {_pts(c.total.points)}/{_pts(c.total.max_points)}"
                 + (" (tạm tính, chưa có kết quả điều tra xã hội học)." if c.total.provisional else "."))
    lines.extend(f"Lưu ý: {n}" for n in result.notes)
    lines.append("")
    if not result.gaps:
        lines.append("Không phát hiện vấn đề nào về tài liệu kiểm chứng.")
        return "\n".join(lines) + "\n"
    lines.append(f"Có {s['gaps']} vấn đề ở {s['codes_with_gaps']} mục; điểm có nguy cơ bị trừ: "
                 f"{_pts(result.points_at_risk())} điểm.")
    lines.append("Theo loại: " + "; ".join(f"{KIND_VI[k]} {n}" for k, n in s["by_kind"].items() if n))
    lines.append("Theo mức độ: " + ", ".join(f"{SEVERITY_VI[k]} {n}" for k, n in s["by_severity"].items()))
    lines.append("")
    for i, g in enumerate(result.gaps, 1):
        head = f"{i}. [{SEVERITY_VI[g.severity]}] {g.code}"
        if g.title:
            head += f" {g.title}"
        lines.append(f"{head} | {KIND_VI[g.kind]} | {_pts(g.points_at_risk)} điểm")
        lines.append(f"   Vấn đề: {g.message}")
        lines.append(f"   Khắc phục: {g.fix}")
        if g.file:
            lines.append(f"   Vị trí: {g.file}" + (f", dòng {g.line}" if g.line else "")
                         + (f", ô {g.cell}" if g.cell else ""))
    return "\n".join(lines) + "\n"


XLSX_COLUMNS = ("STT", "Mã", "Tiêu chí", "Loại vấn đề", "Mức độ", "Điểm có nguy cơ bị trừ", "Vấn đề",
                "Cách khắc phục", "Tệp", "Dòng", "Mã loại vấn đề", "Mã mức độ", "Ô trong bảng tính")


def render_xlsx(result: AuditResult) -> bytes:
    """A workbook with the gaps (one row each) and a summary sheet."""
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font
    from openpyxl.utils import get_column_letter

    wb = Workbook()
    ws = wb.active
    ws.title = "Vấn đề"
    ws.append(list(XLSX_COLUMNS))
    for cell in ws[1]:
        cell.font = Font(bold=True)
    for i, g in enumerate(result.gaps, 1):
        ws.append([i, g.code, g.title or "", KIND_VI[g.kind], SEVERITY_VI[g.severity], _num(g.points_at_risk),
                   g.message, g.fix, g.file or "", g.line, g.kind, g.severity, g.cell or ""])
        ws.cell(row=i + 1, column=6).number_format = "0.##"
    widths = (5, 14, 40, 28, 11, 12, 70, 60, 30, 6, 22, 9, 22)
    for col, width in enumerate(widths, 1):
        ws.column_dimensions[get_column_letter(col)].width = width
    for row in ws.iter_rows(min_row=2):
        for cell in row:
            cell.alignment = Alignment(wrap_text=True, vertical="top")
    ws.freeze_panes = "A2"
    ws.auto_filter.ref = ws.dimensions

    s = result.summary()
    sm = wb.create_sheet("Tổng hợp")
    c = result.card
    rows: list[list[Any]] = [
        ["Đơn vị", c.department], ["Năm đánh giá", c.year], ["Tệp tài liệu kiểm chứng", result.evidence_file],
        ["Điểm tự chấm hiện tại", _num(c.total.points)], ["Điểm tối đa", _num(c.total.max_points)],
        ["Số vấn đề", s["gaps"]], ["Điểm có nguy cơ bị trừ", s["points_at_risk"]], [],
        ["Loại vấn đề", "Số vấn đề"],
    ]
    rows += [[KIND_VI[k], n] for k, n in s["by_kind"].items()]
    rows += [[], ["Mức độ", "Số vấn đề"]] + [[SEVERITY_VI[k], n] for k, n in s["by_severity"].items()]
    if c.constructed_example:
        rows += [[], ["Số liệu: VÍ DỤ DỰNG SẴN, không phải số liệu thật của đơn vị."]]
    if c.points_status == "illustrative":
        rows += [[ILLUSTRATIVE_NOTICE]]
    rows += [[f"Lưu ý: {n}"] for n in result.notes]
    for row in rows:
        sm.append(row)
    sm.column_dimensions["A"].width = 45
    sm.column_dimensions["B"].width = 40
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()
