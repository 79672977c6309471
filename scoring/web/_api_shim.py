"""Private stand-in for ``scoring.api`` until the layout change lands on main (tag ``layout-done``).

It offers exactly the names of ``scoring.api`` the web application uses, calling today's modules the
way ``scoring/cli.py`` and the ``cmd_*`` functions do. Deleted once ``scoring.api`` exists.
"""

from __future__ import annotations

import dataclasses
import tempfile
from dataclasses import dataclass
from pathlib import Path
from types import SimpleNamespace
from typing import Any, Sequence

from ..errors import DefinitionError, InputError, ParindexError, Problem
from ..evidence import EvidenceFile
from ..rules import Bundle
from ..scorecard import Scorecard

__all__ = ["Bundle", "DefinitionError", "DossierInputs", "EvidenceFile", "InputError", "ParindexError", "Problem",
           "Scorecard", "WhatIf", "audit", "compare", "evidence_cells", "evidence_with_dossiers", "explain", "explanation_docx",
           "load_bundle",
           "load_evidence", "load_peers", "rank", "render", "score", "template", "to_json", "whatif"]


@dataclass(frozen=True)
class DossierInputs:
    dossiers: Path
    mapping: Path | None = None
    procedures: Path | None = None
    period: str | None = None
    skip_bad_rows: bool = False


@dataclass(frozen=True)
class WhatIf:
    data: dict[str, Any]


def load_bundle(criteria_dir: Path | None = None, rules_dir: Path | None = None, set_id: str | None = None) -> Bundle:
    from ..rules import load_bundle as _load

    return _load(criteria_dir, rules_dir, set_id)


def _renamed(problems: Sequence[Problem], real: str, shown: str) -> list[Problem]:
    return [dataclasses.replace(p, file=shown) if p.file == real else p for p in problems]


def load_evidence(source: Path | bytes, *, filename: str | None = None, bundle: Bundle | None = None,
                  criteria_dir: Path | None = None, rules_dir: Path | None = None) -> EvidenceFile:
    """Evidence from a YAML or XLSX file (or its bytes), recognised by content."""
    from ..evidence import load_evidence as _yaml
    from ..excel import read_evidence_workbook

    if isinstance(source, (bytes, bytearray)):
        shown = filename or "evidence"
        with tempfile.TemporaryDirectory(prefix="parindex-") as tmp:
            is_zip = bytes(source[:4]) == b"PK\x03\x04"
            path = Path(tmp) / ("evidence.xlsx" if is_zip else "evidence.yaml")
            path.write_bytes(bytes(source))
            try:
                ev = (read_evidence_workbook(path, bundle, criteria_dir, rules_dir) if is_zip else _yaml(path))
            except ParindexError as exc:
                raise type(exc)(_renamed(exc.problems, str(path), shown)) from None
            return ev.model_copy(update={"file": shown})
    path = Path(source)
    with open(path, "rb") as fh:
        is_zip = fh.read(4) == b"PK\x03\x04"
    ev = read_evidence_workbook(path, bundle, criteria_dir, rules_dir) if is_zip else _yaml(path)
    return ev.model_copy(update={"file": filename}) if filename else ev


def score(bundle: Bundle, evidence: EvidenceFile, sets: Sequence[str] = ()) -> Scorecard:
    from ..engine import overrides_from
    from ..engine import score as _score

    return _score(bundle, evidence, overrides_from(list(sets)))


def evidence_with_dossiers(bundle: Bundle, evidence: EvidenceFile, inputs: DossierInputs) -> EvidenceFile:
    from ..dossiers import augment_evidence

    args = SimpleNamespace(dossiers=str(inputs.dossiers), mapping=str(inputs.mapping) if inputs.mapping else None,
                           procedures=str(inputs.procedures) if inputs.procedures else None, period=inputs.period,
                           skip_bad_rows=inputs.skip_bad_rows)
    return augment_evidence(bundle, evidence, args)  # type: ignore[arg-type]


def explain(card: Scorecard) -> dict[str, Any]:
    from ..explain import explain_json

    return explain_json(card)


def whatif(bundle: Bundle, evidence: EvidenceFile, sets: Sequence[str], peers: Any = None) -> WhatIf:
    from ..simulate import whatif as _whatif

    return WhatIf(_whatif(bundle, evidence, list(sets), peers))


def audit(bundle: Bundle, evidence: EvidenceFile, documents_dir: Path | None = None,
          dossier_file: str | None = None) -> Any:
    from ..audit import audit as _audit

    return _audit(bundle, evidence, documents_dir, dossier_file)


def compare(bundle: Bundle, evidence: EvidenceFile, appraisal: Path, sheet: str | None = None) -> Any:
    """As ``parindex compare``: the self-score, the council's points, the audit's gaps, the draft giải trình."""
    from ..audit import audit as _audit
    from ..compare import compare as _compare
    from ..compare import read_appraisal

    card = score(bundle, evidence)
    appr = read_appraisal(appraisal, bundle, card, sheet)
    result = _audit(bundle, evidence)
    return _compare(bundle, card, appr, result.gaps, evidence)


def load_peers(path: Path, department: str | None = None, year: int | None = None) -> Any:
    from ..simulate import load_peers as _load

    return _load(path, department, year)


def rank(card: Scorecard, peers: Any) -> Any:
    from ..simulate import rank_for_card

    return rank_for_card(card, peers)


def template(bundle: Bundle, department: str | None = None) -> bytes:
    from ..excel import evidence_workbook

    return evidence_workbook(bundle, None, department=department)


def render(result: Any, fmt: str) -> str | bytes:
    if fmt == "xlsx":
        from ..excel import scorecard_xlsx

        return scorecard_xlsx(result)
    if fmt == "docx":
        from ..docx_report import scorecard_docx

        return scorecard_docx(result)
    from ..report import render as _render

    return _render(result, fmt)


def to_json(result: Any, rank: Any = ...) -> str:
    """Exactly the CLI's ``--format json`` text (``rank`` as ``score --peers`` adds it, ``None`` included)."""
    from ..report import render_json

    if isinstance(result, Scorecard):
        data = result.to_json()
        if rank is not ...:
            from ..simulate import rank_json

            data = {**data, "rank": rank_json(rank)}
        return render_json(data)
    if isinstance(result, WhatIf):
        from ..simulate import whatif_json

        return render_json(whatif_json(result.data))
    if isinstance(result, dict):
        return render_json(result)
    return render_json(result.to_json())


def explanation_docx(comparison: dict[str, Any], texts: dict[str, str], round_title: str) -> bytes:
    """The giải trình letter: one section per difference with the council, the clerk's text (or the draft)."""
    import io

    from docx import Document
    from docx.shared import Pt

    doc = Document()
    style = doc.styles["Normal"]
    style.font.name = "Times New Roman"
    style.font.size = Pt(13)
    doc.add_heading(f"GIẢI TRÌNH KẾT QUẢ THẨM ĐỊNH CHỈ SỐ CCHC NĂM {comparison['year']}", level=1)
    doc.add_paragraph(f"Đơn vị: {comparison['department']}")
    doc.add_paragraph(f"Vòng: {round_title}")
    t = comparison["totals"]
    doc.add_paragraph(f"Điểm tự chấm: {_vn(t['self'])}/{_vn(t['max_points'])}; điểm thẩm định: {_vn(t['final'])}; "
                      f"chênh lệch: {_vn(t['difference'])}.")
    if comparison.get("constructed_example"):
        doc.add_paragraph("Số liệu: VÍ DỤ DỰNG SẴN, không phải số liệu thật của đơn vị.")
    if comparison.get("illustrative_notice"):
        doc.add_paragraph(f"Lưu ý: {comparison['illustrative_notice']}")
    for d in comparison["differences"]:
        doc.add_heading(f"{d['code']} {d['title']}", level=2)
        doc.add_paragraph(f"Tự chấm {_vn(d['self_points'])}, thẩm định {_vn(d['final_points'])} "
                          f"(tối đa {_vn(d['max_points'])}).")
        if d.get("council_note"):
            doc.add_paragraph(f"Ý kiến của Hội đồng: {d['council_note']}")
        doc.add_paragraph(texts.get(d["code"]) or d["draft_explanation"])
    buf = io.BytesIO()
    doc.save(buf)
    return buf.getvalue()


def _vn(value: Any) -> str:
    from decimal import Decimal

    from ..explain import pts

    return pts(Decimal(str(value)))


def evidence_cells(source: Path) -> dict[str, dict[str, str]]:
    """Where each sub-criterion sits in an evidence workbook: code → {"": its first row's code cell,
    evidence name: its value cell, document number: its number cell}, as ``'Sheet'!H8``.
    Empty for a YAML file (its problems and gaps carry line numbers)."""
    from ..excel import EV_COLUMNS, INSTRUCTIONS, open_workbook

    data = Path(source).read_bytes()
    if data[:4] != b"PK\x03\x04":
        return {}
    wb = open_workbook(data, str(source), data_only=True)
    heads = {c.key: c.header for c in EV_COLUMNS}
    out: dict[str, dict[str, str]] = {}
    for ws in wb.worksheets:
        if ws.title == INSTRUCTIONS:
            continue
        cols: dict[str, int] = {}
        for row in ws.iter_rows(min_row=1, max_row=30):
            texts = {str(c.value).strip(): c.column_letter for c in row if c.value is not None}
            if heads["code"] in texts and heads["value"] in texts:
                cols = {k: texts[h] for k, h in (("code", heads["code"]), ("name", heads["name"]),
                                                  ("value", heads["value"]), ("doc", "Số hiệu văn bản"))
                        if h in texts}
                header_row = row[0].row
                break
        if not cols:
            continue
        for r in range(header_row + 1, ws.max_row + 1):
            code = ws[f"{cols['code']}{r}"].value
            if code is None:
                continue
            at = out.setdefault(str(code).strip(), {})
            at.setdefault("", f"'{ws.title}'!{cols['code']}{r}")
            name = ws[f"{cols['name']}{r}"].value if "name" in cols else None
            if name:
                at.setdefault(str(name).strip(), f"'{ws.title}'!{cols['value']}{r}")
            doc = ws[f"{cols['doc']}{r}"].value if "doc" in cols else None
            if doc:
                at.setdefault(str(doc).strip(), f"'{ws.title}'!{cols['doc']}{r}")
    return out
