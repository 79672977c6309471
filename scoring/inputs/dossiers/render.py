"""The outputs of ``parindex indicators``: the Vietnamese table, JSON, CSV, and dossier lists."""

from __future__ import annotations

import csv
import io
import json
from typing import Any

from ...core.errors import InputError, Problem, did_you_mean
from .compute import DossierTable, Indicator, Result, fmt_rate
from .definitions import definitions
from .mapping import fmt_int


def result_json(result: Result) -> dict[str, Any]:
    """The JSON contract of ``parindex indicators --format json`` (see docs/dossiers.md)."""
    t = result.table
    data: dict[str, Any] = {
        "file": t.file,
        "period": {"from": result.period.start.isoformat(), "to": result.period.end.isoformat(),
                   "default": result.period.default},
        "rows": {"read": t.rows_read, "skipped": len(t.skipped_rows), **result.counts},
        "indicators": {name: ind.to_json() for name, ind in result.indicators.items()},
        "unavailable": result.unavailable,
        "by": None,
        "skipped_rows": t.skipped_rows,
        "problems": [p.to_dict() for p in t.problems] if t.skipped_rows else [],
        "notes": result.notes,
        "engine": result.engine,  # "duckdb" or "spark" (added by issue 10; the keys above are unchanged)
    }
    if result.by:
        data["by"] = {"dimension": result.by, "groups": {
            key: {"name": result.group_names.get(key), "indicators": {n: i.to_json() for n, i in inds.items()}}
            for key, inds in result.groups.items()}}
    return data


def _table_lines(indicators: dict[str, Indicator], unavailable: dict[str, str], indent: str = "") -> list[str]:
    specs = definitions().indicators
    width = max(len(s.title) for s in specs.values())
    lines = [f"{indent}{'Chỉ số':<{width}}  {'Tử số':>10}  {'Mẫu số':>10}  Tỷ lệ"]
    for name, spec in specs.items():
        ind = indicators.get(name)
        if ind is not None:
            lines.append(f"{indent}{spec.title:<{width}}  {fmt_int(ind.numerator):>10}  {fmt_int(ind.denominator):>10}  "
                         f"{fmt_rate(ind.rate)}")
        elif name in unavailable:
            lines.append(f"{indent}{spec.title:<{width}}  {'–':>10}  {'–':>10}  không tính được: {unavailable[name]}")
    return lines


def render_table(result: Result) -> str:
    """The Vietnamese table of ``parindex indicators``."""
    t, c = result.table, result.counts
    lines = ["CHỈ SỐ TÍNH TỪ TỆP HỒ SƠ THỦ TỤC HÀNH CHÍNH",
             f"Tệp: {t.file}",
             f"Kỳ đánh giá: {result.period.text()}" + (" (mặc định: năm của hồ sơ tiếp nhận gần nhất; đổi bằng --period)"
                                                         if result.period.default else ""),
             f"Hồ sơ: {fmt_int(t.rows_read)} dòng đọc được"
             + (f", {fmt_int(len(t.skipped_rows))} dòng lỗi đã bỏ qua" if t.skipped_rows else "")
             + f"; {fmt_int(c['out_of_period'])} tiếp nhận ngoài kỳ; {fmt_int(c['withdrawn'])} đã rút (không tính); "
               f"{fmt_int(c['counted'])} hồ sơ được tính, trong đó {fmt_int(c['late'])} trễ hạn và "
               f"{fmt_int(c['unfinished'])} chưa giải quyết xong cuối kỳ.",
             ""]
    if result.engine == "spark":
        lines.insert(-1, f"Tính bằng: Spark SQL (master {result.master})")
    lines += _table_lines(result.indicators, result.unavailable)
    for note in result.notes:
        lines.append(f"Lưu ý: {note}")
    if result.by:
        title = "Đơn vị" if result.by == "unit" else "Thủ tục"
        for key, inds in result.groups.items():
            name = result.group_names.get(key)
            lines += ["", f"{title}: {key}" + (f" – {name}" if name else "")]
            lines += _table_lines(inds, {}, "  ")
    return "\n".join(lines) + "\n"


def render_csv(result: Result) -> str:
    """Long CSV: one line per (scope, key, indicator), with a BOM for Excel."""
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(["scope", "key", "name", "indicator", "numerator", "denominator", "rate", "rate_text"])

    def put(scope: str, key: str, name: str, inds: dict[str, Indicator]) -> None:
        for ind_name, ind in inds.items():
            rate = ind.rate
            w.writerow([scope, key, name, ind_name, ind.numerator, ind.denominator,
                        "" if rate is None else repr(float(rate)), fmt_rate(rate)])

    put("department", "", "", result.indicators)
    for key, inds in result.groups.items():
        put(result.by or "", key, result.group_names.get(key, ""), inds)
    return "\ufeff" + buf.getvalue()


def render_list(result: Result, name: str, fmt: str) -> str:
    """All dossiers (or procedures) behind an indicator's loss."""
    specs = definitions().indicators
    if name not in specs:
        raise InputError(Problem("unknown_indicator", f"--list: no indicator '{name}'", subject="--list",
                                 hint=did_you_mean(name, specs) or f"one of: {', '.join(specs)}"))
    if name not in result.indicators:
        raise InputError(Problem("indicator_unavailable", f"--list {name}: {result.unavailable.get(name, '')}",
                                 subject="--list"))
    spec = specs[name]
    rows = result.loss_rows(name)
    if fmt == "json":
        return json.dumps({"indicator": name, "label": spec.loss, "count": len(rows), "items": rows},
                          ensure_ascii=False, indent=2) + "\n"
    keys = list(rows[0]) if rows else (["procedure_code", "name"] if name == "full_online_services" else
                                       ["row", "dossier_id", "unit", "procedure_code", "received_at", "deadline",
                                        "finished_at"])
    if fmt == "csv":
        buf = io.StringIO()
        w = csv.DictWriter(buf, fieldnames=keys, lineterminator="\n")
        w.writeheader()
        w.writerows(rows)
        return "\ufeff" + buf.getvalue()
    titles = {"row": "Dòng", "dossier_id": "Mã hồ sơ", "unit": "Đơn vị", "procedure_code": "Mã TTHC",
              "received_at": "Tiếp nhận", "deadline": "Hạn (đã cộng ngày tạm dừng)", "finished_at": "Có kết quả",
              "reason": "Lý do", "name": "Tên TTHC"}
    lines = [f"{spec.loss} ({result.period.text()}): {fmt_int(len(rows))}"]
    lines.append("\t".join(titles[k] for k in keys))
    for r in rows:
        lines.append("\t".join("" if r.get(k) is None else str(r[k]) for k in keys))
    return "\n".join(lines) + "\n"


def _compress(rows: list[int]) -> str:
    """Row numbers as ranges: 5, 17, 230–233."""
    parts: list[str] = []
    i = 0
    while i < len(rows):
        j = i
        while j + 1 < len(rows) and rows[j + 1] == rows[j] + 1:
            j += 1
        parts.append(str(rows[i]) if i == j else f"{rows[i]}–{rows[j]}")
        i = j + 1
    return ", ".join(parts)


def skipped_note(table: DossierTable) -> str | None:
    """Vietnamese sentence naming the rows --skip-bad-rows left out, or None."""
    if not table.skipped_rows:
        return None
    return (f"Đã bỏ qua {fmt_int(len(table.skipped_rows))} dòng lỗi trong {table.file} (không tính vào chỉ số): "
            f"dòng {_compress(table.skipped_rows)}.")
