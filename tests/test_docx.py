"""The Word self-assessment report: title, summary, the table, the explanations, the notices."""

from __future__ import annotations

import io
from decimal import Decimal
from pathlib import Path

import pytest
from docx import Document

from conftest import SAMPLES
from scoring.cli import main
from scoring.outputs.docx import scorecard_docx
from scoring.core.engine import score
from scoring.core.evidence import load_evidence
from scoring.analysis.explain import pts
from scoring.core.rules import Bundle
from scoring.core.scorecard import Scorecard

SAMPLE = SAMPLES / "so-tu-phap-lang-son-2025.yaml"


@pytest.fixture(scope="module")
def card(bundle: Bundle) -> Scorecard:
    return score(bundle, load_evidence(SAMPLE))


def paragraphs(data: bytes) -> list[str]:
    return [p.text for p in Document(io.BytesIO(data)).paragraphs]


def test_report_title_summary_and_notices(card: Scorecard) -> None:
    doc = Document(io.BytesIO(scorecard_docx(card)))
    text = [p.text for p in doc.paragraphs]
    assert "BÁO CÁO" in text
    assert f"Kết quả tự đánh giá, chấm điểm Chỉ số cải cách hành chính năm {card.year}" in text
    t = card.total
    summary = next(p for p in text if p.startswith("1. Tổng điểm tự đánh giá"))
    assert f"{pts(t.points)}/{pts(t.max_points)} điểm" in summary and f"{pts(t.percent)}%" in summary
    assert t.band and t.band in summary
    assert any("MINH HỌA" in p for p in text) and any("VÍ DỤ DỰNG SẴN" in p for p in text)
    # the issuing body, the motto and the blanks the Office fills in
    head = doc.tables[0].rows[0].cells
    assert "UBND TỈNH LẠNG SƠN" in head[0].text and "SỞ TƯ PHÁP" in head[0].text
    assert "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM" in head[1].text and "Lạng Sơn, ngày" in head[1].text
    fields = [p for p in text if p.startswith("- Lĩnh vực ")]
    assert len(fields) == len([n for n in card.nodes if n.level == "field"])


def test_report_table_has_every_node_and_the_total(card: Scorecard) -> None:
    doc = Document(io.BytesIO(scorecard_docx(card)))
    table = doc.tables[1]
    header = [c.text for c in table.rows[0].cells]
    assert header == ["STT", "Lĩnh vực / Tiêu chí / Tiêu chí thành phần", "Điểm tối đa", "Điểm tự đánh giá",
                      "Tài liệu kiểm chứng", "Giải trình / ghi chú"]
    codes = [row.cells[0].text for row in table.rows[1:len(card.nodes) + 1]]
    assert codes == [n.code for n in card.nodes]
    leaf = card.node("1.2")
    row = table.rows[1 + [n.code for n in card.nodes].index("1.2")]
    assert row.cells[3].text == pts(leaf.points) and row.cells[2].text == pts(leaf.max_points)
    assert "58/BC-STP" in row.cells[4].text and leaf.reason in row.cells[5].text
    last = [c.text for c in table.rows[-1].cells]
    assert last[1] == "TỔNG ĐIỂM" and last[3] == pts(card.total.points)
    # the table sits on landscape pages, between portrait ones
    widths = [s.page_width > s.page_height for s in doc.sections]
    assert widths == [False, True, False]


def test_report_explains_lost_points_largest_first(card: Scorecard) -> None:
    text = paragraphs(scorecard_docx(card))
    heads = [p for p in text if p[:1].isdigit() and ". Tiêu chí " in p]
    lost = card.lost_points()
    assert [h.split(" – ")[0].split("Tiêu chí ")[1] for h in heads] == [n.code for n in lost]
    first = text.index(heads[0])
    block = "\n".join(text[first:text.index(heads[1])])
    assert f"mất {pts(lost[0].lost)} điểm" in block
    assert f"Lý do: {lost[0].reason}" in block and f"Hướng khắc phục: {lost[0].guidance}" in block


def test_report_without_lost_points_and_without_a_province(card: Scorecard) -> None:
    full = tuple(n.model_copy(update={"points": n.max_points, "lost": Decimal(0)}) for n in card.nodes)
    perfect = card.model_copy(update={"nodes": full, "department": "Ban Quản lý dự án",
                                      "points_status": "official", "constructed_example": False})
    doc = Document(io.BytesIO(scorecard_docx(perfect)))
    text = [p.text for p in doc.paragraphs]
    assert "Không có tiêu chí thành phần nào bị mất điểm." in text
    assert not any("MINH HỌA" in p or "VÍ DỤ DỰNG SẴN" in p for p in text)
    assert "BAN QUẢN LÝ DỰ ÁN" in doc.tables[0].rows[0].cells[0].text


def test_score_format_docx_writes_a_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "bao-cao.docx"
    assert main(["score", str(SAMPLE), "--format", "docx", "-o", str(out)]) == 0
    assert "BÁO CÁO" in paragraphs(out.read_bytes())
    assert main(["score", str(SAMPLE), "--format", "docx"]) == 2
    err = capsys.readouterr().err
    assert "output_required" in err and "Traceback" not in err
