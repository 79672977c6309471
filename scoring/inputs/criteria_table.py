"""Import a province's criteria table (the annex of its decision, .xlsx) as a criteria set that scores at once.

The layouts real decisions use are read:

* numbering in one column as ``I / 1 / 1.1`` (Roman fields, criteria restarting in each field),
  ``1 / 1.1 / 1.1.1`` straight, or ``A / I / 1``; each node gets a dotted code from the printed
  numbering (field ``II``, its criterion ``1`` and that criterion's ``1.1`` become ``2``, ``2.1``,
  ``2.1.1``) and keeps the printed numbering as its ``label``;
* title cells merged across columns or rows, a row whose merged cell holds "I. TITLE", header rows
  spread over two lines ("Điểm" over "Tối đa" / "Tự chấm"), a "Tổng cộng" row, footnotes and blank
  rows, several tables on one sheet or one per sheet;
* the usual column names ("STT", "Lĩnh vực/Tiêu chí/Tiêu chí thành phần", "Điểm tối đa", "Điểm tự
  chấm", "Tài liệu kiểm chứng", "Hướng dẫn chấm điểm", "Phương pháp đánh giá", "Thang điểm", "Ghi chú");
* the scale of a sub-criterion in its guidance cell, or as rows under it (one level per row, the
  points in the points column and no code).

Every leaf gets a rule (:mod:`scoring.inputs.table_rules`, from the scale sentences read by
:mod:`scoring.inputs.scale_text`): bands on a rate or a count, yes/no, a "choose a level" rule for a
scale that is not computed, a "points" rule for a leaf with no scale. The
result is checked as ``parindex check`` would check it before it is returned. Nothing here writes
files or prints; the CLI does.
"""

from __future__ import annotations

import re
import tempfile
import unicodedata
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any, Iterable

from pydantic import BaseModel, ConfigDict

from scoring.core.errors import DefinitionError, InputError, Problem, ProblemList, did_you_mean
from scoring.core.rules import load_bundle
from scoring.core.yamlio import dump_yaml, nfc
from scoring.inputs.scale_text import Level, key, level_of
from scoring.inputs.table_rules import Counts, drop_none, num, pts_vi, rule_for
from scoring.inputs.workbook_reader import open_workbook

MAX_ROWS = 20_000
MAX_WORKBOOK_BYTES = 20 * 1024 * 1024

#: header words of each column role, as tables write them (compared case-folded, first and second line)
ROLES: dict[str, tuple[str, ...]] = {
    "code": ("stt", "tt", "số tt", "số thứ tự", "mã", "mã số", "mã tiêu chí", "ký hiệu"),
    "title": ("lĩnh vực/tiêu chí/tiêu chí thành phần", "lĩnh vực / tiêu chí / tiêu chí thành phần",
              "lĩnh vực, tiêu chí, tiêu chí thành phần", "lĩnh vực/tiêu chí", "tiêu chí", "nội dung",
              "nội dung tiêu chí", "tên tiêu chí", "lĩnh vực, tiêu chí", "tiêu chí/tiêu chí thành phần",
              "nội dung đánh giá", "lĩnh vực, tiêu chí, tiêu chí thành phần đánh giá"),
    "max": ("điểm tối đa", "điểm chuẩn", "điểm", "tối đa", "số điểm tối đa", "điểm tối đa (điểm)"),
    "self": ("điểm tự chấm", "tự chấm", "điểm tự đánh giá", "tự đánh giá", "điểm đánh giá"),
    "docs": ("tài liệu kiểm chứng", "tài liệu", "tài liệu minh chứng", "tài liệu kiểm chứng/minh chứng"),
    "guidance": ("hướng dẫn chấm điểm", "phương pháp đánh giá", "thang điểm", "hướng dẫn", "cách tính điểm",
                 "phương pháp chấm điểm", "cách chấm điểm", "hướng dẫn chấm", "phương pháp đánh giá, chấm điểm"),
    "note": ("ghi chú",),
}
#: the options of ``parindex import-criteria`` that name each role's column
ROLE_OPTION = {"code": "--code-column", "title": "--title-column", "max": "--max-column",
               "guidance": "--guidance-column", "self": "--self-column", "docs": "--docs-column",
               "note": "--note-column"}
ROLE_VI = {"code": "số thứ tự (STT)", "title": "tên lĩnh vực/tiêu chí", "max": "điểm tối đa",
           "guidance": "hướng dẫn chấm điểm", "self": "điểm tự chấm", "docs": "tài liệu kiểm chứng",
           "note": "ghi chú"}
_ROMAN = {"I": 1, "V": 5, "X": 10, "L": 50, "C": 100}
_BULLET = re.compile(r"^\s*[-–—+•*·]\s*")


class ImportedCriteria(BaseModel):
    """What an import produced: the criteria file and rules files (YAML texts) and what to tell the clerk."""

    model_config = ConfigDict(frozen=True)

    set_id: str
    criteria_yaml: str
    rules_files: dict[str, str]  # file name (relative to the set's rules folder) → YAML text
    computed_rules: int  # bands on a rate or count, yes/no
    level_rules: int  # "choose a level"
    points_rules: int  # points entered directly
    external_rules: int = 0  # points given by the province (--external)
    unread_rows: tuple[Problem, ...] = ()  # rows that could not be read (the import goes on without them)
    problems: tuple[Problem, ...] = ()  # what stops the import (wrong sums, duplicate codes, …)
    notes: tuple[str, ...] = ()
    rows: dict[str, str] = {}  # code → "sheet!row" it was read from
    fields: int = 0
    leaves: int = 0
    scale: Decimal = Decimal(0)

    @property
    def yaml_text(self) -> str:  # the name the first import-criteria used
        return self.criteria_yaml


# ------------------------------------------------------------------ cells and headers


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return nfc(str(value)).strip()


def _hkey(text: str) -> str:
    return " ".join(nfc(text).replace("\n", " ").split()).casefold().strip(" :*")


def _role_of(text: str) -> str | None:
    """The role a header cell names: an exact header first, then the longest header word it contains."""
    k = _hkey(text)
    if not k:
        return None
    for role, words in ROLES.items():
        if k in words:
            return role
    best: tuple[int, str] | None = None
    for role, words in ROLES.items():
        for w in words:
            if len(w) > 3 and (k.startswith(w) or f" {w}" in f" {k}"):
                if best is None or len(w) > best[0]:
                    best = (len(w), role)
    return best[1] if best else None


@dataclass
class _Sheet:
    """A worksheet with its merged ranges resolved and formulas read from the cached values."""

    ws: Any
    wv: Any
    anchor: dict[tuple[int, int], tuple[int, int]] = field(default_factory=dict)
    span: dict[tuple[int, int], tuple[int, int]] = field(default_factory=dict)  # top-left → (last row, last col)

    def __post_init__(self) -> None:
        for rng in self.ws.merged_cells.ranges:
            self.span[(rng.min_row, rng.min_col)] = (rng.max_row, rng.max_col)
            for r in range(rng.min_row, rng.max_row + 1):
                for c in range(rng.min_col, rng.max_col + 1):
                    if (r, c) != (rng.min_row, rng.min_col):
                        self.anchor[(r, c)] = (rng.min_row, rng.min_col)

    @property
    def title(self) -> str:
        return str(self.ws.title)

    def raw(self, row: int, col: int) -> Any:
        cell = self.ws.cell(row=row, column=col)
        if cell.data_type == "f":
            return self.wv.cell(row=row, column=col).value
        v = cell.value
        return nfc(v) if isinstance(v, str) else v

    def value(self, row: int, col: int) -> tuple[Any, str]:
        """(value, how): how is "own", "down" (covered by a merge from a row above, same column),
        "across" (covered by a merge from a column to the left)."""
        a = self.anchor.get((row, col))
        if a is None:
            return self.raw(row, col), "own"
        return (self.raw(*a), "down" if a[1] == col else "across")

    def shown(self, row: int, col: int) -> str:
        """The text a reader sees in a cell (a merged cell shows its top-left value)."""
        a = self.anchor.get((row, col), (row, col))
        return _text(self.raw(*a))


@dataclass
class _Table:
    sheet: _Sheet
    first: int  # first data row
    last: int  # last row of the table (before the next header)
    cols: dict[str, int]


def _header_at(sh: _Sheet, row: int) -> tuple[dict[str, int], int] | None:
    """The columns a header starting at ``row`` names (one or two lines) and the number of header lines."""
    width = min(sh.ws.max_column, 40)

    def roles(texts: dict[int, str]) -> dict[str, int]:
        out: dict[str, int] = {}
        for c in range(1, width + 1):
            r = _role_of(texts.get(c, ""))
            if r and r not in out:
                out[r] = c
        return out

    one = {c: sh.shown(row, c) for c in range(1, width + 1)}
    found = roles(one)
    lines = 1
    if row + 1 <= sh.ws.max_row:
        two = {}
        for c in range(1, width + 1):
            top, low = one[c], sh.shown(row + 1, c)
            two[c] = top if low == top or not low else (f"{top} {low}" if top else low)
            # a low cell alone ("Tối đa") under a merged "Điểm" reads as "Điểm Tối đa"
        found2 = roles(two)
        lows = {c: sh.shown(row + 1, c) for c in range(1, width + 1)}
        if len(found2) > len(found) or (len(found2) == len(found) and any(_role_of(v) for v in lows.values()
                                                                           if v and v not in one.values())):
            found, lines = found2, 2
    if "title" in found and ("max" in found or "guidance" in found) and "code" in found:
        return found, lines
    return None


def _resolve(sh: _Sheet, spec: str, role: str, table: str) -> int:
    from openpyxl.utils import column_index_from_string

    spec = spec.strip()
    if re.fullmatch(r"[A-Za-z]{1,3}", spec):
        return column_index_from_string(spec.upper())
    want = _hkey(spec)
    for row in range(1, min(sh.ws.max_row, 60) + 1):
        for c in range(1, min(sh.ws.max_column, 40) + 1):
            if _hkey(sh.shown(row, c)) == want or _hkey(sh.shown(row, c)).endswith(" " + want):
                return c
    seen: list[str] = []
    for row in range(1, min(sh.ws.max_row, 30) + 1):
        for c in range(1, min(sh.ws.max_column, 40) + 1):
            text = sh.shown(row, c).split("\n")[0]
            if text and text not in seen and not re.fullmatch(r"[\d.,()\s]+", text) and len(text) <= 60:
                seen.append(text)
    raise InputError(Problem("missing_column", f"không tìm thấy cột '{spec}' cho {ROLE_VI.get(role, role)} ở trang "
                             f"'{sh.title}' (column not found)", file=table, subject=ROLE_OPTION.get(role, role),
                             hint=f"ghi đúng chữ ở tiêu đề cột hoặc chữ cái của cột, ví dụ {ROLE_OPTION.get(role)} C; "
                                  f"tiêu đề thấy trong trang: " + "; ".join(seen[:12])))


def _find_tables(sh: _Sheet, columns: dict[str, str], table: str) -> list[_Table]:
    heads: list[tuple[int, int, dict[str, int]]] = []
    row, top = 1, min(sh.ws.max_row, MAX_ROWS)
    while row <= top:
        found = _header_at(sh, row)
        if found is not None:
            cols, lines = found
            heads.append((row, lines, cols))
            row += lines
            continue
        row += 1
    if not heads and columns:  # columns given by letter: one table, data from the first row with a code
        cols = {role: _resolve(sh, spec, role, table) for role, spec in columns.items()}
        if {"code", "title"} <= cols.keys():
            heads.append((0, 1, cols))
    tables = []
    for i, (start, lines, cols) in enumerate(heads):
        for role, spec in columns.items():
            cols[role] = _resolve(sh, spec, role, table)
        end = heads[i + 1][0] - 1 if i + 1 < len(heads) else top
        first = start + lines
        # a row of column numbers under the header ("(1) (2) (3)" or "1 2 3 4")
        nums = [sh.shown(first, c) for c in cols.values()]
        if nums and all(re.fullmatch(r"\(?\d+\)?", n) for n in nums if n) and sum(1 for n in nums if n) >= 3:
            first += 1
        tables.append(_Table(sh, first, end, cols))
    return tables


# ------------------------------------------------------------------ numbering


def _roman(token: str) -> int | None:
    if not token or any(ch not in _ROMAN for ch in token):
        return None
    total = 0
    for i, ch in enumerate(token):
        v = _ROMAN[ch]
        total += -v if i + 1 < len(token) and _ROMAN[token[i + 1]] > v else v
    return total if _to_roman(total) == token else None


def _to_roman(n: int) -> str:
    out = ""
    for v, s in ((100, "C"), (90, "XC"), (50, "L"), (40, "XL"), (10, "X"), (9, "IX"), (5, "V"), (4, "IV"), (1, "I")):
        while n >= v:
            out += s
            n -= v
    return out


_TOKEN = re.compile(r"^(?P<tok>(?:[IVXLC]+|[A-Z]|\d+(?:\.\d+)*))(?:[.)]|\s*[-–:]\s)?(?:\s+(?P<rest>.+))?$", re.S)


@dataclass
class _Token:
    printed: str  # as printed, without the final dot: "II", "1", "1.2"
    kind: Any  # "R" Roman, "L" letter, "N" number, ("D", k) dotted with k parts
    ordinal: int
    numeric: bool = False  # typed as a number: 1.10 was stored as 1.1


class _Numbering:
    """Turns printed numbers into tree levels, learning the table's scheme as it goes."""

    def __init__(self) -> None:
        self.seen: list[Any] = []
        self.last_letter: int = 0
        self.first_dotted: tuple[int, int] | None = None  # (depth, parts) of the first dotted code

    def token(self, raw: Any) -> tuple[_Token, str | None] | None:
        """(token, text after it in the same cell) or None when the cell is not a number."""
        if isinstance(raw, bool) or raw is None:
            return None
        if isinstance(raw, int):
            return _Token(str(raw), "N", raw), None
        if isinstance(raw, float):
            text = repr(raw) if not raw.is_integer() else str(int(raw))
            if "." in text:
                parts = text.split(".")
                return _Token(text, ("D", len(parts)), int(parts[-1]), numeric=True), None
        else:
            text = re.sub(r"[ \t\u00a0]+", " ", str(raw)).strip()
        m = _TOKEN.match(text)
        if not m:
            return None
        tok, rest = m.group("tok"), (m.group("rest") or "").strip() or None
        if re.fullmatch(r"\d+", tok):
            return _Token(tok, "N", int(tok)), rest
        if "." in tok:
            parts = tok.split(".")
            return _Token(tok, ("D", len(parts)), int(parts[-1])), rest
        if len(tok) == 1 and tok.isalpha() and not tok.isdigit():
            letter = ord(tok) - ord("A") + 1
            roman = _roman(tok)
            as_letter = roman is None or ("L" in self.seen and letter == self.last_letter + 1) or (
                tok != "I" and "R" not in self.seen and "L" not in self.seen and tok == "A")
            if as_letter:
                return _Token(tok, "L", letter), rest
            return _Token(tok, "R", roman), rest
        roman = _roman(tok)
        if roman is not None:
            return _Token(tok, "R", roman), rest
        return None

    def depth(self, t: _Token) -> int:
        kind = t.kind
        if isinstance(kind, tuple):
            parts = kind[1]
            if "N" in self.seen:
                return self.seen.index("N") + parts - 1
            if self.first_dotted is None:
                self.first_dotted = (len(self.seen), parts)
            base, k0 = self.first_dotted
            return base + parts - k0
        if kind not in self.seen:
            self.seen.append(kind)
        if kind == "L":
            self.last_letter = t.ordinal
        return self.seen.index(kind)


# ------------------------------------------------------------------ reading rows


@dataclass
class _Node:
    code: str
    label: str
    title: str
    max_points: Decimal | None
    where: str  # "sheet dòng N"
    sheet: str
    row: int
    depth: int
    children: list[_Node] = field(default_factory=list)
    guidance: list[tuple[str, int]] = field(default_factory=list)  # (text, row)
    levels: list[Level] = field(default_factory=list)  # level rows under it
    note: str | None = None
    max_from_children: bool = False


def parse_points(value: Any) -> Decimal | None:
    """A points cell: 3, 0.5, "0,5", "3 điểm", "3đ" → Decimal; blank → None; ValueError otherwise."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, bool):
        raise ValueError("có/không")
    if isinstance(value, int):
        return Decimal(value)
    if isinstance(value, float):
        return Decimal(repr(value))
    text = nfc(str(value)).strip().replace("\u00a0", " ")
    text = re.sub(r"\s*(điểm|đ)\.?$", "", text, flags=re.IGNORECASE).strip().replace(" ", "")
    if "," in text and "." not in text:
        text = text.replace(",", ".")
    try:
        dec = Decimal(text)
    except InvalidOperation:
        raise ValueError(str(value)) from None
    if not dec.is_finite() or dec < 0:
        raise ValueError(str(value))
    return dec


def _slug(text: str, words: int = 4) -> str:
    text = unicodedata.normalize("NFD", text.replace("đ", "d").replace("Đ", "D"))
    text = "".join(ch for ch in text if unicodedata.category(ch) != "Mn").lower()
    parts = re.findall(r"[a-z0-9]+", text)
    return "-".join(parts[:words]) or "linh-vuc"


class _Reader:
    def __init__(self, table: str) -> None:
        self.table = table
        self.problems = ProblemList()
        self.unread = ProblemList()
        self.notes: list[str] = []
        self.numbering = _Numbering()
        self.roots: list[_Node] = []
        self.nodes: dict[str, _Node] = {}
        self.stack: list[_Node] = []  # the last node at each depth
        self.totals: list[tuple[str, int, Decimal, int, int]] = []  # sheet, row, stated, roots of its table

    def where(self, sheet: str, row: int, col: int | None = None) -> dict[str, Any]:
        from openpyxl.utils import get_column_letter

        cell = f"'{sheet}'!{get_column_letter(col)}{row}" if col else f"'{sheet}' dòng {row}"
        return {"file": self.table, "line": None, "subject": cell}

    def read(self, t: _Table) -> None:
        sh = t.sheet
        cols = t.cols
        code_c, title_c = cols["code"], cols["title"]
        max_c, guide_c, note_c = cols.get("max"), cols.get("guidance"), cols.get("note")
        last: _Node | None = None  # the node rows below may continue or add levels to
        ended = False
        roots_start = len(self.roots)
        for row in range(t.first, t.last + 1):
            raw_code, code_how = sh.value(row, code_c)
            raw_title, title_how = sh.value(row, title_c)
            raw_max, max_how = sh.value(row, max_c) if max_c else (None, "own")
            guide = _text(sh.value(row, guide_c)[0]) if guide_c and sh.value(row, guide_c)[1] == "own" else ""
            note = _text(sh.value(row, note_c)[0]) if note_c and sh.value(row, note_c)[1] == "own" else ""
            code_text = _text(raw_code) if code_how == "own" else ""
            title_text = _text(raw_title) if title_how == "own" else ""
            if title_how == "across" and sh.anchor[(row, title_c)][1] == code_c:
                title_text = ""  # the code cell's text spreads over the title column: read it from there
            if not code_text and not title_text and not guide and (max_how != "own" or raw_max is None):
                continue  # blank row, or a row inside merged cells with nothing of its own
            if code_how == "down" and last is not None:  # the same node spread over several rows
                if title_text and title_text not in last.title:
                    last.title = f"{last.title} {title_text}"
                if guide:
                    last.guidance.append((guide, row))
                if last.max_points is None and max_how == "own":
                    last.max_points = self._points(raw_max, sh, row, max_c, last.code)
                continue
            first_word = key(code_text or title_text)
            if first_word.startswith(("tổng cộng", "tổng số", "tổng điểm", "cộng")) or first_word == "tổng":
                stated = None
                if max_how == "own":
                    try:
                        stated = parse_points(raw_max)
                    except ValueError:
                        stated = None
                if stated is not None:
                    self.totals.append((sh.title, row, stated, roots_start, len(self.roots)))
                ended = True
                last = None
                continue
            if ended:  # footnotes and the next table's banner, under the total
                if max_how == "own" and raw_max not in (None, ""):
                    self.notes.append(f"'{sh.title}' dòng {row}: dòng dưới dòng tổng có điểm, không đọc: "
                                      f"«{(code_text or title_text)[:60]}»")
                continue
            tok = self.numbering.token(raw_code) if code_how == "own" and raw_code is not None else None
            if tok is not None:
                token, rest = tok
                if rest and not title_text:
                    title_text = rest
                elif rest:
                    title_text = f"{rest} {title_text}"
                last = self._node(token, title_text, raw_max if max_how == "own" else None, sh, row, code_c, max_c)
                if last is not None:
                    if guide:
                        last.guidance.append((guide, row))
                    if note:
                        last.note = note
                continue
            # no number: a level row of the node above, a continuation, or a footnote
            text = code_text if code_text and not title_text else title_text or code_text
            if code_text and title_text:
                text = f"{code_text} {title_text}"
            pts = None
            if max_how == "own" and raw_max is not None:
                try:
                    pts = parse_points(raw_max)
                except ValueError:
                    self.unread.add("bad_points", f"không đọc được số điểm '{_text(raw_max)}' của mức «{text[:60]}»",
                                    **self.where(sh.title, row, max_c),
                                    hint="ghi số điểm bằng chữ số, ví dụ 0,5; mức này bị bỏ qua")
                    continue
            if last is not None and not last.children and (pts is not None or _BULLET.match(text)):
                lv = level_of(text, row, pts) if pts is not None else level_of(text, row)
                if lv is None:
                    self.unread.add("unread_level", f"dòng mức «{text[:60]}» dưới '{last.label}' ({last.where}) không có số điểm",
                                    **self.where(sh.title, row, max_c or title_c),
                                    hint="ghi điểm của mức vào cột điểm tối đa (ví dụ 0,5), hoặc xóa dòng; "
                                         "dòng này bị bỏ qua")
                    continue
                last.levels.append(lv)
                continue
            if guide and last is not None and not text:
                last.guidance.append((guide, row))
                continue
            if code_text and not tok and re.match(r"^[\w.]+$", code_text) and len(code_text) <= 8:
                self.unread.add("unread_code", f"không đọc được số thứ tự '{code_text}'",
                                **self.where(sh.title, row, code_c),
                                hint="ghi số thứ tự dạng I, II…, 1, 2…, 1.1 hoặc A, B…; dòng này bị bỏ qua")
                continue
            if self.nodes:
                self.notes.append(f"'{sh.title}' dòng {row}: dòng không có số thứ tự, không đọc: «{text[:60]}»")

    def _points(self, raw: Any, sh: _Sheet, row: int, col: int | None, code: str) -> Decimal | None:
        try:
            return parse_points(raw)
        except ValueError:
            self.problems.add("bad_points", f"'{code}': không đọc được điểm tối đa '{_text(raw)}'",
                              **self.where(sh.title, row, col), hint="ghi điểm tối đa bằng chữ số, ví dụ 1,5")
            return None

    def _node(self, token: Any, title: str, raw_max: Any, sh: _Sheet, row: int, code_c: int,
              max_c: int | None) -> _Node | None:
        depth = self.numbering.depth(token)
        if depth > len(self.stack):
            self.problems.add("missing_parent", f"'{token.printed}' nằm ở cấp {depth + 1} nhưng phía trên không có mục "
                              f"cấp {depth} chứa nó", **self.where(sh.title, row, code_c),
                              hint="thêm dòng lĩnh vực/tiêu chí cha phía trên, hoặc sửa số thứ tự cho đúng cấp")
            return None
        parent = self.stack[depth - 1] if depth > 0 else None
        if isinstance(token.kind, tuple) and parent is not None:
            prefix = token.printed.rsplit(".", 1)[0]
            if parent.label != prefix and not parent.label.endswith("." + prefix) and re.fullmatch(r"[\d.]+", parent.label):
                self.problems.add("numbering_mismatch", f"'{token.printed}' nằm dưới '{parent.label}' nhưng số đầu "
                                  f"'{prefix}' khác", **self.where(sh.title, row, code_c),
                                  hint=f"sửa thành {parent.label}.{token.ordinal} hoặc chuyển dòng về dưới mục {prefix}")
        code = f"{parent.code}.{token.ordinal}" if parent else str(token.ordinal)
        if code in self.nodes:
            first = self.nodes[code]
            hint = ("mỗi số thứ tự chỉ xuất hiện một lần trong cùng lĩnh vực/tiêu chí; kiểm tra dòng bị chép hai lần "
                    "hoặc số thứ tự gõ nhầm")
            if first.sheet != sh.title:
                hint = (f"trang '{first.sheet}' và trang '{sh.title}' cùng có mục này; nếu hai trang là hai bản của một "
                        f"bảng, chỉ đọc một trang: --sheet \"{first.sheet}\"")
            if token.numeric:
                hint = ("ô số thứ tự lưu dạng số nên 1.10 thành 1.1: định dạng cột là Text (văn bản) rồi gõ lại số "
                        "thứ tự, hoặc gõ dấu ' trước số, ví dụ '1.10")
            self.problems.add("duplicate_code", f"mã '{code}' (in là '{token.printed}') đã có ở {first.where}",
                              **self.where(sh.title, row, code_c), hint=hint)
            return None
        maxp = self._points(raw_max, sh, row, max_c, code) if raw_max is not None else None
        title = " ".join(title.split())
        if not title:
            self.unread.add("missing_title", f"'{token.printed}' không có tên tiêu chí",
                            **self.where(sh.title, row, code_c), hint="ghi tên lĩnh vực/tiêu chí vào cột tên")
            title = f"(không có tên) {token.printed}"
        node = _Node(code, token.printed, title, maxp, f"'{sh.title}' dòng {row}", sh.title, row, depth)
        if parent is None:
            self.roots.append(node)
        else:
            parent.children.append(node)
        del self.stack[depth:]
        self.stack.append(node)
        self.nodes[code] = node
        return node


# ------------------------------------------------------------------ the import


def import_criteria_table(path: Path | str, *, set_id: str, province: str, year: int, level: str = "cap_so",
                          sheet: str | None = None, columns: dict[str, str] | None = None,
                          title: str | None = None, official: bool = False, source: str | None = None,
                          external: Iterable[str] = (), scale: Decimal | None = None) -> ImportedCriteria:
    """Read a province's criteria table into a criteria file and a rules folder that ``parindex check``
    accepts at once.

    ``columns`` maps a role (code, title, max, guidance, self, docs, note) to a header text or a column
    letter, for tables whose headers are not the usual ones. Raises InputError when the table cannot be
    read at all; otherwise ``problems`` lists what must be fixed before the result is used and
    ``unread_rows`` the rows that were left out.
    """
    path = Path(path)
    table = str(path)
    columns = {k: v for k, v in (columns or {}).items() if v}
    for role in columns:
        if role not in ROLES:
            raise InputError(Problem("unknown_column_role", f"không có loại cột '{role}'", subject="columns",
                                     hint=did_you_mean(role, ROLES) or f"dùng: {', '.join(ROLES)}"))
    if not path.is_file():
        raise InputError(Problem("file_not_found", f"không có tệp bảng tiêu chí '{table}' (file not found)", file=table,
                                 hint="kiểm tra đường dẫn và tên tệp"))
    if path.stat().st_size > MAX_WORKBOOK_BYTES:
        raise InputError(Problem("file_too_large", f"tệp lớn hơn {MAX_WORKBOOK_BYTES // 2**20} MB", file=table,
                                 hint="chỉ giữ các trang của bảng tiêu chí"))
    if official and not source:
        raise InputError(Problem("missing_source", "--official cần --source (quyết định và phụ lục ban hành điểm)",
                                 subject="--source", hint='ví dụ --source "QĐ 2211/QĐ-UBND ngày 15/10/2025, Phụ lục I"'))
    if not re.fullmatch(r"[a-z0-9][a-z0-9-]*", set_id):
        raise InputError(Problem("bad_id", f"mã bộ tiêu chí '{set_id}' chỉ gồm chữ thường không dấu, chữ số và '-'",
                                 subject="--id", hint="ví dụ son-la-cap-so-2025"))
    data = path.read_bytes()
    wb_f = open_workbook(data, table, data_only=False)
    wb_v = open_workbook(data, table, data_only=True)
    if sheet is not None and sheet not in wb_f.sheetnames:
        raise InputError(Problem("unknown_sheet", f"không có trang tính '{sheet}' trong bảng", file=table,
                                 subject="--sheet",
                                 hint=did_you_mean(sheet, wb_f.sheetnames) or f"các trang: {', '.join(wb_f.sheetnames)}"))
    names = [sheet] if sheet else list(wb_f.sheetnames)
    reader = _Reader(table)
    tables: list[_Table] = []
    for name in names:
        sh = _Sheet(wb_f[name], wb_v[name])
        found = _find_tables(sh, columns, table)
        if not found:
            reader.notes.append(f"trang '{name}': không thấy dòng tiêu đề (STT, tên tiêu chí, điểm tối đa), bỏ qua")
        tables.extend(found)
    if not tables:
        raise InputError(Problem(
            "missing_column", "không tìm thấy bảng tiêu chí: cần một dòng tiêu đề có cột STT, cột tên "
            "(Lĩnh vực/Tiêu chí/Tiêu chí thành phần) và cột Điểm tối đa", file=table,
            hint="kiểm tra --sheet, hoặc chỉ rõ cột: --code-column A --title-column B --max-column C"))
    for t in tables:
        reader.read(t)
    if not reader.nodes:
        raise InputError(Problem("no_criteria_rows", "bảng không có dòng nào có số thứ tự (I, 1, 1.1, A…)", file=table,
                                 hint="kiểm tra --sheet và --code-column"))
    problems, notes = reader.problems, reader.notes

    def finish(n: _Node) -> None:
        for c in n.children:
            finish(c)
        if n.children:
            n.levels = []
            kids = sum((c.max_points or Decimal(0) for c in n.children), Decimal(0))
            if n.max_points is not None and n.max_points != kids:
                shown = ", ".join(f"{c.label}: {pts_vi(c.max_points or Decimal(0))} ({c.where})" for c in n.children)
                problems.add("points_mismatch", f"'{n.label}' ({n.title[:50]}) ghi {pts_vi(n.max_points)} điểm nhưng "
                             f"các mục con cộng lại {pts_vi(kids)}", file=table, subject=n.where,
                             hint=f"các mục con: {shown}; sửa điểm trong bảng cho khớp")
            if n.max_points is None:
                n.max_points = sum((c.max_points or Decimal(0) for c in n.children), Decimal(0))
                n.max_from_children = True
                notes.append(f"{n.where}: '{n.label}' không ghi điểm tối đa; lấy tổng các mục con = {pts_vi(n.max_points)}")
        elif n.max_points is None:
            if n.levels:
                n.max_points = max(lv.points for lv in n.levels)
                notes.append(f"{n.where}: '{n.label}' không ghi điểm tối đa; lấy điểm của mức cao nhất = "
                             f"{pts_vi(n.max_points)}")
            else:
                problems.add("missing_points", f"'{n.label}' ({n.title[:50]}) không có điểm tối đa",
                             file=table, subject=n.where, hint="ghi điểm tối đa của mọi tiêu chí thành phần")
                n.max_points = Decimal(0)

    for r in reader.roots:
        finish(r)
    total = sum((r.max_points or Decimal(0) for r in reader.roots), Decimal(0))
    for sheet_name, row, stated, lo, hi in reader.totals:
        part = sum((r.max_points or Decimal(0) for r in reader.roots[lo:hi]), Decimal(0))
        if stated not in (total, part):
            problems.add("points_mismatch", f"dòng tổng ghi {pts_vi(stated)} điểm nhưng các lĩnh vực cộng lại "
                         f"{pts_vi(total)}", **reader.where(sheet_name, row),
                         hint="sửa điểm tối đa của các lĩnh vực hoặc của dòng tổng")
    if scale is not None and scale != total:
        problems.add("points_mismatch", f"--scale {pts_vi(scale)} khác tổng điểm các lĩnh vực {pts_vi(total)}",
                     subject="--scale", hint="bỏ --scale hoặc sửa điểm tối đa trong bảng")
    externals = {str(e) for e in external}
    for e in sorted(externals - set(reader.nodes)):
        problems.add("unknown_code", f"--external '{e}' không phải mã nào của bảng", subject="--external",
                     hint=did_you_mean(e, reader.nodes) or "dùng mã dạng chấm, ví dụ 8 hoặc 8.1")
    origin = path.name
    status = "official" if official else "illustrative"

    def node_dict(n: _Node) -> dict[str, Any]:
        d: dict[str, Any] = {"code": n.code, "label": n.label, "title": n.title, "max_points": num(n.max_points)}
        d["source"] = f"{source + '; ' if source else ''}{origin}, {n.where}"
        if n.code in externals:
            d["external"] = True
        if n.note:
            d["note"] = n.note
        if n.children:
            d["children"] = [node_dict(c) for c in n.children]
        return d

    set_title = title or f"Bộ tiêu chí xác định Chỉ số cải cách hành chính {province} năm {year}" + (
        "" if official else " (điểm minh họa)")
    legal = [source] if source else [f"Bảng tiêu chí {path.name}, chưa đối chiếu với quyết định của tỉnh"]
    criteria: dict[str, Any] = {
        "id": set_id, "title": set_title, "level": level, "province": province, "year": year,
        "scale": num(scale if scale is not None else total), "points_status": status, "legal_basis": legal,
    }
    if not official:
        criteria["note"] = ("Điểm tối đa nhập từ bảng của tỉnh nhưng chưa xác nhận là chính thức (illustrative); "
                            "nhập lại với --official --source khi đã đối chiếu quyết định.")
    criteria["fields"] = [node_dict(r) for r in reader.roots]
    header = (f"# Bộ tiêu chí {set_id}: nhập từ {path.name} bằng 'parindex import-criteria'.\n"
              f"# Điểm: {'CHÍNH THỨC theo ' + str(source) if official else 'MINH HỌA (chưa xác nhận chính thức)'}.\n")
    criteria_text = header + dump_yaml(criteria)

    counts = Counts()
    rules_files: dict[str, str] = {}

    def leaves(n: _Node) -> list[_Node]:
        return [n] if not n.children else [x for c in n.children for x in leaves(c)]

    def is_external(n: _Node) -> bool:
        return any(n.code == e or n.code.startswith(e + ".") for e in externals)

    for root in reader.roots:
        rules = [drop_none(rule_for(leaf, origin, is_external(leaf), counts, notes, official)) for leaf in leaves(root)]
        body = {"criteria_set": set_id, "field": root.code, "rules": rules}
        head = (f"# Lĩnh vực {root.code} ({root.label}): {root.title}\n"
                "# Quy tắc do 'parindex import-criteria' tạo từ thang điểm trong bảng của tỉnh; câu gốc ghi ở 'source'.\n")
        rules_files[f"{root.code}-{_slug(root.title)}.yaml"] = head + dump_yaml(body)
    rows = {code: n.where for code, n in reader.nodes.items()}
    if not problems:
        _check_result(set_id, criteria_text, rules_files, reader, problems, table)
    return ImportedCriteria(
        set_id=set_id, criteria_yaml=criteria_text, rules_files=rules_files, computed_rules=counts.computed,
        level_rules=counts.level, points_rules=counts.points, external_rules=counts.external, unread_rows=tuple(reader.unread.problems),
        problems=tuple(problems.problems), notes=tuple(notes), rows=rows, fields=len(reader.roots),
        leaves=sum(1 for n in reader.nodes.values() if not n.children), scale=scale if scale is not None else total)


def _check_result(set_id: str, criteria_text: str, rules_files: dict[str, str], reader: _Reader,
                  problems: ProblemList, table: str) -> None:
    """Load the result as ``parindex check`` does; each problem points at the table row it comes from."""
    with tempfile.TemporaryDirectory() as tmp:
        cdir, rdir = Path(tmp) / "criteria", Path(tmp) / "rules" / set_id
        cdir.mkdir()
        rdir.mkdir(parents=True)
        (cdir / f"{set_id}.yaml").write_text(criteria_text, encoding="utf-8")
        for name, text in rules_files.items():
            (rdir / name).write_text(text, encoding="utf-8")
        try:
            load_bundle(cdir, rdir.parent, set_id).close()
        except DefinitionError as exc:
            for p in exc.problems:
                node = reader.nodes.get(p.subject or "")
                hint = p.hint
                if p.code == "points_mismatch" and node is not None:
                    kids = ", ".join(f"{c.label} ({c.where}): {pts_vi(c.max_points or Decimal(0))}" for c in node.children)
                    hint = f"các dòng con: {kids}; sửa điểm trong bảng cho khớp"
                problems.add(p.code, p.message.replace(str(cdir / f'{set_id}.yaml'), table),
                             file=table, subject=f"'{node.label}' ({node.where})" if node else p.subject, hint=hint)
