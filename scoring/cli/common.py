"""What every command shares: the parser class, option groups, loading from options, writing output."""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from scoring.core.errors import InputError, Problem

if TYPE_CHECKING:
    from scoring.api import Bundle, DossierInputs, EvidenceFile


_INVALID_CHOICE = re.compile(r"\(invalid choice\): '([^']*)'; chọn một trong: (.*)$")


class Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # exit code 2 with a one-line hint, like other input errors
        from scoring.core.errors import did_you_mean

        found = _INVALID_CHOICE.search(message)
        if found:  # a mistyped command or --format value: name the closest one
            guess = did_you_mean(found.group(1), re.findall(r"'([^']*)'", found.group(2)))
            if guess:
                message += f" ({guess})"
        self.print_usage(sys.stderr)
        sys.stderr.write(f"parindex: lỗi tham số (argument error): {message}\n"
                         f"Gõ '{self.prog} --help' để xem hướng dẫn.\n")
        raise SystemExit(2)


def common_options(parser: argparse.ArgumentParser) -> None:
    """Options every command that loads criteria and rules accepts."""
    parser.add_argument("--criteria", metavar="DIR", help="thư mục bộ tiêu chí; mặc định: bộ có sẵn "
                                                          "(folder of criteria sets)")
    parser.add_argument("--rules", metavar="DIR", help="thư mục quy tắc chấm; mặc định: bộ có sẵn (folder of rules)")
    parser.add_argument("--criteria-set", metavar="ID",
                        help="mã bộ tiêu chí; mặc định: bộ ghi trong tệp tài liệu kiểm chứng (criteria set id)")
    parser.add_argument("--debug", action="store_true",
                        help="hiện chi tiết lỗi nội bộ cho nhóm phát triển (show Python tracebacks)")


def add_set_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--set", dest="sets", action="append", metavar="CODE=VALUE", default=[],
                        help="thử một giá trị mà không sửa tệp: 3.4.1=98%%, 7.3.4=0.6, 1.6=41/42, hoặc "
                             "MÃ:tên_số_liệu=GIÁ_TRỊ khi tiêu chí có nhiều số liệu; dùng nhiều lần được "
                             "(try a value without editing files; repeatable)")


def add_output_options(parser: argparse.ArgumentParser, formats: tuple[str, ...], default: str = "table") -> None:
    parser.add_argument("--format", choices=formats, default=default,
                        help=f"định dạng kết quả; mặc định: {default} (output format)")
    parser.add_argument("-o", "--output", metavar="FILE",
                        help="ghi kết quả vào tệp FILE thay vì in ra màn hình; đuôi tệp phải khớp --format "
                             "(write to FILE instead of the screen)")


def add_dossier_options(parser: argparse.ArgumentParser) -> None:
    """Options that compute indicators from the one-stop system's dossier export."""
    parser.add_argument("--dossiers", metavar="FILE", help="tệp hồ sơ TTHC xuất từ hệ thống một cửa (CSV hoặc XLSX) "
                                                           "để tính 3.4.x / 7.3.x (dossier export)")
    parser.add_argument("--mapping", metavar="FILE", help="tệp YAML ánh xạ tiêu đề cột của tệp hồ sơ "
                                                          "(column-mapping YAML)")
    parser.add_argument("--procedures", metavar="FILE", help="danh mục TTHC (CSV/XLSX) để tính 7.3.2 "
                                                             "(procedure catalogue)")
    parser.add_argument("--period", metavar="FROM..TO", help="kỳ đánh giá, ví dụ 2025-01-01..2025-12-31 hoặc 2025; "
                                                              "mặc định: năm của tệp tài liệu kiểm chứng "
                                                              "(assessment period)")
    parser.add_argument("--skip-bad-rows", action="store_true", help="bỏ qua các dòng hồ sơ lỗi (và liệt kê chúng) "
                                                                     "thay vì dừng (leave bad rows out)")


def add_peers_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--peers", metavar="FILE",
                        help="kết quả công bố của các đơn vị khác (YAML hoặc CSV: đơn vị, năm, điểm hoặc tỷ lệ) "
                             "để nêu thứ hạng (other units' published results, for the rank)")


def dossier_inputs(args: argparse.Namespace) -> DossierInputs | None:
    """The ``--dossiers`` options as the API's model (None when no export is given)."""
    if not getattr(args, "dossiers", None):
        return None
    from scoring.api import DossierInputs

    return DossierInputs(dossiers=Path(args.dossiers),
                         mapping=Path(args.mapping) if getattr(args, "mapping", None) else None,
                         procedures=Path(args.procedures) if getattr(args, "procedures", None) else None,
                         period=getattr(args, "period", None) or None,
                         skip_bad_rows=bool(getattr(args, "skip_bad_rows", False)),
                         by=getattr(args, "by", None))


def load_bundle_for(args: argparse.Namespace, set_id: str | None = None) -> Bundle:
    from scoring.api import load_bundle

    return load_bundle(args.criteria, args.rules, args.criteria_set or set_id)


def load_evidence_and_bundle(args: argparse.Namespace, path: str) -> tuple[Bundle, EvidenceFile]:
    """Load evidence (YAML or XLSX), its bundle, and merge indicators computed from --dossiers."""
    from scoring.api import load_assessment

    return load_assessment(path, criteria_dir=args.criteria, rules_dir=args.rules, set_id=args.criteria_set,
                           dossiers=dossier_inputs(args))


def peers_for(args: argparse.Namespace, ev: EvidenceFile) -> Any:
    if not getattr(args, "peers", None):
        return None
    from scoring.api import load_peers

    return load_peers(args.peers, ev.department, ev.year)


def inputs(args: argparse.Namespace, *extra: str) -> list[str | None]:
    """The files this run reads (an output may never be one of them)."""
    names = ("evidence", "dossiers", "mapping", "procedures") + extra
    return [getattr(args, n, None) for n in names]


def emit(text: str | bytes, output: str | None, inputs: list[str | None] = (),  # type: ignore[assignment]
         fmt: str | None = None) -> None:
    """Print, or write ``output`` atomically; never overwrite a file the run reads (scoring.core.safeio)."""
    from scoring.core.safeio import write_output

    if output is None:
        if isinstance(text, bytes):
            raise InputError(Problem("binary_output", "định dạng này là tệp nhị phân, không in ra màn hình được "
                                     "(this format is binary; give -o FILE)", subject="--output",
                                     hint="thêm -o TỆP, ví dụ -o ket-qua.xlsx"))
        sys.stdout.write(text)
        sys.stdout.flush()
        return
    write_output(output, text, inputs, fmt)
    sys.stderr.write(f"Đã ghi {output}\n")


def require_output(args: argparse.Namespace, example: str) -> None:
    if not args.output:
        raise InputError(Problem("output_required", f"--format {args.format} ghi ra tệp; cần -o TỆP "
                                 f"(--format {args.format} writes a file; give -o FILE)",
                                 subject="--output", hint=f"ví dụ -o {example}"))
