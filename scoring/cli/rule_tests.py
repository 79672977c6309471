"""``parindex test [RULES_DIR]``: run a set's rule fixtures (rules/<set>/tests/*.yaml) as pass/fail cases.

Exit codes: 0 every case passed, 3 a case failed, 2 bad input.
"""

from __future__ import annotations

import argparse
from typing import Any

from scoring.cli.common import emit


def register(subparsers: Any) -> None:
    p = subparsers.add_parser(
        "test", help="chạy các trường hợp kiểm thử quy tắc (rules/<bộ>/tests/*.yaml): đạt / lỗi",
        description="Chạy các tệp kiểm thử đặt cạnh quy tắc của một bộ tiêu chí (thư mục tests/ trong thư mục "
                    "quy tắc của bộ): mỗi trường hợp gồm số liệu và điểm mong đợi của các mã; in ĐẠT/LỖI và chỗ "
                    "khác nhau. Mã thoát 0: tất cả đạt; 3: có trường hợp lỗi; 2: tệp không đọc được.")
    p.add_argument("rules_dir", metavar="RULES_DIR", nargs="?",
                   help="thư mục quy tắc của một bộ (ví dụ rules/cap-so-2025) hoặc thư mục chứa các bộ "
                        "(mặc định: quy tắc có sẵn)")
    p.add_argument("--criteria", metavar="DIR", help="thư mục bộ tiêu chí (mặc định: thư mục criteria cạnh "
                                                     "thư mục quy tắc, hoặc bộ có sẵn)")
    p.add_argument("--format", choices=("table", "json"), default="table", help="định dạng (mặc định: table)")
    p.add_argument("-o", "--output", metavar="FILE", help="ghi ra tệp thay vì màn hình")
    p.add_argument("--debug", action="store_true", help="hiện traceback khi có lỗi nội bộ")
    p.set_defaults(func=cmd_test)


def cmd_test(args: argparse.Namespace) -> int:
    from scoring.api import render_rule_tests, run_rule_tests

    report = run_rule_tests(args.rules_dir, args.criteria)
    emit(render_rule_tests(report, args.format), args.output, fmt=args.format)
    return 0 if report.failed == 0 else 3
