"""``parindex indicators``: counts and exact rates from the one-stop system's dossier export."""

from __future__ import annotations

import argparse
import signal
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, Callable

from scoring.cli.common import add_output_options, dossier_inputs, emit


@contextmanager
def stop_cleanly() -> Iterator[list[int]]:
    """While reading: Ctrl-C and SIGTERM stop DuckDB's query instead of raising inside it (the package
    then raises KeyboardInterrupt and its temporary folder goes with its engine); the list receives
    the signal's number."""
    from scoring.inputs.dossiers.reader import clear_stop, request_stop

    got: list[int] = []

    def handler(signum: int, frame: Any) -> None:
        got.append(signum)
        request_stop()

    clear_stop()
    try:
        previous = {s: signal.signal(s, handler) for s in (signal.SIGINT, signal.SIGTERM)}
    except ValueError:  # not the main thread
        yield got
        return
    try:
        yield got
    finally:
        for s, h in previous.items():
            signal.signal(s, h)
        clear_stop()


def progress_line(path: str) -> Callable[[float], None] | None:
    """One self-overwriting progress line on stderr, or None when stderr is not a terminal (piped)."""
    if not sys.stderr.isatty():
        return None

    def show(percent: float) -> None:
        sys.stderr.write(f"\rĐang đọc {path}: {percent:3.0f}%")
        sys.stderr.flush()

    return show


def cmd_indicators(args: argparse.Namespace) -> int:
    from scoring.api import indicators, render_indicators
    from scoring.inputs.dossiers import skipped_note

    inputs = dossier_inputs(args)
    assert inputs is not None  # DOSSIERS is a required argument
    progress = progress_line(str(inputs.dossiers))
    got: list[int] = []
    try:
        with stop_cleanly() as got:
            result = indicators(inputs, progress=progress, engine=args.engine, spark_master=args.spark_master,
                                one_pass=args.list is None)
            if got:
                raise KeyboardInterrupt
    except KeyboardInterrupt:
        sys.stderr.write(("\n" if progress else "") + f"{inputs.dossiers}: đã dừng khi đang đọc tệp hồ sơ "
                         "(interrupted); không ghi tệp nào.\n")
        return 2 if signal.SIGTERM in got else 130
    if progress:
        sys.stderr.write("\r\033[K")
    note = skipped_note(result.table)
    if note:
        for p in result.table.problems:
            sys.stderr.write(p.format() + "\n")
        sys.stderr.write(note + "\n")
    emit(render_indicators(result, args.format, list_name=args.list), args.output,
         [args.dossiers, args.mapping, args.procedures], fmt=args.format)
    return 0


def register(subparsers: Any) -> None:
    from scoring.inputs.dossiers import INDICATORS

    p = subparsers.add_parser("indicators", help="tính các tỷ lệ từ tệp hồ sơ TTHC (dossier indicators)",
                              description="Tính tỷ lệ đúng hạn, xin lỗi, số hóa, tái sử dụng, trực tuyến toàn trình, "
                                          "thanh toán trực tuyến từ tệp hồ sơ xuất từ Hệ thống thông tin giải quyết TTHC.")
    p.add_argument("dossiers", metavar="DOSSIERS", help="tệp hồ sơ xuất từ hệ thống (.csv UTF-8, .parquet hoặc .xlsx) "
                                                        "(dossier export)")
    p.add_argument("--mapping", metavar="FILE", help="tệp YAML ánh xạ tiêu đề cột tiếng Việt sang cột chuẩn "
                                                     "(column-mapping YAML)")
    p.add_argument("--procedures", metavar="FILE", help="danh mục TTHC (CSV/XLSX) cho tỷ lệ trực tuyến toàn trình "
                                                        "(procedure catalogue)")
    p.add_argument("--period", metavar="FROM..TO", help="ví dụ 2025-01-01..2025-12-31 hoặc 2025; mặc định: năm của "
                                                        "hồ sơ tiếp nhận gần nhất (assessment period)")
    p.add_argument("--by", choices=("unit", "procedure"), help="tính thêm theo từng đơn vị (unit) hoặc từng thủ tục "
                                                               "(procedure)")
    p.add_argument("--engine", choices=("duckdb", "spark"), default="duckdb",
                   help="máy tính toán: duckdb (mặc định, trong máy này) hoặc spark (cần pip install "
                        "'parindex[spark]' và Java 17; cùng định nghĩa chỉ số, cùng kết quả) (engine)")
    p.add_argument("--spark-master", metavar="URL",
                   help="với --engine spark: cụm Spark để chạy, ví dụ spark://may-chu:7077 hoặc yarn; mặc định "
                        "local[*] (phiên Spark trong máy này) (Spark master)")
    add_output_options(p, ("table", "json", "csv"))
    p.add_argument("--skip-bad-rows", action="store_true", help="bỏ qua các dòng lỗi (và liệt kê chúng) thay vì dừng "
                                                                "(leave bad rows out)")
    p.add_argument("--list", metavar="NAME", help="liệt kê mọi hồ sơ làm giảm một chỉ số, ví dụ on_time (hồ sơ trễ "
                                                  "hạn), apology (trễ hạn chưa xin lỗi): " + ", ".join(INDICATORS)
                                                  + " (list the dossiers behind a loss)")
    p.add_argument("--debug", action="store_true",
                   help="hiện chi tiết lỗi nội bộ cho nhóm phát triển (show Python tracebacks)")
    p.set_defaults(func=cmd_indicators)
