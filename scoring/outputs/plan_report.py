"""The least-effort plan as JSON and as the Vietnamese text the Office reads."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any


from scoring.analysis.explain import pts
from scoring.core.scorecard import Scorecard
from scoring.analysis.simulate import (
    num,
    rank_json,
    rank_lines,
    signed,
)
from scoring.analysis.plan import (
    Model,
    Solution,
    Target,
)


# ------------------------------------------------------------------ rendering


def plan_json(data: dict[str, Any]) -> dict[str, Any]:
    """The JSON contract: feasible, chosen, effort, points_before/after, percent_after, rank_after…"""
    m: Model = data["model"]
    sol: Solution = data["solution"]
    after: Scorecard = data["after"]
    target: Target = data["target"]
    by_index = m.opts
    effort = Decimal(sum((by_index[i].effort for i in sol.chosen), Decimal(0)))
    out: dict[str, Any] = {
        "feasible": data["feasible"],
        "target": {"mode": target.mode, "value": num(target.value), "text": target.text},
        "statement": statement(data),
        "chosen": [by_index[i].id for i in sol.chosen],
        "options_chosen": [{"id": by_index[i].id, "title": by_index[i].title, "effort": num(by_index[i].effort),
                            "owner": by_index[i].owner, "set": by_index[i].set_text()} for i in sol.chosen],
        "effort": num(effort), "effort_unit": m.options.effort_unit,
        "points_before": num(m.base.total.points), "percent_before": num(m.base.total.percent),
        "points_after": num(after.total.points), "percent_after": num(after.total.percent),
        "max_points_after": num(after.total.max_points), "band_after": after.total.band,
        "overrides": list(after.overrides),
        "criteria": [{"code": r["code"], "before": num(r["before"]), "after": num(r["after"]), "delta": num(r["delta"])}
                     for r in data["diff"]["criteria"]],
        "opportunities": [{**r, "effort": num(r["effort"]), "gain_points": num(r["gain_points"]),
                           "gain_percent": num(r["gain_percent"]), "gain_per_effort": num(r["gain_per_effort"])}
                          for r in data["opportunities"]],
        "still_losing": [{**r, "lost": num(r["lost"]), "gain_points": num(r["gain_points"])}
                         for r in data["still_losing"]],
        "options_file": m.options.file, "options_example": m.options.example,
        "department": m.ev.department, "year": m.ev.year, "points_status": m.bundle.criteria.points_status,
        "solver": {"name": "OR-Tools CP-SAT", "status": sol.status, "seconds": round(data["seconds"], 3)},
    }
    if not data["feasible"]:
        out["best_reachable"] = {"points": num(after.total.points), "percent": num(after.total.percent),
                                 "chosen": out["chosen"], "effort": out["effort"]}
    if data["peers"] is not None:
        out["rank_before"] = rank_json(data["rank_before"])
        out["rank_after"] = rank_json(data["rank_after"])
    return out


def statement(data: dict[str, Any]) -> str:
    """One Vietnamese sentence: what the plan achieves, or that no set of options can."""
    m: Model = data["model"]
    sol: Solution = data["solution"]
    after: Scorecard = data["after"]
    target: Target = data["target"]
    effort = sum((m.opts[i].effort for i in sol.chosen), Decimal(0))
    reach = f"{pts(after.total.points)} điểm ({pts(after.total.percent)}%)"
    if target.mode == "budget":
        return (f"Với công sức không quá {pts(target.value)} {m.options.effort_unit}, điểm cao nhất đạt được là {reach} "
                f"với {len(sol.chosen)} phương án, tổng {pts(effort)} {m.options.effort_unit}.")
    if data["feasible"]:
        if not sol.chosen:
            return f"Đã đạt mục tiêu ({target.text}) mà không cần phương án nào: hiện có {reach}."
        return (f"Đạt mục tiêu ({target.text}) với {len(sol.chosen)} phương án, tổng công sức ít nhất là "
                f"{pts(effort)} {m.options.effort_unit}: {reach}.")
    return (f"Không có tổ hợp phương án nào đạt mục tiêu ({target.text}). Cao nhất có thể: {reach} "
            f"với {len(sol.chosen)} phương án, tổng {pts(effort)} {m.options.effort_unit}.")


def plan_text(data: dict[str, Any]) -> str:
    """The plan as a Vietnamese report for the terminal."""
    m: Model = data["model"]
    sol: Solution = data["solution"]
    after: Scorecard = data["after"]
    unit = m.options.effort_unit
    lines = [f"KẾ HOẠCH NÂNG ĐIỂM CHỈ SỐ CCHC – {m.ev.department}, năm {m.ev.year}",
             f"Mục tiêu: {data['target'].text}",
             f"Phương án: {len(m.opts)} (tệp {Path(m.options.file).name}); đơn vị công sức: {unit}"]
    if m.options.example:
        lines.append("Lưu ý: công sức trong tệp phương án là VÍ DỤ MINH HỌA, cần ước lượng lại cho đơn vị.")
    if m.bundle.criteria.points_status == "illustrative":
        lines.append("Lưu ý: điểm tối đa là MINH HỌA, chưa phải điểm chính thức của tỉnh.")
    if m.ev.constructed_example:
        lines.append("Số liệu: VÍ DỤ DỰNG SẴN, không phải số liệu thật của đơn vị.")
    lines += ["", ("KẾT QUẢ: " if data["feasible"] else "KHÔNG ĐẠT ĐƯỢC MỤC TIÊU: ") + statement(data)]
    b = m.base.total
    lines.append(f"  Hiện tại: {pts(b.points)} điểm ({pts(b.percent)}%)"
                 + (f", xếp hạng {data['rank_before'].text}" if data.get("rank_before") else "")
                 + f" → {'Sau kế hoạch' if data['feasible'] else 'Mức cao nhất có thể'}: "
                   f"{pts(after.total.points)} điểm ({pts(after.total.percent)}%)"
                 + (f", xếp hạng {data['rank_after'].text}" if data.get("rank_after") else "")
                 + (f" – Nhóm: {after.total.band}" if after.total.band else ""))
    seconds = f"{data['seconds']:.2f}".replace(".", ",")
    lines.append(f"  Lời giải tối ưu chính xác, tìm bằng bộ giải bài toán tối ưu trong {seconds} giây (OR-Tools CP-SAT); "
                 "các phương án được chọn đã được chấm lại bằng bộ máy quy tắc của parindex (durable-rules) và khớp "
                 "từng điểm.")
    if sol.chosen:
        lines += ["", "Phương án được chọn:" if data["feasible"] else "Các phương án của mức cao nhất có thể:"]
        for i in sol.chosen:
            o = m.opts[i]
            lines.append(f"  - {o.id}: {o.title} [{o.set_text()}] – {pts(o.effort)} {unit}"
                         + (f" – {o.owner}" if o.owner else ""))
        inner = [r for r in data["diff"]["criteria"] if r["level"] != "field"]
        if inner:
            lines += ["", "Điểm thay đổi:"]
            for r in inner:
                lines.append(f"  {r['code']:<7} {r['title'][:60]:<60} {pts(r['before']):>6} → {pts(r['after']):>6}"
                             f" ({signed(r['delta'])})")
    if data.get("rank_after") is not None:
        lines += [""] + rank_lines(data["rank_after"], "Xếp hạng sau kế hoạch")
    lines += ["", "CƠ HỘI – từng phương án riêng lẻ (điểm tăng chấm chính xác, xếp theo điểm/công sức):",
              f"  {'Phương án':<26} {'Điểm tăng':>9} {'Chỉ số':>8} {'Công sức':>9} {'Điểm/công':>10}"]
    for r in data["opportunities"]:
        per = pts(r["gain_per_effort"]) if r["gain_per_effort"] is not None else ("∞" if r["gain_points"] > 0 else "–")
        req = f" (cần kèm: {', '.join(r['requires'])})" if r["requires"] else ""
        lines.append(f"  {r['id'][:26]:<26} {signed(r['gain_points']):>9} "
                     f"{signed(r['gain_percent']) if r['gain_percent'] is not None else '–':>8} "
                     f"{pts(r['effort']):>9} {per:>10}{req}")
    losing = data["still_losing"]
    lines += ["", "TIÊU CHÍ CÒN MẤT ĐIỂM SAU KẾ HOẠCH (cần đạt gì để lấy lại):" if losing
              else "Không còn tiêu chí nào mất điểm sau kế hoạch."]
    for r in losing:
        gain = f" → {signed(r['gain_points'])} điểm" if r["gain_points"] is not None else ""
        lines.append(f"  {r['code']:<7} mất {pts(r['lost'])}: {r['win_back']}"
                     + (f" (hiện: {r['measured']})" if r["measured"] else "") + gain)
    return "\n".join(lines) + "\n"
