"""The official self-scoring table (.xlsx): one row per node, subtotals as Excel formulas, the lost points."""

from __future__ import annotations

import io
import re
import zipfile
from decimal import Decimal
from typing import Any

from scoring.analysis.explain import pts
from scoring.core.scorecard import OUTCOME_VI
from scoring.inputs.workbook import (
    _auto_height,
    _look,
    _page,
    _styles,
)

# ====================================================================== the self-scoring table


def scorecard_xlsx(card: Any) -> bytes:
    """The official self-scoring table: one row per node; subtotals and totals are Excel formulas
    (=SUM of the children's cells), leaves hold values; a second sheet lists the lost points."""
    from openpyxl import Workbook
    from openpyxl.styles import Alignment

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
    from scoring.core.rules import BASIS_LEGEND

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
