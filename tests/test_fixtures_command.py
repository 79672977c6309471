"""``parindex test``: rule fixtures beside a set's rules run as pass/fail cases with a clear diff."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from conftest import ROOT
from scoring.analysis.fixtures import run_fixtures
from scoring.cli import main
from scoring.core.rules import load_bundle


def test_the_bundled_set_ships_fixtures_that_pass(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["test", str(ROOT / "rules" / "cap-so-2025")]) == 0
    out = capsys.readouterr().out
    assert "LỖI" not in out and "16 trường hợp (cap-so-2025): 16 đạt, 0 lỗi." in out
    assert main(["test"]) == 0  # default: the bundled rules


def test_fixtures_are_not_read_as_rules() -> None:
    bundle = load_bundle(None, None, "cap-so-2025")
    assert not any("/tests/" in f for f in bundle.files)
    bundle.close()


def copy_set(tmp_path: Path) -> Path:
    shutil.copytree(ROOT / "criteria", tmp_path / "criteria")
    shutil.copytree(ROOT / "rules", tmp_path / "rules")
    return tmp_path / "rules" / "cap-so-2025"


def test_a_failing_case_shows_expected_and_actual(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rules = copy_set(tmp_path)
    (rules / "tests" / "sai.yaml").write_text(
        'criteria_set: cap-so-2025\ncases:\n  - name: "98% mà mong 2 điểm"\n'
        '    evidence:\n      "3.4.1": {values: {on_time: 4900, received: 5000}}\n'
        '    expect: {"3.4.1": 2, "3.4": "3"}\n', encoding="utf-8")
    assert main(["test", str(rules)]) == 3
    out = capsys.readouterr().out
    assert "  LỖI  98% mà mong 2 điểm (dòng 3)" in out
    assert "3.4.1: mong đợi 2 điểm, được 3 điểm (mức «từ 98% trở lên»)" in out
    assert "- mong đợi: 2" in out and "+ thực tế:  3" in out
    assert "17 trường hợp (cap-so-2025): 16 đạt, 1 lỗi." in out
    report = json.loads(_json(rules, capsys))
    failed = [c for c in report["cases"] if not c["passed"]]
    assert [d["code"] for d in failed[0]["differences"]] == ["3.4.1"]  # 3.4 = 3 is right (3.4.1 alone)


def _json(rules: Path, capsys: pytest.CaptureFixture[str]) -> str:
    main(["test", str(rules), "--format", "json"])
    return capsys.readouterr().out


@pytest.mark.parametrize("case, code, text", [
    ('  - name: a\n    expect: {"9.9": 1}\n', "unknown_code", "không có mã '9.9'"),
    ('  - name: a\n    expct: {"3.4.1": 1}\n', "unknown_key", "expct"),
    ('  - name: a\n    evidence: {"3.4.1": {values: {on_time: x, received: 5}}}\n    expect: {"3.4.1": 1}\n',
     "bad_value", "on_time"),
    ('  - name: a\n    set: ["3.4.1=level:9"]\n    expect: {"3.4.1": 1}\n', "bad_value", "4 mức"),
])
def test_a_case_that_cannot_be_scored_fails_with_its_problem(tmp_path: Path, case: str, code: str,
                                                            text: str) -> None:
    rules = copy_set(tmp_path)
    shutil.rmtree(rules / "tests")
    (rules / "tests").mkdir()
    (rules / "tests" / "x.yaml").write_text("criteria_set: cap-so-2025\ncases:\n" + case, encoding="utf-8")
    report = run_fixtures(rules)
    (result,) = report.cases
    assert not result.passed and result.problems[0].code == code and text in result.problems[0].message


def test_no_fixtures_is_bad_input(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "rules").mkdir()
    assert main(["test", str(tmp_path / "rules")]) == 2
    assert "no_fixtures" in capsys.readouterr().err
