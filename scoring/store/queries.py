"""Every query of the store (the only module besides the migrations that knows SQL).

Functions take an open ``Session``; the caller owns the transaction (``with store.sessions.begin()``),
so that one change is one transaction.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import insert, select
from sqlalchemy.orm import Session, defer, selectinload

from .models import (Appraisal, AppraisalPoints, Assessment, CriteriaSet, Department, Explanation, NodePoints,
                     Scenario, StoredFile)

#: The rounds of an assessment year, in order, with the words the province uses.
ROUNDS: dict[str, str] = {
    "tu_cham": "Tự chấm",
    "tham_dinh_1": "Thẩm định lần 1",
    "giai_trinh": "Giải trình",
    "tham_dinh_2": "Thẩm định lần 2",
    "ket_qua": "Kết quả chính thức",
}


def department_key(name: str) -> str:
    return " ".join(unicodedata.normalize("NFC", name).casefold().split())


def department_for(s: Session, name: str) -> Department:
    key = department_key(name)
    dep = s.scalar(select(Department).where(Department.key == key))
    if dep is None:
        dep = Department(name=" ".join(unicodedata.normalize("NFC", name).split()), key=key)
        s.add(dep)
        s.flush()
    return dep


def find_department(s: Session, name: str) -> Department | None:
    return s.scalar(select(Department).where(Department.key == department_key(name)))


def departments(s: Session) -> Sequence[Department]:
    return s.scalars(select(Department).order_by(Department.name)).all()


def _insert_if_missing(s: Session, model: type, values: dict[str, object]) -> None:
    """INSERT … ON CONFLICT DO NOTHING: two uploads of the same file (or the first two of a criteria set)
    committing at once must not fail on the unique key (seen under 50 concurrent clients on PostgreSQL)."""
    name = s.get_bind().dialect.name
    if name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    elif name == "sqlite":
        from sqlalchemy.dialects.sqlite import insert  # type: ignore[assignment]
    else:
        s.add(model(**values))
        s.flush()
        return
    s.execute(insert(model).values(**values).on_conflict_do_nothing())


def criteria_set_for(s: Session, set_id: str, title: str, points_status: str) -> CriteriaSet:
    cs = s.scalar(select(CriteriaSet).where(CriteriaSet.set_id == set_id))
    if cs is None:
        _insert_if_missing(s, CriteriaSet, {"set_id": set_id, "title": title, "points_status": points_status})
        cs = s.scalar(select(CriteriaSet).where(CriteriaSet.set_id == set_id))
    assert cs is not None
    return cs


def file_row(s: Session, sha256: str, kind: str, size: int) -> StoredFile:
    row = s.get(StoredFile, sha256)
    if row is None:
        from .models import utcnow

        _insert_if_missing(s, StoredFile, {"sha256": sha256, "kind": kind, "size": size, "created_at": utcnow()})
        row = s.get(StoredFile, sha256)
    assert row is not None
    return row


def get_file(s: Session, sha256: str | None) -> StoredFile | None:
    return s.get(StoredFile, sha256) if sha256 else None


NODE_COLUMNS = ("assessment_id", "position", "code", "level", "title", "points", "max_points", "outcome", "evidence")


@dataclass(frozen=True)
class NodeRow:
    code: str
    level: str
    title: str
    points: Decimal
    max_points: Decimal
    outcome: str | None
    evidence: str


def add_assessment(s: Session, *, department: Department, criteria_set: CriteriaSet, year: int, round: str,
                   author: str | None, evidence_sha: str, evidence_name: str, points: Decimal, max_points: Decimal,
                   percent: Decimal | None, band: str | None, scorecard_json: str, nodes: Sequence[NodeRow],
                   dossiers_sha: str | None = None, mapping_sha: str | None = None,
                   procedures_sha: str | None = None, peers_sha: str | None = None) -> Assessment:
    a = Assessment(department_id=department.id, criteria_set_id=criteria_set.id, year=year, round=round,
                   author=author, evidence_sha=evidence_sha, evidence_name=evidence_name, points=points,
                   max_points=max_points, percent=percent, band=band, scorecard_json=scorecard_json,
                   dossiers_sha=dossiers_sha, mapping_sha=mapping_sha, procedures_sha=procedures_sha,
                   peers_sha=peers_sha)
    s.add(a)
    s.flush()
    # the node rows are part of the assessment (neither audited nor checked one by one: the assessment's
    # flush above ran those checks), in the same transaction, written in bulk: a scorecard has ~700 nodes
    rows = [(a.id, i, n.code, n.level, n.title, n.points, n.max_points, n.outcome, n.evidence)
            for i, n in enumerate(nodes)]
    conn = s.connection()
    if conn.dialect.name == "postgresql":
        # COPY through psycopg: one stream, values adapted in C; an INSERT of 700 rows × 9 parameters cost
        # the worker 7 ms of CPU, most of it psycopg rewriting an 18 kB statement it does not cache
        cursor = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
        with cursor, cursor.copy(f"COPY node_points ({', '.join(NODE_COLUMNS)}) FROM STDIN") as copy:
            for row in rows:  # the points as DecimalText stores them
                copy.write_row((*row[:5], format(row[5], "f"), format(row[6], "f"), *row[7:]))
    else:
        conn.execute(insert(NodePoints.__table__), [dict(zip(NODE_COLUMNS, r)) for r in rows])
    return a


def get_assessment(s: Session, assessment_id: int, department_ids: Sequence[int] | None = None) -> Assessment | None:
    """One assessment; ``department_ids`` (the province server's roles) limits what may be seen."""
    q = select(Assessment).where(Assessment.id == assessment_id).options(defer(Assessment.scorecard_json))
    if department_ids is not None:
        q = q.where(Assessment.department_id.in_(department_ids))
    return s.scalar(q)


def scorecard_json(s: Session, assessment_id: int) -> str:
    """The stored CLI JSON of one assessment (left out of ``get_assessment``: every page reads the record,
    few need its scorecard text)."""
    return str(s.scalar(select(Assessment.scorecard_json).where(Assessment.id == assessment_id)))


def department_of(s: Session, assessment_id: int) -> int | None:
    return s.scalar(select(Assessment.department_id).where(Assessment.id == assessment_id))


def assessments(s: Session, department_id: int | None = None,
                department_ids: Sequence[int] | None = None) -> Sequence[Assessment]:
    """Assessments newest year first, then by round order and upload time."""
    q = select(Assessment)
    if department_id is not None:
        q = q.where(Assessment.department_id == department_id)
    if department_ids is not None:
        q = q.where(Assessment.department_id.in_(department_ids))
    rows = s.scalars(q.order_by(Assessment.year.desc(), Assessment.id.desc())).all()
    order = {r: i for i, r in enumerate(ROUNDS)}
    return sorted(rows, key=lambda a: (-a.year, a.department.name, -order.get(a.round, 0), -a.id))


def history(s: Session, department_id: int) -> list[Assessment]:
    """Per year, the assessment of the latest round (the newest upload of it), oldest year first,
    with its node points loaded."""
    rows = s.scalars(select(Assessment).where(Assessment.department_id == department_id)
                     .options(selectinload(Assessment.nodes)).order_by(Assessment.id)).all()
    order = {r: i for i, r in enumerate(ROUNDS)}
    best: dict[int, Assessment] = {}
    for a in rows:
        cur = best.get(a.year)
        if cur is None or (order.get(a.round, 0), a.id) >= (order.get(cur.round, 0), cur.id):
            best[a.year] = a
    return [best[y] for y in sorted(best)]


def add_appraisal(s: Session, *, assessment: Assessment, round: str, file_sha: str, file_name: str,
                  author: str | None, final_points: Decimal, comparison_json: str,
                  points: Sequence[tuple[int, str, Decimal]], drafts: Sequence[tuple[str, str]]) -> Appraisal:
    ap = Appraisal(assessment_id=assessment.id, round=round, file_sha=file_sha, file_name=file_name, author=author,
                   final_points=final_points, comparison_json=comparison_json)
    ap.points = [AppraisalPoints(council_round=r, code=c, points=p) for r, c, p in points]
    ap.explanations = [Explanation(code=c, draft=d, text=d) for c, d in drafts]
    s.add(ap)
    s.flush()
    return ap


def appraisals(s: Session, assessment_id: int) -> Sequence[Appraisal]:
    return s.scalars(select(Appraisal).where(Appraisal.assessment_id == assessment_id)
                     .options(selectinload(Appraisal.explanations)).order_by(Appraisal.id)).all()


def get_appraisal(s: Session, assessment_id: int, appraisal_id: int) -> Appraisal | None:
    return s.scalar(select(Appraisal).where(Appraisal.id == appraisal_id, Appraisal.assessment_id == assessment_id)
                    .options(selectinload(Appraisal.explanations)))


def set_explanation(s: Session, appraisal: Appraisal, code: str, text: str) -> Explanation | None:
    from .models import utcnow

    for e in appraisal.explanations:
        if e.code == code:
            e.text = text
            e.updated_at = utcnow()
            s.flush()
            return e
    return None


def add_scenario(s: Session, *, assessment: Assessment, name: str, sets: str, points: Decimal,
                 percent: Decimal | None, band: str | None, author: str | None) -> Scenario:
    sc = Scenario(assessment_id=assessment.id, name=name, sets=sets, points=points, percent=percent, band=band,
                  author=author)
    s.add(sc)
    s.flush()
    return sc


def scenarios(s: Session, assessment_id: int) -> Sequence[Scenario]:
    return s.scalars(select(Scenario).where(Scenario.assessment_id == assessment_id).order_by(Scenario.id)).all()
