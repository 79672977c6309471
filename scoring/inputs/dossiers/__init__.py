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

from .compute import (BadRowsError, Catalogue, DossierTable, Indicator, Result, compute, default_period,
                      read_dossiers, read_procedures)
from .definitions import IndicatorSpec, definitions
from .evidence import augment_evidence
from .mapping import COLUMNS, PROCEDURE_COLUMNS, Deadlines, Mapping, Period, load_mapping, parse_period
from .render import render_csv, render_list, render_table, result_json, skipped_note
from .run import DossierInputs, load_indicators

INDICATORS: dict[str, IndicatorSpec] = definitions().indicators


__all__ = ["COLUMNS", "INDICATORS", "PROCEDURE_COLUMNS", "BadRowsError", "Catalogue", "Deadlines", "DossierInputs",
           "DossierTable", "Indicator", "IndicatorSpec", "Mapping", "Period", "Result", "augment_evidence", "compute",
           "load_indicators", "load_mapping", "parse_period", "read_dossiers", "read_procedures", "render_csv",
           "render_list", "render_table", "result_json", "skipped_note"]
