"""A province's own criteria table, scorable the same day (issue 13), end to end on the corpus.

Each table of tests/data/criteria_tables (built by make_tables.py, with the tree and the points each
filled value must score written from the table's specification) is imported with the command, then
``check``, ``template``, the workbook is filled in code the way a clerk fills it, and ``score`` gives
every leaf the expected points. No YAML is written by hand.
"""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import yaml
from openpyxl import load_workbook

from conftest import ROOT
from scoring.cli import main
from scoring.core.criteria import load_criteria
from scoring.core.engine import overrides_from, score
from scoring.core.evidence import Document, EvidenceFile, LeafEvidence, parse_rate
from scoring.inputs.criteria_table import import_criteria_table
from scoring.core.rules import load_bundle

CORPUS = ROOT / "tests" / "data" / "criteria_tables"
EXPECTED = sorted(CORPUS.glob("*.expected.yaml"))


def expected_of(path: Path) -> dict[str, Any]:
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def leaves(nodes: list[dict[str, Any]]) -> list[dict[str, Any]]:
    out = []
    for n in nodes:
        out += leaves(n["children"]) if n.get("children") else [n]
    return out


def tree(nodes: Any) -> list[tuple[Any, ...]]:
    """(code, label, title, max points) of every node, in order, from a criteria set or an expected file."""
    out = []
    for n in nodes:
        if isinstance(n, dict):
            out.append((n["code"], n["label"], n["title"], Decimal(n["max_points"])))
            out += tree(n.get("children") or [])
        else:
            out.append((n.code, n.label, n.title, n.max_points))
            out += tree(n.children)
    return out


def test_the_corpus_has_six_layouts() -> None:
    assert len(EXPECTED) >= 6
    for path in EXPECTED:
        assert (CORPUS / expected_of(path)["table"]).is_file()


def imported(tmp_path: Path, exp: dict[str, Any], capsys: pytest.CaptureFixture[str]) -> tuple[Path, Path, str]:
    cdir = tmp_path / "criteria"
    cdir.mkdir()
    table = CORPUS / exp["table"]
    args = ["import-criteria", str(table), "-o", str(cdir / "tinh-mau-2025.yaml"), "--province", "tỉnh Mẫu",
            "--year", "2025"]
    for code in exp["external"]:
        args += ["--external", code]
    assert main(args) == 0
    return cdir, tmp_path / "rules", capsys.readouterr().err


def fill(template: Path, out: Path, exp: dict[str, Any]) -> None:
    """Type each leaf's value into the template as a clerk would (numbers in number cells, a level chosen
    from its drop-down), with a document for each."""
    wanted = {leaf["code"]: leaf for leaf in leaves(exp["fields"])}
    wb = load_workbook(template)
    seen = set()
    for ws in wb.worksheets:
        if not ws.title.startswith("Lĩnh vực"):
            continue
        head = next(r for r in range(1, 10) if ws.cell(r, 1).value == "Mã")
        col = {ws.cell(head, c).value: c for c in range(1, ws.max_column + 1)}
        for row in range(head + 1, ws.max_row + 1):
            code = ws.cell(row, col["Mã"]).value
            if code not in wanted or ws.cell(row, col["Tên số liệu"]).value is None:
                continue
            value = wanted[code]["fill"]
            kind = ws.cell(row, col["Kiểu giá trị"]).value
            if kind == "tỷ lệ (%)":
                value = float(parse_rate(value))
            elif kind in ("điểm", "số") and isinstance(value, str):
                value = float(Decimal(value.replace(",", ".")))
            ws.cell(row, col["Giá trị"], value)
            ws.cell(row, col["Số hiệu văn bản"], f"{len(seen) + 1}/BC-SMAU")
            ws.cell(row, col["Ngày ban hành"], "15/12/2025")
            seen.add(code)
    assert seen == set(wanted)
    wb.save(out)


@pytest.mark.parametrize("expected_file", EXPECTED, ids=lambda p: p.name.split(".")[0])
def test_import_check_template_fill_score(expected_file: Path, tmp_path: Path,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    exp = expected_of(expected_file)
    before = (CORPUS / exp["table"]).read_bytes()
    cdir, rdir, err = imported(tmp_path, exp, capsys)
    assert (CORPUS / exp["table"]).read_bytes() == before  # the table is never modified
    kinds = [leaf["kind"] for leaf in leaves(exp["fields"])]
    computed = sum(k in ("threshold", "count", "boolean") for k in kinds)
    assert (f"{computed} tính tự động từ thang điểm (tỷ lệ, số lượng, có/không), "
            f"{kinds.count('level')} chọn mức theo bảng, {kinds.count('points')} nhập điểm trực tiếp") in err
    assert sorted({line.split(": ")[3] for line in err.splitlines() if line.startswith("Không đọc được")}) == \
        sorted(exp["unread"])
    cset = load_criteria(cdir / "tinh-mau-2025.yaml")
    assert tree(cset.fields) == tree(exp["fields"])
    assert cset.scale == Decimal(exp["scale"])
    common = ["--criteria", str(cdir), "--rules", str(rdir), "--criteria-set", "tinh-mau-2025"]
    assert main(["check", *common]) == 0
    bundle = load_bundle(cdir, rdir, "tinh-mau-2025")
    assert {code: r.kind for code, r in bundle.rules.items()} == {
        leaf["code"]: leaf["kind"] for leaf in leaves(exp["fields"])}
    bundle.close()
    template = tmp_path / "mau.xlsx"
    assert main(["template", *common, "-o", str(template), "--department", "Sở Mẫu"]) == 0
    filled = tmp_path / "da-dien.xlsx"
    fill(template, filled, exp)
    result = tmp_path / "ket-qua.json"
    assert main(["score", str(filled), *common, "--format", "json", "-o", str(result)]) == 0
    card = json.loads(result.read_text(encoding="utf-8"))
    got = {c["code"]: c["points"] for c in card["criteria"]}
    for leaf in leaves(exp["fields"]):
        assert Decimal(str(got[leaf["code"]])) == Decimal(leaf["expect"]), leaf


@pytest.mark.parametrize("expected_file", EXPECTED, ids=lambda p: p.name.split(".")[0])
def test_set_level_n_on_every_imported_rule(expected_file: Path, tmp_path: Path) -> None:
    """--set CODE=level:N takes the N-th level as the table lists it, whatever kind the rule became."""
    exp = expected_of(expected_file)
    res = import_criteria_table(CORPUS / exp["table"], set_id="tinh-mau-2025", province="P", year=2025,
                                external=exp["external"])
    assert res.problems == ()
    bundle = bundle_of(res, tmp_path)
    try:
        ev = EvidenceFile(department="Sở Mẫu", year=2025, criteria_set="tinh-mau-2025", file="<test>")
        for code, rule in bundle.rules.items():
            if rule.kind in ("points", "external"):
                card = score(bundle, ev, overrides_from([f"{code}=0,5"]), strict=False)
                assert card.node(code).points == Decimal("0.5")
                continue
            levels = rule_levels(rule)
            for n, points in enumerate(levels, 1):
                card = score(bundle, ev, overrides_from([f"{code}=level:{n}"]), strict=False)
                assert card.node(code).points == points, (code, n)
            assert levels[0] == rule.max_points  # every table lists its best level first
    finally:
        bundle.close()


def rule_levels(rule: Any) -> list[Decimal]:
    r = rule.rule
    if r.kind == "level":
        return [lv.points for lv in r.levels]
    if r.kind == "boolean":
        return [r.points if r.points is not None else rule.max_points, r.else_points]
    return [b.points for b in r.bands] + [r.else_points]


def bundle_of(res: Any, tmp: Path) -> Any:
    """Load an import's result from a folder, as parindex check does."""
    (tmp / "criteria").mkdir()
    (tmp / "criteria" / "tinh-mau-2025.yaml").write_text(res.criteria_yaml, encoding="utf-8")
    rules = tmp / "rules" / "tinh-mau-2025"
    rules.mkdir(parents=True)
    for name, text in res.rules_files.items():
        (rules / name).write_text(text, encoding="utf-8")
    return load_bundle(tmp / "criteria", tmp / "rules", "tinh-mau-2025")


def test_rate_and_count_rules_take_a_rate_or_a_count(tmp_path: Path) -> None:
    exp = expected_of(CORPUS / "la-ma-huong-dan.expected.yaml")
    res = import_criteria_table(CORPUS / exp["table"], set_id="tinh-mau-2025", province="P", year=2025)
    bundle = bundle_of(res, tmp_path)
    try:
        ev = EvidenceFile(department="Sở Mẫu", year=2025, criteria_set="tinh-mau-2025", file="<test>")
        for sets, code, points in ((["1.1.2=97%"], "1.1.2", "1"), (["1.1.2=49/50"], "1.1.2", "2"),
                                   (["1.3=3"], "1.3", "2"), (["2.1=99,5%"], "2.1", "3"),
                                   (["1.1.1=Ban hành không kịp thời"], "1.1.1", "0.5")):
            assert score(bundle, ev, overrides_from(sets), strict=False).node(code).points == Decimal(points)
        node = score(bundle, ev, overrides_from(["1.1.2=95%"]), strict=False).node("1.1.2")
        assert "từ 90% đến dưới 98%" in node.reason  # the level in the province's words
        assert "«Từ 98% trở lên: 2 điểm; từ 90% đến dưới 98%: 1 điểm; dưới 90%: 0 điểm»" in node.source
    finally:
        bundle.close()


def test_points_with_no_document_are_flagged_by_the_audit(tmp_path: Path) -> None:
    from scoring.analysis.audit import audit

    exp = expected_of(CORPUS / "thang-dong-1-1-1.expected.yaml")
    res = import_criteria_table(CORPUS / exp["table"], set_id="tinh-mau-2025", province="P", year=2025)
    bundle = bundle_of(res, tmp_path)
    try:
        ev = EvidenceFile(department="Sở Mẫu", year=2025, criteria_set="tinh-mau-2025", file="<test>",
                          evidence={"2.2": LeafEvidence(values={"points": "0,5"})})
        report = audit(bundle, ev)
        gaps = [g for g in report.gaps if g.code == "2.2"]
        assert [g.kind for g in gaps] == ["missing_evidence"] and "tài liệu kiểm chứng" in gaps[0].message
        assert gaps[0].points_at_risk == Decimal("0.5")
        documented = ev.model_copy(update={"evidence": {"2.2": LeafEvidence(
            values={"points": "0,5"}, documents=(Document(number="12/BC-SMAU", date="15/12/2025"),))}})
        assert [g for g in audit(bundle, documented).gaps if g.code == "2.2"] == []
    finally:
        bundle.close()


def test_unknown_sheet_and_a_table_without_header_say_what_to_do(tmp_path: Path) -> None:
    from openpyxl import Workbook

    from scoring.core.errors import InputError

    table = CORPUS / "la-ma-huong-dan.xlsx"
    with pytest.raises(InputError) as exc:
        import_criteria_table(table, set_id="a", province="P", year=2025, sheet="Phu luc")
    (p,) = exc.value.problems
    assert p.code == "unknown_sheet" and "Phụ lục" in p.hint
    wb = Workbook()
    wb.active["A1"] = "Danh sách"
    wb.save(tmp_path / "trong.xlsx")
    with pytest.raises(InputError) as exc:
        import_criteria_table(tmp_path / "trong.xlsx", set_id="a", province="P", year=2025)
    (p,) = exc.value.problems
    assert p.code == "missing_column" and "--code-column" in p.hint


def test_two_copies_of_the_table_say_to_choose_a_sheet(tmp_path: Path) -> None:
    wb = load_workbook(CORPUS / "la-ma-huong-dan.xlsx")
    wb.copy_worksheet(wb["Phụ lục"]).title = "Phụ lục (bản cũ)"
    wb.save(tmp_path / "hai-ban.xlsx")
    res = import_criteria_table(tmp_path / "hai-ban.xlsx", set_id="a", province="P", year=2025)
    dup = next(p for p in res.problems if p.code == "duplicate_code")
    assert "--sheet \"Phụ lục\"" in dup.hint and dup.subject.startswith("'Phụ lục (bản cũ)'!A")
    one = import_criteria_table(tmp_path / "hai-ban.xlsx", set_id="a", province="P", year=2025, sheet="Phụ lục")
    assert one.problems == ()


@pytest.mark.parametrize("expected_file", EXPECTED, ids=lambda p: p.name.split(".")[0])
def test_an_official_import_marks_the_thresholds_as_the_provinces(expected_file: Path, tmp_path: Path) -> None:
    exp = expected_of(expected_file)
    res = import_criteria_table(CORPUS / exp["table"], set_id="tinh-mau-2025", province="P", year=2025,
                                external=exp["external"], official=True, source="QĐ 1/QĐ-UBND (ví dụ dựng sẵn)")
    assert res.problems == ()  # basis agrees with every rule's partial points (basis_mismatch otherwise)
    bundle = bundle_of(res, tmp_path)
    try:
        for code, rule in bundle.rules.items():
            if rule.kind in ("points", "external"):
                assert rule.rule.basis is None
            else:
                assert rule.rule.basis is not None and rule.rule.basis.full_points == "decision"
    finally:
        bundle.close()
