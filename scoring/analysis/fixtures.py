"""Rule fixtures: small evidence and the points it must score, run as pass/fail cases (``parindex test``).

A rules author keeps fixture files beside a set's rules, in ``rules/<set>/tests/*.yaml`` (``parindex
check`` and scoring read only ``rules/<set>/*.yaml``, so the fixtures never load as rules)::

    criteria_set: cap-so-2025
    cases:
      - name: "3.4.1: đúng 98% là đạt"
        evidence:                       # as under 'evidence:' in an evidence file
          "3.4.1": {values: {on_time: 4900, received: 5000}}
        set: ["3.2.3=90%"]              # optional what-if values, as with --set
        expect:                         # points of named codes (leaves, criteria, fields) or 'total'
          "3.4.1": 3
          "3.2.3": 0.75

Codes not named in ``expect`` are not compared; leaves with no evidence score as missing. Nothing here
prints or exits; ``scoring.api.run_rule_tests`` runs it for the command in scoring/cli/rule_tests.py.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from scoring.core.engine import overrides_from, score
from scoring.core.errors import DefinitionError, InputError, ParindexError, Problem, ProblemList, did_you_mean
from scoring.core.evidence import EvidenceFile, _with_lines
from scoring.core.rules import Bundle, available_sets, default_dirs, load_bundle
from scoring.core.yamlio import LineDict, load_yaml

FIXTURE_DIR = "tests"
CASE_KEYS = {"name", "evidence", "set", "expect", "department", "year", "note"}


@dataclass(frozen=True)
class Difference:
    code: str
    expected: Decimal
    got: Decimal | None  # None: no such code in the scorecard
    band: str | None = None
    reason: str | None = None


@dataclass(frozen=True)
class CaseResult:
    set_id: str
    file: str
    line: int | None
    name: str
    differences: tuple[Difference, ...] = ()
    problems: tuple[Problem, ...] = ()  # the case could not be scored (bad evidence, unknown code…)
    checked: int = 0  # codes compared

    @property
    def passed(self) -> bool:
        return not self.differences and not self.problems


@dataclass
class FixtureReport:
    cases: list[CaseResult] = field(default_factory=list)
    sets: list[str] = field(default_factory=list)

    @property
    def passed(self) -> int:
        return sum(1 for c in self.cases if c.passed)

    @property
    def failed(self) -> int:
        return len(self.cases) - self.passed


def _points(value: Any) -> Decimal:
    if isinstance(value, bool):
        raise ValueError(value)
    text = str(getattr(value, "raw", None) or value).strip().replace(",", ".")
    try:
        dec = Decimal(text)
    except InvalidOperation:
        raise ValueError(value) from None
    if not dec.is_finite():
        raise ValueError(value)
    return dec


def _line(data: Any, key: Any) -> int | None:
    return data.line_of(key) if isinstance(data, LineDict) else None


def _sets_under(rules_dir: Path) -> list[tuple[str, Path]]:
    """(set id, the set's rules folder) of every set with fixtures under ``rules_dir``."""
    if (rules_dir / FIXTURE_DIR).is_dir():
        return [(rules_dir.name, rules_dir)]
    return [(d.name, d) for d in sorted(rules_dir.iterdir()) if d.is_dir() and (d / FIXTURE_DIR).is_dir()]


def run_fixtures(rules_dir: Path | str | None = None, criteria_dir: Path | str | None = None) -> FixtureReport:
    """Run every fixture of every set under ``rules_dir`` (a set's folder or a folder of sets; default: the
    bundled rules). Raises InputError when there is nothing to run."""
    default_c, default_r = default_dirs()
    rdir = Path(rules_dir) if rules_dir else default_r
    if not rdir.is_dir():
        raise InputError(Problem("folder_not_found", f"không có thư mục quy tắc '{rdir}'", file=str(rdir),
                                 hint="ghi thư mục quy tắc của bộ, ví dụ rules/cap-so-2025"))
    sets = _sets_under(rdir)
    if not sets:
        raise InputError(Problem("no_fixtures", f"không có thư mục '{FIXTURE_DIR}/' chứa trường hợp kiểm thử trong "
                                 f"'{rdir}'", file=str(rdir),
                                 hint=f"tạo {rdir}/<bộ tiêu chí>/{FIXTURE_DIR}/vi-du.yaml (xem docs/rules.md)"))
    if criteria_dir:
        cdir = Path(criteria_dir)
    else:
        root = sets[0][1].parent
        guess = root.parent / "criteria"
        cdir = guess if guess.is_dir() and any(s in available_sets(guess) for s, _ in sets) else default_c
    report = FixtureReport()
    problems = ProblemList()
    for set_id, folder in sets:
        try:
            bundle = load_bundle(cdir, folder.parent, set_id)
        except ParindexError as exc:
            problems.extend(exc.problems)
            continue
        report.sets.append(set_id)
        try:
            for path in sorted((folder / FIXTURE_DIR).glob("*.yaml")):
                report.cases.extend(run_file(bundle, path))
        finally:
            bundle.close()
    problems.raise_if_any(DefinitionError)
    return report


def run_file(bundle: Bundle, path: Path) -> list[CaseResult]:
    """The cases of one fixture file; a case that cannot be scored fails with its problems, a file that is
    not a fixture file is bad input (InputError)."""
    name = str(path)
    set_id = bundle.criteria.id
    data = load_yaml(path, "fixture file")
    if not isinstance(data, dict) or not isinstance(data.get("cases"), list):
        raise InputError(Problem("not_a_fixture_file", "tệp kiểm thử cần 'criteria_set' và 'cases:' là một danh sách",
                                 file=name, line=_line(data, "cases") or 1,
                                 hint="xem ví dụ trong docs/rules.md, mục 'parindex test'"))
    if data.get("criteria_set") not in (None, set_id):
        raise InputError(Problem("wrong_criteria_set", f"tệp dành cho bộ '{data.get('criteria_set')}', không phải "
                                 f"'{set_id}'", file=name, line=_line(data, "criteria_set"),
                                 hint=f"ghi criteria_set: {set_id}"))
    cases = data["cases"]
    out = []
    for i, case in enumerate(cases):
        line = cases.line_of(i) if hasattr(cases, "line_of") else None
        out.append(_run_case(bundle, name, line, i, case))
    return out


def _run_case(bundle: Bundle, file: str, line: int | None, i: int, case: Any) -> CaseResult:
    set_id = bundle.criteria.id
    title = str(case.get("name") or f"trường hợp {i + 1}") if isinstance(case, dict) else f"trường hợp {i + 1}"
    problems = ProblemList()

    def bad(code: str, message: str, key: str | None = None, hint: str | None = None) -> CaseResult:
        at = _line(case, key) if key else line
        problems.add(code, message, file=file, line=at or line, subject=title, hint=hint)
        return CaseResult(set_id, file, line, title, problems=tuple(problems.problems))

    if not isinstance(case, dict):
        return bad("not_a_case", "mỗi trường hợp là một nhóm khóa name/evidence/expect")
    for k in case:
        if k not in CASE_KEYS:
            return bad("unknown_key", f"khóa '{k}' không dùng trong trường hợp kiểm thử", k,
                       did_you_mean(str(k), CASE_KEYS) or f"dùng: {', '.join(sorted(CASE_KEYS))}")
    expect = case.get("expect")
    if not isinstance(expect, dict) or not expect:
        return bad("missing", "trường hợp cần 'expect:' với điểm mong đợi của ít nhất một mã", "expect",
                   'ví dụ expect: {"3.4.1": 3}')
    raw = {"department": case.get("department", "Đơn vị kiểm thử"), "year": case.get("year", bundle.criteria.year),
           "criteria_set": set_id, "evidence": case.get("evidence") or {}}
    try:
        ev = EvidenceFile.model_validate({**_with_lines(LineDict(raw)), "file": file})
    except Exception as exc:  # noqa: BLE001 - pydantic's message, shown to the author
        return bad("bad_evidence", f"phần evidence không đọc được: {str(exc).splitlines()[0]}", "evidence",
                   "viết như mục 'evidence:' của tệp tài liệu kiểm chứng")
    sets = case.get("set") or []
    if isinstance(sets, str):
        sets = [sets]
    try:
        card = score(bundle, ev, overrides_from([str(s) for s in sets]), strict=True)
    except ParindexError as exc:
        return CaseResult(set_id, file, line, title, problems=tuple(
            p if p.line is not None or p.file == "--set" else Problem(p.code, p.message, file=file, line=line,
                                                                     subject=p.subject, hint=p.hint)
            for p in exc.problems))
    nodes = {n.code: n for n in card.nodes}
    diffs = []
    for code, want in expect.items():
        code_s = str(getattr(code, "raw", None) or code)
        try:
            wanted = _points(want)
        except ValueError:
            return bad("bad_value", f"điểm mong đợi của '{code_s}' không phải số: '{want}'", code, "ví dụ 1,5")
        if code_s == "total":
            got: Decimal | None = card.total.points
            band = reason = None
        elif code_s in nodes:
            got, band, reason = nodes[code_s].points, nodes[code_s].band, nodes[code_s].reason
        else:
            return bad("unknown_code", f"không có mã '{code_s}' trong bộ tiêu chí '{set_id}'", code,
                       did_you_mean(code_s, nodes) or "dùng mã lĩnh vực, tiêu chí, tiêu chí thành phần hoặc 'total'")
        if got != wanted:
            diffs.append(Difference(code_s, wanted, got, band, reason))
    return CaseResult(set_id, file, line, title, tuple(diffs), checked=len(expect))


def _pts(value: Decimal | None) -> str:
    if value is None:
        return "không có"
    text = format(value.normalize(), "f") if value != value.to_integral_value() else str(int(value))
    return text.replace(".", ",")


def report_text(report: FixtureReport) -> str:
    """The Vietnamese pass/fail listing, with a diff under each failed case."""
    lines: list[str] = []
    current = None
    for c in report.cases:
        if c.file != current:
            current = c.file
            lines.append(c.file)
        where = f" (dòng {c.line})" if c.line else ""
        lines.append(f"  {'ĐẠT ' if c.passed else 'LỖI '} {c.name}{where}")
        for d in c.differences:
            lines.append(f"        {d.code}: mong đợi {_pts(d.expected)} điểm, được {_pts(d.got)} điểm"
                         + (f" (mức «{d.band}»)" if d.band else ""))
            lines.append(f"          - mong đợi: {_pts(d.expected)}")
            lines.append(f"          + thực tế:  {_pts(d.got)}" + (f"   {d.reason}" if d.reason else ""))
        for p in c.problems:
            lines.append(f"        không chấm được: {p.format()}")
    lines.append(f"{len(report.cases)} trường hợp ({', '.join(report.sets)}): {report.passed} đạt, "
                 f"{report.failed} lỗi.")
    return "\n".join(lines) + "\n"


def report_json(report: FixtureReport) -> dict[str, Any]:
    return {"passed": report.passed, "failed": report.failed, "sets": report.sets, "cases": [
        {"set": c.set_id, "file": c.file, "line": c.line, "name": c.name, "passed": c.passed,
         "differences": [{"code": d.code, "expected": str(d.expected), "got": None if d.got is None else str(d.got),
                          "band": d.band} for d in c.differences],
         "problems": [p.to_dict() for p in c.problems]} for c in report.cases]}
