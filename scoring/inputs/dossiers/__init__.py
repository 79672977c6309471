"""Dossier indicators: the one-stop system's export (one row per hồ sơ) → exact rates, on DuckDB.

Pipeline: read CSV/Parquet/XLSX into DuckDB (reader.py) → map the province's headers onto the
canonical columns (mapping.py) → convert and check every row in SQL (checks.py: bad rows named
by row, column, value and fix) → run the indicator definitions (definitions.yaml, compiled to
SQL by definitions.py) for a period, per department and per unit or procedure (compute.py) →
print them (render.py) or feed them into the evidence of the sub-criteria whose rules say
``computed_from: <indicator>.<numerator|denominator|rate>`` (evidence.py). Semantics, columns and
formats: docs/dossiers.md. Nothing here prints, reads arguments or exits.
"""

from __future__ import annotations

from pathlib import Path
from typing import Callable, Literal

import pydantic

from .compute import (BadRowsError, Catalogue, DossierTable, Indicator, Result, compute, default_period,
                      read_dossiers, read_procedures)
from .definitions import IndicatorSpec, definitions
from .evidence import augment_evidence
from .mapping import COLUMNS, PROCEDURE_COLUMNS, Deadlines, Mapping, Period, load_mapping, parse_period
from .render import render_csv, render_list, render_table, result_json, skipped_note

INDICATORS: dict[str, IndicatorSpec] = definitions().indicators


class DossierInputs(pydantic.BaseModel):
    """What an indicator computation reads: the export and the options of ``parindex indicators``."""

    model_config = pydantic.ConfigDict(frozen=True, extra="forbid")

    dossiers: Path
    mapping: Path | None = None
    procedures: Path | None = None
    period: str | None = None  # "2025-01-01..2025-12-31" or "2025"; None = default
    skip_bad_rows: bool = False
    by: Literal["unit", "procedure"] | None = None


def load_indicators(inputs: DossierInputs, period: Period | None = None,
                    progress: Callable[[float], None] | None = None) -> Result:
    """Read the files ``inputs`` names and compute the indicators.

    ``period`` wins over ``inputs.period``; without either, the calendar year of the latest
    reception date in the file (``Result.period.default`` is then true). ``progress`` is called
    with a percentage while a large export is read. The caller closes ``result.table`` when done
    (or lets it be collected).
    """
    mapping = load_mapping(inputs.mapping) if inputs.mapping else None
    if period is None and inputs.period:
        period = parse_period(inputs.period)
    table = read_dossiers(inputs.dossiers, mapping, skip_bad_rows=inputs.skip_bad_rows, progress=progress)
    try:
        catalogue = read_procedures(inputs.procedures, mapping) if inputs.procedures else None
        return compute(table, period or default_period(table), catalogue, inputs.by)
    except BaseException:
        table.close()
        raise


__all__ = ["COLUMNS", "INDICATORS", "PROCEDURE_COLUMNS", "BadRowsError", "Catalogue", "Deadlines", "DossierInputs",
           "DossierTable", "Indicator", "IndicatorSpec", "Mapping", "Period", "Result", "augment_evidence", "compute",
           "load_indicators", "load_mapping", "parse_period", "read_dossiers", "read_procedures", "render_csv",
           "render_list", "render_table", "result_json", "skipped_note"]
