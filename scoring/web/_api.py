"""The one place the web application imports the scoring operations from."""

from ._api_shim import *  # noqa: F403
from ._api_shim import (DossierInputs, EvidenceFile, InputError, ParindexError, Problem, Scorecard, WhatIf,  # noqa: F401
                        audit, compare, evidence_cells, evidence_with_dossiers, explain, explanation_docx, load_bundle, load_evidence, load_peers, rank,
                        render, score, template, to_json, whatif)
