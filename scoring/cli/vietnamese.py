"""argparse's own texts in Vietnamese first, English in brackets, like every other message a clerk meets.

argparse looks its texts up through its module-level ``_`` (gettext) and ``ngettext`` each time it
builds a parser, formats help or reports an error. :func:`vietnamese_argparse` replaces both for the
duration of one command, so ``usage:``, ``options:``, "show this help message and exit", "invalid
choice", "the following arguments are required" … come out in Vietnamese, and puts the originals
back afterwards (the process may hold other argparse users: a test runner, a notebook).
"""

from __future__ import annotations

import argparse
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

#: argparse 3.11's texts a user can meet; the rest are programming errors of parindex itself
TEXTS: dict[str, str] = {
    "usage: ": "cách dùng (usage): ",
    "positional arguments": "tham số bắt buộc (positional arguments)",
    "options": "tùy chọn (options)",
    "show this help message and exit": "hiện hướng dẫn này rồi thoát (show this help message and exit)",
    "the following arguments are required: %s": "thiếu tham số bắt buộc (the following arguments are required): %s",
    "unrecognized arguments: %s": "không hiểu tham số (unrecognized arguments): %s",
    "invalid choice: %(value)r (choose from %(choices)s)":
        "giá trị không có trong danh sách (invalid choice): %(value)r; chọn một trong: %(choices)s",
    "expected one argument": "cần đúng một giá trị sau tùy chọn này (expected one argument)",
    "expected at most one argument": "chỉ được tối đa một giá trị (expected at most one argument)",
    "expected at least one argument": "cần ít nhất một giá trị (expected at least one argument)",
    "invalid %(type)s value: %(value)r": "giá trị không hợp lệ, cần kiểu %(type)s (invalid value): %(value)r",
    "argument %(argument_name)s: %(message)s": "tham số %(argument_name)s: %(message)s",
    "not allowed with argument %s": "không dùng được cùng với %s (not allowed together)",
    "one of the arguments %s is required": "cần một trong các tham số (one of the arguments is required): %s",
    "ambiguous option: %(option)s could match %(matches)s":
        "tùy chọn viết tắt chưa rõ (ambiguous option): %(option)s có thể là %(matches)s",
    "ignored explicit argument %r": "tùy chọn này không nhận giá trị (ignored explicit argument) %r",
    "unexpected option string: %s": "tùy chọn không mong đợi (unexpected option string): %s",
    "unknown parser %(parser_name)r (choices: %(choices)s)":
        "không có lệnh %(parser_name)r (unknown command); các lệnh: %(choices)s",
    "can't open '%(filename)s': %(error)s": "không mở được '%(filename)s' (can't open): %(error)s",
    "%(prog)s: error: %(message)s\n": "%(prog)s: lỗi (error): %(message)s\n",
}
#: texts with a number, filled with ``% n`` by argparse: one ``%s`` each
PLURALS: dict[str, str] = {
    "expected %s argument": "cần đúng %s giá trị sau tùy chọn này (expected that many arguments)",
    "conflicting option string: %s": "tùy chọn bị khai báo trùng (conflicting option string): %s",
}


def translate(text: str) -> str:
    return TEXTS.get(text, text)


def translate_plural(singular: str, plural: str, n: int) -> str:
    return PLURALS.get(singular, singular if n == 1 else plural)


@contextmanager
def vietnamese_argparse() -> Iterator[None]:
    """argparse speaks Vietnamese inside the block (parser building, help, errors)."""
    saved: tuple[Any, Any] = (argparse._, argparse.ngettext)  # type: ignore[attr-defined]
    argparse._ = translate  # type: ignore[attr-defined]
    argparse.ngettext = translate_plural  # type: ignore[attr-defined]
    try:
        yield
    finally:
        argparse._, argparse.ngettext = saved  # type: ignore[attr-defined]
