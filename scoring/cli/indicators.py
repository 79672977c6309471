"""``parindex indicators``: counts and exact rates from the one-stop system's dossier export."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from scoring.cli.common import add_output_options, dossier_inputs, emit


def cmd_indicators(args: argparse.Namespace) -> int:
    from scoring.api import indicators, render_indicators
    from scoring.inputs.dossiers import skipped_note

    inputs = dossier_inputs(args)
    assert inputs is not None  # DOSSIERS is a required argument
    result = indicators(inputs)
    note = skipped_note(result.table)
    if note:
        for p in result.table.problems:
            sys.stderr.write(p.format() + "\n")
        sys.stderr.write(note + "\n")
    emit(render_indicators(result, args.format, list_name=args.list), args.output,
         [args.dossiers, args.mapping, args.procedures])
    return 0


def register(subparsers: Any) -> None:
    from scoring.inputs.dossiers import INDICATORS

    p = subparsers.add_parser("indicators", help="tính các tỷ lệ từ tệp hồ sơ TTHC (dossier indicators)",
                              description="Tính tỷ lệ đúng hạn, xin lỗi, số hóa, tái sử dụng, trực tuyến toàn trình, "
                                          "thanh toán trực tuyến từ tệp hồ sơ xuất từ Hệ thống thông tin giải quyết TTHC.")
    p.add_argument("dossiers", metavar="DOSSIERS", help="dossier export (.csv UTF-8 or .xlsx)")
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
