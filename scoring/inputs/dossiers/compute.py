"""The dossier table, the procedure catalogue, and the indicators computed from them.

``read_dossiers`` loads and checks an export (reader.py, checks.py); ``compute`` runs the
compiled definitions (definitions.yaml) over it for a period: one aggregate query for the
department, one per group for ``--by``, and, only when asked, one for the dossiers behind a
loss. Counts are exact integers; rates are ``Fraction``s.
"""

from __future__ import annotations

import datetime as dt
import itertools
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import Any, Callable

from ...core.errors import InputError, Problem, ProblemList
from ...core.yamlio import check_input_file
from .checks import run_checks
from .definitions import definitions, deadline_sql, flags_sql, indicator_sql, predicate_sql
from .mapping import (COLUMNS, OK, PROCEDURE_COLUMNS, Deadlines, Mapping, Period, fmt_day, fmt_int, scalar_bool,
                      scalar_text, show)
from .reader import XLSX, Engine, Loaded, csv_head, encoding_problem, load, lit, q, read_sheet

_views = itertools.count(1)


def fmt_rate(rate: Fraction | None) -> str:
    if rate is None:
        return "không phát sinh"
    pct = rate * 100
    if pct.denominator == 1:
        return f"{pct.numerator}%"
    return f"{float(pct):.2f}".rstrip("0").rstrip(".").replace(".", ",") + "%"


# ------------------------------------------------------------------ the dossier table


class BadRowsError(InputError):
    """Bad rows stop the run: the first few problems plus a summary; ``total`` counts them all."""

    def __init__(self, problems: list[Problem], total: int):
        super().__init__(problems)
        self.total = total


@dataclass
class DossierTable:
    """A validated dossier table in DuckDB (the view ``d``: the rows that count, in file order)."""

    engine: Engine
    loaded: Loaded
    file: str
    columns: tuple[str, ...]  # canonical columns present
    headers: dict[str, str]  # canonical → header in the file
    rows_read: int
    deadlines: Deadlines = field(default_factory=Deadlines)
    problems: list[Problem] = field(default_factory=list)  # first MAX_SHOWN, in row order
    problem_counts: dict[str, int] = field(default_factory=dict)
    skipped_rows: list[int] = field(default_factory=list)  # row numbers left out (--skip-bad-rows)

    @property
    def problem_total(self) -> int:
        return sum(self.problem_counts.values())

    def __len__(self) -> int:
        return int(self.engine.rows("SELECT count(*) FROM d")[0][0])

    def rows_of(self, ks: Any) -> Any:
        return self.loaded.rows.of(ks)

    def id_list(self) -> list[str]:
        """Dossier ids as text, in file order."""
        return [r[0] for r in self.engine.rows("SELECT dossier_id FROM d ORDER BY _k")]

    @property
    def frame(self) -> Any:
        """The typed rows as a pandas DataFrame (``row`` first): for tests and exploration, not for the indicators."""
        cols = ", ".join(q(c) for c in COLUMNS if c in self.columns)
        frame = self.engine.execute(f"SELECT _k, {cols} FROM d ORDER BY _k").df()
        frame.insert(0, "row", self.rows_of(frame.pop("_k").to_numpy()))
        return frame

    def close(self) -> None:
        self.engine.close()


def read_dossiers(path: str | Path, mapping: Mapping | None = None, skip_bad_rows: bool = False,
                  progress: Callable[[float], None] | None = None) -> DossierTable:
    """Read, map, convert and validate a dossier export (CSV, Parquet or XLSX).

    Bad rows raise ``BadRowsError`` (exit 2) listing the first 20 problems and a count, unless
    ``skip_bad_rows``: then they are left out and named in ``skipped_rows``. ``progress`` is
    called with a percentage now and then while a large file is read (never printed here).
    """
    path = Path(path)
    check_input_file(path, "dossier file")
    mapping = mapping or Mapping()
    engine = Engine()
    try:
        loaded = load(engine, path, mapping.dossiers, progress)
        found = run_checks(engine, loaded)
        anti = " AND t.rowid NOT IN (SELECT k FROM bad)" if found.bad_rows > len(loaded.rejected) else ""
        texts = [c for c in loaded.present if COLUMNS[c].kind == "text"]  # ENUMs in t (reader.fix_leftovers)
        plain = "".join(f", CAST(t.{q(c)} AS VARCHAR) AS {q(c)}" for c in texts)
        engine.execute(f"CREATE OR REPLACE TEMP VIEW d AS SELECT t.rowid AS _k, t.* EXCLUDE (_odd, _suspect{''.join(', ' + q(c) for c in texts)})"
                       f"{plain} FROM t WHERE NOT t._empty{anti}")
        rows_read = int(engine.rows("SELECT count(*) FROM t WHERE NOT _empty")[0][0]) + len(loaded.rejected)
        table = DossierTable(engine, loaded, loaded.file, loaded.present, loaded.headers, rows_read, mapping.deadlines,
                             found.problems, found.counts)
        if found.bad_rows:
            if not skip_bad_rows:
                kinds = ", ".join(f"{v} {k}" for k, v in sorted(found.counts.items(), key=lambda kv: -kv[1]))
                summary = Problem("bad_rows", f"{fmt_int(found.bad_rows)} dòng lỗi, tổng cộng "
                                              f"{fmt_int(table.problem_total)} lỗi ({kinds}); trên đây là "
                                              f"{len(found.problems)} lỗi đầu tiên", file=loaded.file,
                                  hint="sửa dữ liệu trên hệ thống một cửa rồi xuất lại, hoặc chạy lại với --skip-bad-rows "
                                       "để bỏ qua các dòng lỗi (parindex sẽ kê các dòng đã bỏ)")
                raise BadRowsError(found.problems + [summary], table.problem_total)
            ks = [r[0] for r in engine.rows("SELECT k FROM bad ORDER BY k")]
            rows = [int(r) for r in loaded.rows.of(ks)] + found.rejected_rows
            table.skipped_rows = sorted(rows)
        return table
    except BaseException:
        engine.close()
        raise


# ------------------------------------------------------------------ procedure catalogue


@dataclass
class Catalogue:
    """The procedure catalogue: which procedures are eligible for and offered as full online services."""

    file: str
    codes: list[str]
    names: dict[str, str]
    eligible: dict[str, bool]
    offered: dict[str, bool]

    def register(self, engine: Engine, name: str = "procedures") -> None:
        import pandas as pd

        frame = pd.DataFrame({"procedure_code": pd.Series(self.codes, dtype=object),
                              "name": pd.Series([self.names.get(c, "") for c in self.codes], dtype=object),
                              "full_online_eligible": pd.Series([self.eligible[c] for c in self.codes], dtype=bool),
                              "full_online_offered": pd.Series([self.offered[c] for c in self.codes], dtype=bool)})
        engine.con.register(f"{name}_frame", frame)
        engine.execute(f"CREATE OR REPLACE TEMP TABLE {name} AS SELECT * FROM {name}_frame")
        engine.con.unregister(f"{name}_frame")


def read_procedures(path: str | Path, mapping: Mapping | None = None) -> Catalogue:
    """Read the procedure catalogue (CSV or XLSX); every problem stops the run (it is a small file)."""
    import csv

    path = Path(path)
    check_input_file(path, "procedure catalogue")
    tm = (mapping or Mapping()).procedures
    if path.suffix.lower() in XLSX:
        data, rows, used, _, file = read_sheet(path, tm, PROCEDURE_COLUMNS, "danh mục TTHC")
        cols = data
    else:
        file = str(path)
        head = csv_head(path, tm, PROCEDURE_COLUMNS, "danh mục TTHC")
        used = head.used
        try:
            with open(path, "rb") as handle:
                handle.seek(head.offset)
                text = handle.read().decode("utf-8")
        except UnicodeDecodeError:
            raise InputError(encoding_problem(path)) from None
        records = list(csv.reader(text.splitlines(), delimiter=head.delimiter))
        rows = [head.first_row + i for i in range(len(records))]
        cols = {c: [(r[p] if p < len(r) else "") for r in records] for c, p in head.positions.items()}
    problems = ProblemList()
    codes: list[str] = []
    names: dict[str, str] = {}
    eligible: dict[str, bool] = {}
    offered: dict[str, bool] = {}
    seen: dict[str, int] = {}
    subject = {c: (used[c] if used.get(c, c) == c else f"{used[c]} ({c})") for c in used}
    for i, row in enumerate(rows):
        cells = {c: cols[c][i] for c in cols}
        if all(scalar_text(v) == "" for v in cells.values()):
            continue
        code = scalar_text(cells["procedure_code"])
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
            kind, value = scalar_bool(cells[c], tm.values.get(c, {}))
            if kind != OK:
                problems.add("bad_boolean", f"'{show(cells[c])}' không phải có/không (not yes/no)", **where,
                             subject=subject[c], hint="viết có/không, x/để trống, 1/0 hoặc true/false")
            flags[c] = value
        codes.append(code)
        names[code] = scalar_text(cells["name"]) if "name" in cells else ""
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
                "rate": None if rate is None else float(rate), "rate_text": fmt_rate(rate)}


@dataclass
class Result:
    """Indicators for one period; the dossiers behind a loss are queried when asked for."""

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
    view: str = "f"  # the relation with the flags, in the table's engine
    engine: str = "duckdb"  # which engine computed the indicators ("spark": spark.py)
    master: str | None = None  # the Spark master, for engine "spark"

    def _rows(self) -> DossierTable:
        """The dossier table with its rows: a table read in one pass (stream.py) is read again, fully."""
        table = self.table
        if getattr(table, "one_pass", False):
            full = table.full()  # type: ignore[attr-defined]
            self.view = compute(full, self.period, self.catalogue).view
            self.table = full
        return self.table

    def _loss_where(self, name: str) -> str:
        spec = definitions().indicators[name]
        s, e = self.period.start, self.period.end
        return (f"({predicate_sql(definitions(), spec.denominator, s, e)}) AND NOT "
                f"({predicate_sql(definitions(), spec.numerator, s, e)})")

    def loss_ids(self, name: str) -> tuple[str, ...]:
        """Ids behind a loss: dossiers (or procedure codes) in the denominator but not the numerator."""
        if name == "full_online_services":
            cat = self.catalogue
            return tuple(c for c in cat.codes if cat.eligible[c] and not cat.offered[c]) if cat else ()
        if name not in self.indicators:
            return ()
        return tuple(r[0] for r in self._rows().engine.rows(
            f"SELECT dossier_id FROM {self.view} WHERE {self._loss_where(name)} ORDER BY _k"))

    def loss_rows(self, name: str) -> list[dict[str, Any]]:
        """Records of the dossiers behind a loss, with the reason a dossier was late."""
        if name == "full_online_services":
            cat = self.catalogue
            return [{"procedure_code": c, "name": cat.names.get(c, "")} for c in self.loss_ids(name)] if cat else []
        if name not in self.indicators:
            return []
        self._rows()
        defs = definitions()
        s, e = self.period.start, self.period.end
        reason = "CASE " + " ".join(f"WHEN {predicate_sql(defs, w, s, e)} THEN {lit(r)}" for w, r in defs.late_reasons) \
                 + " ELSE '' END"
        cols = set(self.table.columns)
        unit = '"unit"' if "unit" in cols else "NULL"
        proc = '"procedure_code"' if "procedure_code" in cols else "NULL"
        found = self.table.engine.rows(
            f"SELECT _k, dossier_id, {unit}, {proc}, received_at, deadline, finished_at, {reason} FROM {self.view} "
            f"WHERE {self._loss_where(name)} ORDER BY _k")
        rows = self.table.rows_of([r[0] for r in found]) if found else []
        out = []
        for (_, ident, u, p, rec, deadline, fin, why), row in zip(found, rows):
            item = {"row": int(row), "dossier_id": ident, "unit": u, "procedure_code": p,
                    "received_at": fmt_day(rec), "deadline": fmt_day(deadline),
                    "finished_at": None if fin is None else fmt_day(fin)}
            if name in ("on_time", "apology"):
                item["reason"] = why
            out.append(item)
        return out


def _deadline_relation(table: DossierTable) -> str:
    """``d`` with the effective deadline: calendar days by SQL, working days through a calendar table."""
    dl = table.deadlines
    if dl.paused_days != "working" or dl.due_includes_pauses:
        return f"(SELECT *, {deadline_sql('duckdb', 'calendar', dl.due_includes_pauses)} AS deadline FROM d)"
    engine = table.engine
    low, high, most = engine.rows("SELECT min(due_at), max(due_at), max(paused_days) FROM d")[0]
    if low is None:
        return "(SELECT *, due_at AS deadline FROM d)"
    from .workdays import working_days

    days = working_days(low, high + dt.timedelta(days=2 * int(most or 0) + 60), dl.days_off)
    import pandas as pd

    engine.con.register("workdays_frame", pd.DataFrame({"d": pd.to_datetime(days), "i": range(1, len(days) + 1)}))
    engine.execute("CREATE OR REPLACE TEMP TABLE workdays AS SELECT CAST(d AS DATE) AS d, CAST(i AS INTEGER) AS i "
                   "FROM workdays_frame")
    engine.con.unregister("workdays_frame")
    # every calendar day → the number of working days up to and including it
    engine.execute("CREATE OR REPLACE TEMP TABLE workday_index AS SELECT c.d, coalesce(max(w.i), 0) AS i FROM "
                   f"(SELECT CAST(unnest(generate_series(DATE '{low}', DATE '{days[-1]}', INTERVAL 1 DAY)) AS DATE) AS d) c "
                   "LEFT JOIN workdays w ON w.d <= c.d GROUP BY c.d")
    return ("(SELECT d.*, CASE WHEN d.paused_days = 0 THEN d.due_at ELSE w.d END AS deadline FROM d "
            "LEFT JOIN workday_index c ON c.d = d.due_at LEFT JOIN workdays w ON w.i = c.i + d.paused_days)")


def compute(table: DossierTable, period: Period, catalogue: Catalogue | None = None, by: str | None = None) -> Result:
    """All indicators for the period, exactly; with ``by`` ('unit' or 'procedure') also per group."""
    defs = definitions()
    engine = table.engine
    present = set(table.columns)
    view = f"f{next(_views)}"
    engine.execute(f"CREATE OR REPLACE TEMP VIEW {view} AS SELECT * FROM "
                   f"{flags_sql(defs, period.start, period.end, _deadline_relation(table))}")
    exprs = indicator_sql(defs, period.start, period.end, present)
    values = dict(zip(exprs, engine.rows(f"SELECT count(*), {', '.join(exprs.values())} FROM {view}")[0][1:]))
    used = len(table)
    counts = {"used": used, **{name: int(values[f"count:{name}"]) for name in defs.counts}}

    def over_catalogue(spec: Any) -> tuple[Any, Any]:
        assert catalogue is not None
        catalogue.register(engine)
        num, den = (predicate_sql(defs, spec.numerator, period.start, period.end, table=spec.table),
                    predicate_sql(defs, spec.denominator, period.start, period.end, table=spec.table))
        return engine.rows(f"SELECT count(CASE WHEN {num} THEN 1 END), count(CASE WHEN {den} THEN 1 END) "
                           "FROM procedures")[0]

    indicators, unavailable = assemble(values, present, catalogue is not None, over_catalogue)
    result = Result(table=table, period=period, indicators=indicators, unavailable=unavailable, counts=counts,
                    catalogue=catalogue, view=view)
    add_notes(result, values, engine.rows, view, q)
    if by:
        _groups(result, by, exprs, catalogue)
    return result


def add_notes(result: Result, values: dict[str, Any], rows: Callable[[str], Any], relation: str,
              quote: Callable[[str], str]) -> None:
    """The notes of the definitions that counted something, and the procedure codes missing from the
    catalogue; the same for every engine (``rows`` runs a query over ``relation``, the flagged dossiers)."""
    for name, (_, text) in definitions().notes.items():
        n = int(values.get(f"note:{name}", 0) or 0)
        if n:
            result.notes.append(text.replace("{n}", fmt_int(n)))
    catalogue = result.catalogue
    if catalogue is not None and "procedure_code" in result.table.columns:
        seen = {r[0] for r in rows(f"SELECT DISTINCT {quote('procedure_code')} FROM {relation} "
                                   f"WHERE {quote('counted')}")}
        unknown = sorted(str(c) for c in seen - set(catalogue.codes))
        if unknown:
            shown = ", ".join(unknown[:10]) + (f" … và {len(unknown) - 10} mã khác" if len(unknown) > 10 else "")
            result.notes.append(f"{len(unknown)} mã thủ tục có hồ sơ nhưng không có trong danh mục TTHC: {shown}.")


def assemble(values: dict[str, Any], present: set[str], has_catalogue: bool,
             over_catalogue: Callable[[Any], tuple[Any, Any]]) -> tuple[dict[str, Indicator], dict[str, str]]:
    """Every indicator from the counts of ``indicator_sql`` (``values``), the catalogue's by
    ``over_catalogue(spec)``, or why it is not available; the same for every engine."""
    indicators: dict[str, Indicator] = {}
    unavailable: dict[str, str] = {}
    for name, spec in definitions().indicators.items():
        if spec.table == "procedures":
            if not has_catalogue:
                unavailable[name] = "cần danh mục TTHC (--procedures)"
                continue
            n, d = over_catalogue(spec)
            indicators[name] = Indicator(int(n), int(d))
        elif f"num:{name}" in values:
            indicators[name] = Indicator(int(values[f"num:{name}"]), int(values[f"den:{name}"]))
        else:
            missing = [c for c in spec.needs if c not in present]
            unavailable[name] = "thiếu cột " + ", ".join(f"'{c}' ({COLUMNS[c].title})" for c in missing)
    return indicators, unavailable


def _groups(result: Result, by: str, exprs: dict[str, str], catalogue: Catalogue | None) -> None:
    group_indicators(result, by, exprs, catalogue, result.table.engine.rows, result.view, q)


def group_indicators(result: Result, by: str, exprs: dict[str, str], catalogue: Catalogue | None,
                     rows: Callable[[str], Any], relation: str, quote: Callable[[str], str]) -> None:
    """The indicators per unit or per procedure, by whichever engine runs ``rows`` (DuckDB here, Spark in
    spark.py) over ``relation`` (the flags over the dossiers) and the table ``procedures``."""
    defs = definitions()
    column = "unit" if by == "unit" else "procedure_code"
    table = result.table
    if column not in table.columns:
        raise InputError(Problem("missing_column", f"--by {by} cần cột '{column}' ({COLUMNS[column].title}) "
                                                   "(missing column)", file=table.file, subject=column,
                                 hint="thêm cột này vào tệp xuất hoặc chỉ cột tương ứng trong tệp ánh xạ cột"))
    names = [n for n in result.indicators if f"num:{n}" in exprs]
    select = ", ".join(f"{exprs[f'num:{n}']}, {exprs[f'den:{n}']}" for n in names)
    groups: dict[str, dict[str, Indicator]] = {}
    for row in rows(f"SELECT {quote(column)}, {select} FROM {relation} GROUP BY {quote(column)} "
                    f"HAVING count(CASE WHEN {quote('counted')} THEN 1 END) > 0"):
        groups[str(row[0])] = {n: Indicator(int(row[1 + 2 * i]), int(row[2 + 2 * i])) for i, n in enumerate(names)}
    if catalogue is not None:
        spec = defs.indicators["full_online_services"]
        s, e = result.period.start, result.period.end
        num = predicate_sql(defs, spec.numerator, s, e, column=lambda c: f"p.{quote(c)}", table=spec.table)
        den = predicate_sql(defs, spec.denominator, s, e, column=lambda c: f"p.{quote(c)}", table=spec.table)
        agg = f"count(CASE WHEN {num} THEN 1 END), count(CASE WHEN {den} THEN 1 END)"
        unit, code, counted = quote("unit"), quote("procedure_code"), quote("counted")
        if by == "procedure":
            for c in catalogue.codes:
                groups.setdefault(c, {n: Indicator(0, 0) for n in names})
            found = {r[0]: (int(r[1]), int(r[2])) for r in rows(
                f"SELECT p.{code}, {agg} FROM procedures p GROUP BY p.{code}")}
            for c, inds in groups.items():
                inds["full_online_services"] = Indicator(*found.get(c, (0, 0)))
            result.group_names = {c: catalogue.names.get(c, "") for c in groups if catalogue.names.get(c)}
        elif "procedure_code" in table.columns:
            found = {r[0]: (int(r[1]), int(r[2])) for r in rows(
                f"SELECT u.{unit}, {agg} FROM (SELECT DISTINCT {unit}, {code} FROM {relation} WHERE {counted}) u "
                f"JOIN procedures p ON p.{code} = u.{code} GROUP BY u.{unit}")}
            for key, inds in groups.items():
                inds["full_online_services"] = Indicator(*found.get(key, (0, 0)))
    result.by = by
    result.groups = dict(sorted(groups.items()))


def default_period(table: DossierTable) -> Period:
    """The calendar year of the latest reception date in the file (today's year if there is none)."""
    latest = table.engine.rows("SELECT max(received_at) FROM d")[0][0]
    return Period.year(latest.year if latest is not None else dt.date.today().year, default=True)
