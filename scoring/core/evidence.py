"""Evidence: the measured values and documents a department submits, and value parsing.

An evidence file (YAML, one per department and year) is keyed by sub-criterion
code so that an Office clerk finds each item where the self-scoring table has it::

    evidence:
      "3.4.1":
        values: {on_time: 4900, received: 5000}
        documents:
          - {number: "125/BC-STP", date: 15/12/2025, issuer: Sở Tư pháp, title: Báo cáo …}

Values are parsed by the type their rule declares (``rate``, ``count``, ``date``…);
parsing is strict and every failure names the file, line and fix.
"""

from __future__ import annotations

import datetime as dt
import re
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from fractions import Fraction
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from scoring.core.errors import InputError, Problem
from scoring.core.numbers import NumberTextError, check_number_text
from scoring.core.yamlio import LineDict, YamlFloat, load_yaml, pydantic_problems

ValueType = Literal["rate", "count", "number", "score", "points", "boolean", "date", "dated_items", "level"]

_TRUE = {"true", "yes", "có", "co", "x", "1", "đúng", "dung", "đạt", "y"}
_FALSE = {"false", "no", "không", "khong", "0", "", "sai", "n", "chưa", "chua"}


class ValueError_(ValueError):
    """A value that cannot be read as its declared type; message is user-facing.

    ``vi`` is the Vietnamese sentence for the Office; the English one follows in brackets.
    """

    def __init__(self, message: str, hint: str | None = None, vi: str | None = None):
        super().__init__(f"{vi} ({message})" if vi else message)
        self.hint = hint


def _number_text(text: str) -> str:
    text = text.strip().replace("\u00a0", " ").replace(" ", "")
    # Vietnamese decimal comma: "98,5" → "98.5" (only when there is no dot as well)
    if "," in text and "." not in text:
        text = text.replace(",", ".")
    return text


MAX_MAGNITUDE = 10**15  # no figure in a PAR assessment comes near this; larger is a typo


def _what(value: Any) -> str:
    if isinstance(value, dict):
        return "a group of keys {…}"
    if isinstance(value, (list, tuple)):
        return "a list […]"
    return f"'{value}'"


def to_fraction(value: Any) -> Fraction:
    """Exact rational from an int, YAML float (via its text), Decimal, Fraction or numeric text."""
    result = _to_fraction(value)
    if abs(result) > MAX_MAGNITUDE:
        shown = getattr(value, "raw", None) or value
        raise ValueError_(f"{shown} is too large for a figure in an assessment", vi=f"số {shown} quá lớn",
                          hint="kiểm tra lại số liệu; tối đa 1.000.000.000.000.000 (check the number)")
    return result


def _to_fraction(value: Any) -> Fraction:
    if isinstance(value, bool):
        raise ValueError_("expected a number, got true/false")
    if isinstance(value, Fraction):
        return value
    if isinstance(value, int):
        return Fraction(value)
    if isinstance(value, YamlFloat) and value.raw:
        return _to_fraction(value.raw)
    if isinstance(value, float):
        if value != value or value in (float("inf"), float("-inf")):
            raise ValueError_(f"{value} is not a finite number")
        return Fraction(repr(value))
    if isinstance(value, Decimal):
        if not value.is_finite():
            raise ValueError_(f"{value} is not a finite number")
        return Fraction(value)
    if isinstance(value, str):
        text = _number_text(value)
        try:
            check_number_text(text)
        except NumberTextError as exc:
            raise ValueError_(exc.english, exc.hint, vi=exc.vi) from None
        try:
            dec = Decimal(text)
        except InvalidOperation:
            raise ValueError_(f"'{value}' is not a number", "viết chữ số, ví dụ 12 hoặc 12,5 (write digits)",
                              vi=f"'{value}' không phải là số") from None
        if not dec.is_finite():
            raise ValueError_(f"'{value}' is not a finite number")
        return Fraction(dec)
    raise ValueError_(f"expected a number, got {_what(value)}", "viết một số, ví dụ 12 hoặc 12,5 (write one number)",
                      vi="cần một số")


def parse_rate(value: Any) -> Fraction:
    """A rate as an exact fraction in [0, 1]: 0.98, "98%", "98,5 %", "49/50"."""
    if isinstance(value, str):
        text = value.strip()
        if text.endswith("%"):
            rate = to_fraction(text[:-1]) / 100
        elif "/" in text:
            num, _, den = text.partition("/")
            n, d = _to_fraction(num), _to_fraction(den)  # the parts may be large; the rate is checked below
            if d == 0:
                raise ValueError_(f"'{value}' divides by zero", "tỷ lệ a/b cần b > 0 (a rate a/b needs b > 0)",
                                  vi=f"'{value}' chia cho 0")
            rate = n / d
        else:
            rate = to_fraction(text)
    else:
        rate = to_fraction(value)
    if rate < 0 or rate > 1:
        shown = getattr(value, "raw", None) or value
        raise ValueError_(f"rate {shown} is outside 0–1", vi=f"tỷ lệ {shown} nằm ngoài khoảng 0–1",
                          hint="viết tỷ lệ dạng 0,98, 98% hoặc 49/50 (write a rate as 0.98, 98% or 49/50)")
    return rate


def parse_count(value: Any) -> int:
    if isinstance(value, bool):
        raise ValueError_("expected a whole number, got true/false")
    if isinstance(value, str):
        text = value.strip().replace(" ", "").replace("\u00a0", "")
        if not re.fullmatch(r"-?\d+", text):
            raise ValueError_(f"'{value}' is not a whole number", "chỉ viết chữ số, ví dụ 4900 (write digits only)",
                              vi=f"'{value}' không phải số nguyên")
        try:
            check_number_text(text)
        except NumberTextError as exc:
            raise ValueError_(exc.english, exc.hint, vi=exc.vi) from None
        value = int(text)
    if isinstance(value, float):
        if not value.is_integer():
            raise ValueError_(f"{getattr(value, 'raw', value)} is not a whole number",
                              vi=f"{getattr(value, 'raw', value)} không phải số nguyên")
        value = int(value)
    if not isinstance(value, int):
        raise ValueError_(f"expected a whole number, got {_what(value)}",
                          "viết một số nguyên, ví dụ 4900 (write one whole number)", vi="cần một số nguyên")
    if value < 0:
        raise ValueError_(f"count {value} is negative", "số lượng từ 0 trở lên (a count is 0 or more)",
                          vi=f"số lượng {value} là số âm")
    return value


def parse_bool(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    if isinstance(value, str):
        text = value.strip().lower()
        if text in _TRUE:
            return True
        if text in _FALSE and text:
            return False
    raise ValueError_(f"'{value}' is not yes/no", "viết có hoặc không (write có/không or true/false)",
                      vi=f"'{value}' không phải có/không")


_DMY = re.compile(r"^\s*(\d{1,2})[/.-](\d{1,2})[/.-](\d{4})\s*$")


def parse_date(value: Any) -> dt.date:
    """ISO ``2025-07-15`` or Vietnamese day-first ``15/07/2025``; impossible dates are errors."""
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str):
        text = value.strip()
        match = _DMY.match(text)
        try:
            if match:
                day, month, year = (int(g) for g in match.groups())
                return dt.date(year, month, day)
            return dt.date.fromisoformat(text[:10]) if re.match(r"^\d{4}-\d{2}-\d{2}", text) else _bad_date(value)
        except ValueError as exc:
            if isinstance(exc, ValueError_):
                raise
            raise ValueError_(f"'{value}' is not a real date ({exc})",
                              "kiểm tra ngày và tháng (check day and month, dd/mm/yyyy)",
                              vi=f"'{value}' không phải ngày có thật") from None
    return _bad_date(value)


def _bad_date(value: Any) -> dt.date:
    raise ValueError_(f"'{value}' is not a date", "viết dd/mm/yyyy (ví dụ 15/07/2025) hoặc yyyy-mm-dd",
                      vi=f"'{value}' không phải ngày tháng")


def parse_points(value: Any) -> Decimal:
    frac = to_fraction(value)
    dec = Decimal(frac.numerator) / Decimal(frac.denominator)
    if Fraction(dec) != frac:
        raise ValueError_(f"{value} has too many decimals for points")
    if dec < 0:
        raise ValueError_(f"points {value} are negative", vi=f"điểm {value} là số âm")
    return dec


def same_as_stated(kind: str, raw: Any, stated: Any, computed: Any) -> bool:
    """Does a value the clerk typed agree with the one computed from data?

    A rate agrees when it is the computed rate rounded the way it was written ("83,5%" for
    83,47 %, "98%" for 98,01 %); other values must be equal.
    """
    if kind != "rate" or stated == computed:
        return bool(stated == computed)
    text = str(getattr(raw, "raw", None) or raw).strip().replace(",", ".")
    if "/" in text:
        return False
    percent = text.endswith("%")
    places = len(text.rstrip("%").strip().partition(".")[2]) - (0 if percent else 2)
    scaled = Decimal(computed.numerator * 100) / Decimal(computed.denominator)
    rounded = scaled.quantize(Decimal(1).scaleb(-max(places, 0)), rounding=ROUND_HALF_UP)
    return bool(rounded == Decimal(stated.numerator * 100) / Decimal(stated.denominator))


def parse_value(kind: ValueType, value: Any) -> Any:
    """Parse one evidence value by declared type. Raises ValueError_ with a user message."""
    if kind == "rate":
        return parse_rate(value)
    if kind == "count":
        return parse_count(value)
    if kind in ("number", "score"):
        return to_fraction(value)
    if kind == "points":
        return parse_points(value)
    if kind == "boolean":
        return parse_bool(value)
    if kind == "date":
        return parse_date(value)
    if kind == "level":  # the level's number or words; checked against the rule's levels by the engine
        if isinstance(value, bool) or not isinstance(value, (int, str)) or (isinstance(value, str) and not value.strip()):
            raise ValueError_(f"expected a level's number or words, got {_what(value)}",
                              "ghi số thứ tự của mức (1, 2, …) hoặc chữ của mức", vi="cần số thứ tự hoặc chữ của mức")
        return value.strip() if isinstance(value, str) else value
    if kind == "dated_items":
        if not isinstance(value, dict):
            raise ValueError_("expected a list of items with their dates",
                              "write each item on its own line: 'Quý I: 10/03/2025' (empty if not done)")
        return {str(k): (None if v in (None, "") else parse_date(v)) for k, v in value.items()}
    raise ValueError_(f"unknown value type '{kind}'")


def format_value(kind: str, value: Any) -> str:
    """Vietnamese display of a parsed value (rates as percent, dates dd/mm/yyyy)."""
    if value is None:
        return "không có"
    if kind == "rate" or (isinstance(value, Fraction) and kind == "ratio"):
        return format_percent(value)
    if isinstance(value, bool):
        return "có" if value else "không"
    if isinstance(value, dt.date):
        return value.strftime("%d/%m/%Y")
    if isinstance(value, (Fraction, Decimal, int)):
        return format_number(value)
    if isinstance(value, dict):
        return "; ".join(f"{k}: {format_value('date', v)}" for k, v in value.items())
    return str(value)


def format_number(value: Fraction | Decimal | int, places: int = 2) -> str:
    frac = Fraction(value)
    if frac.denominator == 1:
        return f"{frac.numerator:,}".replace(",", ".")
    text = f"{float(frac):.{places}f}".rstrip("0").rstrip(".")
    return text.replace(".", ",")


def format_percent(rate: Fraction, places: int = 2) -> str:
    pct = Fraction(rate) * 100
    return format_number(pct, places) + "%"


# ---------------------------------------------------------------- documents and files


class Document(BaseModel):
    """A document behind a value: số hiệu, date, issuing body, optional file."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    number: str | None = None  # số hiệu, e.g. "146/KH-UBND"
    date: dt.date | None = None
    issuer: str | None = None  # cơ quan ban hành
    title: str | None = None
    file: str | None = None
    item: str | None = None  # which dated item it proves (e.g. "Quý I")
    line: int | None = None

    @field_validator("date", mode="before")
    @classmethod
    def _date(cls, value: Any) -> Any:
        if value is None or value == "":
            return None
        try:
            return parse_date(value)
        except ValueError_ as exc:
            raise ValueError(str(exc)) from None

    @field_validator("number", mode="before")
    @classmethod
    def _number(cls, value: Any) -> Any:
        return None if value is None else str(getattr(value, "raw", None) or value)

    def label(self) -> str:
        parts = [p for p in (self.number, self.title) if p]
        text = " – ".join(parts) if parts else "(tài liệu không số hiệu)"
        if self.date:
            text += f" ngày {self.date.strftime('%d/%m/%Y')}"
        if self.issuer:
            text += f" ({self.issuer})"
        return text


class LeafEvidence(BaseModel):
    """What the department submitted for one sub-criterion."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    values: dict[str, Any] = Field(default_factory=dict)
    documents: tuple[Document, ...] = ()
    not_applicable: bool = False  # "không phát sinh"
    justification: str | None = None
    note: str | None = None
    line: int | None = None
    value_lines: dict[str, int] = Field(default_factory=dict)
    # filled by tools, not typed by clerks: values computed from the dossier export replace typed ones;
    # the typed ones are kept here so that a disagreement can be reported
    computed: tuple[str, ...] = ()  # names whose value was computed from dossiers
    stated_values: dict[str, Any] = Field(default_factory=dict)  # what the file said for those names
    dossiers: dict[str, tuple[str, ...]] = Field(default_factory=dict)  # label → dossier ids behind a loss


class Claim(BaseModel):
    """A bonus or penalty item claimed or reported."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    id: str
    count: int = Field(default=1, ge=1)
    note: str | None = None
    documents: tuple[Document, ...] = ()
    line: int | None = None


class EvidenceFile(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")
    department: str
    year: int
    criteria_set: str
    constructed_example: bool = False
    # what the unit is: "so" (Sở), "ban" (Ban Quản lý…), "khac" (another department-level body);
    # absent: read from the name ("Sở …", "Ban …"), see scoring/core/unit.py
    unit_kind: Literal["so", "ban", "khac"] | None = None
    prepared_by: str | None = None
    note: str | None = None
    evidence: dict[str, LeafEvidence] = Field(default_factory=dict)
    bonus: tuple[Claim, ...] = ()
    penalty: tuple[Claim, ...] = ()
    file: str = ""
    # notes added by tools that fill evidence in (e.g. indicators computed from dossiers)
    warnings: tuple[str, ...] = ()
    # where each value was read in a workbook (bookkeeping like ``file``/``line``): code → key → "'Sheet'!H12";
    # keys: an evidence name, "name|item" for a dated item, "#row", "#na", "#justification", "#documents"
    cells: dict[str, dict[str, str]] = Field(default_factory=dict)

    @field_validator("evidence", mode="before")
    @classmethod
    def _codes(cls, value: Any) -> Any:
        if isinstance(value, dict):
            for key in value:
                if not isinstance(key, str):
                    raw = getattr(key, "raw", key)
                    raise ValueError(f"code {raw} was read as a number; write it in quotes: \"{raw}\"")
        return value


KNOWN_KEYS = sorted(set(EvidenceFile.model_fields) | set(LeafEvidence.model_fields)
                    | set(Document.model_fields) | set(Claim.model_fields))


def _with_lines(data: Any) -> Any:
    """Copy line numbers from the YAML into the models' ``line`` fields."""
    if not isinstance(data, LineDict):
        return data
    out = LineDict(data)
    out.line, out.key_lines = data.line, getattr(data, "key_lines", {})
    ev = data.get("evidence")
    if isinstance(ev, LineDict):
        new_ev = LineDict()
        new_ev.line, new_ev.key_lines = ev.line, ev.key_lines
        for code, item in ev.items():
            if isinstance(item, LineDict):
                fixed = LineDict(item)
                fixed.line, fixed.key_lines = item.line, item.key_lines
                fixed["line"] = ev.line_of(code)
                vals = item.get("values")
                if isinstance(vals, LineDict):
                    fixed["value_lines"] = {k: vals.line_of(k) for k in vals}
                docs = item.get("documents")
                if isinstance(docs, list):
                    fixed["documents"] = [_doc_line(d) for d in docs]
                new_ev[code] = fixed
            else:
                new_ev[code] = item
        out["evidence"] = new_ev
    for key in ("bonus", "penalty"):
        claims = data.get(key)
        if isinstance(claims, list):
            out[key] = [_doc_line(c, nested="documents") for c in claims]
    return out


def _doc_line(item: Any, nested: str | None = None) -> Any:
    if not isinstance(item, LineDict) or "line" in item:
        return item
    fixed = LineDict(item)
    fixed.line, fixed.key_lines = item.line, item.key_lines
    fixed["line"] = item.line
    if nested and isinstance(item.get(nested), list):
        fixed[nested] = [_doc_line(d) for d in item[nested]]
    return fixed


def load_evidence(path: Path | str) -> EvidenceFile:
    """Read an evidence YAML file (structure only; values are parsed against the rules later)."""
    path = Path(path)
    name = str(path)
    if path.suffix.lower() in (".xlsx", ".xlsm"):
        # Workbooks are an input format above the core: scoring.api.load_evidence reads both.
        raise InputError(Problem("unsupported_format", "hàm này chỉ đọc tệp YAML (this function reads evidence from YAML only)",
                                 file=name, hint="use scoring.api.load_evidence for a workbook"))
    data = load_yaml(path, "evidence file")
    if not isinstance(data, dict):
        raise InputError(Problem("not_a_mapping", "đây không phải tệp tài liệu kiểm chứng: tệp phải có các mục "
                                                  "'department', 'year', 'evidence' (an evidence file is a mapping with "
                                                  "'department', 'year', 'evidence')", file=name, line=1,
                                 hint="tải lên bảng tính đã điền từ mẫu của parindex (.xlsx) hoặc tệp .yaml tạo bằng "
                                      "'parindex import-evidence'"))
    codes = data.get("evidence")
    if isinstance(codes, LineDict):
        bad = [Problem("numeric_code", f"mã {getattr(k, 'raw', k)} bị đọc thành một số (code read as a number)",
                       file=name, line=codes.line_of(k), subject=str(getattr(k, "raw", k)),
                       hint=f"viết mã trong dấu ngoặc kép: \"{getattr(k, 'raw', k)}\"")
               for k in codes if not isinstance(k, str)]
        if bad:
            raise InputError(bad)
    try:
        return EvidenceFile.model_validate({**_with_lines(data), "file": name})
    except ValidationError as exc:
        raise InputError(pydantic_problems(exc, data, name, known_keys=KNOWN_KEYS)) from None
