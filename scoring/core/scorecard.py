"""Immutable scoring results: one record per node, totals, and the fixed-column table.

Every report (terminal table, markdown, CSV, JSON, explain, what-if, audit) is
built from ``Scorecard.to_frame()`` or ``Scorecard.to_json()``, so they agree.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from fractions import Fraction
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

Outcome = Literal["met", "partial", "not_met", "missing_evidence", "not_applicable"]

OUTCOME_VI: dict[str, str] = {
    "met": "Đạt",
    "partial": "Đạt một phần",
    "not_met": "Không đạt",
    "missing_evidence": "Thiếu tài liệu kiểm chứng",
    "not_applicable": "Không phát sinh",
}

#: The scorecard table's columns, in order (a contract for reports and tools).
COLUMNS = ["code", "title", "level", "points", "max_points", "lost", "percent", "outcome", "measured",
           "target", "reason", "evidence", "guidance", "points_status", "external"]


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", arbitrary_types_allowed=True)


class EvidenceRef(_Frozen):
    """One piece of evidence used for a leaf: a value or a document."""

    kind: Literal["value", "document"]
    name: str  # evidence name or document number
    text: str  # Vietnamese, ready to print
    file: str | None = None
    line: int | None = None
    cell: str | None = None  # "'Lĩnh vực 3'!H12" when the value was read from a workbook


class NodeResult(_Frozen):
    code: str
    title: str
    level: Literal["field", "criterion", "sub_criterion"]
    is_leaf: bool
    points: Decimal
    max_points: Decimal  # effective maximum after "không phát sinh" policies
    nominal_max_points: Decimal  # as in the criteria set
    lost: Decimal
    percent: Decimal | None
    points_status: str
    external: bool
    kind: str | None = None  # rule kind for leaves
    outcome: Outcome | None = None
    measured: Any = None  # Fraction / int / bool / date / Decimal / dict, or None when missing
    measured_text: str | None = None
    target: str | None = None
    band: str | None = None
    branch: str | None = None
    reason: str | None = None
    guidance: str | None = None
    details: tuple[str, ...] = ()
    evidence: tuple[EvidenceRef, ...] = ()
    missing: tuple[str, ...] = ()  # evidence names that were missing
    not_applicable_policy: str | None = None
    source: str | None = None
    dossiers: dict[str, tuple[str, ...]] = {}  # label → ids of the dossiers behind the figure
    cells: dict[str, str] = {}  # where the leaf's values are in a workbook (EvidenceFile.cells), else empty
    # where the rule's full-points threshold and lower bands come from (rules.Basis): seed / decision /
    # illustrative / none, and the short tag shown beside the points ("KH/MH")
    basis_full: str | None = None
    basis_lower: str | None = None
    basis_tag: str | None = None
    basis_text: str | None = None

    @property
    def pending_survey(self) -> bool:
        """Survey points (field 8) not yet published by the province: nothing the unit can supply."""
        return self.external and self.is_leaf and self.outcome == "missing_evidence"

    def measured_json(self) -> Any:
        """A number for numeric measures (rates as 0–1 fractions), else a string, or None."""
        value = self.measured
        if value is None:
            return None
        if isinstance(value, bool):
            return value
        if isinstance(value, (Fraction, Decimal)):
            return float(value)
        if isinstance(value, int):
            return value
        if isinstance(value, dt.date):
            return value.isoformat()
        return self.measured_text or str(value)


class Adjustment(_Frozen):
    id: str
    title: str
    count: int
    points: Decimal


class Total(_Frozen):
    points: Decimal
    max_points: Decimal
    percent: Decimal | None
    fields_points: Decimal
    bonus: Decimal
    penalty: Decimal
    bonus_claimed: Decimal
    penalty_claimed: Decimal
    self_assessed_points: Decimal
    self_assessed_max_points: Decimal
    external_missing: bool
    band: str | None
    # the survey points are missing, so the total, index and band are provisional (tạm tính)
    provisional: bool = False


class Scorecard(_Frozen):
    criteria_set: str
    criteria_title: str
    points_status: str
    department: str
    year: int
    evidence_file: str
    constructed_example: bool
    nodes: tuple[NodeResult, ...]
    total: Total
    bonus_items: tuple[Adjustment, ...] = ()
    penalty_items: tuple[Adjustment, ...] = ()
    warnings: tuple[str, ...] = ()
    overrides: tuple[str, ...] = ()
    unit_kind: str = "so"  # so / ban / khac (scoring/core/unit.py)

    @property
    def unit(self) -> Any:
        from scoring.core.unit import terms

        return terms(self.unit_kind, self.department)

    def notices(self) -> list[str]:
        """Vietnamese notices every report must show: constructed data, illustrative points, --set values."""
        out = []
        if self.constructed_example:
            out.append("Số liệu: VÍ DỤ DỰNG SẴN (constructed example), không phải số liệu thật của đơn vị.")
        if self.points_status == "illustrative":
            out.append(f"Lưu ý: {ILLUSTRATIVE_NOTICE}")
        if self.overrides:
            out.append("Giá trị thử (--set), không phải số liệu đã nộp: " + ", ".join(self.overrides))
        return out

    def node(self, code: str) -> NodeResult:
        for n in self.nodes:
            if n.code == code:
                return n
        raise KeyError(code)

    def leaves(self) -> list[NodeResult]:
        return [n for n in self.nodes if n.is_leaf]

    def lost_points(self) -> list[NodeResult]:
        """Leaves that lost points, largest loss first (then by code order); survey points the province
        has not published yet come last, since the unit cannot supply them."""
        order = {n.code: i for i, n in enumerate(self.nodes)}
        return sorted((n for n in self.leaves() if n.lost > 0),
                      key=lambda n: (n.pending_survey, -n.lost, order[n.code]))

    def to_frame(self) -> Any:
        import pandas as pd

        rows = []
        for n in self.nodes:
            rows.append({
                "code": n.code, "title": n.title, "level": n.level, "points": n.points,
                "max_points": n.max_points, "lost": n.lost, "percent": n.percent, "outcome": n.outcome,
                "measured": n.measured_text, "target": n.target, "reason": n.reason,
                "evidence": "; ".join(e.text for e in n.evidence), "guidance": n.guidance,
                "points_status": n.points_status, "external": n.external,
            })
        return pd.DataFrame(rows, columns=COLUMNS)

    def to_json(self) -> dict[str, Any]:
        """The JSON contract: ``total`` and ``criteria`` (one record per node), plus extras."""

        def num(d: Decimal | None) -> float | int | None:
            if d is None:
                return None
            return int(d) if d == d.to_integral_value() else float(d)

        criteria = []
        for n in self.nodes:
            criteria.append({
                "code": n.code, "title": n.title, "level": n.level,
                "points": num(n.points), "max_points": num(n.max_points),
                "nominal_max_points": num(n.nominal_max_points), "lost": num(n.lost),
                "percent": num(n.percent), "outcome": n.outcome, "measured": n.measured_json(),
                "measured_text": n.measured_text, "target": n.target, "band": n.band, "reason": n.reason,
                "guidance": n.guidance, "details": list(n.details),
                "evidence": [e.text for e in n.evidence],
                "evidence_refs": [e.model_dump() for e in n.evidence],
                "missing_evidence": list(n.missing), "not_applicable_policy": n.not_applicable_policy,
                "kind": n.kind, "points_status": n.points_status, "external": n.external,
                "dossiers": {k: list(v) for k, v in n.dossiers.items()},
                "basis": ({"full_points": n.basis_full, "lower_bands": n.basis_lower} if n.basis_full else None),
                "basis_tag": n.basis_tag, "basis_text": n.basis_text, "pending_survey": n.pending_survey,
            })
        t = self.total
        return {
            "criteria_set": self.criteria_set,
            "criteria_title": self.criteria_title,
            "points_status": self.points_status,
            "illustrative_notice": ILLUSTRATIVE_NOTICE if self.points_status == "illustrative" else None,
            "department": self.department,
            "year": self.year,
            "evidence_file": self.evidence_file,
            "constructed_example": self.constructed_example,
            "overrides": list(self.overrides),
            "total": {
                "points": num(t.points), "max_points": num(t.max_points), "percent": num(t.percent),
                "fields_points": num(t.fields_points), "bonus": num(t.bonus), "penalty": num(t.penalty),
                "bonus_claimed": num(t.bonus_claimed), "penalty_claimed": num(t.penalty_claimed),
                "self_assessed_points": num(t.self_assessed_points),
                "self_assessed_max_points": num(t.self_assessed_max_points),
                "external_missing": t.external_missing, "band": t.band,
                "provisional": t.provisional, "provisional_note": PROVISIONAL_NOTE if t.provisional else None,
            },
            "unit_kind": self.unit_kind,
            "unit_label": self.unit.label,
            "bonus_items": [{**a.model_dump(), "points": num(a.points)} for a in self.bonus_items],
            "penalty_items": [{**a.model_dump(), "points": num(a.points)} for a in self.penalty_items],
            "criteria": criteria,
            "warnings": list(self.warnings),
        }


PROVISIONAL_NOTE = "tạm tính, chưa có kết quả điều tra xã hội học"

ILLUSTRATIVE_NOTICE = ("Điểm tối đa trong bộ tiêu chí này là MINH HỌA, chưa phải điểm chính thức của tỉnh; "
                       "thay bằng bộ tiêu chí theo quyết định của tỉnh trước khi dùng làm kết quả chính thức.")
