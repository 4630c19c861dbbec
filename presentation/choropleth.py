"""What colours a choropleth: the measure, its quantile bins on the palette's ramp, and the legend's ranges.

Shared by the dashboard's pydeck map (ui/geo.py) and the leaders' brief drawn by matplotlib (reports/brief.py),
so a county has the same colour on the screen and on paper.
"""
from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from metrics.registry import METRICS_BY_ID, Direction

from .format import fmt_value
from .palette import RAMP

RGB = tuple[int, int, int]


@dataclass(frozen=True)
class MapMeasure:
    """What colours the map: a column of the units' frame, its label, its format, and whether high is good."""

    column: str
    label: str
    higher_better: bool
    fmt: Callable[[float | None], str]


def measure_of(metric: str | MapMeasure) -> MapMeasure:
    """A registry metric id as a map measure (a MapMeasure is returned as it is)."""
    if isinstance(metric, MapMeasure):
        return metric
    m = METRICS_BY_ID[metric]
    return MapMeasure(metric, m.label, m.direction is Direction.HIGHER_BETTER, functools.partial(fmt_value, metric))


def colour_bins(values: pd.Series, metric: str | MapMeasure, bins: int = len(RAMP)) -> tuple[np.ndarray, list[tuple[float, float]]]:
    """Index into RAMP per value (darker = worse), by quantiles of the values present; -1 for missing."""
    v = values.astype(float)
    present = v.dropna()
    if present.empty:
        return np.full(len(v), -1), []
    edges = np.unique(np.quantile(present, np.linspace(0, 1, bins + 1)))
    if len(edges) == 1:  # one unit (a county viewer's map), or every unit alike: one bin in the ramp's middle
        middle = len(RAMP) // 2
        return np.where(v.isna(), -1, middle), [(float(edges[0]), float(edges[0]))]
    idx = np.clip(np.searchsorted(edges, v, side="right") - 1, 0, max(len(edges) - 2, 0))
    if measure_of(metric).higher_better:
        idx = (len(edges) - 2) - idx  # a high rate is good: light
    scale = (len(RAMP) - 1) / max(len(edges) - 2, 1)
    idx = np.round(idx * scale).astype(int)
    idx = np.where(v.isna(), -1, idx)
    return idx, list(zip(edges[:-1], edges[1:], strict=True))


def legend_bins(frame: pd.DataFrame, metric: str | MapMeasure) -> list[tuple[RGB, str]]:
    """(ramp colour, range text) for each bin of a map's legend."""
    measure = measure_of(metric)
    idx, ranges = colour_bins(frame[measure.column], measure)
    n = len(ranges)
    if n == 1:  # a single value: its own colour, its value once
        lo, _ = ranges[0]
        return [(RAMP[int(idx[idx >= 0][0])], measure.fmt(lo))]
    scale = (len(RAMP) - 1) / max(n - 1, 1)
    out: list[tuple[RGB, str]] = []
    for i, (lo, hi) in enumerate(ranges):
        k = (n - 1 - i) if measure.higher_better else i
        out.append((RAMP[int(round(k * scale))], f"{measure.fmt(lo)} – {measure.fmt(hi)}"))
    return out
