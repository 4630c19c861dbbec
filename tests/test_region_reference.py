"""Checks of the committed Shandong region reference (data_access/reference/370000)."""
from __future__ import annotations

import csv
import json
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

REFERENCE = Path(__file__).resolve().parent.parent / "data_access" / "reference" / "370000"
PARENT_LEVEL = {"city": "province", "county": "city"}
LON_RANGE = (114.5, 123.0)
LAT_RANGE = (34.0, 38.5)
MAX_GEOJSON_BYTES = 1_500_000


@pytest.fixture(scope="module")
def regions() -> list[dict[str, str]]:
    """Rows of regions.csv."""
    with (REFERENCE / "regions.csv").open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


@pytest.fixture(scope="module")
def by_code(regions: list[dict[str, str]]) -> dict[str, dict[str, str]]:
    """Rows of regions.csv keyed by code."""
    return {row["code"]: row for row in regions}


def load_geojson(name: str) -> dict[str, Any]:
    """Parse one committed GeoJSON file."""
    return json.loads((REFERENCE / name).read_text(encoding="utf-8"))


def test_header(regions: list[dict[str, str]]) -> None:
    """regions.csv has exactly the data-contract columns."""
    assert list(regions[0]) == ["code", "name", "level", "parent_code", "lon", "lat"]


def test_level_counts(regions: list[dict[str, str]]) -> None:
    """Shandong has 1 province, 16 cities and 136 county-level units."""
    assert Counter(row["level"] for row in regions) == {"province": 1, "city": 16, "county": 136}


def test_codes_unique_six_digits_sorted(regions: list[dict[str, str]]) -> None:
    """Codes are unique 6-digit strings in sorted order."""
    codes = [row["code"] for row in regions]
    assert len(codes) == len(set(codes))
    assert all(len(code) == 6 and code.isdigit() for code in codes)
    assert codes == sorted(codes)


def test_province_row(by_code: dict[str, dict[str, str]]) -> None:
    """The province row is 370000 with no parent."""
    assert by_code["370000"]["level"] == "province"
    assert by_code["370000"]["parent_code"] == ""


def test_parents_one_level_up(regions: list[dict[str, str]], by_code: dict[str, dict[str, str]]) -> None:
    """Every parent_code exists and is one level up."""
    for row in regions:
        if row["level"] == "province":
            continue
        parent = by_code.get(row["parent_code"])
        assert parent is not None, row
        assert parent["level"] == PARENT_LEVEL[row["level"]], row


def test_points_inside_shandong_box(regions: list[dict[str, str]]) -> None:
    """Every label point lies in Shandong's bounding box."""
    for row in regions:
        lon, lat = float(row["lon"]), float(row["lat"])
        assert LON_RANGE[0] <= lon <= LON_RANGE[1], row
        assert LAT_RANGE[0] <= lat <= LAT_RANGE[1], row


@pytest.mark.parametrize(("name", "level"), [("counties.geojson", "county"), ("cities.geojson", "city")])
def test_geojson_matches_regions(
    regions: list[dict[str, str]], by_code: dict[str, dict[str, str]], name: str, level: str
) -> None:
    """Each unit of a level has exactly one feature with the same code, name and parent, and vice versa."""
    features = load_geojson(name)["features"]
    feature_codes = Counter(feature["properties"]["code"] for feature in features)
    assert all(count == 1 for count in feature_codes.values())
    assert set(feature_codes) == {row["code"] for row in regions if row["level"] == level}
    for feature in features:
        props = feature["properties"]
        assert set(props) == {"code", "name", "parent_code"}
        row = by_code[props["code"]]
        assert (props["name"], props["parent_code"]) == (row["name"], row["parent_code"])
        assert feature["geometry"]["type"] in {"Polygon", "MultiPolygon"}


def test_counties_geojson_size() -> None:
    """The county boundaries stay small enough to ship and render."""
    assert (REFERENCE / "counties.geojson").stat().st_size < MAX_GEOJSON_BYTES


def test_homonymous_counties(by_code: dict[str, dict[str, str]]) -> None:
    """市中区 exists in both Jinan and Zaozhuang, told apart only by code and parent."""
    jinan, zaozhuang = by_code["370103"], by_code["370402"]
    assert jinan["name"] == zaozhuang["name"] == "市中区"
    assert (jinan["parent_code"], zaozhuang["parent_code"]) == ("370100", "370400")
