"""Value parsing and formatting: rates, counts, yes/no, dates, points, Vietnamese number display."""

from __future__ import annotations

import datetime as dt
import unicodedata
from decimal import Decimal
from fractions import Fraction
from pathlib import Path

import pytest

from scoring.core.evidence import (
    ValueError_,
    format_number,
    format_percent,
    format_value,
    parse_bool,
    parse_count,
    parse_date,
    parse_points,
    parse_rate,
    parse_value,
    to_fraction,
)
from scoring.analysis.explain import pts
from scoring.core.yamlio import YamlFloat, load_yaml


def yaml_value(tmp_path: Path, text: str) -> object:
    path = tmp_path / "v.yaml"
    path.write_text(f"x: {text}\n", encoding="utf-8")
    return load_yaml(path)["x"]


class TestRate:
    @pytest.mark.parametrize("raw, want", [
        ("98%", Fraction(49, 50)),
        ("98,5%", Fraction(197, 200)),
        ("98,5 %", Fraction(197, 200)),
        ("98.5%", Fraction(197, 200)),
        (" 98 % ", Fraction(49, 50)),
        ("49/50", Fraction(49, 50)),
        ("4900/5000", Fraction(49, 50)),
        (0.98, Fraction(49, 50)),
        ("0.98", Fraction(49, 50)),
        ("0,98", Fraction(49, 50)),
        (1, Fraction(1)),
        (0, Fraction(0)),
        ("100%", Fraction(1)),
        ("0%", Fraction(0)),
        (Fraction(11, 20), Fraction(11, 20)),
        (Decimal("0.55"), Fraction(11, 20)),
    ])
    def test_accepted_forms_are_exact(self, raw: object, want: Fraction) -> None:
        got = parse_rate(raw)
        assert isinstance(got, Fraction)
        assert got == want

    @pytest.mark.parametrize("raw", ["150", 150, 98, "101%", "-1%", -0.1, "abc", "5/0", "0/0", "3/2", True,
                                     "", "98%%", "nan", "inf", float("nan"), float("inf"), None])
    def test_refused(self, raw: object) -> None:
        with pytest.raises(ValueError_):
            parse_rate(raw)

    def test_error_says_how_to_write_a_rate(self) -> None:
        with pytest.raises(ValueError_) as info:
            parse_rate("150")
        assert "0–1" in str(info.value)
        assert info.value.hint and "98%" in info.value.hint

    def test_yaml_float_keeps_its_text(self, tmp_path: Path) -> None:
        value = yaml_value(tmp_path, "0.1")
        assert isinstance(value, YamlFloat) and value.raw == "0.1"
        assert parse_rate(value) == Fraction(1, 10)  # not the double 0.1000000000000000055…
        assert to_fraction(yaml_value(tmp_path, "0.98")) == Fraction(49, 50)


class TestCount:
    @pytest.mark.parametrize("raw, want", [(4900, 4900), ("4900", 4900), ("4 900", 4900), ("4\u00a0900", 4900),
                                           (4900.0, 4900), (0, 0), ("0", 0)])
    def test_accepted(self, raw: object, want: int) -> None:
        assert parse_count(raw) == want

    @pytest.mark.parametrize("raw", [-1, "-1", "hai", 4.5, True, False, "4.900", "4,900", "", None, "1e3"])
    def test_refused(self, raw: object) -> None:
        with pytest.raises(ValueError_):
            parse_count(raw)

    def test_vietnamese_thousands_dot_is_not_silently_4_9(self, tmp_path: Path) -> None:
        with pytest.raises(ValueError_) as info:
            parse_count(yaml_value(tmp_path, "4.900"))
        assert "4.900" in str(info.value)

    def test_negative_message(self) -> None:
        with pytest.raises(ValueError_) as info:
            parse_count(-6)
        assert "negative" in str(info.value)


class TestBool:
    @pytest.mark.parametrize("raw", [True, "có", "Có", "CÓ", "co", "yes", "true", "x", "đạt", 1, "1"])
    def test_true(self, raw: object) -> None:
        assert parse_bool(raw) is True

    @pytest.mark.parametrize("raw", [False, "không", "Không", "khong", "no", "false", "chưa", 0, "0"])
    def test_false(self, raw: object) -> None:
        assert parse_bool(raw) is False

    @pytest.mark.parametrize("raw", ["maybe", 2, "", None, 0.5])
    def test_refused(self, raw: object) -> None:
        with pytest.raises(ValueError_):
            parse_bool(raw)

    def test_nfd_text_in_a_file_is_normalised(self, tmp_path: Path) -> None:
        value = yaml_value(tmp_path, unicodedata.normalize("NFD", "không"))
        assert value == "không" and parse_bool(value) is False


class TestDate:
    @pytest.mark.parametrize("raw, want", [
        ("31/12/2025", dt.date(2025, 12, 31)),
        ("1/2/2025", dt.date(2025, 2, 1)),  # day first
        ("05/07/2025", dt.date(2025, 7, 5)),
        ("15.07.2025", dt.date(2025, 7, 15)),
        ("15-07-2025", dt.date(2025, 7, 15)),
        ("2025-12-31", dt.date(2025, 12, 31)),
        ("29/02/2024", dt.date(2024, 2, 29)),
        (dt.date(2025, 1, 31), dt.date(2025, 1, 31)),
        (dt.datetime(2025, 1, 31, 8, 30), dt.date(2025, 1, 31)),
    ])
    def test_accepted(self, raw: object, want: dt.date) -> None:
        assert parse_date(raw) == want

    @pytest.mark.parametrize("raw", ["31/02/2025", "29/02/2025", "2025-02-30", "12/31/2025", "00/01/2025",
                                     "hôm qua", "", 20251231, None, "31/12/25"])
    def test_refused(self, raw: object) -> None:
        with pytest.raises(ValueError_):
            parse_date(raw)

    def test_impossible_date_says_so(self) -> None:
        with pytest.raises(ValueError_) as info:
            parse_date("31/02/2025")
        assert "31/02/2025" in str(info.value)
        assert info.value.hint and "dd/mm/yyyy" in info.value.hint


class TestPointsAndNumbers:
    @pytest.mark.parametrize("raw, want", [("2.5", Decimal("2.5")), (2.75, Decimal("2.75")), (3, Decimal(3)),
                                           (Decimal("0.25"), Decimal("0.25")), ("2,5", Decimal("2.5"))])
    def test_points(self, raw: object, want: Decimal) -> None:
        got = parse_points(raw)
        assert isinstance(got, Decimal) and got == want

    @pytest.mark.parametrize("raw", [-1, "-0.5", Fraction(1, 3), "abc", True])
    def test_points_refused(self, raw: object) -> None:
        with pytest.raises(ValueError_):
            parse_points(raw)

    @pytest.mark.parametrize("kind, raw, want", [
        ("number", "84,6", Fraction(423, 5)),
        ("score", 84.6, Fraction(423, 5)),
        ("rate", "55%", Fraction(11, 20)),
        ("count", "20", 20),
        ("boolean", "không", False),
        ("date", "15/03/2025", dt.date(2025, 3, 15)),
        ("dated_items", {"Quý I": "15/03/2025", "Năm": ""}, {"Quý I": dt.date(2025, 3, 15), "Năm": None}),
    ])
    def test_parse_value_by_type(self, kind: str, raw: object, want: object) -> None:
        assert parse_value(kind, raw) == want  # type: ignore[arg-type]

    def test_dated_items_must_be_a_mapping(self) -> None:
        with pytest.raises(ValueError_):
            parse_value("dated_items", "15/03/2025")


class TestFormatting:
    @pytest.mark.parametrize("value, text", [(1204, "1.204"), (Fraction(3, 2), "1,5"), (Decimal("0.75"), "0,75"),
                                             (Fraction(1, 3), "0,33"), (12, "12"), (0, "0"),
                                             (1234567, "1.234.567")])
    def test_number(self, value: object, text: str) -> None:
        assert format_number(value) == text  # type: ignore[arg-type]

    @pytest.mark.parametrize("rate, text", [(Fraction(49, 50), "98%"), (Fraction(197, 200), "98,5%"),
                                            (Fraction(1204, 2310), "52,12%"), (Fraction(1), "100%"),
                                            (Fraction(0), "0%")])
    def test_percent(self, rate: Fraction, text: str) -> None:
        assert format_percent(rate) == text

    @pytest.mark.parametrize("kind, value, text", [("date", dt.date(2025, 7, 5), "05/07/2025"),
                                                   ("boolean", True, "có"), ("boolean", False, "không"),
                                                   ("rate", Fraction(11, 20), "55%"), ("count", 4900, "4.900"),
                                                   ("count", None, "không có")])
    def test_value(self, kind: str, value: object, text: str) -> None:
        assert format_value(kind, value) == text

    @pytest.mark.parametrize("value, text", [(Decimal("0.75"), "0,75"), (Decimal("12"), "12"),
                                             (Decimal("12.0"), "12"), (Decimal("1.5"), "1,5"), (None, "–")])
    def test_pts(self, value: Decimal | None, text: str) -> None:
        assert pts(value) == text
