"""Each scale phrasing of a province table, from the Vietnamese text to the points at and around each bound.

A one-leaf table with the phrase in its guidance cell is imported and scored with ``--set``, so the
whole path (sentence → rule → durable-rules) is tested, not the parser alone.
"""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pytest
from openpyxl import Workbook

from scoring.core.engine import overrides_from, score
from scoring.core.evidence import EvidenceFile
from scoring.inputs.criteria_table import import_criteria_table
from scoring.inputs.scale_text import read_levels
from scoring.core.rules import Bundle, load_bundle

#: (phrase, maximum points, kind it becomes, [(value given with --set, points)])
PHRASES = [
    ("Từ 98% trở lên: 3 điểm; từ 90% đến dưới 98%: 2 điểm; dưới 90%: 0 điểm", "3", "threshold",
     [("100%", "3"), ("98,01%", "3"), ("98%", "3"), ("97,99%", "2"), ("90%", "2"), ("89,99%", "0"), ("0%", "0")]),
    ("Trên 99%: 2 điểm; từ 95% đến 99%: 1 điểm; dưới 95%: 0 điểm", "2", "threshold",
     [("99,01%", "2"), ("99%", "1"), ("98,99%", "1"), ("95%", "1"), ("94,99%", "0")]),
    ("Trên 90% đến 100%: 2 điểm; từ 70% đến 90%: 1 điểm; dưới 70%: 0 điểm", "2", "threshold",
     [("90,01%", "2"), ("90%", "1"), ("70%", "1"), ("69,99%", "0")]),
    ("Chậm hạn dưới 01%: 2 điểm; từ 01% đến dưới 5%: 1 điểm; từ 5% trở lên: 0 điểm", "2", "threshold",
     [("0%", "2"), ("0,99%", "2"), ("1%", "1"), ("1,01%", "1"), ("4,99%", "1"), ("5%", "0"), ("5,01%", "0")]),
    ("Không quá 2%: 1 điểm; trên 2%: 0 điểm", "1", "threshold", [("1,99%", "1"), ("2%", "1"), ("2,01%", "0")]),
    ("Đạt 100%: 1 điểm; dưới 100%: 0 điểm", "1", "threshold", [("100%", "1"), ("99,99%", "0"), ("49/50", "0")]),
    ("Từ 95% trở lên: 1,5; từ 80% đến dưới 95%: 0,75; dưới 80%: 0", "1.5", "threshold",
     [("95%", "1.5"), ("94,99%", "0.75"), ("80%", "0.75"), ("79,99%", "0")]),
    ("Từ 03 sáng kiến trở lên: 1 điểm; 02 sáng kiến: 0,5 điểm; 01 sáng kiến: 0,25 điểm; không có: 0 điểm", "1", "count",
     [("4", "1"), ("3", "1"), ("2", "0.5"), ("1", "0.25"), ("0", "0")]),
    ("Từ 10 dịch vụ trở lên: 2 điểm; từ 5 đến 9 dịch vụ: 1 điểm; dưới 5 dịch vụ: 0 điểm", "2", "count",
     [("11", "2"), ("10", "2"), ("9", "1"), ("5", "1"), ("4", "0")]),
    ("Mỗi sáng kiến được 0,25 điểm, tối đa 1 điểm", "1", "count",
     [("0", "0"), ("1", "0.25"), ("3", "0.75"), ("4", "1"), ("5", "1")]),
    ("Có: 1 điểm; Không: 0 điểm", "1", "boolean", [("có", "1"), ("không", "0")]),
    ("Thực hiện: 0,5 điểm; Không thực hiện: 0 điểm", "0.5", "boolean", [("có", "0.5"), ("không", "0")]),
    ("Không có sai phạm: 1 điểm; Có sai phạm: 0 điểm", "1", "boolean", [("có", "1"), ("không", "0")]),
    ("Ban hành kịp thời: 1 điểm; ban hành không kịp thời: 0,5 điểm; không ban hành: 0 điểm", "1", "level",
     [("level:1", "1"), ("Ban hành không kịp thời", "0.5"), ("2", "0.5"), ("level:3", "0"), ("không ban hành", "0")]),
    ("Đánh giá tốt: 2 điểm; khá: 1 điểm; trung bình: 0,5 điểm", "2", "level",
     [("level:1", "2"), ("khá", "1"), ("3", "0.5")]),
    ("Căn cứ kết quả kiểm tra của Sở Nội vụ", "2", "points", [("2", "2"), ("1,25", "1.25"), ("0", "0")]),
]


def one_leaf_table(path: Path, phrase: str, max_points: str) -> Path:
    wb = Workbook()
    ws = wb.active
    ws.title = "Phụ lục"
    for j, head in enumerate(("STT", "Tiêu chí", "Điểm tối đa", "Hướng dẫn chấm điểm"), 1):
        ws.cell(1, j, head)
    ws.append(["I", "Lĩnh vực thử", float(max_points)])
    ws.append([1, "Tiêu chí thử", float(max_points), phrase])
    wb.save(path)
    return path


@pytest.fixture(scope="module")
def bundles(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Bundle]]:
    out: dict[str, Bundle] = {}
    for i, (phrase, maxp, _, _) in enumerate(PHRASES):
        tmp = tmp_path_factory.mktemp(f"phrase{i}")
        res = import_criteria_table(one_leaf_table(tmp / "bang.xlsx", phrase, maxp), set_id="thu-2025",
                                    province="P", year=2025)
        assert res.problems == () and res.unread_rows == ()
        (tmp / "criteria").mkdir()
        (tmp / "criteria" / "thu-2025.yaml").write_text(res.criteria_yaml, encoding="utf-8")
        rules = tmp / "rules" / "thu-2025"
        rules.mkdir(parents=True)
        for name, text in res.rules_files.items():
            (rules / name).write_text(text, encoding="utf-8")
        out[phrase] = load_bundle(tmp / "criteria", tmp / "rules", "thu-2025")
    yield out
    for b in out.values():
        b.close()


CASES = [(phrase, kind, value, points) for phrase, _, kind, cases in PHRASES for value, points in cases]


@pytest.mark.parametrize("phrase, kind, value, points", CASES,
                         ids=[f"{p[:24]}…={v}" for p, _, v, _ in CASES])
def test_phrase_scores_at_and_around_each_bound(bundles: dict[str, Bundle], phrase: str, kind: str, value: str,
                                                points: str) -> None:
    bundle = bundles[phrase]
    assert bundle.rules["1.1"].kind == kind
    ev = EvidenceFile(department="Sở thử", year=2025, criteria_set="thu-2025", file="<test>")
    node = score(bundle, ev, overrides_from([f"1.1={value}"])).node("1.1")
    assert node.points == Decimal(points)
    rule = bundle.rules["1.1"].rule
    assert phrase in (rule.source or "")  # the original sentence is kept
    if kind not in ("points",) and node.lost > 0:
        # the explanation names the level in the province's words
        assert f"«{node.band}»" in node.reason
        if not phrase.startswith("Mỗi"):  # per-unit levels are counted out ("03 sáng kiến")
            assert node.band in [lv.label for lv in read_levels(phrase)]


@pytest.mark.parametrize("text, levels", [
    ("Từ 98% trở lên: 3 điểm; dưới 98%: 0 điểm", [("Từ 98% trở lên", "3"), ("dưới 98%", "0")]),
    ("Từ 98% trở lên: 3đ\nDưới 98%: 0đ", [("Từ 98% trở lên", "3"), ("Dưới 98%", "0")]),
    ("- Có: 1 điểm.\n- Không: 0 điểm.", [("Có", "1"), ("Không", "0")]),
    ("Đạt 100% (1 điểm); dưới 100% (0 điểm)", [("Đạt 100%", "1"), ("dưới 100%", "0")]),
    ("Đạt 100%", []),  # a rate with no points is not a level
])
def test_levels_are_read_with_vietnamese_decimals_and_optional_words(text: str, levels: list[tuple[str, str]]) -> None:
    assert [(lv.label, str(lv.points)) for lv in read_levels(text)] == levels
