"""Simulation: what-if (before / after / delta), rank among peers, and batch scenarios.

* ``whatif``: ``score()`` twice, without and with ``--set`` values; every node whose points
  moved, exactly (Decimal), and each value tried says whether it crossed a band.
* Peers: a file of the other units' published results (points or percent) gives the
  department's rank ("5/15"), what each better rank needs, and the band.
* ``simulate``: a CSV of scenarios (one per row, one column per sub-criterion) scored on the
  vectorised path (scoring.vector), which tests hold equal to ``score()``.
"""

from __future__ import annotations

import csv
import io
import math
import unicodedata
from dataclasses import dataclass, field
from decimal import Decimal
from fractions import Fraction
from pathlib import Path
from typing import Any, Literal, Sequence

import numpy as np

from scoring.analysis.explain import pts
from scoring.core.engine import Overrides, overrides_from, score
from scoring.core.errors import InputError, Problem, ProblemList, did_you_mean
from scoring.core.evidence import EvidenceFile, ValueError_, to_fraction
from scoring.core.rules import Bundle
from scoring.core.scorecard import ILLUSTRATIVE_NOTICE, OUTCOME_VI, Scorecard
from scoring.core.vector import (
    BatchResult,
    LeafPool,
    VectorScorer,
    constant_pools,
    div_round,
    hundredths,
)
from scoring.core.yamlio import LineDict, LineList, load_yaml, nfc, read_text

Measure_ = Literal["percent", "points"]
MAX_SCENARIO_BYTES = 1 << 30
MAX_LISTED_PROBLEMS = 30


def num(value: Decimal | None) -> int | float | None:
    """A Decimal for JSON: an int when whole, else a float (0.01 steps print exactly)."""
    if value is None:
        return None
    return int(value) if value == value.to_integral_value() else float(value)


def signed(value: Decimal) -> str:
    """Vietnamese signed points: +1,25 ; −0,5 ; 0."""
    if value > 0:
        return "+" + pts(value)
    if value < 0:
        return "−" + pts(-value)
    return "0"


# ------------------------------------------------------------------ peers and rank


@dataclass(frozen=True)
class Peer:
    unit: str
    value: Decimal
    line: int | None = None


@dataclass(frozen=True)
class PeerSet:
    """Other units' published results for one year, best first, the department's own row removed."""

    file: str
    measure: Measure_
    year: int | None
    peers: tuple[Peer, ...]
    excluded: tuple[str, ...] = ()
    other_years: int = 0
    example: bool = False
    note: str | None = None


@dataclass(frozen=True)
class Rank:
    """The department's place among its peers, and what each better place needs."""

    rank: int
    of: int
    measure: Measure_
    value: Decimal
    band: str | None
    peers: PeerSet
    better: tuple[dict[str, Any], ...] = ()

    @property
    def text(self) -> str:
        return f"{self.rank}/{self.of}"


_PEER_KEYS = {"unit": ("unit", "đơn vị", "don vi", "don_vi", "name"), "year": ("year", "năm", "nam"),
              "points": ("points", "điểm", "diem"), "percent": ("percent", "chỉ số", "chi so", "chi_so", "%")}
_TOP_KEYS = ("example", "note", "source", "year", "measure", "peers")


def _norm_name(text: str) -> str:
    return " ".join(unicodedata.normalize("NFC", text).casefold().split())


def same_unit(a: str, b: str) -> bool:
    """'Sở Tư pháp' and 'Sở Tư pháp tỉnh Lạng Sơn' name the same unit (the province may be left out)."""
    x, y = _norm_name(a), _norm_name(b)
    if x == y:
        return True
    short, long_ = (x, y) if len(x) < len(y) else (y, x)
    return any(long_.startswith(f"{short} {w} ") for w in ("tỉnh", "thành phố", "tp."))


def _peer_value(raw: Any, what: str, where: dict[str, Any], problems: ProblemList) -> Decimal | None:
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        return None
    text = getattr(raw, "raw", None) or raw
    if isinstance(text, str):
        text = text.strip().rstrip("%").strip()
    try:
        frac = to_fraction(text)
    except ValueError_ as exc:
        problems.add("bad_value", f"{what}: {exc}", **where, hint="viết một số, ví dụ 88,45 (write a number such as 88,45)")
        return None
    value = Decimal(frac.numerator) / Decimal(frac.denominator)
    if Fraction(value) != frac or value < 0:
        problems.add("bad_value", f"{what} {text}: cần một số thập phân không âm (is not a non-negative decimal number)",
                     **where)
        return None
    return value


def _rows_from_yaml(path: Path) -> tuple[list[tuple[dict[str, Any], int | None]], dict[str, Any]]:
    data = load_yaml(path, "peers file")
    name = str(path)
    head: dict[str, Any] = {}
    rows = data
    if isinstance(data, dict):
        problems = ProblemList()
        for key in data:
            if key not in _TOP_KEYS:
                problems.add("extra_forbidden", f"khóa '{key}' không dùng được ở đây (unknown key '{key}')", file=name,
                             line=data.line_of(key) if isinstance(data, LineDict) else None,
                             hint=did_you_mean(str(key), _TOP_KEYS) or f"các khóa dùng được: {', '.join(_TOP_KEYS)}")
        problems.raise_if_any()
        head = {k: v for k, v in data.items() if k != "peers"}
        rows = data.get("peers")
    if not isinstance(rows, list) or not rows:
        raise InputError(Problem("not_a_peers_file", "tệp kết quả các đơn vị cần danh sách 'peers: [{unit, points hoặc percent}]' "
                                 "(a peers file lists units)", file=name, line=1,
                                 hint="xem tệp mẫu sample_evidence/peers-lang-son-2025.yaml"))
    out = []
    for i, row in enumerate(rows):
        line = rows.line_of(i) if isinstance(rows, LineList) else None
        if not isinstance(row, dict):
            raise InputError(Problem("not_a_mapping", "mỗi đơn vị ghi dạng {unit, points hoặc percent} (each peer is a mapping)",
                                     file=name, line=line))
        out.append((row, line))
    return out, head


def _rows_from_csv(path: Path) -> list[tuple[dict[str, Any], int | None]]:
    text = read_text(path, "peers file")
    first = text.splitlines()[0] if text else ""
    sep = ";" if first.count(";") > first.count(",") else ("\t" if "\t" in first else ",")
    reader = csv.reader(io.StringIO(text), delimiter=sep)
    header = [nfc(h).strip() for h in next(reader)]
    out = []
    for i, cells in enumerate(reader, start=2):
        if not any(c.strip() for c in cells):
            continue
        if len(cells) != len(header):
            raise InputError(Problem("bad_row", f"dòng có {len(cells)} ô nhưng tiêu đề có {len(header)} cột "
                                     f"({len(cells)} cells but the header has {len(header)} columns)",
                                     file=str(path), line=i,
                                     hint=f"dấu phân cách là '{sep}'; đặt giá trị chứa dấu này trong dấu nháy kép"))
        out.append((dict(zip(header, cells)), i))
    return out


def load_peers(path: Path | str, department: str | None = None, year: int | None = None) -> PeerSet:
    """Read a peers file (YAML or CSV: unit, year, points or percent); drop the department's own row."""
    path = Path(path)
    name = str(path)
    head: dict[str, Any] = {}
    if path.suffix.lower() in (".csv", ".txt", ".tsv"):
        rows = _rows_from_csv(path)
    else:
        rows, head = _rows_from_yaml(path)
    problems = ProblemList()
    default_year = head.get("year")
    known = {alias: key for key, aliases in _PEER_KEYS.items() for alias in aliases}
    parsed: list[tuple[str, int | None, Decimal | None, Decimal | None, int | None]] = []
    for row, line in rows:
        where = {"file": name, "line": line}
        fields: dict[str, Any] = {}
        for key, value in row.items():
            k = known.get(_norm_name(str(key)))
            if k is None:
                problems.add("unknown_column", f"cột hoặc khóa '{key}' không dùng được (unknown column/key '{key}')", **where,
                             hint=did_you_mean(str(key), known) or "dùng unit, year, points, percent")
                continue
            fields[k] = value
        unit = str(fields.get("unit") or "").strip()
        if not unit:
            problems.add("missing", "thiếu tên đơn vị 'unit' (a peer has no 'unit')", **where)
            continue
        raw_year = fields.get("year", default_year)
        row_year: int | None = None
        if raw_year not in (None, ""):
            try:
                row_year = int(str(getattr(raw_year, "raw", None) or raw_year).strip())
            except ValueError:
                problems.add("bad_value", f"'{raw_year}' không phải một năm (year '{raw_year}' is not a year)", **where,
                             subject=unit)
        p = _peer_value(fields.get("points"), "points", {**where, "subject": unit}, problems)
        c = _peer_value(fields.get("percent"), "percent", {**where, "subject": unit}, problems)
        if p is None and c is None and not problems:
            problems.add("missing", f"'{unit}' chưa có điểm (points) hay chỉ số (percent) ('{unit}' has neither points "
                         f"nor percent)", **where, subject=unit,
                         hint="chép số liệu tỉnh đã công bố (điểm hoặc chỉ số %)")
        parsed.append((unit, row_year, p, c, line))
    problems.raise_if_any()
    if year is not None:
        kept = [r for r in parsed if r[1] in (None, year)]
        if not kept:
            years = sorted({r[1] for r in parsed if r[1] is not None})
            raise InputError(Problem("no_peers_for_year", f"không có kết quả các đơn vị cho năm {year}; tệp có năm "
                                     f"{', '.join(str(y) for y in years) or '(không ghi năm)'} (no peer result for year {year})",
                                     file=name, hint="dùng kết quả của năm đánh giá"))
    else:
        kept = parsed
    other_years = len(parsed) - len(kept)
    if all(r[3] is not None for r in kept):
        measure: Measure_ = "percent"
    elif all(r[2] is not None for r in kept):
        measure = "points"
    else:
        raise InputError(Problem("mixed_measures", "có đơn vị chỉ ghi điểm, có đơn vị chỉ ghi chỉ số % "
                                 "(some peers give only points and others only percent)",
                                 file=name, hint="ghi cùng một loại số liệu (điểm hoặc %) cho mọi đơn vị"))
    seen: dict[str, int | None] = {}
    peers: list[Peer] = []
    excluded: list[str] = []
    for unit, _, p, c, line in kept:
        key = _norm_name(unit)
        if key in seen:
            problems.add("duplicate_unit", f"'{unit}' ghi hai lần, lần đầu ở dòng {seen[key]} ('{unit}' appears twice)",
                         file=name, line=line)
            continue
        seen[key] = line
        if department and same_unit(unit, department):
            excluded.append(unit)
            continue
        value = c if measure == "percent" else p
        assert value is not None
        peers.append(Peer(unit, value, line))
    problems.raise_if_any()
    peers.sort(key=lambda x: -x.value)
    example = bool(head.get("example", False))
    note = head.get("note") or head.get("source")
    return PeerSet(name, measure, year, tuple(peers), tuple(excluded), other_years, example,
                   str(note) if note else None)


def points_for_percent(percent: Decimal, max_points: Decimal) -> Decimal:
    """Least total points (a multiple of 0.01) whose index, rounded as the engine rounds it, is ≥ percent."""
    q = math.ceil(Fraction(percent) * 100)  # the index is kept in hundredths of a percent
    m = hundredths(max_points, "max_points")
    p = math.ceil(Fraction((2 * q - 1) * m, 20000))
    while p > 0 and div_round((p - 1) * 10000, m) >= q:
        p -= 1
    while div_round(p * 10000, m) < q:
        p += 1
    return Decimal(p) / 100


def rank_of(peers: PeerSet, points: Decimal, percent: Decimal | None, max_points: Decimal,
            band: str | None) -> Rank | None:
    """Rank ``1 + number of peers strictly ahead`` (ties share a rank); None if the index is undefined."""
    value = percent if peers.measure == "percent" else points
    if value is None:
        return None
    ahead = [p for p in peers.peers if p.value > value]
    rank = len(ahead) + 1
    better = []
    for r in range(1, rank):
        target = peers.peers[r - 1]  # being at least the r-th best peer gives rank r
        need = (points_for_percent(target.value, max_points) if peers.measure == "percent"
                else Decimal(math.ceil(Fraction(target.value) * 100)) / 100)
        better.append({"rank": r, "unit": target.unit, "value": target.value, "points_needed": need - points,
                       "points_target": need})
    return Rank(rank, len(peers.peers) + 1, peers.measure, value, band, peers, tuple(better))


def rank_for_card(card: Scorecard, peers: PeerSet) -> Rank | None:
    t = card.total
    return rank_of(peers, t.points, t.percent, t.max_points, t.band)


def _value_text(rank: Rank, value: Decimal) -> str:
    return f"{pts(value)}%" if rank.measure == "percent" else f"{pts(value)} điểm"


def rank_lines(rank: Rank | None, label: str = "Xếp hạng") -> list[str]:
    """Vietnamese lines for a table or markdown report."""
    if rank is None:
        return [f"{label}: không xác định (điểm tối đa bằng 0)."]
    ps = rank.peers
    lines = [f"{label}: {rank.text} (so với {len(ps.peers)} đơn vị trong tệp {Path(ps.file).name}"
             + (f", năm {ps.year}" if ps.year else "") + f"; theo {'chỉ số %' if rank.measure == 'percent' else 'tổng điểm'}: "
             + f"{_value_text(rank, rank.value)})" + (f" – Nhóm: {rank.band}" if rank.band else "")]
    if ps.example:
        lines.append("  Lưu ý: số liệu các đơn vị so sánh là VÍ DỤ MINH HỌA, không phải kết quả công bố.")
    for unit in ps.excluded:
        lines.append(f"  Đã bỏ dòng «{unit}» trong tệp so sánh vì trùng với đơn vị đang chấm.")
    if ps.other_years:
        lines.append(f"  Đã bỏ {ps.other_years} dòng của năm khác.")
    for b in reversed(rank.better):
        lines.append(f"  Lên hạng {b['rank']} (bằng {b['unit']}, {_value_text(rank, b['value'])}): "
                     f"cần thêm {pts(b['points_needed'])} điểm (tổng {pts(b['points_target'])} điểm)")
    if not rank.better:
        lines.append("  Đang đứng đầu (hoặc đồng hạng đầu) trong các đơn vị so sánh.")
    return lines


def rank_json(rank: Rank | None) -> dict[str, Any] | None:
    """The ``rank`` object of the JSON outputs."""
    if rank is None:
        return None
    ps = rank.peers
    return {"rank": rank.rank, "of": rank.of, "text": rank.text, "measure": rank.measure, "value": num(rank.value),
            "band": rank.band, "peers_file": ps.file, "year": ps.year, "example": ps.example,
            "excluded": list(ps.excluded),
            "better": [{"rank": b["rank"], "unit": b["unit"], "value": num(b["value"]),
                        "points_needed": num(b["points_needed"]), "points_target": num(b["points_target"])}
                       for b in rank.better]}


# ------------------------------------------------------------------ what-if


def whatif(bundle: Bundle, ev: EvidenceFile, sets: Sequence[str], peers: PeerSet | None = None,
           before: Scorecard | None = None) -> dict[str, Any]:
    """Before / after / delta for the total, every field and every node whose points changed (exact).

    ``before`` is the evidence's own scorecard when the caller already has it (the web application
    keeps it), so that only the scorecard with the tried values is computed."""
    overrides: Overrides = overrides_from(list(sets))
    if not overrides:
        raise InputError(Problem("nothing_to_try", "whatif cần ít nhất một --set MÃ=GIÁ_TRỊ để thử "
                                 "(whatif needs at least one --set CODE=VALUE)", subject="--set",
                                 hint="ví dụ parindex whatif TỆP --set 7.3.4=60%"))
    if before is None:
        before = score(bundle, ev)
    after = score(bundle, ev, overrides, base=before)
    return compare_cards(before, after, overrides, peers)


def compare_cards(before: Scorecard, after: Scorecard, overrides: Overrides,
                  peers: PeerSet | None = None) -> dict[str, Any]:
    """The what-if record of two scorecards of the same evidence (before, after)."""
    b_nodes = {n.code: n for n in before.nodes}
    changed = []
    fields = []
    for n in after.nodes:
        o = b_nodes[n.code]
        rec = {"code": n.code, "title": n.title, "level": n.level, "before": o.points, "after": n.points,
               "delta": n.points - o.points, "max_before": o.max_points, "max_after": n.max_points}
        if n.level == "field":
            fields.append(rec)
        if n.points != o.points:
            changed.append(rec)
    changes = []
    for code in overrides:
        o, n = b_nodes[code], after.node(code)
        delta = n.points - o.points
        was_at, now_at = o.band or OUTCOME_VI.get(o.outcome or "", ""), n.band or OUTCOME_VI.get(n.outcome or "", "")
        crossed = (o.band, o.outcome) != (n.band, n.outcome)
        shown = ", ".join(f"{code}{':' + k if k else ''}={v}" for k, v in overrides[code].items())
        head = f"{code} {n.title}: {o.measured_text or 'không có'} → {n.measured_text or 'không có'}: "
        if crossed and delta:
            text = head + f"{'lên' if delta > 0 else 'xuống'} mức «{now_at}» (trước: «{was_at}»), {signed(delta)} điểm."
        elif crossed:
            text = head + f"sang mức «{now_at}» (trước: «{was_at}») nhưng không thay đổi điểm (0 điểm)."
        elif delta:
            text = head + f"vẫn ở mức «{now_at}», {signed(delta)} điểm do điểm tối đa thay đổi."
        else:
            text = head + f"vẫn ở mức «{now_at}», không vượt qua ngưỡng nào nên không thay đổi điểm (0 điểm)."
        changes.append({"code": code, "title": n.title, "set": shown, "measured_before": o.measured_text,
                        "measured_after": n.measured_text, "band_before": o.band, "band_after": n.band,
                        "before": o.points, "after": n.points, "delta": delta, "crossed": crossed, "message": text})
    tb, ta = before.total, after.total
    delta_points = ta.points - tb.points
    delta_pct = (ta.percent - tb.percent) if ta.percent is not None and tb.percent is not None else None
    if delta_points == 0 and all(not c["crossed"] for c in changes):
        summary = "Các giá trị thử không vượt qua ngưỡng nào: tổng điểm không đổi (chênh lệch 0 điểm)."
    elif delta_points == 0:
        summary = "Tổng điểm không đổi (chênh lệch 0 điểm): các thay đổi bù trừ nhau."
    else:
        summary = (f"Tổng điểm {'tăng' if delta_points > 0 else 'giảm'} {pts(abs(delta_points))} điểm: "
                   f"{pts(tb.points)} → {pts(ta.points)}.")
    if tb.max_points != ta.max_points and tb.percent is not None and ta.percent is not None:
        summary += (f" Điểm tối đa {pts(tb.max_points)} → {pts(ta.max_points)}, nên chỉ số "
                    f"{pts(tb.percent)}% → {pts(ta.percent)}%.")
    out: dict[str, Any] = {
        "department": after.department, "year": after.year, "criteria_set": after.criteria_set,
        "points_status": after.points_status, "constructed_example": after.constructed_example,
        "overrides": list(after.overrides),
        "before": {"points": tb.points, "max_points": tb.max_points, "percent": tb.percent, "band": tb.band},
        "after": {"points": ta.points, "max_points": ta.max_points, "percent": ta.percent, "band": ta.band},
        "delta": {"points": delta_points, "percent": delta_pct},
        "fields": fields, "criteria": changed, "changes": changes, "summary": summary,
        "warnings": list(after.warnings),
    }
    if peers is not None:
        out["rank_before"] = rank_for_card(before, peers)
        out["rank_after"] = rank_for_card(after, peers)
    return out


def whatif_json(data: dict[str, Any]) -> dict[str, Any]:
    """The JSON contract: before/after {points, percent}, delta, criteria [{code, before, after, delta}]."""

    def total(t: dict[str, Any]) -> dict[str, Any]:
        return {"points": num(t["points"]), "max_points": num(t["max_points"]), "percent": num(t["percent"]),
                "band": t["band"]}

    def node(r: dict[str, Any]) -> dict[str, Any]:
        return {"code": r["code"], "title": r["title"], "level": r["level"], "before": num(r["before"]),
                "after": num(r["after"]), "delta": num(r["delta"]), "max_before": num(r["max_before"]),
                "max_after": num(r["max_after"])}

    out = {k: data[k] for k in ("department", "year", "criteria_set", "points_status", "constructed_example",
                                "overrides")}
    out["illustrative_notice"] = ILLUSTRATIVE_NOTICE if data["points_status"] == "illustrative" else None
    out["before"], out["after"] = total(data["before"]), total(data["after"])
    out["delta"] = {"points": num(data["delta"]["points"]), "percent": num(data["delta"]["percent"])}
    out["fields"] = [node(r) for r in data["fields"]]
    out["criteria"] = [node(r) for r in data["criteria"]]
    out["changes"] = [{**{k: c[k] for k in ("code", "title", "set", "measured_before", "measured_after",
                                          "band_before", "band_after", "crossed", "message")},
                       "before": num(c["before"]), "after": num(c["after"]), "delta": num(c["delta"])}
                      for c in data["changes"]]
    out["summary"] = data["summary"]
    if "rank_before" in data:
        out["rank_before"] = rank_json(data["rank_before"])
        out["rank_after"] = rank_json(data["rank_after"])
    out["warnings"] = data["warnings"]
    return out


def _cell(text: str, width: int) -> str:
    return (text if len(text) <= width else text[:width - 1] + "…").ljust(width)


def whatif_text(data: dict[str, Any]) -> str:
    """The what-if as a Vietnamese terminal table."""
    b, a, d = data["before"], data["after"], data["delta"]
    lines = [f"PHÂN TÍCH «NẾU … THÌ» – {data['department']}, năm {data['year']}",
             "Giá trị thử (--set): " + "; ".join(data["overrides"])]
    if data["constructed_example"]:
        lines.append("Số liệu: VÍ DỤ DỰNG SẴN, không phải số liệu thật của đơn vị.")
    if data["points_status"] == "illustrative":
        lines.append("Lưu ý: điểm tối đa là MINH HỌA, chưa phải điểm chính thức của tỉnh.")
    lines.append("")
    w = 60
    lines.append(f"{'':<{w}} {'Trước':>9} {'Sau':>9} {'Chênh lệch':>11}")
    lines.append(f"{_cell('Tổng điểm', w)} {pts(b['points']):>9} {pts(a['points']):>9} {signed(d['points']):>11}")
    if b["max_points"] != a["max_points"]:
        lines.append(f"{_cell('Điểm tối đa', w)} {pts(b['max_points']):>9} {pts(a['max_points']):>9} "
                     f"{signed(a['max_points'] - b['max_points']):>11}")
    pb = f"{pts(b['percent'])}%" if b["percent"] is not None else "–"
    pa = f"{pts(a['percent'])}%" if a["percent"] is not None else "–"
    lines.append(f"{_cell('Chỉ số', w)} {pb:>9} {pa:>9} {signed(d['percent']) if d['percent'] is not None else '–':>11}")
    lines.append(f"Nhóm: {b['band'] or '–'} → {a['band'] or '–'}" if b["band"] != a["band"]
                 else f"Nhóm: {a['band'] or '–'} (không đổi)")
    rb, ra = data.get("rank_before"), data.get("rank_after")
    if rb is not None or ra is not None:
        moved = (rb.rank - ra.rank) if rb and ra else 0
        lines.append(f"{_cell('Xếp hạng', w)} {rb.text if rb else '–':>9} {ra.text if ra else '–':>9} "
                     f"{('+' + str(moved)) if moved > 0 else (('−' + str(-moved)) if moved < 0 else '0'):>11}")
    lines += ["", "Theo lĩnh vực:"]
    for f in data["fields"]:
        lines.append(f"  {_cell(f['code'] + ' ' + f['title'], w - 2)} {pts(f['before']):>9} {pts(f['after']):>9} "
                     f"{signed(f['delta']):>11}")
    inner = [r for r in data["criteria"] if r["level"] != "field"]
    lines += ["", "Tiêu chí thay đổi điểm:" if inner else "Không tiêu chí nào thay đổi điểm."]
    for r in inner:
        extra = (f"  (điểm tối đa {pts(r['max_before'])} → {pts(r['max_after'])})"
                 if r["max_before"] != r["max_after"] else "")
        lines.append(f"  {_cell(r['code'] + ' ' + r['title'], w - 2)} {pts(r['before']):>9} {pts(r['after']):>9} "
                     f"{signed(r['delta']):>11}{extra}")
    lines += ["", "Từng giá trị thử:"] + [f"  - {c['message']}" for c in data["changes"]]
    lines += ["", data["summary"]]
    if ra is not None:
        lines += [""] + rank_lines(ra, "Xếp hạng sau khi thay đổi")
    lines += [f"Lưu ý: {w_}" for w_ in data["warnings"]]
    return "\n".join(lines) + "\n"


# ------------------------------------------------------------------ batch scenarios


@dataclass
class Scenarios:
    """A scenarios CSV, checked: ids, and for each sub-criterion its columns and each row's cells.

    A column's cells are ``codes`` (one small integer per row, numbered in order of first
    appearance) into ``labels`` (each distinct cell text once, as written).
    """

    file: str
    ids: Sequence[str]  # a list, or scenario_files.ScenarioIds (one Arrow array)
    groups: dict[str, list[tuple[str, str | None]]]  # code → [(column header, evidence name or None)]
    codes: dict[str, list[np.ndarray]] = field(default_factory=dict)  # code → per column, one int per row
    labels: dict[str, list[list[str]]] = field(default_factory=dict)  # code → per column, the distinct texts
    firsts: dict[str, list[np.ndarray]] = field(default_factory=dict)  # code → per column, each text's first row

    def __len__(self) -> int:
        return len(self.ids)

    def cell(self, code: str, k: int, row: int) -> str:
        """The text of column ``k`` of ``code`` in ``row`` (0-based), blanks around it dropped."""
        return self.labels[code][k][int(self.codes[code][k][row])].strip()


def _sniff(first_line: str) -> str:
    counts = {sep: first_line.count(sep) for sep in (",", ";", "\t")}
    return max(counts, key=lambda s: counts[s]) if any(counts.values()) else ","


def read_scenarios(path: Path | str, bundle: Bundle) -> Scenarios:
    """Read and check a scenarios CSV (header: optional ``id``, then CODE or CODE:evidence columns)."""
    path = Path(path)
    name = str(path)
    from scoring.core.safeio import check_input_file

    if check_input_file(path, "tệp kịch bản").st_size > MAX_SCENARIO_BYTES:  # a regular file: no pipe, no /dev/zero
        raise InputError(Problem("file_too_large", "tệp kịch bản lớn hơn 1 GiB (scenarios file is larger than 1 GiB)",
                                 file=name, hint="tách thành nhiều tệp nhỏ (split the file)"))
    with path.open("r", encoding="utf-8-sig", errors="strict", newline="") as handle:
        try:
            first = handle.readline()
        except UnicodeDecodeError:
            raise InputError(Problem("bad_encoding", "dòng tiêu đề không phải UTF-8 (the header is not valid UTF-8)", file=name,
                                     line=1, hint="trong Excel chọn Lưu dạng 'CSV UTF-8 (Comma delimited)'")) from None
    sep = _sniff(first)
    header = [nfc(h).strip() for h in next(csv.reader([first], delimiter=sep), [])]
    problems = ProblemList()
    index = bundle.criteria.index()
    groups: dict[str, list[tuple[str, str | None]]] = {}
    id_col: str | None = None
    seen: set[str] = set()
    for col in header:
        where = {"file": name, "line": 1, "subject": col or "(empty)"}
        if col in seen:
            problems.add("duplicate_column", f"cột '{col}' có hai lần (column '{col}' appears twice)", **where)
            continue
        seen.add(col)
        if col.lower() == "id":
            id_col = col
            continue
        code, _, ev_name = col.partition(":")
        code, ev_name = code.strip(), ev_name.strip() or None
        if code not in bundle.rules:
            if code in index:
                hint = "dùng các tiêu chí thành phần: " + ", ".join(c.code for c in index[code].children)
                problems.add("unknown_column", f"'{code}' có tiêu chí thành phần; mỗi cột là một tiêu chí thành phần "
                             f"('{code}' has sub-criteria)", **where, hint=hint)
            else:
                problems.add("unknown_column", f"cột '{col}' không phải 'id' hay mã tiêu chí thành phần "
                             f"(column '{col}' is not 'id' nor a sub-criterion code)", **where,
                             hint=did_you_mean(code, list(bundle.rules) + ["id"])
                             or "các cột là id, MÃ (ví dụ 3.4.1) hoặc MÃ:tên_số_liệu (ví dụ 7.3.1:reuse_rate)")
            continue
        rule = bundle.rules[code].rule
        if ev_name is not None and rule.spec(ev_name) is None:
            declared = [e.name for e in rule.evidence]
            problems.add("unknown_column", f"'{code}' không có số liệu tên '{ev_name}' ('{code}' has no evidence named "
                         f"'{ev_name}')", **where,
                         hint=did_you_mean(ev_name, declared) or f"tiêu chí này đọc: {', '.join(declared)}")
            continue
        if any(n == ev_name for _, n in groups.get(code, [])):
            problems.add("duplicate_column", f"hai cột cùng đặt một giá trị của '{code}' (two columns set the same value)",
                             **where)
            continue
        groups.setdefault(code, []).append((col, ev_name))
    if not header or (not groups and id_col is None):
        problems.add("no_columns", "dòng tiêu đề không có mã tiêu chí thành phần nào (the header names no sub-criterion)",
                     file=name, line=1, hint="dòng đầu ví dụ: id,3.4.1,7.3.4 (mã các tiêu chí thành phần)")
    problems.raise_if_any()
    used = [(code, col) for code, cols in groups.items() for col, _ in cols]
    position = {col: i for i, col in enumerate(header)}
    from scoring.analysis.scenario_files import read_cells

    cells = read_cells(path, sep, len(header), [position[c] for _, c in used],
                       position.get(id_col) if id_col is not None else None)
    if not len(cells):
        raise InputError(Problem("no_scenarios", "tệp có dòng tiêu đề nhưng chưa có kịch bản nào "
                                 "(the file has a header but no scenario rows)", file=name, line=2,
                                 hint="mỗi dòng sau tiêu đề là một kịch bản"))
    out = Scenarios(name, cells.ids, groups)
    for (code, _), c, lab, first in zip(used, cells.codes, cells.labels, cells.firsts):
        out.codes.setdefault(code, []).append(c)
        out.labels.setdefault(code, []).append(lab)
        out.firsts.setdefault(code, []).append(first)
    return out


def _factorize(columns: list[np.ndarray], firsts: list[np.ndarray] | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Each row's index among the distinct combinations of cells (numbered in order of first
    appearance), and the first row of each. One column's codes are that already (its first rows
    given or found)."""
    from scoring.analysis.scenario_files import factorize_bounded

    if len(columns) == 1:
        key = columns[0]
        if firsts is not None:
            return key, firsts[0]
    else:
        key = np.zeros(len(columns[0]), dtype=np.int64)
        for col in columns:  # combined, renumbered after each column so that the key stays small
            key = factorize_bounded(key * (int(col.max()) + 1) + col.astype(np.int64))[0].astype(np.int64)
    count = int(key.max()) + 1
    first = np.full(count, len(key), dtype=np.int64)
    first[key[::-1]] = np.arange(len(key) - 1, -1, -1, dtype=np.int64)  # the last write wins: each first row
    order = np.argsort(first, kind="stable")  # number the combinations in order of first appearance
    remap = np.empty(count, dtype=np.int32)
    remap[order] = np.arange(count, dtype=np.int32)
    return remap[key], first[order]


def batch_pools(scorer: VectorScorer, ev: EvidenceFile, scenarios: Scenarios
                ) -> dict[str, tuple[LeafPool, np.ndarray | None]]:
    """Measure each distinct cell (combination) once; bad cells are errors naming file, line and column."""
    pools: dict[str, tuple[LeafPool, np.ndarray | None]] = {c: (p, None) for c, p in constant_pools(scorer, ev).items()}
    problems: list[Problem] = []
    extra = 0
    for code, cols in scenarios.groups.items():
        idx, first = _factorize(scenarios.codes[code], scenarios.firsts.get(code))
        entries: list[dict[str | None, str] | None] = []
        for row in first:
            override = {ev_name: scenarios.cell(code, k, row) for k, (_, ev_name) in enumerate(cols)
                        if scenarios.cell(code, k, row)}
            entries.append(override or None)
        pool, found = scorer.pool(ev, code, entries)
        for j, p in found:
            row = int(first[j])
            shown = ", ".join(f"{col}={scenarios.cell(code, k, row)}" for k, (col, _) in enumerate(cols))
            if len(problems) >= MAX_LISTED_PROBLEMS:
                extra += 1
                continue
            problems.append(Problem(p.code, f"{shown}: {p.message}", file=scenarios.file, line=row + 2,
                                    subject=f"{code} (scenario {scenarios.ids[row]})", hint=p.hint))
        pools[code] = (pool, idx)
    if extra:
        problems.append(Problem("more_problems", f"còn {extra} giá trị lỗi khác không liệt kê ({extra} more bad values not listed)",
                                    file=scenarios.file))
    if problems:
        raise InputError(problems)
    return pools


def run_scenarios(bundle: Bundle, ev: EvidenceFile, scenarios: Scenarios,
                  scorer: VectorScorer | None = None) -> BatchResult:
    """Score every scenario of a checked scenarios file exactly (vectorised)."""
    base = score(bundle, ev)  # checks the evidence itself and gives bonus/penalty
    scorer = scorer or VectorScorer(bundle)
    pools = batch_pools(scorer, ev, scenarios)
    return scorer.score(pools, len(scenarios), bonus=base.total.bonus, penalty=base.total.penalty)


def scenarios_csv(result: BatchResult, ids: Sequence[str], peers: PeerSet | None = None) -> str:
    """Output CSV as text (see ``scenarios_csv_bytes``)."""
    return scenarios_csv_bytes(result, ids, peers).decode("utf-8")


def scenarios_csv_bytes(result: BatchResult, ids: Sequence[str], peers: PeerSet | None = None) -> bytes:
    """Output CSV (UTF-8 with BOM, for Excel): scenario, points, percent, one column per field (by
    code), and rank with peers. Each distinct number is formatted once, exactly, from hundredths;
    cells are quoted only where needed (scenario_files.write_csv)."""
    from scoring.analysis.scenario_files import OutColumn, ScenarioIds, arrow_strings, number_column, write_csv

    import os
    from concurrent.futures import ThreadPoolExecutor

    strings = ids.array if isinstance(ids, ScenarioIds) else arrow_strings(list(ids))
    numbers = [("points", result.points, None), ("percent", result.percent, result.has_percent)]
    numbers += [(code, result.fields[:, k], None) for k, code in enumerate(result.field_codes)]
    with ThreadPoolExecutor(max_workers=os.cpu_count() or 1) as pool:  # numpy releases the GIL
        cols = [OutColumn("scenario", strings=strings)] + list(pool.map(lambda n: number_column(*n), numbers))
    if peers is not None:
        codes, texts = batch_ranks(result, peers)
        cols.append(OutColumn("rank", codes, texts))
    return write_csv(cols, len(result))


def batch_ranks(result: BatchResult, peers: PeerSet) -> tuple[np.ndarray, list[str]]:
    """'5/15' for every scenario (ties share a rank, as rank_of), as codes into texts (each distinct
    value ranked once); −1 where the index is undefined."""
    from scoring.analysis.scenario_files import factorize_bounded

    peer_values = [Fraction(p.value) for p in peers.peers]
    own = result.percent if peers.measure == "percent" else result.points
    of = len(peer_values) + 1
    codes, uniques = factorize_bounded(own)
    texts = [f"{1 + sum(1 for x in peer_values if x > Fraction(int(v), 100))}/{of}" for v in uniques]
    if peers.measure == "percent":
        codes = np.where(result.has_percent, codes, -1).astype(np.int32)
    return codes, texts
