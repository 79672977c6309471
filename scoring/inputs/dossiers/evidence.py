"""Indicators computed from a dossier export, put into the evidence of the sub-criteria that read them."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .compute import Result
from .definitions import definitions
from .mapping import Period, fmt_int, parse_period
from .render import skipped_note
from .run import load_indicators

if TYPE_CHECKING:  # pragma: no cover
    from ...core.evidence import EvidenceFile
    from ...core.rules import Bundle
    from .run import DossierInputs


def augment_evidence(bundle: Bundle, ev: EvidenceFile, inputs: DossierInputs) -> EvidenceFile:
    """Put indicators computed from ``inputs.dossiers`` into the evidence of the leaves that read them.

    For every evidence spec with ``computed_from: <indicator>.<part>`` the computed value replaces
    the stated one (kept in ``stated_values``; a disagreement becomes a warning), the name is
    added to ``computed``, and the dossiers behind a loss are attached to the leaf. The period
    is ``inputs.period``, or the evidence file's year.
    """
    period = parse_period(inputs.period) if inputs.period else Period.year(ev.year)
    result = load_indicators(inputs, period, one_pass=False)  # the dossiers behind each loss are attached
    try:
        return _augment(bundle, ev, result, str(inputs.dossiers))
    finally:
        result.table.close()


def _augment(bundle: Bundle, ev: EvidenceFile, result: Result, dossier_file: str) -> EvidenceFile:
    from ...core.evidence import Document, LeafEvidence, ValueError_, format_value, parse_value, same_as_stated

    specs_by_name = definitions().indicators
    warnings = list(ev.warnings)
    evidence = dict(ev.evidence)
    filled: list[str] = []
    t = result.table
    source = Document(title=f"Tệp hồ sơ xuất từ Hệ thống thông tin giải quyết TTHC: {fmt_int(result.counts['counted'])} "
                            f"hồ sơ tiếp nhận {result.period.text()} (tính tự động)", file=dossier_file)
    for code, rule in bundle.rules.items():
        specs = [s for s in rule.rule.evidence if s.computed_from]
        if not specs:
            continue
        leaf = evidence.get(code) or LeafEvidence()
        values = dict(leaf.values)
        stated = dict(leaf.stated_values)
        computed = list(leaf.computed)
        dossiers = dict(leaf.dossiers)
        value_lines = dict(leaf.value_lines)
        used: list[str] = []
        no_data = False
        for spec in specs:
            ind_name, _, part = spec.computed_from.partition(".")
            if ind_name not in specs_by_name:
                warnings.append(f"{code}: quy tắc đọc '{spec.computed_from}' nhưng parindex không tính chỉ số "
                                f"'{ind_name}'; dùng số liệu trong tệp kiểm chứng.")
                continue
            ind = result.indicators.get(ind_name)
            if ind is None:
                title = specs_by_name[ind_name].title
                note = (f"{code}: không tính được {title[0].lower() + title[1:]} từ tệp hồ sơ "
                        f"({result.unavailable.get(ind_name, '')}); dùng số liệu trong tệp kiểm chứng.")
                if note not in warnings:
                    warnings.append(note)
                continue
            value: Any = ind.numerator if part == "numerator" else ind.denominator if part == "denominator" else ind.rate
            if value is None:
                no_data = True
            raw = leaf.values.get(spec.name)
            if raw is not None and raw != "" and spec.name not in leaf.computed:
                stated[spec.name] = raw
                if value is not None:
                    try:
                        said = parse_value(spec.type, raw)
                    except ValueError_:
                        said = None
                    same = said is not None and same_as_stated(spec.type, raw, said, value)
                    if not same:
                        warnings.append(f"{code}: tệp kiểm chứng ghi «{spec.description}» là "
                                        f"{format_value(spec.type, said) if said is not None else repr(raw)}, nhưng tính "
                                        f"từ tệp hồ sơ được {format_value(spec.type, value)}; dùng số tính được.")
            if value is None:
                values.pop(spec.name, None)
            else:
                values[spec.name] = value
            value_lines.pop(spec.name, None)
            if spec.name not in computed:
                computed.append(spec.name)
            if ind_name not in used:
                used.append(ind_name)
        if not used:
            continue
        for ind_name in used:
            ids = result.loss_ids(ind_name)
            if ids:
                dossiers[specs_by_name[ind_name].loss] = ids
            else:
                dossiers.pop(specs_by_name[ind_name].loss, None)
        update: dict[str, Any] = {"values": values, "stated_values": stated, "computed": tuple(computed),
                                  "dossiers": dossiers, "value_lines": value_lines,
                                  "documents": tuple(d for d in leaf.documents if d.file != source.file) + (source,)}
        if no_data and rule.kind != "ratio":
            update.update(not_applicable=True, justification=f"Không phát sinh hồ sơ TTHC trong kỳ {result.period.text()} "
                                                               "(tính từ tệp hồ sơ)")
        elif leaf.not_applicable and not no_data:
            warnings.append(f"{code}: tệp kiểm chứng ghi «không phát sinh», nhưng tệp hồ sơ có số liệu; dùng số tính được.")
            update.update(not_applicable=False)
        evidence[code] = leaf.model_copy(update=update)
        filled.append(code)
    if filled:
        warnings.append(f"Số liệu {', '.join(filled)} tính từ tệp hồ sơ {t.file}: {fmt_int(result.counts['counted'])} "
                        f"hồ sơ tiếp nhận {result.period.text()} ({fmt_int(result.counts['late'])} trễ hạn).")
    note = skipped_note(t)
    if note:
        warnings.append(note)
    warnings.extend(result.notes)
    return ev.model_copy(update={"evidence": evidence, "warnings": tuple(warnings)})
