"""The dossier indicators on Spark SQL (``parindex indicators --engine spark``): the same definitions.

The export is read, mapped, converted and checked by DuckDB exactly as for the default engine
(compute.read_dossiers: one definition of the value spellings and the bad-row checks). The canonical
typed table (the rows that count) is then handed to Spark (as Parquet in a private folder for a local
session, as Arrow batches through the driver for a cluster), and Spark SQL runs the
compiled definitions over it: the effective deadline (calendar days by ``date_add``, working days
through a calendar table joined as compute.py does it in DuckDB), the flags (``flags_sql``), the
counts and indicators (``indicator_sql``), the groups of ``--by`` and the procedure catalogue, all
with backtick-quoted columns. The outcome is the same ``Result`` as the DuckDB engine (``engine``
says "spark"); the dossiers behind a loss (``--list``) are read from the DuckDB table the file
was read into, through the same definitions (the session is gone by the time they are printed).

The Spark session (a local one by default, ``master`` for a cluster) lives only inside
``spark_session``: its JVM's output goes to a log file, never to the clerk's terminal, and the JVM
is stopped (and waited for) when the block ends, however it ends. A missing pyspark or Java is an
``InputError`` in Vietnamese with the fix. docs/scale.md says how a national run would go.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import shutil
import subprocess
import tempfile
import threading
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

from ...core.errors import InputError, Problem
from .compute import (Catalogue, DossierTable, Result, _deadline_relation, _views, add_notes, assemble,
                      group_indicators)
from .definitions import Definitions, deadline_sql, definitions, flags_sql, indicator_sql, predicate_sql
from .mapping import COLUMNS, Period
from .reader import lit
from .run import load_indicators

DEFAULT_MASTER = "local[*]"
INSTALL_HINT = "cài thêm phần Spark: pip install 'parindex[spark]' (hoặc chạy với --engine duckdb, mặc định)"
JAVA_HINT = ("cài Java 17 trở lên (ví dụ: apt-get install openjdk-17-jre-headless) hoặc đặt biến JAVA_HOME chỉ "
             "tới thư mục Java 17")
_LOG4J = """\
# parindex: the Spark JVM says nothing below ERROR, and says it to its log file (never the terminal)
rootLogger.level = error
rootLogger.appenderRef.stderr.ref = console
appender.console.type = Console
appender.console.name = console
appender.console.target = SYSTEM_ERR
appender.console.layout.type = PatternLayout
appender.console.layout.pattern = %d{HH:mm:ss} %p %c{1}: %m%n
"""


def bt(name: str) -> str:
    """A Spark SQL identifier."""
    return "`" + name.replace("`", "``") + "`"


# ------------------------------------------------------------------ the session


MASTER = re.compile(r"local(\[(\*|\d+)(,\d+)?\])?|(spark|mesos|k8s)://\S+|yarn|connect://\S+|sc://\S+")


def check_master(master: str) -> str:
    """``master`` if Spark can take it (local, local[N], local[*], spark://…, yarn, k8s://…), else an InputError."""
    if not MASTER.fullmatch(master):
        raise InputError(Problem("bad_spark_master", f"--spark-master '{master}' không phải địa chỉ cụm Spark "
                                                     "(not a Spark master URL)", subject="--spark-master",
                                 hint="ví dụ local[*] (trong máy này), spark://may-chu:7077 hoặc yarn"))
    return master


def import_pyspark() -> Any:
    """The pyspark module, or an InputError saying how to install it."""
    try:
        import pyspark
    except ImportError:
        raise InputError(Problem("spark_missing", "--engine spark cần thư viện pyspark, chưa được cài "
                                                  "(pyspark not installed)", subject="--engine spark",
                                 hint=INSTALL_HINT)) from None
    return pyspark


def find_java() -> str:
    """The java the Spark launcher will use (JAVA_HOME first, as spark-class does), or an InputError."""
    home = os.environ.get("JAVA_HOME")
    java = str(Path(home) / "bin" / "java") if home else shutil.which("java")
    if not java or not os.access(java, os.X_OK):
        where = f"JAVA_HOME={home} không có bin/java" if home else "không tìm thấy lệnh java"
        raise InputError(Problem("java_missing", f"--engine spark cần Java nhưng {where} (Java not found)",
                                 subject="--engine spark", hint=JAVA_HINT))
    return java


def _log_tail(path: Path, lines: int = 5) -> str:
    try:
        text = path.read_text(encoding="utf-8", errors="replace").strip().splitlines()
    except OSError:
        return ""
    return " | ".join(line.strip() for line in text[-lines:])


@contextmanager
def _jvm_output_to(log: Path) -> Iterator[None]:
    """While the JVM is launched, file descriptors 1 and 2 point at ``log``: the JVM inherits them (its
    warnings and progress bars go there for its whole life); this process gets its own back after."""
    # (nothing in this process writes during the launch; what Python buffered before stays in its buffer)
    saved = []
    with open(log, "ab") as handle:
        try:
            for fd in (1, 2):
                saved.append((fd, os.dup(fd)))
                os.dup2(handle.fileno(), fd)
            yield
        finally:
            for fd, copy in saved:
                os.dup2(copy, fd)
                os.close(copy)


@dataclass
class SparkRun:
    """An open session: ``spark`` (pyspark's SparkSession), its master and its log file."""

    spark: Any
    master: str
    log: Path
    folder: Path  # private, removed with the session: the log, Spark's scratch space, the handed-over rows
    process: Any = None  # the JVM (subprocess.Popen) this process started, if it did

    def rows(self, sql: str) -> list[tuple[Any, ...]]:
        """Run one query; after ``reader.request_stop`` (Ctrl-C, SIGTERM) its jobs are cancelled and it
        raises KeyboardInterrupt, as the DuckDB engine does."""
        from .reader import _STOP

        if _STOP.is_set():
            raise KeyboardInterrupt
        done = threading.Event()

        def watch() -> None:
            while not done.wait(0.2):
                if _STOP.is_set():
                    self.spark.sparkContext.cancelAllJobs()
                    return

        watcher = threading.Thread(target=watch, daemon=True)
        watcher.start()
        try:
            return [tuple(r) for r in self.spark.sql(sql).collect()]
        except Exception:
            if _STOP.is_set():
                raise KeyboardInterrupt from None
            raise
        finally:
            done.set()
            watcher.join()


@contextmanager
def spark_session(master: str | None = None, *, shuffle_partitions: int | None = None) -> Iterator[SparkRun]:
    """A Spark session for one computation, stopped (JVM included) when the block ends."""
    master = check_master(master or DEFAULT_MASTER)
    import_pyspark()
    find_java()
    from pyspark import SparkContext
    from pyspark.sql import SparkSession

    folder = Path(tempfile.mkdtemp(prefix="parindex-spark-"))
    log = folder / "spark.log"
    (folder / "log4j2.properties").write_text(_LOG4J, encoding="utf-8")
    java_opts = f"-Dlog4j2.configurationFile=file:{folder / 'log4j2.properties'} -Djava.io.tmpdir={folder}"
    builder = (SparkSession.builder.master(master).appName("parindex indicators")
               .config("spark.ui.enabled", "false")
               .config("spark.ui.showConsoleProgress", "false")
               .config("spark.driver.extraJavaOptions", java_opts)
               .config("spark.executor.extraJavaOptions", "-Dlog4j2.level=error")
               .config("spark.local.dir", str(folder))
               .config("spark.sql.session.timeZone", "UTC")
               .config("spark.sql.execution.arrow.pyspark.enabled", "true"))
    if shuffle_partitions or master.startswith("local"):
        # the groups are few (units, procedures) and partially aggregated before the shuffle: Spark's
        # 200 partitions cost more than they bring on one machine; a cluster keeps its own setting
        builder = builder.config("spark.sql.shuffle.partitions", str(shuffle_partitions or 8))
    spark = None
    process = None
    try:
        try:
            with _jvm_output_to(log):
                spark = builder.getOrCreate()
        except Exception as exc:
            if "pyspark" not in type(exc).__module__ and "py4j" not in type(exc).__module__:
                raise
            raise InputError(Problem("spark_failed", f"không khởi động được Spark (master {master}): "
                                                     f"{_log_tail(log) or type(exc).__name__} (Spark did not start)",
                                     subject="--engine spark",
                                     hint="kiểm tra Java 17 (java -version) và địa chỉ --spark-master; "
                                          + JAVA_HINT)) from None
        gateway = SparkContext._gateway
        process = getattr(gateway, "proc", None)
        spark.sparkContext.setLogLevel("ERROR")
        yield SparkRun(spark, master, log, folder, process)
    finally:
        _stop(spark, process)
        shutil.rmtree(folder, ignore_errors=True)


def _stop(spark: Any, process: Any) -> None:
    """Stop the session, shut the gateway and wait for the JVM (kill it after 20 s): none outlives the command."""
    from pyspark import SparkContext

    try:
        if spark is not None:
            spark.stop()
    except Exception:  # noqa: BLE001 - a JVM that already died is stopped
        pass
    gateway = SparkContext._gateway
    if process is None:  # the session failed to start after the JVM was launched
        process = getattr(gateway, "proc", None)
    if gateway is not None:
        try:
            gateway.shutdown()
        except Exception:  # noqa: BLE001
            pass
    SparkContext._gateway = None
    SparkContext._jvm = None
    if process is not None:
        try:
            if process.stdin:
                process.stdin.close()  # the JVM watches its stdin and exits when it closes
            process.wait(timeout=20)
        except (subprocess.TimeoutExpired, OSError):
            process.kill()
            process.wait()


# ------------------------------------------------------------------ the SQL


def spark_deadline_relation(run: SparkRun, table: str, deadlines: Any) -> str:
    """``table`` with the effective deadline, in Spark SQL; working days through calendar views, as
    compute._deadline_relation does it in DuckDB (same range, same join, same nulls)."""
    if deadlines.paused_days != "working" or deadlines.due_includes_pauses:
        return f"(SELECT *, {deadline_sql('spark', 'calendar', deadlines.due_includes_pauses)} AS `deadline` FROM {table})"
    low, high, most = run.rows(f"SELECT min(`due_at`), max(`due_at`), max(`paused_days`) FROM {table}")[0]
    if low is None:
        return f"(SELECT *, `due_at` AS `deadline` FROM {table})"
    from .workdays import working_days

    days = working_days(low, high + dt.timedelta(days=2 * int(most or 0) + 60), deadlines.days_off)
    index: list[tuple[dt.date, int]] = []  # every calendar day → working days up to and including it
    day, count, pos = low, 0, 0
    while day <= days[-1]:
        while pos < len(days) and days[pos] <= day:
            pos += 1
        count = pos
        index.append((day, count))
        day += dt.timedelta(days=1)
    spark = run.spark
    from pyspark.sql.types import DateType, IntegerType, StructField, StructType

    schema = StructType([StructField("d", DateType(), False), StructField("i", IntegerType(), False)])
    spark.createDataFrame([(d, i + 1) for i, d in enumerate(days)], schema).createOrReplaceTempView("workdays")
    spark.createDataFrame(index, schema).createOrReplaceTempView("workday_index")
    return (f"(SELECT t.*, CASE WHEN t.`paused_days` = 0 THEN t.`due_at` ELSE w.`d` END AS `deadline` FROM {table} t "
            "LEFT JOIN workday_index c ON c.`d` = t.`due_at` "
            "LEFT JOIN workdays w ON w.`i` = c.`i` + t.`paused_days`)")


def procedure_sql(defs: Definitions, start: dt.date, end: dt.date, *, column: Callable[[str], str] = bt,
                  relation: str = "procedures") -> str:
    """The full_online_services counts over the catalogue (numerator, denominator)."""
    spec = defs.indicators["full_online_services"]
    num = predicate_sql(defs, spec.numerator, start, end, column=column, table=spec.table)
    den = predicate_sql(defs, spec.denominator, start, end, column=column, table=spec.table)
    return f"count(CASE WHEN {num} THEN 1 END), count(CASE WHEN {den} THEN 1 END)"


def compiled_sql(defs: Definitions, start: dt.date, end: dt.date, present: set[str],
                 column: Callable[[str], str] | None = None) -> dict[str, str]:
    """Every statement an engine runs for the definitions, by name (for the tests: both dialects)."""
    quote = column or (lambda n: f'"{n}"')
    flags = flags_sql(defs, start, end, "d", column=column)
    exprs = indicator_sql(defs, start, end, present, column=column)
    out = {"flags": f"SELECT * FROM {flags} AS {quote('_all')}"}
    for key, expr in exprs.items():
        out[key] = f"SELECT {expr} FROM {flags} AS {quote('_all')}"
    out["procedures"] = f"SELECT {procedure_sql(defs, start, end, column=quote)} FROM procedures"
    for i, (when, _) in enumerate(defs.late_reasons):
        out[f"late_reason:{i}"] = (f"SELECT count(CASE WHEN {predicate_sql(defs, when, start, end, column=column)} "
                                   f"THEN 1 END) FROM {flags} AS {quote('_all')}")
    return out


# ------------------------------------------------------------------ computing


def _hand_over(run: SparkRun, table: DossierTable, name: str = "d", via: str | None = None) -> None:
    """The canonical typed rows that count (DuckDB's view ``d``), as a Spark temporary view.

    Local session: DuckDB writes them as Parquet into the session's private folder and Spark reads
    that (its vectorised, parallel reader: 20× faster to query than a local relation built from
    Arrow, measured on 300 000 rows). A cluster's executors cannot read that folder: the rows go
    as Arrow batches through the driver, cached once on the executors.
    """
    cols = ", ".join(f'"{c}"' for c in COLUMNS if c in table.columns)
    query = f"SELECT _k, {cols} FROM d"
    if (via or ("parquet" if run.master.startswith("local") else "arrow")) == "parquet":
        target = run.folder / f"{name}-{next(_views)}.parquet"
        table.engine.execute(f"COPY ({query}) TO {lit(str(target))} (FORMAT PARQUET)")
        frame = run.spark.read.parquet(str(target))
    else:
        rel = table.engine.con.sql(query)
        arrow = (getattr(rel, "to_arrow_table", None) or rel.arrow)()  # DuckDB 1.4 renamed arrow()
        with warnings.catch_warnings():  # pyspark 4.3 warns about pandas 3 (not used on this path) on stderr
            warnings.simplefilter("ignore", FutureWarning)
            frame = run.spark.createDataFrame(arrow).persist()
    frame.createOrReplaceTempView(name)


def _catalogue(run: SparkRun, catalogue: Catalogue) -> None:
    from pyspark.sql.types import BooleanType, StringType, StructField, StructType

    schema = StructType([StructField("procedure_code", StringType(), False), StructField("name", StringType(), True),
                         StructField("full_online_eligible", BooleanType(), False),
                         StructField("full_online_offered", BooleanType(), False)])
    rows = [(c, catalogue.names.get(c, ""), bool(catalogue.eligible[c]), bool(catalogue.offered[c]))
            for c in catalogue.codes]
    run.spark.createDataFrame(rows, schema).createOrReplaceTempView("procedures")


def compute_spark(run: SparkRun, table: DossierTable, period: Period, catalogue: Catalogue | None = None,
                  by: str | None = None) -> Result:
    """compute.compute on Spark SQL: the same definitions, the same Result (``engine`` = "spark")."""
    defs = definitions()
    s, e = period.start, period.end
    present = set(table.columns)
    _hand_over(run, table)
    run.spark.sql(f"SELECT * FROM {flags_sql(defs, s, e, spark_deadline_relation(run, 'd', table.deadlines), column=bt)}"
                  ).createOrReplaceTempView("f")
    exprs = indicator_sql(defs, s, e, present, column=bt)
    first = run.rows(f"SELECT count(*), {', '.join(exprs.values())} FROM f")[0]
    values = dict(zip(exprs, first[1:]))
    counts = {"used": int(first[0]), **{name: int(values[f"count:{name}"]) for name in defs.counts}}
    if catalogue is not None:
        _catalogue(run, catalogue)
    indicators, unavailable = assemble(values, present, catalogue is not None,
                                       lambda _spec: run.rows(f"SELECT {procedure_sql(defs, s, e)} FROM procedures")[0])
    result = Result(table=table, period=period, indicators=indicators, unavailable=unavailable, counts=counts,
                    catalogue=catalogue, view=_duckdb_view(table, period), engine="spark")
    add_notes(result, values, run.rows, "f", bt)
    if by:
        _groups(run, result, by, exprs, catalogue)
    return result


def _duckdb_view(table: DossierTable, period: Period) -> str:
    """The flags over the DuckDB table (a view: nothing runs until a loss list is asked for)."""
    view = f"f{next(_views)}"
    table.engine.execute(f"CREATE OR REPLACE TEMP VIEW {view} AS SELECT * FROM "
                         f"{flags_sql(definitions(), period.start, period.end, _deadline_relation(table))}")
    return view


def _groups(run: SparkRun, result: Result, by: str, exprs: dict[str, str], catalogue: Catalogue | None) -> None:
    group_indicators(result, by, exprs, catalogue, run.rows, "f", bt)


def load_indicators_spark(inputs: Any, period: Period | None = None, progress: Callable[[float], None] | None = None,
                          master: str | None = None, **session: Any) -> Result:
    """run.load_indicators with the indicators computed on Spark (the file is read and checked first,
    so a bad file stops before any JVM starts; a wrong master, no pyspark or no Java stop before the file is read)."""
    check_master(master or DEFAULT_MASTER)
    import_pyspark()
    find_java()

    def on_spark(table: DossierTable, period: Period, catalogue: Catalogue | None, by: str | None) -> Result:
        with spark_session(master, **session) as run:
            result = compute_spark(run, table, period, catalogue, by)
        result.master = run.master
        return result

    return load_indicators(inputs, period, progress, compute_with=on_spark)
