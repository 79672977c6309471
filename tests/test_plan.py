"""plan: the exact optimum (checked against brute force over all subsets), the opportunities view,
and every bad input named with its file and line."""

from __future__ import annotations

import dataclasses
import itertools
import json
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import yaml
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from conftest import SAMPLES
from scoring.cli import main
from scoring.core.engine import Overrides, score
from scoring.core.evidence import EvidenceFile, load_evidence
from scoring.analysis.plan import Model, build_model, load_options, make_target, optimise, plan
from scoring.core.rules import Bundle
from scoring.core.vector import VectorScorer, from_hundredths

SAMPLE = str(SAMPLES / "so-tu-phap-lang-son-2025.yaml")
OPTIONS = str(SAMPLES / "options-lang-son-2025.yaml")
PEERS = str(SAMPLES / "peers-lang-son-2025.yaml")


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def write_options(tmp_path: Path, options: list[dict[str, Any]], unit: str = "ngày công") -> Path:
    p = tmp_path / "options.yaml"
    plain = json.loads(json.dumps(options))  # no shared objects, so no YAML anchors
    p.write_text(yaml.safe_dump({"effort_unit": unit, "options": plain}, allow_unicode=True, sort_keys=False),
                 encoding="utf-8")
    return p


@pytest.fixture(scope="module")
def ev() -> EvidenceFile:
    return load_evidence(SAMPLE)


@pytest.fixture(scope="module")
def scorer(bundle: Bundle) -> VectorScorer:
    return VectorScorer(bundle)


# ------------------------------------------------------------------ brute force


def _percent(points: Decimal, maximum: Decimal) -> Decimal:
    return (points * 100 / maximum).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def _allowed(m: Model, chosen: tuple[int, ...]) -> bool:
    ids = {m.opts[i].id for i in chosen}
    return all(set(m.opts[i].requires) <= ids and not (set(m.opts[i].excludes) & ids) for i in chosen)


def brute_force(m: Model, bundle: Bundle, ev: EvidenceFile, reference: bool = False
                ) -> list[tuple[tuple[int, ...], Decimal, Decimal, Decimal, Decimal]]:
    """(chosen, effort, points, maximum, percent) for every allowed subset. When several chosen options set
    the same value, the state is the best over every way of taking one of them per value (most points, then
    the smallest maximum), scored with score() (reference) or the vectorised path."""
    n = len(m.opts)
    subsets = [c for k in range(n + 1) for c in itertools.combinations(range(n), k) if _allowed(m, c)]
    trials: list[Overrides] = []
    owner: list[int] = []
    for s, chosen in enumerate(subsets):
        keys: dict[tuple[str, str | None], list[str]] = {}
        for i in chosen:
            for key, value in m.opts[i].sets:
                keys.setdefault(key, []).append(value)
        for combo in itertools.product(*keys.values()):
            ov: Overrides = {}
            for (code, name), value in zip(keys, combo):
                ov.setdefault(code, {})[name] = value
            trials.append(ov)
            owner.append(s)
    if reference:
        cards = [score(bundle, ev, t) for t in trials]
        results = [(c.total.points, c.total.max_points) for c in cards]
    else:
        results = _vector_totals(m.scorer, bundle, ev, trials)
    best: dict[int, tuple[Decimal, Decimal]] = {}
    for s, (p, mx) in zip(owner, results):
        if s not in best or (p, -mx) > (best[s][0], -best[s][1]):
            best[s] = (p, mx)
    out = []
    for s, chosen in enumerate(subsets):
        p, mx = best[s]
        out.append((chosen, sum((m.opts[i].effort for i in chosen), Decimal(0)), p, mx, _percent(p, mx)))
    return out


def _vector_totals(scorer: VectorScorer, bundle: Bundle, ev: EvidenceFile, trials: list[Overrides]
                   ) -> list[tuple[Decimal, Decimal]]:
    base = score(bundle, ev)
    columns = {}
    for code in scorer.codes:
        entries = [None] + [t[code] for t in trials if code in t]
        pool, problems = scorer.pool(ev, code, entries)
        assert not problems
        idx = np.zeros(len(trials), dtype=np.int32)
        k = 1
        for i, t in enumerate(trials):
            if code in t:
                idx[i] = k
                k += 1
        columns[code] = (pool, idx)
    res = scorer.score(columns, len(trials), bonus=base.total.bonus, penalty=base.total.penalty)
    return [(from_hundredths(p), from_hundredths(x)) for p, x in zip(res.points, res.max_points)]


def expected(table: list[Any], mode: str, value: Decimal) -> tuple[Decimal, Decimal] | None:
    """(effort, points) of the optimum by brute force; None if no subset reaches the target."""
    if mode == "budget":
        ok = [r for r in table if r[1] <= value]
        best = max(ok, key=lambda r: (r[4], -r[1], r[2]))
        return best[1], best[2]
    ok = [r for r in table if (r[4] if mode == "percent" else r[2]) >= value]
    if not ok:
        return None
    best = min(ok, key=lambda r: (r[1], -r[2]))
    return best[1], best[2]


def check_against_brute_force(m: Model, bundle: Bundle, ev: EvidenceFile, mode: str, value: Decimal,
                              reference: bool = False) -> None:
    table = brute_force(m, bundle, ev, reference)
    target = make_target(m, **{{"percent": "percent", "points": "points", "budget": "budget"}[mode]: value})
    data = plan(m, target)  # also re-scores the chosen set with score() and requires equality
    want = expected(table, mode, value)
    sol, after = data["solution"], data["after"]
    effort = sum((m.opts[i].effort for i in sol.chosen), Decimal(0))
    if want is None:
        assert not data["feasible"]
        best = max(table, key=lambda r: (r[4], -r[1], r[2]))
        assert (effort, after.total.points, after.total.percent) == (best[1], best[2], best[4])
    else:
        assert data["feasible"], (mode, value)
        assert (effort, after.total.points) == want, (mode, value, [m.opts[i].id for i in sol.chosen])


def test_sample_options_against_reference_brute_force(bundle: Bundle, ev: EvidenceFile, scorer: VectorScorer) -> None:
    """Six options of the example file, every subset scored with score() (durable-rules)."""
    options = load_options(OPTIONS, bundle, ev)
    keep = ("tai-su-dung-50", "tai-su-dung-45", "thanh-toan-55", "ra-soat-tre-han", "xin-loi-du", "nhiem-vu-ubnd")
    kept = tuple(dataclasses.replace(o, excludes=tuple(e for e in o.excludes if e in keep))
                 for o in options.options if o.id in keep)
    small = dataclasses.replace(options, options=kept)
    m = build_model(bundle, ev, small, scorer)
    for mode, value in (("percent", Decimal(90)), ("budget", Decimal(9)), ("points", Decimal(93))):
        check_against_brute_force(m, bundle, ev, mode, value, reference=(mode == "percent"))


MENU: dict[tuple[str, str | None], list[str]] = {
    ("3.4.1", None): ["97%", "95%", "99%", "90%"],
    ("3.4.3", None): ["100%", "90%", "na"],  # na: the point moves to 3.4.1 (redistribute)
    ("7.3.4", None): ["55%", "30%", "60%", "na"],  # na: left out of the maximum (exclude)
    ("7.3.1", "reuse_rate"): ["50%", "45%"],
    ("7.3.1", "digitised_rate"): ["70%", "90%"],
    ("1.5", None): ["3", "1", "0"],
    ("8.2", None): ["5", "4.5"],
    ("2.3.2", None): ["100%", "na"],
}


@st.composite
def instances(draw: Any) -> tuple[list[dict[str, Any]], str, Decimal]:
    n = draw(st.integers(2, 6))
    keys = list(MENU)
    options = []
    for i in range(n):
        chosen_keys = draw(st.lists(st.sampled_from(keys), min_size=1, max_size=2, unique=True))
        sets = {}
        for code, name in chosen_keys:
            sets[f"{code}:{name}" if name else code] = draw(st.sampled_from(MENU[(code, name)]))
        opt: dict[str, Any] = {"id": f"o{i}", "title": f"Phương án {i}",
                               "effort": draw(st.sampled_from([0, 0.5, 1, 2, 3, 5, 8])), "set": sets}
        if i and draw(st.booleans()):
            opt["requires"] = draw(st.lists(st.sampled_from([f"o{j}" for j in range(i)]), max_size=1))
        if i and draw(st.integers(0, 3)) == 0:
            opt["excludes"] = [f"o{draw(st.integers(0, i - 1))}"]
        options.append(opt)
    mode = draw(st.sampled_from(["percent", "points", "budget"]))
    if mode == "budget":
        value = Decimal(draw(st.integers(0, 16))) / 2
    else:
        value = Decimal(draw(st.integers(8600, 9700))) / 100
    return options, mode, value


@settings(max_examples=25, deadline=None, phases=[Phase.explicit, Phase.reuse, Phase.generate],
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(instance=instances())
def test_random_instances_against_brute_force(bundle: Bundle, ev: EvidenceFile, scorer: VectorScorer,
                                             tmp_path_factory: pytest.TempPathFactory, instance: Any) -> None:
    options, mode, value = instance
    path = write_options(tmp_path_factory.mktemp("o"), options)
    m = build_model(bundle, ev, load_options(path, bundle, ev), scorer)
    check_against_brute_force(m, bundle, ev, mode, value)


# ------------------------------------------------------------------ combinations are scored, not added


def _model(tmp_path: Path, bundle: Bundle, ev: EvidenceFile, scorer: VectorScorer, options: list[dict[str, Any]]
           ) -> Model:
    return build_model(bundle, ev, load_options(write_options(tmp_path, options), bundle, ev), scorer)


def test_same_value_set_twice_keeps_the_best(tmp_path: Path, bundle: Bundle, ev: EvidenceFile,
                                             scorer: VectorScorer) -> None:
    m = _model(tmp_path, bundle, ev, scorer, [
        {"id": "low", "title": "a", "effort": 1, "set": {"7.3.4": "40%"}},
        {"id": "high", "title": "b", "effort": 1, "set": {"7.3.4": "60%"}}])
    base = m.evaluate(set())[0]
    assert m.evaluate({0})[0] == base and m.evaluate({1})[0] == base + 125
    assert m.evaluate({0, 1})[0] == base + 125
    assert m.overrides({0, 1}) == {"7.3.4": {None: "60%"}}


def test_interacting_options_are_scored_together(tmp_path: Path, bundle: Bundle, ev: EvidenceFile,
                                                 scorer: VectorScorer) -> None:
    """No late dossier (3.4.3 gives its point to 3.4.1) and a lower on-time rate: −0,33, not 1 − 1."""
    m = _model(tmp_path, bundle, ev, scorer, [
        {"id": "no-late", "title": "a", "effort": 1, "set": {"3.4.3": "na"}},
        {"id": "slower", "title": "b", "effort": 1, "set": {"3.4.1": "96%"}},
        {"id": "reuse", "title": "c", "effort": 1, "set": {"7.3.1:reuse_rate": "50%"}},
        {"id": "less-digitised", "title": "d", "effort": 1, "set": {"7.3.1:digitised_rate": "70%"}}])
    base = m.evaluate(set())[0]
    assert m.evaluate({0})[0] - base == 100 and m.evaluate({1})[0] - base == -100
    assert m.evaluate({0, 1})[0] - base == -33  # 3.4.1: 2 of 3 points scaled to a maximum of 4 = 2,67
    assert m.evaluate({2})[0] - base == 300 and m.evaluate({3})[0] - base == 0
    assert m.evaluate({2, 3})[0] - base == 0  # both checks of 7.3.1 must hold
    for chosen in ({0, 1}, {2, 3}):
        card = score(bundle, ev, m.overrides(chosen))
        assert int(card.total.points * 100) == m.evaluate(chosen)[0]


# ------------------------------------------------------------------ the command


def test_plan_json_contract(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "plan", SAMPLE, "--options", OPTIONS, "--target-rank", "3", "--peers", PEERS,
                         "--format", "json")
    assert code == 0, err
    data = json.loads(out)
    assert data["feasible"] is True and data["rank_after"]["rank"] <= 3
    assert set(data) >= {"feasible", "chosen", "effort", "points_before", "points_after", "percent_after",
                         "rank_after", "opportunities", "still_losing"}
    assert data["points_before"] == 88.45 and data["effort"] == 10
    assert sorted(data["chosen"]) == ["nhiem-vu-ubnd", "ra-soat-tre-han", "xin-loi-du"]
    opp = {o["id"]: o for o in data["opportunities"]}
    assert opp["tai-su-dung-50"]["gain_points"] == 3 and opp["tai-su-dung-50"]["gain_per_effort"] == 0.25
    assert opp["tai-su-dung-45"]["gain_points"] == 0
    losing = {r["code"]: r for r in data["still_losing"]}
    assert losing["7.3.4"]["gain_points"] == 1.25 and "67" in losing["7.3.4"]["win_back"]
    assert losing["8.2"]["gain_points"] is None


def test_plan_infeasible_target_states_the_best_reachable(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "plan", SAMPLE, "--options", OPTIONS, "--target-points", "99", "--format", "json")
    assert code == 0, err
    data = json.loads(out)
    assert data["feasible"] is False and data["best_reachable"]["points"] == 97.7
    assert "Không có tổ hợp phương án nào đạt mục tiêu" in data["statement"]
    code, out, _ = run(capsys, "plan", SAMPLE, "--options", OPTIONS, "--target-points", "99")
    assert code == 0 and "KHÔNG ĐẠT ĐƯỢC MỤC TIÊU" in out and "Cao nhất có thể: 97,7 điểm" in out


def test_plan_table_shows_opportunities_and_winback(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "plan", SAMPLE, "--options", OPTIONS, "--budget", "20")
    assert code == 0, err
    assert "CƠ HỘI" in out and "TIÊU CHÍ CÒN MẤT ĐIỂM SAU KẾ HOẠCH" in out
    assert "92,7 điểm" in out and "VÍ DỤ MINH HỌA" in out


def test_already_reached_needs_no_option(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "plan", SAMPLE, "--options", OPTIONS, "--target-percent", "80", "--format", "json")
    assert code == 0, err
    data = json.loads(out)
    assert data["feasible"] and data["chosen"] == [] and data["effort"] == 0


# ------------------------------------------------------------------ bad input


GOOD = {"id": "a", "title": "A", "effort": 1, "set": {"7.3.4": "60%"}}


@pytest.mark.parametrize("options, problem, line", [
    ([{**GOOD, "set": {"7.3.9": "60%"}}], "unknown_code", 7),
    ([{**GOOD, "set": {"7.3": "60%"}}], "unknown_code", 7),
    ([GOOD, {**GOOD, "id": "b", "requires": ["zz"]}], "unknown_option", 13),
    ([{**GOOD, "requires": ["b"]}, {**GOOD, "id": "b", "requires": ["a"]}], "requires_cycle", 8),
    ([{**GOOD, "effort": -2}], "negative_effort", 5),
    ([GOOD, GOOD], "duplicate_id", 8),
    ([{**GOOD, "efort": 1}], "extra_forbidden", 8),
    ([{**GOOD, "set": {"7.3.4": "160%"}}], "bad_value", 7),
    ([{**GOOD, "set": {"1.5": "ba"}}], "bad_value", 7),
    ([{**GOOD, "excludes": ["a"]}], "self_reference", 8),
])
def test_bad_options_are_exit_2_with_file_and_line(capsys: pytest.CaptureFixture[str], tmp_path: Path,
                                                    options: list[dict[str, Any]], problem: str, line: int) -> None:
    path = write_options(tmp_path, options)
    code, out, err = run(capsys, "plan", SAMPLE, "--options", str(path), "--target-percent", "90")
    assert code == 2 and out == "" and "Traceback" not in err
    assert problem in err and f"{path}:{line}:" in err, err


@pytest.mark.parametrize("args, problem", [
    (("--target-percent", "150"), "target_above_maximum"),
    (("--target-points", "103"), "target_above_maximum"),
    (("--target-rank", "16", "--peers", PEERS), "target_above_maximum"),
    (("--target-rank", "0", "--peers", PEERS), "target_above_maximum"),
    (("--target-rank", "3"), "peers_required"),
    (("--budget", "-1"), "negative_effort"),
    (("--target-percent", "chín"), "bad_value"),
])
def test_bad_targets_are_exit_2(capsys: pytest.CaptureFixture[str], args: tuple[str, ...], problem: str) -> None:
    code, out, err = run(capsys, "plan", SAMPLE, "--options", OPTIONS, *args)
    assert code == 2 and out == "" and problem in err and "Traceback" not in err


def test_a_target_is_required(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "plan", SAMPLE, "--options", OPTIONS)
    assert code == 2 and "lỗi tham số" in err


def test_options_that_clash_together_are_named(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    path = write_options(tmp_path, [
        {"id": "x", "title": "x", "effort": 1, "set": {"3.4.3:late": 55}},
        {"id": "y", "title": "y", "effort": 1, "set": {"3.4.3:late_with_apology": 59}}])
    code, _, err = run(capsys, "plan", SAMPLE, "--options", str(path), "--target-percent", "90")
    assert code == 2 and "numerator_above_denominator" in err and "x, y together" in err


def test_optimise_returns_the_plan_and_reachable(bundle: Bundle, ev: EvidenceFile, scorer: VectorScorer) -> None:
    m = build_model(bundle, ev, load_options(OPTIONS, bundle, ev), scorer)
    sol, reach = optimise(m, make_target(m, percent=Decimal(90)))
    assert sol is not None and sol is reach and from_hundredths(sol.points) == Decimal("90.45")
