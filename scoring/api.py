"""The operations of parindex: what every front-end (command line, web application, scripts) calls.

Plain typed functions: paths, bytes or pydantic models in; the immutable result models out, or
bytes/text for a rendered output. Nothing here (or below) reads ``sys.argv``, prints, exits or
imports argparse; problems are raised as ``ParindexError`` (``InputError`` for bad input,
``DefinitionError`` for bad criteria or rules) holding every ``Problem`` found.

Loading
    ``load_bundle``          a criteria set and its rules, checked and compiled
    ``check``                every criteria set of a folder checked: summaries and problems
    ``load_evidence``        evidence from YAML or a filled workbook (path or uploaded bytes)
    ``evidence_cells``       where each code sits in a filled workbook (sheet!cell)
    ``evidence_with_dossiers`` the evidence with indicators computed from a dossier export
    ``load_assessment``      bundle + evidence (+ dossiers) in one call, as the commands need
    ``load_peers``           other units' published results, for the rank
Scoring and analysis
    ``score``                the scorecard (``sets``: values tried without editing files)
    ``explain``              every lost point, largest first (JSON-ready dict)
    ``indicators``           counts and exact rates from a dossier export
    ``whatif``               before / after / delta for values tried
    ``simulate``             a scenarios CSV scored on the vectorised path
    ``plan``                 the least-effort plan to reach a target
    ``audit``                evidence gaps, largest points at risk first
    ``compare``              self-score vs the appraisal council's points, with a draft explanation
    ``rank``                 the rank of a scorecard among peers
Workbooks and tables
    ``template``             the empty evidence workbook (.xlsx bytes)
    ``export_workbook``      YAML evidence → workbook bytes
    ``import_workbook``      a filled workbook → evidence YAML text
    ``import_criteria``      a province's criteria table → criteria file and rules that score at once (texts)
Rule authors
    ``run_rule_tests``       a set's rule fixtures (rules/<set>/tests/*.yaml) run as pass/fail cases
Rendering (text or bytes; JSON equal to the CLI's ``--format json``)
    ``render_scorecard``, ``render_explanation``, ``render_whatif``, ``render_plan``,
    ``render_audit``, ``render_comparison``, ``render_indicators``, ``render_scenarios``, ``render_scenarios_bytes``,
    ``render_rule_tests``,
    ``explanation_docx`` (the giải trình letter with the clerk's texts),
    and ``render`` / ``to_json`` that dispatch on the result's type.
"""

from __future__ import annotations

import dataclasses
import tempfile
import time
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Literal, Sequence

from scoring.core.errors import DefinitionError, InputError, ParindexError, Problem
if TYPE_CHECKING:  # heavy modules are imported by the operation that needs them
    from scoring.core.evidence import EvidenceFile
    from scoring.core.rules import Bundle
    from scoring.core.scorecard import Scorecard
    from scoring.analysis.audit import AuditResult
    from scoring.analysis.compare import Comparison
    from scoring.analysis.simulate import PeerSet, Rank
    from scoring.core.vector import BatchResult
    from scoring.inputs.dossiers import DossierInputs, Result as IndicatorResult
    from scoring.analysis.fixtures import FixtureReport
    from scoring.inputs.criteria_table import ImportedCriteria

__all__ = [
    "AuditResult", "Bundle", "CheckReport", "Comparison", "DefinitionError", "DossierInputs", "EvidenceFile",
    "InputError", "ParindexError", "PlanResult", "Problem", "Scorecard", "SimulationResult", "WhatIfResult",
    "audit", "check", "compare", "evidence_cells", "evidence_with_dossiers", "explain", "explanation_docx",
    "export_workbook", "import_criteria",
    "import_workbook", "indicators", "load_assessment", "run_rule_tests", "load_bundle", "load_evidence", "load_peers", "plan",
    "rank", "render", "render_audit", "render_comparison", "render_explanation", "render_indicators",
    "render_plan", "render_rule_tests", "render_scenarios", "render_scenarios_bytes", "render_scorecard", "render_whatif", "score", "simulate", "template",
    "to_json", "whatif",
]

WORKBOOK_SUFFIXES = (".xlsx", ".xlsm")

#: Model classes exported here but imported on first use: building the rule and evidence models costs
#: about 0.2 s of CPU, which commands that never touch them (``parindex indicators``) need not pay.
_LAZY = {"EvidenceFile": "scoring.core.evidence", "Bundle": "scoring.core.rules", "Scorecard": "scoring.core.scorecard"}


def __getattr__(name: str) -> Any:  # lazy re-exports of result types, so importing the API stays fast
    if name == "DossierInputs":
        from scoring.inputs.dossiers import DossierInputs

        return DossierInputs
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    if name == "AuditResult":
        from scoring.analysis.audit import AuditResult

        return AuditResult
    if name == "Comparison":
        from scoring.analysis.compare import Comparison

        return Comparison
    raise AttributeError(name)


# ------------------------------------------------------------------ loading


def load_bundle(criteria_dir: Path | str | None = None, rules_dir: Path | str | None = None,
                set_id: str | None = None) -> Bundle:
    """A criteria set and its rules, validated and compiled (default: the bundled folders)."""
    from scoring.core.rules import load_bundle as _load

    return _load(criteria_dir, rules_dir, set_id)


def criteria_sets(criteria_dir: Path | str | None = None) -> list[str]:
    """The ids of the criteria sets in a folder (default: the bundled one)."""
    from scoring.core.rules import available_sets, default_dirs

    return available_sets(Path(criteria_dir) if criteria_dir else default_dirs()[0])


@dataclass(frozen=True)
class CheckReport:
    """What ``check`` found: one summary line per set that loads, and every problem of the others."""

    summaries: tuple[str, ...]
    problems: tuple[Problem, ...]

    @property
    def ok(self) -> bool:
        return not self.problems


def check(criteria_dir: Path | str | None = None, rules_dir: Path | str | None = None,
          set_id: str | None = None) -> CheckReport:
    """Load every criteria set of the folder (or just ``set_id``) with its rules."""
    from scoring.core.rules import available_sets, default_dirs

    cdir = Path(criteria_dir) if criteria_dir else default_dirs()[0]
    found: list[str | None] = list(available_sets(cdir)) if cdir.is_dir() else []
    sets = [set_id] if set_id else (found or [None])  # None: load_bundle says what is missing
    problems: list[Problem] = []
    summaries: list[str] = []
    for sid in sets:
        try:
            bundle = load_bundle(criteria_dir, rules_dir, sid)
        except ParindexError as exc:
            problems.extend(exc.problems)
            continue
        c = bundle.criteria
        kinds: dict[str, int] = {}
        for r in bundle.rules.values():
            kinds[r.kind] = kinds.get(r.kind, 0) + 1
        summaries.append(f"{c.id}: {len(c.fields)} lĩnh vực, {len(c.walk())} mục, {len(bundle.rules)} tiêu chí được chấm, "
                         f"{len(bundle.files)} tệp quy tắc, tổng {c.scale} điểm "
                         f"({'điểm minh họa' if c.points_status == 'illustrative' else 'điểm chính thức'}); "
                         "loại quy tắc: " + ", ".join(f"{k} {v}" for k, v in sorted(kinds.items())))
    return CheckReport(tuple(summaries), tuple(problems))


def _renamed(exc: ParindexError, temp: str, shown: str) -> ParindexError:
    """The same error with the temporary path of an upload replaced by the name the user knows."""
    problems = [dataclasses.replace(p, file=p.file.replace(temp, shown)) if p.file and temp in p.file else p
                for p in exc.problems]
    new = type(exc)(problems)
    for attr in ("total",):
        if hasattr(exc, attr):
            setattr(new, attr, getattr(exc, attr))
    return new


def _safe_display_name(filename: str | None, default: str) -> str:
    name = Path(filename or default).name.replace("\x00", "").strip() or default
    return name[:200]


def load_evidence(source: Path | str | bytes, *, filename: str | None = None, bundle: Bundle | None = None,
                  criteria_dir: Path | str | None = None, rules_dir: Path | str | None = None) -> EvidenceFile:
    """Evidence from a YAML file or a filled evidence workbook.

    ``source`` is a path, or the bytes of an upload (then ``filename`` is only shown in messages and
    decides nothing: the content does; the bytes are read from a private temporary folder).
    """
    if isinstance(source, (bytes, bytearray)):
        data = bytes(source)
        is_workbook = data[:4] == b"PK\x03\x04"
        shown = _safe_display_name(filename, "tai-lieu-kiem-chung.xlsx" if is_workbook else "tai-lieu-kiem-chung.yaml")
        suffix = ".xlsx" if is_workbook else ".yaml"
        with tempfile.TemporaryDirectory(prefix="parindex-upload-") as tmp:
            path = Path(tmp) / f"upload{suffix}"
            path.write_bytes(data)
            try:
                ev = load_evidence(path, bundle=bundle, criteria_dir=criteria_dir, rules_dir=rules_dir)
            except ParindexError as exc:
                raise _renamed(exc, str(path), shown) from None
            return ev.model_copy(update={"file": shown})
    path = Path(source)
    if filename is not None:  # a stored upload: messages and the scorecard name the file the user knows
        shown = _safe_display_name(filename, path.name)
        try:
            ev = load_evidence(path, bundle=bundle, criteria_dir=criteria_dir, rules_dir=rules_dir)
        except ParindexError as exc:
            raise _renamed(exc, str(path), shown) from None
        return ev.model_copy(update={"file": shown})
    if path.suffix.lower() in WORKBOOK_SUFFIXES:
        from scoring.inputs.workbook_reader import read_evidence_workbook

        return read_evidence_workbook(path, bundle=bundle, criteria_dir=criteria_dir, rules_dir=rules_dir)
    from scoring.core.evidence import load_evidence as _load_yaml

    return _load_yaml(path)


def evidence_cells(source: Path | str | bytes) -> dict[str, dict[str, str]]:
    """Where each code's values and documents sit in a filled workbook: code → {name or document
    number ("" for the code's first row): "'Sheet'!H8"}; empty for YAML evidence (it has line numbers)."""
    from scoring.inputs.workbook_cells import evidence_cells as _cells

    return _cells(source)


def evidence_with_dossiers(bundle: Bundle, evidence: EvidenceFile, inputs: DossierInputs) -> EvidenceFile:
    """The evidence with 3.4.x / 7.3.x values computed from a dossier export (stated values kept)."""
    from scoring.inputs.dossiers import augment_evidence

    return augment_evidence(bundle, evidence, inputs)


def load_assessment(evidence: Path | str, *, criteria_dir: Path | str | None = None,
                    rules_dir: Path | str | None = None, set_id: str | None = None,
                    dossiers: DossierInputs | None = None) -> tuple[Bundle, EvidenceFile]:
    """The bundle named by the evidence (or ``set_id``) and the evidence, with dossier indicators merged."""
    ev = load_evidence(evidence, criteria_dir=criteria_dir, rules_dir=rules_dir)
    bundle = load_bundle(criteria_dir, rules_dir, set_id or ev.criteria_set)
    if dossiers is not None:
        ev = evidence_with_dossiers(bundle, ev, dossiers)
    return bundle, ev


def load_peers(path: Path | str, department: str | None = None, year: int | None = None) -> PeerSet:
    """Other units' published results (YAML or CSV), the department itself left out."""
    from scoring.analysis.simulate import load_peers as _load

    return _load(path, department, year)


# ------------------------------------------------------------------ scoring and analysis


def score(bundle: Bundle, evidence: EvidenceFile, sets: Sequence[str] = ()) -> Scorecard:
    """Score the evidence; ``sets`` are values tried without editing files ('3.4.1=98%', 'CODE:name=V')."""
    from scoring.core.engine import overrides_from, score as _score

    return _score(bundle, evidence, overrides_from(list(sets)))


def explain(card: Scorecard) -> dict[str, Any]:
    """Every lost point, largest first, as the JSON the CLI prints."""
    from scoring.analysis.explain import explain_json

    return explain_json(card)


def rank(card: Scorecard, peers: PeerSet) -> Rank | None:
    """The scorecard's rank among ``peers`` (None when the index is undefined)."""
    from scoring.analysis.simulate import rank_for_card

    return rank_for_card(card, peers)


def indicators(inputs: DossierInputs, progress: Callable[[float], None] | None = None,
               engine: Literal["duckdb", "spark"] = "duckdb", spark_master: str | None = None,
               one_pass: bool = True) -> IndicatorResult:
    """Counts and exact rates from a dossier export (``inputs.period`` or the latest year in it).

    ``progress`` is called with a percentage while a large export is read (a front-end shows it).
    ``engine="spark"`` runs the same definitions on Spark SQL (the optional extra ``parindex[spark]``):
    a local session, or the cluster ``spark_master`` names (``spark://host:7077``, ``yarn``); the
    session is stopped before this returns. The result is the same either way (``result.engine`` says which).
    ``one_pass=False`` keeps the dossier rows from the start, for a caller that lists the dossiers
    behind a loss (a clean file is otherwise read in one pass, and again when they are asked for).
    """
    if engine == "spark":
        from scoring.inputs.dossiers.spark import load_indicators_spark

        return load_indicators_spark(inputs, progress=progress, master=spark_master)
    if spark_master:
        raise InputError(Problem("spark_master_without_spark", "--spark-master chỉ dùng với --engine spark",
                                 subject="--spark-master", hint="thêm --engine spark hoặc bỏ --spark-master"))
    from scoring.inputs.dossiers import load_indicators

    return load_indicators(inputs, progress=progress, one_pass=one_pass)


@dataclass(frozen=True)
class WhatIfResult:
    """Before / after / delta of a what-if (``data`` is what ``whatif_json`` renders)."""

    data: dict[str, Any]


def whatif(bundle: Bundle, evidence: EvidenceFile, sets: Sequence[str], peers: PeerSet | None = None,
           before: Scorecard | None = None) -> WhatIfResult:
    """Score without and with ``sets``; every node that moved, exactly. ``before``: the evidence's own
    scorecard (``score(bundle, evidence)``) when the caller keeps it, so it is not computed again."""
    from scoring.analysis.simulate import whatif as _whatif

    return WhatIfResult(_whatif(bundle, evidence, list(sets), peers, before))


@dataclass(frozen=True)
class SimulationResult:
    """Every scenario's total, index and fields (``ids`` in file order), and the scoring time."""

    result: BatchResult
    ids: Sequence[str]  # a list, or one Arrow array behind a sequence (scenario_files.ScenarioIds)
    seconds: float


def simulate(bundle: Bundle, evidence: EvidenceFile, scenarios: Path | str) -> SimulationResult:
    """Score every row of a scenarios CSV on the vectorised path."""
    from scoring.analysis.simulate import read_scenarios, run_scenarios

    checked = read_scenarios(scenarios, bundle)
    started = time.perf_counter()
    result = run_scenarios(bundle, evidence, checked)
    return SimulationResult(result, checked.ids, time.perf_counter() - started)


@dataclass(frozen=True)
class PlanResult:
    """The chosen options and their effort (``data`` is what ``plan_json`` renders)."""

    data: dict[str, Any]


def plan(bundle: Bundle, evidence: EvidenceFile, options: Path | str, *, percent: Decimal | None = None,
         points: Decimal | None = None, rank: int | None = None, budget: Decimal | None = None,
         peers: PeerSet | None = None) -> PlanResult:
    """The least-effort set of options reaching one target (percent, points, rank) or the best within a budget."""
    from scoring.analysis.plan import build_model, load_options, make_target, plan as _plan

    model = build_model(bundle, evidence, load_options(options, bundle, evidence))
    target = make_target(model, percent=percent, points=points, rank=rank, budget=budget, peers=peers)
    return PlanResult(_plan(model, target, peers))


def audit(bundle: Bundle, evidence: EvidenceFile, documents_dir: Path | str | None = None,
          dossier_file: Path | str | None = None) -> AuditResult:
    """Missing, stale, contradictory or unresolvable evidence, largest points at risk first."""
    from scoring.analysis.audit import audit as _audit

    return _audit(bundle, evidence, documents_dir, dossier_file)


def compare(bundle: Bundle, evidence: EvidenceFile, appraisal: Path | str, sheet: str | None = None,
            dossier_file: Path | str | None = None) -> Comparison:
    """The self-score beside the council's points per round, with the draft explanation (giải trình)."""
    from scoring.analysis.audit import audit as _audit
    from scoring.analysis.compare import compare as _compare, read_appraisal

    card = score(bundle, evidence)
    points = read_appraisal(appraisal, bundle, card, sheet)
    gaps = _audit(bundle, evidence, dossier_file=dossier_file).gaps
    return _compare(bundle, card, points, gaps, evidence)


# ------------------------------------------------------------------ workbooks and tables


def template(bundle: Bundle, department: str | None = None) -> bytes:
    """The empty evidence workbook for ``bundle`` (.xlsx)."""
    from scoring.inputs.workbook import evidence_workbook

    return evidence_workbook(bundle, None, department=department)


def export_workbook(bundle: Bundle, evidence: EvidenceFile) -> bytes:
    """YAML evidence as a filled workbook (.xlsx), losslessly."""
    from scoring.inputs.workbook import evidence_workbook

    return evidence_workbook(bundle, evidence)


def import_workbook(workbook: Path | str, criteria_dir: Path | str | None = None,
                    rules_dir: Path | str | None = None) -> str:
    """A filled evidence workbook as evidence YAML text."""
    from scoring.inputs.workbook_reader import evidence_yaml, read_evidence_workbook

    ev = read_evidence_workbook(workbook, criteria_dir=criteria_dir, rules_dir=rules_dir)
    return evidence_yaml(ev, source=Path(workbook).name)


def import_criteria(table: Path | str, *, scale: str | Decimal | None = None, **options: Any) -> ImportedCriteria:
    """A province's criteria table (.xlsx) read into a criteria file and a rules folder (as texts) that
    ``check`` accepts at once: every leaf gets a rule from its scale text, a "choose a level" rule, or a
    direct-points rule.

    ``scale`` is the set's total as the user wrote it ('100', '100,5'); the other options are those of
    ``scoring.inputs.criteria_table.import_criteria_table`` (set_id, province, year, level, sheet, columns,
    title, official, source, external).
    """
    from scoring.inputs.criteria_table import import_criteria_table, parse_points

    total = None
    if scale is not None:
        try:
            total = scale if isinstance(scale, Decimal) else parse_points(scale)
        except ValueError:
            raise InputError(Problem("bad_scale", f"--scale '{scale}' không phải số điểm", subject="--scale",
                                     hint="ví dụ --scale 100")) from None
    return import_criteria_table(table, scale=total, **options)


def run_rule_tests(rules_dir: Path | str | None = None, criteria_dir: Path | str | None = None) -> FixtureReport:
    """Run the rule fixtures of every set under ``rules_dir`` (a set's rules folder or a folder of sets;
    default: the bundled rules): each case's evidence scored and the named codes' points compared."""
    from scoring.analysis.fixtures import run_fixtures

    return run_fixtures(rules_dir, criteria_dir)


# ------------------------------------------------------------------ rendering

ScorecardFormat = Literal["table", "json", "markdown", "csv", "xlsx", "docx"]


def render_scorecard(card: Scorecard, fmt: ScorecardFormat = "table", rank: Rank | None = None,
                     lang: Literal["vi", "en"] = "vi") -> str | bytes:
    """The scorecard as the CLI writes it; with ``rank`` the rank is stated (table, markdown, json).
    ``lang="en"`` gives CSV its English column names and codes (for scripts); JSON keys never change."""
    if fmt == "xlsx":
        from scoring.outputs.xlsx import scorecard_xlsx

        return scorecard_xlsx(card)
    if fmt == "docx":
        from scoring.outputs.docx import scorecard_docx

        return scorecard_docx(card)
    from scoring.outputs.report import render, render_json

    if rank is not None and fmt == "json":
        from scoring.analysis.simulate import rank_json

        return render_json({**card.to_json(), "rank": rank_json(rank)})
    text = render(card, fmt, lang)
    if rank is not None and fmt in ("table", "markdown"):
        from scoring.analysis.simulate import rank_lines

        lines = rank_lines(rank)
        text += "\n" + "\n".join(f"- {line.strip()}" if fmt == "markdown" else line for line in lines) + "\n"
    return text


def explanation_docx(comparison: dict[str, Any], texts: dict[str, str], round_title: str) -> bytes:
    """The giải trình letter (.docx) of a comparison (its JSON, as ``to_json`` gives it), one section per
    difference, with ``texts`` (code → the clerk's text) in place of the drafts."""
    from scoring.outputs.explanation_docx import explanation_docx as _docx

    return _docx(comparison, texts, round_title)


def render_explanation(card: Scorecard, fmt: Literal["table", "markdown", "json"] = "table",
                       all_dossiers: bool = False) -> str:
    """Every lost point, largest first; ``all_dossiers`` lists every dossier behind a loss."""
    from scoring.analysis.explain import explain_json, explain_text
    from scoring.outputs.report import render_json

    if fmt == "json":
        return render_json(explain_json(card))
    return explain_text(card, markdown=fmt == "markdown", all_dossiers=all_dossiers)


def render_whatif(result: WhatIfResult, fmt: Literal["table", "json"] = "table") -> str:
    from scoring.analysis.simulate import whatif_json, whatif_text
    from scoring.outputs.report import render_json

    return render_json(whatif_json(result.data)) if fmt == "json" else whatif_text(result.data)


def render_plan(result: PlanResult, fmt: Literal["table", "json"] = "table") -> str:
    from scoring.outputs.plan_report import plan_json, plan_text
    from scoring.outputs.report import render_json

    return render_json(plan_json(result.data)) if fmt == "json" else plan_text(result.data)


def render_audit(result: AuditResult, fmt: Literal["table", "json", "xlsx"] = "table") -> str | bytes:
    from scoring.outputs.audit_report import render_table, render_xlsx
    from scoring.outputs.report import render_json

    if fmt == "xlsx":
        return render_xlsx(result)
    return render_json(result.to_json()) if fmt == "json" else render_table(result)


def render_comparison(result: Comparison, fmt: Literal["table", "json", "markdown"] = "table") -> str:
    from scoring.analysis.compare import render_text
    from scoring.outputs.report import render_json

    return render_json(result.to_json()) if fmt == "json" else render_text(result, markdown=fmt == "markdown")


def render_indicators(result: IndicatorResult, fmt: Literal["table", "json", "csv"] = "table",
                      list_name: str | None = None) -> str:
    """The indicators (or, with ``list_name``, every dossier behind that indicator's loss)."""
    import json

    from scoring.inputs.dossiers import render_csv, render_list, render_table, result_json

    if list_name:
        return render_list(result, list_name, fmt)
    if fmt == "json":
        return json.dumps(result_json(result), ensure_ascii=False, indent=2) + "\n"
    return render_csv(result) if fmt == "csv" else render_table(result)


def render_scenarios(result: SimulationResult, peers: PeerSet | None = None) -> str:
    """The scenarios' results as CSV (UTF-8 with BOM, for Excel)."""
    from scoring.analysis.simulate import scenarios_csv

    return scenarios_csv(result.result, result.ids, peers)


def render_scenarios_bytes(result: SimulationResult, peers: PeerSet | None = None) -> bytes:
    """``render_scenarios`` as the UTF-8 bytes of the file (no decoding and encoding of a large text)."""
    from scoring.analysis.simulate import scenarios_csv_bytes

    return scenarios_csv_bytes(result.result, result.ids, peers)


def render_rule_tests(report: FixtureReport, fmt: Literal["table", "json"] = "table") -> str:
    """The pass/fail listing of ``run_rule_tests`` (Vietnamese, a diff under each failed case), or JSON."""
    import json

    from scoring.analysis.fixtures import report_json, report_text

    if fmt == "json":
        return json.dumps(report_json(report), ensure_ascii=False, indent=2) + "\n"
    return report_text(report)


def render(result: Any, fmt: str = "table", **options: Any) -> str | bytes:
    """Any result of this module in one of its formats (dispatch on the result's type)."""
    from scoring.analysis.audit import AuditResult
    from scoring.analysis.compare import Comparison

    from scoring.core.scorecard import Scorecard

    if isinstance(result, Scorecard):
        return render_scorecard(result, fmt, **options)  # type: ignore[arg-type]
    if isinstance(result, WhatIfResult):
        return render_whatif(result, fmt)  # type: ignore[arg-type]
    if isinstance(result, PlanResult):
        return render_plan(result, fmt)  # type: ignore[arg-type]
    if isinstance(result, AuditResult):
        return render_audit(result, fmt)  # type: ignore[arg-type]
    if isinstance(result, Comparison):
        return render_comparison(result, fmt)  # type: ignore[arg-type]
    if isinstance(result, SimulationResult):
        return render_scenarios(result, **options)
    from scoring.inputs.dossiers import Result as IndicatorResult

    if isinstance(result, IndicatorResult):
        return render_indicators(result, fmt, **options)  # type: ignore[arg-type]
    raise TypeError(f"cannot render {type(result).__name__}")


def to_json(result: Any) -> str:
    """The JSON the CLI's ``--format json`` prints for this result (an ``explain`` dict included)."""
    if isinstance(result, dict):
        from scoring.outputs.report import render_json

        return render_json(result)
    out = render(result, "json")
    assert isinstance(out, str)
    return out


def diff_sets(set_a: str, set_b: str, criteria_dir: Path | str | None = None,
              rules_dir: Path | str | None = None) -> Any:
    """Per code, what changed from criteria set ``set_a`` to ``set_b`` (scoring.analysis.diff_sets.SetsDiff)."""
    from scoring.analysis.diff_sets import diff_sets as _diff

    a, b = load_bundle(criteria_dir, rules_dir, set_a), load_bundle(criteria_dir, rules_dir, set_b)
    try:
        return _diff(a, b)
    finally:
        a.close()
        b.close()


def render_sets_diff(result: Any, fmt: Literal["table", "json"] = "table") -> str:
    from scoring.analysis.diff_sets import render_text
    from scoring.outputs.report import render_json

    return render_json(result.to_json()) if fmt == "json" else render_text(result)
