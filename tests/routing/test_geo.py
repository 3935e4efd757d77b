import csv

import pytest

from routing import geo


def _rows(name: str) -> list[dict[str, str]]:
    with (geo.DATA_DIR / name).open(newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def test_country_table_has_all_249_unique_codes():
    rows = _rows("countries.csv")
    assert len(rows) == 249
    assert len({row["code"] for row in rows}) == 249
    assert len(geo.country_names()) == 249


def test_every_region_is_valid():
    for row in _rows("countries.csv"):
        assert row["region"] in {"amer", "emea", "apac"}, row


def test_us_states_table_has_51_rows():
    rows = _rows("us_states.csv")
    assert len(rows) == 51
    assert {row["sub_region"] for row in rows} == {"east", "west"}


@pytest.mark.parametrize(
    ("country", "state", "expected"),
    [
        ("US", "CA", ("amer", "west")),
        ("US", "New York", ("amer", "east")),
        ("us", "ny", ("amer", "east")),
        ("US", "", ("amer", "")),
        ("US", "Narnia", ("amer", "")),
        ("BR", "", ("amer", "latam")),
        ("MX", "", ("amer", "latam")),
        ("CA", "", ("amer", "east")),
        ("DE", "", ("emea", "")),
        ("ZA", "", ("emea", "")),
        ("AE", "", ("emea", "")),
        ("IN", "", ("apac", "")),
        ("AU", "", ("apac", "")),
        ("JP", "", ("apac", "")),
        ("ZZ", "", ("", "")),
    ],
)
def test_region_for(country: str, state: str, expected: tuple[str, str]):
    assert geo.region_for(country, state) == expected


def test_country_exists_is_case_insensitive():
    assert geo.country_exists("de")
    assert geo.country_exists("DE")
    assert not geo.country_exists("ZZ")
    assert not geo.country_exists("XK")


def test_country_names():
    names = geo.country_names()
    assert names["US"] == "United States"
    assert names["BO"] == "Bolivia, Plurinational State of"
