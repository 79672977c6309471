"""``parindex diff-sets A B``: what changed, per code, between two criteria sets (scoring.analysis.diff_sets)."""

from __future__ import annotations

import argparse
from typing import Any

from scoring.cli.common import add_output_options, emit

FORMATS = ("table", "json")


def cmd_diff_sets(args: argparse.Namespace) -> int:
    from scoring import api

    diff = api.diff_sets(args.set_a, args.set_b, args.criteria, args.rules)
    emit(api.render_sets_diff(diff, args.format), args.output)
    return 0


def register(subparsers: Any) -> None:
    """Add ``parindex diff-sets`` to the command line."""
    p = subparsers.add_parser("diff-sets", help="so sánh hai bộ tiêu chí theo từng mã (what changed between two "
                                                "criteria sets)")
    p.add_argument("set_a", metavar="A", help="criteria set id, e.g. cap-so-2025")
    p.add_argument("set_b", metavar="B", help="criteria set id, e.g. cap-so-lang-son-2026")
    p.add_argument("--criteria", metavar="DIR", help="folder of criteria sets (default: the bundled one)")
    p.add_argument("--rules", metavar="DIR", help="folder of rules (default: the bundled one)")
    p.add_argument("--debug", action="store_true", help="show Python tracebacks on internal errors")
    add_output_options(p, FORMATS)
    p.set_defaults(func=cmd_diff_sets)
