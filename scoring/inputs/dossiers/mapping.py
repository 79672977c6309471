"""Canonical columns, the column-mapping file, cell spellings and the assessment period.

A province's export has its own headers and writes yes/no, channels and dates its own way; the
mapping YAML (docs/dossiers.md, "The mapping file") says how, and how its one-stop system counts
deadlines (``deadlines:``). The scalar parsers here are the one definition of what a cell means:
the SQL conversions in ``reader`` take the common spellings fast and hand every other distinct
value to these functions, so the two can never disagree (tests/test_dossiers_duckdb.py checks it).
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ...core.errors import InputError, Problem, ProblemList, did_you_mean


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

CHANNELS = ("online", "direct", "postal")
CHANNEL_WORDS = {
    "online": "online", "trực tuyến": "online", "truc tuyen": "online", "qua mạng": "online",
    "direct": "direct", "trực tiếp": "direct", "truc tiep": "direct",
    "postal": "postal", "bưu chính": "postal", "buu chinh": "postal", "bưu chính công ích": "postal",
    "dịch vụ bưu chính công ích": "postal", "qua bưu chính": "postal", "bcci": "postal",
}
TRUE_WORDS = ("true", "1", "có", "co", "x", "yes", "y", "đúng", "đạt", "đã")
FALSE_WORDS = ("false", "0", "không", "khong", "", "no", "n", "sai", "chưa")
_TRUE, _FALSE = set(TRUE_WORDS), set(FALSE_WORDS)

EPOCH = dt.date(1970, 1, 1)
_EPOCH_ORDINAL = EPOCH.toordinal()
_EXCEL_EPOCH = -25569  # Excel serial 25569 is 1970-01-01 (1900 date system)


def nfc(text: str) -> str:
    return unicodedata.normalize("NFC", text)


def key(text: Any) -> str:
    """How headers and mapping entries are compared: NFC, trimmed, case-folded."""
    return nfc(str(text)).strip().casefold()


def fmt_int(n: int) -> str:
    return f"{n:,}".replace(",", ".")


def day_number(date: dt.date) -> int:
    return date.toordinal() - _EPOCH_ORDINAL


def from_day(day: int) -> dt.date:
    return dt.date.fromordinal(int(day) + _EPOCH_ORDINAL)


def fmt_day(day: int | dt.date) -> str:
    date = day if isinstance(day, dt.date) else from_day(day)
    return date.strftime("%d/%m/%Y")


# ------------------------------------------------------------------ mapping file


@dataclass
class TableMapping:
    """How one table (dossiers or procedures) is laid out in a province's export."""

    columns: dict[str, str] = field(default_factory=dict)  # canonical name → header in the file
    values: dict[str, dict[str, str]] = field(default_factory=dict)  # canonical → {cell text (key form) → value}
    sheet: str | None = None
    header_row: int | None = None  # None: the first of the first HEADER_SEARCH rows that has the columns
    delimiter: str | None = None


@dataclass(frozen=True)
class Deadlines:
    """How the one-stop system counts a deadline (docs/dossiers.md, "Deadlines").

    ``paused_days``: "calendar" (default) adds them as calendar days to ``due_at``; "working"
    adds them as working days (skipping Saturdays, Sundays, Vietnam's public holidays and
    ``days_off``). ``due_includes_pauses``: the export's ``due_at`` is already the extended
    appointment date, so paused days are not added again (default: false).
    """

    paused_days: str = "calendar"
    due_includes_pauses: bool = False
    days_off: tuple[dt.date, ...] = ()


@dataclass
class Mapping:
    """A column-mapping file: the dossier table and, optionally, the procedure catalogue."""

    dossiers: TableMapping = field(default_factory=TableMapping)
    procedures: TableMapping = field(default_factory=TableMapping)
    deadlines: Deadlines = field(default_factory=Deadlines)
    file: str | None = None


_TABLE_KEYS = ("columns", "values", "sheet", "header_row", "delimiter")
_TOP_KEYS = ("dossiers", "procedures", "deadlines")
_DEADLINE_KEYS = ("paused_days", "due_includes_pauses", "days_off")


def load_mapping(path: str | Path) -> Mapping:
    """Read a column-mapping YAML (see sample_evidence/dossiers/mapping-lang-son.yaml)."""
    from ...core.yamlio import load_yaml

    name = str(path)
    data = load_yaml(Path(path), "column-mapping file")
    problems = ProblemList()
    if not isinstance(data, dict):
        raise InputError(Problem("not_a_mapping", "a column-mapping file is a mapping with 'dossiers:' "
                                 "(and optionally 'procedures:')", file=name, line=1))
    if "columns" in data and "dossiers" not in data:  # shorthand: the dossier table only
        data = {"dossiers": data}
    out = Mapping(file=name)
    for k in data:
        if k not in _TOP_KEYS:
            problems.add("unknown_key", f"unknown key '{k}'", file=name, line=_line(data, k),
                         hint=did_you_mean(str(k), _TOP_KEYS) or "use 'dossiers:', 'procedures:' and 'deadlines:'")
    for table, specs in (("dossiers", COLUMNS), ("procedures", PROCEDURE_COLUMNS)):
        if table in data:
            setattr(out, table, _table_mapping(data[table], specs, name, table, problems))
    if "deadlines" in data:
        out.deadlines = _deadlines(data["deadlines"], name, _line(data, "deadlines"), problems)
    problems.raise_if_any()
    return out


def _line(data: Any, k: Any) -> int | None:
    line_of = getattr(data, "line_of", None)
    return line_of(k) if line_of else None


def _deadlines(data: Any, name: str, line: int | None, problems: ProblemList) -> Deadlines:
    if data is None:
        return Deadlines()
    if not isinstance(data, dict):
        problems.add("not_a_mapping", "'deadlines' is a mapping (paused_days, due_includes_pauses, days_off)",
                     file=name, line=line)
        return Deadlines()
    paused, includes, days_off = "calendar", False, []
    for k, value in data.items():
        where = {"file": name, "line": _line(data, k), "subject": f"deadlines.{k}"}
        if k not in _DEADLINE_KEYS:
            problems.add("unknown_key", f"unknown key '{k}' under 'deadlines'", **where,
                         hint=did_you_mean(str(k), _DEADLINE_KEYS) or f"known: {', '.join(_DEADLINE_KEYS)}")
        elif k == "paused_days":
            text = key(value)
            words = {"calendar": "calendar", "ngày": "calendar", "ngày lịch": "calendar",
                     "working": "working", "ngày làm việc": "working"}
            if text not in words:
                problems.add("bad_value", f"paused_days '{value}' is neither 'calendar' nor 'working'", **where,
                             hint="ghi paused_days: working nếu hệ thống tính ngày tạm dừng là ngày làm việc, "
                                  "calendar nếu là ngày lịch")
            else:
                paused = words[text]
        elif k == "due_includes_pauses":
            if not isinstance(value, bool):
                problems.add("bad_value", f"due_includes_pauses must be true or false, not '{value}'", **where)
            else:
                includes = value
        else:
            items = value if isinstance(value, list) else None
            if items is None:
                problems.add("bad_value", "days_off is a list of dates", **where,
                             hint="ví dụ: days_off: [2025-09-01, 02/01/2026]")
                continue
            for i, item in enumerate(items):
                if isinstance(item, dt.date):
                    days_off.append(item)
                    continue
                kind, day = scalar_day(item)
                if kind != OK:
                    problems.add("bad_value", f"days_off: '{item}' is not a date", file=name,
                                 line=_line(items, i) or where["line"], subject="deadlines.days_off",
                                 hint="viết ngày dạng yyyy-mm-dd hoặc dd/mm/yyyy")
                else:
                    days_off.append(from_day(day))
    return Deadlines(paused, includes, tuple(sorted(set(days_off))))


def _table_mapping(data: Any, specs: dict[str, ColumnSpec], name: str, table: str,
                   problems: ProblemList) -> TableMapping:
    out = TableMapping()
    if not isinstance(data, dict):
        problems.add("not_a_mapping", f"mục '{table}' phải là một bảng có 'columns:' ('{table}' must be a mapping with 'columns:')", file=name, line=_line(data, table))
        return out
    for k, value in data.items():
        where = {"file": name, "line": _line(data, k), "subject": f"{table}.{k}"}
        if k not in _TABLE_KEYS:
            problems.add("unknown_key", f"khóa '{k}' không có trong mục '{table}' (unknown key)", **where,
                         hint=did_you_mean(str(k), _TABLE_KEYS) or f"các khóa dùng được: {', '.join(_TABLE_KEYS)}")
        elif k == "columns":
            if not isinstance(value, dict):
                problems.add("not_a_mapping", "'columns' ghép tên cột chuẩn với tiêu đề cột trong tệp ('columns' maps canonical names to headers)", **where,
                             hint="ví dụ: dossier_id: Mã hồ sơ")
                continue
            for canon, header in value.items():
                w = {"file": name, "line": _line(value, canon), "subject": f"{table}.columns.{canon}"}
                if canon not in specs:
                    problems.add("unknown_column", f"'{canon}' không phải tên cột chuẩn của bảng {table} (not a canonical column)", **w,
                                 hint=did_you_mean(str(canon), specs) or f"các cột chuẩn: {', '.join(specs)}")
                elif not isinstance(header, str) or not header.strip():
                    problems.add("bad_header", f"tiêu đề cột cho '{canon}' phải là chữ (the header must be text)", **w,
                                 hint=f"ghi đúng tiêu đề cột như trong tệp xuất, ví dụ {canon}: \"{specs[canon].title}\"")
                elif (same := next((c for c, h in out.columns.items() if key(h) == key(header)), None)) is not None:
                    problems.add("duplicate_mapping", f"cột '{header}' đã được ghép cho '{same}'; hai cột chuẩn không thể "
                                                      f"đọc cùng một cột (two canonical columns mapped to one header)", **w,
                                 hint=f"sửa tiêu đề cột của '{canon}' hoặc '{same}' cho đúng cột trong tệp xuất")
                else:
                    out.columns[canon] = nfc(header).strip()
        elif k == "values":
            if not isinstance(value, dict):
                problems.add("not_a_mapping", "'values' ghép mỗi cột với {chữ trong ô: giá trị} ('values' maps a column to {cell text: value})", **where)
                continue
            for canon, table_values in value.items():
                w = {"file": name, "line": _line(value, canon), "subject": f"{table}.values.{canon}"}
                spec = specs.get(canon)
                if spec is None or spec.kind not in ("bool", "channel"):
                    choices = [c for c, s in specs.items() if s.kind in ("bool", "channel")]
                    problems.add("unknown_column", f"chỉ ghép giá trị được cho các cột có/không và 'channel', không cho '{canon}' (values can be mapped for yes/no columns and 'channel' only)",
                                 **w, hint=did_you_mean(str(canon), choices) or f"một trong: {', '.join(choices)}")
                    continue
                if not isinstance(table_values, dict):
                    problems.add("not_a_mapping", f"giá trị của '{canon}' ghép chữ trong ô với một giá trị (values map cell text to a value)", **w,
                                 hint="ví dụ: Trực tuyến: online")
                    continue
                mapped: dict[str, str] = {}
                for raw, target in table_values.items():
                    lw = {"file": name, "line": _line(table_values, raw), "subject": f"{table}.values.{canon}"}
                    target_text = _bool_text(target)
                    ok = (target_text in CHANNELS) if spec.kind == "channel" else (target_text in _TRUE | _FALSE)
                    if not ok:
                        allowed = ", ".join(CHANNELS) if spec.kind == "channel" else "có/không (true/false)"
                        problems.add("bad_value", f"'{raw}' được ghép với '{target}', không phải một trong {allowed} (not an allowed value)", **lw)
                        continue
                    mapped[_bool_text(raw)] = target_text
                out.values[canon] = mapped
        elif k == "sheet":
            out.sheet = str(value)
        elif k == "header_row":
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                problems.add("bad_value", f"header_row phải là số dòng từ 1 trở lên, không phải '{value}' (header_row must be a row number)", **where)
            else:
                out.header_row = value
        elif k == "delimiter":
            if value not in (",", ";", "\t", "|"):
                problems.add("bad_value", f"dấu phân cách '{value}' không được hỗ trợ (delimiter not supported)", **where, hint="dùng ',', ';', '|' hoặc dấu tab")
            else:
                out.delimiter = value
    return out


def _bool_text(value: Any) -> str:
    # YAML reads có/không as text but yes/no/true/false as booleans
    return ("true" if value else "false") if isinstance(value, bool) else key(value)


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
        kind, day = scalar_day(part)
        if kind != OK:
            raise InputError(Problem("bad_period", f"--period: '{part.strip()}' không phải ngày tháng (is not a date)", subject="--period",
                                     hint="viết ngày dạng yyyy-mm-dd hoặc dd/mm/yyyy"))
        dates.append(from_day(day))
    if dates[0] > dates[1]:
        raise InputError(Problem("bad_period", f"--period: ngày bắt đầu sau ngày kết thúc ({text}) (starts after it ends)", subject="--period",
                                 hint="viết ngày sớm hơn trước"))
    return Period(dates[0], dates[1])


# ------------------------------------------------------------------ one cell → value (the reference parsers)

# kind codes returned by the parsers (and stored per cell by the SQL conversions)
OK, BLANK, BAD, IMPOSSIBLE, NEGATIVE = 0, 1, 2, 3, 4
NO_DAY = -(2**31)

_DMY = re.compile(r"^(\d{1,2})[/.-](\d{1,2})[/.-](\d{4})(?:[ T]+(\d{1,2}):(\d{2})(?::(\d{2})(?:\.\d+)?)?)?$")
_YMD = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})(?:[ T](\d{1,2}):(\d{2})(?::(\d{2})(?:\.\d+)?)?"
                  r"(?:Z|[+-]\d{2}:?\d{2})?)?$")
_TIME_FIRST = re.compile(r"^(\d{1,2}):(\d{2})(?::(\d{2}))?[ ,]+(\d{1,2})/(\d{1,2})/(\d{4})$")
_SERIAL = re.compile(r"^\d{1,7}(?:[.,]\d+)?$")


def scalar_day(value: Any) -> tuple[int, int]:
    """(kind, day number since 1970-01-01) for one cell: dates, datetimes, text, Excel serial numbers."""
    if value is None:
        return BLANK, NO_DAY
    if isinstance(value, bool):
        return BAD, NO_DAY
    if isinstance(value, dt.datetime):
        return OK, day_number(value.date())
    if isinstance(value, dt.date):
        return OK, day_number(value)
    if isinstance(value, (int, float)):
        if value != value:  # NaN
            return BLANK, NO_DAY
        return _serial_day(float(value))
    text = nfc(str(value)).strip()
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
    return OK, day_number(date)


def _serial_day(serial: float) -> tuple[int, int]:
    # Excel's 1900 system; serials below 61 fall in Excel's fictitious 1900-02-29 era and are not dossier dates
    if not 61 <= serial < 2958466:
        return BAD, NO_DAY
    return OK, int(serial // 1) + _EXCEL_EPOCH


def scalar_bool(value: Any, values: dict[str, str]) -> tuple[int, bool]:
    if value is None or (isinstance(value, float) and value != value):
        return OK, False
    if isinstance(value, bool):
        text = "true" if value else "false"
    elif isinstance(value, (int, float)):
        text = str(int(value)) if float(value).is_integer() else str(value)
    else:
        text = key(value)
    text = values.get(text, text)
    if text in _TRUE:
        return OK, True
    if text in _FALSE:
        return OK, False
    return BAD, False


def scalar_count(value: Any) -> tuple[int, int]:
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


def scalar_channel(value: Any, values: dict[str, str]) -> tuple[int, str | None]:
    if value is None or (isinstance(value, float) and value != value):
        return BLANK, None
    text = key(value)
    if not text:
        return BLANK, None
    text = values.get(text, text)
    found = CHANNEL_WORDS.get(text)
    return (OK, found) if found else (BAD, None)


def scalar_text(value: Any) -> str:
    if value is None or (isinstance(value, float) and value != value):
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, dt.datetime):
        return value.isoformat(sep=" ")
    return nfc(str(value)).strip()


def show(value: Any) -> str:
    text = value if isinstance(value, str) else scalar_text(value)
    return text if len(text) <= 60 else text[:57] + "…"
