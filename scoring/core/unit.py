"""The kind of unit being scored (Sở, Ban, or another department-level body) and the words that follow it.

Every sentence that names the unit ("của Sở"), every report header and signature block takes its
words from here, so that the Ban Quản lý Khu kinh tế cửa khẩu Đồng Đăng – Lạng Sơn is not called a
Sở and its report is signed "TRƯỞNG BAN" (seed 003 is signed so; seeds 000–002 "GIÁM ĐỐC").
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

UnitKind = Literal["so", "ban", "khac"]
UNIT_KINDS: tuple[str, ...] = ("so", "ban", "khac")


@dataclass(frozen=True)
class UnitTerms:
    kind: str
    noun: str  # "Sở", "Ban", "cơ quan": in "của {noun}"
    label: str  # what the unit is, for headers: "Sở", "Ban Quản lý", "Cơ quan tương đương sở"
    head: str  # signature block: "GIÁM ĐỐC"
    deputy_for: str  # "KT. GIÁM ĐỐC" line above the deputy's title
    leadership: str  # "Lãnh đạo Sở" (Nơi nhận)
    office: str  # "Văn phòng Sở"


TERMS: dict[str, UnitTerms] = {
    "so": UnitTerms("so", "Sở", "Sở", "GIÁM ĐỐC", "KT. GIÁM ĐỐC", "Lãnh đạo Sở", "Văn phòng Sở"),
    "ban": UnitTerms("ban", "Ban", "Ban Quản lý", "TRƯỞNG BAN", "KT. TRƯỞNG BAN", "Lãnh đạo Ban", "Văn phòng Ban"),
    "khac": UnitTerms("khac", "cơ quan", "Cơ quan tương đương sở", "THỦ TRƯỞNG CƠ QUAN", "KT. THỦ TRƯỞNG CƠ QUAN",
                      "Lãnh đạo cơ quan", "Văn phòng cơ quan"),
}
KIND_VI = {"so": "Sở", "ban": "Ban (Ban Quản lý và tương đương)", "khac": "cơ quan khác tương đương sở"}


def infer_kind(department: str) -> str:
    """The kind an evidence file means when it does not say: from the unit's name ("Sở …", "Ban …")."""
    name = department.strip().lower()
    if name.startswith("sở "):
        return "so"
    if name.startswith("ban "):
        return "ban"
    return "khac"


def terms(kind: str | None, department: str = "") -> UnitTerms:
    """The words for a unit: its declared kind, else the kind its name shows."""
    return TERMS[kind if kind in TERMS else infer_kind(department)]
