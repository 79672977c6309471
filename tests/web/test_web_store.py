"""The store on SQLite and PostgreSQL: migrations, exact points, immutable content-addressed files,
one transaction per change (a failed upload stores nothing), department filters, history."""

from __future__ import annotations

import json
import stat
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import inspect, select
from sqlalchemy.types import Float, Numeric

from webkit import sample
from scoring.cli import main
from scoring.store import queries as q
from scoring.store.db import Store, current_revision, head_revision
from scoring.store.models import Assessment, Base, NodePoints, StoredFile
from scoring.web.config import WebConfig
from scoring.web.security import Upload
from scoring.web.service import Service, WebError

LANG_SON = "so-tu-phap-lang-son-2025.yaml"
TABLES = {"departments", "criteria_sets", "files", "assessments", "node_points", "appraisals", "appraisal_points",
          "explanations", "scenarios", "alembic_version",
          "users", "login_sessions", "submissions", "audit_log"}  # the province server's (0002)


@pytest.fixture
def store(migrated_db_url: str, tmp_path: Path):  # type: ignore[no-untyped-def]
    s = Store.open(migrated_db_url, tmp_path / "files")
    yield s
    s.close()


@pytest.fixture
def svc(store: Store) -> Service:
    return Service(store, WebConfig())


def test_migrations_create_every_table_and_rerun_is_a_no_op(db_url: str, tmp_path: Path) -> None:
    store = Store.open(db_url, tmp_path / "files")  # an empty database: migrated on open
    assert set(store.tables()) == TABLES
    assert current_revision(store.engine) == head_revision() == "0002"
    from scoring.store.db import migrate

    assert migrate(store.engine) == "0002"
    assert set(store.tables()) == TABLES
    store.close()


def test_no_column_holds_points_as_floating_point(store: Store) -> None:
    for table in Base.metadata.tables.values():
        for col in inspect(store.engine).get_columns(table.name):
            assert not isinstance(col["type"], (Float, Numeric)), (table.name, col["name"], col["type"])


@pytest.mark.parametrize("points", ["88.45", "0.1", "0.125", "1234567.89", "0"])
def test_points_come_back_exact(store: Store, points: str) -> None:
    with store.sessions.begin() as s:
        dep = q.department_for(s, "Sở Thử")
        cs = q.criteria_set_for(s, "cap-so-2025", "t", "illustrative")
        q.file_row(s, "a" * 64, "yaml", 1)
        a = q.add_assessment(s, department=dep, criteria_set=cs, year=2025, round="tu_cham", author=None,
                             evidence_sha="a" * 64, evidence_name="x.yaml", points=Decimal(points),
                             max_points=Decimal("100"), percent=Decimal(points), band=None, scorecard_json="{}",
                             nodes=[q.NodeRow("1", "field", "LV", Decimal(points) / 3, Decimal(10), None, "")])
        aid = a.id
    with store.sessions() as s:
        got = s.get(Assessment, aid)
        assert got.points == Decimal(points) and str(got.points) == str(Decimal(points))
        node = s.scalar(select(NodePoints).where(NodePoints.assessment_id == aid))
        assert node.points == Decimal(points) / 3


def test_upload_is_stored_with_its_exact_scorecard(svc: Service, store: Store) -> None:
    a = svc.create_assessment({"evidence": Upload("evidence", LANG_SON, sample(LANG_SON))})
    with store.sessions() as s:
        row = q.get_assessment(s, a.id)
        assert row.points == Decimal("88.45") and row.percent == Decimal("88.45")
        assert row.department.name == "Sở Tư pháp tỉnh Lạng Sơn" and row.criteria_set.set_id == "cap-so-2025"
        assert json.loads(row.scorecard_json)["total"]["points"] == 88.45
        nodes = {n.code: n for n in row.nodes}
        assert nodes["7.3.1"].points == Decimal(0) and nodes["3.4.1"].outcome == "met"
        assert "\n" in nodes["1.1"].evidence or nodes["1.1"].evidence


def test_files_are_content_addressed_and_read_only(svc: Service, store: Store) -> None:
    data = sample(LANG_SON)
    a1 = svc.create_assessment({"evidence": Upload("evidence", "a.yaml", data)})
    a2 = svc.create_assessment({"evidence": Upload("evidence", "b.xlsx", data)})
    assert a1.evidence_sha == a2.evidence_sha
    with store.sessions() as s:
        assert s.query(StoredFile).count() == 1
    path = store.files.path(a1.evidence_sha, "yaml")
    assert path.read_bytes() == data
    assert not path.stat().st_mode & (stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH)
    with pytest.raises(ValueError):
        store.files.path("../../etc/passwd", "yaml")


@pytest.mark.parametrize("bad", [b"department: X\nyear: 2025\ncriteria_set: cap-so-2025\nevidence:\n  '9.9': {}\n",
                                 b"\x89PNG\r\n\x1a\n", b"year: [\n"])
def test_failed_upload_stores_nothing(svc: Service, store: Store, bad: bytes) -> None:
    with pytest.raises(Exception) as info:
        svc.create_assessment({"evidence": Upload("evidence", "x.yaml", bad)})
    assert getattr(info.value, "problems", None)
    with store.sessions() as s:
        for model in (Assessment, NodePoints, StoredFile):
            assert s.query(model).count() == 0
        assert q.departments(s) == []


def test_department_filter_hides_other_departments(svc: Service, store: Store) -> None:
    a = svc.create_assessment({"evidence": Upload("evidence", LANG_SON, sample(LANG_SON))})
    b = svc.create_assessment({"evidence": Upload("evidence", "tq.yaml", sample("so-tu-phap-tuyen-quang-2025.yaml"))})
    assert a.department_id != b.department_id
    with store.sessions() as s:
        assert q.get_assessment(s, a.id, department_ids=[b.department_id]) is None
        assert q.get_assessment(s, a.id, department_ids=[a.department_id]).id == a.id
        assert [x.id for x in q.assessments(s, department_ids=[b.department_id])] == [b.id]
        assert len(q.departments(s)) == 2
        # the same department however it is spelled
        assert q.department_for(s, "  sở tư PHÁP tỉnh   Lạng Sơn ").id == a.department_id


def test_history_takes_the_latest_round_of_each_year(svc: Service) -> None:
    text = sample(LANG_SON).decode()
    old = text.replace("year: 2025", "year: 2024")
    svc.create_assessment({"evidence": Upload("evidence", "2024.yaml", old.encode())})
    svc.create_assessment({"evidence": Upload("evidence", "2025.yaml", text.encode())})
    final = svc.create_assessment({"evidence": Upload("evidence", "2025b.yaml", text.encode())}, round="ket_qua")
    svc.create_assessment({"evidence": Upload("evidence", "2025c.yaml", text.encode())}, round="giai_trinh")
    dep, rows = svc.history("Sở Tư pháp tỉnh Lạng Sơn")
    assert [(r.year, r.round) for r in rows] == [(2024, "tu_cham"), (2025, "ket_qua")]
    assert rows[-1].id == final.id and len(rows[-1].nodes) > 50


def test_appraisal_and_explanations_in_one_transaction(svc: Service, store: Store) -> None:
    a = svc.create_assessment({"evidence": Upload("evidence", LANG_SON, sample(LANG_SON))})
    ap = svc.add_appraisal(a, "tham_dinh_1", Upload("appraisal", "td.csv", sample("appraisal-lang-son-2025.csv")))
    assert ap.final_points < a.points
    svc.set_explanation(a, ap.id, "2.1.2", "Đã có văn bản xử lý.")
    (got,) = svc.appraisals(a)
    assert {e.code: e.text for e in got.explanations}["2.1.2"] == "Đã có văn bản xử lý."
    with pytest.raises(WebError):
        svc.set_explanation(a, ap.id, "9.9", "x")
    with pytest.raises(Exception):
        svc.add_appraisal(a, "tham_dinh_2", Upload("appraisal", "x.csv", b"a,b\n1,2\n"))
    assert len(svc.appraisals(a)) == 1


def test_scenarios_are_saved_exactly(svc: Service) -> None:
    a = svc.create_assessment({"evidence": Upload("evidence", LANG_SON, sample(LANG_SON))})
    sc = svc.save_scenario(a, "Một cửa", ["3.4.3=100%", "7.3.4=60%"])
    (got,) = svc.scenarios(a)
    assert got.id == sc.id and got.points == Decimal("90.7") and got.band == "Từ 90% trở lên"
    assert json.loads(got.sets) == ["3.4.3=100%", "7.3.4=60%"]


def test_cli_db_upgrade_and_history(db_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["db", "upgrade", "--db", db_url]) == 0
    assert head_revision() in capsys.readouterr().err
    assert main(["db", "upgrade", "--db", db_url]) == 0
    assert "mới nhất" in capsys.readouterr().err
    store = Store.open(db_url, tmp_path / "files")
    svc = Service(store, WebConfig())
    text = sample(LANG_SON).decode()
    svc.create_assessment({"evidence": Upload("evidence", "2024.yaml",
                                              text.replace("year: 2025", "year: 2024").replace("pct: 41", "pct: 52")
                                              .encode())})
    svc.create_assessment({"evidence": Upload("evidence", "2025.yaml", text.encode())})
    store.close()
    assert main(["history", "--db", db_url, "--department", "sở tư pháp tỉnh lạng sơn"]) == 0
    out = capsys.readouterr().out
    assert "LỊCH SỬ CHỈ SỐ CCHC – Sở Tư pháp tỉnh Lạng Sơn" in out
    lines = [line for line in out.splitlines() if line.startswith(("2024", "2025"))]
    assert len(lines) == 2 and "88,45/100" in lines[1]
    assert main(["history", "--db", db_url, "--department", "Sở Không Có"]) == 2
    assert "unknown_department" in capsys.readouterr().err


def test_cli_history_refuses_a_missing_database(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["history", "--db", str(tmp_path / "none.db")]) == 2
    assert "no_database" in capsys.readouterr().err
    assert not (tmp_path / "none.db").exists()


def test_templates_static_files_and_migrations_ship_in_the_wheel() -> None:
    """Every file the application reads at run time is package data in pyproject.toml."""
    import fnmatch
    import tomllib

    root = Path(__file__).resolve().parents[2]
    conf = tomllib.loads((root / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["setuptools"]
    for folder in ("scoring/web/templates", "scoring/web/static", "scoring/store/migrations",
                   "scoring/store/migrations/versions"):
        package = folder.replace("/", ".")
        assert package in conf["packages"], package
        patterns = conf.get("package-data", {}).get(package, []) + ["*.py"]
        for f in (root / folder).iterdir():
            if f.is_file():
                assert any(fnmatch.fnmatch(f.name, p) for p in patterns), f


def test_node_rows_keep_order_nulls_and_every_character(store: Store) -> None:
    """The bulk write of node rows (COPY on PostgreSQL, executemany on SQLite) keeps each value exactly."""
    texts = ["Tiêu chí\tcó tab", "dòng 1\ndòng 2", "gạch \\ ngược", "", "'nháy' \"kép\" ,;|", "\\N"]
    nodes = [q.NodeRow(f"9.{i}", "criterion", t, Decimal(i) / 7, Decimal("1.5"), None if i % 2 else "met", t)
             for i, t in enumerate(texts)]
    with store.sessions.begin() as s:
        dep = q.department_for(s, "Sở Thử")
        cs = q.criteria_set_for(s, "cap-so-2025", "t", "illustrative")
        q.file_row(s, "b" * 64, "yaml", 1)
        aid = q.add_assessment(s, department=dep, criteria_set=cs, year=2025, round="tu_cham", author=None,
                               evidence_sha="b" * 64, evidence_name="x.yaml", points=Decimal(1),
                               max_points=Decimal(2), percent=Decimal(50), band=None, scorecard_json="{}",
                               nodes=nodes).id
    with store.sessions() as s:
        got = s.scalars(select(NodePoints).where(NodePoints.assessment_id == aid).order_by(NodePoints.position)).all()
    assert [(n.position, n.code, n.title, n.points, n.max_points, n.outcome, n.evidence) for n in got] == [
        (i, n.code, n.title, n.points, n.max_points, n.outcome, n.evidence) for i, n in enumerate(nodes)]
