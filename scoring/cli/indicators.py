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
         [args.dossiers, args.mapping, args.procedures], fmt=args.format)
    return 0


def register(subparsers: Any) -> None:
    from scoring.inputs.dossiers import INDICATORS

    p = subparsers.add_parser("indicators", help="tính các tỷ lệ từ tệp hồ sơ TTHC (dossier indicators)",
                              description="Tính tỷ lệ đúng hạn, xin lỗi, số hóa, tái sử dụng, trực tuyến toàn trình, "
                                          "thanh toán trực tuyến từ tệp hồ sơ xuất từ Hệ thống thông tin giải quyết TTHC.")
    p.add_argument("dossiers", metavar="DOSSIERS", help="tệp hồ sơ xuất từ hệ thống (.csv UTF-8 hoặc .xlsx) "
                                                        "(dossier export)")
    p.add_argument("--mapping", metavar="FILE", help="tệp YAML ánh xạ tiêu đề cột tiếng Việt sang cột chuẩn "
                                                     "(column-mapping YAML)")
    p.add_argument("--procedures", metavar="FILE", help="danh mục TTHC (CSV/XLSX) cho tỷ lệ trực tuyến toàn trình "
                                                        "(procedure catalogue)")
    p.add_argument("--period", metavar="FROM..TO", help="ví dụ 2025-01-01..2025-12-31 hoặc 2025; mặc định: năm của "
                                                        "hồ sơ tiếp nhận gần nhất (assessment period)")
    p.add_argument("--by", choices=("unit", "procedure"), help="tính thêm theo từng đơn vị (unit) hoặc từng thủ tục "
                                                               "(procedure)")
    add_output_options(p, ("table", "json", "csv"))
    p.add_argument("--skip-bad-rows", action="store_true", help="bỏ qua các dòng lỗi (và liệt kê chúng) thay vì dừng "
                                                                "(leave bad rows out)")
    p.add_argument("--list", metavar="NAME", help="liệt kê mọi hồ sơ làm giảm một chỉ số, ví dụ on_time (hồ sơ trễ "
                                                  "hạn), apology (trễ hạn chưa xin lỗi): " + ", ".join(INDICATORS)
                                                  + " (list the dossiers behind a loss)")
    p.add_argument("--debug", action="store_true",
                   help="hiện chi tiết lỗi nội bộ cho nhóm phát triển (show Python tracebacks)")
    p.set_defaults(func=cmd_indicators)
