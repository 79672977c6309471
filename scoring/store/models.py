"""Tables of the store.

Every assessment row carries a department id: the province-server version adds users and roles
(``users.department_id``) and filters every query by it, without changing these tables.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from sqlalchemy import ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship
from sqlalchemy.types import TypeDecorator


class DecimalText(TypeDecorator[Decimal]):
    """A ``Decimal`` stored as its exact text ("88.45"), on every database."""

    impl = String(40)
    cache_ok = True

    def process_bind_param(self, value: Decimal | None, dialect: object) -> str | None:
        if value is None:
            return None
        if not isinstance(value, Decimal):
            raise TypeError(f"points must be Decimal, not {type(value).__name__}")
        return format(value, "f")

    def process_result_value(self, value: str | None, dialect: object) -> Decimal | None:
        return None if value is None else Decimal(value)


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc).replace(microsecond=0, tzinfo=None)


class Base(DeclarativeBase):
    pass


class Department(Base):
    __tablename__ = "departments"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(300))
    key: Mapped[str] = mapped_column(String(300), unique=True)  # case- and space-folded name
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class CriteriaSet(Base):
    __tablename__ = "criteria_sets"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    set_id: Mapped[str] = mapped_column(String(100), unique=True)
    title: Mapped[str] = mapped_column(String(500))
    points_status: Mapped[str] = mapped_column(String(40))


class StoredFile(Base):
    """An uploaded file: its bytes live under ``files/<sha256[:2]>/<sha256>.<kind>``, never renamed."""

    __tablename__ = "files"
    sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    kind: Mapped[str] = mapped_column(String(10))  # sniffed from content: yaml, xlsx, csv
    size: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class Assessment(Base):
    __tablename__ = "assessments"
    __table_args__ = (Index("ix_assessments_department_year", "department_id", "year"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    department_id: Mapped[int] = mapped_column(ForeignKey("departments.id"))
    year: Mapped[int] = mapped_column(Integer)
    round: Mapped[str] = mapped_column(String(20))
    criteria_set_id: Mapped[int] = mapped_column(ForeignKey("criteria_sets.id"))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    author: Mapped[str | None] = mapped_column(String(200), default=None)  # a user id in the province server
    evidence_sha: Mapped[str] = mapped_column(ForeignKey("files.sha256"))
    evidence_name: Mapped[str] = mapped_column(String(255))  # shown only; the file is stored under its sha256
    dossiers_sha: Mapped[str | None] = mapped_column(ForeignKey("files.sha256"), default=None)
    mapping_sha: Mapped[str | None] = mapped_column(ForeignKey("files.sha256"), default=None)
    procedures_sha: Mapped[str | None] = mapped_column(ForeignKey("files.sha256"), default=None)
    peers_sha: Mapped[str | None] = mapped_column(ForeignKey("files.sha256"), default=None)
    points: Mapped[Decimal] = mapped_column(DecimalText())
    max_points: Mapped[Decimal] = mapped_column(DecimalText())
    percent: Mapped[Decimal | None] = mapped_column(DecimalText(), default=None)
    band: Mapped[str | None] = mapped_column(String(100), default=None)
    scorecard_json: Mapped[str] = mapped_column(Text)  # exactly `parindex score --format json`

    department: Mapped[Department] = relationship(lazy="joined")
    criteria_set: Mapped[CriteriaSet] = relationship(lazy="joined")
    nodes: Mapped[list[NodePoints]] = relationship(back_populates="assessment", order_by="NodePoints.position",
                                                   cascade="all, delete-orphan")


class NodePoints(Base):
    """Points of every node of a stored scorecard, for history and trends without parsing JSON."""

    __tablename__ = "node_points"
    __table_args__ = (UniqueConstraint("assessment_id", "code"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    assessment_id: Mapped[int] = mapped_column(ForeignKey("assessments.id"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    code: Mapped[str] = mapped_column(String(20))
    level: Mapped[str] = mapped_column(String(20))
    title: Mapped[str] = mapped_column(Text)
    points: Mapped[Decimal] = mapped_column(DecimalText())
    max_points: Mapped[Decimal] = mapped_column(DecimalText())
    outcome: Mapped[str | None] = mapped_column(String(40), default=None)
    evidence: Mapped[str] = mapped_column(Text, default="")  # the evidence texts, one a line

    assessment: Mapped[Assessment] = relationship(back_populates="nodes")


class Appraisal(Base):
    """The council's points for one round of an assessment (an uploaded `compare` table)."""

    __tablename__ = "appraisals"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    assessment_id: Mapped[int] = mapped_column(ForeignKey("assessments.id"), index=True)
    round: Mapped[str] = mapped_column(String(20))
    file_sha: Mapped[str] = mapped_column(ForeignKey("files.sha256"))
    file_name: Mapped[str] = mapped_column(String(255))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    author: Mapped[str | None] = mapped_column(String(200), default=None)
    final_points: Mapped[Decimal] = mapped_column(DecimalText())
    comparison_json: Mapped[str] = mapped_column(Text)  # exactly `parindex compare --format json`

    points: Mapped[list[AppraisalPoints]] = relationship(cascade="all, delete-orphan", order_by="AppraisalPoints.id")
    explanations: Mapped[list[Explanation]] = relationship(cascade="all, delete-orphan", order_by="Explanation.id")


class AppraisalPoints(Base):
    __tablename__ = "appraisal_points"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    appraisal_id: Mapped[int] = mapped_column(ForeignKey("appraisals.id"), index=True)
    council_round: Mapped[int] = mapped_column(Integer)  # 1, 2… as the table's columns say
    code: Mapped[str] = mapped_column(String(20))
    points: Mapped[Decimal] = mapped_column(DecimalText())


class Explanation(Base):
    """The giải trình of one difference: parindex's draft, then the clerk's text."""

    __tablename__ = "explanations"
    __table_args__ = (UniqueConstraint("appraisal_id", "code"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    appraisal_id: Mapped[int] = mapped_column(ForeignKey("appraisals.id"))
    code: Mapped[str] = mapped_column(String(20))
    draft: Mapped[str] = mapped_column(Text)
    text: Mapped[str] = mapped_column(Text)
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class Scenario(Base):
    __tablename__ = "scenarios"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    assessment_id: Mapped[int] = mapped_column(ForeignKey("assessments.id"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    sets: Mapped[str] = mapped_column(Text)  # JSON list of "CODE=VALUE"
    points: Mapped[Decimal] = mapped_column(DecimalText())
    percent: Mapped[Decimal | None] = mapped_column(DecimalText(), default=None)
    band: Mapped[str | None] = mapped_column(String(100), default=None)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    author: Mapped[str | None] = mapped_column(String(200), default=None)
