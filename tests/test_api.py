"""scoring.api called as a library user would: no subprocess, no argparse; and its JSON is the CLI's."""

from __future__ import annotations

import io
import re
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from scoring import api
from scoring.cli import main

ROOT = Path(__file__).resolve().parent.parent
SAMPLES = ROOT / "sample_evidence"
LANG_SON = SAMPLES / "so-tu-phap-lang-son-2025.yaml"
DOSSIERS = SAMPLES / "dossiers"


def evidence_samples() -> list[Path]:
    top = re.compile(r"^(department|criteria_set|evidence):", re.M)
    return [p for p in sorted(SAMPLES.glob("*.yaml")) if len(set(top.findall(p.read_text(encoding="utf-8")))) == 3]


def cli_out(capsys: pytest.CaptureFixture[str], *args: str) -> str:
    capsys.readouterr()
    code = main(list(args))
    out, err = capsys.readouterr()
    assert code == 0, err
    return out


@pytest.fixture(scope="module")
def assessment() -> tuple[api.Bundle, api.EvidenceFile]:
    return api.load_assessment(LANG_SON)


def test_the_docstring_lists_every_operation() -> None:
    doc = api.__doc__ or ""
    public = [n for n in api.__all__ if n[0].islower()]
    assert public, "no operations"
    for name in public:
        assert f"``{name}``" in doc, f"scoring.api's docstring does not list {name}"


def test_check_reports_the_bundled_set() -> None:
    report = api.check()
    assert report.ok and any(s.startswith("cap-so-2025:") for s in report.summaries)


def test_check_collects_problems_instead_of_raising(tmp_path: Path) -> None:
    report = api.check(tmp_path, tmp_path)
    assert not report.ok and report.problems[0].code == "no_criteria"


def test_load_and_score(assessment: tuple[api.Bundle, api.EvidenceFile]) -> None:
    bundle, ev = assessment
    card = api.score(bundle, ev)
    assert isinstance(card, api.Scorecard)
    assert card.total.points == sum((n.points for n in card.nodes if n.level == "field"), Decimal(0)) \
        + card.total.bonus - card.total.penalty


def test_score_with_values_tried(assessment: tuple[api.Bundle, api.EvidenceFile]) -> None:
    bundle, ev = assessment
    before = api.score(bundle, ev)
    after = api.score(bundle, ev, ["7.3.4=100%"])
    assert after.total.points >= before.total.points


def test_evidence_from_uploaded_bytes_names_the_upload_in_problems() -> None:
    with pytest.raises(api.InputError) as err:
        api.load_evidence(b"department: [unclosed\n", filename="../../etc/ho-so.yaml")
    files = {p.file for p in err.value.problems}
    assert files == {"ho-so.yaml"}, files  # the browser's path is never used, only its last part is shown


def test_workbook_bytes_round_trip(assessment: tuple[api.Bundle, api.EvidenceFile]) -> None:
    bundle, ev = assessment
    data = api.export_workbook(bundle, ev)
    back = api.load_evidence(data, filename="tu-cham.xlsx", bundle=bundle)
    assert back.file == "tu-cham.xlsx"
    assert api.score(bundle, back).total == api.score(bundle, ev).total


def test_template_is_a_workbook(assessment: tuple[api.Bundle, api.EvidenceFile]) -> None:
    data = api.template(assessment[0], department="Sở Tư pháp")
    assert data[:4] == b"PK\x03\x04"
    from openpyxl import load_workbook

    assert len(load_workbook(io.BytesIO(data)).sheetnames) > 2


def test_import_workbook_gives_yaml(tmp_path: Path, assessment: tuple[api.Bundle, api.EvidenceFile]) -> None:
    path = tmp_path / "ev.xlsx"
    path.write_bytes(api.export_workbook(*assessment))
    text = api.import_workbook(path)
    assert "criteria_set: cap-so-2025" in text


def test_explain_lists_losses_largest_first(assessment: tuple[api.Bundle, api.EvidenceFile]) -> None:
    data = api.explain(api.score(*assessment))
    lost = [Decimal(str(item["lost"])) for item in data["lost"]]
    assert lost and lost == sorted(lost, reverse=True)


def test_whatif_and_rank(assessment: tuple[api.Bundle, api.EvidenceFile]) -> None:
    bundle, ev = assessment
    peers = api.load_peers(SAMPLES / "peers-lang-son-2025.yaml", ev.department, ev.year)
    result = api.whatif(bundle, ev, ["3.4.1=100%"], peers)
    assert isinstance(result, api.WhatIfResult)
    assert api.rank(api.score(bundle, ev), peers) is not None


def test_simulate(tmp_path: Path, assessment: tuple[api.Bundle, api.EvidenceFile]) -> None:
    bundle, ev = assessment
    scenarios = tmp_path / "s.csv"
    scenarios.write_text("id,7.3.4\na,50%\nb,100%\n", encoding="utf-8")
    result = api.simulate(bundle, ev, scenarios)
    assert result.ids == ["a", "b"]
    csv_text = api.render_scenarios(result)
    assert csv_text.splitlines()[0].lstrip("\ufeff").startswith("scenario,points,percent")


def test_plan(assessment: tuple[api.Bundle, api.EvidenceFile]) -> None:
    bundle, ev = assessment
    result = api.plan(bundle, ev, SAMPLES / "options-lang-son-2025.yaml", budget=Decimal(5))
    assert isinstance(result, api.PlanResult) and "chosen" in api.to_json(result)


def test_audit_and_compare(assessment: tuple[api.Bundle, api.EvidenceFile]) -> None:
    bundle, ev = assessment
    result = api.audit(bundle, ev)
    assert isinstance(result, api.AuditResult)
    cmp = api.compare(bundle, ev, SAMPLES / "appraisal-lang-son-2025.csv")
    assert isinstance(cmp, api.Comparison)


def test_indicators_and_evidence_with_dossiers(assessment: tuple[api.Bundle, api.EvidenceFile]) -> None:
    inputs = api.DossierInputs(dossiers=DOSSIERS / "ho-so-mot-cua-2025.csv", mapping=DOSSIERS / "mapping-lang-son.yaml",
                               procedures=DOSSIERS / "danh-muc-tthc.csv")
    result = api.indicators(inputs)
    assert result.indicators["on_time"].denominator > 0
    ev = api.evidence_with_dossiers(assessment[0], assessment[1], inputs)
    assert any(leaf.computed for leaf in ev.evidence.values())


def test_render_dispatches_on_type(assessment: tuple[api.Bundle, api.EvidenceFile]) -> None:
    card = api.score(*assessment)
    assert api.render(card, "xlsx")[:4] == b"PK\x03\x04"  # type: ignore[index]
    assert api.render(card, "docx")[:4] == b"PK\x03\x04"  # type: ignore[index]
    assert "Mã" in api.render(card, "table")  # type: ignore[operator]
    with pytest.raises(TypeError):
        api.render(object())


def test_import_criteria_refuses_a_bad_scale(tmp_path: Path) -> None:
    with pytest.raises(api.InputError) as err:
        api.import_criteria(tmp_path / "t.xlsx", scale="nhiều", set_id="x", province="tỉnh X", year=2025)
    assert err.value.problems[0].code == "bad_scale"


# ------------------------------------------------------------------ the API's JSON is the CLI's JSON


@pytest.mark.parametrize("sample", evidence_samples(), ids=lambda p: p.name)
def test_score_json_equals_the_cli(sample: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bundle, ev = api.load_assessment(sample)
    assert api.to_json(api.score(bundle, ev)) == cli_out(capsys, "score", str(sample), "--format", "json")


@pytest.mark.parametrize("sample", evidence_samples(), ids=lambda p: p.name)
def test_explain_and_audit_json_equal_the_cli(sample: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bundle, ev = api.load_assessment(sample)
    card = api.score(bundle, ev)
    assert api.to_json(api.explain(card)) == cli_out(capsys, "explain", str(sample), "--format", "json")
    assert api.to_json(api.audit(bundle, ev)) == cli_out(capsys, "audit", str(sample), "--format", "json")


@pytest.mark.parametrize("sample", evidence_samples(), ids=lambda p: p.name)
def test_whatif_json_equals_the_cli(sample: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bundle, ev = api.load_assessment(sample)
    sets = ["3.4.1=99%", "1.5=1"]
    assert api.to_json(api.whatif(bundle, ev, sets)) == cli_out(
        capsys, "whatif", str(sample), "--set", sets[0], "--set", sets[1], "--format", "json")


def test_peers_rank_json_equals_the_cli(capsys: pytest.CaptureFixture[str]) -> None:
    bundle, ev = api.load_assessment(LANG_SON)
    peers = api.load_peers(SAMPLES / "peers-lang-son-2025.yaml", ev.department, ev.year)
    card = api.score(bundle, ev)
    expected = cli_out(capsys, "score", str(LANG_SON), "--peers", str(SAMPLES / "peers-lang-son-2025.yaml"),
                       "--format", "json")
    assert api.render_scorecard(card, "json", rank=api.rank(card, peers)) == expected


def test_dossier_json_equals_the_cli(capsys: pytest.CaptureFixture[str]) -> None:
    args = [str(DOSSIERS / "ho-so-mot-cua-2025.csv"), "--mapping", str(DOSSIERS / "mapping-lang-son.yaml")]
    inputs = api.DossierInputs(dossiers=DOSSIERS / "ho-so-mot-cua-2025.csv", mapping=DOSSIERS / "mapping-lang-son.yaml")
    assert api.render_indicators(api.indicators(inputs), "json") == cli_out(capsys, "indicators", *args, "--format", "json")


def test_api_functions_are_typed() -> None:
    import inspect

    for name in api.__all__:
        obj: Any = getattr(api, name)
        if inspect.isfunction(obj):
            sig = inspect.signature(obj)
            assert sig.return_annotation is not inspect.Signature.empty, f"{name} has no return type"
