"""One run: the files and options (``DossierInputs``) → the indicators (``load_indicators``)."""

from __future__ import annotations

from pathlib import Path
from typing import Callable, Literal

import pydantic

from .compute import Result, compute, default_period, read_dossiers, read_procedures
from .mapping import Period, load_mapping, parse_period


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
