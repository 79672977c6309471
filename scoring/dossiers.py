"""``parindex indicators`` and the old import path of the dossier code (until the CLI moves to scoring/cli/).

The dossier code lives in ``scoring.inputs.dossiers``; this module keeps the command line and the
names other modules import from here.
"""

from __future__ import annotations

import argparse
import json
import signal
import sys
from contextlib import contextmanager
from typing import Any, Iterator

from .inputs.dossiers import (COLUMNS, INDICATORS, PROCEDURE_COLUMNS, BadRowsError, Catalogue, DossierInputs,  # noqa: F401
                              DossierTable, Indicator, Mapping, Period, Result, compute, load_indicators, load_mapping,
                              parse_period, read_dossiers, read_procedures, render_csv, render_list, render_table,
                              result_json, skipped_note)
from .inputs.dossiers import augment_evidence as _augment


def inputs_from(args: argparse.Namespace) -> DossierInputs:
    return DossierInputs(dossiers=args.dossiers, mapping=getattr(args, "mapping", None),
                         procedures=getattr(args, "procedures", None), period=getattr(args, "period", None),
                         skip_bad_rows=bool(getattr(args, "skip_bad_rows", False)), by=getattr(args, "by", None))


def augment_evidence(bundle: Any, ev: Any, args: argparse.Namespace | DossierInputs) -> Any:
    return _augment(bundle, ev, args if isinstance(args, DossierInputs) else inputs_from(args))


@contextmanager
def stop_cleanly() -> Iterator[list[int]]:
    """While reading: Ctrl-C and SIGTERM stop DuckDB's query (the package then raises KeyboardInterrupt,
    and its temporary folder goes with the engine); the list yielded receives the signal's number."""
    from .inputs.dossiers.reader import clear_stop, request_stop

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


def progress_line(path: str) -> Any:
    """A progress callback writing one self-overwriting line on stderr, or None when stderr is not a terminal."""
    if not sys.stderr.isatty():
        return None

    def show(percent: float) -> None:
        sys.stderr.write(f"\rĐang đọc {path}: {percent:3.0f}%")
        sys.stderr.flush()

    return show


def cmd_indicators(args: argparse.Namespace) -> int:
    """``parindex indicators``: counts and rates from a dossier export."""
    from .cli import emit

    inputs = inputs_from(args)
    progress = progress_line(str(inputs.dossiers))
    got: list[int] = []
    try:
        with stop_cleanly() as got:
            result = load_indicators(inputs, progress=progress)
            if got:
                raise KeyboardInterrupt
    except KeyboardInterrupt:
        if progress:
            sys.stderr.write("\n")
        sys.stderr.write(f"{inputs.dossiers}: đã dừng khi đang đọc tệp hồ sơ (interrupted); không ghi tệp nào.\n")
        return 2 if signal.SIGTERM in got else 130
    if progress:
        sys.stderr.write("\r\033[K")
    try:
        note = skipped_note(result.table)
        if note:
            for p in result.table.problems:
                sys.stderr.write(p.format() + "\n")
            sys.stderr.write(note + "\n")
        if args.list:
            text = render_list(result, args.list, args.format)
        elif args.format == "json":
            text = json.dumps(result_json(result), ensure_ascii=False, indent=2) + "\n"
        elif args.format == "csv":
            text = render_csv(result)
        else:
            text = render_table(result)
    finally:
        result.table.close()
    emit(text, args.output, [args.dossiers, args.mapping, args.procedures])
    return 0


def register(subparsers: Any, *_: Any) -> None:
    """Add ``parindex indicators`` to the command line."""
    from .cli import add_output_options

    p = subparsers.add_parser("indicators", help="tính các tỷ lệ từ tệp hồ sơ TTHC (dossier indicators)",
                              description="Tính tỷ lệ đúng hạn, xin lỗi, số hóa, tái sử dụng, trực tuyến toàn trình, "
                                          "thanh toán trực tuyến từ tệp hồ sơ xuất từ Hệ thống thông tin giải quyết TTHC.")
    p.add_argument("dossiers", metavar="DOSSIERS", help="dossier export (.csv UTF-8, .parquet or .xlsx)")
    p.add_argument("--mapping", metavar="FILE", help="column-mapping YAML (Vietnamese headers → canonical columns)")
    p.add_argument("--procedures", metavar="FILE", help="procedure catalogue (CSV/XLSX) for full_online_services")
    p.add_argument("--period", metavar="FROM..TO", help="e.g. 2025-01-01..2025-12-31 or 2025 "
                                                        "(default: the year of the latest received dossier)")
    p.add_argument("--by", choices=("unit", "procedure"), help="also per unit or per procedure")
    add_output_options(p, ("table", "json", "csv"))
    p.add_argument("--skip-bad-rows", action="store_true", help="leave bad rows out (and say which) instead of stopping")
    p.add_argument("--list", metavar="NAME", help="list every dossier behind an indicator's loss, e.g. on_time (late "
                                                  "ones), apology (late without apology): " + ", ".join(INDICATORS))
    p.add_argument("--debug", action="store_true", help="show Python tracebacks on internal errors")
    p.set_defaults(func=cmd_indicators)
