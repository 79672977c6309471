"""The level a value names, for a "choose a level" rule (kind ``level``).

A clerk writes the level's number as listed (``2``), ``level:2`` / ``mức 2``, or its words ("Ban hành
không kịp thời", case, spaces and a leading bullet ignored). Used by the engine (evidence, ``--set``)
and by the workbook reader (the drop-down cell).
"""

from __future__ import annotations

import re
import unicodedata
from typing import Any

from scoring.core.evidence import ValueError_


def level_key(text: str) -> str:
    """A level's words for matching what a clerk typed: NFC, case-folded, single spaces, no bullet."""
    text = unicodedata.normalize("NFC", str(text)).strip().lstrip("-–+•*").strip()
    return " ".join(text.split()).casefold().rstrip(".;:")


def parse_level(rule: Any, raw: Any) -> int:
    """The level a value names (1-based): its number as listed, ``level:N`` / ``mức N``, or its words."""
    levels = rule.levels
    n = len(levels)
    listed = "; ".join(f"{i}. {lv.label}" for i, lv in enumerate(levels, 1))
    hint = f"ghi số thứ tự của mức (1 đến {n}) hoặc đúng chữ của mức: {listed}"
    if isinstance(raw, bool):
        raise ValueError_("a level is a number or its words, not true/false", hint, vi="mức phải là số hoặc chữ của mức")
    number: Any = None
    if isinstance(raw, int):
        number = raw
    elif isinstance(raw, float) and raw.is_integer():
        number = int(raw)
    elif isinstance(raw, str):
        m = re.fullmatch(r"\s*(?:(?:level|mức|muc)\s*:?\s*)?(\d+)\s*", raw, flags=re.IGNORECASE)
        if m:
            number = int(m.group(1))
        else:
            key = level_key(raw)
            hits = [i for i, lv in enumerate(levels, 1) if level_key(lv.label) == key]
            if hits:
                return hits[0]
            raise ValueError_(f"'{raw}' is not one of the levels", hint, vi=f"'{raw}' không phải một mức của tiêu chí này")
    if number is None:
        raise ValueError_(f"'{raw}' is not a level", hint, vi=f"'{raw}' không phải một mức")
    if not 1 <= number <= n:
        raise ValueError_(f"level {number} is outside 1–{n}", hint, vi=f"mức {number} nằm ngoài 1–{n}")
    return number
