"""The compiled form of a rule: mutually exclusive branches over a small numeric fact.

``scoring.core.rules`` compiles every rule model into a ``CompiledRule``: its ``branches``, each a
condition tree of ``Cmp`` / ``And`` / ``Or`` over the fact's fields (exact ``Fraction`` values), the
points it gives and its Vietnamese label. Both evaluators (durable-rules in ``durable.py``, numpy in
``vector.py``) run these same branches; ``CompiledRule.select`` is the exact pure-Python reference.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction
from typing import Any, Union

from scoring.core.errors import DefinitionError, Problem


@dataclass(frozen=True)
class Cmp:
    field: str
    op: str  # ge gt le lt eq ne
    value: Fraction

    def holds(self, fact: dict[str, Fraction]) -> bool:
        x = fact[self.field]
        return {"ge": x >= self.value, "gt": x > self.value, "le": x <= self.value,
                "lt": x < self.value, "eq": x == self.value, "ne": x != self.value}[self.op]

    def negate(self) -> Cmp:
        neg = {"ge": "lt", "lt": "ge", "gt": "le", "le": "gt", "eq": "ne", "ne": "eq"}
        return Cmp(self.field, neg[self.op], self.value)


@dataclass(frozen=True)
class And:
    items: tuple[Any, ...]

    def holds(self, fact: dict[str, Fraction]) -> bool:
        return all(i.holds(fact) for i in self.items)


@dataclass(frozen=True)
class Or:
    items: tuple[Any, ...]

    def holds(self, fact: dict[str, Fraction]) -> bool:
        return any(i.holds(fact) for i in self.items)


Cond = Union[Cmp, And, Or]


def cmps(cond: Cond) -> list[Cmp]:
    if isinstance(cond, Cmp):
        return [cond]
    return [c for item in cond.items for c in cmps(item)]


@dataclass(frozen=True)
class Branch:
    """One mutually exclusive outcome of a rule."""

    id: str
    cond: Cond
    points: Decimal | None  # None: the points are the measured value itself (external)
    label: str  # Vietnamese, e.g. "từ 95% đến dưới 98%"
    top: bool = False  # the branch that earns the maximum


@dataclass(frozen=True)
class CompiledRule:
    rule: Any  # one of the Rule models
    max_points: Decimal
    branches: tuple[Branch, ...]
    fields: tuple[str, ...]  # names of the fact's numeric fields
    target: str

    @property
    def code(self) -> str:
        return self.rule.code

    @property
    def kind(self) -> str:
        return self.rule.kind

    def thresholds(self, field_name: str) -> list[Fraction]:
        return sorted({c.value for b in self.branches for c in cmps(b.cond) if c.field == field_name})

    def select(self, fact: dict[str, Fraction]) -> Branch:
        """Reference (pure Python, exact) choice of the branch that holds."""
        hits = [b for b in self.branches if b.cond.holds(fact)]
        if not hits:
            raise DefinitionError(Problem("no_rule_fired", "no branch holds for this fact; every rule needs a "
                                          "catch-all branch", subject=self.code,
                                          hint="check that the bands cover every possible value"))
        if len(hits) > 1:
            raise DefinitionError(Problem("branches_not_exclusive",
                                          f"{len(hits)} branches hold for one fact ({', '.join(b.id for b in hits)}); "
                                          "exactly one must", subject=self.code,
                                          hint="bands must not overlap and need a catch-all"))
        return hits[0]
