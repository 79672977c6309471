"""Render a scorecard: terminal table, markdown self-scoring table, CSV, JSON."""

from __future__ import annotations

import io
import json
import textwrap
from typing import Any

import orjson

from scoring.analysis.explain import pts
from scoring.core.rules import BASIS_LEGEND
from scoring.core.scorecard import OUTCOME_VI, PROVISIONAL_NOTE, Scorecard

FORMATS = ("table", "json", "markdown", "csv")


def _header(card: Scorecard) -> list[str]:
    lines = [f"BẢNG TỰ ĐÁNH GIÁ, CHẤM ĐIỂM CHỈ SỐ CẢI CÁCH HÀNH CHÍNH NĂM {card.year}",
             f"Đơn vị: {card.department}",
             f"Loại đơn vị: {card.unit.label}",
             f"Bộ tiêu chí: {card.criteria_title} [{card.criteria_set}]"]
    return lines + card.notices()


def provisional_suffix(card: Scorecard) -> str:
    """" (tạm tính, …)" after a total, index or band while the survey points are missing."""
    return f" ({PROVISIONAL_NOTE})" if card.total.provisional else ""


def basis_cell(n: Any) -> str:
    """The rule's basis beside a leaf's points: "[KH/MH]" (see rules.BASIS_LEGEND)."""
    return f" [{n.basis_tag}]" if n.is_leaf and n.basis_tag else ""


def _total_lines(card: Scorecard) -> list[str]:
    t = card.total
    lines = [f"Tổng điểm các lĩnh vực: {pts(t.fields_points)}/{pts(t.max_points)}"]
    if t.bonus or t.bonus_claimed:
        lines.append(f"Điểm thưởng: +{pts(t.bonus)}" + (f" (đề nghị {pts(t.bonus_claimed)}, vượt mức tối đa)" if t.bonus_claimed > t.bonus else ""))
    if t.penalty or t.penalty_claimed:
        lines.append(f"Điểm phạt: −{pts(t.penalty)}")
    lines.append(f"TỔNG ĐIỂM: {pts(t.points)}/{pts(t.max_points)} – CHỈ SỐ: {pts(t.percent)}%"
                 + (f" – Nhóm: {t.band}" if t.band else "") + provisional_suffix(card))
    lines.append(f"Phần tự chấm (không gồm điều tra xã hội học): {pts(t.self_assessed_points)}/{pts(t.self_assessed_max_points)}")
    lines.extend(f"Lưu ý: {w}" for w in card.warnings)
    return lines


def render_table(card: Scorecard, width: int = 110) -> str:
    title_w = max(30, width - 48)
    out = _header(card) + [""]
    head = f"{'Mã':<7} {'Lĩnh vực / Tiêu chí / Tiêu chí thành phần':<{title_w}} {'Tối đa':>6} {'Điểm':>6} {'Mất':>5}  Kết quả"
    out += [head, "─" * len(head)]
    for n in card.nodes:
        indent = "  " * n.code.count(".")
        title = n.title.upper() if n.level == "field" else n.title
        wrapped = textwrap.wrap(indent + title, title_w, subsequent_indent=indent + "  ") or [""]
        outcome = OUTCOME_VI[n.outcome] if n.outcome else ""
        if n.external and n.is_leaf:
            outcome += " (ĐTXHH)"
        out.append(f"{n.code:<7} {wrapped[0]:<{title_w}} {pts(n.max_points):>6} {pts(n.points):>6} "
                   f"{pts(n.lost) if n.lost else '':>5}  {outcome}{basis_cell(n)}")
        out += [f"{'':<7} {w}" for w in wrapped[1:]]
    out += ["─" * len(head)] + _total_lines(card)
    if any(n.basis_tag for n in card.nodes):
        out.append(BASIS_LEGEND)
    lost = card.lost_points()
    if lost:
        out += ["", f"Điểm bị mất ({len(lost)} tiêu chí thành phần, lớn nhất trước; xem chi tiết: parindex explain):"]
        for i, n in enumerate(lost):
            if n.pending_survey and (i == 0 or not lost[i - 1].pending_survey):
                out.append("  Chờ kết quả điều tra xã hội học do tỉnh công bố (đơn vị không tự bổ sung được):")
            out.append(f"  {n.code:<7} −{pts(n.lost):<5} {n.reason}")
    return "\n".join(out) + "\n"


def _md(text: Any) -> str:
    return str(text or "").replace("|", "\\|").replace("\n", " ")


def render_markdown(card: Scorecard) -> str:
    out = [f"## {_header(card)[0]}", ""] + [f"- {h}" for h in _header(card)[1:]] + [""]
    out.append("| STT | Lĩnh vực / Tiêu chí / Tiêu chí thành phần | Điểm tối đa | Điểm tự đánh giá | Tài liệu kiểm chứng | Giải trình / ghi chú |")
    out.append("|---|---|---:|---:|---|---|")
    for n in card.nodes:
        title = f"**{_md(n.title.upper())}**" if n.level == "field" else _md(n.title)
        code = f"**{n.code}**" if n.level == "field" else n.code
        docs = "<br>".join(_md(e.text) for e in n.evidence if e.kind == "document")
        note = ""
        if n.is_leaf:
            note = _md(n.reason)
            if n.external:
                note = "Điểm điều tra xã hội học do tỉnh cung cấp. " + note
        mx = pts(n.max_points) + (f" (gốc {pts(n.nominal_max_points)})" if n.max_points != n.nominal_max_points else "")
        pt = f"**{pts(n.points)}**" if n.level == "field" else pts(n.points) + basis_cell(n)
        out.append(f"| {code} | {title} | {mx} | {pt} | {docs} | {note} |")
    t = card.total
    out.append(f"| | **TỔNG ĐIỂM** | **{pts(t.max_points)}** | **{pts(t.points)}** | | Chỉ số {pts(t.percent)}%"
               + (f"; điểm thưởng +{pts(t.bonus)}" if t.bonus else "") + (f"; điểm phạt −{pts(t.penalty)}" if t.penalty else "")
               + (f"; nhóm {t.band}" if t.band else "") + provisional_suffix(card) + " |")
    out.append("")
    out += [f"- {line}" for line in _total_lines(card)]
    if any(n.basis_tag for n in card.nodes):
        out.append(f"- {BASIS_LEGEND}")
    return "\n".join(out) + "\n"


#: Vietnamese headers of ``score --format csv`` (``--lang en`` keeps the column names of COLUMNS, for scripts)
CSV_HEADERS_VI: dict[str, str] = {
    "code": "Mã", "title": "Tiêu chí", "level": "Cấp", "points": "Điểm", "max_points": "Điểm tối đa",
    "lost": "Điểm bị mất", "percent": "Tỷ lệ điểm (%)", "outcome": "Kết quả", "measured": "Số liệu",
    "target": "Mục tiêu", "reason": "Lý do", "evidence": "Tài liệu kiểm chứng", "guidance": "Hướng khắc phục",
    "points_status": "Điểm chuẩn", "external": "Do tỉnh chấm",
}
_LEVEL_VI = {"field": "lĩnh vực", "criterion": "tiêu chí", "sub_criterion": "tiêu chí thành phần"}
_STATUS_VI = {"official": "chính thức", "illustrative": "minh họa"}


def render_csv(card: Scorecard, lang: str = "vi") -> str:
    """The scorecard table as CSV (UTF-8 with BOM, for Excel): Vietnamese headers and words (``đạt``,
    ``có``/``không``) for the Office; ``lang="en"`` gives the column names and codes scripts rely on.
    Numbers keep a decimal point in both, so the file stays a table of numbers for any tool."""
    frame = card.to_frame()
    if lang != "en":
        frame["level"] = frame["level"].map(lambda v: _LEVEL_VI.get(v, v))
        frame["outcome"] = frame["outcome"].map(lambda v: OUTCOME_VI[v].lower() if isinstance(v, str) and v else v)
        frame["points_status"] = frame["points_status"].map(lambda v: _STATUS_VI.get(v, v))
        frame["external"] = frame["external"].map(lambda v: "có" if v else "không")
        frame = frame.rename(columns=CSV_HEADERS_VI)
    buf = io.StringIO()
    frame.to_csv(buf, index=False)
    return "\ufeff" + buf.getvalue()  # BOM so that Excel opens Vietnamese text correctly


def render_json(data: dict[str, Any]) -> str:
    """``json.dumps(data, ensure_ascii=False, indent=2)`` by orjson (30× faster: the standard library encodes
    indented JSON in pure Python, and a scorecard is 110 kB of it). The same text but for floats below
    0.0001, which orjson writes 0.00001 where Python writes 1e-05: the same JSON number. What orjson
    refuses (a key that is not a string, an integer beyond 64 bits) goes through the standard library."""
    try:
        return orjson.dumps(data, option=orjson.OPT_INDENT_2).decode() + "\n"
    except TypeError:  # orjson.JSONEncodeError
        return json.dumps(data, ensure_ascii=False, indent=2) + "\n"


def render(card: Scorecard, fmt: str, lang: str = "vi") -> str:
    if fmt == "table":
        return render_table(card)
    if fmt == "markdown":
        return render_markdown(card)
    if fmt == "csv":
        return render_csv(card, lang)
    if fmt == "json":
        return render_json(card.to_json())
    raise ValueError(fmt)
