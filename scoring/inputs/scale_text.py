"""Vietnamese scale phrases of a province's criteria table → the levels and bands of a rule.

A scale is written in a guidance cell ("Từ 98% trở lên: 3 điểm; từ 90% đến dưới 98%: 2 điểm;
dưới 90%: 0 điểm") or as rows under the sub-criterion, one level per row with its points. This
module reads the levels (the words and the points of each) and recognises:

* percentage bands: "từ X% trở lên", "từ X% đến dưới Y%", "từ X% đến Y%", "trên X%" (strict),
  "dưới X%", "không quá X%", "đạt 100%"; more-is-better or less-is-better;
* counts: "từ 03 sáng kiến trở lên", "02 sáng kiến", "không có", and "mỗi … được 0,25 điểm, tối đa
  1 điểm";
* yes/no: "Có / Không", "Thực hiện / Không thực hiện", "Không có sai phạm / Có sai phạm";
* on time / late / not done ("kịp thời / không kịp thời / không ban hành"): kept as levels.

Vietnamese decimals (0,5) and the word "điểm" are optional. Whatever is not recognised stays a
list of levels as written (a "choose a level" rule). Nothing here reads files or prints.
"""

from __future__ import annotations

import math
import re
import unicodedata
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from fractions import Fraction
from typing import Literal

NUM = r"\d+(?:[.,]\d+)?"
_POINTS_AT_END = re.compile(
    rf"^(?P<cond>.*?)\s*(?:(?P<sep>[:=]|[-–—]\s|\bthì\b|\bđược\b|\bcho\b)\s*)?(?:(?:thì|được|cho)\s+)?\(?\s*"
    rf"(?P<pts>{NUM})\s*(?P<unit>điểm|đ)?\s*\)?\s*[.;,]?\s*$", re.IGNORECASE)
_PER_UNIT = re.compile(
    rf"mỗi\s+(?P<noun>.+?)\s+(?:được\s+|cộng\s+|tính\s+|thì\s+)*(?P<each>{NUM})\s*(?:điểm|đ)\b"
    rf"(?:.*?(?:tối đa|không quá|nhưng không quá|tổng (?:số )?không quá)\s*(?P<cap>{NUM})\s*(?:điểm|đ)?)?",
    re.IGNORECASE)
MAX_LEVELS = 31  # rules.MAX_BRANCHES - 1


def nfc(text: str) -> str:
    return unicodedata.normalize("NFC", text)


def key(text: str) -> str:
    """Words for comparing: NFC, case-folded, single spaces, no bullet or final punctuation."""
    text = nfc(text).strip().lstrip("-–—+•*·").strip()
    return " ".join(text.split()).casefold().rstrip(".;:,")


def to_decimal(text: str) -> Decimal:
    """'0,5' / '0.5' / '3' → Decimal (a Vietnamese decimal comma)."""
    try:
        return Decimal(text.strip().replace(",", "."))
    except InvalidOperation:
        raise ValueError(text) from None


@dataclass(frozen=True)
class Level:
    """One level as the table writes it."""

    label: str  # the condition in the province's words, e.g. "Từ 98% trở lên"
    points: Decimal
    text: str  # the whole sentence, e.g. "Từ 98% trở lên: 3 điểm"
    row: int | None = None


@dataclass(frozen=True)
class Band:
    bound: Literal["min", "above", "max", "below"]
    value: Fraction
    points: Decimal
    label: str


@dataclass
class Scale:
    """What a scale text says. ``kind``: rate / count bands, yes/no, or levels as written."""

    kind: Literal["rate", "count", "boolean", "level"]
    levels: list[Level]
    bands: list[Band] = field(default_factory=list)
    else_points: Decimal = Decimal(0)
    else_label: str | None = None
    noun: str | None = None  # what a count counts ("sáng kiến")
    yes: Level | None = None  # boolean: the level that earns the points
    no: Level | None = None
    on_time: bool = False  # levels of the kind "kịp thời / không kịp thời / không ban hành"
    why: str | None = None  # for levels: why the scale was not computed (Vietnamese)


def split_clauses(text: str) -> list[str]:
    """A guidance cell's sentences: split on ';', new lines and bullets, keeping each sentence whole."""
    text = nfc(str(text)).replace("\r", "\n")
    parts = re.split(r"[;\n]+|(?<=[.])\s+(?=[-–+•]\s)|(?<=điểm)[.,]\s+(?=\S)|(?<=\d)\s*đ[.,]\s+(?=\S)", text)
    out = []
    for p in parts:
        p = p.strip().strip("-–—+•*·").strip()
        if p:
            out.append(p)
    return out


def level_of(text: str, row: int | None = None, points: Decimal | None = None) -> Level | None:
    """A level from one sentence ("Từ 98% trở lên: 3 điểm") or from a row's words and its points."""
    text = nfc(str(text)).strip()
    shown = text.lstrip("-–—+•*·").strip()
    if points is not None:
        return Level(shown.rstrip(".;:, ") or shown, points, text, row)
    m = _POINTS_AT_END.match(shown)
    if not m or not m.group("cond").strip():
        return None
    cond = m.group("cond").strip().rstrip(":=-–—,( ").strip()
    if not (m.group("sep") or m.group("unit")):
        return None  # a bare number at the end ("đạt 100") is not a number of points
    if re.search(r"%\s*$", cond + (m.group("pts") or "")) and not m.group("unit"):
        return None
    try:
        pts = to_decimal(m.group("pts"))
    except ValueError:
        return None
    return Level(cond, pts, text, row)


def read_levels(text: str, row: int | None = None) -> list[Level]:
    """Every level of a guidance cell, in the order written; sentences without points are skipped."""
    return [lv for lv in (level_of(c, row) for c in split_clauses(text)) if lv is not None]


def per_unit(text: str, max_points: Decimal, row: int | None = None) -> Scale | None:
    """'Mỗi sáng kiến được 0,25 điểm, tối đa 1 điểm' → count bands 4 → 1, 3 → 0,75, …"""
    m = _PER_UNIT.search(nfc(str(text)))
    if not m:
        return None
    each = to_decimal(m.group("each"))
    cap = to_decimal(m.group("cap")) if m.group("cap") else max_points
    if each <= 0 or cap <= 0:
        return None
    n = math.ceil(cap / each)
    if n > MAX_LEVELS:
        return None
    noun = re.sub(r"\s+", " ", m.group("noun")).strip(" ,")
    sentence = nfc(str(text)).strip()
    bands = [Band("min", Fraction(k), min(each * k, cap), f"{k:02d} {noun}" + (" trở lên" if k == n else ""))
             for k in range(n, 0, -1)]
    levels = [Level(b.label, b.points, sentence, row) for b in bands] + [Level(f"không có {noun}", Decimal(0),
                                                                              sentence, row)]
    return Scale("count", levels, bands, Decimal(0), f"không có {noun}", noun=noun)


# ------------------------------------------------------------------ conditions


@dataclass(frozen=True)
class Interval:
    lo: Fraction | None
    lo_in: bool
    hi: Fraction | None
    hi_in: bool


_PCT = rf"({NUM})\s*%"
_RATE_FORMS: list[tuple[str, str]] = [
    # (pattern, shape); shapes: [) [] () (] ge gt lt le eq
    (rf"(?:từ|đạt từ)\s*{_PCT}\s*(?:đến|tới|-|–)\s*(?:dưới|<)\s*{_PCT}", "[)"),
    (rf"(?:trên|>)\s*{_PCT}\s*(?:đến|tới|-|–)\s*(?:dưới|<)\s*{_PCT}", "()"),
    (rf"(?:trên|>)\s*{_PCT}\s*(?:đến|tới|-|–|và không quá|và dưới hoặc bằng)\s*{_PCT}", "(]"),
    (rf"(?:từ|đạt từ)\s*{_PCT}\s*(?:đến|tới|-|–)\s*{_PCT}", "[]"),
    (rf"{_PCT}\s*(?:đến|tới|-|–)\s*(?:dưới|<)\s*{_PCT}", "[)"),
    (rf"(?:từ|đạt từ|đạt|≥|>=|tối thiểu|ít nhất)?\s*{_PCT}\s*trở lên", "ge"),
    (rf"(?:≥|>=|tối thiểu|ít nhất|không dưới|không thấp hơn)\s*{_PCT}", "ge"),
    (rf"(?:từ)\s*{_PCT}\s*trở xuống", "le"),
    (rf"(?:không quá|không vượt quá|tối đa|≤|<=)\s*{_PCT}", "le"),
    (rf"(?:trên|>|cao hơn|hơn)\s*{_PCT}", "gt"),
    (rf"(?:dưới|<|thấp hơn|chưa đạt|không đạt)\s*{_PCT}", "lt"),
    (rf"(?:đạt|bằng|=)\s*{_PCT}", "eq"),
    (rf"^\s*{_PCT}\s*$", "eq"),
]
_CNT = r"(\d+)"
_COUNT_FORMS: list[tuple[str, str]] = [
    (rf"(?:từ)\s*{_CNT}\s*(?:\D*?)\s*(?:đến|tới|-|–)\s*(?:dưới|<)\s*{_CNT}", "[)"),
    (rf"(?:từ)\s*{_CNT}\s*(?:\D*?)\s*(?:đến|tới|-|–)\s*{_CNT}", "[]"),
    (rf"(?:từ|có từ|đạt từ)?\s*{_CNT}\b.*?trở lên", "ge"),
    (rf"(?:ít nhất|tối thiểu|không dưới|≥|>=)\s*{_CNT}", "ge"),
    (rf"(?:trên|>|nhiều hơn)\s*{_CNT}", "gt"),
    (rf"(?:dưới|<|ít hơn)\s*{_CNT}", "lt"),
    (rf"(?:không quá|tối đa|≤|<=)\s*{_CNT}", "le"),
    (rf"^(?:có|đạt|được|ban hành|thực hiện|tổ chức)?\s*{_CNT}\b", "eq"),
]
_NONE_WORDS = re.compile(r"^(?:không có|không|chưa có|không thực hiện|0|00)\b", re.IGNORECASE)


def _interval(shape: str, a: Fraction, b: Fraction | None = None) -> Interval:
    return {
        "[)": Interval(a, True, b, False), "()": Interval(a, False, b, False), "(]": Interval(a, False, b, True),
        "[]": Interval(a, True, b, True), "ge": Interval(a, True, None, False), "gt": Interval(a, False, None, False),
        "lt": Interval(None, False, a, False), "le": Interval(None, False, a, True), "eq": Interval(a, True, a, True),
    }[shape]


def rate_interval(label: str) -> Interval | None:
    text = key(label)
    for pattern, shape in _RATE_FORMS:
        m = re.search(pattern, text)
        if m:
            nums = [Fraction(to_decimal(g)) / 100 for g in m.groups() if g is not None]
            iv = _interval(shape, *nums)
            if shape == "eq" and nums[0] == 1:  # "đạt 100%": at least 100 %
                iv = Interval(Fraction(1), True, None, False)
            return iv
    return None


def count_interval(label: str) -> Interval | None:
    text = key(label)
    if "%" in text:
        return None
    if _NONE_WORDS.match(text) and not re.search(r"\d", text):
        return Interval(Fraction(0), True, Fraction(0), True)
    for pattern, shape in _COUNT_FORMS:
        m = re.search(pattern, text)
        if m:
            nums = [Fraction(int(g)) for g in m.groups() if g is not None]
            iv = _interval(shape, *nums)
            # whole numbers: (a, …) is [a + 1, …), (…, b) is (…, b − 1]
            lo, hi = iv.lo, iv.hi
            if lo is not None and not iv.lo_in:
                lo = lo + 1
            if hi is not None and not iv.hi_in:
                hi = hi - 1
            if lo is None:
                lo = Fraction(0)
            return Interval(lo, True, hi, True)
    return None


def _noun(labels: list[str]) -> str | None:
    for label in labels:
        m = re.search(r"\d+\s+(.+?)(?:\s+trở lên|\s+trở xuống|$)", nfc(label))
        if m:
            words = re.sub(r"^(?:đến|tới)\s+\d+\s+", "", m.group(1)).strip(" ,.")
            if words and not re.match(r"^\d", words):
                return words
    return None


def _bands_from(levels: list[Level], ivs: list[Interval], whole: bool) -> tuple[list[Band], Decimal, str | None] | None:
    """Contiguous intervals → bands (more or less is better), else points and else label; None if they
    leave gaps, overlap or give more points to a worse value."""
    pairs = list(zip(levels, ivs))
    best = max(pairs, key=lambda p: p[0].points)[1]
    upward = best.hi is None or (not whole and best.hi == 1 and best.hi_in)
    floor = Fraction(0)
    if upward:
        pairs.sort(key=lambda p: (p[1].lo if p[1].lo is not None else Fraction(-1), p[1].lo_in is False),
                   reverse=True)
        top = pairs[0][1]
        if not (top.hi is None or (not whole and top.hi >= 1)):
            return None
        bands: list[Band] = []
        for i, (lv, iv) in enumerate(pairs):
            last = i == len(pairs) - 1
            if i:
                prev = pairs[i - 1][1]
                if iv.hi is None or iv.hi != prev.lo or (not whole and iv.hi_in == prev.lo_in):
                    if not (whole and iv.hi is not None and iv.hi + 1 == prev.lo):
                        return None
                if lv.points > pairs[i - 1][0].points:
                    return None
            if last and (iv.lo is None or (iv.lo == floor and iv.lo_in)):
                return bands, lv.points, lv.label
            if iv.lo is None:
                return None
            bands.append(Band("min" if iv.lo_in or whole else "above", iv.lo, lv.points, lv.label))
        return bands, Decimal(0), None
    pairs.sort(key=lambda p: (p[1].hi if p[1].hi is not None else Fraction(10**9), p[1].hi_in))
    bottom = pairs[0][1]
    if not (bottom.lo is None or (bottom.lo == floor and bottom.lo_in)):
        return None
    bands = []
    for i, (lv, iv) in enumerate(pairs):
        last = i == len(pairs) - 1
        if i:
            prev = pairs[i - 1][1]
            if iv.lo is None or iv.lo != prev.hi or (not whole and iv.lo_in == prev.hi_in):
                if not (whole and iv.lo is not None and prev.hi is not None and iv.lo == prev.hi + 1):
                    return None
            if lv.points > pairs[i - 1][0].points:
                return None
        if last and iv.hi is None:
            return bands, lv.points, lv.label
        if iv.hi is None:
            return None
        bands.append(Band("max" if iv.hi_in or whole else "below", iv.hi, lv.points, lv.label))
    return bands, Decimal(0), None


_YES_NO = [
    (r"^có$", r"^không$"), (r"^đạt$", r"^(?:không|chưa) đạt$"),
    (r"^(.+)$", r"^(?:không|chưa) (.+)$"), (r"^không có (.+)$", r"^có (.+)$"),
    (r"^(?:đã )?(.+)$", r"^(?:không|chưa) (.+)$"),
]
_ON_TIME = re.compile(r"kịp thời|đúng hạn|đúng thời hạn|đúng thời gian")
_LATE = re.compile(r"không kịp thời|chậm|trễ|quá hạn|không đúng hạn|sau thời hạn")
_NOT_DONE = re.compile(r"^(?:không|chưa) (?:ban hành|thực hiện|xây dựng|tổ chức|báo cáo|gửi|có)")


def _yes_no(levels: list[Level]) -> tuple[Level, Level] | None:
    if len(levels) != 2:
        return None
    a, b = levels
    hi, lo = (a, b) if a.points >= b.points else (b, a)
    if hi.points == lo.points:
        return None
    kh, kl = key(hi.label), key(lo.label)
    for yes, no in _YES_NO:
        my, mn = re.match(yes, kh), re.match(no, kl)
        if my and mn and (not my.groups() or my.group(1) == mn.group(1)):
            return hi, lo
        my, mn = re.match(yes, kl), re.match(no, kh)  # "Không có sai phạm" earns, "Có sai phạm" does not
        if my and mn and (not my.groups() or my.group(1) == mn.group(1)) and kh.startswith("không có"):
            return hi, lo
    return None


def parse_scale(levels: list[Level], max_points: Decimal, text: str | None = None) -> Scale | None:
    """The rule a scale describes; None when there is no scale at all (a direct-points leaf).

    ``levels`` are the levels read from rows or a guidance cell (:func:`read_levels`); ``text`` the
    guidance cell itself (for "mỗi … được … điểm, tối đa …").
    """
    if text:
        unit = per_unit(text, max_points)
        others = [lv for lv in levels if not re.match(r"^(?:mỗi|tối đa|không quá|nhưng không quá|tổng)", key(lv.label))]
        if unit is not None and not others:
            return unit
    if not levels:
        return None
    if len(levels) > MAX_LEVELS:
        return Scale("level", levels[:MAX_LEVELS], why=f"có hơn {MAX_LEVELS} mức")
    labels = [lv.label for lv in levels]
    if any("%" in lb for lb in labels):
        ivs = [rate_interval(lb) for lb in labels]
        if all(iv is not None for iv in ivs):
            built = _bands_from(levels, ivs, whole=False)  # type: ignore[arg-type]
            if built is not None:
                bands, else_points, else_label = built
                if bands:
                    return Scale("rate", levels, bands, else_points, else_label)
        return Scale("level", levels, why="các mức tỷ lệ không liền nhau hoặc không đọc được")
    if any(re.search(r"\d", lb) for lb in labels) or (len(levels) > 1 and any(_NONE_WORDS.match(key(lb)) for lb in labels)
                                                      and any(re.search(r"\d", lb) for lb in labels)):
        ivs = [count_interval(lb) for lb in labels]
        if all(iv is not None for iv in ivs):
            built = _bands_from(levels, ivs, whole=True)  # type: ignore[arg-type]
            if built is not None and built[0]:
                bands, else_points, else_label = built
                return Scale("count", levels, bands, else_points, else_label, noun=_noun(labels))
    yn = _yes_no(levels)
    if yn is not None:
        return Scale("boolean", levels, yes=yn[0], no=yn[1])
    if len(levels) == 1:
        only = levels[0]
        return Scale("boolean", levels, yes=only, no=Level("Không đạt", Decimal(0), only.text, only.row))
    keys = [key(lb) for lb in labels]
    on_time = (any(_ON_TIME.search(k) and not _LATE.search(k) for k in keys)
               and (any(_LATE.search(k) for k in keys) or any(_NOT_DONE.match(k) for k in keys)))
    return Scale("level", levels, on_time=on_time,
                 why=None if on_time else "thang điểm không theo dạng tỷ lệ, số lượng hay có/không")
