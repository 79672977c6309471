"""The province view: every department's total, index, band and rank for a round, from the stored scores."""

from __future__ import annotations

from decimal import Decimal

import pytest

from conftest import DEP_A, DEP_B, Province, sample
from scoring.web.province import RankRow, assign_ranks, percent_of


def _row(name: str, pct: str | None) -> RankRow:
    return RankRow(name, hash(name), None, None, None, Decimal(pct) if pct else None, None)


@pytest.mark.parametrize("values, ranks", [
    (["90", "80", "70"], [1, 2, 3]),
    (["90", "80", "80", "70"], [1, 2, 2, 4]),  # equal indexes share a rank, the next is skipped
    (["80", "80"], [1, 1]),
    (["88.45", "88.44"], [1, 2]),  # hundredths count
    (["70", None, "90"], [1, 2, None]),  # without a score: last, unranked
])
def test_ranks_are_shared_on_ties(values: list[str | None], ranks: list[int | None]) -> None:
    rows = assign_ranks([_row(f"Sở {i}", v) for i, v in enumerate(values)])
    assert [r.rank for r in rows] == ranks
    assert [r.tied for r in rows] == [ranks.count(r) > 1 if r else False for r in ranks]


def test_percent_rounds_half_up_to_hundredths() -> None:
    assert percent_of(Decimal("88.445"), Decimal("100")) == Decimal("88.45")
    assert percent_of(Decimal("1"), Decimal("3")) == Decimal("33.33")
    assert percent_of(Decimal("1"), Decimal("0")) is None


def test_ranking_from_stored_scores(province: Province) -> None:
    r = province["appraiser"].get("/api/ranking?year=2025&round=tu_cham")
    assert r.status_code == 200
    body = r.json()
    rows = {d["department"]: d for d in body["departments"]}
    assert set(rows) == {DEP_A, DEP_B}
    a = province["admin"].get(f"/api/assessments/{province.ids['a']}").json()["scorecard"]["total"]
    assert rows[DEP_A]["points"] == a["points"] and rows[DEP_A]["percent"] == a["percent"]
    assert rows[DEP_A]["band"] == a["band"]
    assert sorted(d["rank"] for d in body["departments"]) == [1, 2] and body["ties"] == "shared"
    # round 1 of the appraisal: the council's points for A; B has none yet
    r1 = {d["department"]: d for d in province["admin"].get("/api/ranking?year=2025&round=tham_dinh_1").json()["departments"]}
    council = province["admin"].get(f"/assessments/{province.ids['a']}/rounds").text
    assert r1[DEP_A]["rank"] == 1 and r1[DEP_A]["points"] != a["points"] and "thẩm định" in r1[DEP_A]["source"]
    assert r1[DEP_B]["rank"] is None and r1[DEP_B]["points"] is None
    assert "data-testid=\"final\"" in council
    # the page says how ties are ranked
    page = province["appraiser"].get("/ranking?year=2025&round=tu_cham").text
    assert DEP_A in page and DEP_B in page and "đồng hạng" in page
    assert province["admin"].get("/api/ranking?round=sai").status_code == 400


def test_the_departments_own_page_shows_its_computed_rank(province: Province) -> None:
    ranks = {d["department"]: d["rank"] for d in
             province["admin"].get("/api/ranking?year=2025&round=tu_cham").json()["departments"]}
    page = province["clerk_b"].get(f"/assessments/{province.ids['b']}").text
    assert f'data-testid="rank">{ranks[DEP_B]}/2' in page
    assert "tính từ điểm đã lưu của 2 đơn vị" in page
    assert DEP_A not in page  # the rank, not the other department


def test_a_change_made_here_shows_in_the_ranking_at_once_and_in_own_ranks_within_a_second(
        sqlite_province: Province, monkeypatch: pytest.MonkeyPatch) -> None:
    from scoring.web import province as pv

    svc = sqlite_province.app.state.service
    before = {r.department: r.assessment_id for r in pv.ranking(svc, 2025, "tu_cham")}
    name = "bql-kkt-cua-khau-dong-dang-lang-son-2025.yaml"
    r = sqlite_province["clerk_b"].api_upload(name, sample(name) + b"\n# lan 2\n")
    assert r.status_code == 201, r.text
    new = r.json()["id"]
    # a scorecard page's rank may use the ranking read less than a second ago (its own department is left out)
    assert {r.department: r.assessment_id for r in pv.ranking(svc, 2025, "tu_cham", lag=True)} == before
    fresh = {r.department: r.assessment_id for r in pv.ranking(svc, 2025, "tu_cham")}  # the ranking page: at once
    assert fresh == {**before, DEP_B: new}
    monkeypatch.setattr(pv, "FRESH_SECONDS", 0.0)
    assert {r.department: r.assessment_id for r in pv.ranking(svc, 2025, "tu_cham", lag=True)} == fresh
