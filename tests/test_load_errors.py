"""Every load-time problem code, on tmp_path copies of the bundled files with one small edit each.

Each test checks the problem code, the line it points at, the subject and (where there is one) the
"did you mean" hint; and that every problem is reported at once.
"""

from __future__ import annotations

import shutil
import unicodedata
from dataclasses import dataclass
from pathlib import Path

import pytest

from fixtures.kit import FIXTURES, KINDS_CRITERIA, KINDS_RULES, ROOT
from scoring.core.criteria import load_criteria
from scoring.core.errors import DefinitionError, InputError, ParindexError, Problem
from scoring.core.evidence import load_evidence
from scoring.core.rules import load_bundle
from scoring.core.yamlio import MAX_ALIASES, MAX_BYTES, MAX_DEPTH, load_yaml

CRITERIA = "criteria/cap-so-2025.yaml"
R1 = "rules/cap-so-2025/1-chi-dao-dieu-hanh.yaml"
R3 = "rules/cap-so-2025/3-thu-tuc-hanh-chinh.yaml"
KINDS = "rules/kinds-2025/rules.yaml"
KINDS_C = "criteria/kinds-2025.yaml"


@dataclass
class Copy:
    """A tmp_path copy of a criteria + rules set that a test may edit."""

    root: Path

    def path(self, rel: str) -> Path:
        return self.root / rel

    def edit(self, rel: str, old: str, new: str) -> None:
        path = self.path(rel)
        text = path.read_text(encoding="utf-8")
        assert text.count(old) == 1, f"{old!r} occurs {text.count(old)} times in {rel}"
        path.write_text(text.replace(old, new), encoding="utf-8")

    def line(self, rel: str, needle: str, nth: int = 1) -> int:
        """1-based line of the nth line containing needle."""
        hits = [i for i, line in enumerate(self.path(rel).read_text(encoding="utf-8").splitlines(), 1)
                if needle in line]
        assert len(hits) >= nth, f"{needle!r} not found {nth} times in {rel}"
        return hits[nth - 1]

    def problems(self) -> list[Problem]:
        with pytest.raises(ParindexError) as info:
            load_bundle(self.root / "criteria", self.root / "rules",
                        "cap-so-2025" if (self.root / "criteria" / "cap-so-2025.yaml").exists() else None).close()
        return info.value.problems

    def file(self, rel: str) -> str:
        return str(self.path(rel))


@pytest.fixture
def bundled(tmp_path: Path) -> Copy:
    shutil.copytree(ROOT / "criteria", tmp_path / "criteria")
    shutil.copytree(ROOT / "rules", tmp_path / "rules")
    return Copy(tmp_path)


@pytest.fixture
def kinds(tmp_path: Path) -> Copy:
    shutil.copytree(KINDS_CRITERIA, tmp_path / "criteria")
    shutil.copytree(KINDS_RULES, tmp_path / "rules")
    return Copy(tmp_path)


def only(problems: list[Problem], code: str) -> list[Problem]:
    found = [p for p in problems if p.code == code]
    assert found, f"no {code} among {[p.format() for p in problems]}"
    return found


def the(problems: list[Problem], code: str) -> Problem:
    found = only(problems, code)
    assert len(found) == 1, [p.format() for p in found]
    return found[0]


# ------------------------------------------------------------------ the bundled and fixture sets are clean


def test_bundled_set_loads() -> None:
    b = load_bundle(set_id="cap-so-2025")
    try:
        assert len(b.rules) == len(b.criteria.leaves())
    finally:
        b.close()


def test_fixture_sets_load() -> None:
    load_bundle(KINDS_CRITERIA, KINDS_RULES).close()


# ------------------------------------------------------------------ criteria


def test_misspelt_criteria_key_points_at_its_line(bundled: Copy) -> None:
    bundled.edit(CRITERIA, "    title: Công tác kiểm tra CCHC\n        max_points: 2",
                 "    title: Công tác kiểm tra CCHC\n        max_ponts: 2")
    p = the(bundled.problems(), "extra_forbidden")
    assert "max_ponts" in p.message
    assert p.hint == "có phải 'max_points'? (did you mean 'max_points'?)"
    assert (p.file, p.line) == (bundled.file(CRITERIA), bundled.line(CRITERIA, "max_ponts"))
    assert p.format().startswith(f"{bundled.file(CRITERIA)}:{p.line}: ")


def test_misspelt_key_in_a_flow_mapping(bundled: Copy) -> None:
    bundled.edit(CRITERIA, '{code: "1.1", title: "Thực hiện kế hoạch CCHC năm", max_points: 2',
                 '{code: "1.1", title: "Thực hiện kế hoạch CCHC năm", max_ponts: 2')
    p = the(bundled.problems(), "extra_forbidden")
    assert p.hint == "có phải 'max_points'? (did you mean 'max_points'?)"
    assert p.line == bundled.line(CRITERIA, "max_ponts")


def test_numeric_code_in_criteria(kinds: Copy) -> None:
    kinds.edit(KINDS_C, '{code: "1.10",', "{code: 1.10,")
    problems = kinds.problems()
    assert len(problems) == 1, [p.format() for p in problems]
    p = problems[0]
    assert "1.10" in p.message and "quotes" in (p.message + (p.hint or ""))
    assert '"1.10"' in p.message + (p.hint or "")
    assert p.line == kinds.line(KINDS_C, "code: 1.10")


def test_duplicate_code(bundled: Copy) -> None:
    bundled.edit(CRITERIA, 'code: "1.5"', 'code: "1.4"')
    p = the(bundled.problems(), "duplicate_code")
    assert p.subject == "1.4" and p.file == bundled.file(CRITERIA)
    assert p.line in (bundled.line(CRITERIA, 'code: "1.4"'), bundled.line(CRITERIA, 'code: "1.4"', nth=2))


def test_duplicate_code_points_at_the_second_occurrence(bundled: Copy) -> None:
    bundled.edit(CRITERIA, 'code: "1.5"', 'code: "1.4"')
    p = the(bundled.problems(), "duplicate_code")
    assert p.line == bundled.line(CRITERIA, 'code: "1.4"', nth=2)


def test_points_mismatch_children(bundled: Copy) -> None:
    bundled.edit(CRITERIA, '{code: "1.1", title: "Thực hiện kế hoạch CCHC năm", max_points: 2,',
                 '{code: "1.1", title: "Thực hiện kế hoạch CCHC năm", max_points: 2.5,')
    p = the(bundled.problems(), "points_mismatch")
    assert p.subject == "1" and "12.5" in p.message
    assert p.line == bundled.line(CRITERIA, 'code: "1"')


def test_points_mismatch_scale(bundled: Copy) -> None:
    bundled.edit(CRITERIA, "scale: 100", "scale: 90")
    p = the(bundled.problems(), "points_mismatch")
    assert "90" in p.message and p.line == bundled.line(CRITERIA, "scale: 90")


def test_missing_source_for_official_points(bundled: Copy) -> None:
    bundled.edit(CRITERIA, '{code: "8.1.1", title: "Hài lòng về tiếp cận dịch vụ", max_points: 3, '
                           'source: "Nội dung SIPAS theo DOMAIN.md; mã do parindex đặt"}',
                 '{code: "8.1.1", title: "Hài lòng về tiếp cận dịch vụ", max_points: 3, points_status: official}')
    p = the(bundled.problems(), "missing_source")
    assert p.subject == "8.1.1" and p.line == bundled.line(CRITERIA, 'code: "8.1.1"')


# ------------------------------------------------------------------ rules


def rule_line(copy: Copy, rel: str, code: str) -> int:
    return copy.line(rel, f'- code: "{code}"')


def test_misspelt_rule_key_points_at_its_line(bundled: Copy) -> None:
    bundled.edit(R3, "    value: synced_rate\n", "    value: synced_rate\n    gudance: x\n")
    p = the(bundled.problems(), "extra_forbidden")
    assert p.hint == "có phải 'guidance'? (did you mean 'guidance'?)"
    assert p.line == bundled.line(R3, "gudance")


def test_misspelt_rule_key(bundled: Copy) -> None:
    bundled.edit(R3, "    value: synced_rate\n", "    value: synced_rate\n    gudance: x\n")
    problems = bundled.problems()
    p = the(problems, "extra_forbidden")
    assert p.subject == "3.2.3" and p.file == bundled.file(R3)
    assert "gudance" in p.message and p.hint == "có phải 'guidance'? (did you mean 'guidance'?)"
    assert the(problems, "missing_rule").subject == "3.2.3"  # the rule could not be read, so 3.2.3 has none


def test_numeric_code_in_rules(kinds: Copy) -> None:
    kinds.edit(KINDS, 'code: "1.10"', "code: 1.10")
    problems = kinds.problems()
    p = next(p for p in problems if p.code != "missing_rule")
    assert p.subject == "1.10"  # as written, not 1.1
    assert "1.10" in p.message and '"1.10"' in p.message + (p.hint or "")
    assert p.line == kinds.line(KINDS, "code: 1.10")
    assert the(problems, "missing_rule").subject == "1.10"


def test_unknown_kind(bundled: Copy) -> None:
    bundled.edit(R3, "kind: threshold", "kind: treshold")
    p = the(bundled.problems(), "unknown_kind")
    assert p.hint == "có phải 'threshold'? (did you mean 'threshold'?)" and p.subject == "3.2.3"
    assert p.line == bundled.line(R3, "kind: treshold")


def test_missing_and_duplicate_rule(bundled: Copy) -> None:
    bundled.edit(R3, '- code: "3.2.4"', '- code: "3.2.1"')
    problems = bundled.problems()
    dup = the(problems, "duplicate_rule")
    assert dup.subject == "3.2.1"
    assert dup.line == bundled.line(R3, '- code: "3.2.1"', nth=2)
    first = rule_line(bundled, R3, "3.2.1")
    assert f"{bundled.file(R3)}:{first}" in dup.message
    missing = the(problems, "missing_rule")
    assert missing.subject == "3.2.4"


def test_unknown_code(bundled: Copy) -> None:
    bundled.edit(R3, '- code: "3.2.4"', '- code: "3.2.5"')
    problems = bundled.problems()
    p = the(problems, "unknown_code")
    assert p.subject == "3.2.5" and p.line == rule_line(bundled, R3, "3.2.5")
    assert p.hint and p.hint.startswith("có phải '3.2.")
    assert the(problems, "missing_rule").subject == "3.2.4"


def test_rule_on_parent(bundled: Copy) -> None:
    bundled.edit(R3, '- code: "3.2.4"', '- code: "3.2"')
    p = the(bundled.problems(), "rule_on_parent")
    assert p.subject == "3.2" and "3.2.1" in (p.hint or "")
    assert p.line == rule_line(bundled, R3, "3.2")


def test_unknown_and_unused_evidence(bundled: Copy) -> None:
    bundled.edit(R3, "    value: synced_rate\n", "    value: synced_rat\n")
    problems = bundled.problems()
    p = the(problems, "unknown_evidence")
    assert p.hint == "có phải 'synced_rate'? (did you mean 'synced_rate'?)" and p.line == rule_line(bundled, R3, "3.2.3")
    assert "synced_rate" in the(problems, "unused_evidence_spec").message


def test_unused_evidence_spec(bundled: Copy) -> None:
    bundled.edit(R3, "      - {name: synced_rate,",
                 '      - {name: extra_thing, type: rate, description: "x"}\n      - {name: synced_rate,')
    problems = bundled.problems()
    assert [p.code for p in problems] == ["unused_evidence_spec"]
    assert "extra_thing" in problems[0].message


def test_wrong_evidence_type(bundled: Copy) -> None:
    bundled.edit(R3, "{name: synced_rate, type: rate", "{name: synced_rate, type: count")
    p = the(bundled.problems(), "wrong_evidence_type")
    assert p.subject == "3.2.3" and "count" in p.message


def test_ratio_parts_must_be_counts(bundled: Copy) -> None:
    bundled.edit(R3, "{name: on_time, type: count", "{name: on_time, type: rate")
    assert the(bundled.problems(), "wrong_evidence_type").subject == "3.4.1"


BANDS_323 = "      - {min: 1, points: 1.5}\n      - {min: 0.9, points: 0.75}\n    not_applicable: {policy: award_max, note: Không phát sinh hồ sơ TTHC}"


def test_points_above_max(bundled: Copy) -> None:
    bundled.edit(R3, BANDS_323, BANDS_323.replace("{min: 1, points: 1.5}", "{min: 1, points: 2}"))
    problems = bundled.problems()
    p = the(problems, "points_above_max")
    assert "1.5" in p.message and p.subject == "3.2.3"


def test_deadline_points_above_max(bundled: Copy) -> None:
    bundled.edit(R1, "    late_points: 0.75\n", "    late_points: 2\n")
    p = only(bundled.problems(), "points_above_max")[0]
    assert p.subject == "1.2" and "late_points" in p.message


def test_bands_not_ordered(bundled: Copy) -> None:
    bundled.edit(R3, BANDS_323, BANDS_323.replace("{min: 1, points: 1.5}\n      - {min: 0.9,",
                                                  "{min: 0.9, points: 1.5}\n      - {min: 1,"))
    p = the(bundled.problems(), "bands_not_ordered")
    assert p.line == rule_line(bundled, R3, "3.2.3") and "highest" in (p.hint or "")


def test_top_band_not_max(bundled: Copy) -> None:
    bundled.edit(R3, BANDS_323, BANDS_323.replace("{min: 1, points: 1.5}", "{min: 1, points: 1.25}"))
    problems = bundled.problems()
    assert [p.code for p in problems] == ["top_band_not_max"]
    assert problems[0].subject == "3.2.3"


@pytest.mark.parametrize("template, hint", [("{mesured}", "có phải 'measured'? (did you mean 'measured'?)"), ("{measured", "{{")])
def test_bad_template(bundled: Copy, template: str, hint: str) -> None:
    bundled.edit(R3, 'explain: "Đồng bộ {measured}', f'explain: "Đồng bộ {template}')
    p = the(bundled.problems(), "bad_template")
    assert hint in (p.hint or "") and p.subject == "3.2.3"


def test_bad_redistribution(bundled: Copy) -> None:
    bundled.edit(R3, 'to: ["3.4.1"]', 'to: ["3.5.1"]')
    p = the(bundled.problems(), "bad_redistribution")
    assert p.subject == "3.4.3" and p.hint == "có phải '3.4.1'? (did you mean '3.4.1'?)"
    assert p.line == rule_line(bundled, R3, "3.4.3")


def test_redistribute_needs_targets(bundled: Copy) -> None:
    bundled.edit(R3, '      to: ["3.4.1"]\n', "")
    p = next(p for p in bundled.problems() if p.code != "missing_rule")
    assert "redistribute" in p.message and p.subject == "3.4.3"


@pytest.mark.parametrize("old, new", [
    ("{evidence: tasks_done_rate, op: ge, value: 1,", "{evidence: tasks_done_rate, op: on_or_before, value: 1,"),
    ("{evidence: plan_carried_out, op: eq, value: true,", "{evidence: plan_carried_out, op: ge, value: 1,"),
    ("{evidence: plan_issued_on, op: on_or_before, value_from: plan_deadline,",
     "{evidence: plan_issued_on, op: ge, value_from: plan_deadline,"),
])
def test_operator_type(bundled: Copy, old: str, new: str) -> None:
    bundled.edit(R1, old, new)
    p = only(bundled.problems(), "operator_type")[0]
    assert p.subject in ("1.1", "1.4")
    assert p.line == rule_line(bundled, R1, p.subject)


def test_rules_file_for_another_criteria_set(bundled: Copy) -> None:
    bundled.edit(R3, "criteria_set: cap-so-2025", "criteria_set: cap-so-2026")
    p = the(bundled.problems(), "wrong_criteria_set")
    assert p.line == bundled.line(R3, "criteria_set: cap-so-2026")


def test_not_a_rules_file(bundled: Copy) -> None:
    bundled.path(R3).write_text("- just\n- a list\n", encoding="utf-8")
    assert the(bundled.problems(), "not_a_rules_file").file == bundled.file(R3)


def test_required_key_missing(bundled: Copy) -> None:
    bundled.edit(R3, '    explain: "Đồng bộ {measured}', '    explainn: "Đồng bộ {measured}')
    problems = bundled.problems()
    assert "missing" in [p.code for p in problems] and "extra_forbidden" in [p.code for p in problems]
    assert the(problems, "extra_forbidden").hint == "có phải 'explain'? (did you mean 'explain'?)"


# ------------------------------------------------------------------ all problems at once, with lines


def test_three_mistakes_give_three_problems_with_their_lines() -> None:
    rules = FIXTURES / "broken" / "rules" / "broken-2025" / "rules.yaml"
    with pytest.raises(DefinitionError) as info:
        load_bundle(FIXTURES / "broken" / "criteria", FIXTURES / "broken" / "rules")
    problems = info.value.problems
    assert [(p.code, p.subject, p.line) for p in problems] == [
        ("bad_template", "1.1", 4), ("bands_not_ordered", "1.2", 13), ("top_band_not_max", "1.3", 25)]
    assert all(p.format().startswith(f"{rules}:{p.line}: {p.subject}: {p.code}: ") for p in problems)
    assert str(info.value).count("\n") == 2


def test_mistakes_in_several_files_are_all_reported(bundled: Copy) -> None:
    bundled.edit(R1, "kind: deadline", "kind: dealine")
    bundled.edit(R3, 'to: ["3.4.1"]', 'to: ["3.5.1"]')
    bundled.edit(R3, 'explain: "Đồng bộ {measured}', 'explain: "Đồng bộ {mesured}')
    problems = bundled.problems()
    codes = sorted(p.code for p in problems if p.code != "missing_rule")
    assert codes == ["bad_redistribution", "bad_template", "unknown_kind"]
    assert {p.file for p in problems if p.code != "missing_rule"} == {bundled.file(R1), bundled.file(R3)}
    assert all(p.line for p in problems if p.code != "missing_rule")


# ------------------------------------------------------------------ YAML and file problems


def yaml_problem(path: Path) -> Problem:
    with pytest.raises(InputError) as info:
        load_yaml(path)
    assert len(info.value.problems) == 1
    return info.value.problems[0]


def test_yaml_syntax_in_a_rules_file(bundled: Copy) -> None:
    bundled.edit(R3, "    value: synced_rate\n", "    value: [synced_rate\n")
    problems = bundled.problems()
    p = the(problems, "yaml_syntax")
    assert p.file == bundled.file(R3)
    assert bundled.line(R3, "value: [synced_rate") <= (p.line or 0) <= bundled.line(R3, "value: [synced_rate") + 1
    assert {m.subject for m in only(problems, "missing_rule")} >= {"3.1", "3.4.1"}  # the whole file is unread


def test_yaml_syntax_bad_indentation(tmp_path: Path) -> None:
    path = tmp_path / "x.yaml"
    path.write_text("a: 1\nb:\n  c: 2\n d: 3\n", encoding="utf-8")
    p = yaml_problem(path)
    assert p.code == "yaml_syntax" and p.line == 4


def test_duplicate_yaml_key(tmp_path: Path) -> None:
    path = tmp_path / "x.yaml"
    path.write_text("a: 1\nb: 2\na: 3\n", encoding="utf-8")
    p = yaml_problem(path)
    assert p.line == 3 and "'a'" in p.message


@pytest.mark.parametrize("tag", ["!!python/object/apply:os.system", "!!python/object/new:os.system",
                                 "!!python/name:os.system", "!custom"])
def test_unsafe_tag_runs_no_code(tmp_path: Path, tag: str) -> None:
    marker = tmp_path / "pwned"
    path = tmp_path / "x.yaml"
    path.write_text(f"a: 1\nb: {tag} [\"touch {marker}\"]\n", encoding="utf-8")
    p = yaml_problem(path)
    assert p.code == "unsafe_tag" and p.line == 2
    assert not marker.exists()


def test_unsafe_tag_in_rules_file(bundled: Copy) -> None:
    marker = bundled.root / "pwned"
    bundled.edit(R3, "    value: synced_rate\n", f'    value: !!python/object/apply:os.system ["touch {marker}"]\n')
    p = the(bundled.problems(), "unsafe_tag")
    assert p.line == bundled.line(R3, "python/object")
    assert not marker.exists()


def test_bad_encoding_cp1258(tmp_path: Path) -> None:
    path = tmp_path / "criteria.yaml"
    text = "id: x\ntitle: Cải cách hành chính\n"
    path.write_bytes(unicodedata.normalize("NFD", text).encode("cp1258"))
    p = yaml_problem(path)
    assert p.code == "bad_encoding" and p.line == 2 and "UTF-8" in (p.hint or "")


def test_bad_encoding_in_criteria_file(bundled: Copy) -> None:
    path = bundled.path(CRITERIA)
    path.write_bytes(unicodedata.normalize("NFD", path.read_text(encoding="utf-8")).encode("cp1258", "replace"))
    with pytest.raises(ParindexError) as info:
        load_bundle(bundled.root / "criteria", bundled.root / "rules", "cap-so-2025")
    assert [p.code for p in info.value.problems] == ["bad_encoding"]


def test_utf8_bom_is_fine(tmp_path: Path) -> None:
    path = tmp_path / "x.yaml"
    path.write_bytes("\ufeffa: Cải cách\n".encode())
    assert load_yaml(path) == {"a": "Cải cách"}


@pytest.mark.parametrize("content", [b"", b"   \n\n", b"# only a comment\n"])
def test_empty_file(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "x.yaml"
    path.write_bytes(content)
    assert yaml_problem(path).code == "empty_file"


def test_binary_file(tmp_path: Path) -> None:
    path = tmp_path / "x.yaml"
    path.write_bytes(b"PK\x03\x04\x00\x00\x08\x00" + bytes(range(256)))
    assert yaml_problem(path).code == "binary_file"


def test_file_too_large(tmp_path: Path) -> None:
    path = tmp_path / "x.yaml"
    path.write_bytes(b"a: '" + b"x" * MAX_BYTES + b"'\n")
    p = yaml_problem(path)
    assert p.code == "file_too_large" and f"{MAX_BYTES:,}" in p.message


def test_too_deep(tmp_path: Path) -> None:
    path = tmp_path / "x.yaml"
    path.write_text("a: " + "[" * (MAX_DEPTH + 5) + "]" * (MAX_DEPTH + 5) + "\n", encoding="utf-8")
    assert yaml_problem(path).code == "too_deep"


def test_deep_but_allowed(tmp_path: Path) -> None:
    path = tmp_path / "x.yaml"
    path.write_text("a: " + "[" * (MAX_DEPTH - 2) + "]" * (MAX_DEPTH - 2) + "\n", encoding="utf-8")
    assert isinstance(load_yaml(path), dict)


def test_too_many_aliases(tmp_path: Path) -> None:
    path = tmp_path / "x.yaml"
    path.write_text("a: &x 1\nb: [" + ", ".join(["*x"] * (MAX_ALIASES + 1)) + "]\n", encoding="utf-8")
    p = yaml_problem(path)
    assert p.code == "too_many_aliases" and p.line == 2


def test_file_not_found(tmp_path: Path) -> None:
    missing = tmp_path / "nope.yaml"
    for load in (load_yaml, load_criteria, load_evidence):
        with pytest.raises(InputError) as info:
            load(missing)
        assert [p.code for p in info.value.problems] == ["file_not_found"]
        assert info.value.problems[0].file == str(missing)


def test_folder_not_found(tmp_path: Path) -> None:
    with pytest.raises(DefinitionError) as info:
        load_bundle(tmp_path / "no-criteria", tmp_path / "no-rules")
    assert info.value.problems[0].code == "folder_not_found"


def test_unknown_criteria_set(bundled: Copy) -> None:
    with pytest.raises(DefinitionError) as info:
        load_bundle(bundled.root / "criteria", bundled.root / "rules", "cap-so-2052")
    p = info.value.problems[0]
    assert p.code == "unknown_criteria_set" and p.hint == "có phải 'cap-so-2025'? (did you mean 'cap-so-2025'?)"


def test_loading_changes_no_file(bundled: Copy) -> None:
    before = {p: p.read_bytes() for p in bundled.root.rglob("*") if p.is_file()}
    bundled.edit(R3, "kind: threshold", "kind: treshold")
    before[bundled.path(R3)] = bundled.path(R3).read_bytes()
    bundled.problems()
    after = {p: p.read_bytes() for p in bundled.root.rglob("*") if p.is_file()}
    assert after == before


def test_impossible_iso_date_in_rules(kinds: Copy) -> None:
    kinds.edit(KINDS, "due: 2025-03-15}", "due: 2025-02-30}")
    problems = kinds.problems()
    p = next(p for p in problems if p.code != "missing_rule")
    assert p.line == kinds.line(KINDS, "2025-02-30")
    assert "2025-02-30" in p.message


# ------------------------------------------------------------------ thresholds durable-rules can hold exactly


KINDS_11_BANDS = "      - {min: 0.9, points: 2}\n      - {min: 0.5, points: 1}\n    else_points: 0.25"


@pytest.mark.parametrize("bands", [
    "      - {min: 0.98, points: 2}\n      - {min: 0.97999999999999999999, points: 1}\n    else_points: 0.25",
    "      - {min: 0.9, points: 2}\n      - {min: 0.0001, points: 1}\n    else_points: 0.25",
])
def test_threshold_precision(kinds: Copy, bands: str) -> None:
    kinds.edit(KINDS, KINDS_11_BANDS, bands)
    p = the(kinds.problems(), "threshold_precision")
    assert p.subject == "1.1" and p.line == rule_line(kinds, KINDS, "1.1") and p.hint


def test_threshold_of_a_tenth_of_a_percent_is_fine(kinds: Copy) -> None:
    kinds.edit(KINDS, KINDS_11_BANDS, KINDS_11_BANDS.replace("min: 0.5,", "min: 0.001,"))
    load_bundle(kinds.root / "criteria", kinds.root / "rules").close()
