"""One run: the files and options (``DossierInputs``) → the indicators (``load_indicators``)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Literal

from .compute import Result, compute, default_period, read_dossiers, read_procedures
from ...core.yamlio import check_input_file
from .mapping import Mapping, Period, load_mapping, parse_period


@dataclass(frozen=True, kw_only=True)
class DossierInputs:
    """What an indicator computation reads: the export and the options of ``parindex indicators``.

    A frozen dataclass checked on construction (paths given as text become ``Path``s; an unknown
    field is a TypeError, a wrong value a ValueError), not a pydantic model: importing and
    building pydantic cost ``parindex indicators`` about 0,1 s of a 2 s run.
    """

    dossiers: Path
    mapping: Path | None = None
    procedures: Path | None = None
    period: str | None = None  # "2025-01-01..2025-12-31" or "2025"; None = default
    skip_bad_rows: bool = False
    by: Literal["unit", "procedure"] | None = None

    def __post_init__(self) -> None:
        for name in ("dossiers", "mapping", "procedures"):
            value = getattr(self, name)
            if value is None and name != "dossiers":
                continue
            if not isinstance(value, (str, Path)):
                raise ValueError(f"DossierInputs.{name}: a path is expected, not {value!r}")
            object.__setattr__(self, name, Path(value))
        if self.period is not None and not isinstance(self.period, str):
            raise ValueError(f"DossierInputs.period: text such as '2025' is expected, not {self.period!r}")
        if not isinstance(self.skip_bad_rows, bool):
            raise ValueError(f"DossierInputs.skip_bad_rows: true or false is expected, not {self.skip_bad_rows!r}")
        if self.by not in (None, "unit", "procedure"):
            raise ValueError(f"DossierInputs.by: 'unit' or 'procedure' is expected, not {self.by!r}")


def load_indicators(inputs: DossierInputs, period: Period | None = None,
                    progress: Callable[[float], None] | None = None,
                    compute_with: Callable[..., Result] = compute, one_pass: bool = True) -> Result:
    """Read the files ``inputs`` names and compute the indicators (``compute_with(table, period,
    catalogue, by)``: DuckDB's ``compute``, or Spark's in spark.py).

    ``period`` wins over ``inputs.period``; without either, the calendar year of the latest
    reception date in the file (``Result.period.default`` is then true). ``progress`` is called
    with a percentage while a large export is read. The caller closes ``result.table`` when done
    (or lets it be collected).

    ``one_pass``: a clean CSV or Parquet export, when nothing needs its rows (no ``by``, no
    catalogue), is read in one pass without keeping them (stream.py); the dossiers behind a loss
    are then read again when first asked for. A caller that will ask (``--list``) passes False.
    """
    mapping = load_mapping(inputs.mapping) if inputs.mapping else None
    if period is None and inputs.period:
        period = parse_period(inputs.period)
    if one_pass and compute_with is compute:
        from .stream import eligible, indicators_one_pass

        chosen = mapping or Mapping()
        if eligible(inputs.dossiers, chosen, inputs.by, inputs.procedures is not None):
            check_input_file(inputs.dossiers, "dossier file")
            found = indicators_one_pass(inputs.dossiers, chosen, period, inputs.skip_bad_rows, progress)
            if found is not None:
                return found
    table = read_dossiers(inputs.dossiers, mapping, skip_bad_rows=inputs.skip_bad_rows, progress=progress)
    try:
        catalogue = read_procedures(inputs.procedures, mapping) if inputs.procedures else None
        return compute_with(table, period or default_period(table), catalogue, inputs.by)
    except BaseException:
        table.close()
        raise
