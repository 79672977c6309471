"""The ``parindex`` command: arguments and output only; no scoring logic lives here.

Exit codes: 0 success, 2 bad input (rules, criteria, evidence, arguments), 1 internal error,
3 ``audit --fail-on-gaps`` found gaps.
No traceback reaches a user unless ``--debug`` is given.
"""

from __future__ import annotations

import argparse
import importlib
import importlib.util
import sys
import traceback
from pathlib import Path
from typing import Any, Callable

from .errors import InputError, ParindexError, Problem

#: Modules that add sub-commands (each defines ``register(subparsers)``), by the commands they add.
#: Only the module of the command being run is imported, so each command starts fast.
EXTENSIONS: dict[str, tuple[str, ...]] = {
    "scoring.dossiers": ("indicators",),
    "scoring.simulate": ("whatif", "simulate"),
    "scoring.plan": ("plan",),
    "scoring.audit": ("audit",),
    "scoring.excel": ("template", "export", "import-evidence", "import-criteria"),
    "scoring.compare": ("compare",),
    "scoring.cli_web": ("serve", "history", "db"),
    "scoring.cli_users": ("user",),
}


class _Parser(argparse.ArgumentParser):
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


def load_bundle_for(args: argparse.Namespace, set_id: str | None = None) -> Any:
    from .rules import load_bundle

    return load_bundle(args.criteria, args.rules, args.criteria_set or set_id)


def add_dossier_options(parser: argparse.ArgumentParser) -> None:
    """Options that compute indicators from the one-stop system's dossier export (see scoring.dossiers)."""
    parser.add_argument("--dossiers", metavar="FILE", help="dossier export (CSV or XLSX) to compute 3.4.x / 7.3.x from")
    parser.add_argument("--mapping", metavar="FILE", help="column-mapping YAML for the dossier export")
    parser.add_argument("--procedures", metavar="FILE", help="procedure catalogue (CSV/XLSX) for 7.3.2")
    parser.add_argument("--period", metavar="FROM..TO", help="assessment period, e.g. 2025-01-01..2025-12-31 "
                                                              "(default: the evidence's year)")
    parser.add_argument("--skip-bad-rows", action="store_true", help="leave bad dossier rows out (and say which) "
                                                                     "instead of stopping")


def load_evidence_and_bundle(args: argparse.Namespace, path: str) -> tuple[Any, Any]:
    """Load evidence (YAML or XLSX), its bundle, and merge indicators computed from --dossiers."""
    from .evidence import load_evidence

    if Path(path).suffix.lower() in (".xlsx", ".xlsm"):
        from .excel import read_evidence_workbook

        ev = read_evidence_workbook(Path(path), criteria_dir=args.criteria, rules_dir=args.rules)
    else:
        ev = load_evidence(Path(path))
    bundle = load_bundle_for(args, ev.criteria_set)
    if getattr(args, "dossiers", None):
        from .dossiers import augment_evidence

        ev = augment_evidence(bundle, ev, args)
    return bundle, ev


def emit(text: str | bytes, output: str | None, inputs: list[str | None] = ()) -> None:  # type: ignore[assignment]
    """Print, or write ``output`` atomically; never overwrite an input file."""
    from .yamlio import write_atomic

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


# ------------------------------------------------------------------ commands


def cmd_check(args: argparse.Namespace) -> int:
    from .rules import available_sets, default_dirs, load_bundle

    cdir = Path(args.criteria) if args.criteria else default_dirs()[0]
    sets = [args.criteria_set] if args.criteria_set else (available_sets(cdir) if cdir.is_dir() else [None])
    problems: list[Problem] = []
    summaries = []
    for set_id in sets:
        try:
            bundle = load_bundle(args.criteria, args.rules, set_id)
        except ParindexError as exc:
            problems.extend(exc.problems)
            continue
        c = bundle.criteria
        kinds: dict[str, int] = {}
        for r in bundle.rules.values():
            kinds[r.kind] = kinds.get(r.kind, 0) + 1
        summaries.append(f"{c.id}: {len(c.fields)} lĩnh vực, {len(c.walk())} mục, {len(bundle.rules)} tiêu chí được chấm, "
                         f"{len(bundle.files)} tệp quy tắc, tổng {c.scale} điểm ({c.points_status}); "
                         + ", ".join(f"{k} {v}" for k, v in sorted(kinds.items())))
    if problems:
        for p in problems:
            sys.stderr.write(p.format() + "\n")
        sys.stderr.write(f"{len(problems)} lỗi (problems). Sửa các lỗi trên rồi chạy lại 'parindex check'.\n")
        return 2
    for s in summaries:
        sys.stdout.write(f"OK {s}\n")
    return 0


def cmd_score(args: argparse.Namespace) -> int:
    from .engine import overrides_from, score
    from .report import render

    bundle, ev = load_evidence_and_bundle(args, args.evidence)
    card = score(bundle, ev, overrides_from(args.sets))
    rank = None
    if args.peers:
        from .simulate import load_peers, rank_for_card

        rank = rank_for_card(card, load_peers(args.peers, ev.department, ev.year))
        if args.format not in ("table", "markdown", "json"):
            sys.stderr.write(f"Lưu ý: thứ hạng (--peers) chỉ có ở định dạng table, markdown, json; "
                             f"không có trong {args.format}.\n")
    inputs = _inputs(args) + [args.peers]
    if args.format in ("xlsx", "docx"):
        if not args.output:
            raise InputError(Problem("output_required", f"--format {args.format} writes a file; give -o FILE",
                                     subject="--output", hint=f"e.g. -o bang-tu-cham.{args.format}"))
        if args.format == "xlsx":
            from .excel import scorecard_xlsx as render_binary
        else:
            from .docx_report import scorecard_docx as render_binary
        emit(render_binary(card), args.output, inputs)
        return 0
    if args.peers and args.format == "json":
        from .report import render_json
        from .simulate import rank_json

        emit(render_json({**card.to_json(), "rank": rank_json(rank)}), args.output, inputs)
        return 0
    text = render(card, args.format)
    if args.peers and args.format in ("table", "markdown"):
        from .simulate import rank_lines

        lines = rank_lines(rank)
        text += "\n" + "\n".join(f"- {line.strip()}" if args.format == "markdown" else line for line in lines) + "\n"
    emit(text, args.output, inputs)
    return 0


def _inputs(args: argparse.Namespace) -> list[str | None]:
    return [getattr(args, n, None) for n in ("evidence", "dossiers", "mapping", "procedures")]


def cmd_explain(args: argparse.Namespace) -> int:
    from .engine import overrides_from, score
    from .explain import explain_json, explain_text
    from .report import render_json

    bundle, ev = load_evidence_and_bundle(args, args.evidence)
    card = score(bundle, ev, overrides_from(args.sets))
    if args.format == "json":
        text = render_json(explain_json(card))
    else:
        text = explain_text(card, markdown=args.format == "markdown", all_dossiers=args.all_dossiers)
    emit(text, args.output, _inputs(args))
    return 0


def build_parser(command: str | None = None) -> argparse.ArgumentParser:
    """The argument parser; with ``command`` only that command's extension module is imported."""
    parser = _Parser(prog="parindex", description="Chấm điểm Chỉ số cải cách hành chính (PAR INDEX) cấp sở "
                                                  "và giải thích từng điểm bị mất.")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser, metavar="COMMAND")

    p = sub.add_parser("check", help="kiểm tra bộ tiêu chí và quy tắc (validate criteria and rules)")
    common_options(p)
    p.set_defaults(func=cmd_check)

    p = sub.add_parser("score", help="chấm điểm một tệp tài liệu kiểm chứng (score evidence)")
    p.add_argument("evidence", metavar="EVIDENCE", help="evidence file (.yaml, or .xlsx filled from parindex template)")
    common_options(p)
    add_output_options(p, ("table", "json", "markdown", "csv", "xlsx", "docx"))
    add_set_option(p)
    add_dossier_options(p)
    p.add_argument("--peers", metavar="FILE", help="other units' published results (YAML or CSV: unit, year, "
                                                    "points or percent) to state the rank")
    p.set_defaults(func=cmd_score)

    p = sub.add_parser("explain", help="giải thích từng điểm bị mất (every lost point, largest first)")
    p.add_argument("evidence", metavar="EVIDENCE", help="evidence file (.yaml, or .xlsx filled from parindex template)")
    common_options(p)
    add_output_options(p, ("table", "markdown", "json"))
    add_set_option(p)
    add_dossier_options(p)
    p.add_argument("--all-dossiers", action="store_true", help="list every dossier behind a loss, not the first 5")
    p.set_defaults(func=cmd_explain)

    for name, commands in EXTENSIONS.items():
        if command is not None and command not in commands:
            continue
        if importlib.util.find_spec(name) is None:
            continue
        module = importlib.import_module(name)
        register: Callable[..., None] | None = getattr(module, "register", None)
        if register is not None:
            register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.reconfigure(encoding="utf-8")  # type: ignore[attr-defined]
        except (AttributeError, ValueError):
            pass
    argv = list(sys.argv[1:] if argv is None else argv)
    debug = "--debug" in argv
    try:
        known = {c for commands in EXTENSIONS.values() for c in commands} | {"check", "score", "explain"}
        command = next((a for a in argv if not a.startswith("-")), None)
        parser = build_parser(command if command in known else None)
        args = parser.parse_args(argv)
        return int(args.func(args) or 0)
    except ParindexError as exc:
        for p in exc.problems:
            sys.stderr.write(p.format() + "\n")
        total = getattr(exc, "total", len(exc.problems))  # bad dossier rows: only the first few are listed
        if total > 1:
            sys.stderr.write(f"{total} lỗi (problems).\n")
        if debug:
            traceback.print_exc()
        return exc.exit_code
    except KeyboardInterrupt:
        sys.stderr.write("Đã dừng (interrupted).\n")
        return 130
    except BrokenPipeError:
        return 0
    except SystemExit as exc:
        return int(exc.code or 0) if isinstance(exc.code, int) else 2
    except Exception as exc:  # noqa: BLE001 - the last line of defence: no traceback for users
        if debug:
            traceback.print_exc()
        sys.stderr.write(f"parindex: lỗi nội bộ (internal error): {type(exc).__name__}: {exc}\n"
                         "Chạy lại với --debug và gửi kết quả cho nhóm phát triển.\n")
        return 1


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
