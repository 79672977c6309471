"""What-if, peers and rank, and the simulate command (batch scenarios from CSV)."""

from __future__ import annotations

import csv
import io
import json
import math
from decimal import Decimal
from fractions import Fraction
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from conftest import SAMPLES
from scoring.cli import main
from scoring.core.engine import overrides_from, score
from scoring.core.errors import InputError
from scoring.core.evidence import load_evidence
from scoring.core.rules import Bundle
from scoring.analysis.simulate import load_peers, points_for_percent, rank_of, same_unit
from scoring.core.vector import div_round

SAMPLE = str(SAMPLES / "so-tu-phap-lang-son-2025.yaml")
PEERS = str(SAMPLES / "peers-lang-son-2025.yaml")


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def run_json(capsys: pytest.CaptureFixture[str], *args: str) -> dict:
    code, out, err = run(capsys, *args, "--format", "json")
    assert code == 0, err
    return json.loads(out)


# ------------------------------------------------------------------ what-if


def test_whatif_json_contract_and_exact_deltas(capsys: pytest.CaptureFixture[str]) -> None:
    data = run_json(capsys, "whatif", SAMPLE, "--set", "7.3.4=60%", "--set", "1.5=3")
    assert data["before"] == {"points": 88.45, "max_points": 100, "percent": 88.45, "band": "Từ 80% đến dưới 90%"}
    assert data["after"]["points"] == 90.7 and data["after"]["percent"] == 90.7
    assert data["after"]["band"] == "Từ 90% trở lên"
    assert data["delta"] == {"points": 2.25, "percent": 2.25}
    changed = {c["code"]: (c["before"], c["after"], c["delta"]) for c in data["criteria"]}
    assert changed == {"1": (9.25, 10.25, 1), "1.5": (1, 2, 1), "7": (12.75, 14, 1.25), "7.3": (6.25, 7.5, 1.25),
                       "7.3.4": (1.25, 2.5, 1.25)}
    assert all(set(c) >= {"code", "before", "after", "delta"} for c in data["criteria"])
    assert [f["code"] for f in data["fields"]] == [str(i) for i in range(1, 9)]
    assert all(c["crossed"] for c in data["changes"])


def test_whatif_that_crosses_no_band_gives_zero_and_says_so(capsys: pytest.CaptureFixture[str]) -> None:
    data = run_json(capsys, "whatif", SAMPLE, "--set", "7.3.4=54%")
    assert data["delta"] == {"points": 0, "percent": 0} and data["criteria"] == []
    assert data["changes"][0]["crossed"] is False and data["changes"][0]["delta"] == 0
    assert "vẫn ở mức «từ 30% đến dưới 55%»" in data["changes"][0]["message"]
    assert "không vượt qua ngưỡng nào" in data["summary"] and "0 điểm" in data["summary"]
    code, out, _ = run(capsys, "whatif", SAMPLE, "--set", "7.3.4=54%")
    assert code == 0 and "không vượt qua ngưỡng nào: tổng điểm không đổi" in out


def test_whatif_redistribution_moves_points_to_the_sibling(capsys: pytest.CaptureFixture[str]) -> None:
    """No late dossier: 3.4.3 does not arise, its 1 point goes to 3.4.1 (3/3 → 4/4)."""
    data = run_json(capsys, "whatif", SAMPLE, "--set", "3.4.3:late=0", "--set", "3.4.3:late_with_apology=0")
    changed = {c["code"]: (c["before"], c["after"], c["max_after"]) for c in data["criteria"]}
    assert changed["3.4.1"] == (3, 4, 4) and "3.4.3" not in changed  # 0 → 0 points, maximum 1 → 0
    assert data["delta"]["points"] == 1


def test_whatif_table_is_vietnamese_and_ranks_with_peers(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "whatif", SAMPLE, "--set", "7.3.4=60%", "--peers", PEERS)
    assert code == 0
    assert "Trước" in out and "Sau" in out and "Chênh lệch" in out and "Theo lĩnh vực:" in out
    assert "+1,25" in out and "Xếp hạng sau khi thay đổi: 4/15" in out
    assert "VÍ DỤ MINH HỌA" in out and "Đã bỏ dòng «Sở Tư pháp»" in out
    data = run_json(capsys, "whatif", SAMPLE, "--set", "7.3.4=60%", "--peers", PEERS)
    assert data["rank_before"]["text"] == "5/15" and data["rank_after"]["text"] == "4/15"


@pytest.mark.parametrize("args, code_text", [
    ((), "nothing_to_try"),
    (("--set", "9.9=1"), "unknown_code"),
    (("--set", "7.3.4=160%"), "bad_value"),
])
def test_whatif_bad_input_is_exit_2(capsys: pytest.CaptureFixture[str], args: tuple[str, ...], code_text: str) -> None:
    code, out, err = run(capsys, "whatif", SAMPLE, *args)
    assert code == 2 and code_text in err and "Traceback" not in err and out == ""


# ------------------------------------------------------------------ peers and rank


def test_example_peers_put_the_sample_5th_of_15(bundle: Bundle) -> None:
    ev = load_evidence(SAMPLE)
    peers = load_peers(PEERS, ev.department, ev.year)
    assert peers.example and peers.measure == "percent" and peers.excluded == ("Sở Tư pháp",)
    assert len(peers.peers) == 14
    rank = rank_of(peers, Decimal("88.45"), Decimal("88.45"), Decimal(100), "x")
    assert rank is not None and rank.text == "5/15"
    assert [(b["rank"], b["points_needed"]) for b in rank.better] == [
        (1, Decimal("3.86")), (2, Decimal("2.42")), (3, Decimal("1.49")), (4, Decimal("0.67"))]
    card = score(bundle, ev)
    assert card.total.percent == Decimal("88.45")


def test_ties_share_a_rank(tmp_path: Path) -> None:
    p = tmp_path / "p.csv"
    p.write_text("unit,year,percent\nA,2025,90\nB,2025,88.45\nC,2025,80\n", encoding="utf-8")
    peers = load_peers(p, "Sở X", 2025)
    rank = rank_of(peers, Decimal("88.45"), Decimal("88.45"), Decimal(100), None)
    assert rank is not None and rank.text == "2/4" and [b["rank"] for b in rank.better] == [1]


def test_peers_csv_with_points_semicolons_and_vietnamese_headers(tmp_path: Path) -> None:
    p = tmp_path / "p.csv"
    p.write_text("Đơn vị;Năm;Điểm\nSở A;2025;91,5\nSở B;2024;99\nSở Tư pháp;2025;80\n", encoding="utf-8")
    peers = load_peers(p, "Sở Tư pháp tỉnh Lạng Sơn", 2025)
    assert peers.measure == "points" and [x.unit for x in peers.peers] == ["Sở A"]
    assert peers.excluded == ("Sở Tư pháp",) and peers.other_years == 1
    rank = rank_of(peers, Decimal("90"), Decimal("90"), Decimal(100), None)
    assert rank is not None and rank.text == "2/2" and rank.better[0]["points_needed"] == Decimal("1.5")


@pytest.mark.parametrize("text, problem", [
    ("unit,year,percent\nA,2025,90\nA,2025,80\n", "duplicate_unit"),
    ("unit,year,percent,points\nA,2025,90,\nB,2025,,80\n", "mixed_measures"),
    ("unit,year,score\nA,2025,90\n", "unknown_column"),
    ("unit,year,percent\nA,2024,90\n", "no_peers_for_year"),
    ("unit,year,percent\nA,2025,chín mươi\n", "bad_value"),
    ("unit,year,percent\nA,2025\n", "bad_row"),
    ("unit,year,percent\n,2025,90\n", "missing"),
])
def test_bad_peers_files(tmp_path: Path, text: str, problem: str) -> None:
    p = tmp_path / "p.csv"
    p.write_text(text, encoding="utf-8")
    with pytest.raises(InputError) as err:
        load_peers(p, "Sở X", 2025)
    assert err.value.problems[0].code == problem and err.value.problems[0].file == str(p)


def test_bad_peers_yaml_names_the_line(tmp_path: Path) -> None:
    p = tmp_path / "p.yaml"
    p.write_text("year: 2025\npeers:\n  - {unit: A, percent: 90}\n  - {unit: B, pecent: 80}\n", encoding="utf-8")
    with pytest.raises(InputError) as err:
        load_peers(p, "Sở X", 2025)
    assert (err.value.problems[0].code, err.value.problems[0].line) == ("unknown_column", 4)


def test_same_unit_ignores_the_province_suffix_and_case() -> None:
    assert same_unit("Sở Tư pháp", "SỞ TƯ PHÁP tỉnh Lạng Sơn")
    assert not same_unit("Sở Tư pháp", "Sở Tài chính")
    assert not same_unit("Sở Y", "Sở Y tế")


@given(st.integers(1, 10**5), st.integers(0, 12000))
def test_points_for_percent_is_the_least_that_reaches_it(max_h: int, q: int) -> None:
    need = points_for_percent(Decimal(q) / 100, Decimal(max_h) / 100)
    p = int(need * 100)
    assert div_round(p * 10000, max_h) >= q
    assert p == 0 or div_round((p - 1) * 10000, max_h) < q


def test_score_with_peers_has_a_rank(capsys: pytest.CaptureFixture[str]) -> None:
    data = run_json(capsys, "score", SAMPLE, "--peers", PEERS)
    assert data["rank"]["text"] == "5/15" and data["rank"]["example"] is True
    assert data["rank"]["better"][-1] == {"rank": 4, "unit": "Sở Khoa học và Công nghệ", "value": 89.12,
                                         "points_needed": 0.67, "points_target": 89.12}
    code, out, _ = run(capsys, "score", SAMPLE, "--peers", PEERS)
    assert code == 0 and "Xếp hạng: 5/15" in out
    code, out, _ = run(capsys, "score", SAMPLE, "--peers", PEERS, "--format", "markdown")
    assert code == 0 and "Xếp hạng: 5/15" in out


# ------------------------------------------------------------------ simulate


def _csv(tmp_path: Path, text: str, name: str = "sc.csv") -> str:
    p = tmp_path / name
    p.write_text(text, encoding="utf-8")
    return str(p)


def _rows(out: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(out.lstrip("\ufeff"))))


def test_simulate_rows_equal_score_with_the_same_values(capsys: pytest.CaptureFixture[str], tmp_path: Path,
                                                         bundle: Bundle) -> None:
    text = ("id,7.3.4,1.5,3.4.3:late,3.4.3:late_with_apology,7.3.1:reuse_rate,3.4.1\n"
            "as-is,,,,,,\n"
            "pay,60%,,,,,\n"
            "pay+ideas,60%,3,,,,\n"
            "no-late,,,0,0,,\n"
            "reuse,,,,,50%,\n"
            ",na,0,,,,97,99%\n".replace(",97,99%", ",97.99%")
            + "exact,55%,,,,,98%\n")
    path = _csv(tmp_path, text)
    code, out, err = run(capsys, "simulate", SAMPLE, "--scenarios", path)
    assert code == 0, err
    rows = _rows(out)
    assert list(rows[0]) == ["scenario", "points", "percent", "1", "2", "3", "4", "5", "6", "7", "8"]
    assert [r["scenario"] for r in rows] == ["as-is", "pay", "pay+ideas", "no-late", "reuse", "6", "exact"]
    ev = load_evidence(SAMPLE)
    sets = [[], ["7.3.4=60%"], ["7.3.4=60%", "1.5=3"], ["3.4.3:late=0", "3.4.3:late_with_apology=0"],
            ["7.3.1:reuse_rate=50%"], ["7.3.4=na", "1.5=0", "3.4.1=97.99%"], ["7.3.4=55%", "3.4.1=98%"]]
    for row, s in zip(rows, sets):
        card = score(bundle, ev, overrides_from(s))
        assert Decimal(row["points"]) == card.total.points, (row, s)
        assert Decimal(row["percent"]) == card.total.percent
        for f in "12345678":
            assert Decimal(row[f]) == card.node(f).points


def test_simulate_writes_output_atomically_with_rank(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    path = _csv(tmp_path, "7.3.4\n60%\n\n")
    out_file = tmp_path / "out.csv"
    code, out, err = run(capsys, "simulate", SAMPLE, "--scenarios", path, "-o", str(out_file), "--peers", PEERS)
    assert code == 0, err
    rows = _rows(out_file.read_text(encoding="utf-8"))
    assert [(r["scenario"], r["points"], r["rank"]) for r in rows] == [("1", "89.7", "4/15"), ("2", "88.45", "5/15")]
    code, _, err = run(capsys, "simulate", SAMPLE, "--scenarios", path, "-o", path)
    assert code == 2 and "would_overwrite_input" in err


@pytest.mark.parametrize("text, problem, line", [
    ("id,7.3.5\nx,1\n", "unknown_column", 1),
    ("id,7.3\nx,1\n", "unknown_column", 1),
    ("7.3.1:reuse\n50%\n", "unknown_column", 1),
    ("7.3.4,7.3.4\n1,1\n", "duplicate_column", 1),
    ("7.3.4\n", "no_scenarios", 2),
    ("id,7.3.4\na,60%\nb,160%\n", "bad_value", 3),
    ("id,1.5\na,3\nb,ba\n", "bad_value", 3),
    ("id,7.3.4\na,60%,1\n", "bad_csv", 2),
    ("id,1.2\na,15/03/2025\n", "cannot_set", 2),
])
def test_simulate_bad_scenarios_are_exit_2_with_file_and_line(capsys: pytest.CaptureFixture[str], tmp_path: Path,
                                                                text: str, problem: str, line: int) -> None:
    path = _csv(tmp_path, text)
    code, out, err = run(capsys, "simulate", SAMPLE, "--scenarios", path)
    assert code == 2 and out == "" and "Traceback" not in err
    assert f"{path}:{line}:" in err and problem in err


def test_simulate_unknown_column_suggests_the_code(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    code, _, err = run(capsys, "simulate", SAMPLE, "--scenarios", _csv(tmp_path, "3.4.11\n1\n"))
    assert code == 2 and "did you mean '3.4.1'" in err


def test_simulate_needs_a_scenarios_file(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    code, _, err = run(capsys, "simulate", SAMPLE, "--scenarios", str(tmp_path / "none.csv"))
    assert code == 2 and "file_not_found" in err


def test_percent_rounding_matches_when_the_maximum_is_not_100(capsys: pytest.CaptureFixture[str],
                                                              tmp_path: Path, bundle: Bundle) -> None:
    """Tuyên Quang's sample has a maximum of 97,5 (excluded sub-criteria): the index is rounded, exactly."""
    sample = str(SAMPLES / "so-tu-phap-tuyen-quang-2025.yaml")
    path = _csv(tmp_path, "7.3.3,1.5\n31%,1\n,0\n")
    code, out, err = run(capsys, "simulate", sample, "--scenarios", path)
    assert code == 0, err
    ev = load_evidence(sample)
    for row, s in zip(_rows(out), (["7.3.3=31%", "1.5=1"], ["1.5=0"])):
        card = score(bundle, ev, overrides_from(s))
        assert Decimal(row["percent"]) == card.total.percent and card.total.max_points != 100
        assert math.isclose(float(row["percent"]), float(Fraction(card.total.points) * 100 / Fraction(card.total.max_points)),
                            abs_tol=0.005)
