"""``render_json`` (orjson) writes what ``json.dumps(…, ensure_ascii=False, indent=2)`` wrote before it:
the scorecards and what-if records of every sample, byte for byte; tiny floats as the same numbers."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from scoring import api
from scoring.outputs.report import render_json

SAMPLES = sorted((Path(__file__).parent.parent / "sample_evidence").glob("*.yaml"))
EVIDENCE = [p for p in SAMPLES if "department:" in p.read_text(encoding="utf-8")]


def stdlib(data: object) -> str:
    return json.dumps(data, ensure_ascii=False, indent=2) + "\n"


@pytest.mark.parametrize("sample", EVIDENCE, ids=lambda p: p.name)
def test_scorecard_and_whatif_json_are_the_standard_librarys_bytes(sample: Path) -> None:
    ev = api.load_evidence(sample)
    bundle = api.load_bundle(None, None, ev.criteria_set)
    card = api.score(bundle, ev)
    assert render_json(card.to_json()) == stdlib(card.to_json())
    leaf = next(n.code for n in card.nodes if n.is_leaf and n.kind == "ratio")
    record = api.whatif(bundle, ev, [f"{leaf}=97,5%"], None, before=card)
    assert api.to_json(record) == stdlib(json.loads(api.to_json(record)))


def test_what_orjson_writes_otherwise_is_the_same_json() -> None:
    data = {"rate": 1e-05, "big": 2**70, "text": "Sở Tư pháp \u2028 \"x\"", 3: "int key", "empty": [[], {}]}
    out = render_json(data)
    assert json.loads(out) == json.loads(stdlib(data))
    assert render_json({"rate": 1e-05}) == '{\n  "rate": 0.00001\n}\n'
