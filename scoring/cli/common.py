"""What every command shares: the parser class, option groups, loading from options, writing output."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from scoring.core.errors import InputError, Problem

if TYPE_CHECKING:
    from scoring.api import Bundle, DossierInputs, EvidenceFile


class Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # exit code 2 with a one-line hint, like other input errors
        self.print_usage(sys.stderr)
        sys.stderr.write(f"parindex: lỗi tham số (argument error): {message}\n"
                         f"Gõ '{self.prog} --help' để xem hướng dẫn.\n")
        raise SystemExit(2)


def common_options(parser: argparse.ArgumentParser) -> None:
    """Options every command that loads criteria and rules accepts."""
    parser.add_argument("--criteria", metavar="DIR", help="folder of criteria sets (default: the bundled one)")
    parser.add_argument("--rules", metavar="DIR", help="folder of rules (default: the bundled one)")
    parser.add_argument("--criteria-set", metavar="ID",
                        help="criteria set id (default: the one named in the evidence file)")
    parser.add_argument("--debug", action="store_true", help="show Python tracebacks on internal errors")


def add_set_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--set", dest="sets", action="append", metavar="CODE=VALUE", default=[],
                        help="try a value without editing files: 3.4.1=98%%, 7.3.4=0.6, 1.6=41/42, "
                             "or CODE:evidence=VALUE for a named evidence item; repeatable")


def add_output_options(parser: argparse.ArgumentParser, formats: tuple[str, ...], default: str = "table") -> None:
    parser.add_argument("--format", choices=formats, default=default, help=f"output format (default: {default})")
    parser.add_argument("-o", "--output", metavar="FILE", help="write to FILE (atomically) instead of the screen")


def add_dossier_options(parser: argparse.ArgumentParser) -> None:
    """Options that compute indicators from the one-stop system's dossier export."""
    parser.add_argument("--dossiers", metavar="FILE", help="dossier export (CSV or XLSX) to compute 3.4.x / 7.3.x from")
    parser.add_argument("--mapping", metavar="FILE", help="column-mapping YAML for the dossier export")
    parser.add_argument("--procedures", metavar="FILE", help="procedure catalogue (CSV/XLSX) for 7.3.2")
    parser.add_argument("--period", metavar="FROM..TO", help="assessment period, e.g. 2025-01-01..2025-12-31 "
                                                              "(default: the evidence's year)")
    parser.add_argument("--skip-bad-rows", action="store_true", help="leave bad dossier rows out (and say which) "
                                                                     "instead of stopping")


def add_peers_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--peers", metavar="FILE",
                        help="other units' published results (YAML or CSV: unit, year, points or percent) "
                             "to state the rank")


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


def emit(text: str | bytes, output: str | None, inputs: list[str | None] = ()) -> None:  # type: ignore[assignment]
    """Print, or write ``output`` atomically; never overwrite an input file."""
    from scoring.core.yamlio import write_atomic

    if output is None:
        if isinstance(text, bytes):
            raise InputError(Problem("binary_output", "this format is binary; give -o FILE", subject="--output"))
        sys.stdout.write(text)
        sys.stdout.flush()
        return
    target = Path(output).resolve()
    for item in inputs:
        if item and Path(item).resolve() == target:
            raise InputError(Problem("would_overwrite_input", f"-o '{output}' is an input file; parindex never changes its inputs",
                                     subject="--output", hint="choose another output file name"))
    write_atomic(target, text)
    sys.stderr.write(f"Đã ghi {output}\n")


def require_output(args: argparse.Namespace, example: str) -> None:
    if not args.output:
        raise InputError(Problem("output_required", f"--format {args.format} writes a file; give -o FILE",
                                 subject="--output", hint=f"e.g. -o {example}"))
