"""Country and US-state to sales-region lookup, loaded from the shipped CSV tables."""

import csv
from functools import cache
from pathlib import Path

DATA_DIR = Path(__file__).resolve().parent / "data"


def _read(name: str) -> list[dict[str, str]]:
    """Return the rows of a CSV file in the data directory."""
    with (DATA_DIR / name).open(newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


@cache
def _countries() -> dict[str, dict[str, str]]:
    """Return country rows keyed by upper-case alpha-2 code."""
    return {row["code"].upper(): row for row in _read("countries.csv")}


@cache
def _us_states() -> dict[str, str]:
    """Return US sub-regions keyed by upper-case state code and full name."""
    lookup: dict[str, str] = {}
    for row in _read("us_states.csv"):
        lookup[row["code"].upper()] = row["sub_region"]
        lookup[row["name"].upper()] = row["sub_region"]
    return lookup


def country_exists(code: str) -> bool:
    """Return True if code is a known ISO alpha-2 country code (case-insensitive)."""
    return (code or "").strip().upper() in _countries()


def region_for(country: str, state: str = "") -> tuple[str, str]:
    """Return (region, sub_region) for a country and, for the US, a state code or name."""
    row = _countries().get((country or "").strip().upper())
    if row is None:
        return ("", "")
    if row["code"] == "US":
        return (row["region"], _us_states().get((state or "").strip().upper(), ""))
    return (row["region"], row["sub_region"])


def country_names() -> dict[str, str]:
    """Return a mapping of alpha-2 code to official short English name."""
    return {code: row["name"] for code, row in _countries().items()}


@cache
def sub_regions() -> dict[str, list[str]]:
    """The sub-regions each region has in the shipped tables (a lead's sub-region is one of them)."""
    found: dict[str, set[str]] = {}
    for row in _countries().values():
        found.setdefault(row["region"], set()).update([row["sub_region"]] if row["sub_region"] else [])
    found.setdefault("amer", set()).update(row["sub_region"] for row in _read("us_states.csv") if row["sub_region"])
    return {region: sorted(names) for region, names in found.items()}
