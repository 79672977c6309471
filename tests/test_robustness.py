"""Bad inputs over every command, by kind (issue 15): no crash, no input overwritten, no half-written
output, every message in Vietnamese with its place.

Each kind is one parametrised test; a case is one line. Commands run in-process through
``scoring.cli.main`` except where a process must be signalled or limited (SIGTERM mid-write,
RLIMIT_FSIZE), which run in a subprocess.
"""

from __future__ import annotations

import hashlib
import os
import resource
import shutil
import signal
import stat
import subprocess
import sys
import textwrap
import time
from pathlib import Path
from typing import Any, Callable
from unittest import mock

import pytest

from scoring.cli import main

ROOT = Path(__file__).resolve().parent.parent
SAMPLES = ROOT / "sample_evidence"
EVIDENCE = SAMPLES / "so-tu-phap-lang-son-2025.yaml"
DOSSIERS = SAMPLES / "dossiers" / "ho-so-mot-cua-2025.csv"
MAPPING = SAMPLES / "dossiers" / "mapping-lang-son.yaml"
PROCEDURES = SAMPLES / "dossiers" / "danh-muc-tthc.csv"
PEERS = SAMPLES / "peers-lang-son-2025.yaml"
OPTIONS = SAMPLES / "options-lang-son-2025.yaml"
APPRAISAL = SAMPLES / "appraisal-lang-son-2025.csv"
BIG = "9" * 5000  # more digits than Python's int() accepts (4 300)


def run(capsys: pytest.CaptureFixture[str], *argv: Any) -> tuple[int, str, str]:
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def refused(capsys: pytest.CaptureFixture[str], problem: str, *argv: Any) -> str:
    """The command exits 2 with ``problem`` and no traceback; returns stderr."""
    code, _, err = run(capsys, *argv)
    assert code == 2, err
    assert f"{problem}:" in err, err
    assert "Traceback" not in err and "lỗi nội bộ" not in err, err
    return err


def digest(folder: Path) -> dict[str, str]:
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.fixture
def work(tmp_path: Path) -> Path:
    """A copy of everything a run reads: the criteria, the rules and the sample inputs."""
    shutil.copytree(ROOT / "criteria", tmp_path / "criteria")
    shutil.copytree(ROOT / "rules", tmp_path / "rules")
    for f in (EVIDENCE, PEERS, OPTIONS, APPRAISAL):
        shutil.copy(f, tmp_path / f.name)
    for f in (DOSSIERS, MAPPING, PROCEDURES):
        shutil.copy(f, tmp_path / f.name)
    (tmp_path / "kich-ban.csv").write_text("7.3.4\n60%\n", encoding="utf-8")
    return tmp_path


def _criteria_args(w: Path) -> list[str]:
    return ["--criteria", str(w / "criteria"), "--rules", str(w / "rules")]


# ------------------------------------------------------------------ 1. the output guard


#: (what -o names, the command that reads it)
OVERWRITE_CASES: list[tuple[str, Callable[[Path], list[str]], Callable[[Path], Path]]] = [
    ("criteria file", lambda w: ["score", w / EVIDENCE.name, *_criteria_args(w)],
     lambda w: w / "criteria" / "cap-so-2025.yaml"),
    ("rules file", lambda w: ["score", w / EVIDENCE.name, *_criteria_args(w)],
     lambda w: next((w / "rules" / "cap-so-2025").glob("3-*.yaml"))),
    ("evidence", lambda w: ["score", w / EVIDENCE.name], lambda w: w / EVIDENCE.name),
    ("dossiers", lambda w: ["score", w / EVIDENCE.name, "--dossiers", w / DOSSIERS.name, "--mapping", w / MAPPING.name],
     lambda w: w / DOSSIERS.name),
    ("mapping", lambda w: ["indicators", w / DOSSIERS.name, "--mapping", w / MAPPING.name], lambda w: w / MAPPING.name),
    ("procedures", lambda w: ["indicators", w / DOSSIERS.name, "--mapping", w / MAPPING.name, "--procedures",
                              w / PROCEDURES.name], lambda w: w / PROCEDURES.name),
    ("peers", lambda w: ["score", w / EVIDENCE.name, "--peers", w / PEERS.name], lambda w: w / PEERS.name),
    ("options", lambda w: ["plan", w / EVIDENCE.name, "--options", w / OPTIONS.name, "--budget", "10"],
     lambda w: w / OPTIONS.name),
    ("scenarios", lambda w: ["simulate", w / EVIDENCE.name, "--scenarios", w / "kich-ban.csv"],
     lambda w: w / "kich-ban.csv"),
    ("appraisal", lambda w: ["compare", w / EVIDENCE.name, "--appraisal", w / APPRAISAL.name],
     lambda w: w / APPRAISAL.name),
]


@pytest.mark.parametrize("what, argv, target", OVERWRITE_CASES, ids=[c[0] for c in OVERWRITE_CASES])
def test_an_output_never_replaces_a_file_the_run_reads(work: Path, capsys: pytest.CaptureFixture[str], what: str,
                                                       argv: Callable[[Path], list[str]],
                                                       target: Callable[[Path], Path]) -> None:
    before = digest(work)
    err = refused(capsys, "would_overwrite_input", *argv(work), "-o", target(work))
    assert "parindex không bao giờ sửa tệp đầu vào" in err
    assert digest(work) == before


def test_an_output_never_replaces_the_table_being_imported(work: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from openpyxl import Workbook

    wb = Workbook()
    for row in (["STT", "Tiêu chí", "Điểm tối đa"], ["1", "Công tác chỉ đạo", 2], ["1.1", "Kế hoạch CCHC", 2]):
        wb.active.append(row)
    table = work / "bang.xlsx"
    wb.save(table)
    before = digest(work)
    refused(capsys, "would_overwrite_input", "import-criteria", table, "-o", table, "--province", "tỉnh Mẫu",
            "--year", "2025")
    assert digest(work) == before


@pytest.mark.parametrize("output, problem", [
    ("{w}", "output_is_folder"),
    ("{w}/{ev}/bang.txt", "output_under_file"),
    ("/dev/null", "output_special_file"),
    ("{w}/khong-co/bang.txt", "output_dir_missing"),
    ("", "bad_output"),
    ("{w}/bang.pdf", "output_extension_mismatch"),
], ids=["folder", "under-a-file", "device", "missing-folder", "empty", "pdf-for-table"])
def test_bad_output_paths(work: Path, capsys: pytest.CaptureFixture[str], output: str, problem: str) -> None:
    target = output.format(w=work, ev=EVIDENCE.name)
    before = digest(work)
    refused(capsys, problem, "score", work / EVIDENCE.name, "-o", target)
    assert digest(work) == before


@pytest.mark.parametrize("fmt, name, ok", [
    ("xlsx", "bang.pdf", False), ("xlsx", "bang.xlsx", True), ("docx", "bang.xlsx", False),
    ("csv", "bang.json", False), ("csv", "bang.csv", True), ("json", "bang.md", False),
    ("markdown", "bang.md", True), ("table", "bang.txt", True), ("table", "bang", True),
])
def test_the_extension_matches_the_format(work: Path, capsys: pytest.CaptureFixture[str], fmt: str, name: str,
                                          ok: bool) -> None:
    code, _, err = run(capsys, "score", work / EVIDENCE.name, "--format", fmt, "-o", work / name)
    if ok:
        assert code == 0 and (work / name).exists(), err
    else:
        assert code == 2 and "output_extension_mismatch" in err and "định dạng là" in err
        assert not (work / name).exists()


@pytest.mark.parametrize("umask, expected", [(0o022, 0o644), (0o002, 0o664), (0o077, 0o600)])
def test_outputs_follow_the_umask(work: Path, capsys: pytest.CaptureFixture[str], umask: int, expected: int) -> None:
    old = os.umask(umask)
    try:
        code, _, err = run(capsys, "score", work / EVIDENCE.name, "-o", work / "bang.txt")
    finally:
        os.umask(old)
    assert code == 0, err
    assert stat.S_IMODE((work / "bang.txt").stat().st_mode) == expected


def test_an_existing_output_keeps_its_mode(work: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = work / "bang.txt"
    out.write_text("cũ", encoding="utf-8")
    out.chmod(0o640)
    assert run(capsys, "score", work / EVIDENCE.name, "-o", out)[0] == 0
    assert stat.S_IMODE(out.stat().st_mode) == 0o640 and out.read_text(encoding="utf-8") != "cũ"


def test_import_criteria_rules_out_a_file_writes_nothing(work: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from openpyxl import Workbook

    wb = Workbook()
    for row in (["STT", "Tiêu chí", "Điểm tối đa"], ["1", "Công tác chỉ đạo", 2], ["1.1", "Kế hoạch CCHC", 2]):
        wb.active.append(row)
    wb.save(work / "bang.xlsx")
    (work / "quy-tac.yaml").write_text("# một tệp\n", encoding="utf-8")
    before = digest(work)
    err = refused(capsys, "cannot_write", "import-criteria", work / "bang.xlsx", "-o", work / "moi.yaml",
                  "--province", "tỉnh Mẫu", "--year", "2025", "--rules-out", work / "quy-tac.yaml")
    assert "không tạo được thư mục quy tắc" in err
    assert digest(work) == before  # the criteria file is not written either: all or nothing
    assert main(["import-criteria", str(work / "bang.xlsx"), "-o", str(work / "moi.yaml"), "--province", "tỉnh Mẫu",
                 "--year", "2025", "--rules-out", str(work / "rules-moi")]) == 0
    assert (work / "moi.yaml").exists() and list((work / "rules-moi").glob("*.yaml"))


# ------------------------------------------------------------------ 2. errors, full disk, signals while writing


def _no_temp_files(folder: Path) -> list[str]:
    return [p.name for p in folder.rglob(".*.tmp")]


@pytest.mark.parametrize("fmt, name", [("table", "bang.txt"), ("xlsx", "bang.xlsx"), ("docx", "bang.docx")])
def test_a_full_disk_is_said_in_vietnamese_and_leaves_nothing(work: Path, fmt: str, name: str) -> None:
    out = work / name
    out.write_bytes(b"old")

    def limit() -> None:  # 2 KB: every output format is larger
        resource.setrlimit(resource.RLIMIT_FSIZE, (2048, resource.getrlimit(resource.RLIMIT_FSIZE)[1]))

    proc = subprocess.run([sys.executable, "-m", "scoring.cli", "score", str(work / EVIDENCE.name), "--format", fmt,
                           "-o", str(out)], capture_output=True, text=True, encoding="utf-8", cwd=work,
                          preexec_fn=limit, timeout=120, env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert proc.returncode == 2, proc.stderr
    assert "disk_full:" in proc.stderr and "ổ đĩa đầy" in proc.stderr and "Traceback" not in proc.stderr
    assert out.read_bytes() == b"old" and _no_temp_files(work) == []


def test_permission_denied_on_the_output_folder(work: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from scoring.core import safeio

    real = os.access
    with mock.patch.object(safeio.os, "access", lambda p, m: False if Path(p) == work / "ra" else real(p, m)):
        (work / "ra").mkdir()
        err = refused(capsys, "permission_denied", "score", work / EVIDENCE.name, "-o", work / "ra" / "bang.txt")
    assert "không có quyền ghi" in err


def test_permission_denied_while_renaming(work: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from scoring.core import safeio

    def refuse(*args: Any) -> None:
        raise PermissionError(13, "Permission denied")

    with mock.patch.object(safeio.os, "replace", refuse):
        refused(capsys, "permission_denied", "score", work / EVIDENCE.name, "-o", work / "bang.txt")
    assert not (work / "bang.txt").exists() and _no_temp_files(work) == []


def test_permission_denied_on_an_input(work: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from scoring.core import safeio

    real = os.access
    target = work / PEERS.name
    with mock.patch.object(safeio.os, "access", lambda p, m: False if Path(p) == target else real(p, m)):
        err = refused(capsys, "permission_denied", "score", work / EVIDENCE.name, "--peers", target)
    assert "không có quyền đọc" in err


SLOW_WRITE = textwrap.dedent("""
    import contextlib, sys, time
    from scoring.core import safeio

    real = safeio.atomic_output

    @contextlib.contextmanager
    def slow(path):
        with real(path) as handle:
            handle.write(b"half of it")
            handle.flush()
            sys.stdout.write("writing\\n"); sys.stdout.flush()
            time.sleep(60)
            yield handle

    safeio.atomic_output = slow
    from scoring.cli import main
    sys.exit(main(sys.argv[1:]))
""")


@pytest.mark.parametrize("signum, exit_code", [(signal.SIGTERM, 128 + signal.SIGTERM), (signal.SIGINT, 130)],
                         ids=["SIGTERM", "SIGINT"])
def test_a_signal_mid_write_leaves_no_temporary_file(work: Path, signum: int, exit_code: int) -> None:
    out = work / "ket-qua.csv"
    proc = subprocess.Popen([sys.executable, "-c", SLOW_WRITE, "simulate", str(work / EVIDENCE.name), "--scenarios",
                             str(work / "kich-ban.csv"), "-o", str(out)], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, encoding="utf-8", cwd=work,
                            env={**os.environ, "PYTHONPATH": str(ROOT)})
    try:
        assert proc.stdout is not None and proc.stdout.readline() == "writing\n"
        assert _no_temp_files(work)  # the temporary file exists while the output is being written
        proc.send_signal(signum)
        _, err = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == exit_code, err
    assert "Đã dừng" in err and "Traceback" not in err
    assert not out.exists() and _no_temp_files(work) == []


# ------------------------------------------------------------------ 3. the input guard: files


def _fifo(w: Path) -> Path:
    path = w / "ong-dan.yaml"
    os.mkfifo(path)
    return path


INPUT_FILE_CASES: list[tuple[str, Callable[[Path, Path], list[Any]]]] = [
    ("evidence", lambda w, p: ["score", p]),
    ("peers", lambda w, p: ["score", w / EVIDENCE.name, "--peers", p]),
    ("options", lambda w, p: ["plan", w / EVIDENCE.name, "--options", p, "--budget", "10"]),
    ("scenarios", lambda w, p: ["simulate", w / EVIDENCE.name, "--scenarios", p]),
    ("appraisal", lambda w, p: ["compare", w / EVIDENCE.name, "--appraisal", p]),
    ("dossiers", lambda w, p: ["indicators", p, "--mapping", w / MAPPING.name]),
    ("mapping", lambda w, p: ["indicators", w / DOSSIERS.name, "--mapping", p]),
    ("workbook", lambda w, p: ["import-evidence", p]),
]


@pytest.mark.parametrize("special", ["fifo", "/dev/zero"])
@pytest.mark.parametrize("what, argv", INPUT_FILE_CASES, ids=[c[0] for c in INPUT_FILE_CASES])
def test_pipes_and_devices_are_refused_at_once(work: Path, capsys: pytest.CaptureFixture[str], what: str,
                                               argv: Callable[[Path, Path], list[Any]], special: str) -> None:
    path = _fifo(work) if special == "fifo" else Path(special)
    started = time.perf_counter()
    err = refused(capsys, "not_a_regular_file", *argv(work, path))
    assert "không phải tệp thông thường" in err
    assert time.perf_counter() - started < 10


def test_a_folder_as_input(work: Path, capsys: pytest.CaptureFixture[str]) -> None:
    err = refused(capsys, "not_a_file", "score", work / EVIDENCE.name, "--peers", work / "criteria")
    assert "là thư mục" in err


def test_a_yaml_nul_byte_is_reported_with_its_line(work: Path, capsys: pytest.CaptureFixture[str]) -> None:
    text = EVIDENCE.read_text(encoding="utf-8").replace("prepared_by: Văn phòng Sở", "prepared_by: Văn\x00phòng Sở")
    path = work / "nul.yaml"
    path.write_text(text, encoding="utf-8")
    line = text[: text.index("\x00")].count("\n") + 1
    err = refused(capsys, "nul_byte", "score", path)
    assert err.startswith(f"{path}:{line}: nul_byte: dòng {line} chứa ký tự NUL")


@pytest.mark.parametrize("suffix, data, kind", [
    (".xls", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(100), "Excel 97-2003 (.xls)"),
    (".ods", b"PK\x03\x04" + bytes(30) + b"mimetypeapplication/vnd.oasis.opendocument.spreadsheet", "(.ods)"),
])
@pytest.mark.parametrize("command", ["score", "compare"])
def test_xls_and_ods_are_told_to_save_as_xlsx(work: Path, capsys: pytest.CaptureFixture[str], suffix: str,
                                               data: bytes, kind: str, command: str) -> None:
    path = work / f"bang{suffix}"
    path.write_bytes(data)
    argv = ["score", path] if command == "score" else ["compare", work / EVIDENCE.name, "--appraisal", path]
    err = refused(capsys, "workbook_format", *argv)
    assert kind in err and "Excel Workbook (.xlsx)" in err and "UTF-8 text" not in err


# ------------------------------------------------------------------ 4. numbers with bounds


def _replace(w: Path, name: str, old: str, new: str) -> Path:
    path = w / name
    text = path.read_text(encoding="utf-8")
    assert old in text, old
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    return path


def _check_with(w: Path, max_points: str) -> list[Any]:
    """``parindex check`` on a criteria file whose first field's maximum is ``max_points``."""
    _replace(w, "criteria/cap-so-2025.yaml", "    max_points: 12\n", f"    {max_points}\n")
    return ["check", *_criteria_args(w)]


NUMBER_CASES: list[tuple[str, Callable[[Path], list[Any]], str]] = [
    ("evidence-int", lambda w: ["score", _replace(w, EVIDENCE.name, "initiatives: 2", f"initiatives: {BIG}")],
     "number_too_large"),
    ("evidence-text", lambda w: ["score", _replace(w, EVIDENCE.name, "initiatives: 2", "initiatives: '1e999999999'")],
     "bad_value"),
    ("set-digits", lambda w: ["score", w / EVIDENCE.name, "--set", f"1.5={BIG}"], "bad_value"),
    ("set-exponent", lambda w: ["whatif", w / EVIDENCE.name, "--set", "7.3.4=1e999999999"], "bad_value"),
    ("set-nan", lambda w: ["whatif", w / EVIDENCE.name, "--set", "7.3.4=NaN"], "bad_value"),
    ("set-infinity", lambda w: ["whatif", w / EVIDENCE.name, "--set", "7.3.4=Infinity%"], "bad_value"),
    ("scenario", lambda w: ["simulate", w / EVIDENCE.name, "--scenarios",
                            _replace(w, "kich-ban.csv", "60%", BIG)], "bad_value"),
    ("option-effort", lambda w: ["plan", w / EVIDENCE.name, "--budget", "10", "--options",
                                 _replace(w, OPTIONS.name, "effort: 12", f"effort: {BIG}")], "number_too_large"),
    ("option-exponent", lambda w: ["plan", w / EVIDENCE.name, "--budget", "10", "--options",
                                   _replace(w, OPTIONS.name, "effort: 12", "effort: 1e99999")], "bad_value"),
    ("budget", lambda w: ["plan", w / EVIDENCE.name, "--options", w / OPTIONS.name, "--budget", BIG], "bad_value"),
    ("peers", lambda w: ["score", w / EVIDENCE.name, "--peers",
                         _replace(w, PEERS.name, "percent: 92.31", f"percent: {BIG}")], "number_too_large"),
    ("criteria-digits", lambda w: _check_with(w, f"max_points: {BIG}"), "number_too_large"),
    ("criteria-infinity", lambda w: _check_with(w, "max_points: Infinity"), "value_error"),
    ("criteria-nan", lambda w: _check_with(w, "max_points: .nan"), "value_error"),
    ("period-0000", lambda w: ["indicators", w / DOSSIERS.name, "--mapping", w / MAPPING.name, "--period", "0000"],
     "bad_period"),
]


@pytest.mark.parametrize("what, argv, problem", NUMBER_CASES, ids=[c[0] for c in NUMBER_CASES])
def test_numbers_are_bounded_before_int_and_decimal(work: Path, capsys: pytest.CaptureFixture[str], what: str,
                                                    argv: Callable[[Path], list[Any]], problem: str) -> None:
    started = time.perf_counter()
    refused(capsys, problem, *argv(work))
    assert time.perf_counter() - started < 20


# ------------------------------------------------------------------ 5. workbooks: real used range, formulas


def _far_cell(path: Path, sheet: int = 0) -> Path:
    from openpyxl import load_workbook

    wb = load_workbook(path)
    wb.worksheets[sheet]["XFD1048576"] = "x"
    wb.save(path)
    return path


def _evidence_xlsx(w: Path) -> Path:
    path = w / "ev.xlsx"
    assert main(["export", str(w / EVIDENCE.name), "-o", str(path)]) == 0
    return path


def _csv_as_xlsx(source: Path, target: Path, skip: int = 0) -> Path:
    import csv

    from openpyxl import Workbook

    wb = Workbook()
    with source.open(encoding="utf-8-sig") as handle:
        for i, row in enumerate(csv.reader(handle)):
            if i >= skip:
                wb.active.append(row)
    wb.save(target)
    return target


FAR_CASES: list[tuple[str, Callable[[Path], list[Any]]]] = [
    ("score", lambda w: ["score", _far_cell(_evidence_xlsx(w), 1)]),
    ("audit", lambda w: ["audit", _far_cell(_evidence_xlsx(w), 1)]),
    ("import-evidence", lambda w: ["import-evidence", _far_cell(_evidence_xlsx(w), 1)]),
    ("compare", lambda w: ["compare", w / EVIDENCE.name, "--appraisal",
                           _far_cell(_csv_as_xlsx(w / APPRAISAL.name, w / "tham-dinh.xlsx", skip=1))]),
    ("indicators", lambda w: ["indicators", _far_cell(_csv_as_xlsx(w / DOSSIERS.name, w / "ho-so.xlsx", skip=1)),
                              "--mapping", w / MAPPING.name]),
    ("import-criteria", lambda w: ["import-criteria", _far_cell(_csv_as_xlsx(w / APPRAISAL.name, w / "bang.xlsx",
                                                                               skip=1)),
                                   "-o", w / "moi.yaml", "--province", "tỉnh Mẫu", "--year", "2025"]),
]


@pytest.mark.parametrize("command, argv", FAR_CASES, ids=[c[0] for c in FAR_CASES])
def test_a_sheet_claiming_xfd1048576_is_refused_quickly(work: Path, capsys: pytest.CaptureFixture[str], command: str,
                                                        argv: Callable[[Path], list[Any]]) -> None:
    args = argv(work)
    started = time.perf_counter()
    err = refused(capsys, "sheet_too_large", *args)
    assert time.perf_counter() - started < 10
    assert "XFD1048576" in err and "Ctrl+End" in err


def test_a_dossier_formula_without_a_cached_value_names_its_cell(work: Path, capsys: pytest.CaptureFixture[str]
                                                                 ) -> None:
    from openpyxl import load_workbook

    path = _csv_as_xlsx(work / DOSSIERS.name, work / "ho-so.xlsx", skip=1)
    wb = load_workbook(path)
    wb.active["G5"] = "=F5"  # "Ngày có kết quả" computed by a program that never let Excel compute it
    wb.save(path)
    err = refused(capsys, "formula_without_value", "indicators", path, "--mapping", work / MAPPING.name)
    assert "'Sheet'!G5" in err and "Paste Special" in err


# ------------------------------------------------------------------ 6. the evidence workbook as the Office fills it


def _cell(path: Path, sheet: str, code: str, name: str | None, column: str, value: Any) -> str:
    from openpyxl import load_workbook

    wb = load_workbook(path)
    ws = wb[sheet]
    head = {c.value: c.column for c in ws[5]}
    for row in range(6, ws.max_row + 1):
        if ws.cell(row, head["Mã"]).value == code and (name is None or ws.cell(row, head["Tên số liệu"]).value == name):
            ws.cell(row, head[column]).value = value
            wb.save(path)
            return ws.cell(row, head[column]).coordinate
    raise AssertionError(f"no row {code} {name}")


@pytest.mark.parametrize("value, ok", [("có", True), ("Không", True), ("co", True), (True, True),
                                       ("x", False), ("yes", False), ("Đạt", False), ("1", False), (1, False)])
def test_yes_no_cells_take_what_the_drop_down_offers(work: Path, capsys: pytest.CaptureFixture[str], value: Any,
                                                     ok: bool) -> None:
    path = _evidence_xlsx(work)
    where = _cell(path, "Lĩnh vực 1", "1.4", "plan_carried_out", "Giá trị", value)
    code, _, err = run(capsys, "score", path)
    if ok:
        assert code == 0, err
    else:
        assert code == 2 and f"'Lĩnh vực 1'!{where}: bad_value:" in err and "'có' hoặc 'không'" in err


@pytest.mark.parametrize("na, justification, problem", [
    ("1", "Không có cuộc thanh tra nào", "bad_value"),
    ("x", None, "bad_value"),
    ("có", None, "missing_justification"),
    ("có", "Năm 2025 không có cuộc thanh tra nào", None),
])
def test_khong_phat_sinh_takes_co_and_a_justification(work: Path, capsys: pytest.CaptureFixture[str], na: str,
                                                      justification: str | None, problem: str | None) -> None:
    path = _evidence_xlsx(work)
    _cell(path, "Lĩnh vực 1", "1.5", None, "Không phát sinh", na)
    _cell(path, "Lĩnh vực 1", "1.5", None, "Giải trình không phát sinh", justification)
    code, _, err = run(capsys, "import-evidence", path)
    if problem is None:
        assert code == 0, err
    else:
        assert code == 2 and f"{problem}:" in err and "'Lĩnh vực 1'!" in err


def test_a_deleted_template_row_is_reported_with_where_to_put_it_back(work: Path,
                                                                      capsys: pytest.CaptureFixture[str]) -> None:
    from openpyxl import load_workbook

    path = _evidence_xlsx(work)
    wb = load_workbook(path)
    ws = wb["Lĩnh vực 3"]
    head = {c.value: c.column for c in ws[5]}
    rows = [r for r in range(6, ws.max_row + 1)
            if ws.cell(r, head["Mã"]).value == "3.4.1" and ws.cell(r, head["Tên số liệu"]).value == "received"]
    ws.delete_rows(rows[0])
    wb.save(path)
    err = refused(capsys, "deleted_row", "score", path)
    assert "'received' của tiêu chí '3.4.1' đã bị xóa" in err
    assert f"chèn một dòng ngay dưới dòng {rows[0] - 1} của trang 'Lĩnh vực 3'" in err


def test_whatif_on_a_rule_with_several_items_asks_which(work: Path, capsys: pytest.CaptureFixture[str]) -> None:
    err = refused(capsys, "ambiguous_set", "whatif", work / EVIDENCE.name, "--set", "7.3.1=55%")
    assert "7.3.1:TÊN=55%" in err and "digitised_rate" in err and "reuse_rate" in err
    code, out, _ = run(capsys, "whatif", work / EVIDENCE.name, "--set", "7.3.1:reuse_rate=55%")
    assert code == 0 and "7.3.1:reuse_rate=55%" in out


def test_audit_and_explain_name_the_sheet_and_cell(work: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from openpyxl import load_workbook

    path = _evidence_xlsx(work)
    where = _cell(path, "Lĩnh vực 1", "1.5", "initiatives", "Giá trị", None)
    code, out, err = run(capsys, "audit", path)
    assert code == 0, err
    assert f"ô 'Lĩnh vực 1'!{where}" in out
    assert "not_applicable" not in out and "justification" not in out and "item:" not in out
    code, out, _ = run(capsys, "explain", path)
    assert f"cột 'Giá trị' ô 'Lĩnh vực 1'!{where} (số liệu 'initiatives')" in out
    target = work / "ra-soat.xlsx"
    assert run(capsys, "audit", path, "--format", "xlsx", "-o", target)[0] == 0
    rows = list(load_workbook(target)["Vấn đề"].iter_rows(values_only=True))
    assert rows[0][-1] == "Ô trong bảng tính"
    assert any(r[1] == "1.5" and r[-1] == f"'Lĩnh vực 1'!{where}" for r in rows[1:])


# ------------------------------------------------------------------ 7. dossier exports



def _dossier_variant(w: Path, old: str, new: str) -> Path:
    lines = (w / DOSSIERS.name).read_text(encoding="utf-8").split("\n")
    lines[2] = lines[2].replace(old, new, 1) if old else new + lines[2][lines[2].index(","):]
    path = w / "ho-so-sua.csv"
    path.write_text("\n".join(lines), encoding="utf-8")
    return path



def test_a_dossier_id_of_spaces_is_refused(work: Path, capsys: pytest.CaptureFixture[str]) -> None:
    refused(capsys, "missing_value", "indicators", _dossier_variant(work, "", "   "), "--mapping", work / MAPPING.name)



def test_a_nul_byte_in_a_dossier_value_names_its_line(work: Path, capsys: pytest.CaptureFixture[str]) -> None:
    err = refused(capsys, "nul_byte", "indicators", _dossier_variant(work, "Phòng Hành", "Phòng\x00Hành"),
                  "--mapping", work / MAPPING.name)
    assert "UTF-16" not in err



def test_two_canonical_columns_mapped_to_one_header_are_refused(work: Path,
                                                                capsys: pytest.CaptureFixture[str]) -> None:
    _replace(work, MAPPING.name, 'result_digitised: "Số hóa kết quả"', 'result_digitised: "Số hóa thành phần hồ sơ"')
    refused(capsys, "duplicate_mapping", "indicators", work / DOSSIERS.name, "--mapping", work / MAPPING.name)
