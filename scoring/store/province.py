"""Queries of the province view: every department's stored score for one year and round."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import defer

from .accounts import DEPARTMENT_ROLES, Submission, User
from .models import Appraisal, Assessment, Department

#: Rounds whose score is the department's own upload; the others are the council's points.
SELF_ROUNDS = ("tu_cham", "giai_trinh")


@dataclass(frozen=True)
class RoundScore:
    department: Department
    assessment: Assessment | None  # the assessment the score belongs to
    appraisal: Appraisal | None  # the council's points, for an appraisal round
    submitted: bool


def years(s: object) -> list[int]:
    return sorted({y for y in s.scalars(select(Assessment.year).distinct())}, reverse=True)  # type: ignore[attr-defined]


def round_scores(s: object, year: int, round: str) -> list[RoundScore]:
    """Per department (all of them, by name): the score of ``round`` in ``year``.

    A self round: the submitted assessment of that round, else the newest upload of it. An appraisal
    round: the newest council table of that round on the department's assessments of the year, else an
    assessment uploaded as that round. None when the department has nothing for it."""
    deps: Sequence[Department] = s.scalars(select(Department).order_by(Department.name)).all()  # type: ignore[attr-defined]
    rows: Sequence[Assessment] = s.scalars(select(Assessment).where(Assessment.year == year)  # type: ignore[attr-defined]
                                           .options(defer(Assessment.scorecard_json))  # every page asks its rank
                                           .order_by(Assessment.id)).all()
    ids = [a.id for a in rows]
    subs = {x.assessment_id for x in s.scalars(select(Submission).where(Submission.assessment_id.in_(ids)))} if ids else set()  # type: ignore[attr-defined]
    apps: Sequence[Appraisal] = (s.scalars(select(Appraisal).where(Appraisal.assessment_id.in_(ids),  # type: ignore[attr-defined]
                                                                  Appraisal.round == round)
                                          .options(defer(Appraisal.comparison_json))
                                          .order_by(Appraisal.id)).all() if ids else [])
    by_id = {a.id: a for a in rows}
    staffed = set(s.scalars(select(User.department_id).where(User.role.in_(DEPARTMENT_ROLES))))  # type: ignore[attr-defined]
    out = []
    for dep in deps:
        mine = [a for a in rows if a.department_id == dep.id]
        chosen: Assessment | None = None
        appraisal: Appraisal | None = None
        if round not in SELF_ROUNDS:
            theirs = [ap for ap in apps if by_id[ap.assessment_id].department_id == dep.id]
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
