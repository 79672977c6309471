"""Working days as Vietnam's one-stop offices count them: not Saturday, not Sunday, not a public holiday.

Public holidays come from the ``holidays`` package (Vietnam: New Year, Tết Nguyên Đán, Hùng
Kings, 30/4, 1/5, 2/9 and the days the government moves or adds around them, as the package
records them); a province adds its own days off in the mapping file (``deadlines.days_off``).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable


def days_off(start: dt.date, end: dt.date, extra: Iterable[dt.date] = ()) -> set[dt.date]:
    """Public holidays of Vietnam from ``start`` to ``end``, plus ``extra``."""
    import holidays

    found = holidays.country_holidays("VN", years=range(start.year, end.year + 1))
    return {d for d in found if start <= d <= end} | {d for d in extra if start <= d <= end}


def working_days(start: dt.date, end: dt.date, extra_days_off: Iterable[dt.date] = ()) -> list[dt.date]:
    """Every working day from ``start`` to ``end`` (both included), in order."""
    off = days_off(start, end, extra_days_off)
    out = []
    day = start
    while day <= end:
        if day.weekday() < 5 and day not in off:
            out.append(day)
        day += dt.timedelta(days=1)
    return out


def add_working_days(day: dt.date, n: int, extra_days_off: Iterable[dt.date] = ()) -> dt.date:
    """``day`` moved on by ``n`` working days (the reference the SQL calendar join is tested against)."""
    if n <= 0:
        return day
    days = working_days(day + dt.timedelta(days=1), day + dt.timedelta(days=3 * n + 60), extra_days_off)
    return days[n - 1]
