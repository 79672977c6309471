"""``parindex whatif`` and ``simulate``."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from scoring.cli.common import (add_dossier_options, add_output_options, add_peers_option, add_set_option,
                                common_options, emit, inputs, load_evidence_and_bundle, peers_for)


def cmd_whatif(args: argparse.Namespace) -> int:
    from scoring.api import render_whatif, whatif

    bundle, ev = load_evidence_and_bundle(args, args.evidence)
    result = whatif(bundle, ev, args.sets, peers_for(args, ev))
    emit(render_whatif(result, args.format), args.output, inputs(args, "peers"), fmt=args.format)
    return 0


def cmd_simulate(args: argparse.Namespace) -> int:
    from scoring.api import render_scenarios_bytes, simulate

    bundle, ev = load_evidence_and_bundle(args, args.evidence)
    peers = peers_for(args, ev)
    result = simulate(bundle, ev, args.scenarios)
    data = render_scenarios_bytes(result, peers)
    emit(data if args.output else data.decode("utf-8"), args.output, inputs(args, "scenarios", "peers"), fmt="csv")
    count = f"{len(result.ids):,}".replace(",", ".")
    seconds = f"{result.seconds:.2f}".replace(".", ",")
    sys.stderr.write(f"Đã chấm {count} kịch bản trong {seconds} giây.\n")
    return 0


def register(sub: Any) -> None:
    p = sub.add_parser("whatif", help="nếu … thì: điểm trước / sau / chênh lệch khi thử giá trị khác (what-if)")
    p.add_argument("evidence", metavar="EVIDENCE", help="tệp tài liệu kiểm chứng (.yaml hoặc .xlsx) (evidence file)")
    common_options(p)
    add_output_options(p, ("table", "json"))
    add_set_option(p)
    add_dossier_options(p)
    add_peers_option(p)
    p.set_defaults(func=cmd_whatif)

    p = sub.add_parser("simulate", help="chấm hàng loạt kịch bản từ tệp CSV (batch scenarios, vectorised)")
    p.add_argument("evidence", metavar="EVIDENCE", help="tệp tài liệu kiểm chứng (.yaml hoặc .xlsx) (evidence file)")
    p.add_argument("--scenarios", metavar="FILE.csv", required=True,
                   help="mỗi dòng một kịch bản; cột: id (không bắt buộc), MÃ hoặc MÃ:tên_số_liệu, giá trị viết như "
                        "--set; ô trống giữ giá trị của tệp tài liệu kiểm chứng (one scenario per row)")
    common_options(p)
    p.add_argument("-o", "--output", metavar="OUT.csv", help="ghi kết quả (CSV) vào tệp này thay vì in ra màn hình "
                                                              "(write the results here)")
    add_dossier_options(p)
    add_peers_option(p)
    p.set_defaults(func=cmd_simulate)
