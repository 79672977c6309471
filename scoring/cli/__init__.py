"""The ``parindex`` command: a thin front-end over ``scoring.api``.

Each module of this package holds one group of commands: it parses arguments, calls one
``scoring.api`` operation, writes the text or bytes, and maps errors to exit codes.
Exit codes: 0 success, 2 bad input (rules, criteria, evidence, arguments), 1 internal error,
3 ``audit --fail-on-gaps`` found gaps or ``test`` a failed case, 130 interrupted.
No traceback reaches a user unless ``--debug`` is given.
"""

from __future__ import annotations

import importlib
import sys
import traceback

from scoring.cli.common import Parser
from scoring.cli.vietnamese import vietnamese_argparse
from scoring.core import safeio
from scoring.core.errors import ParindexError

#: The module of each group of commands, by the commands it adds. Only the module of the command
#: being run is imported (and it imports the operations it calls when it runs), so each command starts fast.
COMMANDS: dict[str, tuple[str, ...]] = {
    "scoring.cli.score": ("check", "score", "explain"),
    "scoring.cli.indicators": ("indicators",),
    "scoring.cli.simulate": ("whatif", "simulate"),
    "scoring.cli.plan": ("plan",),
    "scoring.cli.audit": ("audit", "compare"),
    "scoring.cli.workbook": ("template", "export", "import-evidence", "import-criteria"),
    "scoring.cli.diff_sets": ("diff-sets",),
    "scoring.cli.rule_tests": ("test",),
    "scoring.cli.serve": ("serve", "db"),
    "scoring.cli.history": ("history",),
    "scoring.cli.users": ("user",),
}


def build_parser(command: str | None = None) -> Parser:
    """The argument parser; with ``command`` only that command's module is imported."""
    parser = Parser(prog="parindex", description="Chấm điểm Chỉ số cải cách hành chính (PAR INDEX) cấp sở "
                                                 "và giải thích từng điểm bị mất.")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=Parser, metavar="COMMAND",
                                title="lệnh (commands)")
    for name, commands in COMMANDS.items():
        if command is not None and command not in commands:
            continue
        importlib.import_module(name).register(sub)
    helps = {a.dest: a.help for a in sub._choices_actions}  # noqa: SLF001 - argparse keeps the list only there
    for name, sub_parser in sub.choices.items():
        if sub_parser.description is None:  # 'parindex score --help' says what the command does, as the list does
            sub_parser.description = helps.get(name)
    return parser


def main(argv: list[str] | None = None) -> int:
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.reconfigure(encoding="utf-8")  # type: ignore[attr-defined]
        except (AttributeError, ValueError):
            pass
    as_program = argv is None
    argv = list(sys.argv[1:] if argv is None else argv)
    debug = "--debug" in argv
    safeio.forget_reads()  # each run refuses to overwrite the files it reads, not those of an earlier run
    handlers = safeio.install_signal_handlers()
    hook = sys.unraisablehook
    if not debug:  # a library's generator closed during an error would print "Exception ignored in …"
        sys.unraisablehook = lambda unraisable: None
    try:
        return _run(argv, debug)
    finally:
        if not as_program:  # called from code (tests, a notebook): leave the process as it was
            safeio.restore_signal_handlers(handlers)
            sys.unraisablehook = hook


def _run(argv: list[str], debug: bool) -> int:
    try:
        known = {c for commands in COMMANDS.values() for c in commands}
        command = next((a for a in argv if not a.startswith("-")), None)
        with vietnamese_argparse():  # usage:, options:, argparse's errors: Vietnamese first
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
    except safeio.Terminated as exc:
        sys.stderr.write("Đã dừng theo yêu cầu của hệ thống (terminated); không tệp kết quả nào bị ghi dở.\n")
        return 128 + exc.signum
    except BrokenPipeError:
        return 0
    except SystemExit as exc:
        return int(exc.code or 0) if isinstance(exc.code, int) else 2
    except Exception as exc:  # noqa: BLE001 - the last line of defence: no traceback for users
        problem = safeio.environment_problem(exc)
        if problem is not None:  # a full disk met by a library's own temporary files: bad luck, not a bug
            sys.stderr.write(problem.format() + "\n")
            if debug:
                traceback.print_exc()
            return 2
        if debug:
            traceback.print_exc()
        sys.stderr.write(f"parindex: lỗi nội bộ (internal error): {type(exc).__name__}: {exc}\n"
                         "Chạy lại với --debug và gửi kết quả cho nhóm phát triển.\n")
        return 1


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
