"""The indicator definitions (definitions.yaml): load, check, and compile to SQL.

A predicate in the YAML is a small boolean language (names, ``and``/``or``/``not``,
comparisons, ``is [not] null``, integers, ``:start``/``:end``). ``compile_predicate`` turns it
into SQL that DuckDB and Spark SQL both accept: flags are inlined (no lateral aliases), dates
are ``DATE 'yyyy-mm-dd'`` literals, and the only dialect-specific piece (adding days to a date
for the deadline) is produced by ``deadline_sql`` for the engine at hand.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from typing import Any

from ...core.errors import DefinitionError, Problem
from .mapping import COLUMNS, PROCEDURE_COLUMNS

_TOKEN = re.compile(r"\s*(?:(?P<num>\d+)|(?P<param>:[a-z_]+)|(?P<op><=|>=|!=|=|<|>)|(?P<paren>[()])|(?P<name>[a-z_]+))")
_KEYWORDS = {"and", "or", "not", "is", "null"}
PARAMS = ("start", "end")


@dataclass(frozen=True)
class IndicatorSpec:
    """An indicator: its Vietnamese title and texts, and its numerator/denominator predicates."""

    name: str
    title: str
    numerator_text: str
    denominator_text: str
    loss: str  # label of the ids behind a loss (denominator but not numerator)
    numerator: str  # predicate (definitions.yaml language)
    denominator: str
    table: str = "dossiers"  # or "procedures" (counted over the catalogue)
    feeds: str = ""
    needs: tuple[str, ...] = ()  # optional columns the predicates read

    # the names the old module used for the texts
    @property
    def numerator_description(self) -> str:
        return self.numerator_text


@dataclass(frozen=True)
class Definitions:
    flags: dict[str, str]
    late_reasons: tuple[tuple[str, str], ...]
    counts: dict[str, str]
    notes: dict[str, tuple[str, str]]  # name → (predicate, text with {n})
    indicators: dict[str, IndicatorSpec]


def _tokens(text: str, where: str) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    pos = 0
    text = text.strip()
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if not m or m.end() == pos:
            raise DefinitionError(Problem("bad_predicate", f"{where}: cannot read '{text[pos:pos + 20]}'",
                                          file="definitions.yaml", subject=where))
        kind = m.lastgroup or ""
        out.append((kind, m.group(kind)))
        pos = m.end()
        while pos < len(text) and text[pos].isspace():
            pos += 1
    return out


class _Parser:
    """Recursive descent over the tokens; emits SQL text. Grammar:
    expr := term ('or' term)* ; term := factor ('and' factor)* ; factor := 'not' factor | atom
    atom := '(' expr ')' | value [op value | 'is' ['not'] 'null'] ; value := name | number | :param
    """

    def __init__(self, tokens: list[tuple[str, str]], resolve: Any, where: str):
        self.t, self.i, self.resolve, self.where = tokens, 0, resolve, where

    def fail(self, message: str) -> DefinitionError:
        return DefinitionError(Problem("bad_predicate", f"{self.where}: {message}", file="definitions.yaml",
                                       subject=self.where))

    def peek(self) -> tuple[str, str] | None:
        return self.t[self.i] if self.i < len(self.t) else None

    def take(self, value: str | None = None) -> tuple[str, str]:
        tok = self.peek()
        if tok is None or (value is not None and tok[1] != value):
            raise self.fail(f"expected '{value or 'more'}'")
        self.i += 1
        return tok

    def parse(self) -> str:
        sql = self.expr()
        if self.peek() is not None:
            raise self.fail(f"unexpected '{self.peek()[1]}'")  # type: ignore[index]
        return sql

    def expr(self) -> str:
        parts = [self.term()]
        while self.peek() == ("name", "or"):
            self.take()
            parts.append(self.term())
        return parts[0] if len(parts) == 1 else "(" + " OR ".join(parts) + ")"

    def term(self) -> str:
        parts = [self.factor()]
        while self.peek() == ("name", "and"):
            self.take()
            parts.append(self.factor())
        return parts[0] if len(parts) == 1 else "(" + " AND ".join(parts) + ")"

    def factor(self) -> str:
        if self.peek() == ("name", "not"):
            self.take()
            return f"(NOT {self.factor()})"
        return self.atom()

    def atom(self) -> str:
        tok = self.peek()
        if tok == ("paren", "("):
            self.take()
            inner = self.expr()
            self.take(")")
            return inner
        left = self.value()
        nxt = self.peek()
        if nxt is not None and nxt[0] == "op":
            self.take()
            return f"({left} {'<>' if nxt[1] == '!=' else nxt[1]} {self.value()})"
        if nxt == ("name", "is"):
            self.take()
            negate = self.peek() == ("name", "not")
            if negate:
                self.take()
            self.take("null")
            return f"({left} IS {'NOT ' if negate else ''}NULL)"
        return left

    def value(self) -> str:
        kind, text = self.take()
        if kind == "num":
            return text
        if kind == "param":
            return self.resolve("param", text[1:])
        if kind == "name" and text not in _KEYWORDS:
            return self.resolve("name", text)
        raise self.fail(f"unexpected '{text}'")


def _names(text: str) -> set[str]:
    return {v for k, v in _tokens(text, "") if k == "name" and v not in _KEYWORDS}


@lru_cache(maxsize=1)
def definitions() -> Definitions:
    """definitions.yaml, checked (every name known, every predicate well formed)."""
    import yaml

    text = resources.files(__package__).joinpath("definitions.yaml").read_text(encoding="utf-8")
    # libyaml's loader when PyYAML has it: the pure-Python one took 20 ms of every run's start-up
    return parse_definitions(yaml.load(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader)))


def parse_definitions(data: dict[str, Any]) -> Definitions:
    flags: dict[str, str] = {}
    for name, pred in data["flags"].items():
        flags[name] = str(pred)
    indicators: dict[str, IndicatorSpec] = {}
    for name, spec in data["indicators"].items():
        table = spec.get("table", "dossiers")
        columns = PROCEDURE_COLUMNS if table == "procedures" else COLUMNS
        needs = needs_of(f"({spec['numerator']}) and ({spec['denominator']})", flags, table)
        indicators[name] = IndicatorSpec(
            name=name, title=spec["title"], numerator_text=spec["numerator_text"],
            denominator_text=spec["denominator_text"], loss=spec["loss"], numerator=str(spec["numerator"]),
            denominator=str(spec["denominator"]), table=table, feeds=str(spec.get("feeds", "")),
            needs=tuple(c for c in columns if c in needs))
    out = Definitions(
        flags=flags,
        late_reasons=tuple((str(r["when"]), str(r["reason"])) for r in data.get("late_reasons", ())),
        counts={k: str(v) for k, v in data.get("counts", {}).items()},
        notes={k: (str(v["when"]), str(v["text"])) for k, v in data.get("notes", {}).items()},
        indicators=indicators)
    check(out)
    return out


def needs_of(pred: str, flags: dict[str, str], table: str = "dossiers") -> set[str]:
    """The optional columns a predicate reads, directly or through flags."""
    columns = PROCEDURE_COLUMNS if table == "procedures" else COLUMNS
    names = _names(pred)
    return {c for c in names | _flag_columns(names, flags) if c in columns and not columns[c].required}


def _flag_columns(names: set[str], flags: dict[str, str]) -> set[str]:
    """Columns read through the flags a predicate names (transitively)."""
    seen: set[str] = set()
    todo = [n for n in names if n in flags]
    columns: set[str] = set()
    while todo:
        flag = todo.pop()
        if flag in seen:
            continue
        seen.add(flag)
        for n in _names(flags[flag]):
            if n in flags:
                todo.append(n)
            else:
                columns.add(n)
    return columns


def check(defs: Definitions) -> None:
    """Every predicate compiles; flags only use flags defined above them."""
    earlier: list[str] = []
    for name, pred in defs.flags.items():
        compile_predicate(pred, defs, "2025-01-01", "2025-12-31", flags_allowed=tuple(earlier), where=f"flags.{name}")
        earlier.append(name)
    preds = [(f"counts.{k}", v, "dossiers") for k, v in defs.counts.items()]
    preds += [(f"notes.{k}", v[0], "dossiers") for k, v in defs.notes.items()]
    preds += [(f"late_reasons[{i}]", w, "dossiers") for i, (w, _) in enumerate(defs.late_reasons)]
    for name, spec in defs.indicators.items():
        preds += [(f"indicators.{name}.numerator", spec.numerator, spec.table),
                  (f"indicators.{name}.denominator", spec.denominator, spec.table)]
    for where, pred, table in preds:
        compile_predicate(pred, defs, "2025-01-01", "2025-12-31", table=table, where=where)


def compile_predicate(pred: str, defs: Definitions, start: str | dt.date, end: str | dt.date, *,
                      table: str = "dossiers", flags_allowed: tuple[str, ...] | None = None,
                      where: str = "", column: Any = None, inline: bool = True) -> str:
    """SQL for one predicate. ``column(name)`` quotes a column (default: double quotes).

    ``inline=False`` refers to flags as columns (see ``flag_columns_sql``) instead of inlining them.
    """
    quote = column or (lambda n: f'"{n}"')
    columns = PROCEDURE_COLUMNS if table == "procedures" else COLUMNS
    allowed_flags = tuple(defs.flags) if flags_allowed is None else flags_allowed
    if table == "procedures":
        allowed_flags = ()
    dates = {"start": str(start), "end": str(end)}

    def resolve(kind: str, name: str) -> str:
        if kind == "param":
            if name not in dates:
                raise DefinitionError(Problem("bad_predicate", f"{where}: unknown parameter ':{name}'",
                                              file="definitions.yaml", subject=where, hint="use :start or :end"))
            return f"DATE '{dates[name]}'"
        if name in allowed_flags and not inline:
            return quote(name)
        if name in allowed_flags:
            idx = list(defs.flags).index(name)
            return compile_predicate(defs.flags[name], defs, start, end, flags_allowed=tuple(defs.flags)[:idx],
                                     where=f"flags.{name}", column=column)
        if name in columns or (name == "deadline" and table == "dossiers"):
            return quote(name)
        from ...core.errors import did_you_mean

        known = list(allowed_flags) + list(columns) + (["deadline"] if table == "dossiers" else [])
        raise DefinitionError(Problem("bad_predicate", f"{where}: unknown name '{name}'", file="definitions.yaml",
                                      subject=where, hint=did_you_mean(name, known) or "a canonical column or a flag above"))

    return _Parser(_tokens(pred, where), resolve, where).parse()


def deadline_sql(engine: str, mode: str, includes_pauses: bool) -> str:
    """The effective deadline as SQL over due_at and paused_days (calendar days), per engine.

    Working days are not an expression: the DuckDB reader joins a calendar (see compute.py), and
    provides the column "deadline" itself; this covers the two calendar cases.
    """
    if includes_pauses:
        return "`due_at`" if engine == "spark" else '"due_at"'
    if engine == "spark":  # Spark's date_add takes an INT count; "..." is a string literal in Spark SQL
        return "date_add(`due_at`, CAST(`paused_days` AS INT))"
    return '("due_at" + "paused_days")'


def flags_sql(defs: Definitions, start: dt.date, end: dt.date, relation: str, *, column: Any = None) -> str:
    """A query adding every flag as a column to ``relation``: one nested SELECT per flag, each
    flag reading the ones above it by name (portable: no lateral column aliases needed)."""
    quote = column or (lambda n: f'"{n}"')
    sql = relation
    earlier: list[str] = []
    for name, pred in defs.flags.items():
        expr = compile_predicate(pred, defs, start, end, flags_allowed=tuple(earlier), column=column, inline=False,
                                 where=f"flags.{name}")
        sql = f"(SELECT *, {expr} AS {quote(name)} FROM {sql} AS {quote('_f' + str(len(earlier)))})"
        earlier.append(name)
    return sql


def predicate_sql(defs: Definitions, pred: str, start: dt.date, end: dt.date, *, column: Any = None,
                  table: str = "dossiers") -> str:
    """A predicate over a relation that has the flag columns (``flags_sql``), or over the catalogue."""
    return compile_predicate(pred, defs, start, end, column=column, inline=False, table=table)


def indicator_sql(defs: Definitions, start: dt.date, end: dt.date, present: set[str], *,
                  column: Any = None) -> dict[str, str]:
    """Aggregate expressions (name → SQL) for every count, note and available dossier indicator.

    Keys: ``count:NAME``, ``note:NAME``, ``num:IND``, ``den:IND``. They read the relation that
    ``flags_sql`` builds (the canonical columns, "deadline" and the flags).
    """
    return {k: f"count(CASE WHEN {p} THEN 1 END)"
            for k, p in indicator_predicates(defs, start, end, present, column=column).items()}


def indicator_predicates(defs: Definitions, start: dt.date, end: dt.date, present: set[str], *,
                         column: Any = None) -> dict[str, str]:
    """The row predicate (SQL) behind each aggregate of ``indicator_sql``, by the same keys."""
    out: dict[str, str] = {}

    def pred_sql(pred: str) -> str:
        return predicate_sql(defs, pred, start, end, column=column)

    for name, pred in defs.counts.items():
        out[f"count:{name}"] = pred_sql(pred)
    for name, (pred, _) in defs.notes.items():
        if needs_of(pred, defs.flags) <= present:
            out[f"note:{name}"] = pred_sql(pred)
    for name, spec in defs.indicators.items():
        if spec.table != "dossiers" or not set(spec.needs) <= present:
            continue
        out[f"num:{name}"] = pred_sql(spec.numerator)
        out[f"den:{name}"] = pred_sql(spec.denominator)
    return out


def names_read(defs: Definitions) -> set[str]:
    """Every column or flag name some dossier predicate reads (flags, counts, notes, indicators)."""
    preds = list(defs.flags.values()) + list(defs.counts.values()) + [w for w, _ in defs.notes.values()]
    preds += [w for w, _ in defs.late_reasons]
    for spec in defs.indicators.values():
        if spec.table == "dossiers":
            preds += [spec.numerator, spec.denominator]
    return set().union(*(_names(p) for p in preds))
