"""``parindex check``, ``score`` and ``explain``."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from scoring.cli.common import (add_dossier_options, add_output_options, add_set_option, common_options, emit,
                                inputs, load_evidence_and_bundle, peers_for, require_output)


def cmd_check(args: argparse.Namespace) -> int:
    from scoring.api import check

    report = check(args.criteria, args.rules, args.criteria_set)
    if report.problems:
        for p in report.problems:
            sys.stderr.write(p.format() + "\n")
        sys.stderr.write(f"{len(report.problems)} lỗi (problems). Sửa các lỗi trên rồi chạy lại 'parindex check'.\n")
        return 2
    for s in report.summaries:
        sys.stdout.write(f"OK {s}\n")
    return 0


def cmd_score(args: argparse.Namespace) -> int:
    from scoring.api import rank, render_scorecard, score

    bundle, ev = load_evidence_and_bundle(args, args.evidence)
    card = score(bundle, ev, args.sets)
    peers = peers_for(args, ev)
    position = None
    if peers is not None:
        position = rank(card, peers)
        if args.format not in ("table", "markdown", "json"):
            sys.stderr.write(f"Lưu ý: thứ hạng (--peers) chỉ có ở định dạng table, markdown, json; "
                             f"không có trong {args.format}.\n")
    if args.format in ("xlsx", "docx"):
        require_output(args, f"bang-tu-cham.{args.format}")
    emit(render_scorecard(card, args.format, rank=position, lang=args.lang), args.output, inputs(args, "peers"),
         fmt=args.format)
    return 0


def cmd_explain(args: argparse.Namespace) -> int:
    from scoring.api import render_explanation, score

    bundle, ev = load_evidence_and_bundle(args, args.evidence)
    card = score(bundle, ev, args.sets)
    emit(render_explanation(card, args.format, all_dossiers=args.all_dossiers), args.output, inputs(args),
         fmt=args.format)
    return 0


def register(sub: Any) -> None:
    p = sub.add_parser("check", help="kiểm tra bộ tiêu chí và quy tắc (validate criteria and rules)")
    common_options(p)
    p.set_defaults(func=cmd_check)

    p = sub.add_parser("score", help="chấm điểm một tệp tài liệu kiểm chứng (score evidence)")
    p.add_argument("evidence", metavar="EVIDENCE", help="tệp tài liệu kiểm chứng (.yaml, hoặc .xlsx điền từ tệp mẫu "
                                                        "'parindex template') (evidence file)")
    common_options(p)
    add_output_options(p, ("table", "json", "markdown", "csv", "xlsx", "docx"))
    add_set_option(p)
    add_dossier_options(p)
    p.add_argument("--peers", metavar="FILE", help="kết quả công bố của các đơn vị khác (YAML hoặc CSV: đơn vị, năm, "
                                                    "điểm hoặc tỷ lệ) để nêu thứ hạng (published results, for the rank)")
    p.add_argument("--lang", choices=("vi", "en"), default="vi",
                   help="ngôn ngữ tiêu đề và giá trị của --format csv: vi (mặc định) hoặc en, tên cột tiếng Anh "
                        "cho các chương trình đọc tệp (language of the CSV headers and values; JSON keys never change)")
    p.set_defaults(func=cmd_score)

    p = sub.add_parser("explain", help="giải thích từng điểm bị mất (every lost point, largest first)")
    p.add_argument("evidence", metavar="EVIDENCE", help="tệp tài liệu kiểm chứng (.yaml, hoặc .xlsx điền từ tệp mẫu "
                                                        "'parindex template') (evidence file)")
    common_options(p)
    add_output_options(p, ("table", "markdown", "json"))
    add_set_option(p)
    add_dossier_options(p)
    p.add_argument("--all-dossiers", action="store_true", help="liệt kê mọi hồ sơ làm mất điểm, không chỉ 5 hồ sơ đầu "
                                                              "(every dossier behind a loss)")
    p.set_defaults(func=cmd_explain)
