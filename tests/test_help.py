"""Every ``--help`` and every argparse message is Vietnamese first, English in brackets (issue 15)."""

from __future__ import annotations

import re
from typing import Any

import pytest

from scoring.cli import COMMANDS, build_parser, main
from scoring.cli.vietnamese import vietnamese_argparse

ALL_COMMANDS = [c for commands in COMMANDS.values() for c in commands]
#: argparse's English as it prints it when nothing translates it
ENGLISH = (re.compile(r"^usage:", re.M), re.compile(r"^options:", re.M), re.compile(r"^positional arguments:", re.M),
           re.compile(r"(?<!\()show this help message and exit"), re.compile(r"(?<!\()the following arguments are"),
           re.compile(r"(?<!\()invalid choice"), re.compile(r"(?<!\()expected one argument"),
           re.compile(r"(?<!\()unrecognized arguments"), re.compile(r": error:"),
           re.compile(r"(?<!\()one of the arguments"))
VIETNAMESE = re.compile(r"[ăâđêôơưáàảãạấầẩẫậắằẳẵặéèẻẽẹếềểễệíìỉĩịóòỏõọốồổỗộớờởỡợúùủũụứừửữựýỳỷỹỵ]", re.I)


def _english(text: str) -> list[str]:
    return [p.pattern for p in ENGLISH if p.search(text)]


@pytest.mark.parametrize("command", [None, *ALL_COMMANDS])
def test_help_is_vietnamese(command: str | None, capsys: pytest.CaptureFixture[str]) -> None:
    argv = [command, "--help"] if command else ["--help"]
    assert main(argv) == 0
    out = capsys.readouterr().out
    assert out.startswith("cách dùng (usage): parindex")
    assert _english(out) == [], out
    assert "tùy chọn (options):" in out


def _actions() -> list[tuple[str, Any]]:
    with vietnamese_argparse():
        parser = build_parser()
        sub = next(a for a in parser._actions if a.dest == "command")  # noqa: SLF001
        out = [("parindex", a) for a in parser._actions]  # noqa: SLF001
        out += [(f"{name} (command)", a) for name, a in ((c.dest, c) for c in sub._choices_actions)]  # noqa: SLF001
        for name, p in sub.choices.items():
            out += [(name, a) for a in p._actions]  # noqa: SLF001
    return out


@pytest.mark.parametrize("where, action", _actions(), ids=lambda x: x if isinstance(x, str) else
                         "/".join(x.option_strings) or x.dest)
def test_every_option_is_explained_in_vietnamese_first(where: str, action: Any) -> None:
    if action.help in (None, "==SUPPRESS=="):
        return
    first = action.help.split(" (")[0]
    assert VIETNAMESE.search(first), f"{where} {action.option_strings or action.dest}: {action.help!r}"


@pytest.mark.parametrize("argv, vietnamese", [
    (["scor"], "giá trị không có trong danh sách (invalid choice): 'scor'"),
    (["score"], "thiếu tham số bắt buộc (the following arguments are required): EVIDENCE"),
    (["score", "ev.yaml", "--format", "xlx"], "có phải 'xlsx'?"),
    (["score", "ev.yaml", "-o"], "cần đúng một giá trị sau tùy chọn này"),
    (["score", "ev.yaml", "--khong-co"], "không hiểu tham số (unrecognized arguments): --khong-co"),
    (["plan", "ev.yaml", "--options", "o.yaml"], "cần một trong các tham số"),
    (["plan", "ev.yaml", "--options", "o.yaml", "--budget", "1", "--target-points", "2"], "không dùng được cùng với"),
    (["plan", "ev.yaml", "--options", "o.yaml", "--target-rank", "ba"], "giá trị không hợp lệ, cần kiểu int"),
])
def test_argument_errors_are_vietnamese(argv: list[str], vietnamese: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert vietnamese in err, err
    assert "cách dùng (usage):" in err and "lỗi tham số" in err
    assert _english(err) == [], err


def test_argparse_is_left_as_it_was(capsys: pytest.CaptureFixture[str]) -> None:
    import argparse

    main(["--help"])
    capsys.readouterr()
    assert argparse.ArgumentParser(prog="x").format_usage().startswith("usage:")
