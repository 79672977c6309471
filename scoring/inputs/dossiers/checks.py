"""Bad rows: each check is a SQL condition over the typed table ``t`` (reader.py), seen through ``chk``.

A check returns (record ordinal, value, extra) for every row that fails it; the ordinal becomes
the row a clerk sees in Excel (reader.RowNumbers), and the message, column and fix are written
here, in Vietnamese. ``run_checks`` collects the first 20 problems in row order, the count per
code, and the set of bad rows (the table ``bad``), which ``--skip-bad-rows`` leaves out.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any, Callable

from ...core.errors import Problem, did_you_mean
from .mapping import BAD, BLANK, CHANNEL_WORDS, COLUMNS, IMPOSSIBLE, NEGATIVE, OK, fmt_day, key, show
from .reader import Engine, Loaded, q

MAX_SHOWN = 20  # problems listed before stopping

_DATE_HINT = "viết ngày dạng dd/mm/yyyy (ví dụ 15/03/2025) hoặc yyyy-mm-dd"


@dataclass(frozen=True)
class Check:
    """One bad-row check: the SQL condition over ``t`` and how to word what it finds."""

    code: str
    column: str
    where: str  # SQL condition
    value: str  # SQL of the value shown (or NULL)
    message: Callable[[Any, Any], tuple[str, str]]  # (value, extra) → (message, hint)
    extra: str = "NULL"


def _day(iso: str) -> str:
    return fmt_day(dt.date.fromisoformat(iso))


def _title(name: str) -> str:
    return COLUMNS[name].title.split(" (")[0].lower()


def checks(present: tuple[str, ...]) -> list[Check]:
    """Every check that applies to the columns present, in the order problems of one row are listed."""
    out = [Check("missing_value", "dossier_id", "trim(dossier_id) = ''", "NULL",
                 lambda v, x: ("ô mã hồ sơ để trống (dossier id is blank)",
                               "mỗi hồ sơ phải có mã hồ sơ; bổ sung mã hoặc xóa dòng"))]
    for name in ("received_at", "due_at", "finished_at"):
        k, raw, title = q(name + "__k"), q(name + "__raw"), _title(name)
        if name != "finished_at":
            out.append(Check("missing_value", name, f"{k} = {BLANK}", "NULL",
                             lambda v, x, t=title: (f"ô {t} để trống (blank date)", f"điền {t} dạng dd/mm/yyyy")))
        out.append(Check("bad_date", name, f"{k} = {BAD}", raw,
                         lambda v, x: (f"'{show(v)}' không phải là ngày (not a date)", _DATE_HINT)))
        out.append(Check("impossible_date", name, f"{k} = {IMPOSSIBLE}", raw,
                         lambda v, x: (f"ngày '{show(v)}' không có thật (impossible date or time)",
                                       "kiểm tra lại ngày và tháng (dd/mm/yyyy): ví dụ tháng 2 không có ngày 30, 31")))
    out.append(Check("due_before_received", "due_at", "due_at < received_at", "due_at",
                     lambda v, x: (f"ngày hẹn trả {_day(v)} trước ngày tiếp nhận {_day(x)} (due before received)",
                                   "sửa ngày hẹn trả hoặc ngày tiếp nhận trên hệ thống một cửa rồi xuất lại"),
                     "received_at"))
    out.append(Check("finished_before_received", "finished_at", "finished_at < received_at", "finished_at",
                     lambda v, x: (f"ngày có kết quả {_day(v)} trước ngày tiếp nhận {_day(x)}",
                                   "sửa ngày có kết quả hoặc ngày tiếp nhận trên hệ thống một cửa rồi xuất lại"),
                     "received_at"))
    for name, spec in COLUMNS.items():
        if name not in present or spec.kind in ("id", "date"):
            continue
        k, raw = q(name + "__k"), q(name + "__raw")
        if spec.kind == "text":
            out.append(Check("missing_value", name, f"trim({q(name)}) = ''", "NULL",
                             lambda v, x, t=spec.title.lower(): (f"ô {t} để trống", f"điền {t} cho hồ sơ")))
        elif spec.kind == "bool":
            out.append(Check("bad_boolean", name, f"{k} = {BAD}", raw,
                             lambda v, x: (f"'{show(v)}' không phải có/không (not yes/no)",
                                           "viết có/không, x/để trống, 1/0 hoặc true/false "
                                           "(hoặc khai báo giá trị này trong mục values của tệp ánh xạ cột)")))
        elif spec.kind == "count":
            out.append(Check("negative_count", name, f"{k} = {NEGATIVE}", raw,
                             lambda v, x: (f"số '{show(v)}' âm (negative count)", "số lần, số ngày phải từ 0 trở lên")))
            out.append(Check("bad_count", name, f"{k} = {BAD}", raw,
                             lambda v, x: (f"'{show(v)}' không phải số nguyên (not a whole number)",
                                           "viết số nguyên, ví dụ 0, 1, 2")))
        else:
            out.append(Check("unknown_channel", name, f"{k} = {BAD}", raw,
                             lambda v, x: (f"hình thức nộp '{show(v)}' không rõ (unknown channel)",
                                           ((did_you_mean(key(v), CHANNEL_WORDS) or "") + " dùng online/direct/"
                                            "postal (trực tuyến/trực tiếp/bưu chính) hoặc khai báo trong mục "
                                            "values.channel của tệp ánh xạ cột").strip())))
    return out


@dataclass
class CheckResult:
    problems: list[Problem]  # the first MAX_SHOWN, in row order
    counts: dict[str, int]  # problems per code
    bad_rows: int
    rejected_rows: list[int]  # rows DuckDB could not split (not in ``t``)


def check_relation(engine: Engine, dups: bool = False) -> None:
    """The view ``chk``: ``t`` with each converted cell's kind (``name__k``) and, for a bad cell, its
    text (``name__raw``); ``dup_first``: the first row of a repeated dossier_id.

    A clean row's kinds follow from its typed values (NULL is blank); only the rows holding a
    leftover cell (``t._odd``) are joined with ``odd_kinds``, into the small table ``tk``.
    """
    conv = engine.convertible
    bad_cols = sorted({r[0] for r in engine.rows("SELECT DISTINCT i FROM odd_kinds")})
    cols = []
    if bad_cols:
        joins = " ".join(f"LEFT JOIN odd_kinds o{i} ON o{i}.i = {i} AND o{i}.raw = t._odd[{i}] AND t.{q(conv[i - 1])} IS NULL"
                         for i in bad_cols)
        picks = ", ".join(f"o{i}.kind AS k{i}, o{i}.raw AS r{i}" for i in bad_cols)
        engine.execute(f"CREATE OR REPLACE TEMP TABLE tk AS SELECT t.rowid AS k, {picks} FROM t {joins} "
                       "WHERE t._odd IS NOT NULL")
    for i, name in enumerate(conv, 1):
        default = f"CASE WHEN t.{q(name)} IS NULL THEN {BLANK} ELSE {OK} END"
        if i in bad_cols:
            cols.append(f"CAST(coalesce(tk.k{i}, {default}) AS UTINYINT) AS {q(name + '__k')}")
            cols.append(f"CASE WHEN tk.k{i} NOT IN ({OK}, {BLANK}) THEN tk.r{i} END AS {q(name + '__raw')}")
        else:
            cols.append(f"CAST({default} AS UTINYINT) AS {q(name + '__k')}")
            cols.append(f"CAST(NULL AS VARCHAR) AS {q(name + '__raw')}")
    cols.append("dup.first AS dup_first" if dups else "CAST(NULL AS BIGINT) AS dup_first")
    join = (" LEFT JOIN tk ON tk.k = t.rowid" if bad_cols else "") + (" LEFT JOIN dup USING (dossier_id)" if dups else "")
    engine.execute(f"CREATE OR REPLACE TEMP VIEW chk AS SELECT t.rowid AS k, t.*, {', '.join(cols)} FROM t{join}")


def run_checks(engine: Engine, loaded: Loaded) -> CheckResult:
    """Run every check; leave the ordinals of the bad rows in the table ``bad``.

    One scan counts every check (and the bad rows); only when some row is bad are the problems
    themselves listed (the first MAX_SHOWN, in row order) and the bad rows kept.
    """
    present = loaded.present
    file = loaded.file

    def subject(name: str) -> str:
        header = loaded.headers.get(name, name)
        return header if header == name else f"{header} ({name})"

    found = checks(present)
    # duplicates: the ids seen more than once, then every later row holding one (o = 0: listed first in its row)
    # (grouped by a 64-bit hash first: a third of the memory of grouping the ids; the ids of the hashes
    # seen twice are then grouped exactly, so a collision never makes a duplicate)
    # (first the number of repeated hashes alone: a distinct count costs less than the grouping, and is 0 in a clean file)
    # (and the rows the conversion marked suspect, convert.suspect_sql: only they can fail a check, duplicates
    # aside, so a clean file is settled by two counts, without a scan of every check)
    suspects = engine.rows("SELECT count(*) FROM t WHERE _suspect AND NOT _empty")[0][0]
    repeated = engine.rows("SELECT count(*) - count(DISTINCT hash(dossier_id)) FROM t WHERE NOT _empty AND dossier_id <> ''")[0][0]
    engine.execute("CREATE OR REPLACE TEMP TABLE dup (dossier_id VARCHAR, first BIGINT)" if not repeated else
                   "CREATE OR REPLACE TEMP TABLE dup AS WITH h AS (SELECT hash(dossier_id) AS h FROM t "
                   "WHERE NOT _empty AND dossier_id <> '' GROUP BY 1 HAVING count(*) > 1) "
                   "SELECT dossier_id, min(rowid) AS first FROM t WHERE NOT _empty AND dossier_id <> '' "
                   "AND hash(dossier_id) IN (SELECT h FROM h) GROUP BY dossier_id HAVING count(*) > 1")
    dups = engine.rows("SELECT count(*) FROM dup")[0][0] > 0
    conds = ["dup_first IS NOT NULL AND k > dup_first"] + [f"({c.where})" for c in found]
    if suspects or dups:
        check_relation(engine, dups)
        rows = "NOT _empty AND (_suspect" + (" OR dup_first IS NOT NULL)" if dups else ")")
        row = engine.rows(f"SELECT {', '.join(f'count(*) FILTER (WHERE {c})' for c in conds)}, "
                          f"count(*) FILTER (WHERE {' OR '.join(conds)}) FROM chk WHERE {rows}")[0]
        per_check, bad_rows = [int(n) for n in row[:-1]], int(row[-1])
    else:
        per_check, bad_rows = [0] * len(conds), 0
    counts: dict[str, int] = {}
    for o, n in enumerate(per_check):
        if n:
            code = "duplicate_id" if o == 0 else found[o - 1].code
            counts[code] = counts.get(code, 0) + n
    examples: list[tuple[int, int, Problem]] = []
    if bad_rows:
        parts = [f"SELECT k, {o} AS o, CAST({'dossier_id' if o == 0 else found[o - 1].value} AS VARCHAR) AS v, "
                 f"CAST({'dup_first' if o == 0 else found[o - 1].extra} AS VARCHAR) AS x FROM chk "
                 f"WHERE {rows} AND {conds[o]}" for o, n in enumerate(per_check) if n]
        union = " UNION ALL ".join(f"({p})" for p in parts)
        engine.execute(f"CREATE OR REPLACE TEMP TABLE bad AS SELECT k FROM chk WHERE {rows} AND ({' OR '.join(conds)})")
        shown = engine.rows(f"SELECT k, o, v, x FROM ({union}) ORDER BY k, o LIMIT {MAX_SHOWN}")
    else:
        engine.execute("CREATE OR REPLACE TEMP TABLE bad (k BIGINT)")
        shown = []
    for k, o, v, x in shown:
        row = loaded.rows.one(k)
        if o == 0:
            message = f"mã hồ sơ '{v}' trùng với dòng {loaded.rows.one(int(x))} (duplicate dossier_id)"
            hint = "mỗi hồ sơ chỉ xuất một dòng; xóa dòng trùng hoặc sửa mã hồ sơ"
            examples.append((row, o, Problem("duplicate_id", message, file=file, line=row, subject=subject("dossier_id"),
                                             hint=hint)))
            continue
        check = found[o - 1]
        message, hint = check.message(v, x)
        examples.append((row, o, Problem(check.code, message, file=file, line=row, subject=subject(check.column),
                                         hint=hint)))
    for row, kind, text in loaded.rejected:
        code, message = _rejected(kind, text, loaded.width)
        counts[code] = counts.get(code, 0) + 1
        examples.append((row, -1, Problem(code, message, file=file, line=row,
                                          hint="ô có dấu phân cách (dấu phẩy, chấm phẩy) phải để trong ngoặc kép; "
                                               "xuất lại tệp từ hệ thống hoặc sửa dòng này")))
    examples.sort(key=lambda e: (e[0], e[1]))
    bad_rows += len(loaded.rejected)
    return CheckResult([e[2] for e in examples[:MAX_SHOWN]], counts, bad_rows, [r for r, _, _ in loaded.rejected])


def _rejected(kind: str, text: str, width: int) -> tuple[str, str]:
    text = " ".join(text.split("\n")).replace("\r", "")
    if kind == "TOO MANY COLUMNS":
        return "bad_csv", f"dòng có nhiều ô hơn {width} cột của dòng tiêu đề (more cells than the header): «{show(text)}»"
    if kind == "MISSING COLUMNS":
        return "bad_csv", (f"dòng có ít ô hơn {width} cột của dòng tiêu đề (fewer cells than the header; tệp bị cắt "
                           f"hoặc thiếu dấu phân cách): «{show(text)}»")
    if kind == "UNQUOTED VALUE" or "QUOTE" in kind:
        return "bad_csv", f"có dấu ngoặc kép mở mà không đóng (unclosed quote): «{show(text)}»"
    return "bad_csv", f"dòng không đọc được ({kind.lower()}): «{show(text)}»"
