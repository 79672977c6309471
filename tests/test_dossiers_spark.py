"""``parindex indicators --engine spark`` (issue 10 item 5): the same definitions on Spark SQL, the same results.

Every compiled statement parses in both dialects (sqlglot) and runs on both engines; on generated
exports (both header styles, calendar and working-day deadlines, --by unit and procedure) Spark's
Result equals DuckDB's key for key; the command keeps Spark's noise off the terminal and leaves no
JVM behind; a missing pyspark or Java is a Vietnamese error with the fix.

One Spark session (local[2]) serves the module. Without pyspark the Spark tests skip, except under
CI=true, where they fail: CI installs pyspark through the ``test`` extra.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import ROOT
from scoring.inputs import dossiers as d
from scoring.inputs.dossiers import spark as sp
from scoring.inputs.dossiers.compute import compute, read_dossiers, read_procedures
from scoring.inputs.dossiers.definitions import definitions
from scoring.inputs.dossiers.render import result_json

MAPPING = ROOT / "sample_evidence" / "dossiers" / "mapping-lang-son.yaml"
YEAR = d.Period.year(2025)
ALL = set(d.COLUMNS)
IN_CI = os.environ.get("CI") == "true"


def _need_spark() -> None:
    try:
        import pyspark  # noqa: F401
    except ImportError:
        if IN_CI:
            pytest.fail("pyspark is in the test extra: CI must run the Spark tests")
        pytest.skip("pyspark not installed (pip install -e '.[spark]')")
    if not (os.environ.get("JAVA_HOME") or shutil.which("java")):
        if IN_CI:
            pytest.fail("Java 17 is needed for the Spark tests")
        pytest.skip("no Java")


# ------------------------------------------------------------------ both dialects, without Spark


def _duckdb_empty() -> object:
    """An empty canonical table (typed as the reader types it), with the deadline, and an empty catalogue."""
    import duckdb

    kinds = {"id": "VARCHAR", "text": "VARCHAR", "channel": "VARCHAR", "date": "DATE", "count": "INTEGER",
             "bool": "BOOLEAN"}
    con = duckdb.connect()
    cols = ", ".join(f'"{c}" {kinds[s.kind]}' for c, s in d.COLUMNS.items())
    con.execute(f'CREATE TABLE d ({cols}, deadline DATE)')
    con.execute("CREATE TABLE procedures (procedure_code VARCHAR, name VARCHAR, full_online_eligible BOOLEAN, "
                "full_online_offered BOOLEAN)")
    return con


def test_every_compiled_definition_parses_in_both_dialects_and_runs_on_duckdb() -> None:
    sqlglot = pytest.importorskip("sqlglot") if not IN_CI else __import__("sqlglot")
    defs = definitions()
    duck = sp.compiled_sql(defs, YEAR.start, YEAR.end, ALL)
    spark = sp.compiled_sql(defs, YEAR.start, YEAR.end, ALL, column=sp.bt)
    assert duck.keys() == spark.keys()
    # every flag, count, note, indicator (procedures-table one included) and late reason is there
    expected = ({f"count:{c}" for c in defs.counts} | {f"note:{n}" for n in defs.notes}
                | {f"{k}:{i}" for i, s in defs.indicators.items() if s.table == "dossiers" for k in ("num", "den")}
                | {"flags", "procedures"} | {f"late_reason:{i}" for i in range(len(defs.late_reasons))})
    assert set(duck) == expected
    con = _duckdb_empty()
    for key in duck:
        duck_tree = sqlglot.parse_one(duck[key], read="duckdb")
        spark_tree = sqlglot.parse_one(spark[key], read="spark")
        # the two routes agree: DuckDB's SQL transpiled to Spark is the Spark SQL the definitions give
        assert sqlglot.transpile(duck[key], read="duckdb", write="spark")[0] == spark_tree.sql("spark"), key
        assert duck_tree.sql("duckdb")
        con.execute(duck[key]).fetchall()  # type: ignore[attr-defined]
    assert "`late`" in spark["num:on_time"] and '"' not in spark["flags"]


@pytest.mark.parametrize("includes, expected", [(False, "date_add(`due_at`, CAST(`paused_days` AS INT))"),
                                                (True, "`due_at`")])
def test_the_spark_deadline_quotes_columns_for_spark(includes: bool, expected: str) -> None:
    from scoring.inputs.dossiers.definitions import deadline_sql

    assert deadline_sql("spark", "calendar", includes) == expected


# ------------------------------------------------------------------ errors before any JVM


def _cli(*args: str, env: dict[str, str] | None = None, code: str | None = None,
         timeout: float = 600) -> subprocess.CompletedProcess[str]:
    prog = code or "import sys; from scoring.cli import main; sys.exit(main(sys.argv[1:]))"
    return subprocess.run([sys.executable, "-c", prog, "indicators", *args], capture_output=True, text=True,
                          cwd=ROOT, env={**os.environ, **(env or {})}, timeout=timeout, start_new_session=True)


def test_without_pyspark_the_clerk_is_told_how_to_install_it() -> None:
    code = ("import sys; sys.modules['pyspark'] = None; from scoring.cli import main; "
            "sys.exit(main(sys.argv[1:]))")
    out = _cli("sample_evidence/dossiers/ho-so-mot-cua-2025.csv", "--mapping", str(MAPPING), "--engine", "spark",
               code=code)
    assert out.returncode == 2, out.stderr
    assert "pyspark" in out.stderr and "pip install 'parindex[spark]'" in out.stderr
    assert "Traceback" not in out.stderr and out.stdout == ""


def test_without_java_the_clerk_is_told_to_install_java_17() -> None:
    pytest.importorskip("pyspark") if not IN_CI else None
    out = _cli("sample_evidence/dossiers/ho-so-mot-cua-2025.csv", "--mapping", str(MAPPING), "--engine", "spark",
               env={"JAVA_HOME": "/nonexistent-java"})
    assert out.returncode == 2, out.stderr
    assert "Java 17" in out.stderr and "JAVA_HOME" in out.stderr and "Traceback" not in out.stderr


def test_spark_master_needs_the_spark_engine() -> None:
    out = _cli("sample_evidence/dossiers/ho-so-mot-cua-2025.csv", "--mapping", str(MAPPING), "--spark-master",
               "spark://x:7077")
    assert out.returncode == 2 and "--engine spark" in out.stderr


# ------------------------------------------------------------------ on Spark (local mode)


@pytest.fixture(scope="module")
def run() -> object:
    _need_spark()
    # small-data settings for the tests only (the command keeps Spark's defaults): no whole-stage code
    # generation and no adaptive planning, which cost seconds of compilation on a few thousand rows
    with sp.spark_session("local[2]", shuffle_partitions=2) as session:
        session.spark.conf.set("spark.sql.codegen.wholeStage", "false")
        session.spark.conf.set("spark.sql.adaptive.enabled", "false")
        yield session
    from pyspark import SparkContext

    # the JVM is gone when the block ends (not only when this process exits)
    assert session.process is not None and session.process.poll() is not None
    assert SparkContext._gateway is None and SparkContext._active_spark_context is None


@pytest.fixture(scope="module")
def exports(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("spark-exports")
    gen = ROOT / "benchmarks" / "gen_dossiers.py"
    out = {}
    for headers, rows in (("vi", 3000), ("canonical", 2000)):
        out[headers] = folder / f"{headers}.csv"
        out[f"{headers}-procedures"] = folder / f"{headers}-procedures.csv"
        subprocess.run([sys.executable, str(gen), "--rows", str(rows), "--headers", headers, "-o", str(out[headers]),
                        "--procedures-out", str(out[f"{headers}-procedures"])], check=True, capture_output=True)
    base = MAPPING.read_text(encoding="utf-8")
    out["working"] = folder / "working.yaml"
    out["working"].write_text(base + "deadlines:\n  paused_days: working\n  days_off: [2025-06-02]\n",
                              encoding="utf-8")
    out["includes"] = folder / "includes.yaml"
    out["includes"].write_text(base + "deadlines:\n  due_includes_pauses: true\n", encoding="utf-8")
    return out


CASES = [  # (export, mapping, catalogue?, --by)
    ("vi", "lang-son", True, "unit"),
    ("vi", "working", True, "procedure"),
    ("vi", "includes", False, None),
    ("canonical", None, True, "procedure"),
    ("canonical", None, False, "unit"),
]


def test_spark_gives_exactly_duckdbs_results(run: sp.SparkRun, exports: dict[str, Path]) -> None:
    """One test for everything that needs the in-process session, so that pytest-xdist (whose
    loadgroup does not group with pytest 9) cannot start a second JVM on the other worker."""
    for case in CASES:
        _same_result(run, exports, *case)
    _working_days_use_the_calendar(run, exports)
    _every_statement_runs(run, exports)


def _same_result(run: sp.SparkRun, exports: dict[str, Path], export: str, mapping: str | None,
                 with_catalogue: bool, by: str | None) -> None:
    case = f"{export} {mapping} catalogue={with_catalogue} by={by}"
    m = None if mapping is None else d.load_mapping(MAPPING if mapping == "lang-son" else exports[mapping])
    table = read_dossiers(exports[export], m)
    catalogue = read_procedures(exports[f"{export}-procedures"], m) if with_catalogue else None
    try:
        duck = compute(table, YEAR, catalogue, by)
        spark = sp.compute_spark(run, table, YEAR, catalogue, by)
        want, got = result_json(duck), result_json(spark)
        assert want.pop("engine") == "duckdb" and got.pop("engine") == "spark", case
        assert got == want, case
        assert spark.indicators == duck.indicators, case  # exact counts, so exact Fraction rates
        assert spark.indicators["on_time"].denominator > 1000 and spark.counts["late"] > 10, case  # not vacuous
        assert ("full_online_services" in spark.indicators) == with_catalogue, case
        if by:
            assert len(spark.groups) > 1 and spark.groups == duck.groups, case
        # the lists behind a loss come out the same (read from the same table through the same definitions)
        assert spark.loss_rows("on_time") == duck.loss_rows("on_time") and spark.loss_rows("on_time"), case
    finally:
        table.close()


def _working_days_use_the_calendar(run: sp.SparkRun, exports: dict[str, Path]) -> None:
    """The calendar join is really used: with working days some deadlines differ from calendar ones,
    and each equals DuckDB's."""
    from scoring.inputs.dossiers.compute import _deadline_relation

    table = read_dossiers(exports["vi"], d.load_mapping(exports["working"]))
    try:
        sp._hand_over(run, table)
        relation = sp.spark_deadline_relation(run, "d", table.deadlines)
        moved = run.rows(f"SELECT count(*) FROM {relation} x "
                         "WHERE x.`deadline` <> date_add(x.`due_at`, CAST(x.`paused_days` AS INT))")[0][0]
        ours = run.rows(f"SELECT `dossier_id`, `deadline` FROM {relation} x WHERE `paused_days` > 0 ORDER BY `_k`")
        theirs = table.engine.rows(f"SELECT dossier_id, deadline FROM {_deadline_relation(table)} x "
                                   "WHERE paused_days > 0 ORDER BY _k")
        assert moved > 0 and ours == [tuple(r) for r in theirs] and len(ours) > 50
    finally:
        table.close()


def _every_statement_runs(run: sp.SparkRun, exports: dict[str, Path]) -> None:
    table = read_dossiers(exports["canonical"])
    try:
        sp._hand_over(run, table, "raw", via="arrow")  # as for a cluster (the cases above went by Parquet)
        run.spark.sql(f"SELECT * FROM {sp.spark_deadline_relation(run, 'raw', table.deadlines)}"
                      ).createOrReplaceTempView("d")
        sp._catalogue(run, read_procedures(exports["canonical-procedures"]))
        statements = sp.compiled_sql(definitions(), YEAR.start, YEAR.end, ALL, column=sp.bt)
        for key, sql in statements.items():  # Spark resolves every name and type of each statement...
            assert run.spark.sql(sql).schema.fields, key
        # ...and runs them (one scan: the aggregates side by side, as compute_spark runs them)
        aggregates = [sql.split(" FROM ")[0].removeprefix("SELECT ") for k, sql in statements.items()
                      if k not in ("flags", "procedures")]
        flags = statements["flags"].removeprefix("SELECT * ")
        counts = run.rows(f"SELECT count(*), {', '.join(aggregates)} {flags}")[0]
        assert counts[0] == len(table) and all(isinstance(c, int) for c in counts)
        assert run.rows(statements["procedures"])[0][1] > 0
    finally:
        table.close()


def test_the_command_on_spark_is_quiet_and_leaves_no_jvm(exports: dict[str, Path]) -> None:
    _need_spark()
    args = (str(exports["canonical"]), "--procedures", str(exports["canonical-procedures"]), "--by", "unit",
            "--period", "2025", "--format", "json")
    proc = subprocess.Popen([sys.executable, "-c", "import sys; from scoring.cli import main; "
                             "sys.exit(main(sys.argv[1:]))", "indicators", *args, "--engine", "spark",
                             "--spark-master", "local[1]"], cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, start_new_session=True)
    out, err = proc.communicate(timeout=600)
    assert proc.returncode == 0, err
    assert err == ""  # no log4j line, no progress bar, no warning
    found = subprocess.run(["ps", "-o", "pid=,stat=,args=", "-s", str(proc.pid)], capture_output=True, text=True).stdout
    left = [line for line in found.splitlines() if line.split()[1][0] != "Z"]  # a zombie waits for init to reap it
    assert left == [], found  # nothing of the session (the JVM) outlived the command
    duck = _cli(*args)
    assert duck.returncode == 0, duck.stderr
    got, want = json.loads(out), json.loads(duck.stdout)
    assert got.pop("engine") == "spark" and want.pop("engine") == "duckdb" and got == want
    assert dt.date.fromisoformat(got["period"]["from"]) == YEAR.start
