"""``parindex plan``: the least-effort plan to reach a target."""

from __future__ import annotations

import argparse
from decimal import Decimal
from typing import Any

from scoring.cli.common import (add_dossier_options, add_output_options, add_peers_option, common_options, emit,
                                inputs, load_evidence_and_bundle, peers_for)
from scoring.core.errors import InputError, Problem


def _decimal_arg(text: str | None, flag: str) -> Decimal | None:
    if text is None:
        return None
    from scoring.core.evidence import ValueError_, to_fraction

    try:
        frac = to_fraction(text.strip().rstrip("%"))
    except ValueError_ as exc:
        raise InputError(Problem("bad_value", f"{flag} {text}: {exc}", subject=flag, hint=exc.hint)) from None
    return Decimal(frac.numerator) / Decimal(frac.denominator)


def cmd_plan(args: argparse.Namespace) -> int:
    from scoring.api import plan, render_plan

    bundle, ev = load_evidence_and_bundle(args, args.evidence)
    result = plan(bundle, ev, args.options,
                  percent=_decimal_arg(args.target_percent, "--target-percent"),
                  points=_decimal_arg(args.target_points, "--target-points"),
                  rank=args.target_rank, budget=_decimal_arg(args.budget, "--budget"),
                  peers=peers_for(args, ev))
    emit(render_plan(result, args.format), args.output, inputs(args, "options", "peers"))
    return 0


def register(sub: Any) -> None:
    p = sub.add_parser("plan", help="kế hoạch ít công sức nhất để đạt mục tiêu (least-effort plan, exact)")
    p.add_argument("evidence", metavar="EVIDENCE", help="evidence file (.yaml)")
    p.add_argument("--options", metavar="OPTIONS.yaml", required=True,
                   help="improvements with effort and the values they set (see docs/simulate.md)")
    goal = p.add_mutually_exclusive_group(required=True)
    goal.add_argument("--target-percent", metavar="P", help="reach an index of at least P %%")
    goal.add_argument("--target-points", metavar="X", help="reach at least X points")
    goal.add_argument("--target-rank", metavar="K", type=int, help="reach rank K or better among --peers")
    goal.add_argument("--budget", metavar="E", help="the highest index with effort at most E")
    common_options(p)
    add_output_options(p, ("table", "json"))
    add_dossier_options(p)
    add_peers_option(p)
    p.set_defaults(func=cmd_plan)
