"""The province view: every department's total, index, band and rank for a round, from the stored scores.

Ranked by the index (chỉ số, % of the maximum, rounded to hundredths as every report shows it), highest
first; equal indexes share a rank and the next rank is skipped (1, 2, 2, 4): the criteria sets state no
tie-break rule, and the page says so.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, replace
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from ..store import province as pq
from ..store.queries import ROUNDS

TIES_NOTE = ("Các đơn vị có cùng chỉ số được xếp đồng hạng (ví dụ 1, 2, 2, 4): bộ tiêu chí không quy định "
             "cách phân định khi bằng điểm.")


_CACHE_LOCK = threading.Lock()
#: a ranking read this recently is shown without asking the database whether it changed: a rank on a
#: scorecard page may lag an upload elsewhere by this long
FRESH_SECONDS = 1.0


@dataclass
class RankRow:
    department: str
    department_id: int
    assessment_id: int | None
    points: Decimal | None
    max_points: Decimal | None
    percent: Decimal | None
    band: str | None
    rank: int | None = None
    tied: bool = False
    submitted: bool = False
    source: str = ""  # where the points come from, in Vietnamese

    def json(self) -> dict[str, Any]:
        def num(d: Decimal | None) -> float | int | None:
            return None if d is None else (int(d) if d == d.to_integral_value() else float(d))

        return {"department": self.department, "assessment_id": self.assessment_id, "points": num(self.points),
                "max_points": num(self.max_points), "percent": num(self.percent), "band": self.band,
                "rank": self.rank, "tied": self.tied, "submitted": self.submitted, "source": self.source}


def percent_of(points: Decimal, max_points: Decimal) -> Decimal | None:
    if not max_points:
        return None
    return (points * 100 / max_points).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def assign_ranks(rows: list[RankRow]) -> list[RankRow]:
    """Competition ranking by index, highest first; rows without an index come last, unranked."""
    scored = sorted((r for r in rows if r.percent is not None), key=lambda r: (-r.percent, r.department))  # type: ignore[operator]
    counts: dict[Decimal, int] = {}
    for r in scored:
        counts[r.percent] = counts.get(r.percent, 0) + 1  # type: ignore[index]
    for i, r in enumerate(scored):
        r.rank = next(j for j, x in enumerate(scored) if x.percent == r.percent) + 1
        r.tied = counts[r.percent] > 1  # type: ignore[index]
    return scored + sorted((r for r in rows if r.percent is None), key=lambda r: r.department)


def ranking(service: Any, year: int, round: str, lag: bool = False) -> list[RankRow]:
    """Every department's row for the round; computed once per worker until a stored row changes
    (``pq.version``): every scorecard page states its rank.

    A change this worker committed shows at once (``Service`` marks the cache on every commit), except
    with ``lag``: then a ranking computed less than FRESH_SECONDS ago is used anyway. A scorecard page's
    own rank (``own_rank``) takes that: it leaves its own department out of the ranking, so only another
    department's change can lag, by at most a second; under load (uploads every 100 ms) every page had
    recomputed the whole round."""
    key = (year, round)
    with _CACHE_LOCK:
        hit = service.ranking_cache.get(key)
    if hit is not None and time.monotonic() - hit[1] < FRESH_SECONDS and (lag or not hit[3]):
        return [replace(r) for r in hit[2]]
    with service.store.reads() as s:
        version = pq.version(s)
        if hit is not None and hit[0] == version:
            with _CACHE_LOCK:
                service.ranking_cache[key] = (version, time.monotonic(), hit[2], False)
            return [replace(r) for r in hit[2]]
        scores = pq.round_scores(s, year, round)
    rows = []
    for sc in scores:
        a = sc.assessment
        if a is None:
            rows.append(RankRow(sc.department.name, sc.department.id, None, None, None, None, None,
                                source="chưa có điểm vòng này"))
            continue
        if sc.appraisal is not None:
            points, source = sc.appraisal.final_points, f"điểm thẩm định ({sc.appraisal.file_name})"
        else:
            points = a.points
            source = "bản đã nộp" if sc.submitted else "bản tải lên mới nhất (chưa nộp)"
        exact = points * 100 / a.max_points if a.max_points else None
        band = service.bundle(a.set_id).criteria.band_of(exact) if sc.appraisal is not None else a.band
        rows.append(RankRow(sc.department.name, sc.department.id, a.id, points, a.max_points,
                            percent_of(points, a.max_points), band, submitted=sc.submitted, source=source))
    ranked = assign_ranks(rows)
    with _CACHE_LOCK:
        service.ranking_cache[key] = (version, time.monotonic(), ranked, False)
        while len(service.ranking_cache) > 64:
            service.ranking_cache.pop(next(iter(service.ranking_cache)))
    return [replace(r) for r in ranked]


@dataclass(frozen=True)
class OwnRank:
    rank: int
    of: int
    tied_with: int
    text: str


def own_rank(service: Any, a: Any) -> OwnRank | None:
    """This assessment's rank among the departments' stored scores of its year and round."""
    pct = percent_of(a.points, a.max_points)
    if pct is None:
        return None
    others = [r for r in ranking(service, a.year, a.round, lag=True) if r.department_id != a.department_id and r.percent is not None]
    rank = 1 + sum(1 for r in others if r.percent > pct)  # type: ignore[operator]
    tied = sum(1 for r in others if r.percent == pct)
    of = len(others) + 1
    text = f"{rank}/{of}" + (f" (đồng hạng với {tied} đơn vị)" if tied else "")
    text += f" – tính từ điểm đã lưu của {of} đơn vị, vòng {ROUNDS.get(a.round, a.round)} năm {a.year}"
    return OwnRank(rank, of, tied, text)
