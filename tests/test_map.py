"""The county map: borders drawn as gaps between inset units, one filled layer, no basemap."""
from __future__ import annotations

import json
import math

import pandas as pd
import pytest
import shapely
from shapely.geometry import shape

from ui.geo import BORDER_PX, LAYER_ID, TILE_PX, boundaries, choropleth

PROVINCE = "370000"
ZOOMS = (6.2, 8.0, 9.0)  # the overview's initial zoom for a province, a city and a county


def _screen(geometry, zoom: float, mid_lat: float):
    """`geometry` in Web Mercator pixels at `zoom`, linearised at `mid_lat` (as ui.geo does)."""
    x = TILE_PX * 2 ** zoom / 360
    return shapely.affinity.scale(geometry, x, x / math.cos(math.radians(mid_lat)), origin=(0, 0))


@pytest.fixture(scope="module")
def original() -> dict:
    data = boundaries(PROVINCE)
    assert data is not None
    return data


@pytest.fixture(scope="module")
def mid_lat(original: dict) -> float:
    _, south, _, north = shapely.total_bounds([shape(f["geometry"]) for f in original["features"]])
    return (south + north) / 2


@pytest.mark.parametrize("zoom", ZOOMS)
def test_inset_keeps_every_unit_and_its_properties(original: dict, zoom: float) -> None:
    inset = boundaries(PROVINCE, inset_for_zoom=zoom)
    assert [f["properties"] for f in inset["features"]] == [f["properties"] for f in original["features"]]
    assert len(inset["features"]) == 136
    for before, after in zip(original["features"], inset["features"]):
        a, b = shape(before["geometry"]), shape(after["geometry"])
        assert b.is_valid and not b.is_empty, before["properties"]["name"]
        assert a.buffer(1e-4).contains(b), before["properties"]["name"]  # 1e-4 degree: the rounding
        assert b.area < a.area


@pytest.mark.parametrize("zoom", ZOOMS)
def test_neighbours_are_a_border_apart_on_screen(original: dict, mid_lat: float, zoom: float) -> None:
    """Units that touch in the reference are BORDER_PX apart at the map's initial zoom."""
    inset = boundaries(PROVINCE, inset_for_zoom=zoom)
    shapes = [shape(f["geometry"]) for f in original["features"]]
    insets = [_screen(shape(f["geometry"]), zoom, mid_lat) for f in inset["features"]]
    gaps = [insets[i].distance(insets[j])
            for i in range(len(shapes)) for j in range(i + 1, len(shapes))
            if shapes[i].distance(shapes[j]) < 1e-6]
    assert len(gaps) > 300  # Shandong's counties have a few hundred shared borders
    # coordinates are rounded to 1e-5 degree (under 0.05 px even at zoom 9)
    assert min(gaps) > BORDER_PX - 0.1
    assert sorted(gaps)[len(gaps) // 2] == pytest.approx(BORDER_PX, abs=0.1)


def test_inset_is_cached_per_zoom() -> None:
    assert boundaries(PROVINCE, inset_for_zoom=8.0) is boundaries(PROVINCE, inset_for_zoom=8.0)
    assert boundaries(PROVINCE, inset_for_zoom=8.0) is not boundaries(PROVINCE, inset_for_zoom=6.2)


def test_unknown_province_has_no_map() -> None:
    assert boundaries("990000") is None
    assert boundaries("990000", inset_for_zoom=6.2) is None


def test_choropleth_is_one_filled_layer_without_strokes_or_basemap(original: dict) -> None:
    geojson = boundaries(PROVINCE, inset_for_zoom=6.2)
    codes = [f["properties"]["code"] for f in geojson["features"]]
    frame = pd.DataFrame({"code": codes, "name": [f["properties"]["name"] for f in geojson["features"]],
                          "on_time_rate": [None] + [0.5 + i / 1000 for i in range(len(codes) - 1)]})
    spec = json.loads(choropleth(geojson, frame, "on_time_rate", 118.0, 36.4, zoom=6.2).to_json())
    (layer,) = spec["layers"]
    assert layer["@@type"] == "GeoJsonLayer" and layer["id"] == LAYER_ID
    assert layer["stroked"] is False and layer["filled"] is True
    assert spec.get("mapProvider") is None  # no basemap (pydeck would name "carto")
    fills = {f["properties"]["code"]: f["properties"]["fill"] for f in layer["data"]["features"]}
    assert len(fills) == 136 and fills[codes[0]] != fills[codes[-1]]
    # the input GeoJSON is not modified (it is shared by every session through the cache)
    assert "fill" not in geojson["features"][0]["properties"]
