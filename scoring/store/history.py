"""The history of a department across years, as the history page and ``parindex history`` show it."""

from __future__ import annotations

from decimal import Decimal
from typing import Any


def history_data(rows: list[Any]) -> dict[str, Any]:
    """Years, the total and field series, leaf trends and the changes between the last two years."""
    years = [a.year for a in rows]
    fields: dict[str, dict[str, Any]] = {}
    leaves: dict[str, dict[str, Any]] = {}
    for i, a in enumerate(rows):
        for n in a.nodes:
            target = fields if n.level == "field" else leaves if "." in n.code else None
            if target is None:
                continue
            rec = target.setdefault(n.code, {"code": n.code, "title": n.title, "points": [None] * len(rows),
                                             "evidence": [""] * len(rows), "max": [None] * len(rows)})
            rec["points"][i] = n.points
            rec["max"][i] = n.max_points
            rec["evidence"][i] = n.evidence
    leaf_codes = {n.code for a in rows for n in a.nodes if n.level != "field"}
    parents = {c.rsplit(".", 1)[0] for c in leaf_codes if c.count(".") == 2}
    trends = [r for c, r in leaves.items() if c not in parents]
    changed = []
    if len(rows) >= 2:
        for r in trends:
            before, after = r["points"][-2], r["points"][-1]
            if before != after or r["evidence"][-2] != r["evidence"][-1]:
                changed.append({**r, "before": before, "after": after,
                                "delta": (after or Decimal(0)) - (before or Decimal(0)),
                                "ev_before": r["evidence"][-2], "ev_after": r["evidence"][-1]})
    series = [("Tổng điểm", [a.points for a in rows])]
    series += [(f"Lĩnh vực {c}", r["points"]) for c, r in fields.items()]
    return {"years": years, "fields": list(fields.values()), "trends": trends, "changed": changed,
            "series": series}
