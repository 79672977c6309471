"""``parindex audit`` and ``compare``: evidence gaps before submitting; self-score vs appraisal."""

from __future__ import annotations

import argparse
from typing import Any

from scoring.cli.common import (add_dossier_options, add_output_options, common_options, emit, inputs,
                                load_evidence_and_bundle, require_output)

#: ``audit --fail-on-gaps`` exits with this code when there is a gap.
EXIT_GAPS = 3
AUDIT_FORMATS = ("table", "json", "xlsx")
COMPARE_FORMATS = ("table", "json", "markdown")


def cmd_audit(args: argparse.Namespace) -> int:
    from scoring.api import audit, render_audit

    bundle, ev = load_evidence_and_bundle(args, args.evidence)
    result = audit(bundle, ev, args.documents, getattr(args, "dossiers", None))
    if args.format == "xlsx":
        require_output(args, "ra-soat-tai-lieu.xlsx")
    emit(render_audit(result, args.format), args.output, inputs(args), fmt=args.format)
    return EXIT_GAPS if args.fail_on_gaps and result.gaps else 0


def cmd_compare(args: argparse.Namespace) -> int:
    from scoring.api import compare, render_comparison

    bundle, ev = load_evidence_and_bundle(args, args.evidence)
    result = compare(bundle, ev, args.appraisal, args.sheet, getattr(args, "dossiers", None))
    emit(render_comparison(result, args.format), args.output, inputs(args, "appraisal"), fmt=args.format)
    return 0


def register(sub: Any) -> None:
    p = sub.add_parser("audit", help="rà soát tài liệu kiểm chứng trước khi nộp, mục có nhiều điểm nguy cơ bị trừ "
                                     "nhất trước (evidence gaps)")
    p.add_argument("evidence", metavar="EVIDENCE", help="tệp tài liệu kiểm chứng (.yaml hoặc .xlsx) (evidence file)")
    common_options(p)
    add_output_options(p, AUDIT_FORMATS)
    add_dossier_options(p)
    p.add_argument("--documents", metavar="DIR", help="thư mục văn bản đã quét; mỗi văn bản được dẫn phải có tệp "
                                                      "trong đó (theo cột tệp đính kèm hoặc số hiệu) "
                                                      "(folder of scanned documents)")
    p.add_argument("--fail-on-gaps", action="store_true",
                   help=f"thoát với mã {EXIT_GAPS} khi còn vấn đề (cho chương trình gọi); mặc định thoát 0 "
                        f"(exit {EXIT_GAPS} on gaps)")
    p.set_defaults(func=cmd_audit)

    p = sub.add_parser("compare", help="so sánh điểm tự chấm với điểm thẩm định, kèm dự thảo giải trình "
                                       "(self-score vs appraisal)")
    p.add_argument("evidence", metavar="EVIDENCE", help="tệp tài liệu kiểm chứng (.yaml hoặc .xlsx) (evidence file)")
    p.add_argument("--appraisal", metavar="FILE", required=True,
                   help="điểm của Hội đồng thẩm định (.xlsx hoặc .csv): cột mã và cột điểm thẩm định, có thể theo "
                        "từng lần, xem docs/audit.md (the council's points)")
    p.add_argument("--sheet", metavar="NAME", help="trang tính của bảng thẩm định; mặc định: trang đầu có cột mã "
                                                   "(sheet of the appraisal workbook)")
    common_options(p)
    add_output_options(p, COMPARE_FORMATS)
    add_dossier_options(p)
    p.set_defaults(func=cmd_compare)
