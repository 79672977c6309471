"""Where each sub-criterion's values and documents sit in a filled evidence workbook (sheet!cell), so
that a gap found in the evidence names the cell to fix, as a YAML evidence file names its line."""

from __future__ import annotations

from pathlib import Path

from scoring.inputs.workbook import EV_COLUMNS, INSTRUCTIONS
from scoring.inputs.workbook_reader import open_workbook

DOC_NUMBER = "Số hiệu văn bản"


def evidence_cells(source: Path | str | bytes) -> dict[str, dict[str, str]]:
    """code → {"": the code cell of its first row, evidence name: its value cell, document number: its
    number cell}, as ``'Lĩnh vực 1'!H8``; empty for YAML evidence."""
    data = source if isinstance(source, bytes) else Path(source).read_bytes()
    if data[:4] != b"PK\x03\x04":
        return {}
    wb = open_workbook(data, "" if isinstance(source, bytes) else str(source), data_only=True)
    heads = {c.key: c.header for c in EV_COLUMNS}
    out: dict[str, dict[str, str]] = {}
    for ws in wb.worksheets:
        if ws.title == INSTRUCTIONS:
            continue
        cols: dict[str, str] = {}
        header_row = 0
        for row in ws.iter_rows(min_row=1, max_row=30):
            texts = {str(c.value).strip(): c.column_letter for c in row if c.value is not None}
            if heads["code"] in texts and heads["value"] in texts:
                cols = {k: texts[h] for k, h in (("code", heads["code"]), ("name", heads["name"]),
                                                  ("value", heads["value"]), ("doc", DOC_NUMBER)) if h in texts}
                header_row = row[0].row
                break
        if not cols:
            continue
        for r in range(header_row + 1, ws.max_row + 1):
            code = ws[f"{cols['code']}{r}"].value
            if code is None:
                continue
            at = out.setdefault(str(code).strip(), {})
            at.setdefault("", f"'{ws.title}'!{cols['code']}{r}")
            name = ws[f"{cols['name']}{r}"].value if "name" in cols else None
            if name:
                at.setdefault(str(name).strip(), f"'{ws.title}'!{cols['value']}{r}")
            doc = ws[f"{cols['doc']}{r}"].value if "doc" in cols else None
            if doc:
                at.setdefault(str(doc).strip(), f"'{ws.title}'!{cols['doc']}{r}")
    return out
