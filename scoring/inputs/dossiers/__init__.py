"""Dossier exports of the one-stop system (Hệ thống thông tin giải quyết TTHC): read, check, count.

What the rest of parindex uses: ``DossierInputs`` (the files of one run), ``load_indicators``,
``augment_evidence`` (put computed indicators into the evidence), and the renderers.
"""

from scoring.inputs.dossiers.legacy import (
    COLUMNS,
    INDICATORS,
    PROCEDURE_COLUMNS,
    BadRowsError,
    Catalogue,
    DossierInputs,
    DossierTable,
    Indicator,
    Mapping,
    Period,
    Result,
    augment_evidence,
    compute,
    load_indicators,
    load_mapping,
    parse_period,
    read_dossiers,
    read_procedures,
    render_csv,
    render_list,
    render_table,
    result_json,
    skipped_note,
)

__all__ = ["COLUMNS", "INDICATORS", "PROCEDURE_COLUMNS", "BadRowsError", "Catalogue", "DossierInputs", "DossierTable",
           "Indicator", "Mapping", "Period", "Result", "augment_evidence", "compute", "load_indicators", "load_mapping",
           "parse_period", "read_dossiers", "read_procedures", "render_csv", "render_list", "render_table", "result_json",
           "skipped_note"]
