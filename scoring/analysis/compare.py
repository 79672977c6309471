"""Appraisal comparison: the council's points against the engine's, with a draft explanation per difference.

An appraisal file (CSV or XLSX) has one row per code and the council's points,
once or per round (thẩm định lần 1, lần 2…). For every code where the council
differs from the self-assessment, ``compare`` gives the difference, the evidence
behind the self-score, the audit gaps that may explain the cut, and a draft
giải trình in Vietnamese that the Office edits before sending. Format: docs/audit.md.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from dataclasses import dataclass, field
from decimal import Decimal
from fractions import Fraction
from pathlib import Path
from typing import Any

from scoring.analysis.audit import Gap, _fold
from scoring.core.errors import InputError, Problem, ProblemList, did_you_mean
from scoring.core.safeio import read_input_bytes
from scoring.core.evidence import EvidenceFile, ValueError_, format_number, to_fraction
from scoring.core.rules import Bundle
from scoring.core.scorecard import ILLUSTRATIVE_NOTICE, NodeResult, Scorecard
from scoring.core.yamlio import nfc
from scoring.inputs.workbook_reader import open_workbook

MAX_APPRAISAL_BYTES = 20 * 1024 * 1024

HEADER_SCAN_ROWS = 30

CODE_HEADERS = {"code", "ma", "ma-so", "ma-tieu-chi", "ma-tc"}
POINT_HEADERS = {"appraised", "appraised-points", "points", "diem", "diem-tham-dinh", "diem-hoi-dong-tham-dinh",
                 "diem-hdtd", "diem-dat-duoc", "so-noi-vu-danh-gia", "diem-so-noi-vu-danh-gia",
                 "diem-sau-tham-dinh", "ket-qua-tham-dinh"}
ROUND_HEADERS = {"round", "lan", "vong", "lan-tham-dinh", "vong-tham-dinh"}
NOTE_HEADERS = {"note", "notes", "ghi-chu", "ly-do", "nhan-xet", "y-kien-hoi-dong", "y-kien-tham-dinh",
                "ly-do-tru-diem", "ly-do-hoi-dong"}
_ROUND_IN_HEADER = re.compile(r"(?:^|-)(?:round|lan|vong)-?(\d{1,2})$")
_SELF_HINTS = ("tu-cham", "tu-danh-gia")
BONUS_CODES = {"bonus", "thuong", "diem-thuong"}
PENALTY_CODES = {"penalty", "phat", "diem-phat", "tru", "diem-tru"}
TOTAL_ROWS = {"tong", "tong-cong", "tong-diem", "total", "cong"}

ACCEPTED = ("code column: 'code' or 'Mã'; points: 'Điểm thẩm định' (or 'appraised', 'points', 'Sở Nội vụ đánh giá'), "
            "or one column per round ('round_1', 'Lần 1', 'Điểm thẩm định lần 2'…), or a 'round'/'Lần' column "
            "with one row per code and round")


# ------------------------------------------------------------------ reading the appraisal file


@dataclass(frozen=True)
class _Cell:
    value: Any
    ref: str  # "B7" or "dòng 7, cột 3"
    formula: bool = False  # a formula whose value Excel never saved


@dataclass
class Appraisal:
    """The council's points: code → round → points, with where each came from."""

    file: str
    rounds: tuple[int, ...]
    points: dict[str, dict[int, Decimal]]
    notes: dict[str, str] = field(default_factory=dict)
    where: dict[str, int] = field(default_factory=dict)  # code → first row


def _rows_csv(path: Path) -> tuple[list[tuple[int, list[_Cell]]], str]:
    try:
        text = read_input_bytes(path, "tệp kết quả thẩm định", MAX_APPRAISAL_BYTES).decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InputError(Problem("not_utf8", f"tệp không phải văn bản UTF-8 (the file is not UTF-8 text, byte {exc.start})", file=str(path),
                                 hint="in Excel choose Save As → 'CSV UTF-8 (Comma delimited)'")) from None
    sample = "\n".join(text.splitlines()[:HEADER_SCAN_ROWS])
    delimiter = max(",;\t", key=lambda d: sample.count(d))
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    rows: list[tuple[int, list[_Cell]]] = []
    for record in reader:
        line = reader.line_num
        rows.append((line, [_Cell(v, f"dòng {line}, cột {j + 1}") for j, v in enumerate(record)]))
    return rows, str(path)


def _rows_xlsx(path: Path, sheet: str | None) -> tuple[list[tuple[int, list[_Cell]]], str]:
    data = read_input_bytes(path, "tệp kết quả thẩm định", MAX_APPRAISAL_BYTES)
    formulas = open_workbook(data, str(path), data_only=False)
    values = open_workbook(data, str(path), data_only=True)
    names = formulas.sheetnames
    if sheet is not None and sheet not in names:
        raise InputError(Problem("unknown_sheet", f"không có trang tính '{sheet}' (no sheet '{sheet}' in the workbook)", file=str(path),
                                 subject="--sheet", hint=did_you_mean(sheet, names) or f"sheets: {', '.join(names)}"))
    chosen = [sheet] if sheet else names
    found: tuple[list[tuple[int, list[_Cell]]], str] | None = None
    for name in chosen:
        wf, wv = formulas[name], values[name]
        rows: list[tuple[int, list[_Cell]]] = []
        for rf, rv in zip(wf.iter_rows(), wv.iter_rows()):
            cells = []
            for cf, cv in zip(rf, rv):
                is_formula = cf.data_type == "f"
                cells.append(_Cell(cv.value, f"{name}!{cf.coordinate}", is_formula and cv.value is None))
            rows.append((rf[0].row, cells))
        if found is None:
            found = (rows, f"{path} [{name}]")
        if _find_header(rows) is not None:
            return rows, f"{path} [{name}]"
    assert found is not None
    return found


def _text(value: Any) -> str:
    if value is None:
        return ""
    return nfc(str(value)).strip()


def _header_names(rows: list[tuple[int, list[_Cell]]], i: int) -> list[str]:
    head = [_fold(_text(c.value)) for c in rows[i][1]]
    if i + 1 < len(rows):
        below = [_fold(_text(c.value)) for c in rows[i + 1][1]]
        if any(_ROUND_IN_HEADER.search(b) or b in POINT_HEADERS for b in below):
            width = max(len(head), len(below))
            head += [""] * (width - len(head))
            below += [""] * (width - len(below))
            return [b or h for h, b in zip(head, below)]
    return head


def _find_header(rows: list[tuple[int, list[_Cell]]]) -> int | None:
    for i in range(min(len(rows), HEADER_SCAN_ROWS)):
        if any(_fold(_text(c.value)) in CODE_HEADERS for c in rows[i][1]):
            return i
    return None


def _round_of(header: str) -> int | None:
    if any(h in header for h in _SELF_HINTS):
        return None
    m = _ROUND_IN_HEADER.search(header)
    return int(m.group(1)) if m else None


def _code_text(cell: _Cell, known: set[str]) -> str | None:
    value = cell.value
    if isinstance(value, bool):
        return _text(value)
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        text = repr(value).removesuffix(".0")
        if text + "0" in known:  # 1.10 typed into a number cell arrives as 1.1
            return None
        return text
    return _text(value)


def _points(cell: _Cell) -> Decimal:
    value = cell.value
    if isinstance(value, bool):
        raise ValueError_("expected points, got true/false")
    if isinstance(value, (dt.date, dt.datetime)):
        raise ValueError_(f"expected points, got the date {value:%d/%m/%Y}", "format the column as Number, not Date")
    try:
        frac = to_fraction(_text(value) if isinstance(value, str) else value)
    except ValueError_ as exc:
        raise ValueError_(str(exc), "write the points as a number, e.g. 2 or 2,5") from None
    dec = Decimal(frac.numerator) / Decimal(frac.denominator)
    if Fraction(dec) != frac:
        raise ValueError_(f"{value} has too many decimals for points", "write at most a few decimals, e.g. 0,25")
    return dec


def read_appraisal(path: Path | str, bundle: Bundle, card: Scorecard, sheet: str | None = None) -> Appraisal:
    """Read an appraisal CSV/XLSX; every problem (file, row, cell, fix) is collected, then raised (exit 2)."""
    path = Path(path)
    from scoring.core.safeio import check_input_file
    from scoring.core.yamlio import workbook_format_problem

    check_input_file(path, "tệp kết quả thẩm định", subject="--appraisal")  # a regular file: no pipe, no /dev/zero
    suffix = path.suffix.lower()
    other = workbook_format_problem(path)
    if other is not None:  # .xls / .ods: save as .xlsx
        raise InputError(other)
    if suffix in (".xlsx", ".xlsm"):
        rows, name = _rows_xlsx(path, sheet)
    elif suffix in (".csv", ".txt"):
        rows, name = _rows_csv(path)
    else:
        raise InputError(Problem("unsupported_format", f"định dạng '{path.suffix}' không đọc được; dùng .xlsx hoặc .csv ('{path.suffix}' is not a supported appraisal format)",
                                 file=str(path), hint="save the appraisal table as .xlsx or .csv (UTF-8)"))
    hi = _find_header(rows)
    if hi is None:
        raise InputError(Problem("missing_column", "no header row with a code column ('code' or 'Mã') in the first "
                                 f"{HEADER_SCAN_ROWS} rows", file=name, hint=ACCEPTED))
    headers = _header_names(rows, hi)
    merged_header = headers != [_fold(_text(c.value)) for c in rows[hi][1]]
    data_start = hi + (2 if merged_header else 1)
    code_col = next(j for j, h in enumerate(headers) if h in CODE_HEADERS)
    round_cols = {j: r for j, h in enumerate(headers) if (r := _round_of(h)) is not None and h not in ROUND_HEADERS}
    single = [j for j, h in enumerate(headers) if h in POINT_HEADERS]
    round_col = next((j for j, h in enumerate(headers) if h in ROUND_HEADERS), None)
    note_col = next((j for j, h in enumerate(headers) if h in NOTE_HEADERS), None)
    shown = [_text(c.value) for c in rows[hi][1] if _text(c.value)]
    header_line = rows[hi][0]
    if round_cols and single:
        if 1 in round_cols.values() or len(single) > 1:
            raise InputError(Problem("ambiguous_columns", "both a plain points column and per-round columns",
                                     file=name, line=header_line,
                                     hint="name the columns 'Lần 1', 'Lần 2'… (or keep one points column)"))
        round_cols[single[0]] = 1
        single = []
    if len(single) > 1:
        raise InputError(Problem("ambiguous_columns", f"{len(single)} points columns: "
                                 + ", ".join(_text(rows[hi][1][j].value) for j in single), file=name, line=header_line,
                                 hint="keep one, or name them per round ('Lần 1', 'Lần 2')"))
    if not round_cols and not single:
        raise InputError(Problem("missing_column", f"no appraised points column; found: {', '.join(shown) or '(none)'}",
                                 file=name, line=header_line, hint=ACCEPTED))
    if len(set(round_cols.values())) != len(round_cols):
        raise InputError(Problem("ambiguous_columns", "two columns for the same round", file=name, line=header_line,
                                 hint="give each round one column"))

    index = bundle.criteria.index()
    known = set(index)
    adj = bundle.criteria.adjustments
    caps: dict[str, Decimal] = {}
    for n in card.nodes:
        caps[n.code] = max(n.max_points, n.nominal_max_points)
    caps["bonus"] = adj.bonus.max_points if adj.bonus else Decimal(0)
    caps["penalty"] = adj.penalty.max_points if adj.penalty else Decimal(0)

    problems = ProblemList()
    points: dict[str, dict[int, Decimal]] = {}
    notes: dict[str, str] = {}
    where: dict[str, int] = {}
    for line, cells in rows[data_start:]:
        def cell(j: int | None) -> _Cell | None:
            return cells[j] if j is not None and j < len(cells) else None

        if round_col is not None and single:
            rc = cell(round_col)
            rtext = _fold(_text(rc.value if rc else None))
            m = re.search(r"(\d{1,2})$", rtext)
            value_cols = {single[0]: int(m.group(1)) if m else None}
        elif single:
            value_cols = {single[0]: 1}
        else:
            value_cols = dict(round_cols)
        ccell = cell(code_col)
        filled = {j: cell(j) for j in value_cols if cell(j) is not None and
                  (_text(cell(j).value) != "" or cell(j).formula)}  # type: ignore[union-attr]
        raw_code = _code_text(ccell, known) if ccell else ""
        if raw_code is None:
            problems.add("ambiguous_code", f"code {ccell.value!r} was stored as a number; it could be "  # type: ignore[union-attr]
                         f"'{repr(ccell.value)}' or '{repr(ccell.value)}0'", file=name, line=line,  # type: ignore[union-attr]
                         subject=ccell.ref, hint="format the code column as Text and type the code again")  # type: ignore[union-attr]
            continue
        folded = _fold(raw_code)
        if not raw_code or folded in TOTAL_ROWS:
            if filled and not raw_code:
                j, c = next(iter(filled.items()))
                problems.add("missing_code", "dòng có điểm thẩm định nhưng thiếu mã tiêu chí (a row has appraised points but no code)", file=name, line=line,
                             subject=c.ref, hint="fill the code in column "
                             f"'{_text(rows[hi][1][code_col].value)}' (merged cells leave it empty: unmerge them)")
            continue
        code = "bonus" if folded in BONUS_CODES else "penalty" if folded in PENALTY_CODES else raw_code
        if code not in known and code not in ("bonus", "penalty"):
            if not filled and not re.match(r"^\d", raw_code):
                continue  # a section title row such as "I" or "A. Phần tự chấm"
            problems.add("unknown_code", f"không có mã '{raw_code}' trong bộ tiêu chí '{bundle.criteria.id}' (no code '{raw_code}' in criteria set '{bundle.criteria.id}')",
                         file=name, line=line, subject=ccell.ref if ccell else None,
                         hint=did_you_mean(raw_code, known) or "use the codes of the self-scoring table (e.g. 3.4.1)")
            continue
        if round_col is not None and single and filled and value_cols[single[0]] is None:
            rc = cell(round_col)
            problems.add("bad_round", f"round '{_text(rc.value if rc else None)}' is not a round number",
                         file=name, line=line, subject=rc.ref if rc else None, hint="write 1, 2 or 'Lần 1'")
            continue
        for j, c in filled.items():
            rnd = value_cols[j]
            assert rnd is not None
            if c.formula:
                problems.add("formula_without_value", "ô chứa công thức chưa được lưu giá trị; mở bằng Excel và lưu lại (the cell holds a formula whose value was never saved)",
                             file=name, line=line, subject=c.ref,
                             hint="open the file in Excel and save it, or paste the values (Paste Special → Values)")
                continue
            try:
                pts = _points(c)
            except ValueError_ as exc:
                problems.add("bad_points", f"'{code}': {exc}", file=name, line=line, subject=c.ref, hint=exc.hint)
                continue
            if pts < 0:
                problems.add("bad_points", f"'{code}': điểm {pts} là số âm (points {pts} are negative)", file=name, line=line,
                             subject=c.ref, hint="write the points awarded (0 or more); penalties go on a 'penalty' row")
                continue
            if pts > caps[code]:
                problems.add("points_above_max", f"'{code}': {format_number(pts)} points is above the maximum "
                             f"{format_number(caps[code])}", file=name, line=line, subject=c.ref,
                             hint="check the figure against the council's table")
                continue
            if rnd in points.get(code, {}):
                problems.add("duplicate_code", f"'{code}' appears twice for round {rnd} (first on row {where[code]})",
                             file=name, line=line, subject=ccell.ref if ccell else None,
                             hint="keep one row per code (and round)")
                continue
            points.setdefault(code, {})[rnd] = pts
            where.setdefault(code, line)
        ncell = cell(note_col)
        if ncell is not None and _text(ncell.value):
            notes[code] = "; ".join(x for x in (notes.get(code), _text(ncell.value)) if x)
    problems.raise_if_any()
    if not points:
        raise InputError(Problem("no_points", "tệp thẩm định chưa có điểm nào (the appraisal file has no appraised points)", file=name,
                                 hint="fill the council's points next to each code"))
    rounds = tuple(sorted({r for d in points.values() for r in d}))
    return Appraisal(file=name, rounds=rounds, points=points, notes=notes, where=where)


# ------------------------------------------------------------------ comparing


@dataclass(frozen=True)
class Difference:
    code: str
    title: str
    max_points: Decimal
    self_points: Decimal
    rounds: dict[int, Decimal]  # what the council gave in each round that lists the code
    final_points: Decimal
    difference: Decimal  # final − self (negative: the council cut points)
    measured: str | None
    target: str | None
    evidence: tuple[str, ...]
    council_note: str | None
    likely_causes: tuple[Gap, ...]
    draft: str

    def to_json(self) -> dict[str, Any]:
        return {"code": self.code, "title": self.title, "max_points": _num(self.max_points),
                "self_points": _num(self.self_points),
                "appraised": {str(r): _num(p) for r, p in sorted(self.rounds.items())},
                "final_points": _num(self.final_points), "difference": _num(self.difference),
                "measured": self.measured, "target": self.target, "evidence": list(self.evidence),
                "council_note": self.council_note,
                "likely_causes": [{"kind": g.kind, "severity": g.severity, "message": g.message, "fix": g.fix}
                                  for g in self.likely_causes],
                "draft_explanation": self.draft}


@dataclass(frozen=True)
class Comparison:
    card: Scorecard
    appraisal: Appraisal
    differences: tuple[Difference, ...]
    round_totals: dict[int, Decimal]
    compared: tuple[str, ...]
    not_appraised: tuple[str, ...]
    notes: tuple[str, ...] = ()

    @property
    def final_total(self) -> Decimal:
        return self.round_totals[max(self.round_totals)]

    def to_json(self) -> dict[str, Any]:
        c = self.card
        return {
            "department": c.department, "year": c.year, "criteria_set": c.criteria_set,
            "evidence_file": c.evidence_file, "appraisal_file": self.appraisal.file,
            "constructed_example": c.constructed_example, "points_status": c.points_status,
            "illustrative_notice": ILLUSTRATIVE_NOTICE if c.points_status == "illustrative" else None,
            "rounds": list(self.appraisal.rounds),
            "totals": {"self": _num(c.total.points), "max_points": _num(c.total.max_points),
                       "appraised": {str(r): _num(t) for r, t in self.round_totals.items()},
                       "final": _num(self.final_total), "difference": _num(self.final_total - c.total.points)},
            "differences": [d.to_json() for d in self.differences],
            "compared_codes": len(self.compared), "not_appraised": list(self.not_appraised),
            "notes": list(self.notes),
        }


def _num(d: Decimal) -> int | float:
    return int(d) if d == d.to_integral_value() else float(d)


def _pts(d: Decimal) -> str:
    return format_number(Fraction(d))


def _signed(d: Decimal) -> str:
    return ("+" if d > 0 else "−" if d < 0 else "±") + _pts(abs(d))


def _units(codes: set[str]) -> list[str]:
    """Codes compared as such: those with no other listed code below them (others are subtotals)."""
    return [c for c in codes if not any(o != c and o.startswith(c + ".") for o in codes)]


def _draft(card: Scorecard, n: NodeResult, self_pts: Decimal, rounds: dict[int, Decimal], final: Decimal,
           note: str | None, children: list[NodeResult], justification: str | None) -> str:
    u = card.unit.noun  # "Sở", "Ban", "cơ quan": the draft speaks as the unit
    head = (f"Tiêu chí {n.code} \"{n.title}\" (tối đa {_pts(n.max_points)} điểm): {u} tự chấm {_pts(self_pts)} "
            f"điểm, Hội đồng thẩm định chấm {_pts(final)} điểm")
    if final == self_pts:
        earlier = ", ".join(f"lần {r}: {_pts(p)} điểm" for r, p in sorted(rounds.items()) if p != self_pts)
        return (head + f" ở lần thẩm định cuối ({earlier} trước đó). Điểm tự chấm đã được công nhận; "
                "không cần giải trình thêm.")
    if final > self_pts:
        return head + (f" (cao hơn {_pts(final - self_pts)} điểm). " if final > self_pts else ". ") + \
            f"{u} thống nhất với kết quả thẩm định; không đề nghị xem xét lại."
    parts = [head + f" (giảm {_pts(self_pts - final)} điểm)."]
    if note:
        parts.append(f"Lý do Hội đồng nêu: {note.rstrip('.')}.")
    if n.is_leaf:
        if n.outcome == "not_applicable":
            why = f": {justification.rstrip('.')}" if justification else ""
            parts.append(f"{u} xin giải trình: trong năm {card.year}, nội dung này không phát sinh{why}.")
        else:
            basis = f"{u} xin giải trình: kết quả thực hiện năm {card.year} là {n.measured_text}"
            if n.target:
                basis += f" (mục tiêu: {n.target})"
            if n.band:
                basis += f", thuộc mức \"{n.band}\" của cách chấm, tương ứng {_pts(self_pts)} điểm"
            parts.append(basis + ".")
        docs = [e.text for e in n.evidence if e.kind == "document"]
        if docs:
            parts.append("Tài liệu kiểm chứng kèm theo: " + "; ".join(docs) + ".")
        else:
            parts.append("Tài liệu kiểm chứng kèm theo: [bổ sung số hiệu, ngày, cơ quan ban hành của văn bản chứng minh].")
    else:
        parts.append(f"{u} xin giải trình: kết quả các tiêu chí thành phần: " + "; ".join(
            f"{c.code} {c.measured_text or ''} ({_pts(c.points)}/{_pts(c.max_points)} điểm)".replace("  ", " ")
            for c in children) + ".")
    if note:
        parts.append(f"[Nêu ý kiến của {u} về lý do Hội đồng nêu ở trên.]")
    parts.append(f"Đề nghị Hội đồng thẩm định xem xét, công nhận {_pts(self_pts)} điểm cho tiêu chí {n.code}.")
    return " ".join(parts)


def compare(bundle: Bundle, card: Scorecard, appraisal: Appraisal, gaps: tuple[Gap, ...] = (),
            ev: EvidenceFile | None = None) -> Comparison:
    """Differences between the engine's self-score and the council's points, largest cut first."""
    order = {n.code: i for i, n in enumerate(card.nodes)}
    codes = {c for c in appraisal.points if c not in ("bonus", "penalty")}
    units = sorted(_units(codes), key=lambda c: order[c])
    subtotals = sorted(codes - set(units), key=lambda c: order[c])
    covered = {leaf.code for leaf in card.leaves() for u in units if leaf.code == u or leaf.code.startswith(u + ".")}
    not_appraised = tuple(leaf.code for leaf in card.leaves() if leaf.code not in covered)
    notes: list[str] = []

    def value(code: str, rnd: int, default: Decimal) -> Decimal:
        """The council's points for ``code`` after round ``rnd`` (a blank cell keeps the previous value)."""
        given = appraisal.points.get(code, {})
        earlier = [r for r in given if r <= rnd]
        return given[max(earlier)] if earlier else default

    t = card.total
    round_totals: dict[int, Decimal] = {}
    for rnd in appraisal.rounds:
        total = sum((value(u, rnd, card.node(u).points) for u in units), Decimal(0))
        total += sum((card.node(c).points for c in not_appraised), Decimal(0))
        total += value("bonus", rnd, t.bonus) - value("penalty", rnd, t.penalty)
        round_totals[rnd] = total
        for s in subtotals:
            if rnd not in appraisal.points[s]:
                continue
            under = [u for u in units if u.startswith(s + ".")]
            summed = sum((value(u, rnd, card.node(u).points) for u in under), Decimal(0))
            if summed != appraisal.points[s][rnd]:
                notes.append(f"Lần {rnd}: dòng {s} ghi {_pts(appraisal.points[s][rnd])} điểm nhưng các dòng con "
                             f"cộng lại {_pts(summed)} điểm; so sánh theo các dòng con.")
    if not_appraised:
        notes.append(f"{len(not_appraised)} tiêu chí thành phần không có trong tệp thẩm định "
                     f"({', '.join(not_appraised)}): tính theo điểm tự chấm.")

    by_code: dict[str, list[Gap]] = {}
    for g in gaps:
        by_code.setdefault(g.code, []).append(g)
    diffs: list[Difference] = []
    last = max(appraisal.rounds)
    for code in units + [c for c in ("bonus", "penalty") if c in appraisal.points]:
        if code in ("bonus", "penalty"):
            self_pts = t.bonus if code == "bonus" else t.penalty
            n = None
        else:
            n = card.node(code)
            self_pts = n.points
        given = appraisal.points[code]
        final = value(code, last, self_pts)
        if final == self_pts and all(p == self_pts for p in given.values()):
            continue
        note = appraisal.notes.get(code)
        if n is None:
            label = "Điểm thưởng" if code == "bonus" else "Điểm phạt"
            draft = (f"{label}: {card.unit.noun} đề nghị {_pts(self_pts)} điểm, Hội đồng thẩm định {_pts(final)} điểm. "
                     + (f"Lý do Hội đồng nêu: {note}. " if note else "")
                     + ("[Nêu căn cứ đề nghị và văn bản công nhận kèm theo.]" if code == "bonus" and final < self_pts
                        else f"[Nêu ý kiến của {card.unit.noun}.]"))
            cap = bundle.criteria.adjustments.bonus if code == "bonus" else bundle.criteria.adjustments.penalty
            diffs.append(Difference(code, label, cap.max_points if cap else Decimal(0), self_pts, dict(given), final,
                                    final - self_pts, None, None, (), note,
                                    tuple(g for c, gs in by_code.items() if c.startswith(code + ":") for g in gs),
                                    draft))
            continue
        children = [c for c in card.leaves() if c.code.startswith(code + ".")]
        cut = any(p < self_pts for p in given.values())
        causes = tuple(g for c, gs in by_code.items() if c == code or c.startswith(code + ".") for g in gs) if cut else ()
        leaf_ev = ev.evidence.get(code) if ev is not None else None
        justification = leaf_ev.justification if leaf_ev is not None else None
        target = None if n.outcome == "not_applicable" else n.target
        diffs.append(Difference(code, n.title, n.max_points, self_pts, dict(given), final, final - self_pts,
                                n.measured_text, target, tuple(e.text for e in n.evidence), note, causes,
                                _draft(card, n, self_pts, dict(given), final, note, children, justification)))
    diffs.sort(key=lambda d: (d.difference, order.get(d.code, len(order))))
    return Comparison(card=card, appraisal=appraisal, differences=tuple(diffs), round_totals=round_totals,
                      compared=tuple(units), not_appraised=not_appraised, notes=tuple(notes))


# ------------------------------------------------------------------ rendering


def _header_lines(cmp: Comparison, md: bool) -> list[str]:
    c = cmp.card
    t = c.total
    title = f"SO SÁNH ĐIỂM TỰ CHẤM VÀ ĐIỂM THẨM ĐỊNH – {c.department}, năm {c.year}"
    lines = [f"# {title}" if md else title, ""]
    lines.append(f"Tệp tài liệu kiểm chứng: {c.evidence_file}; tệp thẩm định: {cmp.appraisal.file}")
    if c.constructed_example:
        lines.append("Số liệu: VÍ DỤ DỰNG SẴN, không phải số liệu thật của đơn vị.")
    if c.points_status == "illustrative":
        lines.append(f"Lưu ý: {ILLUSTRATIVE_NOTICE}")
    lines.append(f"Tổng điểm tự chấm: {_pts(t.points)}/{_pts(t.max_points)}")
    for rnd, total in cmp.round_totals.items():
        lines.append(f"Điểm thẩm định lần {rnd}: {_pts(total)}/{_pts(t.max_points)} ({_signed(total - t.points)})")
    cut = [d for d in cmp.differences if d.difference < 0]
    raised = [d for d in cmp.differences if d.difference > 0]
    lines.append(f"Chênh lệch cuối cùng: {_signed(cmp.final_total - t.points)} điểm; "
                 f"{len(cut)} mục bị giảm ({_pts(sum((-d.difference for d in cut), Decimal(0)))} điểm), "
                 f"{len(raised)} mục được tăng ({_pts(sum((d.difference for d in raised), Decimal(0)))} điểm).")
    lines.extend(f"Lưu ý: {n}" for n in cmp.notes)
    if md:
        lines = [lines[0], lines[1]] + [f"- {x}" for x in lines[2:]]
    return lines + [""]


def render_text(cmp: Comparison, markdown: bool = False) -> str:
    lines = _header_lines(cmp, markdown)
    if not cmp.differences:
        lines.append("Điểm thẩm định trùng với điểm tự chấm ở mọi mục.")
    b = "- " if markdown else "   "
    for i, d in enumerate(cmp.differences, 1):
        rounds = ", ".join(f"lần {r}: {_pts(p)}" for r, p in sorted(d.rounds.items()))
        head = (f"{i}. {d.code} {d.title}: tự chấm {_pts(d.self_points)}, thẩm định {rounds} → "
                f"chênh lệch {_signed(d.difference)} điểm")
        lines.append(f"## {head}" if markdown else head)
        if d.measured:
            lines.append(f"{b}Kết quả đo: {d.measured}" + (f" | Mục tiêu: {d.target}" if d.target else ""))
        if d.evidence:
            lines.append(f"{b}Số liệu, tài liệu kiểm chứng: " + "; ".join(d.evidence))
        if d.council_note:
            lines.append(f"{b}Ý kiến Hội đồng: {d.council_note}")
        for g in d.likely_causes:
            lines.append(f"{b}Có thể do ({g.code}, rà soát): {g.message} Khắc phục: {g.fix}")
        if markdown:
            lines.append("")
            lines.append("**Dự thảo giải trình** (Văn phòng chỉnh sửa trước khi gửi):")
            lines.append("")
            lines.append(f"> {d.draft}")
        else:
            lines.append(f"{b}Dự thảo giải trình (chỉnh sửa trước khi gửi):")
            lines.append(f"{b}  {d.draft}")
        lines.append("")
    return "\n".join(lines).rstrip() + "\n"
