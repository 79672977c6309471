"""Cell conversions in SQL for the dossier table (reader.convert): every common spelling converts
in SQL, and only the distinct leftovers go to mapping.py's reference parsers (``fix_leftovers``).

Tiers: yes/no and channels by the exact spellings a sample of the file uses most (mapped by
mapping.py itself), then the key form through one MAP lookup; dates by shape with try_strptime,
then mapping.py's own patterns as SQL regular expressions, then Excel serials; counts by one digit,
then a regular expression. See docs/dossiers.md, "How it is fast".
"""

from __future__ import annotations

import itertools
from typing import Any, Callable

from .mapping import (BLANK, CHANNEL_WORDS, COLUMNS, FALSE_WORDS, OK, TRUE_WORDS, from_day, nfc, scalar_bool,
                      scalar_channel, scalar_count, scalar_day)

Engine = Any  # reader.Engine (this module is imported by reader)


def lit(text: str) -> str:
    """A SQL string literal."""
    return "'" + str(text).replace("'", "''") + "'"


def q(name: str) -> str:
    """A quoted SQL identifier."""
    return '"' + name.replace('"', '""') + '"'


# Tier 1: the shapes exports write (zero-padded, one format each), by a LIKE guard and try_strptime.
_DATE_SHAPES = (
    ("____-__-__ __:__:__", "%Y-%m-%d %H:%M:%S"), ("__/__/____ __:__", "%d/%m/%Y %H:%M"),
    ("__/__/____", "%d/%m/%Y"), ("____-__-__", "%Y-%m-%d"), ("__/__/____ __:__:__", "%d/%m/%Y %H:%M:%S"),
    ("____-__-__ __:__", "%Y-%m-%d %H:%M"), ("____-__-__T__:__:__", "%Y-%m-%dT%H:%M:%S"),
    ("____-__-__T__:__", "%Y-%m-%dT%H:%M"),
)
# Tier 2: mapping.py's own patterns (same groups), for the cells tier 1 leaves.
_DMY_RE = r"(\d{1,2})[/.-](\d{1,2})[/.-](\d{4})(?:[ T]+(\d{1,2}):(\d{2})(?::(\d{2})(?:\.\d+)?)?)?"
_YMD_RE = r"(\d{4})-(\d{1,2})-(\d{1,2})(?:[ T](\d{1,2}):(\d{2})(?::(\d{2})(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?)?"
_SERIAL_RE = r"\d{1,7}(?:[.,]\d+)?"
_SPACES = " \t\r\n\u00a0"


def _lookup(words: dict[str, str], x: str) -> str:
    """The value of the key form of ``x`` among ``words`` (key form → SQL value), NULL if none: one
    MAP lookup (a simple CASE over the words would evaluate lower(trim(x)) once per word)."""
    if not words:
        return "NULL"
    return "MAP {" + ", ".join(f"{lit(w)}: {v}" for w, v in words.items()) + f"}}[lower(trim({x}, {lit(_SPACES)}))]"


def _bool_words(vm: dict[str, str]) -> dict[str, str]:
    out = {}
    for w in set(TRUE_WORDS) | set(FALSE_WORDS) | set(vm):
        target = vm.get(w, w)
        if target in TRUE_WORDS:
            out[w] = "true"
        elif target in FALSE_WORDS:
            out[w] = "false"
    return out


def _channel_words(vm: dict[str, str]) -> dict[str, str]:
    out = {}
    for w in set(CHANNEL_WORDS) | set(vm):
        found = CHANNEL_WORDS.get(vm.get(w, w))
        if found:
            out[w] = lit(found)
    return out


def _date_sql(x: str) -> str:
    tier1 = " ".join(f"WHEN {x} LIKE {lit(shape)} THEN try_strptime({x}, {lit(fmt)})" for shape, fmt in _DATE_SHAPES)
    y = f"trim({x}, {lit(_SPACES)})"

    # tier 2 in plain expressions (no subquery): the groups by position
    def tier2(regex: str, yi: int, mi: int, di: int) -> str:
        r = lit("^" + regex + "$")
        grp = lambda i: f"regexp_extract({y}, {r}, {i})"  # noqa: E731
        ok_time = (f"({grp(4)} = '' OR (CAST({grp(4)} AS INTEGER) <= 23 AND CAST({grp(5)} AS INTEGER) <= 59 AND "
                   f"coalesce(CAST(nullif({grp(6)}, '') AS INTEGER), 0) <= 59))")
        return (f"WHEN regexp_full_match({y}, {lit(regex)}) THEN CASE WHEN {ok_time} THEN "
                f"TRY_CAST({grp(yi)} || '-' || {grp(mi)} || '-' || {grp(di)} AS DATE) END")

    serial = (f"WHEN regexp_full_match({y}, {lit(_SERIAL_RE)}) THEN CASE WHEN TRY_CAST(replace({y}, ',', '.') AS DOUBLE) "
              f"BETWEEN 61 AND 2958465.999999 THEN DATE '1899-12-30' + CAST(floor(CAST(replace({y}, ',', '.') AS DOUBLE)) "
              f"AS INTEGER) END")
    return (f"CASE WHEN {x} IS NULL THEN NULL ELSE coalesce(CAST(CASE {tier1} END AS DATE), "
            f"CASE {serial} {tier2(_DMY_RE, 3, 2, 1)} {tier2(_YMD_RE, 1, 2, 3)} END) END")


def _exact(spellings: Any, parse: Callable[[str], tuple[int, Any]], sql: Callable[[Any], str]) -> str:
    """WHEN clauses for the exact spellings a sample of the file uses most (mapped by mapping.py itself)."""
    out = []
    for text in spellings:
        kind, value = parse(text)
        if kind == OK and value is not None and len(out) < 8:
            out.append(f"WHEN {_x_placeholder} = {lit(text)} THEN {sql(value)}")
    return " ".join(out)


_x_placeholder = "\x00X\x00"


def sample_spellings(engine: Engine, relation: str, sources: dict[str, str], rows: int = 2000) -> dict[str, list[str]]:
    """The spellings of the yes/no, channel and text columns in the first rows, most frequent first:
    the conversions test them first (exports write one or two spellings per column), and the text
    columns' ENUM types start from them (``sample_enums``)."""
    from collections import Counter

    names = [n for n in sources if COLUMNS[n].kind in ("bool", "channel", "text")]
    if not names:
        return {}
    found = engine.rows(f"SELECT {', '.join(sources[n] for n in names)} FROM {relation} LIMIT {rows}")
    return {n: [v for v, _ in Counter(r[i] for r in found if r[i] is not None).most_common()]
            for i, n in enumerate(names)}


def sample_enums(engine: Engine, sample: dict[str, list[str]], texts: tuple[str, ...]) -> dict[str, str]:
    """An ENUM type per text column (units, procedure codes) from the sample's values, made before the
    table is: the conversion stores the codes straight away, and only a value outside it (a unit
    first seen after the sample, or one that NFC or trimming change) is kept as text, in
    ``name__rest``, for ``fix_leftovers`` (which then types the column from all its values)."""
    out = {}
    for name in texts:
        labels = sorted({v for v in sample.get(name, ()) if nfc(v).strip(_SPACES) == v} | {""})
        kind = q(f"pdx_{name}_{next(_types)}")
        engine.execute(f"CREATE TYPE {kind} AS ENUM ({', '.join(lit(v) for v in labels)})")
        out[name] = kind
    return out


def convert_sql(sources: dict[str, str], values: dict[str, dict[str, str]],
                sample: dict[str, list[str]] | None = None,
                enums: dict[str, str] | None = None) -> tuple[str, str, list[str]]:
    """(outer, inner, convertible): the SELECT lists turning raw text columns (canonical name → SQL of
    the raw cell) into the typed table, and the columns whose leftover cells ``_odd`` holds.

    Every common spelling converts in SQL; a cell that does not (an unusual spelling, or a bad value)
    leaves its typed column NULL and its row keeps the raw text of its convertible cells in ``_odd``
    (NULL for every clean row), for ``fix_leftovers`` to hand the distinct leftovers to mapping.py.
    """
    sample = sample or {}
    enums = enums or {}
    inner: list[str] = []
    outer: list[str] = []
    convertible: list[str] = []
    odd: list[str] = []
    for name, x in sources.items():
        spec = COLUMNS[name]
        n = q(name)
        vm = values.get(name, {})
        if spec.kind in ("id", "text"):
            inner.append(f"coalesce({x}, '') AS {n}")
            if name in enums:
                code = f"TRY_CAST({n} AS {enums[name]})"
                outer.append(f"{code} AS {n}")
                outer.append(f"CASE WHEN {code} IS NULL THEN {n} END AS {q(name + '__rest')}")
            else:
                outer.append(n)
            continue
        raw = q(name + "__x")
        if spec.kind == "date":
            code = _date_sql(x)
            odd.append(f"({n} IS NULL AND {raw} IS NOT NULL)")
        elif spec.kind == "count":
            code = (f"CASE WHEN {x} IS NULL THEN 0 WHEN strlen({x}) = 1 AND {x} BETWEEN '0' AND '9' THEN ascii({x}) - 48 "
                    f"WHEN regexp_full_match({x}, '[0-9]{{1,9}}') THEN CAST({x} AS INTEGER) END")
            odd.append(f"{n} IS NULL")
        elif spec.kind == "bool":
            words = _bool_words(vm)
            exact = _exact(sample.get(name, ()), lambda v: scalar_bool(v, vm), lambda b: "true" if b else "false")
            code = f"CASE WHEN {x} IS NULL THEN false {exact} ELSE {_lookup(words, x)} END"
            odd.append(f"{n} IS NULL")
        else:  # channel
            words = _channel_words(vm)
            exact = _exact(sample.get(name, ()), lambda v: scalar_channel(v, vm), lit)
            code = f"CASE WHEN {x} IS NULL THEN NULL {exact} ELSE {_lookup(words, x)} END"
            odd.append(f"({n} IS NULL AND {raw} IS NOT NULL)")
        inner.append(f"{code.replace(_x_placeholder, x)} AS {n}")
        inner.append(f"{x} AS {raw}")
        outer.append(n)
        convertible.append(name)
    xs = [sources[c] for c in sources]
    first = xs[0] if "dossier_id" not in sources else sources["dossier_id"]
    blank = " AND ".join(f"coalesce(trim({x}, {lit(_SPACES)}), '') = ''" for x in xs)
    # a row is empty when every cell is blank; the first cell's first character settles it for nearly every row
    inner.append(f"CASE WHEN {first} IS NOT NULL AND ascii({first}) > 32 AND ascii({first}) <> 160 THEN false "
                 f"ELSE ({blank}) END "
                 "AS _empty")
    outer.append("_empty")
    if convertible:
        raws = ", ".join(q(c + "__x") for c in convertible)
        outer.append(f"CASE WHEN {' OR '.join(odd)} THEN [{raws}] END AS _odd")
    else:
        outer.append("CAST(NULL AS VARCHAR[]) AS _odd")
    outer.append(f"coalesce({suspect_sql(sources, odd)}, true) AS _suspect")
    return ", ".join(outer), ", ".join(inner), convertible


def suspect_sql(sources: dict[str, str], odd: list[str]) -> str:
    """A condition over the typed columns that holds for every row some check of checks.py could
    find bad, duplicates aside (and for a few clean rows: a cell starting with a space): computed in
    the conversion's own scan, so that a clean file needs no scan of its own for the checks."""
    conds = list(odd)
    for name in sources:
        kind = COLUMNS[name].kind
        if kind in ("id", "text"):  # blank after trimming: empty, or starting with a space, a control or NBSP
            n = q(name)
            conds.append(f"{n} < '!' OR starts_with({n}, chr(160))")
    for name in ("received_at", "due_at"):
        if name in sources:
            conds.append(f"{q(name)} IS NULL")
    for name in ("due_at", "finished_at"):
        if name in sources and "received_at" in sources:
            conds.append(f"coalesce({q(name)} < {q('received_at')}, false)")
    return "(" + " OR ".join(conds) + ")" if conds else "false"


_SQL_TYPE = {"date": "DATE", "count": "INTEGER", "bool": "BOOLEAN", "channel": "VARCHAR"}


def fix_leftovers(engine: Engine, convertible: list[str], values: dict[str, dict[str, str]],
                  texts: tuple[str, ...] = (), enums: dict[str, str] | None = None) -> None:
    """Map the distinct leftover cells with mapping.py's parsers (the one definition of a spelling):
    a leftover that converts there is written into ``t``; the others are kept, with their kind, in
    the table ``odd_kinds(i, raw, kind)`` (``i``: 1-based position in ``_odd``) for the checks.
    Text columns get the same treatment: a value that NFC and trimming change is rewritten.
    """
    enums = enums or {}
    kinds: list[tuple[int, str, int]] = []
    for i, name in enumerate(convertible, 1):
        n = q(name)
        found = [r[0] for r in engine.rows(
            f"SELECT DISTINCT _odd[{i}] FROM t WHERE _odd IS NOT NULL AND {n} IS NULL AND _odd[{i}] IS NOT NULL")]
        if not found:
            continue
        kind = COLUMNS[name].kind
        vm = values.get(name, {})
        fixes: list[tuple[str, Any]] = []
        for raw in found:
            if kind == "date":
                k, v = scalar_day(raw)
                v = from_day(v) if k == OK else None
            elif kind == "count":
                k, v = scalar_count(raw)
            elif kind == "bool":
                k, v = scalar_bool(raw, vm)
            else:
                k, v = scalar_channel(raw, vm)
                if k == OK and not v:
                    k = BLANK
            if k == OK:
                fixes.append((raw, v))
            else:
                kinds.append((i, raw, k))
        if fixes:
            _small_table(engine, "fix_values", ("raw VARCHAR", f"v {_SQL_TYPE[kind]}"), fixes)
            engine.execute(f"UPDATE t SET {n} = f.v FROM fix_values f "
                           f"WHERE t._odd IS NOT NULL AND t.{n} IS NULL AND t._odd[{i}] = f.raw")
    _small_table(engine, "odd_kinds", ("i INTEGER", "raw VARCHAR", "kind UTINYINT"), kinds)
    for name in texts:
        n = q(name)
        if name in enums:
            rest = q(name + "__rest")
            outside = engine.rows(f"SELECT count({rest}) FROM t")[0][0]
            if not outside:  # every value is one of the sample's (already NFC and trimmed)
                engine.execute(f"ALTER TABLE t DROP COLUMN {rest}")
                continue
            engine.execute(f"ALTER TABLE t ALTER COLUMN {n} SET DATA TYPE VARCHAR USING coalesce(CAST({n} AS VARCHAR), {rest})")
            engine.execute(f"ALTER TABLE t DROP COLUMN {rest}")
        found = [r[0] for r in engine.rows(f"SELECT DISTINCT {n} FROM t")]
        norm = {v: nfc(v).strip(_SPACES) for v in found if v is not None}
        changed = {raw: v for raw, v in norm.items() if raw != v}
        labels = sorted(set(norm.values()) | {""})
        if len(labels) <= ENUM_MAX:  # units, procedure codes: a few hundred values, stored as 1-2 bytes per row
            kind = q(f"pdx_{name}_{next(_types)}")
            engine.execute(f"CREATE TYPE {kind} AS ENUM ({', '.join(lit(v) for v in labels)})")
            value = f"coalesce({_map(changed)}[{n}], {n})" if changed else n
            engine.execute(f"ALTER TABLE t ALTER COLUMN {n} SET DATA TYPE {kind} USING CAST({value} AS {kind})")
        elif changed:
            _small_table(engine, "fix_values", ("raw VARCHAR", "v VARCHAR"), list(changed.items()))
            engine.execute(f"UPDATE t SET {n} = f.v FROM fix_values f WHERE t.{n} = f.raw")


ENUM_MAX = 10_000  # distinct values of a text column kept as an ENUM (more: the column stays VARCHAR)
_types = itertools.count(1)


def _map(pairs: dict[str, str]) -> str:
    return "MAP {" + ", ".join(f"{lit(k)}: {lit(v)}" for k, v in pairs.items()) + "}"


def _small_table(engine: Engine, name: str, columns: tuple[str, ...], rows: list[tuple[Any, ...]]) -> None:
    """A temp table from Python rows (the distinct leftovers: few), without pandas."""
    engine.execute(f"CREATE OR REPLACE TEMP TABLE {name} ({', '.join(columns)})")
    if rows:
        engine.con.executemany(f"INSERT INTO {name} VALUES ({', '.join('?' for _ in columns)})", rows)


def _words(words: Any) -> str:
    return ", ".join(lit(w) for w in words)
