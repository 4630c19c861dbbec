"""County choropleth with pydeck from the committed GeoJSON: no basemap, no request leaves the server.

`map_provider=None` draws only our layers; never pass map_style=None (Streamlit then fetches a
basemap style from the internet).

The borders between counties are gaps, not strokes: each county is drawn inset by half a border
width (at the map's initial zoom), so the white canvas shows between neighbours. A stroked
GeoJsonLayer adds deck.gl's PathLayer, whose shaders a browser without a usable GPU (software
WebGL, e.g. in a remote desktop or headless Chromium) compiles again on every first visit: it made
the overview about a second slower to draw there. One filled layer is one shader program.
"""
from __future__ import annotations

import copy
import json
import math
from functools import lru_cache
from pathlib import Path

import numpy as np
import pandas as pd
import pydeck as pdk

from data_access.reference.enums import Level
from data_access.reference.regions import boundaries_file
from presentation.choropleth import MapMeasure, colour_bins, legend_bins, measure_of
from presentation.palette import NO_DATA_RGB, RAMP

LAYER_ID = "counties"
BORDER_PX = 1.2  # width of the gap between neighbouring units, in screen pixels at the initial zoom
TILE_PX = 512  # deck.gl's world width in pixels at zoom 0


@lru_cache(maxsize=8)
def _load(path: Path) -> dict:
    return json.loads(path.read_text(encoding="utf-8"))


def boundaries(province: str, level: Level = Level.COUNTY, inset_for_zoom: float | None = None) -> dict | None:
    """The committed boundary GeoJSON of a province (None if there is none).

    With `inset_for_zoom`, every unit is shrunk by half of BORDER_PX as seen at that zoom, so that
    the units drawn side by side leave a border-wide gap (see the module's docstring).
    """
    path = boundaries_file(province, level)
    if path is None:
        return None
    return _inset(path, round(inset_for_zoom, 2)) if inset_for_zoom is not None else _load(path)


def fit_view(features: list[dict], width_px: int, height_px: int, padding: float = 0.06,
             step: float = 0.25) -> tuple[float, float, float]:
    """(longitude, latitude, zoom) showing every feature in a width x height map, with `padding`
    (a share of each side) around them. The zoom is rounded down to a multiple of `step`, so that
    views of similar regions share one inset geometry (see `boundaries`)."""
    xs, ys = [], []
    for feature in features:
        coordinates = np.asarray(_all_points(feature["geometry"]["coordinates"]), dtype=float)
        xs.append(coordinates[:, 0])
        ys.append(coordinates[:, 1])
    if not xs:
        raise ValueError("no features to fit")
    lon, lat = np.concatenate(xs), np.clip(np.concatenate(ys), -85.0, 85.0)
    x = (lon + 180) / 360  # Web Mercator, the world as a unit square
    y = (1 - np.log(np.tan(np.pi / 4 + np.radians(lat) / 2)) / np.pi) / 2
    span_x, span_y = max(float(np.ptp(x)), 1e-9), max(float(np.ptp(y)), 1e-9)
    usable = 1 - 2 * padding
    zoom = math.log2(min(width_px * usable / (TILE_PX * span_x), height_px * usable / (TILE_PX * span_y)))
    zoom = math.floor(zoom / step) * step
    centre_x, centre_y = (x.min() + x.max()) / 2, (y.min() + y.max()) / 2
    centre_lat = math.degrees(math.atan(math.sinh(math.pi * (1 - 2 * centre_y))))
    return round(float(centre_x) * 360 - 180, 5), round(centre_lat, 5), zoom


def _all_points(coordinates) -> list:
    """The [lon, lat] points of GeoJSON (Multi)Polygon coordinates, flattened."""
    if coordinates and isinstance(coordinates[0], (int, float)):
        return [coordinates]
    return [point for part in coordinates for point in _all_points(part)]


@lru_cache(maxsize=32)
def _inset(path: Path, zoom: float) -> dict:
    import shapely
    from shapely.geometry import MultiPolygon, Polygon, mapping, shape

    data = _load(path)
    shapes = [shape(feature["geometry"]) for feature in data["features"]]
    _, south, _, north = shapely.total_bounds(shapes)
    # Web Mercator pixels per degree near the province's middle latitude: a local linear map in
    # which a buffer distance is a distance on the screen.
    x_scale = TILE_PX * 2 ** zoom / 360
    y_scale = x_scale / math.cos(math.radians((south + north) / 2))

    def to_px(geometry):
        return shapely.affinity.scale(geometry, x_scale, y_scale, origin=(0, 0))

    def to_deg(geometry):
        return shapely.affinity.scale(geometry, 1 / x_scale, 1 / y_scale, origin=(0, 0))

    def polygons(geometry) -> list[Polygon]:
        return [p for p in getattr(geometry, "geoms", [geometry]) if isinstance(p, Polygon) and not p.is_empty]

    # Simplified boundaries overlap their neighbours a little: give each overlap to the unit listed
    # first, so that neighbours share their edges and the inset leaves the same gap everywhere.
    tree = shapely.STRtree(shapes)
    features = []
    for i, (feature, geometry) in enumerate(zip(data["features"], shapes, strict=True)):
        earlier = [shapes[j] for j in tree.query(geometry, predicate="intersects") if j < i]
        own = polygons(geometry.difference(shapely.union_all(earlier))) if earlier else polygons(geometry)
        shrunk = [p for part in own
                  for p in polygons(to_px(part).buffer(-BORDER_PX / 2, join_style="mitre", mitre_limit=2.0))]
        # parts narrower than the border vanish; a unit that would vanish whole is kept as it is
        kept = [to_deg(p) for p in shrunk] or own or polygons(geometry)
        inset = kept[0] if len(kept) == 1 else MultiPolygon(kept)
        inset = shapely.transform(inset, lambda xy: xy.round(5))
        features.append({"type": "Feature", "properties": dict(feature["properties"]), "geometry": mapping(inset)})
    return {"type": "FeatureCollection", "features": features}


def choropleth(geojson: dict, frame: pd.DataFrame, metric: str | MapMeasure, view_lon: float, view_lat: float,
               zoom: float = 6.0) -> pdk.Deck:
    """A pydeck Deck colouring each county by `metric` (a metric id or a MapMeasure; frame has code, name, its column)."""
    measure = measure_of(metric)
    values = frame.set_index("code")[measure.column]
    names = frame.set_index("code")["name"]
    idx, _ = colour_bins(values, measure)
    colour_of = {code: (list(RAMP[i]) if i >= 0 else list(NO_DATA_RGB)) for code, i in zip(values.index, idx, strict=True)}
    data = copy.deepcopy(geojson)
    for feature in data["features"]:
        code = feature["properties"]["code"]
        feature["properties"].update(
            fill=colour_of.get(code, list(NO_DATA_RGB)), value_text=measure.fmt(values.get(code)),
            metric_label=measure.label, display_name=str(names.get(code, feature["properties"].get("name", ""))))
    layer = pdk.Layer("GeoJsonLayer", data=data, id=LAYER_ID, pickable=True, stroked=False, filled=True,
                      get_fill_color="properties.fill", auto_highlight=True, highlight_color=[213, 94, 0, 200])
    return pdk.Deck(layers=[layer], map_provider=None,
                    initial_view_state=pdk.ViewState(longitude=view_lon, latitude=view_lat, zoom=zoom),
                    tooltip={"text": "{display_name}\n{metric_label}：{value_text}"})


def legend_items(frame: pd.DataFrame, metric: str | MapMeasure) -> list[tuple[str, str]]:
    """(css colour, range text) for each bin of the map's legend."""
    return [(f"rgb({r},{g},{b})", text) for (r, g, b), text in legend_bins(frame, metric)]


def selected_county(event: object) -> str | None:
    """The county code a click on the map selected, if any."""
    try:
        objects = event.selection["objects"].get(LAYER_ID) or []  # type: ignore[attr-defined]
    except (AttributeError, KeyError, TypeError):
        return None
    if objects:
        obj = objects[0]
        props = obj.get("properties", obj)
        return props.get("code")
    return None
