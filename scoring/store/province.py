"""Queries of the province view: every department's stored score for one year and round."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import defer

from .accounts import DEPARTMENT_ROLES, Submission, User
from .models import Appraisal, Assessment, CriteriaSet, Department

#: Rounds whose score is the department's own upload; the others are the council's points.
SELF_ROUNDS = ("tu_cham", "giai_trinh")


@dataclass(frozen=True)
class ScoreRow:
    """The columns of a stored assessment the ranking reads (not the ORM object: every page asks its rank)."""

    id: int
    department_id: int
    round: str
    points: Decimal
    max_points: Decimal
    band: str | None
    set_id: str


@dataclass(frozen=True)
class RoundScore:
    department: Department
    assessment: ScoreRow | None  # the assessment the score belongs to
    appraisal: Appraisal | None  # the council's points, for an appraisal round
    submitted: bool


def years(s: object) -> list[int]:
    return sorted({y for y in s.scalars(select(Assessment.year).distinct())}, reverse=True)  # type: ignore[attr-defined]


def version(s: object) -> tuple[Any, ...]:
    """Changes whenever anything a ranking reads changes (rows are only ever added: nothing is updated
    or deleted but an account's state, which the ranking does not read). One cheap query."""
    cols = [select(func.max(Assessment.id)).scalar_subquery(), select(func.max(Appraisal.id)).scalar_subquery(),
            select(func.max(Submission.id)).scalar_subquery(), select(func.max(Department.id)).scalar_subquery(),
            select(func.max(User.id)).scalar_subquery()]
    return tuple(s.execute(select(*cols)).one())  # type: ignore[attr-defined]


def round_scores(s: object, year: int, round: str) -> list[RoundScore]:
    """Per department (all of them, by name): the score of ``round`` in ``year``.

    A self round: the submitted assessment of that round, else the newest upload of it. An appraisal
    round: the newest council table of that round on the department's assessments of the year, else an
    assessment uploaded as that round. None when the department has nothing for it."""
    deps: Sequence[Department] = s.scalars(select(Department).order_by(Department.name)).all()  # type: ignore[attr-defined]
    rows = [ScoreRow(*r) for r in s.execute(  # type: ignore[attr-defined]
        select(Assessment.id, Assessment.department_id, Assessment.round, Assessment.points, Assessment.max_points,
               Assessment.band, CriteriaSet.set_id)
        .join(CriteriaSet, CriteriaSet.id == Assessment.criteria_set_id)
        .where(Assessment.year == year).order_by(Assessment.id))]
    ids = [a.id for a in rows]
    year_ids = select(Assessment.id).where(Assessment.year == year)
    subs = set(s.scalars(select(Submission.assessment_id).where(Submission.assessment_id.in_(year_ids)))) if ids else set()  # type: ignore[attr-defined]
    apps: Sequence[Appraisal] = (s.scalars(select(Appraisal).where(Appraisal.assessment_id.in_(year_ids),  # type: ignore[attr-defined]
                                                                  Appraisal.round == round)
                                          .options(defer(Appraisal.comparison_json))
                                          .order_by(Appraisal.id)).all() if ids and round not in SELF_ROUNDS else [])
    by_id = {a.id: a for a in rows}
    by_department: dict[int, list[ScoreRow]] = {}
    for a in rows:
        by_department.setdefault(a.department_id, []).append(a)
    apps_of: dict[int, list[Appraisal]] = {}
    for ap in apps:
        apps_of.setdefault(by_id[ap.assessment_id].department_id, []).append(ap)
    staffed = set(s.scalars(select(User.department_id).where(User.role.in_(DEPARTMENT_ROLES))))  # type: ignore[attr-defined]
    out = []
    for dep in deps:
        mine = by_department.get(dep.id, [])
        chosen: ScoreRow | None = None
        appraisal: Appraisal | None = None
        theirs = apps_of.get(dep.id)
        if theirs:
            appraisal = theirs[-1]
            chosen = by_id[appraisal.assessment_id]
        if chosen is None:
            of_round = [a for a in mine if a.round == round]
            submitted = [a for a in of_round if a.id in subs]
            chosen = (submitted or of_round or [None])[-1]
        if chosen is None and not mine and dep.id not in staffed:
            continue  # neither an assessment that year nor a department account (an appraiser's own office)
        out.append(RoundScore(dep, chosen, appraisal, chosen is not None and chosen.id in subs))
    return out
