"""The rule a leaf of a province's criteria table gets, from the scale read in its guidance or level rows.

``criteria_table`` reads the table's layout; this module turns each leaf (its maximum, guidance text
and level rows, see :mod:`scoring.inputs.scale_text`) into a rule of the rule language, as a plain
dict ready for YAML: ``threshold`` / ``count`` bands, ``boolean``, ``level`` (levels as written) or
``points`` (no scale); ``external`` for leaves the province scores. Each rule keeps the table's
sentence in ``source`` and names the level in the province's words in its ``explain``.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction
from typing import Any

from scoring.inputs.scale_text import Scale, parse_scale, read_levels


def num(value: Decimal | Fraction | None) -> int | float | str | None:
    """A number for YAML that reads back exactly (0.98 stays 0.98)."""
    if value is None:
        return None
    frac = Fraction(value)
    if frac.denominator == 1:
        return frac.numerator
    f = float(frac)
    return f if Fraction(repr(f)) == frac else str(Decimal(frac.numerator) / Decimal(frac.denominator))


def pts_vi(value: Decimal) -> str:
    frac = Fraction(value)
    if frac.denominator == 1:
        return str(frac.numerator)
    return format(value.normalize(), "f").replace(".", ",")


@dataclass
class Counts:
    computed: int = 0
    level: int = 0
    points: int = 0
    external: int = 0


def _common(node: Any, source: str) -> dict[str, Any]:
    return {"code": node.code, "not_applicable": {"policy": "zero"}, "source": source}


def rule_for(node: Any, origin: str, external: bool, counts: Counts, notes: list[str],
             official: bool = False) -> dict[str, Any]:
    """The rule of one leaf; with ``official`` its thresholds are marked as the province's (``basis``)."""
    rule = _rule_for(node, origin, external, counts, notes)
    if official and rule["kind"] not in ("points", "external"):
        rule["basis"] = {"full_points": "decision", "lower_bands": "decision" if _partial(rule, node) else "none"}
    return rule


def _partial(rule: dict[str, Any], node: Any) -> bool:
    """Whether the rule gives points below its maximum (what ``basis.lower_bands`` describes)."""
    maxp = node.max_points or Decimal(0)
    if rule["kind"] == "level":
        return any(0 < Decimal(str(lv["points"])) < maxp for lv in rule["levels"])
    lower = [Decimal(str(b["points"])) for b in rule.get("bands", ())[1:]]
    return any(p > 0 for p in lower) or Decimal(str(rule.get("else_points", 0))) > 0


def _rule_for(node: Any, origin: str, external: bool, counts: Counts, notes: list[str]) -> dict[str, Any]:
    maxp = node.max_points or Decimal(0)
    where = f"{origin}, {node.where}"
    if external:
        counts.external += 1
        return {**_common(node, where), "kind": "external",
                "evidence": [{"name": "points", "type": "points",
                              "description": f"Điểm do tỉnh cung cấp cho «{node.title}» (0 đến {pts_vi(maxp)})"}],
                "value": "points", "explain": "Điểm do tỉnh cung cấp: {points}/{max_points}. Mất {lost} điểm.",
                "guidance": "Điểm này do tỉnh cung cấp (điều tra xã hội học), không tự chấm được."}
    text = "\n".join(t for t, _ in node.guidance)
    levels = list(node.levels) or [lv for t, r in node.guidance for lv in read_levels(t, r)]
    scale = parse_scale(levels, maxp, text if not node.levels else None)
    if scale is not None and scale.kind != "level":
        top = max([b.points for b in scale.bands] + ([scale.yes.points] if scale.yes else []))
        if top != maxp:
            notes.append(f"{node.where}: mức cao nhất của thang điểm '{node.label}' cho {pts_vi(top)} điểm nhưng "
                         f"điểm tối đa là {pts_vi(maxp)}; giữ các mức như đã viết (quy tắc chọn mức)")
            scale = Scale("level", scale.levels, why="mức cao nhất khác điểm tối đa")
    if scale is not None and any(lv.points > maxp for lv in scale.levels):
        bad = next(lv for lv in scale.levels if lv.points > maxp)
        notes.append(f"{node.where}: mức «{bad.label}» cho {pts_vi(bad.points)} điểm, hơn điểm tối đa "
                     f"{pts_vi(maxp)} của '{node.label}'; chấm bằng số điểm nhập trực tiếp")
        scale = None
    sentence = text or "; ".join(lv.text.lstrip("-–—+•*· ") for lv in levels)
    source = f"{where}: «{sentence}»" if sentence else where
    explain_level = ("Đạt mức «{band}» theo bảng của tỉnh: {points}/{max_points} điểm. Mất {lost} điểm.")
    if scale is None:
        counts.points += 1
        rule = {**_common(node, source), "kind": "points",
                "evidence": [{"name": "points", "type": "points",
                              "description": f"Điểm tự chấm (0 đến {pts_vi(maxp)}), kèm tài liệu kiểm chứng"}],
                "value": "points",
                "explain": "Đơn vị tự chấm {points}/{max_points} điểm. Mất {lost} điểm.",
                "guidance": (f"Đối chiếu hướng dẫn chấm của tỉnh: {sentence}. " if sentence else "")
                + "Bổ sung tài liệu kiểm chứng cho phần điểm còn thiếu."}
        return rule
    if scale.kind in ("rate", "count"):
        counts.computed += 1
        rate = scale.kind == "rate"
        noun = scale.noun or "mục"
        desc = (f"Tỷ lệ (%) theo tiêu chí «{node.title}»" if rate else f"Số {noun} (đếm theo tiêu chí «{node.title}»)")
        bands = [{b.bound: num(b.value), "points": num(b.points), "label": b.label} for b in scale.bands]
        rule = {**_common(node, source), "kind": "threshold" if rate else "count",
                "evidence": [{"name": "rate" if rate else "count", "type": "rate" if rate else "count",
                              "description": desc}],
                "value": "rate" if rate else "count", "bands": bands}
        if scale.else_points:
            rule["else_points"] = num(scale.else_points)
        if scale.else_label:
            rule["else_label"] = scale.else_label
        rule["explain"] = "Đạt {measured}, thuộc mức «{band}» theo bảng của tỉnh: {points}/{max_points} điểm. Mất {lost} điểm."
        rule["guidance"] = f"Mức tối đa theo bảng của tỉnh: «{scale.bands[0].label}»."
        return rule
    if scale.kind == "boolean":
        counts.computed += 1
        yes, no = scale.yes, scale.no
        assert yes is not None and no is not None
        rule = {**_common(node, source), "kind": "boolean",
                "evidence": [{"name": "dat", "type": "boolean",
                              "description": f"«{yes.label}»? (có/không)"}],
                "value": "dat", "points": num(yes.points), "yes_label": yes.label, "no_label": no.label}
        if no.points:
            rule["else_points"] = num(no.points)
        rule["explain"] = "Mức «{band}» theo bảng của tỉnh: {points}/{max_points} điểm. Mất {lost} điểm."
        rule["guidance"] = f"Để đạt điểm tối đa: «{yes.label}»."
        return rule
    counts.level += 1
    listed = "; ".join(f"{i}. {lv.label} ({pts_vi(lv.points)} điểm)" for i, lv in enumerate(scale.levels, 1))
    best = max(scale.levels, key=lambda lv: lv.points)
    return {**_common(node, source), "kind": "level",
            "evidence": [{"name": "level", "type": "level",
                          "description": f"Mức đạt được (chọn một): {listed}"}],
            "value": "level",
            "levels": [{"label": lv.label, "points": num(lv.points),
                        "source": f"dòng {lv.row}" if lv.row else None} for lv in scale.levels],
            "explain": explain_level,
            "guidance": f"Để đạt điểm tối đa: «{best.label}»."}


_FIRST_KEYS = ("code", "kind")


def drop_none(value: Any) -> Any:
    if isinstance(value, dict):
        ordered = {k: value[k] for k in _FIRST_KEYS if k in value} | {k: v for k, v in value.items()
                                                                     if k not in _FIRST_KEYS and k != "source"}
        if "source" in value:
            ordered["source"] = value["source"]
        return {k: drop_none(v) for k, v in ordered.items() if v is not None}
    if isinstance(value, list):
        return [drop_none(v) for v in value]
    return value
