"""Dossier indicators: the one-stop system's raw export (one row per hồ sơ) → exact rates.

Pipeline: read CSV/XLSX → map the province's headers onto canonical columns (mapping YAML) →
convert and validate every row (vectorised; bad rows named by row, column, value and fix) →
compute on-time, apology, digitisation, re-use, full-online, online-payment and full-online
service rates as exact numerator/denominator pairs, per department and per unit or procedure →
print them (``parindex indicators``) or feed them into the evidence of the sub-criteria whose
rules say ``computed_from: <indicator>.<numerator|denominator|rate>`` (``--dossiers``).

Semantics, columns and formats are documented in docs/dossiers.md. pandas is imported inside
functions so that other commands do not pay for it.
"""

from __future__ import annotations

import codecs
import datetime as dt
import io
import json
import os
import re
import sys
import unicodedata
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Literal

from pydantic import BaseModel, ConfigDict

from scoring.core.errors import InputError, Problem, ProblemList, did_you_mean
from scoring.core.yamlio import check_input_file

if TYPE_CHECKING:  # pragma: no cover
    from scoring.core.evidence import EvidenceFile
    from scoring.core.rules import Bundle

# ------------------------------------------------------------------ columns and indicators


@dataclass(frozen=True)
class ColumnSpec:
    """One canonical column of the dossier table."""

    name: str
    kind: str  # id | text | date | count | bool | channel
    required: bool
    title: str  # Vietnamese, as a clerk would call it


COLUMNS: dict[str, ColumnSpec] = {c.name: c for c in (
    ColumnSpec("dossier_id", "id", True, "Mã hồ sơ"),
    ColumnSpec("procedure_code", "text", False, "Mã thủ tục hành chính"),
    ColumnSpec("unit", "text", False, "Đơn vị giải quyết"),
    ColumnSpec("received_at", "date", True, "Ngày tiếp nhận"),
    ColumnSpec("due_at", "date", True, "Ngày hẹn trả kết quả"),
    ColumnSpec("finished_at", "date", True, "Ngày có kết quả (để trống nếu chưa giải quyết xong)"),
    ColumnSpec("channel", "channel", False, "Hình thức nộp (trực tuyến / trực tiếp / bưu chính)"),
    ColumnSpec("full_online", "bool", False, "Nộp qua dịch vụ công trực tuyến toàn trình"),
    ColumnSpec("supplement_requests", "count", True, "Số lần yêu cầu bổ sung hồ sơ"),
    ColumnSpec("paused_days", "count", True, "Số ngày tạm dừng chờ bổ sung"),
    ColumnSpec("withdrawn", "bool", True, "Hồ sơ đã rút"),
    ColumnSpec("digitised", "bool", False, "Thành phần hồ sơ đã số hóa"),
    ColumnSpec("result_digitised", "bool", False, "Kết quả giải quyết đã số hóa"),
    ColumnSpec("reused_data", "bool", False, "Có tái sử dụng dữ liệu đã số hóa"),
    ColumnSpec("fee_required", "bool", False, "Phải nộp phí, lệ phí"),
    ColumnSpec("paid_online", "bool", False, "Đã thanh toán trực tuyến"),
    ColumnSpec("apology_sent", "bool", False, "Đã có văn bản xin lỗi"),
)}

PROCEDURE_COLUMNS: dict[str, ColumnSpec] = {c.name: c for c in (
    ColumnSpec("procedure_code", "id", True, "Mã thủ tục hành chính"),
    ColumnSpec("name", "text", False, "Tên thủ tục hành chính"),
    ColumnSpec("full_online_eligible", "bool", True, "Đủ điều kiện cung cấp trực tuyến toàn trình"),
    ColumnSpec("full_online_offered", "bool", True, "Đã cung cấp trực tuyến toàn trình"),
    ColumnSpec("fee", "text", False, "Phí, lệ phí"),
)}


@dataclass(frozen=True)
class IndicatorSpec:
    """An indicator parindex computes: what it counts and what its losses are called."""

    name: str
    title: str  # Vietnamese
    numerator: str  # Vietnamese description of the numerator
    denominator: str
    loss: str  # label of the ids behind a loss (denominator but not numerator)
    needs: tuple[str, ...] = ()  # optional columns it needs


INDICATORS: dict[str, IndicatorSpec] = {i.name: i for i in (
    IndicatorSpec("on_time", "Tỷ lệ hồ sơ giải quyết đúng hạn", "hồ sơ đúng hạn (kể cả đang giải quyết trong hạn)",
                  "hồ sơ tiếp nhận trong kỳ (không tính hồ sơ rút)", "Hồ sơ trễ hạn"),
    IndicatorSpec("apology", "Tỷ lệ hồ sơ trễ hạn có văn bản xin lỗi", "hồ sơ trễ hạn có văn bản xin lỗi",
                  "hồ sơ trễ hạn", "Hồ sơ trễ hạn chưa có văn bản xin lỗi", ("apology_sent",)),
    IndicatorSpec("digitisation", "Tỷ lệ hồ sơ được số hóa", "hồ sơ số hóa thành phần (và kết quả nếu đã giải quyết)",
                  "hồ sơ tiếp nhận trong kỳ", "Hồ sơ chưa số hóa đầy đủ", ("digitised", "result_digitised")),
    IndicatorSpec("reuse", "Tỷ lệ hồ sơ tái sử dụng dữ liệu số hóa", "hồ sơ có tái sử dụng dữ liệu số hóa",
                  "hồ sơ tiếp nhận trong kỳ", "Hồ sơ chưa tái sử dụng dữ liệu số hóa", ("reused_data",)),
    IndicatorSpec("full_online", "Tỷ lệ hồ sơ nộp trực tuyến toàn trình", "hồ sơ nộp trực tuyến toàn trình",
                  "hồ sơ tiếp nhận trong kỳ", "Hồ sơ không nộp trực tuyến toàn trình", ("full_online",)),
    IndicatorSpec("online_payment", "Tỷ lệ hồ sơ thanh toán phí, lệ phí trực tuyến", "hồ sơ thanh toán trực tuyến",
                  "hồ sơ phải nộp phí, lệ phí", "Hồ sơ phải nộp phí chưa thanh toán trực tuyến",
                  ("fee_required", "paid_online")),
    IndicatorSpec("full_online_services", "Tỷ lệ TTHC đủ điều kiện cung cấp trực tuyến toàn trình",
                  "TTHC đã cung cấp trực tuyến toàn trình", "TTHC đủ điều kiện",
                  "TTHC đủ điều kiện chưa cung cấp trực tuyến toàn trình"),
)}

CHANNELS = ("online", "direct", "postal")
_CHANNEL_WORDS = {
    "online": "online", "trực tuyến": "online", "truc tuyen": "online", "qua mạng": "online",
    "direct": "direct", "trực tiếp": "direct", "truc tiep": "direct",
    "postal": "postal", "bưu chính": "postal", "buu chinh": "postal", "bưu chính công ích": "postal",
    "dịch vụ bưu chính công ích": "postal", "qua bưu chính": "postal", "bccI": "postal", "bcci": "postal",
}
_TRUE = {"true", "1", "có", "co", "x", "yes", "y", "đúng", "đạt", "đã"}
_FALSE = {"false", "0", "không", "khong", "", "no", "n", "sai", "chưa"}

NO_DAY = -(2**62)  # day number of a blank date
_EPOCH_ORDINAL = dt.date(1970, 1, 1).toordinal()
_EXCEL_EPOCH = -25569  # Excel serial 25569 is 1970-01-01 (1900 date system)
PARALLEL_MIN_BYTES = 16 * 1024 * 1024  # smaller CSV files are read in one process
PAD = 256  # the longest cell the byte reader takes (in bytes); longer ones send the block to pandas' parser
MAX_SHOWN = 20  # bad rows listed before stopping


def _nfc(text: str) -> str:
    return unicodedata.normalize("NFC", text)


def _key(text: Any) -> str:
    """How headers and mapping entries are compared: NFC, trimmed, case-folded."""
    return _nfc(str(text)).strip().casefold()


def _fmt_int(n: int) -> str:
    # local copy of evidence.format_number for counts: the indicators command does not import pydantic
    return f"{n:,}".replace(",", ".")


def _fmt_rate(rate: Fraction | None) -> str:
    if rate is None:
        return "không phát sinh"
    pct = rate * 100
    if pct.denominator == 1:
        return f"{pct.numerator}%"
    return f"{float(pct):.2f}".rstrip("0").rstrip(".").replace(".", ",") + "%"


def _fmt_day(day: int) -> str:
    return dt.date.fromordinal(int(day) + _EPOCH_ORDINAL).strftime("%d/%m/%Y")


def _day(date: dt.date) -> int:
    return date.toordinal() - _EPOCH_ORDINAL


# ------------------------------------------------------------------ mapping file


@dataclass
class TableMapping:
    """How one table (dossiers or procedures) is laid out in a province's export."""

    columns: dict[str, str] = field(default_factory=dict)  # canonical name → header in the file
    values: dict[str, dict[str, str]] = field(default_factory=dict)  # canonical → {cell text (key form) → value}
    sheet: str | None = None
    header_row: int | None = None  # None: the first of the first HEADER_SEARCH rows that has the columns
    delimiter: str | None = None


@dataclass
class Mapping:
    """A column-mapping file: the dossier table and, optionally, the procedure catalogue."""

    dossiers: TableMapping = field(default_factory=TableMapping)
    procedures: TableMapping = field(default_factory=TableMapping)
    file: str | None = None


_TABLE_KEYS = ("columns", "values", "sheet", "header_row", "delimiter")


def load_mapping(path: str | Path) -> Mapping:
    """Read a column-mapping YAML (see sample_evidence/dossiers/mapping-lang-son.yaml)."""
    from scoring.core.yamlio import load_yaml

    name = str(path)
    data = load_yaml(Path(path), "column-mapping file")
    problems = ProblemList()
    if not isinstance(data, dict):
        raise InputError(Problem("not_a_mapping", "a column-mapping file is a mapping with 'dossiers:' "
                                 "(and optionally 'procedures:')", file=name, line=1))
    if "columns" in data and "dossiers" not in data:  # shorthand: the dossier table only
        data = {"dossiers": data}
    out = Mapping(file=name)
    for key in data:
        if key not in ("dossiers", "procedures"):
            problems.add("unknown_key", f"unknown key '{key}'", file=name, line=_line(data, key),
                         hint=did_you_mean(str(key), ("dossiers", "procedures")) or "use 'dossiers:' and 'procedures:'")
    for table, specs in (("dossiers", COLUMNS), ("procedures", PROCEDURE_COLUMNS)):
        if table in data:
            setattr(out, table, _table_mapping(data[table], specs, name, table, problems))
    problems.raise_if_any()
    return out


def _line(data: Any, key: Any) -> int | None:
    line_of = getattr(data, "line_of", None)
    return line_of(key) if line_of else None


def _table_mapping(data: Any, specs: dict[str, ColumnSpec], name: str, table: str,
                   problems: ProblemList) -> TableMapping:
    out = TableMapping()
    if not isinstance(data, dict):
        problems.add("not_a_mapping", f"'{table}' must be a mapping with 'columns:'", file=name, line=_line(data, table))
        return out
    for key, value in data.items():
        where = {"file": name, "line": _line(data, key), "subject": f"{table}.{key}"}
        if key not in _TABLE_KEYS:
            problems.add("unknown_key", f"unknown key '{key}' under '{table}'", **where,
                         hint=did_you_mean(str(key), _TABLE_KEYS) or f"known: {', '.join(_TABLE_KEYS)}")
        elif key == "columns":
            if not isinstance(value, dict):
                problems.add("not_a_mapping", "'columns' maps canonical names to the headers of the file", **where,
                             hint="e.g. dossier_id: Mã hồ sơ")
                continue
            for canon, header in value.items():
                w = {"file": name, "line": _line(value, canon), "subject": f"{table}.columns.{canon}"}
                if canon not in specs:
                    problems.add("unknown_column", f"'{canon}' is not a canonical column of the {table} table", **w,
                                 hint=did_you_mean(str(canon), specs) or f"known: {', '.join(specs)}")
                elif not isinstance(header, str) or not header.strip():
                    problems.add("bad_header", f"the header for '{canon}' must be text", **w,
                                 hint=f"write the column title exactly as in the export, e.g. {canon}: \"{specs[canon].title}\"")
                else:
                    out.columns[canon] = _nfc(header).strip()
        elif key == "values":
            if not isinstance(value, dict):
                problems.add("not_a_mapping", "'values' maps a column to {cell text: value}", **where)
                continue
            for canon, table_values in value.items():
                w = {"file": name, "line": _line(value, canon), "subject": f"{table}.values.{canon}"}
                spec = specs.get(canon)
                if spec is None or spec.kind not in ("bool", "channel"):
                    choices = [c for c, s in specs.items() if s.kind in ("bool", "channel")]
                    problems.add("unknown_column", f"values can be mapped for yes/no columns and 'channel', not '{canon}'",
                                 **w, hint=did_you_mean(str(canon), choices) or f"one of: {', '.join(choices)}")
                    continue
                if not isinstance(table_values, dict):
                    problems.add("not_a_mapping", f"values of '{canon}' map cell text to a value", **w,
                                 hint="e.g. Trực tuyến: online")
                    continue
                mapped: dict[str, str] = {}
                for raw, target in table_values.items():
                    lw = {"file": name, "line": _line(table_values, raw), "subject": f"{table}.values.{canon}"}
                    target_text = _bool_text(target) if isinstance(target, bool) else _key(target)
                    ok = (target_text in CHANNELS) if spec.kind == "channel" else (target_text in _TRUE | _FALSE)
                    if not ok:
                        allowed = ", ".join(CHANNELS) if spec.kind == "channel" else "có/không (true/false)"
                        problems.add("bad_value", f"'{raw}' maps to '{target}', which is not one of {allowed}", **lw)
                        continue
                    mapped[_bool_text(raw) if isinstance(raw, bool) else _key(raw)] = target_text
                out.values[canon] = mapped
        elif key == "sheet":
            out.sheet = str(value)
        elif key == "header_row":
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                problems.add("bad_value", f"header_row must be a row number from 1, not '{value}'", **where)
            else:
                out.header_row = value
        elif key == "delimiter":
            if value not in (",", ";", "\t", "|"):
                problems.add("bad_value", f"delimiter '{value}' is not supported", **where, hint="use ',', ';', '|' or a tab")
            else:
                out.delimiter = value
    return out


def _bool_text(value: Any) -> str:
    # YAML reads có/không as text but yes/no/true/false as booleans
    return ("true" if value else "false") if isinstance(value, bool) else _key(value)


# ------------------------------------------------------------------ period


@dataclass(frozen=True)
class Period:
    """The assessment period: dossiers received from ``start`` to ``end`` (both included) count."""

    start: dt.date
    end: dt.date
    default: bool = False

    def text(self) -> str:
        return f"{self.start:%d/%m/%Y} – {self.end:%d/%m/%Y}"

    @classmethod
    def year(cls, year: int, default: bool = False) -> Period:
        return cls(dt.date(year, 1, 1), dt.date(year, 12, 31), default)


def parse_period(text: str) -> Period:
    """``2025-01-01..2025-12-31``, ``01/01/2025..31/12/2025`` or a year ``2025``."""
    raw = text.strip()
    if re.fullmatch(r"\d{4}", raw):
        if not 1900 <= int(raw) <= 2100:
            raise InputError(Problem("bad_period", f"--period: năm {raw} không hợp lệ (year {raw} is out of range)",
                                     subject="--period", hint="viết năm đánh giá, ví dụ --period 2025"))
        return Period.year(int(raw))
    left, sep, right = raw.partition("..")
    if not sep:
        raise InputError(Problem("bad_period", f"--period '{text}' không có dạng TỪ..ĐẾN (is not FROM..TO)", subject="--period",
                                 hint="ví dụ --period 2025-01-01..2025-12-31 hoặc --period 2025"))
    dates = []
    for part in (left, right):
        kind, day = _scalar_day(part)
        if kind != 0:
            raise InputError(Problem("bad_period", f"--period: '{part.strip()}' không phải ngày tháng (is not a date)", subject="--period",
                                     hint="viết ngày dạng yyyy-mm-dd hoặc dd/mm/yyyy"))
        dates.append(dt.date.fromordinal(day + _EPOCH_ORDINAL))
    if dates[0] > dates[1]:
        raise InputError(Problem("bad_period", f"--period: ngày bắt đầu sau ngày kết thúc ({text}) (starts after it ends)", subject="--period",
                                 hint="viết ngày sớm hơn trước"))
    return Period(dates[0], dates[1])


# ------------------------------------------------------------------ scalar parsers (used on unique values)

# kind codes returned by the parsers
OK, BLANK, BAD, IMPOSSIBLE, NEGATIVE = 0, 1, 2, 3, 4

_DMY = re.compile(r"^(\d{1,2})[/.-](\d{1,2})[/.-](\d{4})(?:[ T]+(\d{1,2}):(\d{2})(?::(\d{2})(?:\.\d+)?)?)?$")
_YMD = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})(?:[ T](\d{1,2}):(\d{2})(?::(\d{2})(?:\.\d+)?)?"
                  r"(?:Z|[+-]\d{2}:?\d{2})?)?$")
_TIME_FIRST = re.compile(r"^(\d{1,2}):(\d{2})(?::(\d{2}))?[ ,]+(\d{1,2})/(\d{1,2})/(\d{4})$")
_SERIAL = re.compile(r"^\d{1,7}(?:[.,]\d+)?$")


def _scalar_day(value: Any) -> tuple[int, int]:
    """(kind, day number since 1970-01-01) for one cell: dates, datetimes, text, Excel serial numbers."""
    if value is None:
        return BLANK, NO_DAY
    if isinstance(value, bool):
        return BAD, NO_DAY
    if isinstance(value, dt.datetime):
        return OK, _day(value.date())
    if isinstance(value, dt.date):
        return OK, _day(value)
    if hasattr(value, "to_pydatetime"):  # pandas Timestamp / NaT
        try:
            return OK, _day(value.to_pydatetime().date())
        except (ValueError, AttributeError):
            return BLANK, NO_DAY
    if isinstance(value, (int, float)):
        if value != value:  # NaN
            return BLANK, NO_DAY
        return _serial_day(float(value))
    text = _nfc(str(value)).strip()
    if not text:
        return BLANK, NO_DAY
    if _SERIAL.match(text):
        return _serial_day(float(text.replace(",", ".")))
    m = _DMY.match(text)
    if m:
        return _checked(int(m[3]), int(m[2]), int(m[1]), m[4], m[5], m[6])
    m = _YMD.match(text)
    if m:
        return _checked(int(m[1]), int(m[2]), int(m[3]), m[4], m[5], m[6])
    m = _TIME_FIRST.match(text)
    if m:
        return _checked(int(m[6]), int(m[5]), int(m[4]), m[1], m[2], m[3])
    return BAD, NO_DAY


def _checked(y: int, m: int, d: int, hh: str | None, mm: str | None, ss: str | None) -> tuple[int, int]:
    try:
        date = dt.date(y, m, d)
    except ValueError:
        return IMPOSSIBLE, NO_DAY
    if hh is not None and (int(hh) > 23 or int(mm or 0) > 59 or int(ss or 0) > 59):
        return IMPOSSIBLE, NO_DAY
    return OK, _day(date)


def _serial_day(serial: float) -> tuple[int, int]:
    # Excel's 1900 system; serials below 61 fall in Excel's fictitious 1900-02-29 era and are not dossier dates
    if not 61 <= serial < 2958466:
        return BAD, NO_DAY
    return OK, int(serial // 1) + _EXCEL_EPOCH


def _scalar_bool(value: Any, values: dict[str, str]) -> tuple[int, bool]:
    if value is None or (isinstance(value, float) and value != value):
        return OK, False
    if isinstance(value, bool):
        text = "true" if value else "false"
    elif isinstance(value, (int, float)):
        text = str(int(value)) if float(value).is_integer() else str(value)
    else:
        text = _key(value)
    text = values.get(text, text)
    if text in _TRUE:
        return OK, True
    if text in _FALSE:
        return OK, False
    return BAD, False


def _scalar_count(value: Any) -> tuple[int, int]:
    if value is None or (isinstance(value, float) and value != value):
        return OK, 0
    if isinstance(value, bool):
        return BAD, 0
    if isinstance(value, (int, float)):
        if not float(value).is_integer():
            return BAD, 0
        return (NEGATIVE, 0) if value < 0 else (OK, int(value))
    text = str(value).strip().replace("\u00a0", "").replace(" ", "")
    if not text:
        return OK, 0
    m = re.fullmatch(r"(-?)(\d+)(?:[.,]0+)?", text)
    if not m:
        return BAD, 0
    return (NEGATIVE, 0) if m[1] and int(m[2]) else (OK, int(m[2]))


def _scalar_channel(value: Any, values: dict[str, str]) -> tuple[int, str | None]:
    if value is None or (isinstance(value, float) and value != value):
        return BLANK, None
    text = _key(value)
    if not text:
        return BLANK, None
    text = values.get(text, text)
    found = _CHANNEL_WORDS.get(text)
    return (OK, found) if found else (BAD, None)


def _scalar_text(value: Any) -> str:
    if value is None or (isinstance(value, float) and value != value):
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, dt.datetime):
        return value.isoformat(sep=" ")
    return _nfc(str(value)).strip()


# ------------------------------------------------------------------ cells: a column of raw values


class _Cells:
    """One column of raw cells, whatever the source; converters only use these four methods."""

    n: int

    def factor(self) -> tuple[Any, list[Any]]:
        """(codes per row, distinct values as Python objects) — for low-cardinality columns."""
        raise NotImplementedError

    def days(self) -> tuple[Any, Any]:
        """(day numbers, kind codes) per row."""
        raise NotImplementedError

    def ids(self) -> Any:
        """The cells as a numpy bytes array (UTF-8), for dossier ids."""
        raise NotImplementedError

    def raw(self, i: int) -> Any:
        """The cell of row ``i`` as written (for messages)."""
        raise NotImplementedError


class _ValueCells(_Cells):
    """Cells held as Python values: a pandas column (object or category) or an object array (XLSX)."""

    def __init__(self, values: Any):
        import numpy as np
        import pandas as pd

        if isinstance(values, pd.Series) and isinstance(values.dtype, pd.CategoricalDtype):
            self.values = values
        else:
            self.values = np.asarray(values, dtype=object)
        self.n = len(values)

    def factor(self) -> tuple[Any, list[Any]]:
        import numpy as np
        import pandas as pd

        values = self.values
        if isinstance(values, pd.Series):
            codes = values.cat.codes.to_numpy().astype(np.intp)
            uniques = list(values.cat.categories)
            if (codes < 0).any():
                codes = np.where(codes < 0, len(uniques), codes)
                uniques.append(None)
            return codes, uniques
        codes, uniques = pd.factorize(values, use_na_sentinel=False)
        return codes.astype(np.intp), list(uniques)

    def days(self) -> tuple[Any, Any]:
        import numpy as np
        import pandas as pd

        arr = np.asarray(self.values, dtype=object)
        n = len(arr)
        days = np.full(n, NO_DAY, dtype=np.int64)
        kinds = np.full(n, BAD, dtype=np.int8)
        rest = np.ones(n, dtype=bool)
        if n and pd.api.types.infer_dtype(arr, skipna=False) == "string":
            c = arr.astype("U20").view(np.uint32).reshape(n, 20)
            length = np.count_nonzero(c, axis=1)
            kinds[length == 0] = BLANK
            rest = length > 0
            rest &= ~_fixed_days(c, length, days, kinds)
        if rest.any():
            sub = _ValueCells(arr[rest])
            sub_days, sub_kinds = _parse_uniques(sub, _scalar_day, np.int64)
            days[rest] = sub_days
            kinds[rest] = sub_kinds
        days[kinds != OK] = NO_DAY
        return days, kinds

    def ids(self) -> Any:
        import numpy as np

        # ids are taken as written (no trimming), as the CSV fast path does; numbers from a spreadsheet become text
        cells = [(v if isinstance(v, str) else _scalar_text(v)).encode("utf-8") for v in np.asarray(self.values, dtype=object)]
        return np.array(cells or [b""], dtype=bytes)[: self.n]

    def raw(self, i: int) -> Any:
        return self.values.iloc[i] if hasattr(self.values, "iloc") else self.values[i]


class _Undecodable(Exception):
    """A cell that is not UTF-8; the reader turns it into a bad_encoding problem with its line."""


class _ByteCells(_Cells):
    """Cells as byte ranges of a CSV block: nothing becomes a Python object until it is needed.

    ``buf`` is the block's bytes; a cell is ``buf[start:start + length]``.
    Cells are read as little-endian 8-byte words straight from the buffer (unaligned), masked
    to their length, and factorised: a column with few distinct values is parsed once per value.
    """

    def __init__(self, buf: Any, starts: Any, lengths: Any, words: Any = None):
        self.buf, self.starts, self.lengths = buf, starts, lengths
        self.n = len(starts)
        self.words = words  # the first bytes of each cell, gathered row by row (see _gather_words)

    def _words(self, count: int) -> Any:
        """The first 8*count bytes of every cell as an (n, count) uint64 array, zero past the cell's end."""
        have = self.words
        if have is not None and have.shape[1] >= count:
            return have[:, :count]
        return _gather_words(self.buf, [(self.starts, self.lengths, count)])[0]

    def _text(self, i: int) -> str:
        s = int(self.starts[i])
        raw = bytes(self.buf[s: s + int(self.lengths[i])])
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            raise _Undecodable(s) from None
        if len(text) >= 2 and text[0] == '"' and text[-1] == '"':
            text = text[1:-1].replace('""', '"')
        return text

    def factor(self) -> tuple[Any, list[Any]]:
        import numpy as np

        if self.n == 0:
            return np.zeros(0, dtype=np.intp), []
        words = self._words(-(-max(1, int(self.lengths.max())) // 8))
        codes, first = _factor_words(words, self.lengths)
        return codes, [self._text(int(i)) for i in first]

    def days(self) -> tuple[Any, Any]:
        import numpy as np

        n = self.n
        days = np.full(n, NO_DAY, dtype=np.int64)
        kinds = np.full(n, BAD, dtype=np.int8)
        if n == 0:
            return days, kinds
        length = self.lengths
        kinds[length == 0] = BLANK
        rest = length > 0
        sized = (length == 10) | (length == 16) | (length == 19)
        if sized.any():
            # the date (10 bytes) and the time after it (up to 9 bytes) each take few distinct
            # values: factorise each part's bytes and parse each distinct part once
            w = self._words(3)
            date_words = np.empty((n, 2), dtype=np.uint64)
            date_words[:, 0] = w[:, 0]
            date_words[:, 1] = w[:, 1] & np.uint64(0xFFFF)
            d_codes, d_first = _factor_words(date_words)
            time_words = np.empty((n, 2), dtype=np.uint64)
            time_words[:, 0] = (w[:, 1] >> np.uint64(16)) | (w[:, 2] << np.uint64(48))
            time_words[:, 1] = (w[:, 2] >> np.uint64(16)) & np.uint64(0xFF)
            t_codes, t_first = _factor_words(time_words)
            d_parsed = [_date_part(date_words[i].astype("<u8").tobytes()[:10]) for i in d_first]
            t_kinds = np.array([_time_part(time_words[i].astype("<u8").tobytes()[:9].rstrip(b"\0")) for i in t_first],
                               dtype=np.int8)
            d_kind = np.array([k for k, _ in d_parsed], dtype=np.int8)[d_codes]
            d_day = np.array([v for _, v in d_parsed], dtype=np.int64)[d_codes]
            t_kind = t_kinds[t_codes]
            fast = sized & (d_kind != BAD) & (t_kind != BAD)
            kinds[fast] = np.where((d_kind == OK) & (t_kind == OK), OK, IMPOSSIBLE)[fast]
            days[fast] = d_day[fast]
            rest &= ~fast
        if rest.any():
            idx = np.flatnonzero(rest)
            sub = _ByteCells(self.buf, self.starts[idx], length[idx],
                             None if self.words is None else self.words[idx])
            sub_days, sub_kinds = _parse_uniques(sub, _scalar_day, np.int64)
            days[idx] = sub_days
            kinds[idx] = sub_kinds
        days[kinds != OK] = NO_DAY
        return days, kinds

    def ids(self) -> Any:
        import numpy as np

        if self.n == 0:
            return np.zeros(0, dtype="S1")
        count = -(-max(1, int(self.lengths.max())) // 8)
        words = self._words(count)
        out = words.astype("<u8", copy=False).view(f"S{8 * count}").ravel().copy()
        for i in np.flatnonzero((words & np.uint64(0x8080808080808080)).any(axis=1)):
            self._text(int(i))  # non-ASCII ids must be UTF-8
        first_byte = self.buf[np.minimum(self.starts, max(len(self.buf) - 1, 0))] if len(self.buf) else self.starts * 0
        for i in np.flatnonzero((self.lengths > 0) & (first_byte == 34)):
            out[i] = self._text(int(i)).encode("utf-8")
        return out

    def raw(self, i: int) -> Any:
        return self._text(i)


_WORD_MASKS: Any = None


def _init_masks() -> None:
    import numpy as np

    global _WORD_MASKS
    if _WORD_MASKS is None:
        _WORD_MASKS = np.array([(1 << (8 * k)) - 1 for k in range(8)] + [(1 << 64) - 1], dtype=np.uint64)


def _factor_words(words: Any, lengths: Any = None) -> tuple[Any, Any]:
    """Codes of the distinct rows of an (n, k) uint64 array, and the first row of each.

    One word is its own key; more are hashed (multiply-add) and the hash is checked against the
    words, falling back to an exact sort on a collision. ``lengths`` tells "a" from "a\\0…" apart.
    """
    import numpy as np
    import pandas as pd

    n, k = words.shape
    key = words[:, 0].copy()
    for j in range(1, k):
        key = key * np.uint64(0x9E3779B97F4A7C15) + words[:, j]
    if lengths is not None and k > 1:
        key ^= lengths.astype(np.uint64) << np.uint64(56)
    codes, uniq = pd.factorize(key)
    # factorize numbers values in order of appearance: a code's first row is where the running maximum grows
    first = np.flatnonzero(np.diff(np.maximum.accumulate(codes), prepend=-1) > 0)
    if k > 1 and not (words == words[first[codes]]).all():
        _, first, codes = np.unique(np.ascontiguousarray(words).view(f"V{8 * k}").ravel(),
                                    return_index=True, return_inverse=True)
    return codes.astype(np.intp).reshape(-1), first


_DATE_PART = re.compile(rb"(\d\d)([/.-])(\d\d)\2(\d{4})|(\d{4})-(\d\d)-(\d\d)")
_TIME_PART = re.compile(rb"[ T](\d\d):(\d\d)(?::(\d\d))?")


def _date_part(raw: bytes) -> tuple[int, int]:
    """A fixed-layout date (dd/mm/yyyy or yyyy-mm-dd): (OK, day) / (IMPOSSIBLE, _) / (BAD, _) when another layout."""
    m = _DATE_PART.fullmatch(raw)
    if not m:
        return BAD, NO_DAY
    y, mo, d = (m[4], m[3], m[1]) if m[1] else (m[5], m[6], m[7])
    try:
        return OK, _day(dt.date(int(y), int(mo), int(d)))
    except ValueError:
        return IMPOSSIBLE, NO_DAY


def _time_part(raw: bytes) -> int:
    """The time after a fixed-layout date: nothing, ' HH:MM' or ' HH:MM:SS' (or with 'T')."""
    if not raw:
        return OK
    m = _TIME_PART.fullmatch(raw)
    if not m:
        return BAD
    return OK if int(m[1]) < 24 and int(m[2]) < 60 and int(m[3] or 0) < 60 else IMPOSSIBLE


def _fixed_days(c: Any, length: Any, days: Any, kinds: Any) -> Any:
    """Decode dates written in the usual fixed layouts; fills ``days``/``kinds``, returns the rows decoded.

    ``c`` holds the character codes of each cell (uint8 bytes or uint32 code points), zero-padded.
    Layouts: dd/mm/yyyy, yyyy-mm-dd (separators / - . for day-first), each optionally followed by
    a space or 'T' and HH:MM or HH:MM:SS. Each distinct yyyymmdd is checked once as a real date.
    """
    import numpy as np
    import pandas as pd

    c = c.astype(np.int32, copy=False) if c.dtype != np.int32 else c
    d = c[:, :19] - 48
    isd = (d >= 0) & (d < 10)
    sep = c[:, 2]
    sized = (length == 10) | (length == 16) | (length == 19)
    dmy = sized & ((sep == 47) | (sep == 45) | (sep == 46)) & (c[:, 5] == sep) & isd[:, _DMY_POS].all(axis=1)
    ymd = sized & (c[:, 4] == 45) & (c[:, 7] == 45) & isd[:, _YMD_POS].all(axis=1)
    timed = length >= 16
    shape = (dmy | ymd) & (~timed | (((c[:, 10] == 32) | (c[:, 10] == 84)) & (c[:, 13] == 58)
                                     & isd[:, [11, 12, 14, 15]].all(axis=1)
                                     & ((length == 16) | ((c[:, 16] == 58) & isd[:, 17] & isd[:, 18]))))
    if not shape.any():
        return shape
    weights = np.array(_KEY_WEIGHTS, dtype=np.int64)
    key = np.where(dmy, d[:, _DMY_POS].astype(np.int64) @ weights, d[:, _YMD_POS].astype(np.int64) @ weights)
    hour = d[:, 11] * 10 + d[:, 12]
    minute = d[:, 14] * 10 + d[:, 15]
    second = d[:, 17] * 10 + d[:, 18]
    bad_time = timed & ((hour > 23) | (minute > 59) | ((length == 19) & (second > 59)))
    codes, uniques = pd.factorize(np.where(shape, key, -1))
    parsed = [_key_day(int(k)) if k >= 0 else (BAD, NO_DAY) for k in uniques]
    u_kinds = np.array([p[0] for p in parsed], dtype=np.int8)
    u_days = np.array([p[1] for p in parsed], dtype=np.int64)
    kinds[shape] = u_kinds[codes[shape]]
    days[shape] = u_days[codes[shape]]
    kinds[shape & bad_time] = IMPOSSIBLE
    return shape


_DMY_POS = [6, 7, 8, 9, 3, 4, 0, 1]  # digits of yyyymmdd in dd/mm/yyyy
_YMD_POS = [0, 1, 2, 3, 5, 6, 8, 9]  # digits of yyyymmdd in yyyy-mm-dd
_KEY_WEIGHTS = [10**7, 10**6, 10**5, 10**4, 1000, 100, 10, 1]


def _key_day(key: int) -> tuple[int, int]:
    try:
        return OK, _day(dt.date(key // 10000, key // 100 % 100, key % 100))
    except ValueError:
        return IMPOSSIBLE, NO_DAY


def _parse_uniques(cells: _Cells, parse: Callable[[Any], tuple[int, Any]], out_dtype: Any) -> tuple[Any, Any]:
    """Parse each distinct cell once: (values, kind codes) per row."""
    import numpy as np

    codes, uniques = cells.factor()
    parsed = [parse(u) for u in uniques]
    kinds = np.array([p[0] for p in parsed] or [OK], dtype=np.int8)
    vals = np.array([p[1] for p in parsed] or [0], dtype=out_dtype)
    return vals[codes], kinds[codes]


# ------------------------------------------------------------------ conversion and validation


@dataclass
class _Collector:
    """Collects row problems vectorised: counts per code, the first few examples, the bad-row mask."""

    n: int
    rows: Any  # spreadsheet row numbers
    file: str
    examples: list[tuple[int, int, Problem]] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)
    bad: Any = None
    _order: int = 0

    def __post_init__(self) -> None:
        import numpy as np

        self.bad = np.zeros(self.n, dtype=bool)

    def add(self, mask: Any, code: str, subject: str, make: Callable[[int], tuple[str, str]]) -> None:
        import numpy as np

        count = int(np.count_nonzero(mask))
        if not count:
            return
        self.counts[code] = self.counts.get(code, 0) + count
        self.bad |= mask
        for i in np.flatnonzero(mask)[:MAX_SHOWN]:
            message, hint = make(int(i))
            self._order += 1
            self.examples.append((int(self.rows[i]), self._order,
                                  Problem(code, message, file=self.file, line=int(self.rows[i]), subject=subject, hint=hint)))
        self.examples.sort(key=lambda e: (e[0], e[1]))
        del self.examples[MAX_SHOWN:]


def _show(value: Any) -> str:
    text = value if isinstance(value, str) else _scalar_text(value)
    return text if len(text) <= 60 else text[:57] + "…"


_DATE_HINT = "viết ngày dạng dd/mm/yyyy (ví dụ 15/03/2025) hoặc yyyy-mm-dd"


@dataclass
class _Block:
    """Typed rows of one block of the input, with their problems (rows already numbered)."""

    frame: Any  # pandas DataFrame of typed columns + "_bad"
    ids: Any  # numpy bytes array
    examples: list[tuple[int, int, Problem]]
    counts: dict[str, int]
    records: int  # records read, blank lines included (for numbering the next block)
    fast: bool = False  # split by _byte_fields (whose quotes paired up within the block)


def _prefetch(cells: dict[str, _Cells]) -> None:
    """Gather the short byte cells (one word) and the dates together, in one pass over the block."""
    group = [(c, 3 if COLUMNS[name].kind == "date" else 1) for name, c in cells.items()
             if isinstance(c, _ByteCells) and c.words is None and c.n
             and (COLUMNS[name].kind == "date" or int(c.lengths.max()) <= 8)]
    if not group:
        return
    words = _gather_words(group[0][0].buf, [(c.starts, c.lengths, k) for c, k in group])
    for (c, _), w in zip(group, words):
        c.words = w


def _release(cell: _Cells) -> None:
    if isinstance(cell, _ByteCells):
        cell.words = None


def _convert(cells: dict[str, _Cells], rows: Any, headers: dict[str, str], values_map: dict[str, dict[str, str]],
             file: str) -> _Block:
    """Typed columns and row problems from raw cells (canonical name → cells)."""
    import numpy as np
    import pandas as pd

    rows = np.asarray(rows, dtype=np.int64)
    records = len(rows)
    out: dict[str, Any] = {}
    blanks: dict[str, Any] = {}  # per column: blank cells, as a function of row indices
    _prefetch(cells)
    ids = cells["dossier_id"].ids()
    for name in ("received_at", "due_at", "finished_at"):
        out[name] = cells[name].days()
        _release(cells[name])
    for name, spec in COLUMNS.items():
        if name not in cells or spec.kind in ("id", "date"):
            continue
        codes, uniques = cells[name].factor()
        _release(cells[name])
        vm = values_map.get(name, {})
        blanks[name] = (codes, np.array([_scalar_text(u) == "" for u in uniques] or [True], dtype=bool))
        if spec.kind == "text":
            clean = [_scalar_text(u) for u in uniques]
            cats = sorted(set(clean))
            lookup = {c: i for i, c in enumerate(cats)}
            recode = np.array([lookup[c] for c in clean] or [0], dtype=np.int32)
            out[name] = pd.Categorical.from_codes(recode[codes], categories=pd.Index(cats or [""], dtype=object))
            continue
        if spec.kind == "bool":
            parsed = [_scalar_bool(u, vm) for u in uniques]
            dtype: Any = bool
        elif spec.kind == "count":
            parsed = [_scalar_count(u) for u in uniques]
            dtype = np.int64
        else:
            parsed = [_scalar_channel(u, vm) for u in uniques]
            dtype = object
        parsed = parsed or [(OK, False if spec.kind == "bool" else 0 if spec.kind == "count" else None)]
        kinds = np.array([p[0] for p in parsed], dtype=np.int8)
        vals = np.array([p[1] for p in parsed], dtype=dtype)
        out[name] = (vals[codes], kinds[codes] if (kinds != OK).any() else np.zeros(len(codes), dtype=np.int8))
    # rows with nothing in any column read are empty lines, not dossiers (their id is blank, to begin with)
    empty = np.flatnonzero(ids == b"")
    for name in ("received_at", "due_at", "finished_at"):
        empty = empty[out[name][1][empty] == BLANK]
    for codes, blank_u in blanks.values():
        empty = empty[blank_u[codes[empty]]]
    del blanks
    n = records
    keep: Any = np.arange(records)
    if len(empty):
        keep = np.setdiff1d(keep, empty)
        rows = rows[keep]
        ids = ids[keep]
        n = len(rows)

        def pick(value: Any) -> Any:
            if isinstance(value, tuple):
                return tuple(v[keep] for v in value)
            return value[keep]

        out = {k: pick(v) for k, v in out.items()}
    col = _Collector(n, rows, file)

    def subject(name: str) -> str:
        header = headers.get(name, name)
        return header if header == name else f"{header} ({name})"

    def raw(name: str) -> Callable[[int], Any]:
        return lambda i: cells[name].raw(int(keep[i]))

    col.add(ids == b"", "missing_value", subject("dossier_id"),
            lambda i: ("ô mã hồ sơ để trống (dossier id is blank)", "mỗi hồ sơ phải có mã hồ sơ; bổ sung mã hoặc xóa dòng"))
    for name in ("received_at", "due_at", "finished_at"):
        _, kinds = out[name]
        cell = raw(name)
        title = COLUMNS[name].title.split(" (")[0].lower()
        if name != "finished_at":
            col.add(kinds == BLANK, "missing_value", subject(name),
                    lambda i, t=title: (f"ô {t} để trống (blank date)", f"điền {t} dạng dd/mm/yyyy"))
        col.add(kinds == BAD, "bad_date", subject(name),
                lambda i, cell=cell: (f"'{_show(cell(i))}' không phải là ngày (not a date)", _DATE_HINT))
        col.add(kinds == IMPOSSIBLE, "impossible_date", subject(name),
                lambda i, cell=cell: (f"ngày '{_show(cell(i))}' không có thật (impossible date or time)",
                                      "kiểm tra lại ngày và tháng (dd/mm/yyyy): ví dụ tháng 2 không có ngày 30, 31"))
    rec, due, fin = out["received_at"][0], out["due_at"][0], out["finished_at"][0]
    col.add((rec != NO_DAY) & (due != NO_DAY) & (due < rec), "due_before_received", subject("due_at"),
            lambda i: (f"ngày hẹn trả {_fmt_day(due[i])} trước ngày tiếp nhận {_fmt_day(rec[i])} (due before received)",
                       "sửa ngày hẹn trả hoặc ngày tiếp nhận trên hệ thống một cửa rồi xuất lại"))
    col.add((rec != NO_DAY) & (fin != NO_DAY) & (fin < rec), "finished_before_received", subject("finished_at"),
            lambda i: (f"ngày có kết quả {_fmt_day(fin[i])} trước ngày tiếp nhận {_fmt_day(rec[i])}",
                       "sửa ngày có kết quả hoặc ngày tiếp nhận trên hệ thống một cửa rồi xuất lại"))
    for name, spec in COLUMNS.items():
        if name not in out or spec.kind in ("id", "date"):
            continue
        cell = raw(name)
        if spec.kind == "text":
            cat = out[name]
            blank = np.asarray(cat.codes) == cat.categories.get_loc("") if "" in cat.categories else np.zeros(n, bool)
            col.add(blank, "missing_value", subject(name),
                    lambda i, t=spec.title.lower(): (f"ô {t} để trống", f"điền {t} cho hồ sơ"))
            continue
        _, kinds = out[name]
        if spec.kind == "bool":
            col.add(kinds == BAD, "bad_boolean", subject(name),
                    lambda i, cell=cell: (f"'{_show(cell(i))}' không phải có/không (not yes/no)",
                                          "viết có/không, x/để trống, 1/0 hoặc true/false "
                                          "(hoặc khai báo giá trị này trong mục values của tệp ánh xạ cột)"))
        elif spec.kind == "count":
            col.add(kinds == NEGATIVE, "negative_count", subject(name),
                    lambda i, cell=cell: (f"số '{_show(cell(i))}' âm (negative count)", "số lần, số ngày phải từ 0 trở lên"))
            col.add(kinds == BAD, "bad_count", subject(name),
                    lambda i, cell=cell: (f"'{_show(cell(i))}' không phải số nguyên (not a whole number)",
                                          "viết số nguyên, ví dụ 0, 1, 2"))
        else:
            col.add(kinds == BAD, "unknown_channel", subject(name),
                    lambda i, cell=cell: (f"hình thức nộp '{_show(cell(i))}' không rõ (unknown channel)",
                                          ((did_you_mean(_key(cell(i)), _CHANNEL_WORDS) or "") + " dùng online/direct/"
                                           "postal (trực tuyến/trực tiếp/bưu chính) hoặc khai báo trong mục "
                                           "values.channel của tệp ánh xạ cột").strip()))
    data: dict[str, Any] = {"row": rows}
    for name, value in out.items():
        data[name] = value[0] if isinstance(value, tuple) else value
    frame = pd.DataFrame(data)
    frame["_bad"] = col.bad
    return _Block(frame, ids, col.examples, col.counts, records)


# ------------------------------------------------------------------ reading files


@dataclass
class DossierTable:
    """A validated dossier table: one typed row per dossier, plus what was wrong with the file."""

    frame: Any  # pandas DataFrame: row, received_at/due_at/finished_at (day numbers), flags, unit, procedure…
    ids: Any  # numpy bytes array of dossier ids (UTF-8), aligned with frame
    file: str
    columns: tuple[str, ...]  # canonical columns present
    headers: dict[str, str]  # canonical → header in the file
    rows_read: int
    problems: list[Problem] = field(default_factory=list)  # first MAX_SHOWN, in row order
    problem_counts: dict[str, int] = field(default_factory=dict)
    skipped_rows: list[int] = field(default_factory=list)  # row numbers left out (--skip-bad-rows)

    @property
    def problem_total(self) -> int:
        return sum(self.problem_counts.values())

    def id_list(self, mask: Any = None) -> list[str]:
        """Dossier ids as text (all, or where ``mask`` holds), in file order."""
        ids = self.ids if mask is None else self.ids[mask]
        return [b.decode("utf-8") for b in ids.tolist()]


class BadRowsError(InputError):
    """Bad rows stop the run: the first few problems plus a summary; ``total`` counts them all."""

    def __init__(self, problems: list[Problem], total: int):
        super().__init__(problems)
        self.total = total


def _encoding_problem(path: Path) -> Problem:
    """Find the first byte that is not UTF-8 and say where it is and what the file probably is."""
    name = str(path)
    decoder = codecs.getincrementaldecoder("utf-8")()
    line = 1
    with open(path, "rb") as handle:
        if handle.read(3) != b"\xef\xbb\xbf":
            handle.seek(0)
        while True:
            block = handle.read(1 << 20)
            if not block:
                break
            try:
                decoder.decode(block, final=False)
            except UnicodeDecodeError as exc:
                pos = exc.start
                line += block[:pos].count(b"\n")
                sample = block[block.rfind(b"\n", 0, pos) + 1: pos + 40].split(b"\n")[0]
                guess = ""
                try:
                    guess = f"; có thể tệp được lưu bằng bảng mã Windows-1258 (dòng đó đọc theo Windows-1258: «{_nfc(sample.decode('cp1258'))[:60]}»)"
                except UnicodeDecodeError:
                    pass
                return Problem("bad_encoding", f"tệp không phải UTF-8: byte 0x{block[pos]:02x} ở dòng {line} không hợp lệ "
                                               f"(not UTF-8){guess}", file=name, line=line,
                               hint="mở tệp bằng Excel hoặc LibreOffice rồi lưu lại dạng 'CSV UTF-8', hoặc chuyển mã "
                                    "sang UTF-8 (từ Windows-1258/TCVN3) bằng trình soạn thảo")
            line += block.count(b"\n")
    return Problem("bad_encoding", "tệp không đọc được dạng UTF-8 (not UTF-8)", file=name,
                   hint="lưu lại tệp dạng 'CSV UTF-8'")


def _resolve(headers: list[str], mapping: TableMapping, specs: dict[str, ColumnSpec], file: str,
             header_row: int, what: str) -> tuple[dict[str, int], dict[str, str], list[Problem]]:
    """Canonical column → position in the file, and the header used for each."""
    keys: dict[str, int] = {}
    for i, h in enumerate(headers):
        keys.setdefault(_key(h), i)
    positions: dict[str, int] = {}
    used: dict[str, str] = {}
    problems: list[Problem] = []
    shown = ", ".join(f"'{h}'" for h in headers if str(h).strip())
    for name, spec in specs.items():
        header = mapping.columns.get(name)
        if header is not None:
            pos = keys.get(_key(header))
            if pos is None:
                hint = did_you_mean(header, headers)
                problems.append(Problem(
                    "missing_column", f"cột '{header}' ({name}) không có trong {what} (missing column)", file=file,
                    line=header_row, subject=name,
                    hint=(hint + "; " if hint else "") + "sửa tên cột trong tệp ánh xạ cột cho đúng tiêu đề trong tệp; "
                                                         f"các cột có: {shown}"))
                continue
        else:
            pos = keys.get(_key(name))
            if pos is None:  # the Vietnamese title (before any parenthesis) is accepted too: "Ngày hẹn trả kết quả"
                pos = keys.get(_key(spec.title.split(" (")[0]))
            if pos is None:
                if spec.required:
                    problems.append(Problem(
                        "missing_column", f"thiếu cột bắt buộc '{name}' – {spec.title} (missing required column)",
                        file=file, line=header_row, subject=name,
                        hint="thêm cột này vào tệp xuất, hoặc chỉ cột tương ứng trong tệp ánh xạ cột (--mapping), "
                             f"ví dụ: {name}: \"{spec.title.split(' (')[0]}\"; các cột có: {shown}"))
                continue
        positions[name] = pos
        used[name] = _nfc(str(headers[pos])).strip()
    return positions, used, problems


HEADER_SEARCH = 20  # rows searched for the header when the mapping does not say which row it is


def _pick_header(rows: list[tuple[int, list[str]]], tm: TableMapping, specs: dict[str, ColumnSpec], file: str,
                 what: str) -> tuple[int, list[str], dict[str, int], dict[str, str]]:
    """The header row: ``tm.header_row``, or the first candidate row in which every column resolves.

    Returns (row number, headers, positions, headers used); raises the problems of the closest row.
    """
    best: list[Problem] | None = None
    for number, headers in rows:
        positions, used, problems = _resolve(headers, tm, specs, file, number, what)
        if not problems:
            return number, headers, positions, used
        if best is None or len(problems) < len(best):
            best = problems
    if best is None:
        row = tm.header_row or 1
        raise InputError(Problem("no_header", f"không tìm thấy dòng tiêu đề ở dòng {row}", file=file, line=row,
                                 hint="kiểm tra header_row trong tệp ánh xạ cột"))
    if tm.header_row is None and len(rows) > 1:
        best = [Problem(p.code, p.message, file=p.file, line=p.line, subject=p.subject,
                        hint=(p.hint or "") + f" (đã tìm dòng tiêu đề trong {len(rows)} dòng đầu; "
                                              "có thể chỉ rõ header_row trong tệp ánh xạ cột)") for p in best]
    raise InputError(best)


def _head_info(path: Path, tm: TableMapping, specs: dict[str, ColumnSpec], what: str
               ) -> tuple[int, str, int, int, dict[str, int], dict[str, str], int]:
    """Encoding checks, the header record and where the data starts.

    Returns (data start offset, delimiter, physical line of the first data record, row number of
    the first data record, column positions, headers used, number of columns in the header).
    """
    import csv

    name = str(path)
    with open(path, "rb") as handle:
        head = handle.read(1 << 16)
    if not head.strip():
        raise InputError(Problem("empty_file", "tệp rỗng (empty file)", file=name, hint="xuất lại tệp từ hệ thống"))
    if head[:4] == b"PK\x03\x04":  # before the NUL check: a zip archive holds NUL bytes too
        raise InputError(Problem("wrong_format", "tệp là bảng tính Excel nhưng không có đuôi .xlsx", file=name,
                                 hint="đổi đuôi tệp thành .xlsx"))
    if head[:2] in (b"\xff\xfe", b"\xfe\xff") or b"\x00" in head[:4096]:
        raise InputError(Problem("bad_encoding", "tệp được lưu dạng UTF-16 (Unicode của Excel), không phải UTF-8 "
                                                 "(file is UTF-16, not UTF-8)", file=name, line=1,
                                 hint="trong Excel chọn Lưu dạng 'CSV UTF-8 (Comma delimited)'"))
    start = 3 if head[:3] == b"\xef\xbb\xbf" else 0
    try:
        head[start:].decode("utf-8")
    except UnicodeDecodeError as exc:
        if exc.start < len(head) - start - 4:  # not just a character cut at the end of the block
            raise InputError(_encoding_problem(path)) from None
    # record boundaries: newlines outside quotes
    wanted = tm.header_row or HEADER_SEARCH
    bounds = [start]
    quotes = 0
    pos = start
    while len(bounds) <= wanted:
        nl = head.find(b"\n", pos)
        if nl < 0:
            if len(head) < (1 << 16) and pos < len(head):
                bounds.append(len(head))
            break
        quotes += head.count(b'"', pos, nl)
        pos = nl + 1
        if quotes % 2 == 0:
            bounds.append(pos)
    rows: list[tuple[int, list[str]]] = []
    delimiters: dict[int, str] = {}
    for number in ([tm.header_row] if tm.header_row else range(1, len(bounds))):
        if number >= len(bounds):
            break
        text = head[bounds[number - 1]: bounds[number]].decode("utf-8", "replace").rstrip("\r\n")
        delimiter = tm.delimiter or max((",", ";", "\t", "|"), key=lambda ch: _count_outside_quotes(text, ch))
        delimiters[number] = delimiter
        rows.append((number, [_nfc(h) for h in next(csv.reader([text], delimiter=delimiter))] if text else []))
    number, headers, positions, used = _pick_header(rows, tm, specs, name, what)
    offset = bounds[number]
    lines = head.count(b"\n", 0, offset) + 1
    return offset, delimiters[number], lines, number + 1, positions, used, len(headers)


def _count_outside_quotes(text: str, ch: str) -> int:
    return sum(part.count(ch) for part in text.split('"')[::2])


def _split_points(path: Path, start: int, end: int, parts: int, exact: bool = True) -> list[tuple[int, int]]:
    """Cut [start, end) at record boundaries (a newline outside quotes) into about equal parts.

    Returns (byte offset, physical lines before it) for each cut, the first being (start, 0).
    ``exact=False`` cuts at the next newline without counting quotes and lines from the start
    (lines are then 0): the caller must check that every block had balanced quotes.
    """
    cuts = [(start, 0)]
    if not exact:
        with open(path, "rb") as handle:
            for k in range(1, parts):
                target = start + (end - start) * k // parts
                handle.seek(target)
                while True:
                    block = handle.read(1 << 16)
                    if not block:
                        return cuts
                    nl = block.find(b"\n")
                    if nl >= 0:
                        cuts.append((handle.tell() - len(block) + nl + 1, 0))
                        break
        return cuts
    with open(path, "rb") as handle:
        handle.seek(start)
        quotes = lines = 0
        pos = start
        for k in range(1, parts):
            target = start + (end - start) * k // parts
            while pos < target:  # count quotes and newlines up to the target in blocks
                block = handle.read(min(1 << 22, target - pos))
                if not block:
                    break
                quotes += block.count(b'"')
                lines += block.count(b"\n")
                pos += len(block)
            while True:  # move on to the next newline outside quotes
                block = handle.read(1 << 16)
                if not block:
                    return cuts
                nl = block.find(b"\n")
                while nl >= 0 and (quotes + block.count(b'"', 0, nl)) % 2:
                    nl = block.find(b"\n", nl + 1)
                if nl >= 0:
                    quotes += block.count(b'"', 0, nl + 1)
                    lines += 1
                    pos += nl + 1
                    handle.seek(pos)
                    cuts.append((pos, lines))
                    break
                quotes += block.count(b'"')
                lines += block.count(b"\n")
                pos += len(block)
    return cuts


@dataclass
class _BlockJob:
    path: str
    start: int
    end: int
    delimiter: str
    positions: dict[str, int]
    headers: dict[str, str]
    values_map: dict[str, dict[str, str]]
    width: int
    fast: bool = True


def _byte_fields(buf: Any, size: int, delimiter: str, width: int, positions: dict[str, int]
                 ) -> tuple[dict[str, _Cells], Any] | None:
    """Split a block of CSV records with array operations; None when the block needs the full parser.

    ``buf`` holds ``size`` bytes of whole records. Handled here: quoted
    fields (with "" escapes and delimiters inside quotes), CRLF, empty lines, a last line without
    newline. Left to pandas' parser: a newline inside quotes, a quote inside an unquoted cell, a
    record whose number of fields differs from the header's, a cell longer than PAD bytes.
    The block is scanned in pieces of a few MB so that the temporary arrays stay small.
    """
    import numpy as np

    delim = ord(delimiter)
    offset_type = np.int32 if size + PAD < 2**31 else np.int64  # offsets within the block
    wanted = sorted(set(positions.values()))
    parts: dict[int, tuple[list[Any], list[Any]]] = {pos: ([], []) for pos in wanted}
    records = 0
    a = 0
    while a < size:
        b = min(a + _PIECE, size)
        piece = buf[a:b]
        special = np.flatnonzero((piece == 10) | (piece == delim) | (piece == 34))
        what = piece[special]
        newlines = special[what == 10]
        if b < size:
            if not len(newlines):
                return None  # a record longer than a piece
            cut = int(newlines[-1]) + 1
            keep = special < cut
            special, what = special[keep], what[keep]
        else:
            cut = b - a
            if not len(newlines) or newlines[-1] != cut - 1:
                newlines = np.append(newlines, cut)
        seps = special[what == delim]
        quotes = special[what == 34]
        if len(quotes):
            seps = _unquoted(piece, cut, seps, quotes, newlines, delim)
            if seps is None:
                return None
        n = len(newlines)
        per_line = np.diff(np.searchsorted(seps, newlines), prepend=0)
        starts = np.empty(n, dtype=np.int64)
        starts[0] = 0
        starts[1:] = newlines[:-1] + 1
        ends = newlines.copy()
        cr = (ends > starts) & (piece[np.maximum(ends - 1, 0)] == 13)
        ends[cr] -= 1
        full = per_line == width - 1
        if not full.all():
            if not (full | ((per_line == 0) & (ends == starts))).all():
                return None
        rows = np.flatnonzero(full)
        grid = seps.reshape(-1, width - 1).T if width > 1 else np.zeros((0, len(rows)), dtype=np.int64)
        for pos in wanted:
            st = starts[rows] if pos == 0 else grid[pos - 1] + 1
            en = ends[rows] if pos == width - 1 else grid[pos]
            length = en - st
            if len(rows) != n:  # empty lines get empty cells, so that row numbers stay aligned
                st2 = np.zeros(n, dtype=np.int64)
                ln2 = np.zeros(n, dtype=np.int64)
                st2[rows], ln2[rows] = st, length
                st, length = st2, ln2
            parts[pos][0].append((st + a).astype(offset_type))
            parts[pos][1].append(length.astype(np.int32))
        records += n
        a += cut
    joined = {}
    for pos in wanted:  # join column by column, letting go of the pieces as we go
        st, ln = parts.pop(pos)
        joined[pos] = (np.concatenate(st) if st else np.zeros(0, offset_type),
                       np.concatenate(ln) if ln else np.zeros(0, np.int32))
        del st, ln
    for pos in wanted:
        ln = joined[pos][1]
        if len(ln) and int(ln.max()) > PAD:
            return None
    cells: dict[str, _Cells] = {name: _ByteCells(buf, joined[pos][0], joined[pos][1]) for name, pos in positions.items()}
    return cells, np.arange(records, dtype=np.int64)


def _gather_words(buf: Any, columns: list[tuple[Any, Any, int]]) -> list[Any]:
    """For each column (starts, lengths, words): the first bytes of its cells as uint64 words.

    All columns are gathered together, a slice of rows at a time, so that the buffer is read
    once in order instead of once per column; bytes past a cell's end are zeroed.
    """
    import numpy as np

    _init_masks()
    n = len(columns[0][0]) if columns else 0
    last = len(buf) - 8  # the last offset where a whole word fits
    win = np.ndarray((max(last + 1, 0),), dtype="<u8", buffer=buf, strides=(1,))  # an 8-byte word at every offset
    tail = np.zeros(2 * PAD, dtype=np.uint8)  # the block's last bytes followed by zeros, for words running past its end
    keep = min(len(buf), PAD)
    tail[:keep] = buf[len(buf) - keep:]
    tail_win = np.ndarray((len(tail) - 7,), dtype="<u8", buffer=tail, strides=(1,))
    tail_base = len(buf) - keep
    counts = np.array([count for _, _, count in columns])
    offsets = np.concatenate([8 * np.arange(count) for _, _, count in columns])
    edges = np.concatenate(([0], np.cumsum(counts)))
    outs = [np.empty((n, count), dtype=np.uint64) for _, _, count in columns]
    step = 1 << 13  # rows per slice: the slice's temporaries stay in cache
    for r0 in range(0, n, step):
        r1 = min(n, r0 + step)
        starts = np.stack([c[0][r0:r1] for c in columns], axis=1).astype(np.int64)
        lengths = np.stack([c[1][r0:r1] for c in columns], axis=1).astype(np.int64)
        idx = np.repeat(starts, counts, axis=1) + offsets
        if idx.size and int(idx.max()) > last:
            over = idx > last
            got = win[np.where(over, 0, idx)] if last >= 0 else np.zeros(idx.shape, dtype=np.uint64)
            got[over] = tail_win[idx[over] - tail_base]
        else:
            got = win[idx]
        left = np.repeat(lengths, counts, axis=1) - offsets
        np.clip(left, 0, 8, out=left)
        got &= _WORD_MASKS[left]
        for j, out in enumerate(outs):
            out[r0:r1] = got[:, edges[j]: edges[j + 1]]
    return outs


_PIECE = 1 << 22  # bytes scanned at a time


def _unquoted(piece: Any, size: int, seps: Any, quotes: Any, newlines: Any, delim: int) -> Any:
    """Separators outside quoted cells; None when quotes do not pair up cell by cell."""
    import numpy as np

    if len(quotes) % 2 or (np.searchsorted(quotes, newlines) & 1).any():
        return None  # an unbalanced quote, or a newline inside a quoted field: records span lines
    opening, closing = quotes[0::2], quotes[1::2]
    before = piece[np.maximum(opening - 1, 0)]
    after = piece[np.minimum(closing + 1, len(piece) - 1)]
    escaped_open = np.zeros(len(opening), dtype=bool)
    escaped_open[1:] = opening[1:] == closing[:-1] + 1  # "" inside a quoted field
    escaped_close = np.zeros(len(closing), dtype=bool)
    escaped_close[:-1] = escaped_open[1:]
    if not (((opening == 0) | (before == delim) | (before == 10) | escaped_open).all()
            and ((after == delim) | (after == 10) | (after == 13) | (closing >= size - 1) | escaped_close).all()):
        return None  # a quote in the middle of a cell: leave the reading to pandas
    # delimiters between an opening quote and its closing quote are text, not separators
    lo = np.searchsorted(seps, opening)
    hi = np.searchsorted(seps, closing)
    inside = hi > lo
    if inside.any():
        lo, hi = lo[inside], hi[inside]
        counts = hi - lo
        idx = np.repeat(lo - np.concatenate(([0], np.cumsum(counts)[:-1])), counts) + np.arange(counts.sum())
        keep = np.ones(len(seps), dtype=bool)
        keep[idx] = False
        seps = seps[keep]
    return seps


def _map_block(path: str, start: int, end: int) -> Any:
    """Bytes [start, end) of a file as a read-only uint8 array: mapped, not copied (a copy for small blocks)."""
    import mmap

    import numpy as np

    size = end - start
    if size < (1 << 20) or not hasattr(mmap, "MAP_SHARED"):
        with open(path, "rb") as handle:
            handle.seek(start)
            data = handle.read(size)
        if len(data) != size:
            raise OSError(f"read {len(data)} of {size} bytes")
        return np.frombuffer(data, dtype=np.uint8)
    offset = start // mmap.ALLOCATIONGRANULARITY * mmap.ALLOCATIONGRANULARITY
    with open(path, "rb") as handle:
        mapped = mmap.mmap(handle.fileno(), end - offset, offset=offset, access=mmap.ACCESS_READ)
    return np.frombuffer(mapped, dtype=np.uint8)[start - offset:]  # the array keeps the mapping alive


def _read_block(job: _BlockJob) -> _Block:
    """Read and convert one block of records; row numbers are local (0-based) until the caller shifts them."""
    import numpy as np
    import pandas as pd

    size = job.end - job.start
    buf = _map_block(job.path, job.start, job.end)
    split = _byte_fields(buf, size, job.delimiter, job.width, job.positions) if job.fast else None
    if split is None:
        data = buf[:size].tobytes()
        del buf
        _check_row_widths(data, job.delimiter, job.width)  # pandas would silently drop surplus cells
        usecols = sorted(set(job.positions.values()))
        dtypes = {pos: (object if COLUMNS[name].kind in ("id", "date") else "category")
                  for name, pos in job.positions.items()}
        raw = pd.read_csv(io.BytesIO(data), header=None, names=list(range(job.width)), usecols=usecols, dtype=dtypes,
                          sep=job.delimiter, na_filter=False, skip_blank_lines=False, encoding="utf-8",
                          engine="c", quotechar='"', index_col=False)
        del data
        cells: dict[str, _Cells] = {name: _ValueCells(raw[pos]) for name, pos in job.positions.items()}
        rows = np.arange(len(raw), dtype=np.int64)
    else:
        cells, rows = split
    block = _convert(cells, rows, job.headers, job.values_map, job.path)
    block.fast = split is not None
    return block


class _TooManyCells(Exception):
    def __init__(self, line: int, width: int):
        super().__init__(f"line {line}: dòng có nhiều ô hơn {width} cột của dòng tiêu đề (more cells than the header)")


def _check_row_widths(data: bytes, delimiter: str, width: int) -> None:
    """Refuse a record with more cells than the header (only on the slow path, for odd blocks)."""
    import csv

    reader = csv.reader(io.StringIO(data.decode("utf-8")), delimiter=delimiter, quotechar='"')
    for row in reader:
        if len(row) > width:
            raise _TooManyCells(reader.line_num, width)


def _csv_message(message: str) -> str:
    """pandas' parser messages, in words a clerk can act on."""
    if "EOF inside string" in message:
        return "có dấu ngoặc kép mở mà không đóng (unclosed quote)"
    m = re.search(r"Expected (\d+) fields in line (\d+), saw (\d+)", message)
    if m:
        return f"line {m[2]}: dòng có {m[3]} ô nhưng dòng tiêu đề có {m[1]} cột"
    return message.split(": ", 1)[-1] if message.startswith(("ValueError", "ParserError", "_TooManyCells")) else message


def _run_block(job: _BlockJob) -> Any:
    """Worker entry point: errors travel back as values, never as tracebacks."""
    try:
        return _read_block(job)
    except (UnicodeDecodeError, _Undecodable):
        return ("encoding", None)
    except Exception as exc:  # noqa: BLE001 - reported by the parent with the file name
        return ("parse", f"{type(exc).__name__}: {exc}")


def read_dossiers(path: str | Path, mapping: Mapping | None = None, skip_bad_rows: bool = False,
                  workers: int | None = None, fast: bool = True) -> DossierTable:
    """Read, map, convert and validate a dossier export (CSV or XLSX).

    Bad rows raise ``BadRowsError`` (exit 2) listing the first 20 problems and a count, unless
    ``skip_bad_rows``: then they are left out and named in ``skipped_rows``. ``workers`` > 1
    reads a large CSV in that many processes (default: one per CPU, up to 4, for files of 16 MB
    or more). ``fast=False`` uses pandas' CSV parser for every block (the fallback path).
    """
    path = Path(path)
    check_input_file(path, "dossier file")
    mapping = mapping or Mapping()
    tm = mapping.dossiers
    if path.suffix.lower() in (".xlsx", ".xlsm"):
        cols, rows, headers_used, present, file = _read_xlsx(path, tm, COLUMNS, "tệp hồ sơ")
        blocks = [_convert({c: _ValueCells(v) for c, v in cols.items()}, rows, headers_used, tm.values, file)]
    else:
        blocks, headers_used, present, file = _read_csv(path, tm, workers, fast)
    return _finish(blocks, file, present, headers_used, skip_bad_rows)


def _keep_freed_memory() -> None:
    """Ask glibc to keep freed memory for reuse instead of returning it to the system.

    Reading a large export allocates and frees many arrays of a few MB; by default each comes as
    fresh pages from the kernel and every page faults on first use, which cost about a third of
    the time in the benchmark. Linux/glibc only; elsewhere, or if it fails, nothing changes.
    """
    if sys.platform != "linux":
        return
    try:
        import ctypes

        libc = ctypes.CDLL("libc.so.6")
        m_trim_threshold, m_top_pad, m_mmap_threshold = -1, -2, -3
        libc.mallopt(m_mmap_threshold, 1 << 30)
        libc.mallopt(m_trim_threshold, 1 << 31)
        libc.mallopt(m_top_pad, 1 << 26)
    except (OSError, AttributeError):
        pass


def _read_csv(path: Path, tm: TableMapping, workers: int | None, fast: bool
              ) -> tuple[list[_Block], dict[str, str], tuple[str, ...], str]:
    name = str(path)
    start, delimiter, first_line, first_row, positions, used, width = _head_info(path, tm, COLUMNS, "tệp hồ sơ")
    size = path.stat().st_size
    if workers is None:
        workers = min(4, os.cpu_count() or 1) if size - start >= PARALLEL_MIN_BYTES else 1
    if sys.platform != "linux":
        workers = 1  # fork is only safe and cheap on Linux
    if size - start >= PARALLEL_MIN_BYTES:
        _keep_freed_memory()


    def run(exact: bool) -> tuple[list[tuple[int, int]], list[Any]]:
        cuts = _split_points(path, start, size, workers, exact) if workers > 1 else [(start, 0)]
        bounds = [(a, cuts[i + 1][0] if i + 1 < len(cuts) else size) for i, (a, _) in enumerate(cuts)]
        jobs = [_BlockJob(name, a, b, delimiter, positions, used, tm.values, width, fast) for a, b in bounds]
        if len(jobs) == 1:
            return cuts, [_run_block(jobs[0])]
        import multiprocessing
        from concurrent.futures import ProcessPoolExecutor

        with ProcessPoolExecutor(max_workers=len(jobs) - 1, mp_context=multiprocessing.get_context("fork")) as pool:
            futures = [pool.submit(_run_block, job) for job in jobs[1:]]
            first = _run_block(jobs[0])
            return cuts, [first] + [f.result() for f in futures]

    # Cutting without counting quotes first saves a pass over the file. It is right when every block
    # had its quotes paired (the byte reader checks that): a cut inside a quoted cell would leave an
    # odd number of quotes in the block before it. Otherwise cut again, counting.
    cuts, results = run(exact=not fast)
    if len(results) > 1 and fast and not all(isinstance(r, _Block) and r.fast for r in results):
        if not any(isinstance(r, tuple) and r[0] == "encoding" for r in results):
            cuts, results = run(exact=True)
    blocks = []
    offset = 0
    for (_, lines_before), result in zip(cuts, results):
        if isinstance(result, tuple):
            if result[0] == "encoding":
                raise InputError(_encoding_problem(path))
            message = _csv_message(str(result[1]))
            m = re.search(r"line (\d+)", message)
            line = first_line + lines_before + int(m[1]) - 1 if m else None
            message = re.sub(r"^line \d+: ", "", message)
            raise InputError(Problem("bad_csv", f"tệp CSV không đọc được: {message}", file=name, line=line,
                                     hint="mỗi dòng phải có đúng số cột như dòng tiêu đề; ô có dấu phẩy phải để trong "
                                          "ngoặc kép"))
        shift = first_row + offset
        result.frame["row"] += shift
        result.examples = [(r + shift, o, _shift(p, shift)) for r, o, p in result.examples]
        blocks.append(result)
        offset += result.records  # empty lines were dropped from the frame but keep their row numbers
    return blocks, used, tuple(positions), name


def _shift(p: Problem, shift: int) -> Problem:
    return Problem(p.code, p.message, file=p.file, line=(p.line or 0) + shift, subject=p.subject, hint=p.hint)


def _read_xlsx(path: Path, tm: TableMapping, specs: dict[str, ColumnSpec], what: str
               ) -> tuple[dict[str, Any], Any, dict[str, str], tuple[str, ...], str]:
    import zipfile

    import numpy as np
    import openpyxl

    name = str(path)
    from scoring.core.safeio import check_workbook

    check_workbook(path, name, max_rows=1_048_576, max_columns=1_000, formulas=True)
    try:
        book = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, OSError, ValueError) as exc:
        raise InputError(Problem("bad_xlsx", f"không mở được bảng tính ({exc})", file=name,
                                 hint="mở bằng Excel và lưu lại dạng .xlsx")) from None
    try:
        if tm.sheet is not None:
            if tm.sheet not in book.sheetnames:
                raise InputError(Problem("unknown_sheet", f"không có trang tính '{tm.sheet}'", file=name,
                                         hint=did_you_mean(tm.sheet, book.sheetnames) or f"có: {', '.join(book.sheetnames)}"))
            sheet = book[tm.sheet]
        else:
            sheet = book.worksheets[0]
        file = f"{name}[{sheet.title}]"
        first = tm.header_row or 1
        it = sheet.iter_rows(min_row=first, values_only=True)
        candidates: list[tuple[int, list[str]]] = []
        for number in range(first, first + (1 if tm.header_row else HEADER_SEARCH)):
            values = next(it, None)
            if values is None:
                break
            candidates.append((number, [_scalar_text(h) for h in values]))
        number, _, positions, used = _pick_header(candidates, tm, specs, file, what)
        it = sheet.iter_rows(min_row=number + 1, values_only=True)
        data: dict[str, list[Any]] = {c: [] for c in positions}
        rows: list[int] = []
        r = number
        for values in it:
            r += 1
            if values is None or all(v is None or (isinstance(v, str) and not v.strip()) for v in values):
                continue
            rows.append(r)
            for c, pos in positions.items():
                data[c].append(values[pos] if pos < len(values) else None)
    finally:
        book.close()
    cols = {c: np.array(v + [None], dtype=object)[:-1] for c, v in data.items()}  # [None]: keep tuples as cells
    return cols, np.array(rows, dtype=np.int64), used, tuple(positions), file


def _finish(blocks: list[_Block], file: str, present: tuple[str, ...], headers: dict[str, str],
            skip_bad_rows: bool) -> DossierTable:
    import numpy as np
    import pandas as pd

    frames = [b.frame for b in blocks]
    if len(frames) == 1:
        frame = frames[0]
        ids = blocks[0].ids
    else:
        from pandas.api.types import union_categoricals

        cats = {c: union_categoricals([f[c] for f in frames]) for c in ("procedure_code", "unit") if c in frames[0]}
        frame = pd.concat([f.drop(columns=list(cats)) for f in frames], ignore_index=True)
        for c, values in cats.items():
            frame[c] = values
        frame = frame[list(frames[0].columns)]
        ids = np.concatenate([b.ids for b in blocks])
    examples = sorted((e for b in blocks for e in b.examples), key=lambda e: (e[0], e[1]))
    counts: dict[str, int] = {}
    for b in blocks:
        for k, v in b.counts.items():
            counts[k] = counts.get(k, 0) + v
    bad = frame["_bad"].to_numpy().copy()
    dup = _duplicates(ids)
    if dup is not None:
        dup_rows, first_rows = dup
        rows = frame["row"].to_numpy()
        subject = headers.get("dossier_id", "dossier_id")
        subject = subject if subject == "dossier_id" else f"{subject} (dossier_id)"
        counts["duplicate_id"] = len(dup_rows)
        for i, j in zip(dup_rows[:MAX_SHOWN], first_rows[:MAX_SHOWN]):
            examples.append((int(rows[i]), 0, Problem(
                "duplicate_id", f"mã hồ sơ '{ids[i].decode('utf-8', 'replace')}' trùng với dòng {rows[j]} "
                                "(duplicate dossier_id)", file=file, line=int(rows[i]), subject=subject,
                hint="mỗi hồ sơ chỉ xuất một dòng; xóa dòng trùng hoặc sửa mã hồ sơ")))
        examples.sort(key=lambda e: (e[0], e[1]))
        bad[dup_rows] = True
    problems = [e[2] for e in examples[:MAX_SHOWN]]
    rows_read = len(frame)
    table = DossierTable(frame=frame, ids=ids, file=file, columns=present, headers=headers, rows_read=rows_read,
                         problems=problems, problem_counts=counts)
    if bad.any():
        bad_rows = int(bad.sum())
        if not skip_bad_rows:
            kinds = ", ".join(f"{v} {k}" for k, v in sorted(counts.items(), key=lambda kv: -kv[1]))
            summary = Problem("bad_rows", f"{_fmt_int(bad_rows)} dòng lỗi, tổng cộng {_fmt_int(table.problem_total)} lỗi "
                                          f"({kinds}); trên đây là {len(problems)} lỗi đầu tiên", file=file,
                              hint="sửa dữ liệu trên hệ thống một cửa rồi xuất lại, hoặc chạy lại với --skip-bad-rows "
                                   "để bỏ qua các dòng lỗi (parindex sẽ kê các dòng đã bỏ)")
            raise BadRowsError(problems + [summary], table.problem_total)
        table.skipped_rows = [int(r) for r in frame["row"].to_numpy()[bad]]
        keep = ~bad
        frame = frame[keep].reset_index(drop=True)
        table.ids = ids[keep]
    table.frame = frame.drop(columns=["_bad"])
    return table


def _duplicates(ids: Any) -> tuple[Any, Any] | None:
    """(rows repeating an earlier id, the row of that earlier id), or None; blank ids are not compared."""
    import numpy as np
    import pandas as pd

    n = len(ids)
    if n < 2:
        return None
    width = ids.dtype.itemsize
    padded = -(-width // 8) * 8
    m = np.zeros((n, padded), dtype=np.uint8)
    m[:, :width] = ids.view(np.uint8).reshape(n, width)
    words = m.view(np.uint64)
    key = words[:, 0].copy()
    for j in range(1, words.shape[1]):
        key = key * np.uint64(0x9E3779B97F4A7C15) + words[:, j]
    codes, uniq = pd.factorize(key)
    if len(uniq) == n:
        return None
    first = np.empty(len(uniq), dtype=np.intp)
    first[codes[::-1]] = np.arange(n - 1, -1, -1)
    earlier = first[codes]
    candidates = np.flatnonzero((earlier != np.arange(n)) & (ids != b""))
    if not len(candidates):
        return None
    same = (words[candidates] == words[earlier[candidates]]).all(axis=1)
    if not same.all():  # hash collisions between different ids: compare exactly
        exact = pd.Series(ids.astype(object)).duplicated(keep="first").to_numpy() & (ids != b"")
        dup_rows = np.flatnonzero(exact)
        lookup = {}
        for i, v in enumerate(ids.tolist()):
            lookup.setdefault(v, i)
        return dup_rows, np.array([lookup[ids[i]] for i in dup_rows], dtype=np.intp)
    return candidates, earlier[candidates]


# ------------------------------------------------------------------ procedure catalogue


@dataclass
class Catalogue:
    """The procedure catalogue: which procedures are eligible for and offered as full online services."""

    file: str
    codes: list[str]
    names: dict[str, str]
    eligible: dict[str, bool]
    offered: dict[str, bool]


def read_procedures(path: str | Path, mapping: Mapping | None = None) -> Catalogue:
    """Read the procedure catalogue (CSV or XLSX); every problem stops the run (it is a small file)."""
    import numpy as np
    import pandas as pd

    path = Path(path)
    check_input_file(path, "procedure catalogue")
    tm = (mapping or Mapping()).procedures
    if path.suffix.lower() in (".xlsx", ".xlsm"):
        cols, rows, used, present, file = _read_xlsx(path, tm, PROCEDURE_COLUMNS, "danh mục TTHC")
    else:
        file = str(path)
        start, delimiter, _, first_row, positions, used, width = _head_info(path, tm, PROCEDURE_COLUMNS,
                                                                           "danh mục TTHC")
        try:
            with open(path, "rb") as handle:
                handle.seek(start)
                raw = pd.read_csv(handle, header=None, names=list(range(width)), dtype=object, na_filter=False,
                                  sep=delimiter, skip_blank_lines=False, encoding="utf-8", index_col=False)
        except UnicodeDecodeError:
            raise InputError(_encoding_problem(path)) from None
        except (pd.errors.ParserError, ValueError) as exc:
            raise InputError(Problem("bad_csv", f"tệp CSV không đọc được ({exc})", file=file)) from None
        rows = np.arange(len(raw)) + first_row
        cols = {c: raw[p].to_numpy(dtype=object) for c, p in positions.items()}
    problems = ProblemList()
    codes: list[str] = []
    names: dict[str, str] = {}
    eligible: dict[str, bool] = {}
    offered: dict[str, bool] = {}
    seen: dict[str, int] = {}
    subject = {c: (used[c] if used.get(c, c) == c else f"{used[c]} ({c})") for c in used}
    for i, row in enumerate(rows):
        cells = {c: cols[c][i] for c in cols}
        if all(_scalar_text(v) == "" for v in cells.values()):
            continue
        code = _scalar_text(cells["procedure_code"])
        where = {"file": file, "line": int(row)}
        if not code:
            problems.add("missing_value", "ô mã thủ tục để trống", **where, subject=subject["procedure_code"],
                         hint="điền mã TTHC hoặc xóa dòng")
            continue
        if code in seen:
            problems.add("duplicate_id", f"mã thủ tục '{code}' trùng với dòng {seen[code]}", **where,
                         subject=subject["procedure_code"], hint="mỗi TTHC chỉ một dòng")
            continue
        seen[code] = int(row)
        flags = {}
        for c in ("full_online_eligible", "full_online_offered"):
            kind, value = _scalar_bool(cells[c], tm.values.get(c, {}))
            if kind != OK:
                problems.add("bad_boolean", f"'{_show(cells[c])}' không phải có/không (not yes/no)", **where,
                             subject=subject[c], hint="viết có/không, x/để trống, 1/0 hoặc true/false")
            flags[c] = value
        codes.append(code)
        names[code] = _scalar_text(cells["name"]) if "name" in cells else ""
        eligible[code] = flags["full_online_eligible"]
        offered[code] = flags["full_online_offered"]
    problems.raise_if_any()
    return Catalogue(file=file, codes=codes, names=names, eligible=eligible, offered=offered)


# ------------------------------------------------------------------ computing


@dataclass(frozen=True)
class Indicator:
    """One computed indicator: exact counts; the rate is a Fraction, or None when nothing arose."""

    numerator: int
    denominator: int

    @property
    def rate(self) -> Fraction | None:
        return Fraction(self.numerator, self.denominator) if self.denominator else None

    def to_json(self) -> dict[str, Any]:
        rate = self.rate
        return {"numerator": self.numerator, "denominator": self.denominator,
                "rate": None if rate is None else float(rate), "rate_text": _fmt_rate(rate)}


@dataclass
class Result:
    """Indicators for one period, with the masks behind them (for dossier lists) and notes."""

    table: DossierTable
    period: Period
    indicators: dict[str, Indicator]
    unavailable: dict[str, str]  # indicator → why it could not be computed
    counts: dict[str, int]
    by: str | None = None
    groups: dict[str, dict[str, Indicator]] = field(default_factory=dict)
    group_names: dict[str, str] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    catalogue: Catalogue | None = None
    _loss: dict[str, Any] = field(default_factory=dict)  # indicator → boolean mask over table rows
    _late_reason: Any = None

    def loss_ids(self, name: str) -> tuple[str, ...]:
        """Ids behind a loss: dossiers (or procedure codes) in the denominator but not the numerator."""
        if name == "full_online_services":
            cat = self.catalogue
            return tuple(c for c in cat.codes if cat.eligible[c] and not cat.offered[c]) if cat else ()
        mask = self._loss.get(name)
        if mask is None:
            return ()
        return tuple(self.table.id_list(mask))

    def loss_rows(self, name: str) -> list[dict[str, Any]]:
        """Records of the dossiers behind a loss, with the reason a dossier was late."""
        if name == "full_online_services":
            cat = self.catalogue
            return [{"procedure_code": c, "name": cat.names.get(c, "")} for c in self.loss_ids(name)] if cat else []
        import numpy as np

        mask = self._loss.get(name)
        if mask is None:
            return []
        f = self.table.frame
        idx = np.flatnonzero(mask)
        out = []
        cols = {c: f[c].to_numpy() for c in ("row", "received_at", "due_at", "finished_at")}
        ids = self.table.id_list(mask)
        eff = cols["due_at"] + f["paused_days"].to_numpy()
        unit = f["unit"].to_numpy() if "unit" in f else None
        proc = f["procedure_code"].to_numpy() if "procedure_code" in f else None
        for k, i in enumerate(idx):
            rec = {"row": int(cols["row"][i]), "dossier_id": ids[k],
                   "unit": None if unit is None else unit[i], "procedure_code": None if proc is None else proc[i],
                   "received_at": _fmt_day(cols["received_at"][i]), "deadline": _fmt_day(eff[i]),
                   "finished_at": None if cols["finished_at"][i] == NO_DAY else _fmt_day(cols["finished_at"][i])}
            if name in ("on_time", "apology") and self._late_reason is not None:
                rec["reason"] = self._late_reason[i]
            out.append(rec)
        return out


def compute(table: DossierTable, period: Period, catalogue: Catalogue | None = None, by: str | None = None) -> Result:
    """All indicators for the period, exactly; with ``by`` ('unit' or 'procedure') also per group."""
    import numpy as np

    f = table.frame
    n = len(f)
    start, end = _day(period.start), _day(period.end)
    rec = f["received_at"].to_numpy()
    due = f["due_at"].to_numpy()
    fin = f["finished_at"].to_numpy()
    withdrawn = f["withdrawn"].to_numpy()
    in_period = (rec >= start) & (rec <= end)
    counted = in_period & ~withdrawn
    done = (fin != NO_DAY) & (fin <= end)  # finished by the end of the period
    eff = due + f["paused_days"].to_numpy()
    many_supplements = f["supplement_requests"].to_numpy() > 1
    finished_late = done & (fin > eff)
    overdue = ~done & (eff < end)
    late = counted & (many_supplements | finished_late | overdue)

    def col(name: str) -> Any:
        return f[name].to_numpy() if name in f else None

    masks: dict[str, tuple[Any, Any]] = {"on_time": (counted & ~late, counted)}
    unavailable: dict[str, str] = {}
    present = set(table.columns)
    for name, spec in INDICATORS.items():
        missing = [c for c in spec.needs if c not in present]
        if name == "on_time":
            continue
        if name == "full_online_services":
            if catalogue is None:
                unavailable[name] = "cần danh mục TTHC (--procedures)"
            continue
        if missing:
            unavailable[name] = "thiếu cột " + ", ".join(f"'{c}' ({COLUMNS[c].title})" for c in missing)
            continue
        if name == "apology":
            masks[name] = (late & col("apology_sent"), late)
        elif name == "digitisation":
            masks[name] = (counted & col("digitised") & (col("result_digitised") | ~done), counted)
        elif name == "reuse":
            masks[name] = (counted & col("reused_data"), counted)
        elif name == "full_online":
            masks[name] = (counted & col("full_online"), counted)
        elif name == "online_payment":
            fee = counted & col("fee_required")
            masks[name] = (fee & col("paid_online"), fee)
    indicators: dict[str, Indicator] = {}
    for name in INDICATORS:
        if name in masks:
            num, den = masks[name]
            indicators[name] = Indicator(int(np.count_nonzero(num)), int(np.count_nonzero(den)))
        elif name == "full_online_services" and catalogue is not None:
            eligible = [c for c in catalogue.codes if catalogue.eligible[c]]
            indicators[name] = Indicator(sum(1 for c in eligible if catalogue.offered[c]), len(eligible))
    counts = {"used": n, "out_of_period": int(np.count_nonzero(~in_period)),
              "withdrawn": int(np.count_nonzero(in_period & withdrawn)), "counted": int(np.count_nonzero(counted)),
              "late": int(np.count_nonzero(late)), "unfinished": int(np.count_nonzero(counted & ~done)),
              "late_many_supplements": int(np.count_nonzero(counted & many_supplements)),
              "late_finished_after_deadline": int(np.count_nonzero(counted & finished_late & ~many_supplements)),
              "late_unfinished_overdue": int(np.count_nonzero(counted & overdue & ~many_supplements))}
    result = Result(table=table, period=period, indicators=indicators, unavailable=unavailable, counts=counts,
                    catalogue=catalogue)
    result._loss = {name: den & ~num for name, (num, den) in masks.items()}
    reason = np.full(n, "", dtype=object)
    reason[overdue] = "quá hạn nhưng chưa giải quyết xong"
    reason[finished_late] = "trả kết quả sau ngày hẹn (đã cộng ngày tạm dừng)"
    reason[many_supplements] = "yêu cầu bổ sung hồ sơ quá một lần"
    result._late_reason = reason
    if "fee_required" in present and "paid_online" in present:
        odd = int(np.count_nonzero(counted & col("paid_online") & ~col("fee_required")))
        if odd:
            result.notes.append(f"{_fmt_int(odd)} hồ sơ ghi đã thanh toán trực tuyến nhưng không phải nộp phí: "
                                "không tính vào tỷ lệ thanh toán trực tuyến.")
    if catalogue is not None and "procedure_code" in f:
        known = set(catalogue.codes)
        seen = set(f["procedure_code"][counted].unique().tolist()) if n else set()
        unknown = sorted(str(c) for c in seen - known)
        if unknown:
            shown = ", ".join(unknown[:10]) + (f" … và {len(unknown) - 10} mã khác" if len(unknown) > 10 else "")
            result.notes.append(f"{len(unknown)} mã thủ tục có hồ sơ nhưng không có trong danh mục TTHC: {shown}.")
    if by:
        _groups(result, by, masks, counted, catalogue)
    return result


def _groups(result: Result, by: str, masks: dict[str, tuple[Any, Any]], counted: Any, catalogue: Catalogue | None) -> None:
    import numpy as np

    column = "unit" if by == "unit" else "procedure_code"
    f = result.table.frame
    if column not in f:
        raise InputError(Problem("missing_column", f"--by {by} cần cột '{column}' ({COLUMNS[column].title}) "
                                                   "(missing column)", file=result.table.file, subject=column,
                                 hint="thêm cột này vào tệp xuất hoặc chỉ cột tương ứng trong tệp ánh xạ cột"))
    cat = f[column].array
    codes = np.asarray(cat.codes)
    keys = [str(k) for k in cat.categories]
    k = len(keys)
    totals = {name: (np.bincount(codes[num], minlength=k), np.bincount(codes[den], minlength=k))
              for name, (num, den) in masks.items()}
    present = np.bincount(codes[counted], minlength=k) > 0
    groups: dict[str, dict[str, Indicator]] = {}
    order = sorted(range(k), key=lambda j: keys[j])
    for j in order:
        if not present[j]:
            continue
        groups[keys[j]] = {name: Indicator(int(num[j]), int(den[j])) for name, (num, den) in totals.items()}
    if catalogue is not None:
        if by == "procedure":
            for code in catalogue.codes:
                groups.setdefault(code, {name: Indicator(0, 0) for name in masks})
            for code, inds in groups.items():
                elig = catalogue.eligible.get(code, False)
                inds["full_online_services"] = Indicator(int(elig and catalogue.offered.get(code, False)), int(elig))
            result.group_names = {c: catalogue.names.get(c, "") for c in groups if catalogue.names.get(c)}
        else:
            proc = f["procedure_code"].array if "procedure_code" in f else None
            for j in order:
                if keys[j] not in groups:
                    continue
                if proc is None:
                    continue
                seen = set(np.asarray(proc.categories)[np.unique(np.asarray(proc.codes)[counted & (codes == j)])].tolist())
                elig = [c for c in catalogue.codes if c in seen and catalogue.eligible[c]]
                groups[keys[j]]["full_online_services"] = Indicator(sum(1 for c in elig if catalogue.offered[c]), len(elig))
    result.by = by
    result.groups = dict(sorted(groups.items()))


# ------------------------------------------------------------------ output


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
    }
    if result.by:
        data["by"] = {"dimension": result.by, "groups": {
            key: {"name": result.group_names.get(key), "indicators": {n: i.to_json() for n, i in inds.items()}}
            for key, inds in result.groups.items()}}
    return data


def _table_lines(indicators: dict[str, Indicator], unavailable: dict[str, str], indent: str = "") -> list[str]:
    width = max(len(s.title) for s in INDICATORS.values())
    lines = [f"{indent}{'Chỉ số':<{width}}  {'Tử số':>10}  {'Mẫu số':>10}  Tỷ lệ"]
    for name, spec in INDICATORS.items():
        ind = indicators.get(name)
        if ind is not None:
            lines.append(f"{indent}{spec.title:<{width}}  {_fmt_int(ind.numerator):>10}  {_fmt_int(ind.denominator):>10}  "
                         f"{_fmt_rate(ind.rate)}")
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
             f"Hồ sơ: {_fmt_int(t.rows_read)} dòng đọc được"
             + (f", {_fmt_int(len(t.skipped_rows))} dòng lỗi đã bỏ qua" if t.skipped_rows else "")
             + f"; {_fmt_int(c['out_of_period'])} tiếp nhận ngoài kỳ; {_fmt_int(c['withdrawn'])} đã rút (không tính); "
               f"{_fmt_int(c['counted'])} hồ sơ được tính, trong đó {_fmt_int(c['late'])} trễ hạn và "
               f"{_fmt_int(c['unfinished'])} chưa giải quyết xong cuối kỳ.",
             ""]
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
    import csv

    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(["scope", "key", "name", "indicator", "numerator", "denominator", "rate", "rate_text"])

    def put(scope: str, key: str, name: str, inds: dict[str, Indicator]) -> None:
        for ind_name, ind in inds.items():
            rate = ind.rate
            w.writerow([scope, key, name, ind_name, ind.numerator, ind.denominator,
                        "" if rate is None else repr(float(rate)), _fmt_rate(rate)])

    put("department", "", "", result.indicators)
    for key, inds in result.groups.items():
        put(result.by or "", key, result.group_names.get(key, ""), inds)
    return "\ufeff" + buf.getvalue()


def render_list(result: Result, name: str, fmt: str) -> str:
    """All dossiers (or procedures) behind an indicator's loss."""
    if name not in INDICATORS:
        raise InputError(Problem("unknown_indicator", f"--list: no indicator '{name}'", subject="--list",
                                 hint=did_you_mean(name, INDICATORS) or f"one of: {', '.join(INDICATORS)}"))
    if name not in result.indicators:
        raise InputError(Problem("indicator_unavailable", f"--list {name}: {result.unavailable.get(name, '')}",
                                 subject="--list"))
    spec = INDICATORS[name]
    rows = result.loss_rows(name)
    if fmt == "json":
        return json.dumps({"indicator": name, "label": spec.loss, "count": len(rows), "items": rows},
                          ensure_ascii=False, indent=2) + "\n"
    import csv

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
    lines = [f"{spec.loss} ({result.period.text()}): {_fmt_int(len(rows))}"]
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
    return (f"Đã bỏ qua {_fmt_int(len(table.skipped_rows))} dòng lỗi trong {table.file} (không tính vào chỉ số): "
            f"dòng {_compress(table.skipped_rows)}.")


# ------------------------------------------------------------------ loading from options


class DossierInputs(BaseModel):
    """The dossier files of one run and how to read them (what ``--dossiers`` and its options say)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    dossiers: Path
    mapping: Path | None = None
    procedures: Path | None = None
    period: str | None = None
    skip_bad_rows: bool = False
    by: Literal["unit", "procedure"] | None = None


def load_indicators(inputs: DossierInputs, period: Period | None = None) -> Result:
    """Read the export (and catalogue) and compute every indicator over ``period``.

    With no period: ``inputs.period`` if given, else the year of the latest received dossier.
    """
    if period is None and inputs.period:
        period = parse_period(inputs.period)
    mapping = load_mapping(inputs.mapping) if inputs.mapping else None
    table = read_dossiers(inputs.dossiers, mapping, skip_bad_rows=inputs.skip_bad_rows)
    catalogue = read_procedures(inputs.procedures, mapping) if inputs.procedures else None
    if period is None:
        rec = table.frame["received_at"].to_numpy()
        valid = rec[rec != NO_DAY]
        year = dt.date.fromordinal(int(valid.max()) + _EPOCH_ORDINAL).year if len(valid) else dt.date.today().year
        period = Period.year(year, default=True)
    return compute(table, period, catalogue, inputs.by)


# ------------------------------------------------------------------ evidence


def augment_evidence(bundle: Bundle, ev: EvidenceFile, inputs: DossierInputs) -> EvidenceFile:
    """Put indicators computed from ``inputs.dossiers`` into the evidence of the leaves that read them.

    For every evidence spec with ``computed_from: <indicator>.<part>`` the computed value replaces
    the stated one (kept in ``stated_values``; a disagreement becomes a warning), the name is
    added to ``computed``, and the dossiers behind a loss are attached to the leaf.
    """
    from scoring.core.evidence import Document, LeafEvidence, ValueError_, format_value, parse_value, same_as_stated

    period = parse_period(inputs.period) if inputs.period else Period.year(ev.year)
    result = load_indicators(inputs, period)
    warnings = list(ev.warnings)
    evidence = dict(ev.evidence)
    filled: list[str] = []
    t = result.table
    source = Document(title=f"Tệp hồ sơ xuất từ Hệ thống thông tin giải quyết TTHC: {_fmt_int(result.counts['counted'])} "
                            f"hồ sơ tiếp nhận {result.period.text()} (tính tự động)", file=str(inputs.dossiers))
    for code, rule in bundle.rules.items():
        specs = [s for s in rule.rule.evidence if s.computed_from]
        if not specs:
            continue
        leaf = evidence.get(code) or LeafEvidence()
        values = dict(leaf.values)
        stated = dict(leaf.stated_values)
        computed = list(leaf.computed)
        dossiers = dict(leaf.dossiers)
        value_lines = dict(leaf.value_lines)
        used: list[str] = []
        no_data = False
        for spec in specs:
            ind_name, _, part = spec.computed_from.partition(".")
            if ind_name not in INDICATORS:
                warnings.append(f"{code}: quy tắc đọc '{spec.computed_from}' nhưng parindex không tính chỉ số "
                                f"'{ind_name}'; dùng số liệu trong tệp kiểm chứng.")
                continue
            ind = result.indicators.get(ind_name)
            if ind is None:
                title = INDICATORS[ind_name].title
                note = (f"{code}: không tính được {title[0].lower() + title[1:]} từ tệp hồ sơ "
                        f"({result.unavailable.get(ind_name, '')}); dùng số liệu trong tệp kiểm chứng.")
                if note not in warnings:
                    warnings.append(note)
                continue
            value: Any = ind.numerator if part == "numerator" else ind.denominator if part == "denominator" else ind.rate
            if value is None:
                no_data = True
            raw = leaf.values.get(spec.name)
            if raw is not None and raw != "" and spec.name not in leaf.computed:
                stated[spec.name] = raw
                if value is not None:
                    try:
                        said = parse_value(spec.type, raw)
                    except ValueError_:
                        said = None
                    same = said is not None and same_as_stated(spec.type, raw, said, value)
                    if not same:
                        warnings.append(f"{code}: tệp kiểm chứng ghi «{spec.description}» là "
                                        f"{format_value(spec.type, said) if said is not None else repr(raw)}, nhưng tính "
                                        f"từ tệp hồ sơ được {format_value(spec.type, value)}; dùng số tính được.")
            if value is None:
                values.pop(spec.name, None)
            else:
                values[spec.name] = value
            value_lines.pop(spec.name, None)
            if spec.name not in computed:
                computed.append(spec.name)
            if ind_name not in used:
                used.append(ind_name)
        if not used:
            continue
        for ind_name in used:
            ids = result.loss_ids(ind_name)
            if ids:
                dossiers[INDICATORS[ind_name].loss] = ids
            else:
                dossiers.pop(INDICATORS[ind_name].loss, None)
        update: dict[str, Any] = {"values": values, "stated_values": stated, "computed": tuple(computed),
                                  "dossiers": dossiers, "value_lines": value_lines,
                                  "documents": tuple(d for d in leaf.documents if d.file != source.file) + (source,)}
        if no_data and rule.kind != "ratio":
            update.update(not_applicable=True, justification=f"Không phát sinh hồ sơ TTHC trong kỳ {result.period.text()} "
                                                               "(tính từ tệp hồ sơ)")
        elif leaf.not_applicable and not no_data:
            warnings.append(f"{code}: tệp kiểm chứng ghi «không phát sinh», nhưng tệp hồ sơ có số liệu; dùng số tính được.")
            update.update(not_applicable=False)
        evidence[code] = leaf.model_copy(update=update)
        filled.append(code)
    if filled:
        warnings.append(f"Số liệu {', '.join(filled)} tính từ tệp hồ sơ {t.file}: {_fmt_int(result.counts['counted'])} "
                        f"hồ sơ tiếp nhận {result.period.text()} ({_fmt_int(result.counts['late'])} trễ hạn).")
    note = skipped_note(t)
    if note:
        warnings.append(note)
    warnings.extend(result.notes)
    return ev.model_copy(update={"evidence": evidence, "warnings": tuple(warnings)})

__all__ = ["COLUMNS", "INDICATORS", "PROCEDURE_COLUMNS", "BadRowsError", "Catalogue", "DossierTable", "Indicator",
           "DossierInputs", "Mapping", "Period", "Result", "augment_evidence", "load_indicators", "skipped_note", "compute", "load_mapping", "parse_period", "read_dossiers",
           "read_procedures", "render_csv", "render_list", "render_table", "result_json"]
