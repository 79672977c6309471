"""The parindex command: check, score (table/json/markdown/csv), explain, --set, --debug, installed elsewhere."""

from __future__ import annotations

import csv
import io
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from fixtures.kit import ALL_MET, FIXTURES, GOLDEN, ROOT
from scoring.cli import main
from scoring.core.scorecard import COLUMNS

TYPICAL = GOLDEN / "typical" / "evidence.yaml"
SURVEY_MISSING = GOLDEN / "survey-missing" / "evidence.yaml"
BROKEN = FIXTURES / "broken"


def run(capsys: pytest.CaptureFixture[str], *args: Any) -> tuple[int, str, str]:
    code = main([str(a) for a in args])
    out, err = capsys.readouterr()
    return code, out, err


def score_json(capsys: pytest.CaptureFixture[str], path: Path, *extra: str) -> dict[str, Any]:
    code, out, err = run(capsys, "score", path, "--format", "json", *extra)
    assert code == 0, err
    return json.loads(out)


# ------------------------------------------------------------------ check


def test_check_bundled(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "check")
    assert code == 0, err
    assert out.startswith("OK cap-so-2025:") and "100 điểm" in out


def test_check_broken_prints_every_problem(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "check", "--criteria", BROKEN / "criteria", "--rules", BROKEN / "rules")
    assert code == 2 and out == ""
    rules = BROKEN / "rules" / "broken-2025" / "rules.yaml"
    lines = [x for x in err.splitlines() if x.startswith(str(rules))]
    assert lines == [
        f"{rules}:4: 1.1: bad_template: explain uses unknown placeholder '{{mesured}}' "
        "(có phải 'measured'? (did you mean 'measured'?))",
        f"{rules}:13: 1.2: bands_not_ordered: band 2 (min 0,9) must be lower than band 1 (min 0,5) "
        "(list bands from the highest 'min' to the lowest)",
        f"{rules}:25: 1.3: top_band_not_max: the highest band gives 1.5 points but '1.3' is worth 2 "
        "(the top band should earn the maximum, or change max_points in the criteria)",
    ]
    assert "3 lỗi" in err and "Traceback" not in err


def test_check_fixture_set(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "check", "--criteria", FIXTURES / "kinds" / "criteria",
                       "--rules", FIXTURES / "kinds" / "rules")
    assert code == 0 and out.startswith("OK kinds-2025:")


def test_check_unknown_set(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "check", "--criteria-set", "cap-so-2052")
    assert code == 2 and "unknown_criteria_set" in err


# ------------------------------------------------------------------ score formats


def test_table(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "score", TYPICAL)
    assert code == 0
    assert "BẢNG TỰ ĐÁNH GIÁ, CHẤM ĐIỂM CHỈ SỐ CẢI CÁCH HÀNH CHÍNH NĂM 2025" in out
    assert "Đơn vị: Sở Kiểm thử (điển hình)" in out
    assert "TỔNG ĐIỂM: 85,75/100 – CHỈ SỐ: 85,75%" in out
    assert "MINH HỌA" in out  # the set's points are illustrative and the table says so
    row = next(x for x in out.splitlines() if x.startswith("3.4.4 "))
    assert re.search(r"\s4\s+3\s+1\s+Đạt một phần \[KH\/MH\]$", row), row
    lost = out.split("Điểm bị mất", 1)[1].splitlines()[1:]
    assert [x.split()[0] for x in lost if x.strip()][:3] == ["6.3", "4.2.1", "7.2.1"]


def test_json_contract(capsys: pytest.CaptureFixture[str]) -> None:
    data = score_json(capsys, TYPICAL)
    assert data["total"]["points"] == 85.75 and data["total"]["max_points"] == 100
    assert data["total"]["percent"] == 85.75
    required = {"code", "title", "points", "max_points", "lost", "outcome", "measured", "target", "reason",
                "evidence"}
    assert all(required <= set(rec) for rec in data["criteria"])
    by_code = {rec["code"]: rec for rec in data["criteria"]}
    assert list(by_code)[:3] == ["1", "1.1", "1.2"] and len(by_code) == len(data["criteria"])
    rec = by_code["3.4.1"]
    assert rec["points"] == 2 and rec["max_points"] == 3 and rec["lost"] == 1 and rec["outcome"] == "partial"
    assert rec["measured"] == pytest.approx(0.97)  # a rate as a fraction 0–1
    assert isinstance(rec["points"], int) and isinstance(by_code["1.2"]["points"], float)
    assert isinstance(rec["reason"], str) and "97%" in rec["reason"]
    assert isinstance(rec["evidence"], list) and rec["evidence"]
    assert by_code["1.5"]["measured"] == 1
    assert by_code["4.2.1"]["measured"] is True
    assert by_code["3"]["outcome"] is None  # outcomes are for leaves
    assert all(isinstance(rec["title"], str) and rec["title"] for rec in data["criteria"])


def test_json_measured_is_null_when_missing(capsys: pytest.CaptureFixture[str]) -> None:
    data = score_json(capsys, SURVEY_MISSING)
    rec = next(r for r in data["criteria"] if r["code"] == "8.2")
    assert rec["measured"] is None and rec["outcome"] == "missing_evidence"
    assert data["total"]["external_missing"] is True and data["warnings"]


def test_csv_is_vietnamese_for_the_office(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "score", TYPICAL, "--format", "csv")
    assert code == 0 and out.startswith("\ufeff")
    rows = list(csv.reader(io.StringIO(out.lstrip("\ufeff"))))
    assert rows[0][:8] == ["Mã", "Tiêu chí", "Cấp", "Điểm", "Điểm tối đa", "Điểm bị mất", "Tỷ lệ điểm (%)", "Kết quả"]
    body = {r[0]: dict(zip(rows[0], r)) for r in rows[1:]}
    assert body["3.4.4"]["Kết quả"] == "đạt một phần" and body["1"]["Cấp"] == "lĩnh vực"
    assert body["1"]["Điểm"] == "9.25"  # numbers stay numbers for Excel and scripts
    words = {v for r in rows[1:] for v in r}
    assert not words & {"met", "partial", "not_met", "False", "True", "field", "illustrative"}


def test_csv_columns(capsys: pytest.CaptureFixture[str]) -> None:  # --lang en: what scripts read, unchanged
    code, out, _ = run(capsys, "score", TYPICAL, "--format", "csv", "--lang", "en")
    assert code == 0 and out.startswith("\ufeff")
    rows = list(csv.reader(io.StringIO(out.lstrip("\ufeff"))))
    assert rows[0] == COLUMNS
    assert rows[0][:10] == ["code", "title", "level", "points", "max_points", "lost", "percent", "outcome",
                            "measured", "target"]
    body = {r[0]: dict(zip(COLUMNS, r)) for r in rows[1:]}
    assert len(body) == len(rows) - 1
    assert body["3.4.4"]["points"] == "3" and body["3.4.4"]["lost"] == "1" and body["3.4.4"]["outcome"] == "partial"
    assert body["1"]["points"] == "9.25" and body["1"]["level"] == "field"


def test_markdown_self_scoring_table(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "score", TYPICAL, "--format", "markdown")
    assert code == 0
    header = "| STT | Lĩnh vực / Tiêu chí / Tiêu chí thành phần | Điểm tối đa | Điểm tự đánh giá |"
    lines = out.splitlines()
    head = next(i for i, x in enumerate(lines) if x.startswith(header))
    assert lines[head + 1].startswith("|---|")
    rows = [x for x in lines[head + 2:] if x.startswith("|")]
    assert rows[0].startswith("| **1** | **CÔNG TÁC CHỈ ĐẠO") and "| 12 | **9,25** |" in rows[0]
    assert any(r.startswith("| 3.4.4 | ") and "| 4 | 3 [KH/MH] |" in r for r in rows)
    assert "**TỔNG ĐIỂM**" in rows[-1] and "**100**" in rows[-1] and "**85,75**" in rows[-1]
    n_cols = header.count("|")
    assert all(r.count("|") - r.count("\\|") >= n_cols for r in rows)


def test_output_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out_file = tmp_path / "bang.md"
    code, out, err = run(capsys, "score", TYPICAL, "--format", "markdown", "-o", out_file)
    assert code == 0 and out == "" and "Đã ghi" in err
    assert out_file.read_text(encoding="utf-8").startswith("## BẢNG TỰ ĐÁNH GIÁ")


# ------------------------------------------------------------------ explain


def test_explain_largest_loss_first(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "explain", TYPICAL)
    assert code == 0
    heads = re.findall(r"^(\d+)\. (\S+) .*: mất ([\d,]+)/", out, flags=re.M)
    assert [h[1] for h in heads] == ["6.3", "4.2.1", "7.2.1", "7.3.3", "1.5", "1.6", "3.4.1", "3.4.3", "3.4.4",
                                     "8.2", "1.2", "2.1.1", "8.1.1", "8.1.3"]
    assert [int(h[0]) for h in heads] == list(range(1, 15))
    block = out.split("1. 6.3", 1)[1].split("\n2. ", 1)[0]
    assert "Lý do:" in block and "Cần làm:" in block and "Mục tiêu:" in block
    assert "Tổng điểm: 85,75/100" in out


def test_explain_json(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "explain", TYPICAL, "--format", "json")
    assert code == 0
    data = json.loads(out)
    losses = [item["lost"] for item in data["lost"]]
    assert losses == sorted(losses, reverse=True) and losses[0] == 2  # 6.3 (3.4.4 khá loses 1 since issue 14)
    assert data["lost_total"] == pytest.approx(100 - 85.75)
    assert all(item["reason"] and item["guidance"] for item in data["lost"])


def test_explain_markdown_and_nothing_lost(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "explain", GOLDEN / "bonus-penalty-within-caps" / "evidence.yaml", "--format",
                       "markdown", "--set", "1.6=1")
    assert code == 0 and out.startswith("# Giải trình điểm bị mất")
    assert "Không mất điểm ở tiêu chí nào." in out


# ------------------------------------------------------------------ --set


def test_set_changes_the_score(capsys: pytest.CaptureFixture[str]) -> None:
    base = score_json(capsys, TYPICAL)
    tried = score_json(capsys, TYPICAL, "--set", "3.4.4=95", "--set", "6.3=có", "--set", "3.4.1=49/50")
    by_code = {r["code"]: r for r in tried["criteria"]}
    assert by_code["3.4.4"]["points"] == 4 and by_code["6.3"]["points"] == 2 and by_code["3.4.1"]["points"] == 3
    assert tried["total"]["points"] == base["total"]["points"] + 1 + 2 + 1  # 3.4.4 khá 3 → 4
    assert tried["overrides"] == ["3.4.4=95", "6.3=có", "3.4.1=49/50"]
    assert "(--set)" in " ".join(by_code["3.4.4"]["evidence"])


def test_set_is_shown_in_the_table(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "score", TYPICAL, "--set", "3.4.1=0.98")
    assert code == 0 and "Giá trị thử (--set), không phải số liệu đã nộp: 3.4.1=0.98" in out


def test_set_on_explain(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "explain", TYPICAL, "--set", "3.4.4=90", "--set", "6.3:autonomy_applied=có")
    assert code == 0
    heads = re.findall(r"^\d+\. (\S+) ", out, flags=re.M)
    assert heads[0] == "4.2.1" and "3.4.4" not in heads and "6.3" not in heads


def test_set_does_not_touch_the_file(capsys: pytest.CaptureFixture[str]) -> None:
    before = TYPICAL.read_bytes()
    run(capsys, "score", TYPICAL, "--set", "3.4.4=95")
    assert TYPICAL.read_bytes() == before


# ------------------------------------------------------------------ --debug and internal errors


def _boom(*args: Any, **kwargs: Any) -> Any:
    raise RuntimeError("boom")


def test_internal_error_without_debug(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("scoring.core.engine.score", _boom)
    code, out, err = run(capsys, "score", TYPICAL)
    assert code == 1
    assert "Traceback" not in err and "lỗi nội bộ" in err and "RuntimeError: boom" in err and "--debug" in err


def test_internal_error_with_debug(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("scoring.core.engine.score", _boom)
    code, _, err = run(capsys, "score", TYPICAL, "--debug")
    assert code == 1 and "Traceback" in err and "RuntimeError: boom" in err


def test_input_error_with_debug(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "score", tmp_path / "nope.yaml", "--debug")
    assert code == 2 and "file_not_found" in err and "Traceback" in err


def test_input_error_without_debug(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "score", tmp_path / "nope.yaml")
    assert code == 2 and "file_not_found" in err and "Traceback" not in err


# ------------------------------------------------------------------ run as a program, from elsewhere


def _exe() -> str:
    exe = Path(sys.executable).with_name("parindex")
    return str(exe) if exe.exists() else ""


@pytest.mark.skipif(not _exe(), reason="the parindex entry point is not installed next to this Python")
def test_installed_command_from_another_folder(tmp_path: Path) -> None:
    evidence = tmp_path / "ev.yaml"
    shutil.copy(ALL_MET, evidence)
    proc = subprocess.run([_exe(), "score", "ev.yaml", "--format", "json"], cwd=tmp_path, capture_output=True,
                          text=True, encoding="utf-8", timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["total"]["points"] == 99.5
    proc = subprocess.run([_exe(), "check"], cwd=tmp_path, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0 and proc.stdout.startswith("OK cap-so-2025")


def test_packaged_layout_finds_its_data(tmp_path: Path) -> None:
    """A plain (non-editable) install puts criteria/ and rules/ under scoring/_data (see pyproject)."""
    site = tmp_path / "site"
    shutil.copytree(ROOT / "scoring", site / "scoring", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copytree(ROOT / "criteria", site / "scoring" / "_data" / "criteria")
    shutil.copytree(ROOT / "rules", site / "scoring" / "_data" / "rules")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    shutil.copy(ALL_MET, elsewhere / "ev.yaml")
    script = ("import json, sys, scoring, scoring.core.rules as r; from scoring.cli import main;"
              "print(scoring.__file__); print(r.default_dirs()[0]); sys.exit(main(['score', 'ev.yaml', '--format', 'json']))")
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    proc = subprocess.run([sys.executable, "-c", script], cwd=elsewhere, capture_output=True, text=True,
                          encoding="utf-8", timeout=60, env={**env, "PYTHONPATH": str(site)})
    assert proc.returncode == 0, proc.stderr
    module_file, data_dir, payload = proc.stdout.split("\n", 2)
    assert module_file.startswith(str(site))
    assert data_dir == str(site / "scoring" / "_data" / "criteria")
    assert json.loads(payload)["total"]["points"] == 99.5


def test_evidence_for_another_year_is_a_warning(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "ev.yaml"
    path.write_text(ALL_MET.read_text(encoding="utf-8").replace("year: 2025", "year: 2024"), encoding="utf-8")
    code, out, _ = run(capsys, "score", path)
    assert code == 0
    assert any(x.startswith("Lưu ý:") and "2024" in x and "2025" in x for x in out.splitlines())
