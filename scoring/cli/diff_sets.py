"""``parindex diff-sets A B``: what changed, per code, between two criteria sets (scoring.analysis.diff_sets)."""

from __future__ import annotations

import argparse
from typing import Any

from scoring.cli.common import add_output_options, emit

FORMATS = ("table", "json")


def cmd_diff_sets(args: argparse.Namespace) -> int:
    from scoring import api

    diff = api.diff_sets(args.set_a, args.set_b, args.criteria, args.rules)
    emit(api.render_sets_diff(diff, args.format), args.output, fmt=args.format)
    return 0


def register(subparsers: Any) -> None:
    """Add ``parindex diff-sets`` to the command line."""
    p = subparsers.add_parser("diff-sets", help="so sánh hai bộ tiêu chí theo từng mã (what changed between two "
                                                "criteria sets)")
    p.add_argument("set_a", metavar="A", help="mã bộ tiêu chí thứ nhất, ví dụ cap-so-2025 (criteria set id)")
    p.add_argument("set_b", metavar="B", help="mã bộ tiêu chí thứ hai, ví dụ cap-so-lang-son-2026 (criteria set id)")
    p.add_argument("--criteria", metavar="DIR", help="thư mục bộ tiêu chí; mặc định: bộ có sẵn (folder of criteria sets)")
    p.add_argument("--rules", metavar="DIR", help="thư mục quy tắc chấm; mặc định: bộ có sẵn (folder of rules)")
    p.add_argument("--debug", action="store_true",
                   help="hiện chi tiết lỗi nội bộ cho nhóm phát triển (show Python tracebacks)")
    add_output_options(p, FORMATS)
    p.set_defaults(func=cmd_diff_sets)
