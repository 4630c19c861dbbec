"""Table styling: rates coloured against the parent region's value."""
from __future__ import annotations

from typing import Any

import pandas as pd
import streamlit as st
from pandas.io.formats.style import Styler
from streamlit.elements.lib.column_types import ColumnConfig

from data_access.reference.problems import DataRejected
from metrics.registry import METRICS_BY_ID, Direction, MetricKind
from metrics.warnings import Colour

WORSE_BG = "background-color: #F6D7B0"  # light orange
BETTER_BG = "background-color: #CFE3F3"  # light blue


def percent_points(data: pd.DataFrame | pd.Series, metric_ids: tuple[str, ...]) -> pd.DataFrame | pd.Series:
    """A copy with every rate multiplied by 100, for display with percent_column_config's one decimal."""
    out = data.copy()
    present = out.index if isinstance(out, pd.Series) else out.columns
    for mid in metric_ids:
        if METRICS_BY_ID[mid].kind is MetricKind.RATE and mid in present:
            out[mid] = out[mid] * 100
    return out


def percent_column_config(metric_id: str) -> ColumnConfig:
    """Column config for a metric in st.dataframe (rates as %, counts as integers)."""
    m = METRICS_BY_ID[metric_id]
    match m.kind:
        case MetricKind.RATE:
            # values are shown as percentage points (see percent_points): one decimal, like the KPI cards
            return st.column_config.NumberColumn(m.label, help=m.definition, format="%.1f%%")
        case MetricKind.AVERAGE:
            return st.column_config.NumberColumn(m.label, help=m.definition, format="%.1f 天")
        case MetricKind.COUNT:
            return st.column_config.NumberColumn(m.label, help=m.definition, format="localized")
    raise AssertionError(metric_id)



def metric_table(frame: pd.DataFrame, metric_ids: tuple[str, ...], parent: pd.Series | None = None) -> pd.DataFrame | Styler:
    """The frame ready for st.dataframe: rates in percentage points, coloured against `parent` if given."""
    shown = percent_points(frame, metric_ids)
    if parent is None:
        return shown
    return highlight_against_parent(shown, percent_points(parent, metric_ids), metric_ids)


def highlight_against_parent(frame: pd.DataFrame, parent: pd.Series, metric_ids: tuple[str, ...]) -> Styler:
    """Colour each rate cell worse (orange) or better (blue) than the parent's value; others untouched."""

    def colour(column: pd.Series) -> list[str]:
        m = METRICS_BY_ID.get(column.name)
        if m is None or m.kind is not MetricKind.RATE or m.direction is Direction.NEUTRAL:
            return [""] * len(column)
        ref = parent[column.name]
        if ref is None or ref != ref:
            return [""] * len(column)
        higher_better = m.direction is Direction.HIGHER_BETTER
        out = []
        for v in column:
            if v is None or v != v or v == ref:
                out.append("")
            else:
                out.append(BETTER_BG if (v > ref) == higher_better else WORSE_BG)
        return out

    return frame.style.apply(colour, subset=list(metric_ids))


# 三色预警 in a table: the colour's Chinese word (an emoji 🔴 draws as an empty box on Debian Chromium with Noto CJK)
# and the cell painted in that colour, light enough for black text
WARNING_LABELS = {Colour.RED.value: "红 · 已超期", Colour.YELLOW.value: "黄 · 临期", Colour.GREEN.value: "绿 · 未临期"}
WARNING_BG = {Colour.RED.value: "background-color: #F4C7C3", Colour.YELLOW.value: "background-color: #FCE8B2",
              Colour.GREEN.value: "background-color: #CDE9D6"}


def highlight_warnings(frame: pd.DataFrame, column: str) -> Styler:
    """The frame with its `column` of WARNING_LABELS painted in each label's colour."""
    paint = {label: WARNING_BG[colour] for colour, label in WARNING_LABELS.items()}
    return frame.style.map(lambda v: paint.get(v, ""), subset=[column])


MISSING = "—"


def show_table(data: pd.DataFrame | Styler, **kwargs: Any) -> Any:  # DataframeState with on_select, else DeltaGenerator
    """st.dataframe with an em dash for missing values (not "None") on every table of the app."""
    return st.dataframe(data, placeholder=MISSING, **kwargs)


def problems_frame(error: DataRejected) -> pd.DataFrame:
    """The problems of a refused import as a table (类别, 行, 列, 值, 问题), grouped by kind (the file's
    structure, its values, the uploader's scope, the database), each kind in row order."""
    return pd.DataFrame({
        "类别": [p.kind.label for p in error.problems],
        "行": pd.array([p.row for p in error.problems], dtype="Int64"),
        "列": [p.column or "（整个文件）" for p in error.problems],
        "值": [p.value if p.value is not None else "" for p in error.problems],
        "问题": [p.reason_zh for p in error.problems],
    })


def problem_counts(error: DataRejected) -> str:
    """How many problems of each kind, and how many of them the table lists."""
    parts = [f"{kind.label} {count:,} 个" + (f"（列出前 {len(listed)} 个）" if count > len(listed) else "")
             for kind, count, listed in error.groups()]
    return "按类别：" + "；".join(parts) + "。"


def show_rejection(error: DataRejected) -> None:
    """Why nothing was written."""
    st.error(f"导入被拒绝，数据库未作任何更改：共发现 {error.total:,} 个问题。请修改文件后重新导入。")
    st.caption(problem_counts(error))
    show_table(problems_frame(error), hide_index=True, width="stretch",
                 column_config={"行": st.column_config.NumberColumn("行", help="表格中的行号（表头为第 1 行）", format="%d")})
