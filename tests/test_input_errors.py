"""Bad evidence and bad arguments through ``scoring.cli.main``: exit 2, file:line, no traceback, inputs untouched."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import pytest

from scoring.core.errors import InputError

from fixtures.kit import ALL_MET
from scoring.cli import main

BASE = ALL_MET.read_text(encoding="utf-8")


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def line_of(path: Path, needle: str) -> int:
    for i, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if needle in line:
            return i
    raise AssertionError(f"{needle!r} not in {path}")


def evidence(tmp_path: Path, *edits: tuple[str, str], name: str = "ev.yaml") -> Path:
    text = BASE
    for old, new in edits:
        assert text.count(old) == 1, old
        text = text.replace(old, new)
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def run(capsys: pytest.CaptureFixture[str], *args: str, inputs: tuple[Path, ...] = ()) -> tuple[int, str, str]:
    """Run the CLI in-process; check that no traceback is shown and no input file changed."""
    before = {p: digest(p) for p in inputs}
    code = main([str(a) for a in args])
    out, err = capsys.readouterr()
    assert "Traceback" not in out + err
    assert {p: digest(p) for p in inputs} == before, "an input file changed"
    return code, out, err


def fails(capsys: pytest.CaptureFixture[str], path: Path, *extra: str) -> str:
    code, out, err = run(capsys, "score", path, *extra, inputs=(path,))
    assert code == 2, err
    assert out == ""
    return err


# ------------------------------------------------------------------ values


def test_impossible_date(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = evidence(tmp_path, ("plan_deadline: 31/12/2024", "plan_deadline: 31/02/2025"))
    err = fails(capsys, path)
    assert f"{path}:{line_of(path, '31/02/2025')}: 1.1: bad_value:" in err
    assert "31/02/2025" in err and "dd/mm/yyyy" in err


def test_impossible_iso_date(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = evidence(tmp_path, ("plan_issued_on: 2024-12-31", "plan_issued_on: 2025-02-31"))
    err = fails(capsys, path)
    assert f"{path}:{line_of(path, '2025-02-31')}:" in err


def test_negative_count(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = evidence(tmp_path, ("{units_inspected: 6, units_planned: 6}", "{units_inspected: -6, units_planned: 6}"))
    err = fails(capsys, path)
    assert f"{path}:{line_of(path, 'units_inspected: -6')}: 1.3.1: bad_value:" in err and "negative" in err


def test_rate_150_without_percent(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = evidence(tmp_path, ("{synced_rate: 100%}", "{synced_rate: 150}"))
    err = fails(capsys, path)
    assert f"{path}:{line_of(path, 'synced_rate: 150')}: 3.2.3: bad_value:" in err
    assert "98%" in err  # says how to write a rate


def test_text_in_a_count(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = evidence(tmp_path, ("{initiatives: 3}", "{initiatives: ba}"))
    err = fails(capsys, path)
    assert f"{path}:{line_of(path, 'initiatives: ba')}: 1.5: bad_value: 'initiatives'" in err


@pytest.mark.parametrize("where", ["file", "--set"])
def test_huge_number(tmp_path: Path, capsys: pytest.CaptureFixture[str], where: str) -> None:
    if where == "file":
        path = evidence(tmp_path, ("{service_index: 90}", "{service_index: 1e400}"))
        code, _, err = run(capsys, "score", path, inputs=(path,))
    else:
        path = evidence(tmp_path)
        code, _, err = run(capsys, "score", path, "--set", "3.4.4=1e400", inputs=(path,))
    assert code in (0, 2), err
    assert "internal error" not in err


@pytest.mark.parametrize("value", ["[1, 2]", "{a: 1}"])
def test_structure_instead_of_a_value(tmp_path: Path, capsys: pytest.CaptureFixture[str], value: str) -> None:
    path = evidence(tmp_path, ("{initiatives: 3}", f"{{initiatives: {value}}}"))
    err = fails(capsys, path)
    assert "1.5: bad_value:" in err
    assert "LineList" not in err and "LineDict" not in err


def test_unknown_evidence_name(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = evidence(tmp_path, ("{initiatives: 3}", "{initiatves: 3}"))
    err = fails(capsys, path)
    assert "1.5: unknown_evidence:" in err and "did you mean 'initiatives'?" in err
    assert f"{path}:{line_of(path, 'initiatves')}:" in err


def test_decimal_comma_in_flow_mapping_gets_a_hint(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = evidence(tmp_path, ("{digitised_rate: 0.8, reuse_rate: 1/2}", "{digitised_rate: 83,5%, reuse_rate: 1/2}"))
    err = fails(capsys, path)
    assert "unknown_evidence" in err and '"83,5%"' in err


def test_unknown_code(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = evidence(tmp_path, ('  "1.5":\n', '  "1.55":\n'))
    err = fails(capsys, path)
    assert f"{path}:{line_of(path, '1.55')}: 1.55: unknown_code:" in err and "did you mean '1.5'?" in err


def test_evidence_on_a_parent_code(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = evidence(tmp_path, ('  "3.1":\n', '  "3.4":\n    values: {}\n  "3.1":\n'))
    err = fails(capsys, path)
    assert "3.4: unknown_code:" in err and "3.4.1" in err


def test_numerator_above_denominator(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = evidence(tmp_path, ("{units_inspected: 6, units_planned: 6}", "{units_inspected: 7, units_planned: 6}"))
    err = fails(capsys, path)
    assert f"{path}:{line_of(path, 'units_inspected: 7')}: 1.3.1: numerator_above_denominator:" in err


def test_numerator_above_denominator_hint_keeps_acronyms(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = evidence(tmp_path, ("{units_inspected: 6, units_planned: 6}", "{units_inspected: 7, units_planned: 6}"))
    err = fails(capsys, path)
    assert "cchc" not in err


def test_unquoted_numeric_code(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = evidence(tmp_path, ('  "1.5":\n', '  1.50:\n'))
    err = fails(capsys, path)
    assert f"{path}:{line_of(path, '1.50:')}:" in err
    assert "1.50" in err and '"1.50"' in err  # says to quote it, as written (not 1.5)


def test_unknown_top_level_key(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = evidence(tmp_path, ("department: ", "departmnt: "))
    err = fails(capsys, path)
    assert "extra_forbidden" in err and "did you mean 'department'?" in err
    assert f"{path}:{line_of(path, 'departmnt')}:" in err


def test_unknown_bonus(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "ev.yaml"
    path.write_text(BASE + "bonus:\n  - {id: sang-kien-cap-tinhh}\n", encoding="utf-8")
    err = fails(capsys, path)
    assert "unknown_adjustment" in err and "did you mean 'sang-kien-cap-tinh'?" in err
    assert f"{path}:{line_of(path, 'sang-kien-cap-tinhh')}:" in err


def test_every_evidence_problem_at_once(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = evidence(tmp_path, ("plan_deadline: 31/12/2024", "plan_deadline: 31/02/2025"),
                    ("{initiatives: 3}", "{initiatives: ba}"),
                    ("{synced_rate: 100%}", "{synced_rate: 150}"))
    err = fails(capsys, path)
    lines = [x for x in err.splitlines() if ": bad_value: " in x]
    assert [x.split(": ")[0] for x in lines] == [f"{path}:{line_of(path, n)}" for n in ("31/02", "ba}", "150")]
    assert "3 lỗi" in err


def test_wrong_criteria_set(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = evidence(tmp_path, ("criteria_set: cap-so-2025", "criteria_set: cap-so-2052"))
    err = fails(capsys, path)
    assert "unknown_criteria_set" in err and "did you mean 'cap-so-2025'?" in err


def test_wrong_criteria_set_forced(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = evidence(tmp_path, ("criteria_set: cap-so-2025", "criteria_set: cap-so-2052"))
    err = fails(capsys, path, "--criteria-set", "cap-so-2025")
    assert "wrong_criteria_set" in err and "cap-so-2052" in err


@pytest.mark.parametrize("content, code", [("", "empty_file"), ("- a\n- b\n", "not_a_mapping"),
                                           ("a: [1\n", "yaml_syntax")])
def test_unreadable_evidence(tmp_path: Path, capsys: pytest.CaptureFixture[str], content: str, code: str) -> None:
    path = tmp_path / "ev.yaml"
    path.write_text(content, encoding="utf-8")
    assert f"{code}:" in fails(capsys, path)


def test_evidence_not_found(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "score", tmp_path / "nope.yaml")
    assert code == 2 and "file_not_found" in err


def test_unsafe_tag_in_evidence(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    marker = tmp_path / "pwned"
    path = evidence(tmp_path, ("{initiatives: 3}", f'{{initiatives: !!python/object/apply:os.system ["touch {marker}"]}}'))
    assert "unsafe_tag" in fails(capsys, path)
    assert not marker.exists()


# ------------------------------------------------------------------ --set


@pytest.mark.parametrize("option, code, hint", [
    ("3.4.9=98%", "unknown_code", "did you mean '3.4."),
    ("3.4.1=abc", "bad_value", "'abc'"),
    ("3.4.1=150%", "bad_value", "0–1"),
    ("3.4.1=5/0", "bad_value", "divides by zero"),
    ("1.5=-1", "bad_value", "negative"),
    ("1.5=2.5", "bad_value", "whole number"),
    ("1.2=98%", "cannot_set", "1.2"),
    ("7.3.1:reus_rate=60%", "unknown_evidence", "did you mean 'reuse_rate'?"),
    ("3.2.3", "bad_set", "no '='"),
    ("3.2.3=", "bad_set", "no value"),
])
def test_bad_set(tmp_path: Path, capsys: pytest.CaptureFixture[str], option: str, code: str, hint: str) -> None:
    path = evidence(tmp_path)
    err = fails(capsys, path, "--set", option)
    assert f"{code}:" in err and hint in err
    assert "--set" in err


@pytest.mark.parametrize("option, code", [("8.2=6", "points_above_max"),
                                          ("3.4.1:received=4000", "numerator_above_denominator")])
def test_problem_caused_by_set_names_set(tmp_path: Path, capsys: pytest.CaptureFixture[str], option: str,
                                         code: str) -> None:
    path = evidence(tmp_path)
    err = fails(capsys, path, "--set", option)
    line = next(x for x in err.splitlines() if f": {code}: " in x)
    assert line.startswith("--set"), line


def test_bad_set_on_explain(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = evidence(tmp_path)
    code, out, err = run(capsys, "explain", path, "--set", "9.9=1", inputs=(path,))
    assert code == 2 and "unknown_code" in err and out == ""


# ------------------------------------------------------------------ output files


def test_output_onto_the_input_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = evidence(tmp_path)
    err = fails(capsys, path, "-o", str(path))
    assert "would_overwrite_input" in err
    assert path.read_text(encoding="utf-8") == BASE


def test_output_onto_the_input_by_another_path_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    path = evidence(tmp_path)
    (tmp_path / "sub").mkdir()
    monkeypatch.chdir(tmp_path)
    err = fails(capsys, path, "-o", "sub/../ev.yaml")
    assert "would_overwrite_input" in err


def test_no_output_file_on_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = evidence(tmp_path, ("{initiatives: 3}", "{initiatives: ba}"))
    out = tmp_path / "out.md"
    fails(capsys, path, "--format", "markdown", "-o", str(out))
    assert not out.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ev.yaml"]


def test_existing_output_kept_on_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = evidence(tmp_path, ("{initiatives: 3}", "{initiatives: ba}"))
    out = tmp_path / "out.json"
    out.write_text("old", encoding="utf-8")
    fails(capsys, path, "--format", "json", "-o", str(out))
    assert out.read_text(encoding="utf-8") == "old"


def test_output_written_whole_without_temp_files(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = evidence(tmp_path)
    out = tmp_path / "out.csv"
    out.write_text("old", encoding="utf-8")
    code, stdout, err = run(capsys, "score", path, "--format", "csv", "-o", out, inputs=(path,))
    assert code == 0 and stdout == ""
    text = out.read_text(encoding="utf-8-sig")
    assert text.startswith("Mã,Tiêu chí,") and text.count("\n") > 60
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ev.yaml", "out.csv"]


def test_output_folder_missing(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = evidence(tmp_path)
    err = fails(capsys, path, "-o", str(tmp_path / "no" / "out.txt"))
    assert "output_dir_missing" in err


def test_write_atomic_leaves_old_content_when_writing_fails(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from scoring.core import yamlio

    target = tmp_path / "out.txt"
    target.write_text("old", encoding="utf-8")

    def broken_fsync(fd: int) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(os, "fsync", broken_fsync)
    with pytest.raises(InputError) as caught:  # said in Vietnamese, exit 2, not a traceback
        yamlio.write_atomic(target, "new content")
    assert caught.value.problems[0].code == "write_failed"
    assert target.read_text(encoding="utf-8") == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["out.txt"]


# ------------------------------------------------------------------ arguments


@pytest.mark.parametrize("args", [["score"], ["score", "x.yaml", "--format", "pdf"], ["frobnicate"], []])
def test_argument_errors(capsys: pytest.CaptureFixture[str], args: list[str]) -> None:
    code, _, err = run(capsys, *args)
    assert code == 2 and "parindex" in err
