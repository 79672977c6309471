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
    emit(render_plan(result, args.format), args.output, inputs(args, "options", "peers"), fmt=args.format)
    return 0


def register(sub: Any) -> None:
    p = sub.add_parser("plan", help="kế hoạch ít công sức nhất để đạt mục tiêu (least-effort plan, exact)")
    p.add_argument("evidence", metavar="EVIDENCE", help="tệp tài liệu kiểm chứng (.yaml hoặc .xlsx) (evidence file)")
    p.add_argument("--options", metavar="OPTIONS.yaml", required=True,
                   help="các phương án cải thiện, công sức và giá trị mỗi phương án đạt được, xem docs/simulate.md "
                        "(improvement options)")
    goal = p.add_mutually_exclusive_group(required=True)
    goal.add_argument("--target-percent", metavar="P", help="đạt chỉ số từ P %% trở lên (reach P %%)")
    goal.add_argument("--target-points", metavar="X", help="đạt từ X điểm trở lên (reach X points)")
    goal.add_argument("--target-rank", metavar="K", type=int,
                      help="đạt hạng K hoặc cao hơn trong --peers (reach rank K among --peers)")
    goal.add_argument("--budget", metavar="E", help="chỉ số cao nhất với công sức không quá E (best index within E)")
    common_options(p)
    add_output_options(p, ("table", "json"))
    add_dossier_options(p)
    add_peers_option(p)
    p.set_defaults(func=cmd_plan)
