"""Lost points, largest first, each with its reason, evidence and guidance (in Vietnamese)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from scoring.core.evidence import format_number
from scoring.core.scorecard import OUTCOME_VI, PROVISIONAL_NOTE, NodeResult, Scorecard


def pts(value: Decimal | None) -> str:
    """Points the Vietnamese way: 1,5 ; 0,75 ; 12."""
    if value is None:
        return "–"
    return format_number(value)


def lost_items(card: Scorecard) -> list[dict[str, Any]]:
    """One record per leaf that lost points, largest loss first."""
    out = []
    for n in card.lost_points():
        out.append({
            "code": n.code, "title": n.title, "lost": n.lost, "points": n.points, "max_points": n.max_points,
            "outcome": n.outcome, "measured": n.measured_text, "target": n.target, "reason": n.reason,
            "evidence": [e.text for e in n.evidence], "guidance": n.guidance, "details": list(n.details),
            "external": n.external, "dossiers": {k: list(v) for k, v in n.dossiers.items()},
            "basis_tag": n.basis_tag, "basis_text": n.basis_text, "pending_survey": n.pending_survey,
        })
    return out


def explain_json(card: Scorecard) -> dict[str, Any]:
    data = card.to_json()
    items = []
    for item in lost_items(card):
        items.append({**item, "lost": float(item["lost"]), "points": float(item["points"]),
                      "max_points": float(item["max_points"])})
    total_lost = sum((n.lost for n in card.lost_points()), Decimal(0))
    supplyable = sum((n.lost for n in card.lost_points() if not n.pending_survey), Decimal(0))
    return {"department": data["department"], "year": data["year"], "criteria_set": data["criteria_set"],
            "points_status": data["points_status"], "illustrative_notice": data["illustrative_notice"],
            "total": data["total"], "lost_total": float(total_lost), "lost": items, "warnings": data["warnings"],
            "lost_supplyable_total": float(supplyable), "unit_kind": data["unit_kind"]}


DOSSIERS_SHOWN = 5


def workbook_lines(n: NodeResult) -> list[str]:
    """Where to fill in, in the workbook's terms, when the evidence came from a workbook."""
    if not n.cells:
        return []
    out = []
    missing = [(name, n.cells[name]) for name in n.missing if name in n.cells]
    if missing:
        out.append("Điền vào bảng tính: " + "; ".join(f"cột 'Giá trị' ô {cell} (số liệu '{name}')"
                                                     for name, cell in missing))
    if not any(e.kind == "document" for e in n.evidence) and "#documents" in n.cells:
        out.append(f"Ghi văn bản chứng minh từ ô {n.cells['#documents']} (cột 'Số hiệu văn bản', 'Ngày ban hành', "
                   "'Cơ quan ban hành', 'Trích yếu'); thêm dòng dưới dòng của tiêu chí nếu có nhiều văn bản")
    return out


def _leaf_block(i: int, n: NodeResult, markdown: bool, all_dossiers: bool = False) -> list[str]:
    head = f"{i}. {n.code} {n.title}: mất {pts(n.lost)}/{pts(n.max_points)} điểm ({OUTCOME_VI[n.outcome or 'not_met']})"
    lines = [f"### {head}" if markdown else head]
    bullet = "- " if markdown else "   "
    if n.external:
        lines.append(f"{bullet}Nguồn điểm: điều tra xã hội học do tỉnh cung cấp (không tự chấm)")
    if n.basis_text:
        lines.append(f"{bullet}Căn cứ ngưỡng điểm [{n.basis_tag}]: {n.basis_text}")
    lines.append(f"{bullet}Lý do: {n.reason}")
    if n.measured_text and n.outcome != "missing_evidence":
        lines.append(f"{bullet}Kết quả đo: {n.measured_text} | Mục tiêu: {n.target}")
    if n.evidence:
        lines.append(f"{bullet}Tài liệu kiểm chứng:")
        for e in n.evidence:
            lines.append(f"{'  - ' if markdown else '     • '}{e.text}" + (f" (ô {e.cell})" if e.cell else ""))
    else:
        lines.append(f"{bullet}Tài liệu kiểm chứng: (chưa có)")
    lines.extend(f"{bullet}{line}" for line in workbook_lines(n))
    for label, ids in n.dossiers.items():
        shown = ids if all_dossiers else ids[:DOSSIERS_SHOWN]
        more = len(ids) - len(shown)
        lines.append(f"{bullet}{label} ({len(ids)}): {', '.join(shown)}"
                     + (f" … và {more} mục khác (xem tất cả: --all-dossiers)" if more else ""))
    if n.guidance:
        lines.append(f"{bullet}Cần làm: {n.guidance}")
    return lines


def explain_text(card: Scorecard, markdown: bool = False, all_dossiers: bool = False) -> str:
    lost = card.lost_points()
    total_lost = sum((n.lost for n in lost), Decimal(0))
    title = f"Giải trình điểm bị mất – {card.department}, năm {card.year}"
    lines = [f"# {title}" if markdown else title, ""]
    t = card.total
    lines.append(f"Tổng điểm: {pts(t.points)}/{pts(t.max_points)} ({pts(t.percent)}%"
                 + (f", {PROVISIONAL_NOTE}" if t.provisional else "") + "). "
                 f"Điểm bị mất ở các tiêu chí: {pts(total_lost)} điểm, {len(lost)} tiêu chí thành phần.")
    pending = [n for n in lost if n.pending_survey]
    if pending:
        lines.append(f"Trong đó {pts(sum((n.lost for n in pending), Decimal(0)))} điểm của {len(pending)} tiêu chí "
                     "điều tra xã hội học chờ tỉnh công bố, đơn vị không tự bổ sung được (liệt kê sau cùng).")
    if card.points_status == "illustrative":
        lines.append("Lưu ý: điểm tối đa là MINH HỌA, chưa phải điểm chính thức của tỉnh.")
    for w in card.warnings:
        lines.append(f"Lưu ý: {w}")
    lines.append("")
    if not lost:
        lines.append("Không mất điểm ở tiêu chí nào.")
    for i, n in enumerate(lost, 1):
        lines.extend(_leaf_block(i, n, markdown, all_dossiers))
        lines.append("")
    return "\n".join(lines).rstrip() + "\n"
