"""Issue 14: the bundled sets follow the seed plans. Each test quotes the seed line it follows."""

from __future__ import annotations

import io
import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import yaml

from scoring.analysis.diff_sets import diff_sets, render_text
from scoring.analysis.audit import audit
from scoring.cli import main
from scoring.core.engine import score
from scoring.core.errors import DefinitionError
from scoring.core.evidence import load_evidence
from scoring.core.rules import load_bundle
from scoring.core.vector import VectorScorer, from_hundredths

ROOT = Path(__file__).resolve().parent.parent
# the users' seed plans live in shared/ beside the repository (CI lays a copy there too)
SEEDS = next((p for p in (ROOT.parent / "shared" / "seeds", Path("/work/shared/seeds")) if p.is_dir()), ROOT / "no-seeds")
SAMPLES = ROOT / "sample_evidence"
LS_2025, TQ_2025 = SAMPLES / "so-tu-phap-lang-son-2025.yaml", SAMPLES / "so-tu-phap-tuyen-quang-2025.yaml"
BQL_2025, LS_2026 = SAMPLES / "bql-kkt-cua-khau-dong-dang-lang-son-2025.yaml", SAMPLES / "so-tu-phap-lang-son-2026.yaml"


@pytest.fixture(scope="module")
def b2026() -> Any:
    b = load_bundle(set_id="cap-so-lang-son-2026")
    yield b
    b.close()


def _seed(n: str) -> str:
    path = next(SEEDS.glob(f"{n}_*.txt"), None)
    if path is None:
        pytest.skip("seeds not available")
    return " ".join(path.read_text(encoding="utf-8").split())


def _with(ev: Any, code: str, **values: Any) -> Any:
    leaf = ev.evidence[code].model_copy(update={"values": values, "not_applicable": False})
    return ev.model_copy(update={"evidence": {**ev.evidence, code: leaf}})


# ------------------------------------------------------------------ fixes to cap-so-2025


def test_5_1_2_counts_units(bundle: Any) -> None:
    quote = "100% số phòng, đơn vị bố trí công chức theo vị trí việc làm"
    assert quote in _seed("001")
    rule = bundle.rules["5.1.2"].rule
    assert quote in rule.source
    assert bundle.rules["5.1.2"].rule.spec(rule.numerator).unit == "phòng/đơn vị"
    card = score(bundle, _with(load_evidence(LS_2025), "5.1.2", units_in_position=5, units_total=6))
    assert card.node("5.1.2").points == 0  # 5 of 6 units is 83 %: below the illustrative 90 % band


def test_6_1_2_counts_money(bundle: Any) -> None:
    quote = "100% số tiền nộp NSNN theo kiến nghị sau thanh tra, kiểm tra, kiểm toán được thực hiện xong (nếu có)"
    assert quote in _seed("001")
    rule = bundle.rules["6.1.2"].rule
    assert quote in rule.source and rule.spec(rule.numerator).unit == "đồng"
    card = score(bundle, _with(load_evidence(LS_2025), "6.1.2", refund_paid=40_000_000, refund_required=50_000_000))
    assert card.node("6.1.2").points == Decimal("0.5") and "40.000.000/50.000.000" in card.node("6.1.2").measured_text


def test_6_3_is_per_regulation_in_2025_and_saves_5_percent_in_2026(bundle: Any, b2026: Any) -> None:
    assert "Thực hiện đúng quy định về cơ chế tự chủ tại các đơn vị sự nghiệp công lập" in _seed("001")
    assert "Phấn đấu đạt tiết kiệm được từ 5% kinh phí trở lên" in _seed("002")
    assert bundle.rules["6.3"].kind == "boolean" and "savings_rate" not in bundle.rules["6.3"].rule.reads()
    assert "savings_rate" in b2026.rules["6.3"].rule.reads()
    ev = load_evidence(LS_2026)
    assert score(b2026, ev).node("6.3").outcome == "met"
    leaf = dict(ev.evidence["6.3"].values)
    assert score(b2026, _with(ev, "6.3", **{**leaf, "savings_rate": "4,9%"})).node("6.3").points == 0
    late = score(b2026, _with(ev, "6.3", **{**leaf, "autonomy_report_on": "01/02/2026"})).node("6.3")
    assert late.points == 0 and "Báo cáo kết quả tự chủ đúng thời hạn" in late.reason


@pytest.mark.parametrize("index, points", [("80", "4"), ("90", "4"), ("79.99", "3"), ("70", "3"), ("50", "1")])
def test_3_4_4_tot_earns_the_maximum(bundle: Any, index: str, points: str) -> None:
    assert "Phấn đấu đạt điểm đánh giá từ tốt trở lên" in _seed("001")
    card = score(bundle, _with(load_evidence(LS_2025), "3.4.4", service_index=index))
    assert card.node("3.4.4").points == Decimal(points)


@pytest.mark.parametrize("code, seed_title", [
    ("3.2.4", "Công bố TTHC nội bộ cấp tỉnh"),
    ("3.4.3", "Thực hiện việc xin lỗi người dân, tổ chức khi để xảy ra trễ hẹn trong giải quyết hồ sơ TTHC (nếu có)"),
    ("3.5.1", "Xử lý PAKN của cá nhân, tổ chức đối với TTHC thuộc thẩm quyền giải quyết của tỉnh"),
    ("3.5.2", "Công khai kết quả trả lời PAKN của cá nhân, tổ chức đối với quy định TTHC thuộc thẩm quyền của tỉnh"),
    ("1.3.1", "Phối hợp với đoàn kiểm tra công tác cải cách hành chính thực hiện các nội dung phục vụ kiểm tra "
              "công tác cải cách hành chính hằng năm"),
])
def test_titles_are_the_seeds(bundle: Any, code: str, seed_title: str) -> None:
    assert seed_title in _seed("001")
    assert bundle.criteria.index()[code].title == seed_title


@pytest.mark.parametrize("code, given", [
    ("7.1.1", {"architecture_updated": True}), ("7.1.1", {"architecture_applied": True}),
    ("4.3.1", {"delegation_rules_applied": True}), ("4.3.1", {"delegation_findings_fixed": True}),
])
def test_any_one_check_is_enough_with_the_other_blank(bundle: Any, code: str, given: dict[str, Any]) -> None:
    """seed 001 PL01 mục 7.1.1: "Tổ chức triển khai, duy trì Kiến trúc theo quy định" (either way holds)."""
    ev = _with(load_evidence(LS_2025), code, **given)
    node = score(bundle, ev).node(code)
    assert node.outcome == "met" and node.points == node.max_points, node.reason
    # the batch path (vector) agrees with score() on the same blank item and on every value of the given one
    scorer = VectorScorer(bundle)
    name = next(iter(given))
    entries = [None, {name: "có"}, {name: "không"}]
    pool, problems = scorer.pool(ev, code, entries)
    assert not problems
    columns = {c: (scorer.pool(ev, c, [None])[0], None) for c in scorer.codes if c != code}
    columns[code] = (pool, np.arange(3, dtype=np.int32))
    card = score(bundle, ev)
    res = scorer.score(columns, 3, bonus=card.total.bonus, penalty=card.total.penalty)
    for row, entry in enumerate(entries):
        want = score(bundle, ev, {code: entry} if entry else None)
        assert from_hundredths(res.points[row]) == want.total.points, entry
    assert score(bundle, ev, {code: {name: "không"}}).node(code).outcome == "missing_evidence"


def test_fields_cite_qd_892(bundle: Any) -> None:
    for field in bundle.criteria.fields:
        assert "QĐ 892/QĐ-BNV" in field.source, field.code
    assert bundle.criteria.legal_basis[0].startswith("QĐ 892/QĐ-BNV")


def test_3_1_is_under_3_2_of_seed_002(bundle: Any) -> None:
    assert "Rà soát, đánh giá thủ tục hành chính (TTHC): ban hành và hoàn thành đúng tiến độ" in _seed("002")
    assert "mục II.3.2" in bundle.rules["3.1"].rule.source and "mục II.3.2" in bundle.criteria.index()["3.1"].source


@pytest.mark.parametrize("set_id", ["cap-so-2025", "cap-so-lang-son-2026"])
def test_bonus_penalty_and_bands_say_where_they_come_from(set_id: str) -> None:
    b = load_bundle(set_id=set_id)
    adj = b.criteria.adjustments
    for item in adj.bonus.items + adj.penalty.items:
        assert "minh họa" in (item.source or ""), item.id
    assert "minh họa" in b.criteria.result_bands_source
    b.close()


def test_tuyen_quang_plan_date_agrees_with_the_seed(bundle: Any) -> None:
    assert "Ban hành Kế hoạch trước ngày 20/7/2025 (đã hoàn thành)" in _seed("001")
    ev = load_evidence(TQ_2025)
    values = ev.evidence["1.1"].values
    assert values["plan_deadline"] == "20/07/2025" and values["plan_issued_on"] <= "20/07/2025"
    assert score(bundle, ev).node("1.1").outcome == "met"


# ------------------------------------------------------------------ basis per rule


@pytest.mark.parametrize("set_id", ["cap-so-2025", "cap-so-lang-son-2026"])
def test_every_bundled_rule_states_its_basis(set_id: str) -> None:
    b = load_bundle(set_id=set_id)
    assert all(r.rule.basis is not None for r in b.rules.values())
    assert b.rules["3.4.1"].rule.basis.tag() == ("KH/MH" if set_id == "cap-so-2025" else "MH/MH")
    assert b.rules["8.2"].rule.basis.tag() == "QĐ"
    b.close()


def test_basis_must_match_the_bands(tmp_path: Path) -> None:
    import shutil

    shutil.copytree(ROOT / "criteria", tmp_path / "criteria")
    shutil.copytree(ROOT / "rules", tmp_path / "rules")
    path = tmp_path / "rules" / "cap-so-2025" / "1-chi-dao-dieu-hanh.yaml"
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace("basis: {full_points: seed, lower_bands: illustrative}",
                                 "basis: {full_points: seed, lower_bands: none}", 1), encoding="utf-8")
    with pytest.raises(DefinitionError) as exc:
        load_bundle(tmp_path / "criteria", tmp_path / "rules", "cap-so-2025")
    assert [p.code for p in exc.value.problems] == ["basis_mismatch"]


def test_basis_is_shown_beside_the_points(bundle: Any, capsys: Any) -> None:
    assert main(["score", str(LS_2025)]) == 0
    out = capsys.readouterr().out
    row = next(x for x in out.splitlines() if x.startswith("3.4.1 "))
    assert row.endswith("[KH/MH]") and "KH = mục tiêu trong kế hoạch" in out
    assert main(["score", str(LS_2025), "--format", "json"]) == 0
    rec = next(r for r in json.loads(capsys.readouterr().out)["criteria"] if r["code"] == "3.4.1")
    assert rec["basis"] == {"full_points": "seed", "lower_bands": "illustrative"} and rec["basis_tag"] == "KH/MH"
    assert main(["score", str(LS_2025), "--format", "markdown"]) == 0
    assert "| 3 [KH/MH] |" in capsys.readouterr().out


# ------------------------------------------------------------------ the kind of unit


def test_the_board_is_not_a_so(bundle: Any, capsys: Any, tmp_path: Path) -> None:
    assert "TRƯỞNG BAN" in _seed("003")
    for cmd in ("score", "explain"):
        assert main([cmd, str(BQL_2025)]) == 0
        out = capsys.readouterr().out
        assert "của Sở" not in out and "GIÁM ĐỐC" not in out
    assert "của Ban" in out
    from docx import Document

    target = tmp_path / "bql.docx"
    assert main(["score", str(BQL_2025), "--format", "docx", "-o", str(target)]) == 0
    text = "\n".join(p.text for p in Document(str(target)).paragraphs)
    cells = "\n".join(c.text for t in Document(str(target)).tables for row in t.rows for c in row.cells)
    assert "TRƯỞNG BAN" in cells and "GIÁM ĐỐC" not in cells + text and "Lãnh đạo Ban" in cells
    assert "UBND TỈNH LẠNG SƠN" in cells


def test_a_so_keeps_giam_doc(bundle: Any, tmp_path: Path) -> None:
    from docx import Document

    target = tmp_path / "so.docx"
    assert main(["score", str(LS_2025), "--format", "docx", "-o", str(target)]) == 0
    cells = "\n".join(c.text for t in Document(str(target)).tables for row in t.rows for c in row.cells)
    assert "GIÁM ĐỐC" in cells and "Lãnh đạo Sở" in cells


def test_unit_kind_is_read_from_the_name_when_absent(bundle: Any) -> None:
    ev = load_evidence(BQL_2025).model_copy(update={"unit_kind": None})
    assert score(bundle, ev).unit_kind == "ban"
    assert score(bundle, load_evidence(TQ_2025)).unit_kind == "so"


# ------------------------------------------------------------------ field 8 pending


def test_survey_pending_total_is_provisional_and_listed_last(bundle: Any, capsys: Any) -> None:
    card = score(bundle, load_evidence(BQL_2025))
    assert card.total.provisional
    lost = card.lost_points()
    assert not lost[0].pending_survey and all(n.pending_survey for n in lost if n.code.startswith("8"))
    assert main(["score", str(BQL_2025)]) == 0
    out = capsys.readouterr().out
    total = next(x for x in out.splitlines() if x.startswith("TỔNG ĐIỂM"))
    assert total.endswith("(tạm tính, chưa có kết quả điều tra xã hội học)")
    result = audit(bundle, load_evidence(BQL_2025))
    summary = result.to_json()["summary"]
    assert summary["provisional"] is True and summary["current_points"] == float(card.total.points)
    assert set(summary["pending_survey_codes"]) == {n.code for n in lost if n.pending_survey}
    assert all(g.code[0] != "8" or g.kind != "missing_evidence" for g in result.gaps)


def test_with_the_survey_the_total_is_final(bundle: Any) -> None:
    card = score(bundle, load_evidence(LS_2025))
    assert not card.total.provisional and card.to_json()["total"]["provisional_note"] is None


# ------------------------------------------------------------------ the 2026 set


def test_2026_every_node_cites_seed_002(b2026: Any) -> None:
    for node in b2026.criteria.walk():
        assert "seed 002" in (node.source or ""), node.code
    for code, rule in b2026.rules.items():
        assert "seed 002" in (rule.rule.source or ""), code


@pytest.mark.parametrize("code, quote", [
    ("7.2.1", "100% hồ sơ công việc các cấp được xử lý trực tuyến và ứng dụng chữ ký số chuyên dùng"),
    ("7.3.1", "100% hồ sơ, kết quả giải quyết TTHC có giá trị tái sử dụng của Sở Tư pháp được số hóa"),
    ("7.3.3", "100% TTHC tiếp nhận trực tuyến"),
    ("7.3.4", "thanh toán không dùng tiền mặt"),
    ("3.3", "được tiếp nhận và trả kết quả tại Trung tâm phục vụ hành chính công của tỉnh"),
    ("6.1.2", "trong năm đánh giá và năm trước liền kề năm đánh giá (nếu có)"),
    ("7.2.4", "mỗi tháng có từ 07 tin, bài trở lên"),
    ("7.3.5", "bao gồm cả thiết bị di động"),
    ("7.1.3", "được thực hiện trên nền tảng quản trị tổng thể, thống nhất"),
    ("5.5", "phấn đấu 100% công chức đánh giá hoàn thành tốt nhiệm vụ trở lên"),
    ("5.6", "thực hiện hoàn thành 100% việc chuyển đổi vị trí việc làm theo Kế hoạch"),
    ("4.1.3", "không vượt quá số lượng cấp phó theo định mức quy định"),
    ("6.3", "Báo cáo kết quả thực hiện cơ chế tự chủ, tự chịu trách nhiệm hàng năm theo quy định, đúng thời hạn"),
])
def test_2026_targets_follow_seed_002(b2026: Any, code: str, quote: str) -> None:
    assert quote in _seed("002")
    rule = b2026.rules[code]
    assert rule.rule.basis.full_points == "seed"
    assert rule.rule.source.startswith("seed 002 mục II.")


def test_2026_deadlines_are_2026(b2026: Any) -> None:
    for rule in b2026.rules.values():
        for item in getattr(rule.rule, "items", ()):
            assert item.due.year == 2026, (rule.code, item)


def test_the_2026_sample_scores_with_its_set(b2026: Any) -> None:
    card = score(b2026, load_evidence(LS_2026))
    assert card.criteria_set == "cap-so-lang-son-2026" and card.total.provisional
    assert {n.code for n in card.lost_points() if not n.pending_survey} == {"1.5", "5.5", "7.2.4", "7.3.4"}
    assert card.node("7.1.1").outcome == "met"  # an `any` with one item blank
    # the batch path agrees on the 2026 set too
    from scoring.core.vector import constant_pools

    scorer = VectorScorer(b2026)
    ev = load_evidence(LS_2026)
    res = scorer.score({c: (p, None) for c, p in constant_pools(scorer, ev).items()}, 1)
    assert from_hundredths(res.points[0]) == card.total.points


def test_evidence_picks_its_set(capsys: Any) -> None:
    for path, set_id in ((LS_2025, "cap-so-2025"), (LS_2026, "cap-so-lang-son-2026")):
        assert main(["score", str(path), "--format", "json"]) == 0
        assert json.loads(capsys.readouterr().out)["criteria_set"] == set_id


def test_check_lists_both_sets(capsys: Any) -> None:
    assert main(["check"]) == 0
    out = capsys.readouterr().out
    assert "OK cap-so-2025:" in out and "OK cap-so-lang-son-2026:" in out


def test_diff_sets(bundle: Any, b2026: Any, capsys: Any) -> None:
    diff = diff_sets(bundle, b2026)
    by = {c.code: c for c in diff.codes}
    assert {c for c, d in by.items() if d.status == "added"} == {"4.1.3", "5.5", "5.6", "7.1.3", "7.2.4", "7.3.5"}
    assert by["1.2"].status == "changed" and any(ch.what == "hạn" for ch in by["1.2"].changes)
    assert by["2.1.2"].status == "same" or all(ch.what not in ("hạn", "điểm tối đa") for ch in by["2.1.2"].changes)
    assert any(ch.what == "tiêu đề" for ch in by["3.3"].changes)
    text = render_text(diff)
    assert text.startswith("SO SÁNH BỘ TIÊU CHÍ: cap-so-2025 (năm 2025) → cap-so-lang-son-2026 (năm 2026)")
    assert main(["diff-sets", "cap-so-2025", "cap-so-lang-son-2026", "--format", "json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["counts"]["added"] == 6 and all(c["status"] != "same" for c in data["codes"])
    assert main(["diff-sets", "cap-so-2025", "khong-co"]) == 2
