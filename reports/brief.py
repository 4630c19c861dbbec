"""领导简报: the 总览 of one region on one A4 portrait page (PDF or PNG), drawn by matplotlib with a CJK font.

It only draws metrics.brief.BriefFacts: the KPI cards with their change, the 三色预警, the county map (the committed
boundaries, coloured as the dashboard's map colours them: presentation.choropleth), the units below ranked and the
重点督导 list. The PDF embeds its font (TrueType/CID, subset) so its text can be read and searched.
"""
from __future__ import annotations

import io
import json
import math
from pathlib import Path

import matplotlib
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.patches import Patch, Polygon

from data_access.reference.enums import Level
from data_access.reference.regions import boundaries_file
from metrics.brief import HEADLINE_METRICS, MIN_DUE_TO_RANK, RANKING_METRIC, BriefFacts
from metrics.periods import describe
from metrics.priority import PriorityStatus
from metrics.registry import METRICS_BY_ID
from metrics.request import Period
from presentation.choropleth import colour_bins, legend_bins, measure_of
from presentation.format import delta_color, filter_parts, fmt_delta, fmt_value, pct, shown_change
from presentation.palette import BLUE, GREEN, GREY, NO_DATA_RGB, ORANGE, RAMP, VERMILLION

from .charts import MISSING_FONT, CJKFontMissing, cjk_style, missing_glyphs

A4_INCHES = (210 / 25.4, 297 / 25.4)
PNG_DPI = 150  # 1240 x 1754 pixels: sharp on a phone, small enough for a message
PRIORITY_ROWS = 8  # the list's rows on the page; the rest are counted
PDF, PNG = "pdf", "png"
FORMATS = (PDF, PNG)
INK = "#333333"


def brief_title(facts: BriefFacts) -> str:
    """{地区}信访举报督导简报."""
    return f"{facts.region_name}信访举报督导简报"


def brief_name(region_name: str, period: Period, fmt: str) -> str:
    """The file name of a brief: 督导简报_{地区}_{统计期}.{pdf|png}."""
    return f"督导简报_{region_name}_{period.start:%Y%m%d}-{period.end:%Y%m%d}.{fmt}"


def _filters_text(facts: BriefFacts) -> str:
    parts = filter_parts(facts.filters)
    return "　筛选：" + "；".join(parts) if parts else ""


def _header(fig: Figure, facts: BriefFacts) -> None:
    fig.text(0.5, 0.972, brief_title(facts), ha="center", va="top", fontsize=20, fontweight="bold", color=INK)
    before = facts.previous_period
    fig.text(0.5, 0.938, f"统计期：{describe(facts.period)}　变化为与上一期（{before.start} 至 {before.end}）相比"
             + _filters_text(facts), ha="center", va="top", fontsize=8.5, color=INK)


def _change_colour(metric_id: str, change: float | None) -> str:
    """Green for an improvement, vermillion for a worsening, grey when neutral or unchanged."""
    direction = delta_color(metric_id)
    if change is None or change == 0 or direction == "off":
        return GREY
    return GREEN if (change > 0) == (direction == "normal") else VERMILLION


def _kpi_cards(fig: Figure, facts: BriefFacts) -> None:
    """The 总览's cards, three to a row: label, value, change against the period before."""
    columns, width, height, top = 3, 0.29, 0.08, 0.92
    for i, metric_id in enumerate(HEADLINE_METRICS):
        x = 0.05 + (i % columns) * (width + 0.02)
        y = top - (i // columns + 1) * (height + 0.012)
        ax = fig.add_axes((x, y, width, height))
        ax.set_xticks([])
        ax.set_yticks([])
        for spine in ax.spines.values():
            spine.set_visible(True)
            spine.set_color("#CCCCCC")
        now, before = facts.current[metric_id], facts.previous[metric_id]
        ax.text(0.06, 0.8, METRICS_BY_ID[metric_id].label, fontsize=10, color=INK, va="center", transform=ax.transAxes)
        ax.text(0.06, 0.47, fmt_value(metric_id, now), fontsize=20, fontweight="bold", color=INK, va="center",
                transform=ax.transAxes)
        delta = fmt_delta(metric_id, now, before)
        ax.text(0.06, 0.15, "较上一期无可比数据" if delta is None else f"较上一期 {delta}", fontsize=8.5, va="center",
                color=_change_colour(metric_id, shown_change(metric_id, now, before)), transform=ax.transAxes)


def _warning_strip(fig: Figure, facts: BriefFacts) -> None:
    """三色预警 in three coloured boxes, as the 总览's badges read."""
    tally = facts.warnings
    fig.text(0.05, 0.727, f"三色预警（截至 {tally.as_of} 在办的检举控告件）", fontsize=11, fontweight="bold", color=INK,
             va="center")
    boxes = ((f"红 · 已超期 {tally.red:,} 件", VERMILLION),
             (f"黄 · {tally.workdays} 个工作日内到期 {tally.yellow:,} 件", ORANGE),
             (f"绿 · 未临期 {tally.green:,} 件", GREEN))
    for i, (text, colour) in enumerate(boxes):
        fig.text(0.05 + i * 0.31 + 0.145, 0.695, text, ha="center", va="center", fontsize=11, color="white",
                 fontweight="bold", bbox={"boxstyle": "round,pad=0.5", "facecolor": colour, "edgecolor": colour})


def _rings(geometry: dict) -> list[list[list[float]]]:
    """The outer rings of a GeoJSON Polygon or MultiPolygon."""
    polygons = [geometry["coordinates"]] if geometry["type"] == "Polygon" else geometry["coordinates"]
    return [polygon[0] for polygon in polygons]


def _area(ring: list[list[float]]) -> float:
    return abs(sum(x0 * y1 - x1 * y0 for (x0, y0), (x1, y1) in zip(ring, ring[1:] + ring[:1], strict=True))) / 2


def _colour(rgb: tuple[int, int, int]) -> tuple[float, float, float]:
    r, g, b = rgb
    return r / 255, g / 255, b / 255


def _county_map(ax: Axes, facts: BriefFacts) -> None:
    """The region's counties coloured by RANKING_METRIC, larger shapes first (a district inside a county stays seen)."""
    measure = measure_of(RANKING_METRIC)
    ax.set_title(f"县（市、区）{measure.label}分布", fontsize=11, fontweight="bold", color=INK, loc="left")
    ax.set_axis_off()
    ax.set_anchor("N")  # the shape keeps its aspect: it hangs under its title
    path: Path | None = boundaries_file(facts.province, Level.COUNTY)
    counties = facts.counties
    if path is None or counties.empty:
        ax.text(0.5, 0.5, "未配置本省的县界数据" if path is None else "没有可绘制的县（市、区）", ha="center", va="center",
                fontsize=11, color=GREY, transform=ax.transAxes)
        return
    idx, _ = colour_bins(counties[RANKING_METRIC], measure)
    fill = {code: RAMP[i] if i >= 0 else NO_DATA_RGB for code, i in zip(counties["code"], idx, strict=True)}
    features = [f for f in json.loads(path.read_text(encoding="utf-8"))["features"] if f["properties"]["code"] in fill]
    shapes = sorted(((ring, fill[f["properties"]["code"]]) for f in features for ring in _rings(f["geometry"])),
                    key=lambda shape: -_area(shape[0]))
    for ring, rgb in shapes:
        ax.add_patch(Polygon(ring, closed=True, facecolor=_colour(rgb), edgecolor="white", linewidth=0.4))
    ax.autoscale_view()
    lats = [y for ring, _ in shapes for _, y in ring]
    ax.set_aspect(1 / math.cos(math.radians((min(lats) + max(lats)) / 2)))
    handles = [Patch(facecolor=_colour(rgb), label=text) for rgb, text in legend_bins(counties, measure)]
    if counties[RANKING_METRIC].isna().any():
        handles.append(Patch(facecolor=_colour(NO_DATA_RGB), label="无应办结件"))
    ax.legend(handles=handles, loc="upper center", bbox_to_anchor=(0.5, 0.0), ncols=2, fontsize=7.5, frameon=False,
              title="颜色越深越需关注", title_fontsize=7.5)


def _ranking(ax: Axes, facts: BriefFacts) -> None:
    """The units below by RANKING_METRIC, best ranked first; units with few due cases grey, after them."""
    label = METRICS_BY_ID[RANKING_METRIC].label
    if facts.unit_level is None:
        ax.set_axis_off()
        ax.text(0.5, 0.5, "县级无下级单位排名", ha="center", va="center", fontsize=11, color=GREY, transform=ax.transAxes)
        return
    ax.set_title(f"各{facts.unit_level.label}{label}排名", fontsize=11, fontweight="bold", color=INK, loc="right")
    units = facts.units
    ys = range(len(units))
    bars = ax.barh(list(ys), units[RANKING_METRIC].fillna(0), height=0.7,
                   color=[BLUE if ranked else GREY for ranked in units["ranked"]])
    values = ax.bar_label(bars, labels=[pct(v) for v in units[RANKING_METRIC]], padding=2, fontsize=8, color=INK)
    for value in values:  # readable where the region's dashed line crosses it
        value.set_bbox({"facecolor": "white", "edgecolor": "none", "pad": 0.6})
        value.set_zorder(3)
    ax.set_yticks(list(ys), list(units["name"]), fontsize=8.5)
    ax.invert_yaxis()
    ax.set_xlim(0, 1.22)
    ax.set_xticks([0, 0.5, 1.0])
    ax.xaxis.set_major_formatter(matplotlib.ticker.PercentFormatter(xmax=1.0, decimals=0))
    ax.tick_params(axis="x", labelsize=8)
    if (whole := facts.current[RANKING_METRIC]) == whole:  # not NaN
        ax.axvline(whole, color=VERMILLION, linestyle="--", linewidth=1.2)
    ax.set_xlabel(f"虚线为{facts.region_name}整体（{pct(whole)}）\n灰色为应办结件不足 {MIN_DUE_TO_RANK} 件，不参与排名",
                  fontsize=7.5, color=INK)


def _priority_list(ax: Axes, facts: BriefFacts) -> None:
    """The 重点督导 and 关注 counties of the rolling test, worst first, as a table."""
    window = facts.priority_window
    ax.set_axis_off()
    ax.set_title(f"重点督导县（近 {window.start} 至 {window.end} 滚动检验）", fontsize=11, fontweight="bold", color=INK,
                 loc="left")
    flagged = facts.priority
    if flagged.empty:
        ax.text(0.0, 0.8, "没有列为重点督导或关注的县（市、区）。", fontsize=10, color=INK, transform=ax.transAxes)
        return
    shown = flagged.head(PRIORITY_ROWS)
    labels = {s.value: s.label for s in PriorityStatus}
    rows = [[labels[r.status], str(r.name), str(r.city_name), pct(r.first_on_time_rate), pct(r.leapfrog_rate)]
            for r in shown.itertuples()]
    table = ax.table(cellText=rows, colLabels=["状态", "县（市、区）", "所属市", "初次举报按期办结率", "越级举报率"],
                     loc="upper left", cellLoc="center", colWidths=[0.14, 0.22, 0.18, 0.26, 0.2])
    table.auto_set_font_size(False)
    table.set_fontsize(9)
    table.scale(1, 1.25)
    for (row, _), cell in table.get_celld().items():
        cell.set_edgecolor("#CCCCCC")
        if row == 0:
            cell.set_facecolor("#EEEEEE")
    if len(flagged) > PRIORITY_ROWS:  # on the title's line: below the table it ran into the page's footer
        ax.set_title(f"列出前 {PRIORITY_ROWS} 个，另有 {len(flagged) - PRIORITY_ROWS} 个见看板“重点督导县”页", fontsize=8.5,
                     color=INK, loc="right")


def _footer(fig: Figure) -> None:
    fig.text(0.5, 0.018, "数字与信访举报督导看板“总览”页一致（同一统计期、同一截止日期）；各指标口径见看板“指标口径”页。",
             ha="center", va="bottom", fontsize=7.5, color=GREY)


def brief_figure(facts: BriefFacts) -> Figure:
    """The brief as one A4 portrait figure (built under the CJK style)."""
    with cjk_style():
        fig = Figure(figsize=A4_INCHES)
        _header(fig, facts)
        _kpi_cards(fig, facts)
        _warning_strip(fig, facts)
        _county_map(fig.add_axes((0.04, 0.31, 0.56, 0.34)), facts)
        _ranking(fig.add_axes((0.73, 0.3, 0.24, 0.35)), facts)
        _priority_list(fig.add_axes((0.05, 0.04, 0.9, 0.17)), facts)
        _footer(fig)
    return fig


def _metadata(facts: BriefFacts, fmt: str) -> dict[str, str | None]:
    """The file's title; no creation time, so one brief built twice is the same file."""
    return {"Title": brief_title(facts), "CreationDate": None} if fmt == PDF else {"Title": brief_title(facts)}


def brief_bytes(facts: BriefFacts, fmt: str) -> bytes:
    """The brief as PDF (one page, its font embedded) or PNG bytes; CJKFontMissing if any text would be tofu."""
    if fmt not in FORMATS:
        raise ValueError(f"简报格式应为 pdf 或 png / a brief is pdf or png: {fmt!r}")
    fig = brief_figure(facts)
    buf = io.BytesIO()
    with cjk_style(), matplotlib.rc_context({"pdf.fonttype": 42}):  # 42: the font embedded as TrueType/CID, text kept
        fig.savefig(buf, format=fmt, dpi=PNG_DPI, facecolor="white",
                    metadata=_metadata(facts, fmt))
        if bad := missing_glyphs(fig, drawn=True):
            raise CJKFontMissing(f"{MISSING_FONT} ({', '.join(bad[:3])})")
    return buf.getvalue()


def write_brief(facts: BriefFacts, out: Path) -> Path:
    """Write the brief to `out`, its format from the suffix (.pdf or .png); the path."""
    content = brief_bytes(facts, out.suffix.lower().lstrip("."))
    out.write_bytes(content)
    return out

