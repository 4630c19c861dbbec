"""Section charts of the weekly meeting as PNG images, drawn by matplotlib's Agg renderer with a CJK font.

Figures are built with `matplotlib.figure.Figure` (no pyplot: no global state shared between the
threads of a Streamlit server). Chinese must never come out as tofu boxes: the font is looked up
among the installed CJK families, and every text of a figure is checked against the glyphs of the
font file the renderer resolves for it before the image is written.
"""
from __future__ import annotations

import functools
import io
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import matplotlib
import matplotlib.ticker
import pandas as pd
from matplotlib import font_manager
from matplotlib.figure import Figure
from matplotlib.text import Text

from metrics.registry import METRICS_BY_ID
from metrics.weekly import Section, Trend, WeeklyReport, trend_of
from presentation.format import pct
from presentation.palette import BLUE, GREEN, GREY, ORANGE, SKY, VERMILLION

# Preferred CJK families, Simplified Chinese first (Debian: fonts-noto-cjk, fonts-wqy-zenhei).
CJK_FAMILIES = ("Noto Sans CJK SC", "Source Han Sans SC", "Source Han Sans CN", "Noto Sans SC", "Noto Sans CJK JP",
                "Source Han Sans", "WenQuanYi Zen Hei", "WenQuanYi Micro Hei")
_FILE_HINTS = ("cjk", "sourcehan", "wqy", "wenquanyi")
PROBE = "督导信访举报按期办结率满意"
FIGSIZE = (8.0, 5.6)
DPI = 150
CHART_SECTIONS = (Section.KPIS, Section.CITIES, Section.OVERDUE, Section.PRIORITY, Section.SATISFACTION)
KPI_RATES = ("on_time_rate", "first_on_time_rate", "satisfaction_rate", "leapfrog_rate", "dispute_rate")
TOP_COUNTIES = 15
TREND_COLOURS = {Trend.BETTER: GREEN, Trend.WORSE: VERMILLION, Trend.SAME: GREY, Trend.NEUTRAL: GREY,
                 Trend.UNKNOWN: GREY}

MISSING_FONT = ("未找到可显示中文的字体（如 Noto Sans CJK SC、文泉驿），无法生成图表。请安装 Debian 软件包 fonts-noto-cjk "
                "（apt-get install fonts-noto-cjk，scripts/test.sh 会自动安装）。 / No CJK font found, so the charts cannot "
                "draw Chinese: install the Debian package fonts-noto-cjk (scripts/test.sh does).")


class CJKFontMissing(RuntimeError):
    """No installed font can draw the Chinese text of the charts."""


@dataclass(frozen=True)
class CJKFont:
    """The CJK family the charts use and the font file matplotlib resolves it to."""

    family: str
    path: str


def covers(path: str, text: str) -> bool:
    """True when the font file has a glyph for every non-space character of `text`."""
    font = font_manager.get_font(path)
    return all(font.get_char_index(ord(ch)) != 0 for ch in text if not ch.isspace())


def _resolve(family: str) -> str | None:
    try:
        return str(font_manager.findfont(font_manager.FontProperties(family=family), fallback_to_default=False))
    except ValueError:
        return None


def _registered_cjk() -> CJKFont | None:
    names = {entry.name for entry in font_manager.fontManager.ttflist}
    for family in CJK_FAMILIES:
        if family in names and (path := _resolve(family)) and covers(path, PROBE):
            return CJKFont(family, path)
    return None


def _register_system_cjk() -> None:
    """Add CJK font files installed after matplotlib built its font cache."""
    for path in font_manager.findSystemFonts():
        if any(hint in path.lower().replace("-", "").replace("_", "") for hint in _FILE_HINTS):
            font_manager.fontManager.addfont(path)


@functools.cache
def cjk_font() -> CJKFont:
    """The CJK font for the charts (CJKFontMissing, in Chinese and English, when there is none)."""
    found = _registered_cjk()
    if found is None:
        _register_system_cjk()
        found = _registered_cjk()
    if found is None:
        raise CJKFontMissing(MISSING_FONT)
    return found


@contextmanager
def cjk_style() -> Iterator[CJKFont]:
    """rcParams for building and saving a figure: the CJK family, plain hyphen minus, Agg-safe sizes."""
    font = cjk_font()
    with matplotlib.rc_context({"font.family": [font.family], "axes.unicode_minus": False, "font.size": 11,
                                "axes.titlesize": 14, "axes.spines.top": False, "axes.spines.right": False}):
        yield font


def missing_glyphs(fig: Figure, drawn: bool = False) -> list[str]:
    """Texts of the figure with a character the font file resolved for them lacks (drawn first unless `drawn`)."""
    if not drawn:
        fig.draw_without_rendering()  # tick labels exist only once the figure has been drawn
    bad = []
    for text in fig.findobj(Text):
        content = text.get_text()
        if content and text.get_visible() and not covers(str(font_manager.findfont(text.get_fontproperties())), content):
            bad.append(content)
    return bad


def png(fig: Figure) -> bytes:
    """The figure as PNG bytes; CJKFontMissing (and no image) if any text was drawn as tofu."""
    with cjk_style():
        buf = io.BytesIO()
        fig.savefig(buf, format="png", dpi=DPI, facecolor="white")
        if bad := missing_glyphs(fig, drawn=True):
            raise CJKFontMissing(f"{MISSING_FONT} ({', '.join(bad[:3])})")
    return buf.getvalue()


def _figure(title: str, ncols: int = 1) -> tuple[Figure, list]:
    fig = Figure(figsize=FIGSIZE, layout="constrained")
    axes = fig.subplots(1, ncols, squeeze=False)[0].tolist()
    fig.suptitle(title, fontsize=15, fontweight="bold")
    return fig, axes


def _no_data(ax, message: str) -> None:
    ax.text(0.5, 0.5, message, ha="center", va="center", fontsize=16, color=GREY, transform=ax.transAxes)
    ax.set_axis_off()


def _percent_axis(ax) -> None:
    """0%..100% ticks on x (the axis runs on past 100% to leave room for the bar labels)."""
    ax.set_xticks([0, 0.2, 0.4, 0.6, 0.8, 1.0])
    ax.xaxis.set_major_formatter(matplotlib.ticker.PercentFormatter(xmax=1.0, decimals=0))


def _province_line(ax, value: float | None, label: str) -> None:
    if value is None:
        return
    ax.axvline(value, color=ORANGE, linestyle="--", linewidth=1.5)
    ax.annotate(f"{label} {pct(value)}", (value, 1.0), xycoords=("data", "axes fraction"), xytext=(0, 4),
                textcoords="offset points", ha="center", va="bottom", fontsize=10, color=ORANGE)


def kpi_figure(report: WeeklyReport) -> Figure:
    """Grouped bars of the headline rates: this week, last week and (if any) a year ago."""
    fig, (ax,) = _figure("核心指标：本周与上周" + ("、去年同期" if report.year_ago_week else ""))
    series = [("本周", "this_week", BLUE), ("上周", "last_week", SKY)]
    if report.year_ago_week:
        series.append(("去年同期", "year_ago", GREY))
    height = 0.8 / len(series)
    for i, (label, field, colour) in enumerate(series):
        values = [getattr(report.headline(m), field) for m in KPI_RATES]
        ys = [k + i * height for k in range(len(KPI_RATES))]
        bars = ax.barh(ys, [v or 0 for v in values], height=height, color=colour, label=label)
        ax.bar_label(bars, labels=[pct(v) for v in values], padding=3, fontsize=9)
    ax.set_yticks([k + height * (len(series) - 1) / 2 for k in range(len(KPI_RATES))],
                  [METRICS_BY_ID[m].label for m in KPI_RATES])
    ax.invert_yaxis()
    ax.set_xlim(0, 1.15)
    _percent_axis(ax)
    ax.legend(loc="lower right", frameon=False)
    return fig


def _rank_label(row: pd.Series) -> str:
    if pd.isna(row["on_time_rate"]):
        return "本周无应办结件"
    change = row["rank_change"]
    move = "" if pd.isna(change) else ("—" if change == 0 else f"{'▲' if change > 0 else '▼'}{abs(int(change))}")
    return f"{pct(row['on_time_rate'])}  {move}".rstrip()


def city_ranking_figure(report: WeeklyReport) -> Figure:
    """The units below the region (cities, or a city's counties) by on-time rate, best on top, with the
    rank change since last week; the region's own rate as a line."""
    fig, (ax,) = _figure(f"{report.section_title(Section.CITIES)}（▲▼为较上周名次变化）")
    cities = report.units
    if cities.empty:
        _no_data(ax, f"没有{report.unit_noun}级数据")
        return fig
    labels = [f"{'—' if pd.isna(r) else int(r)}  {n}" for r, n in zip(cities["rank"], cities["name"], strict=True)]
    colours = [TREND_COLOURS[trend_of("on_time_rate", None if pd.isna(c) else float(c))] for c in cities["rate_change"]]
    bars = ax.barh(range(len(cities)), cities["on_time_rate"].fillna(0), color=colours, height=0.7)
    ax.bar_label(bars, labels=[_rank_label(row) for _, row in cities.iterrows()], padding=3, fontsize=9)
    ax.set_yticks(range(len(cities)), labels)
    ax.invert_yaxis()
    _province_line(ax, report.headline("on_time_rate").this_week, report.region_name)
    ax.set_xlim(0, 1.25)
    _percent_axis(ax)
    ax.set_xlabel("按期办结率（颜色：绿为较上周上升，红为下降）")
    return fig


def overdue_figure(report: WeeklyReport) -> Figure:
    """Counties with the most long-overdue and newly overdue cases."""
    fig, (ax,) = _figure(f"超期未办结：本周新增与超期 {report.long_overdue_days} 天以上（前 {TOP_COUNTIES} 个县）")
    top = report.overdue_by_county.head(TOP_COUNTIES)
    if top.empty:
        _no_data(ax, "没有新增超期或长期超期的件")
        return fig
    ys = range(len(top))
    for offset, column, label, colour in ((-0.2, "long_overdue", f"超期 {report.long_overdue_days} 天以上", VERMILLION),
                                          (0.2, "newly_overdue", "本周新增超期", ORANGE)):
        bars = ax.barh([y + offset for y in ys], top[column], height=0.4, color=colour, label=label)
        ax.bar_label(bars, labels=[str(v) if v else "" for v in top[column]], padding=2, fontsize=9)
    ax.set_yticks(list(ys), list(top["city_name"] + top["county_name"]))
    ax.invert_yaxis()
    ax.set_xlabel("件数")
    ax.xaxis.set_major_locator(matplotlib.ticker.MaxNLocator(integer=True))
    ax.legend(loc="lower right", frameon=False)
    return fig


def priority_figure(report: WeeklyReport) -> Figure:
    """Both funnel z-values of every tested county; priority counties named, entries and exits marked."""
    window = report.priority_window
    fig, (ax,) = _figure(f"重点督导县：近 {report.priority_window_months} 个月滚动检验（{window.start} 至 {window.end}）")
    tested = report.priority_ranking.dropna(subset=["z_quality", "z_leapfrog"])
    if tested.empty:
        _no_data(ax, "没有样本量足够的县（市、区）")
        return fig
    ax.scatter(tested["z_quality"], tested["z_leapfrog"], s=28, color=SKY, alpha=0.7, label="其他县（市、区）")
    _mark(ax, report.priority[~report.priority["entered"]], VERMILLION, "o", "重点督导（持续）")
    _mark(ax, report.priority_entered, VERMILLION, "*", "本周新列入")
    _mark(ax, report.priority_left, ORANGE, "X", "本周移出")
    _label_column(ax, pd.concat([report.priority, report.priority_left]))
    z = report.settings.z_priority
    ax.axvline(z, color=GREY, linestyle="--", linewidth=1)
    ax.axhline(z, color=GREY, linestyle="--", linewidth=1)
    ax.set_xlabel("质效 z 值（越大：初次举报按期办结率越低）")
    ax.set_ylabel("越级 z 值（越大：越级举报率越高）")
    ax.legend(loc="upper left", frameon=False, fontsize=9)
    return fig


def _mark(ax, counties: pd.DataFrame, colour: str, marker: str, label: str) -> None:
    if not counties.empty:
        ax.scatter(counties["z_quality"], counties["z_leapfrog"], s=150 if marker == "*" else 70, color=colour,
                   marker=marker, label=label, zorder=3)


def _label_column(ax, counties: pd.DataFrame, step: float = 0.075) -> None:
    """Names of the marked counties in a column right of the plot, a leader line to each point (they cluster)."""
    ordered = counties.sort_values("z_leapfrog", ascending=False)
    for i, row in enumerate(ordered.itertuples()):
        ax.annotate(f"{row.city_name}{row.name}", (row.z_quality, row.z_leapfrog), xytext=(1.03, 0.97 - i * step),
                    textcoords="axes fraction", fontsize=10, va="center",
                    arrowprops={"arrowstyle": "-", "color": GREY, "linewidth": 0.8, "shrinkB": 5})


def satisfaction_figure(report: WeeklyReport) -> Figure:
    """Each unit's (city's, or a city's county's) satisfaction rate and its 结而不服 count this week."""
    fig, (left, right) = _figure("群众满意率与结而不服（本周）", ncols=2)
    cities = report.units.sort_values("code")
    if cities["rated"].sum() == 0 and cities["closed"].sum() == 0:
        _no_data(left, "本周没有办结件")
        right.set_axis_off()
        return fig
    ys = range(len(cities))
    bars = left.barh(ys, cities["satisfaction_rate"].fillna(0), color=BLUE, height=0.7)
    left.bar_label(bars, labels=[pct(v) for v in cities["satisfaction_rate"]], padding=2, fontsize=8)
    left.set_yticks(list(ys), list(cities["name"]))
    left.invert_yaxis()
    left.set_xlim(0, 1.3)
    _percent_axis(left)
    left.set_xlabel(METRICS_BY_ID["satisfaction_rate"].label)
    _province_line(left, report.headline("satisfaction_rate").this_week, report.region_name)
    bars = right.barh(ys, cities["disputed"], color=VERMILLION, height=0.7)
    right.bar_label(bars, padding=2, fontsize=8)
    right.set_yticks(list(ys), [""] * len(cities))
    right.invert_yaxis()
    right.set_xlabel(METRICS_BY_ID["disputed"].label + "（件）")
    right.set_xlim(0, max(1, int(cities["disputed"].max())) * 1.2)
    right.xaxis.set_major_locator(matplotlib.ticker.MaxNLocator(integer=True))
    return fig


FIGURES = {Section.KPIS: kpi_figure, Section.CITIES: city_ranking_figure, Section.OVERDUE: overdue_figure,
           Section.PRIORITY: priority_figure, Section.SATISFACTION: satisfaction_figure}


def section_figure(report: WeeklyReport, section: Section) -> Figure:
    """The figure of one section, built under the CJK style."""
    with cjk_style():
        return FIGURES[section](report)


def section_charts(report: WeeklyReport) -> dict[Section, bytes]:
    """PNG bytes of every section that has a chart."""
    return {section: png(section_figure(report, section)) for section in CHART_SECTIONS}


# --- deck charts: drawn at the size they take on the slide, so a font's points are the slide's points ---

DECK_PT = 18  # the smallest text on a projected slide
TREND_PANELS = (("on_time_rate", BLUE), ("satisfaction_rate", BLUE), ("overdue", VERMILLION), ("received", GREY))


def _week_label(day: object) -> str:
    date = pd.Timestamp(day)
    return f"{date.month}/{date.day}"


def trend_figure(report: WeeklyReport, size: tuple[float, float]) -> Figure:
    """The last weeks of four headline metrics as small line charts (one colour per metric, no legend needed:
    each panel is titled), the first and last values written at their points."""
    fig = Figure(figsize=size, layout="constrained")
    weeks = report.recent_weeks
    axes = fig.subplots(1, len(TREND_PANELS), squeeze=False)[0]
    for ax, (metric_id, colour) in zip(axes, TREND_PANELS, strict=True):
        metric = METRICS_BY_ID[metric_id]
        is_rate = metric.unit == "%"
        ax.set_title(metric.label + ("" if is_rate else "（件）"), fontsize=DECK_PT)
        if weeks.empty:
            _no_data(ax, "无数据")
            continue
        values = pd.to_numeric(weeks[metric_id], errors="coerce")
        xs = list(range(len(weeks)))
        ax.plot(xs, values, color=colour, linewidth=3, marker="o", markersize=7)
        for i in (0, len(xs) - 1):
            if pd.notna(values.iloc[i]):
                text = pct(values.iloc[i]) if is_rate else f"{int(values.iloc[i])}"
                ax.annotate(text, (xs[i], values.iloc[i]), xytext=(0, 10), textcoords="offset points", ha="center",
                            fontsize=DECK_PT, color="#222222")
        ax.set_xticks([xs[0], xs[-1]], [_week_label(weeks["week_start"].iloc[0]), _week_label(weeks["week_start"].iloc[-1])])
        ax.set_xlim(-0.5, len(xs) - 0.5)
        low, high = values.min(), values.max()
        if pd.notna(low):
            pad = max((high - low) * 0.35, 0.02 if is_rate else 2)
            ax.set_ylim(low - pad, high + pad * 1.6)
        ax.set_yticks([])
        ax.spines[["left", "top", "right"]].set_visible(False)
    return fig


def p_chart_figure(frames: list[tuple[str, pd.DataFrame]], size: tuple[float, float]) -> Figure:
    """p-charts side by side: each county's weekly on-time rate (recent weeks dark, baseline light), the
    baseline mean (dashed) and its lower control limit (dotted); weeks below the limit marked red."""
    fig = Figure(figsize=size, layout="constrained")
    axes = fig.subplots(1, max(len(frames), 1), squeeze=False)[0]
    for ax, (title, frame) in zip(axes, frames, strict=False):
        xs = list(range(len(frame)))
        recent = frame["phase"] == "recent"
        ax.plot(xs, frame["rate"], color=SKY, linewidth=2)
        ax.plot([x for x, r in zip(xs, recent, strict=True) if r], frame.loc[recent, "rate"], color=BLUE, linewidth=3,
                marker="o", markersize=6, label="近期各周")
        ax.axhline(frame["centre"].iloc[0], color=GREY, linestyle="--", linewidth=2, label="基线均值")
        ax.step(xs, frame["lower"], where="mid", color=GREY, linestyle=":", linewidth=2, label="控制下限")
        below = frame["below"].fillna(False).astype(bool)
        ax.scatter([x for x, b in zip(xs, below, strict=True) if b], frame.loc[below, "rate"], s=120, color=VERMILLION,
                   zorder=3, label="低于下限")
        ax.set_title(title, fontsize=DECK_PT)
        ax.set_ylim(0, 1.05)
        ax.set_yticks([0, 0.5, 1.0])
        ax.yaxis.set_major_formatter(matplotlib.ticker.PercentFormatter(xmax=1.0, decimals=0))
        ax.set_xticks([xs[0], xs[-1]], [_week_label(frame["week_start"].iloc[0]), _week_label(frame["week_start"].iloc[-1])])
    handles, labels = axes[0].get_legend_handles_labels()
    if handles:
        fig.legend(handles, labels, loc="outside lower center", ncols=len(handles), frameon=False, fontsize=DECK_PT)
    for ax in axes[len(frames):]:
        ax.set_axis_off()
    return fig


def deck_png(build: Callable[[], Figure]) -> bytes:
    """A deck figure built and saved under the CJK style at the deck's type sizes."""
    with cjk_style(), matplotlib.rc_context({"font.size": DECK_PT, "axes.titlesize": DECK_PT, "xtick.labelsize": DECK_PT,
                                             "ytick.labelsize": DECK_PT, "legend.fontsize": DECK_PT}):
        fig = build()
        buf = io.BytesIO()
        fig.savefig(buf, format="png", dpi=DPI, facecolor="white")
        if bad := missing_glyphs(fig, drawn=True):
            raise CJKFontMissing(f"{MISSING_FONT} ({', '.join(bad[:3])})")
    return buf.getvalue()
