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
    for before, after in zip(original["features"], inset["features"], strict=True):
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


def _mercator_px(features: list[dict], zoom: float) -> tuple[float, float, float, float]:
    """Pixel bounds (x0, y0, x1, y1) of features in Web Mercator at `zoom`."""
    import numpy as np

    points = np.array([p for f in features for p in _points(f["geometry"]["coordinates"])])
    x = (points[:, 0] + 180) / 360 * TILE_PX * 2 ** zoom
    y = (1 - np.log(np.tan(np.pi / 4 + np.radians(points[:, 1]) / 2)) / np.pi) / 2 * TILE_PX * 2 ** zoom
    return x.min(), y.min(), x.max(), y.max()


def _points(coordinates) -> list:
    if isinstance(coordinates[0], (int, float)):
        return [coordinates]
    return [p for part in coordinates for p in _points(part)]


@pytest.mark.parametrize(("parent", "width", "height"), [(None, 1200, 620), ("370800", 760, 480), ("370811", 1200, 620)],
                         ids=["province", "city", "county"])
def test_fit_view_shows_every_unit_as_large_as_fits(original: dict, parent: str | None, width: int, height: int) -> None:
    from ui.geo import fit_view

    features = [f for f in original["features"]
                if parent is None or parent in (f["properties"]["parent_code"], f["properties"]["code"])]
    lon, lat, zoom = fit_view(features, width, height)
    assert zoom % 0.25 == 0
    x0, y0, x1, y1 = _mercator_px(features, zoom)
    assert x1 - x0 <= width * 0.88 + 1e-6 and y1 - y0 <= height * 0.88 + 1e-6  # inside the padding
    wider = _mercator_px(features, zoom + 0.25)
    assert wider[2] - wider[0] > width * 0.88 or wider[3] - wider[1] > height * 0.88  # one step more would not fit
    (cx, cy, _, _) = _mercator_px([{"geometry": {"coordinates": [lon, lat]}}], zoom)
    assert cx == pytest.approx((x0 + x1) / 2, abs=1) and cy == pytest.approx((y0 + y1) / 2, abs=1)


def test_fit_view_of_shandong_is_the_old_province_view(original: dict) -> None:
    from ui.geo import fit_view

    lon, lat, zoom = fit_view(original["features"], 1200, 620)
    assert zoom == 6.25 and 118 < lon < 119.5 and 36 < lat < 37
    with pytest.raises(ValueError):
        fit_view([], 1200, 620)
