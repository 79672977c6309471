"""Evidence audit: every gap the appraisal council could cut points for, largest risk first.

``audit(bundle, ev)`` scores the evidence (non-strict, so unknown names become gaps
instead of errors) and looks at what the score alone does not show: sub-criteria
with no evidence or no supporting document, documents dated outside the assessment
year or after the deadline they prove, figures that contradict each other or the
dossier data, documents that cannot be found, "không phát sinh" claims without a
reason, and evidence no rule reads. Each gap says how many points depend on it,
computed by re-scoring the evidence as the council would see it if it rejected
that piece of evidence (see docs/audit.md).
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction
from pathlib import Path
from typing import Any, Literal

from scoring.core.durable import evaluator_for
from scoring.core.engine import score
from scoring.core.errors import InputError, Problem, did_you_mean
from scoring.core.evidence import (
    Claim,
    Document,
    EvidenceFile,
    LeafEvidence,
    ValueError_,
    format_number,
    format_value,
    parse_value,
    same_as_stated,
)
from scoring.core.rules import Bundle, CompiledRule
from scoring.core.scorecard import ILLUSTRATIVE_NOTICE, Scorecard

GapKind = Literal["missing_evidence", "stale_document", "contradiction", "computed_mismatch",
                  "unresolved_document", "unjustified_not_applicable", "unused_evidence"]
Severity = Literal["high", "medium", "low"]

KINDS: tuple[str, ...] = ("missing_evidence", "stale_document", "contradiction", "computed_mismatch",
                          "unresolved_document", "unjustified_not_applicable", "unused_evidence")
KIND_VI: dict[str, str] = {
    "missing_evidence": "Thiếu số liệu hoặc tài liệu kiểm chứng",
    "stale_document": "Tài liệu ngoài năm đánh giá hoặc sau thời hạn",
    "contradiction": "Số liệu mâu thuẫn",
    "computed_mismatch": "Số liệu khai khác số liệu tính từ hồ sơ",
    "unresolved_document": "Tài liệu không xác định được",
    "unjustified_not_applicable": "Khai \"không phát sinh\" nhưng không nêu lý do",
    "unused_evidence": "Số liệu không được tiêu chí nào sử dụng",
}
SEVERITIES: tuple[str, ...] = ("high", "medium", "low")
SEVERITY_VI: dict[str, str] = {"high": "cao", "medium": "trung bình", "low": "thấp"}

#: Plans for year N are usually issued in the last quarter of year N-1.
PLAN_EARLIEST_MONTH = 10

# Indicator tags (``computed_from`` in the rules) that must agree across sub-criteria.
# late dossiers = dossiers received − dossiers resolved on time
LATE_IDENTITY = ("apology.denominator", "on_time.denominator", "on_time.numerator")
# the same count, "dossiers received in the period (withdrawn ones excluded)", read by two rules
SAME_QUANTITY: tuple[tuple[str, str], ...] = (("on_time.denominator", "full_online.denominator"),)


@dataclass(frozen=True)
class Gap:
    """One thing the appraisal council could cut points for."""

    code: str  # sub-criterion code, "bonus:<id>" / "penalty:<id>", or the unknown code as written
    kind: str
    severity: str
    points_at_risk: Decimal
    message: str  # Vietnamese
    fix: str  # Vietnamese
    title: str | None = None
    subject: str | None = None  # evidence name, document number or dated item involved
    file: str | None = None
    line: int | None = None
    cell: str | None = None  # "'Lĩnh vực 1'!H20" when the evidence came from a workbook

    def to_json(self) -> dict[str, Any]:
        return {"code": self.code, "title": self.title, "kind": self.kind, "kind_vi": KIND_VI[self.kind],
                "severity": self.severity, "severity_vi": SEVERITY_VI[self.severity],
                "points_at_risk": _num(self.points_at_risk), "message": self.message, "fix": self.fix,
                "subject": self.subject, "file": self.file, "line": self.line, "cell": self.cell}


@dataclass(frozen=True)
class AuditResult:
    """Gaps in tree order of risk, with the scorecard they were measured against."""

    gaps: tuple[Gap, ...]
    card: Scorecard
    evidence_file: str
    documents_dir: str | None = None
    notes: tuple[str, ...] = ()

    def points_at_risk(self) -> Decimal:
        """Total without double counting: per code, the largest risk among its gaps."""
        per_code: dict[str, Decimal] = {}
        for g in self.gaps:
            per_code[g.code] = max(per_code.get(g.code, Decimal(0)), g.points_at_risk)
        return sum(per_code.values(), Decimal(0))

    def summary(self) -> dict[str, Any]:
        by_kind = {k: sum(1 for g in self.gaps if g.kind == k) for k in KINDS}
        risk_by_kind = {k: _num(sum((g.points_at_risk for g in self.gaps if g.kind == k), Decimal(0)))
                        for k in KINDS}
        return {
            "gaps": len(self.gaps),
            "by_kind": by_kind,
            "by_severity": {s: sum(1 for g in self.gaps if g.severity == s) for s in SEVERITIES},
            "points_at_risk": _num(self.points_at_risk()),
            "points_at_risk_by_kind": risk_by_kind,
            "codes_with_gaps": len({g.code for g in self.gaps}),
            "current_points": _num(self.card.total.points),
            "max_points": _num(self.card.total.max_points),
            # same as score's total.provisional: survey points pending, not a gap of the unit's evidence
            "provisional": self.card.total.provisional,
            "pending_survey_codes": [n.code for n in self.card.leaves() if n.pending_survey],
        }

    def to_json(self) -> dict[str, Any]:
        c = self.card
        return {
            "department": c.department, "year": c.year, "criteria_set": c.criteria_set,
            "evidence_file": self.evidence_file, "documents_dir": self.documents_dir,
            "constructed_example": c.constructed_example, "points_status": c.points_status,
            "illustrative_notice": ILLUSTRATIVE_NOTICE if c.points_status == "illustrative" else None,
            "gaps": [g.to_json() for g in self.gaps],
            "summary": self.summary(),
            "notes": list(self.notes),
        }


def _num(d: Decimal) -> int | float:
    return int(d) if d == d.to_integral_value() else float(d)


def _pts(d: Decimal) -> str:
    return format_number(Fraction(d))


def _date(d: dt.date | None) -> str:
    return d.strftime("%d/%m/%Y") if d else "không có"


# ------------------------------------------------------------------ documents folder


def _fold(text: str) -> str:
    """Lower-case, no diacritics, separators as '-': '215/KH-STP' and '215_kh stp' both → '215-kh-stp'."""
    text = unicodedata.normalize("NFD", text.replace("Đ", "D").replace("đ", "d"))
    text = "".join(ch for ch in text if not unicodedata.combining(ch)).lower()
    return re.sub(r"[^a-z0-9]+", "-", text).strip("-")


class DocumentFolder:
    """The scanned documents the Office keeps; a reference resolves by ``file:`` or by số hiệu."""

    def __init__(self, root: Path):
        if not root.is_dir():
            raise InputError(Problem("folder_not_found", f"--documents '{root}' is not a folder",
                                     subject="--documents",
                                     hint="give the folder that holds the scanned documents (PDF, DOCX…)"))
        self.root = root.resolve()
        self.files = [p for p in sorted(self.root.rglob("*")) if p.is_file() and not p.name.startswith(".")]
        self._stems = [(_fold(p.stem), p) for p in self.files]

    def find_file(self, name: str) -> Path | None:
        candidate = (self.root / name).resolve()
        if candidate.is_file() and candidate.is_relative_to(self.root):
            return candidate
        return None

    def find_number(self, number: str) -> Path | None:
        key = _fold(number)
        if not key:
            return None
        pattern = re.compile(rf"(^|-){re.escape(key)}(-|$)")
        return next((p for stem, p in self._stems if pattern.search(stem)), None)


# ------------------------------------------------------------------ the audit


def _ref(doc: Document) -> str:
    """A document as the Office names it: số hiệu and title, without the date."""
    return " – ".join(p for p in (doc.number, doc.title) if p) or "(không số hiệu, không trích yếu)"


def _is_plan(doc: Document) -> bool:
    number = (doc.number or "").upper()
    title = _fold(doc.title or "")
    return bool(re.search(r"(^|/)KH([-/ ]|$)", number)) or title.startswith("ke-hoach")


class _Auditor:
    def __init__(self, bundle: Bundle, ev: EvidenceFile, documents: DocumentFolder | None,
                 dossier_file: str | None = None):
        self.bundle = bundle
        self.dossier_file = Path(dossier_file).resolve() if dossier_file else None
        self.cset = bundle.criteria
        self.index = self.cset.index()
        self.original = ev
        self.documents = documents
        self.gaps: list[Gap] = []
        self.year = ev.year
        self.start = dt.date(ev.year, 1, 1)
        self.plan_start = dt.date(ev.year - 1, PLAN_EARLIEST_MONTH, 1)
        self.end = dt.date(ev.year, 12, 31)
        self.skip_missing: set[str] = set()  # leaves whose missing figures are already reported otherwise
        self.unknown_claims: list[tuple[str, Claim]] = []  # bonus/penalty ids not in the criteria set
        self.ev = self._prepare(ev)
        self.evaluator = evaluator_for(bundle)
        self.card = score(bundle, self.ev, strict=False, evaluator=self.evaluator)
        self.base_lost = self._lost(self.card)

    # ---------------------------------------------------------- helpers

    @staticmethod
    def _lost(card: Scorecard) -> Decimal:
        return card.total.max_points - card.total.points

    def _rescore(self, evidence: dict[str, LeafEvidence] | None = None, **update: Any) -> Scorecard:
        if evidence is not None:
            update["evidence"] = evidence
        return score(self.bundle, self.ev.model_copy(update=update), strict=False, evaluator=self.evaluator)

    def risk_if(self, code: str, leaf: LeafEvidence | None) -> Decimal:
        """Points the total would lose if the council saw ``leaf`` (None: no evidence) instead."""
        evidence = dict(self.ev.evidence)
        if leaf is None:
            evidence.pop(code, None)
        else:
            evidence[code] = leaf
        return max(Decimal(0), self._lost(self._rescore(evidence)) - self.base_lost)

    def gain_if(self, code: str, leaf: LeafEvidence) -> Decimal:
        """Points the total would gain with ``leaf`` (the evidence completed)."""
        evidence = dict(self.ev.evidence)
        evidence[code] = leaf
        return max(Decimal(0), self.base_lost - self._lost(self._rescore(evidence)))

    def with_values(self, leaf: LeafEvidence, **values: Any) -> LeafEvidence:
        return leaf.model_copy(update={"values": {**leaf.values, **values}})

    def title(self, code: str) -> str | None:
        node = self.index.get(code)
        return node.title if node else None

    def add(self, code: str, kind: str, risk: Decimal, message: str, fix: str, *, certain: bool = False,
            subject: str | None = None, line: int | None = None, title: str | None = None) -> None:
        severity = "low" if risk <= 0 else ("high" if certain else "medium")
        cell = self.cell(code, kind, subject)
        if self.original.cells:  # the clerk works in the workbook: say the fix in its columns, not in YAML keys
            message, fix = workbook_terms(message), workbook_terms(fix)
        self.gaps.append(Gap(code=code, kind=kind, severity=severity, points_at_risk=max(risk, Decimal(0)),
                             message=message, fix=fix, title=title or self.title(code), subject=subject,
                             file=self.original.file or None, line=None if cell else line, cell=cell))

    def cell(self, code: str, kind: str, subject: str | None) -> str | None:
        """The workbook cell a gap is about: the value's cell, the justification, the documents, or the row."""
        cells = self.original.cells.get(code)
        if not cells:
            return None
        for name in (subject or "").split(", "):
            if name in cells:
                return cells[name]
            dated = next((v for k, v in cells.items() if k.endswith(f"|{name}")), None) if name else None
            if dated:
                return dated
        if kind == "unjustified_not_applicable":
            return cells.get("#justification")
        if kind == "contradiction":
            return cells.get("#na")
        if kind in ("missing_evidence", "unresolved_document", "document_outside_year", "document_date_mismatch"):
            return cells.get("#documents", cells.get("#row"))
        return cells.get("#row")

    def parsed(self, rule: CompiledRule, leaf: LeafEvidence) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for name, raw in leaf.values.items():
            spec = rule.rule.spec(name)
            if spec is None or raw is None or raw == "":
                continue
            try:
                out[name] = parse_value(spec.type, raw)
            except ValueError_:
                continue  # score() reports it as bad input
        return out

    # ---------------------------------------------------------- before scoring

    def _prepare(self, ev: EvidenceFile) -> EvidenceFile:
        """Turn what would stop score() (numerator > denominator, unknown bonus ids) into gaps."""
        evidence = dict(ev.evidence)
        for code, leaf in ev.evidence.items():
            rule = self.bundle.rules.get(code)
            if rule is None or rule.kind != "ratio":
                continue
            r = rule.rule
            values = self.parsed(rule, leaf)
            num, den = values.get(r.numerator), values.get(r.denominator)
            if num is None or den is None or num <= den:
                continue
            node = self.index[code]
            self.skip_missing.add(code)
            # the whole sub-criterion is lost until corrected: the engine cannot score it
            self.add(code, "contradiction", node.max_points,
                     f"Tử số lớn hơn mẫu số: {r.spec(r.numerator).description} = {format_number(num)}, nhưng "
                     f"{r.spec(r.denominator).description} = {format_number(den)}. Tiêu chí không chấm được.",
                     f"Đối chiếu lại hai số liệu '{r.numerator}' và '{r.denominator}' với sổ theo dõi/hệ thống "
                     f"rồi sửa trong tệp tài liệu kiểm chứng.",
                     certain=True, subject=r.numerator, line=leaf.value_lines.get(r.numerator, leaf.line))
            evidence[code] = leaf.model_copy(update={"values": {k: v for k, v in leaf.values.items()
                                                                 if k not in (r.numerator, r.denominator)}})
        update: dict[str, Any] = {"evidence": evidence}
        for kind in ("bonus", "penalty"):
            adj = getattr(self.cset.adjustments, kind)
            catalogue = {i.id: i for i in adj.items} if adj else {}
            kept: list[Claim] = []
            for claim in getattr(ev, kind):
                if claim.id in catalogue:
                    kept.append(claim)
                    continue
                self.unknown_claims.append((kind, claim))
            update[kind] = tuple(kept)
        return ev.model_copy(update=update)

    # ---------------------------------------------------------- checks

    def run(self) -> list[Gap]:
        self.check_unused()
        for code, rule in self.bundle.rules.items():
            node = self.card.node(code)
            leaf = self.ev.evidence.get(code)
            self.check_leaf(code, rule, node, leaf)
        self.check_identities()
        self.check_bonus()
        return self.gaps

    def check_unknown_claims(self) -> None:
        for kind, claim in self.unknown_claims:
            adj = getattr(self.cset.adjustments, kind)
            catalogue = {i.id: i for i in adj.items} if adj else {}
            guess = did_you_mean(claim.id, catalogue)
            target = guess.split("'")[1] if guess else None
            risk = Decimal(0)
            if kind == "bonus" and target:  # a misspelt bonus id loses the bonus it meant
                fixed = self.ev.bonus + (claim.model_copy(update={"id": target}),)
                risk = max(Decimal(0), self.base_lost - self._lost(self._rescore(bonus=fixed)))
            self.add(f"{kind}:{claim.id}", "unused_evidence", risk,
                     f"Mục điểm {'thưởng' if kind == 'bonus' else 'phạt'} '{claim.id}' không có trong bộ tiêu chí "
                     f"{self.cset.id}; không được tính.",
                     (f"Sửa mã thành '{target}'." if target else
                      f"Dùng một mã có trong bộ tiêu chí: {', '.join(catalogue) or '(không có)'}."),
                     subject=claim.id, line=claim.line, title="Điểm thưởng" if kind == "bonus" else "Điểm phạt")

    def check_unused(self) -> None:
        self.check_unknown_claims()
        missing_by_code = {n.code: n for n in self.card.leaves() if n.outcome == "missing_evidence"}
        for code, leaf in self.original.evidence.items():
            if code in self.bundle.rules:
                rule = self.bundle.rules[code]
                declared = [e.name for e in rule.rule.evidence]
                for name in leaf.values:
                    if name in declared:
                        continue
                    guess = did_you_mean(name, declared)
                    target = guess.split("'")[1] if guess else None
                    node = missing_by_code.get(code)
                    risk = node.lost if node is not None and target in node.missing else Decimal(0)
                    self.add(code, "unused_evidence", risk,
                             f"Số liệu '{name}' không được quy tắc của tiêu chí {code} sử dụng"
                             + (f" (có phải '{target}'?)" if target else "") + ".",
                             (f"Đổi tên '{name}' thành '{target}'." if target else
                              f"Xóa '{name}' hoặc chuyển sang đúng tiêu chí; tiêu chí {code} dùng: {', '.join(declared)}."),
                             subject=name, line=leaf.value_lines.get(name, leaf.line))
                continue
            node = self.index.get(code)
            if node is not None:
                msg = f"Mục {code} có tiêu chí thành phần; số liệu ghi ở mục cha không được chấm."
                fix = f"Chuyển số liệu xuống các tiêu chí thành phần: {', '.join(c.code for c in node.children)}."
                risk = Decimal(0)
            else:
                guess = did_you_mean(code, self.bundle.rules)
                target = guess.split("'")[1] if guess else None
                msg = (f"Không có tiêu chí thành phần '{code}' trong bộ tiêu chí {self.cset.id}; số liệu này không được chấm"
                       + (f" (có phải '{target}'?)." if target else "."))
                fix = (f"Sửa mã thành \"{target}\" (nhớ đặt mã trong dấu ngoặc kép)." if target else
                       "Xóa mục này hoặc kiểm tra lại mã tiêu chí trong bảng tự chấm điểm.")
                tnode = missing_by_code.get(target) if target else None
                risk = tnode.lost if tnode is not None and target not in self.original.evidence else Decimal(0)
            self.add(code, "unused_evidence", risk, msg, fix, subject=code, line=leaf.line)

    def check_leaf(self, code: str, rule: CompiledRule, node: Any, leaf: LeafEvidence | None) -> None:
        r = rule.rule
        if node.external:
            return  # survey points come from the province, with its own documents
        if node.outcome == "missing_evidence" and code not in self.skip_missing:
            names = [r.spec(n).description for n in node.missing if r.spec(n)] or ["số liệu dùng được"]
            na_hint = ("" if r.not_applicable.policy == "zero" else
                       " Nếu năm nay không phát sinh, ghi not_applicable: true kèm lý do (justification).")
            self.add(code, "missing_evidence", node.lost,
                     f"Chưa có số liệu: {'; '.join(names)}. Tiêu chí đang bị tính 0 điểm.",
                     f"Nhập {', '.join(repr(n) for n in node.missing) or 'số liệu'} vào mục \"{code}\" của tệp "
                     f"tài liệu kiểm chứng và kèm văn bản chứng minh (số hiệu, ngày, cơ quan ban hành).{na_hint}",
                     certain=True, subject=", ".join(node.missing) or None, line=leaf.line if leaf else None)
        if leaf is None:
            return
        if leaf.not_applicable:
            self.check_not_applicable(code, rule, node, leaf)
        values = self.parsed(rule, leaf)
        if r.kind == "deadline" and r.value in values:
            self.check_deadline(code, rule, leaf, values[r.value])
        elif r.kind in ("all", "any"):
            self.check_dated_values(code, rule, leaf, values)
        if leaf.computed:
            self.check_computed(code, rule, leaf, values)
        self.check_documents(code, rule, node, leaf)

    def check_not_applicable(self, code: str, rule: CompiledRule, node: Any, leaf: LeafEvidence) -> None:
        rejected = leaf.model_copy(update={"not_applicable": False})
        if not (leaf.justification or "").strip():
            self.add(code, "unjustified_not_applicable", self.risk_if(code, rejected),
                     f"Khai \"không phát sinh\" nhưng không nêu lý do; Hội đồng thẩm định có thể không chấp nhận "
                     f"({_policy_vi(rule)}).",
                     "Ghi lý do không phát sinh (justification), dẫn văn bản chứng minh (ví dụ báo cáo năm nêu "
                     "\"không có hồ sơ trễ hạn\") và kèm văn bản đó trong tài liệu kiểm chứng.",
                     certain=True, subject="not_applicable", line=leaf.line)
        present = {k: v for k, v in leaf.values.items() if v not in (None, "")}
        if present:
            shown = ", ".join(f"{k} = {v}" for k, v in present.items())
            self.add(code, "contradiction", self.risk_if(code, rejected),
                     f"Vừa khai \"không phát sinh\" vừa có số liệu ({shown}); nếu Hội đồng chấm theo số liệu, "
                     f"tiêu chí sẽ được chấm như đã phát sinh.",
                     "Bỏ khai \"không phát sinh\" (not_applicable) nếu nội dung có phát sinh, hoặc xóa các số liệu nếu "
                     "thật sự không phát sinh.",
                     subject=next(iter(present)), line=leaf.line)

    def check_deadline(self, code: str, rule: CompiledRule, leaf: LeafEvidence,
                       given: dict[str, dt.date | None]) -> None:
        r = rule.rule
        line = leaf.value_lines.get(r.value, leaf.line)
        items = list(r.items)
        delivered = [i for i in items if given.get(i.label) is not None]
        last = max((items.index(i) for i in delivered), default=-1)
        documented = {d.item for d in leaf.documents if d.item}
        for pos, item in enumerate(items):
            when = given.get(item.label)
            if when is None and item.label in documented:
                continue  # a document proves it: check_item_documents asks for the date
            if when is None:
                filled = self.with_values(leaf, **{r.value: {**given, item.label: item.due}})
                gain = self.gain_if(code, filled)
                if pos < last:
                    self.add(code, "contradiction", gain,
                             f"Danh sách bỏ sót kỳ \"{item.label}\" (hạn {_date(item.due)}) trong khi các kỳ sau đã có.",
                             f"Bổ sung ngày của \"{item.label}\" và văn bản (số hiệu, ngày) nếu đã thực hiện; nếu chưa, "
                             "thực hiện ngay và nêu rõ trong giải trình.",
                             certain=True, subject=item.label, line=line)
                else:
                    self.add(code, "missing_evidence", gain,
                             f"Chưa có \"{item.label}\" (hạn {_date(item.due)}).",
                             f"Gửi \"{item.label}\" trước hạn và ghi ngày gửi, số hiệu văn bản vào mục \"{code}\".",
                             certain=True, subject=item.label, line=line)
                continue
            if not (self._plan_like(code) and when >= self.plan_start) and not self.start <= when <= self.end:
                removed = self.with_values(leaf, **{r.value: {**given, item.label: None}})
                self.add(code, "stale_document", self.risk_if(code, removed),
                         f"Ngày của \"{item.label}\" là {_date(when)}, ngoài năm đánh giá {self.year}.",
                         f"Kiểm tra lại năm của ngày \"{item.label}\" (thường là gõ nhầm năm) và văn bản kèm theo.",
                         subject=item.label, line=line)
        self.check_item_documents(code, rule, leaf, given)

    def _plan_like(self, code: str) -> bool:
        return "kế hoạch" in (self.title(code) or "").lower()

    def check_item_documents(self, code: str, rule: CompiledRule, leaf: LeafEvidence,
                             given: dict[str, dt.date | None]) -> None:
        r = rule.rule
        labels = {i.label: i for i in r.items}
        tagged = [d for d in leaf.documents if d.item]
        if not tagged:
            return
        proven = {d.item for d in tagged}
        for label, item in labels.items():
            when = given.get(label)
            if when is None or label in proven:
                continue
            removed = self.with_values(leaf, **{r.value: {**given, label: None}})
            self.add(code, "missing_evidence", self.risk_if(code, removed),
                     f"\"{label}\" ghi ngày {_date(when)} nhưng không có văn bản nào kèm item: {label}.",
                     f"Bổ sung văn bản của \"{label}\" (số hiệu, ngày, cơ quan ban hành) và ghi rõ văn bản đó chứng minh "
                     f"kỳ \"{label}\" (item: {label}).",
                     subject=label, line=leaf.value_lines.get(r.value, leaf.line))
        for doc in tagged:
            item = labels.get(doc.item or "")
            if item is None:
                guess = did_you_mean(doc.item or "", labels)
                self.add(code, "unresolved_document", Decimal(0),
                         f"Văn bản {doc.label()} ghi item: {doc.item}, không khớp kỳ nào của tiêu chí {code} "
                         f"({', '.join(labels)}).",
                         (f"Sửa kỳ (item) thành '{guess.split(chr(39))[1]}'." if guess else
                          f"Dùng một trong các kỳ: {', '.join(labels)}."),
                         subject=doc.number or doc.item, line=doc.line)
                continue
            when = given.get(item.label)
            if doc.date is None or not self._in_window(code, doc) or doc.date == when:
                continue  # no date / outside the year: reported by check_documents
            as_doc = self.with_values(leaf, **{r.value: {**given, item.label: doc.date}})
            if when is None:
                self.add(code, "contradiction", self.gain_if(code, as_doc),
                         f"Có văn bản {_ref(doc)} cho \"{item.label}\" nhưng bảng số liệu chưa ghi ngày.",
                         f"Ghi ngày {_date(doc.date)} cho \"{item.label}\" trong bảng số liệu.",
                         certain=True, subject=doc.number or item.label, line=doc.line)
            elif doc.date > item.due >= when:
                self.add(code, "stale_document", self.risk_if(code, as_doc),
                         f"Văn bản {_ref(doc)} đề ngày {_date(doc.date)}, sau hạn {_date(item.due)} của "
                         f"\"{item.label}\", trong khi bảng số liệu ghi ngày {_date(when)} (đúng hạn).",
                         "Kèm văn bản đúng (có ngày đúng hạn) hoặc sửa ngày trong bảng số liệu cho khớp văn bản.",
                         certain=True, subject=doc.number or item.label, line=doc.line)
            else:
                risk = self.risk_if(code, as_doc)
                gain = self.gain_if(code, as_doc)
                self.add(code, "contradiction", max(risk, gain),
                         f"Ngày trên văn bản {_ref(doc)} ({_date(doc.date)}) khác ngày ghi cho \"{item.label}\" "
                         f"({_date(when)}).",
                         "Sửa cho khớp: ngày ghi trong bảng số liệu phải là ngày trên văn bản kèm theo.",
                         subject=doc.number or item.label, line=doc.line)

    def check_dated_values(self, code: str, rule: CompiledRule, leaf: LeafEvidence, values: dict[str, Any]) -> None:
        """A document with ``item: <date evidence name>`` must carry the date the table states."""
        r = rule.rule
        for doc in leaf.documents:
            spec = r.spec(doc.item) if doc.item else None
            if spec is None or spec.type != "date" or doc.date is None or doc.item not in values:
                continue
            when = values[doc.item]
            if when == doc.date:
                continue
            as_doc = self.with_values(leaf, **{doc.item: doc.date})
            self.add(code, "contradiction", max(self.risk_if(code, as_doc), self.gain_if(code, as_doc)),
                     f"{spec.description}: bảng số liệu ghi {_date(when)} nhưng văn bản {_ref(doc)} đề ngày "
                     f"{_date(doc.date)}.",
                     "Sửa cho khớp với văn bản (ngày ban hành ghi trên văn bản là căn cứ thẩm định).",
                     subject=doc.number or doc.item, line=doc.line)

    def check_computed(self, code: str, rule: CompiledRule, leaf: LeafEvidence, values: dict[str, Any]) -> None:
        r = rule.rule
        stated: dict[str, Any] = {}
        unreadable: list[str] = []
        for name in leaf.computed:
            if name not in leaf.stated_values or leaf.stated_values[name] in (None, "") or r.spec(name) is None:
                continue
            try:
                stated[name] = parse_value(r.spec(name).type, leaf.stated_values[name])
            except ValueError_:
                unreadable.append(name)
        differ = [n for n, v in stated.items()
                  if n in values and not same_as_stated(r.spec(n).type, leaf.stated_values[n], v, values[n])]
        if not differ and not unreadable:
            return

        def show(vals: dict[str, Any]) -> str:
            parts = [f"{n} = {format_value(r.spec(n).type, vals[n])}" for n in differ if n in vals]
            if r.kind == "ratio" and r.numerator in vals and r.denominator in vals and vals[r.denominator]:
                parts.append(f"tỷ lệ {format_value('rate', Fraction(vals[r.numerator], vals[r.denominator]))}")
            return ", ".join(parts)

        mixed = {**values, **stated}
        risk = Decimal(0)
        if not (r.kind == "ratio" and mixed.get(r.numerator, 0) > mixed.get(r.denominator, 0)):
            risk = self.risk_if(code, self.with_values(leaf, **{n: stated[n] for n in differ}))
        text = (f"Số liệu khai trong tệp: {show(mixed)}; số liệu tính từ hồ sơ: {show(values)}."
                if differ else "")
        if unreadable:
            text += f" Không đọc được số liệu khai cho {', '.join(unreadable)}."
        self.add(code, "computed_mismatch", risk, text.strip(),
                 "Dùng số liệu tính từ hồ sơ trên Hệ thống thông tin giải quyết TTHC và sửa báo cáo, tệp tài liệu "
                 "kiểm chứng cho khớp; nếu hệ thống sai, ghi rõ hồ sơ nào và lý do trong giải trình.",
                 subject=", ".join(differ + unreadable), line=leaf.value_lines.get((differ + unreadable)[0], leaf.line))

    def _in_window(self, code: str, doc: Document) -> bool:
        if doc.date is None:
            return True
        start = self.plan_start if _is_plan(doc) else self.start
        return start <= doc.date <= self.end

    def doc_risk(self, code: str, rule: CompiledRule | None, leaf: LeafEvidence, doc: Document) -> Decimal:
        """Points lost if the council rejected this one document."""
        if rule is not None and rule.kind == "deadline" and doc.item:
            given = self.parsed(rule, leaf).get(rule.rule.value)
            if isinstance(given, dict) and doc.item in given:
                return self.risk_if(code, self.with_values(leaf, **{rule.rule.value: {**given, doc.item: None}}))
        return self.risk_if(code, None)

    def check_documents(self, code: str, rule: CompiledRule, node: Any, leaf: LeafEvidence) -> None:
        if not leaf.documents:
            if leaf.computed or node.outcome == "missing_evidence" or not (leaf.justification or "").strip() and leaf.not_applicable:
                return
            risk = self.risk_if(code, None)
            if risk <= 0:
                return
            what = ("lý do \"không phát sinh\"" if leaf.not_applicable else _claim_text(rule, node))
            self.add(code, "missing_evidence", risk,
                     f"Chưa có tài liệu kiểm chứng cho {what}; Hội đồng thẩm định có thể không công nhận "
                     f"{_pts(node.points)} điểm tự chấm.",
                     f"Bổ sung văn bản chứng minh cho mục \"{code}\": số hiệu, ngày ban hành, cơ quan ban hành, trích yếu.",
                     subject=None, line=leaf.line)
            return
        for doc in leaf.documents:
            if self.dossier_file and doc.file and Path(doc.file).resolve() == self.dossier_file:
                continue  # the dossier export itself, put there by --dossiers: checked by scoring.dossiers
            self.check_document(code, rule, leaf, doc)

    def check_document(self, code: str, rule: CompiledRule | None, leaf: LeafEvidence | None, doc: Document,
                       risk_fn: Any = None, title: str | None = None) -> None:
        def risk() -> Decimal:
            return risk_fn() if risk_fn else self.doc_risk(code, rule, leaf, doc)  # type: ignore[arg-type]

        label = doc.label()
        lacks = [w for w, v in (("số hiệu", doc.number), ("ngày ban hành", doc.date)) if not v]
        problems: list[str] = []
        fixes: list[str] = []
        if lacks:
            problems.append(f"thiếu {' và '.join(lacks)}")
            fixes.append(f"ghi {' và '.join(lacks)} của văn bản")
        if self.documents is not None:
            found = self.documents.find_file(doc.file) if doc.file else (
                self.documents.find_number(doc.number) if doc.number else None)
            if found is None:
                problems.append(f"không tìm thấy tệp '{doc.file}' trong thư mục tài liệu" if doc.file else
                                "trong thư mục tài liệu không có tệp nào mang số hiệu này trong tên")
                fixes.append(f"đặt bản scan vào thư mục {self.documents.root.name}/ và ghi file: <tên tệp>"
                             if not doc.file else f"kiểm tra tên tệp '{doc.file}' (đường dẫn tính từ thư mục tài liệu)")
        if problems:
            self.add(code, "unresolved_document", risk(),
                     f"Văn bản {label}: {'; '.join(problems)}.", _cap("; ".join(fixes)) + ".",
                     subject=doc.number or doc.file or doc.title, line=doc.line, title=title)
        if doc.date is not None and not self._in_window(code, doc):
            early = doc.date < self.start
            plan_note = (f" (kế hoạch năm {self.year} được chấp nhận từ {_date(self.plan_start)})"
                         if _is_plan(doc) else "")
            self.add(code, "stale_document", risk(),
                     f"Văn bản {_ref(doc)} đề ngày {_date(doc.date)}, "
                     f"{'trước' if early else 'sau'} năm đánh giá {self.year}{plan_note}.",
                     (f"Thay bằng văn bản ban hành trong năm {self.year}, hoặc sửa ngày nếu gõ nhầm; "
                      "nếu văn bản năm trước vẫn là căn cứ, nêu rõ trong giải trình."),
                     subject=doc.number or doc.title, line=doc.line, title=title)

    def check_identities(self) -> None:
        tagged: dict[str, tuple[str, str, Any, LeafEvidence]] = {}
        declared_na: dict[str, tuple[str, LeafEvidence]] = {}  # tag → leaf claiming "không phát sinh"
        for code, rule in self.bundle.rules.items():
            leaf = self.ev.evidence.get(code)
            if leaf is None:
                continue
            if leaf.not_applicable:
                for spec in rule.rule.evidence:
                    if spec.computed_from:
                        declared_na[spec.computed_from] = (code, leaf)
                continue
            values = self.parsed(rule, leaf)
            for spec in rule.rule.evidence:
                if spec.computed_from and spec.name in values:
                    tagged[spec.computed_from] = (code, spec.name, values[spec.name], leaf)
        late_tag, recv_tag, ok_tag = LATE_IDENTITY
        if late_tag in declared_na and recv_tag in tagged and ok_tag in tagged:
            code, leaf = declared_na[late_tag]
            rcode, rname, received, _ = tagged[recv_tag]
            _, oname, on_time, _ = tagged[ok_tag]
            expected = received - on_time
            rule = self.bundle.rules[code].rule
            if expected > 0 and rule.kind == "ratio":
                # rejected claim, scored with the late dossiers of 3.4.1 and no apology letter on file
                rejected = leaf.model_copy(update={"not_applicable": False, "values": {
                    **leaf.values, rule.denominator: expected, rule.numerator: 0}})
                self.add(code, "contradiction", self.risk_if(code, rejected),
                         f"Tiêu chí {code} khai không phát sinh, nhưng theo tiêu chí {rcode} có "
                         f"{format_number(received)} − {format_number(on_time)} = {format_number(expected)} "
                         "hồ sơ không đúng hạn.",
                         f"Bỏ khai \"không phát sinh\", ghi số hồ sơ trễ hạn và số hồ sơ đã có văn bản xin lỗi; "
                         f"hoặc sửa số liệu {rcode} ('{rname}', '{oname}') nếu số đó sai.",
                         subject="not_applicable", line=leaf.line)
        if late_tag in tagged and recv_tag in tagged and ok_tag in tagged:
            code, name, late, leaf = tagged[late_tag]
            rcode, rname, received, _ = tagged[recv_tag]
            _, oname, on_time, _ = tagged[ok_tag]
            expected = received - on_time
            if expected >= 0 and late != expected:
                rule = self.bundle.rules[code].rule
                fixed: dict[str, Any] = {name: expected}
                if rule.kind == "ratio" and rule.numerator != name:
                    num = self.parsed(self.bundle.rules[code], leaf).get(rule.numerator)
                    if num is not None and num > expected:
                        fixed[rule.numerator] = expected
                self.add(code, "contradiction", self.risk_if(code, self.with_values(leaf, **fixed)),
                         f"Tiêu chí {code} ghi {format_number(late)} hồ sơ trễ hạn, nhưng theo tiêu chí {rcode} "
                         f"có {format_number(received)} − {format_number(on_time)} = {format_number(expected)} "
                         f"hồ sơ không đúng hạn.",
                         f"Đối chiếu danh sách hồ sơ trễ hạn với số liệu {rcode} ('{rname}', '{oname}') và văn bản "
                         "xin lỗi; mỗi hồ sơ trễ hạn cần một văn bản xin lỗi.",
                         subject=name, line=leaf.value_lines.get(name, leaf.line))
        for first, second in SAME_QUANTITY:
            if first not in tagged or second not in tagged:
                continue
            acode, aname, a, aleaf = tagged[first]
            bcode, bname, b, bleaf = tagged[second]
            if a == b:
                continue
            risk = max(self._safe_risk(acode, aleaf, aname, b), self._safe_risk(bcode, bleaf, bname, a))
            self.add(bcode, "contradiction", risk,
                     f"Cùng là số hồ sơ tiếp nhận trong kỳ nhưng tiêu chí {acode} ghi {format_number(a)} "
                     f"('{aname}') còn tiêu chí {bcode} ghi {format_number(b)} ('{bname}').",
                     "Lấy cùng một số liệu từ Hệ thống thông tin giải quyết TTHC cho cả hai tiêu chí.",
                     subject=bname, line=bleaf.value_lines.get(bname, bleaf.line))

    def _safe_risk(self, code: str, leaf: LeafEvidence, name: str, value: Any) -> Decimal:
        rule = self.bundle.rules[code].rule
        if rule.kind == "ratio" and name == rule.denominator:
            num = self.parsed(self.bundle.rules[code], leaf).get(rule.numerator)
            if num is not None and num > value:
                return self.index[code].max_points
        return self.risk_if(code, self.with_values(leaf, **{name: value}))

    def check_bonus(self) -> None:
        adj = self.cset.adjustments.bonus
        if adj is None:
            return
        titles = {i.id: i.title for i in adj.items}
        for i, claim in enumerate(self.ev.bonus):
            code = f"bonus:{claim.id}"

            def risk(i: int = i) -> Decimal:
                kept = tuple(c for j, c in enumerate(self.ev.bonus) if j != i)
                return max(Decimal(0), self._lost(self._rescore(bonus=kept)) - self.base_lost)

            title = f"Điểm thưởng: {titles.get(claim.id, claim.id)}"
            if not claim.documents:
                self.add(code, "missing_evidence", risk(),
                         "Đề nghị điểm thưởng nhưng chưa có văn bản công nhận (quyết định, giấy khen…).",
                         "Bổ sung văn bản công nhận cho mục điểm thưởng: số hiệu, ngày, cơ quan công nhận.",
                         subject=claim.id, line=claim.line, title=title)
            for doc in claim.documents:
                self.check_document(code, None, None, doc, risk_fn=risk, title=title)


#: YAML words in the audit's fixes, and what a clerk working in the evidence workbook does instead
_WORKBOOK_TERMS = (
    ("ghi not_applicable: true kèm lý do (justification)",
     "chọn 'có' ở cột 'Không phát sinh' và ghi lý do ở cột 'Giải trình không phát sinh'"),
    ("Ghi lý do không phát sinh (justification)", "Ghi lý do ở cột 'Giải trình không phát sinh'"),
    ("Bỏ khai \"không phát sinh\" (not_applicable)", "Xóa 'có' ở cột 'Không phát sinh'"),
    ("của tệp tài liệu kiểm chứng", "của bảng tính (cột 'Giá trị' trên dòng của tiêu chí)"),
    ("(nhớ đặt mã trong dấu ngoặc kép)", "(cột 'Mã', định dạng ô là Text)"),
    ("Sửa kỳ (item) thành", "Sửa cột 'Mục / kỳ' thành"),
    ("Dùng một trong các kỳ:", "Ở cột 'Mục / kỳ' dùng một trong các kỳ:"),
)
_ITEM = re.compile(r"\(item: ([^)]*)\)")
_WITH_ITEM = re.compile(r"kèm item: ([^.]*)\.")
_DOC_ITEM = re.compile(r"ghi item: ")


def workbook_terms(text: str) -> str:
    """``text`` with the YAML keys a fix names (not_applicable, justification, item:) said as workbook columns."""
    for yaml_words, workbook_words in _WORKBOOK_TERMS:
        text = text.replace(yaml_words, workbook_words)
    text = _ITEM.sub(lambda m: f"(cột 'Mục / kỳ' ghi {m.group(1)})", text)
    text = _WITH_ITEM.sub(lambda m: f"ghi '{m.group(1)}' ở cột 'Mục / kỳ'.", text)
    return _DOC_ITEM.sub("ghi ở cột 'Mục / kỳ': ", text)


def _claim_text(rule: CompiledRule, node: Any) -> str:
    values = [e.text for e in node.evidence if e.kind == "value"]
    if rule.kind in ("boolean", "all", "any") and values:
        return "số liệu tự khai (" + "; ".join(values) + ")"
    return f"kết quả {node.measured_text}"


def _cap(text: str) -> str:
    return text[:1].upper() + text[1:]


def _policy_vi(rule: CompiledRule) -> str:
    na = rule.rule.not_applicable
    return {"award_max": "nếu được chấp nhận, tiêu chí được điểm tối đa",
            "exclude": "nếu được chấp nhận, tiêu chí không tính vào điểm tối đa",
            "redistribute": f"nếu được chấp nhận, điểm chuyển sang {', '.join(na.to)}",
            "zero": "tiêu chí này không được điểm khi không phát sinh"}[na.policy]


def audit(bundle: Bundle, ev: EvidenceFile, documents_dir: Path | str | None = None,
          dossier_file: str | None = None) -> AuditResult:
    """Every gap in ``ev`` with its points at risk, largest first. Raises InputError only for bad input.

    ``dossier_file`` is the export given to --dossiers: the document reference scoring.dossiers adds for
    it is not checked like a scanned document."""
    folder = DocumentFolder(Path(documents_dir)) if documents_dir else None
    auditor = _Auditor(bundle, ev, folder, dossier_file)
    gaps = auditor.run()
    order = {n.code: i for i, n in enumerate(bundle.criteria.walk())}
    kind_order = {k: i for i, k in enumerate(KINDS)}
    sev_order = {s: i for i, s in enumerate(SEVERITIES)}
    gaps.sort(key=lambda g: (-g.points_at_risk, sev_order[g.severity], order.get(g.code, len(order)), g.code,
                             kind_order[g.kind], g.line or 0))
    # score() starts its warnings with the evidence's own (e.g. from --dossiers); the ones it adds after
    # them for unknown codes and names are gaps here
    # …and a stated value that differs from the computed one is a computed_mismatch gap, not also a note
    added = auditor.card.warnings[len(ev.warnings):]
    mismatched = {g.code for g in gaps if g.kind == "computed_mismatch"}
    notes = [w for w in ev.warnings if not any(w.startswith(f"{c}: ") for c in mismatched)]
    notes += [w for w in added if not any(w.startswith(f"{c}: ") for c in ev.evidence)]
    external_missing = [n.code for n in auditor.card.leaves() if n.external and n.outcome == "missing_evidence"]
    if external_missing:
        notes = [w for w in notes if "điều tra xã hội học" not in w]
        notes.append(f"Chưa có điểm điều tra xã hội học ({', '.join(external_missing)}): do tỉnh cung cấp, "
                     f"không tính là thiếu tài liệu của {auditor.card.unit.noun}; tổng điểm là tạm tính.")
    return AuditResult(gaps=tuple(gaps), card=auditor.card, evidence_file=ev.file,
                       documents_dir=str(documents_dir) if documents_dir else None, notes=tuple(notes))
