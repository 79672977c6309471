"""Numbers read from text, with bounds checked before Python's ``int()``/``Decimal()``/``Fraction()``.

``int()`` refuses more than 4 300 digits with an internal ``ValueError``; ``Decimal("1e999999999")``
is accepted and turning it into a ``Fraction`` never ends; ``NaN`` and ``Infinity`` are Decimals too.
No figure of a PAR assessment (points, counts of dossiers, rates, efforts) needs more than a few
digits, so text is refused before any of that when it has too many digits, too large an exponent,
or is not finite. Every refusal is a :class:`NumberTextError` with a Vietnamese message.
"""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation
from typing import Any

#: digits in a number: far above any real figure, far below what slows int() down
MAX_DIGITS = 30
#: |exponent| in scientific notation (1e15 is already more than any count of dossiers)
MAX_EXPONENT = 30
#: characters in a number's text (spaces and separators included)
MAX_TEXT = 64

_NUMBER = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?")


class NumberTextError(ValueError):
    """Text that is not a bounded, finite number. ``vi`` is the clerk's sentence, ``hint`` the fix."""

    def __init__(self, english: str, vi: str, hint: str | None = None):
        super().__init__(f"{vi} ({english})")
        self.english = english
        self.vi = vi
        self.hint = hint


def check_number_text(text: str) -> str:
    """``text`` (already stripped of spaces, with a decimal point) when it is a bounded number; else raise."""
    shown = text if len(text) <= 20 else text[:17] + "..."
    lowered = text.lower().lstrip("+-").lstrip(".")
    if lowered in ("nan", "snan", "inf", "infinity") or lowered.startswith(("nan", "snan")):
        raise NumberTextError(f"'{shown}' is not a finite number", f"'{shown}' không phải một số hữu hạn",
                              "viết một số bằng chữ số, ví dụ 12 hoặc 12,5 (write digits)")
    digits = sum(ch.isdigit() for ch in text)
    if len(text) > MAX_TEXT or digits > MAX_DIGITS:
        raise NumberTextError(f"a number of {digits} digits is too long for an assessment figure",
                              f"số {shown} có {digits} chữ số, quá dài so với số liệu đánh giá",
                              "kiểm tra lại số liệu (check the figure)")
    match = _NUMBER.fullmatch(text)
    if match and match.group(3):
        exponent = int(match.group(3)[1:].lstrip("+-") or "0") if len(match.group(3)) <= 8 else MAX_EXPONENT + 1
        if exponent > MAX_EXPONENT:
            raise NumberTextError(f"'{shown}': exponent too large", f"số mũ trong '{shown}' quá lớn",
                                  "viết số đầy đủ, không dùng dạng 1e99 (write the figure out)")
    return text


def bounded_decimal(value: Any) -> Any:
    """A ``Decimal`` from numeric text or a ``Decimal``/``int``, bounds checked; other values unchanged
    (a pydantic ``mode="before"`` validator then reports them as usual)."""
    if isinstance(value, bool):
        return value
    if isinstance(value, Decimal):
        if not value.is_finite():
            raise NumberTextError(f"{value} is not a finite number", f"{value} không phải một số hữu hạn")
        check_number_text(format(value, "f") if abs(value.adjusted()) <= MAX_EXPONENT else "1e999")
        return value
    if isinstance(value, int):
        if abs(value) >= 10 ** MAX_DIGITS:
            raise NumberTextError("the number is too large", "số quá lớn", "kiểm tra lại số liệu (check the figure)")
        return value
    if isinstance(value, str):
        text = value.strip().replace(" ", "").replace("\u00a0", "")
        if "," in text and "." not in text:
            text = text.replace(",", ".")
        check_number_text(text)
        try:
            return Decimal(text)
        except InvalidOperation:
            return value  # not a number at all: the caller's own message says so
    return value


def decimal_field(value: Any) -> Any:
    """A pydantic ``mode="before"`` validator for points in criteria and rules: a YAML float by the text it
    was written as (``1.10`` stays 1.10), bounds checked; NaN, Infinity and 5 000-digit numbers are a
    ``ValueError``, which pydantic reports with the file and line."""
    if isinstance(value, float) and hasattr(value, "raw"):  # scoring.core.yamlio.YamlFloat
        value = value.raw or repr(float(value))
    if isinstance(value, bool):
        raise ValueError("cần một số, không phải true/false (expected a number, not true/false)")
    try:
        return bounded_decimal(value)
    except NumberTextError as exc:
        raise ValueError(str(exc)) from None
