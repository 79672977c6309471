"""Criteria trees: fields → criteria → sub-criteria, with maximum points and sources.

A criteria set is data (``criteria/<set-id>.yaml``). Loading checks its
invariants and reports every problem at once: codes are quoted strings, unique,
nested under their parent's code; children's points add up to the parent's;
the whole adds up to the set's scale.
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, ValidationError, field_validator

from scoring.core.errors import DefinitionError, Problem, ProblemList
from scoring.core.numbers import decimal_field
from scoring.core.yamlio import LineDict, LineList, YamlFloat, load_yaml, pydantic_problems

PointsStatus = Literal["official", "illustrative"]


_decimal = decimal_field  # points: by their YAML text, bounded


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Node(_Model):
    """A field (lĩnh vực), criterion (tiêu chí) or sub-criterion (tiêu chí thành phần)."""

    code: str
    title: str
    max_points: Decimal = Field(ge=0)
    points_status: PointsStatus | None = None  # inherited from the set when absent
    source: str | None = None
    external: bool = False  # survey / province-supplied points, not self-assessed
    note: str | None = None
    label: str | None = None  # the numbering as printed in the province's table ("II", "1", "a"), for display
    children: tuple[Node, ...] = ()

    _max = field_validator("max_points", mode="before")(lambda cls, v: _decimal(v))

    @field_validator("code", mode="before")
    @classmethod
    def _code_is_text(cls, value: Any) -> Any:
        if isinstance(value, YamlFloat):
            raise ValueError(f"code {value.raw} was read as a number; write it in quotes: \"{value.raw}\"")
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            raise ValueError(f"code {value} was read as a number; write it in quotes: \"{value}\"")
        return value

    @property
    def is_leaf(self) -> bool:
        return not self.children

    @property
    def depth(self) -> int:
        return self.code.count(".")


class AdjustmentItem(_Model):
    id: str
    title: str
    points: Decimal = Field(gt=0)
    source: str | None = None
    _p = field_validator("points", mode="before")(lambda cls, v: _decimal(v))


class Adjustment(_Model):
    """Bonus (điểm thưởng) or penalty (điểm phạt): a catalogue and a yearly cap."""

    max_points: Decimal = Field(ge=0)
    source: str
    points_status: PointsStatus | None = None
    items: tuple[AdjustmentItem, ...] = ()
    _m = field_validator("max_points", mode="before")(lambda cls, v: _decimal(v))


class Adjustments(_Model):
    bonus: Adjustment | None = None
    penalty: Adjustment | None = None


class Band(_Model):
    """A result band published by the province (e.g. ≥ 90 %)."""

    min_percent: Decimal
    label: str
    _m = field_validator("min_percent", mode="before")(lambda cls, v: _decimal(v))


class CriteriaSet(_Model):
    id: str
    title: str
    level: str
    province: str
    year: int
    scale: Decimal
    points_status: PointsStatus
    legal_basis: tuple[str, ...] = Field(min_length=1)
    note: str | None = None
    result_bands: tuple[Band, ...] = ()
    result_bands_source: str | None = None  # where the result bands come from (a decision, or illustrative)
    adjustments: Adjustments = Adjustments()
    fields: tuple[Node, ...] = Field(min_length=1)

    _s = field_validator("scale", mode="before")(lambda cls, v: _decimal(v))

    # filled by load_criteria, not by YAML
    file: str = ""
    _index: dict[str, Node] | None = PrivateAttr(default=None)

    def walk(self) -> list[Node]:
        out: list[Node] = []

        def visit(node: Node) -> None:
            out.append(node)
            for child in node.children:
                visit(child)

        for f in self.fields:
            visit(f)
        return out

    def node(self, code: str) -> Node:
        return self.index()[code]

    def index(self) -> dict[str, Node]:
        if self._index is None:
            self._index = {n.code: n for n in self.walk()}
        return self._index

    def leaves(self) -> list[Node]:
        return [n for n in self.walk() if n.is_leaf]

    def parent_of(self, code: str) -> str | None:
        return code.rsplit(".", 1)[0] if "." in code else None

    def status_of(self, node: Node) -> PointsStatus:
        return node.points_status or self.points_status

    def is_external(self, code: str) -> bool:
        """True when the node or an ancestor is external (survey points)."""
        idx = self.index()
        parts = code.split(".")
        return any(idx[".".join(parts[:i])].external for i in range(1, len(parts) + 1)
                   if ".".join(parts[:i]) in idx)

    def band_of(self, percent: Decimal | None) -> str | None:
        if percent is None:
            return None
        for band in sorted(self.result_bands, key=lambda b: b.min_percent, reverse=True):
            if percent >= band.min_percent:
                return band.label
        return None


KNOWN_KEYS = sorted(set(Node.model_fields) | set(CriteriaSet.model_fields)
                    | set(Adjustment.model_fields) | set(AdjustmentItem.model_fields)
                    | set(Band.model_fields) | {"bonus", "penalty"})


def load_criteria(path: Path | str) -> CriteriaSet:
    """Load and check one criteria file; raise DefinitionError listing every problem."""
    path = Path(path)
    name = str(path)
    data = load_yaml(path, "criteria file")
    if not isinstance(data, dict):
        raise DefinitionError(Problem("not_a_mapping", "a criteria file is a mapping with 'id', 'fields', …",
                                      file=name, line=1))
    try:
        cset = CriteriaSet.model_validate({**data, "file": name})
    except ValidationError as exc:
        raise DefinitionError(pydantic_problems(exc, data, name, known_keys=KNOWN_KEYS)) from None
    problems = ProblemList()
    _check_tree(cset, data, name, problems)
    problems.raise_if_any(DefinitionError)
    return cset


def _node_lines(data: Any) -> dict[str, list[int]]:
    """Map each code to the lines where nodes with that code start, in file order."""
    lines: dict[str, list[int]] = {}

    def visit(items: Any) -> None:
        if not isinstance(items, LineList):
            return
        for i, item in enumerate(items):
            if isinstance(item, LineDict) and isinstance(item.get("code"), str):
                lines.setdefault(item["code"], []).append(item.line_of("code") or items.line_of(i) or 0)
                visit(item.get("children"))

    visit(data.get("fields"))
    return lines


def _check_tree(cset: CriteriaSet, data: Any, name: str, problems: ProblemList) -> None:
    lines = _node_lines(data)
    seen: dict[str, int] = {}

    def where(code: str) -> dict[str, Any]:
        found = lines.get(code) or [None]
        nth = min(seen.get(code, 1), len(found)) - 1  # the occurrence being visited
        return {"file": name, "line": found[nth], "subject": code}

    def visit(node: Node, parent: Node | None) -> None:
        seen[node.code] = seen.get(node.code, 0) + 1
        if seen[node.code] > 1:
            problems.add("duplicate_code", f"code '{node.code}' appears more than once", **where(node.code),
                         hint="every field, criterion and sub-criterion needs its own code")
        parts = node.code.split(".")
        if not all(p.isdigit() for p in parts):
            problems.add("bad_code", f"code '{node.code}' is not a dotted number such as '3.4.1'",
                         **where(node.code))
        if parent is None and len(parts) != 1:
            problems.add("bad_code", f"field code '{node.code}' must be a single number such as '3'",
                         **where(node.code))
        if parent is not None and node.code.rsplit(".", 1)[0] != parent.code:
            problems.add("bad_code", f"code '{node.code}' is not under its parent '{parent.code}'",
                         **where(node.code), hint=f"children of '{parent.code}' are '{parent.code}.1', '{parent.code}.2', …")
        if not node.title.strip():
            problems.add("empty_title", "title is empty", **where(node.code))
        if node.children:
            total = sum((c.max_points for c in node.children), Decimal(0))
            if total != node.max_points:
                problems.add("points_mismatch",
                             f"children of '{node.code}' add up to {total} points but '{node.code}' has max_points {node.max_points}",
                             **where(node.code), hint="make the children's max_points add up to the parent's")
        if cset.status_of(node) == "official" and not node.source:
            problems.add("missing_source", f"'{node.code}' claims official points but names no source",
                         **where(node.code), hint="add 'source:' with the decision and annex, or mark it illustrative")
        for child in node.children:
            visit(child, node)

    for field_node in cset.fields:
        visit(field_node, None)
    total = sum((f.max_points for f in cset.fields), Decimal(0))
    if total != cset.scale:
        problems.add("points_mismatch", f"fields add up to {total} points but the set's scale is {cset.scale}",
                     file=name, line=getattr(data, "line_of", lambda k: None)("scale"),
                     hint="fix the fields' max_points or the scale")
    for kind in ("bonus", "penalty"):
        adj = getattr(cset.adjustments, kind)
        if adj is None:
            continue
        ids = [i.id for i in adj.items]
        for dup in {i for i in ids if ids.count(i) > 1}:
            problems.add("duplicate_code", f"{kind} item '{dup}' appears more than once", file=name)
