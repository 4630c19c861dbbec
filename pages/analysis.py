"""形势分析: where reports concentrate and where they rise — the units below the viewer's region by domain
(领域) or channel (信、访、电、网、码) against the same span before, the rising hot spots in words, and the
main domains month by month. Every count is the database's (metrics.trends, metrics.series)."""
from __future__ import annotations

import dataclasses
import datetime as dt

import pandas as pd
import streamlit as st

from data_access.reference.enums import Level
from data_access.supervision.document_register import DocumentKind
from metrics.periods import Span, last_complete_half, span_period
from metrics.request import Period
from metrics.series import Grain
from metrics.trends import RISING_MIN_RECEIVED, RISING_Z, TrendBy, windows
from pages import hand_over
from presentation.campaign import matter_domain_paragraph, matter_domain_rows
from presentation.documents import Issuance
from presentation.format import pct, plain_markdown
from presentation.situation import hot_spot_sentence, report_draft, report_title_for, value_label
from reports.analysis_report import build_analysis_report, report_name
from reports.charts import CJKFontMissing, cjk_font
from reports.docx_form import DOCX_MIME
from ui.access import current_identity, is_supervisor
from ui.charts import heatmap_chart, lines_chart, selected_cell
from ui.downloads import recorded_download
from ui.geo import MapMeasure
from ui.guard import guarded
from ui.issuing import issue_form
from ui.maps import region_map
from ui.navigation import drill_to
from ui.regions import tree
from ui.scoped import ScopedData
from ui.tables import show_table
from ui.vega import show_chart
from ui.view import View

BY_LABELS = {TrendBy.DOMAIN: "领域", TrendBy.CHANNEL: "渠道"}
BY_PARAMS = {TrendBy.DOMAIN: "dom", TrendBy.CHANNEL: "ch"}  # the view's URL filter of each dimension
TREND_MONTHS = 24
TOP_DOMAINS = 5
ISSUED_KEY = "_analysis_issued"  # the message of the report just issued, shown after the rerun


FIRST_YEAR = 2015  # the earliest year offered (years with no cases show an empty analysis)


def analysis_period(view: View) -> View:
    """The span analysed — 上半年, 下半年, 全年 of a year or 近12个月, read at the sidebar's 截止日期; first the last
    complete half-year — as the view's period (this page only: the sidebar's 统计期 is not used here)."""
    anchor = view.chosen_date
    first_span, first_year = last_complete_half(anchor)
    left, right = st.columns([3, 1], vertical_alignment="bottom")
    span = Span(left.segmented_control("分析期间", [s.value for s in Span], default=first_span.value, key="analysis_span",
                                       format_func=lambda v: Span(v).label, required=True, bind="query-params")
                or first_span.value)
    years = list(range(anchor.year, FIRST_YEAR - 1, -1))
    year = right.selectbox("年度", years, index=years.index(first_year), key="analysis_year", bind="query-params",
                           format_func=lambda y: f"{y}年", disabled=span is Span.LAST_12_MONTHS)
    return dataclasses.replace(view, period=span_period(span, int(year or first_year), anchor))


def render(view: View, data: ScopedData) -> None:
    """The viewer's region: its units by domain or channel, the hot spots, the main domains over 24 months."""
    regions = tree()
    level = regions.level(view.root)
    unit_level = level.child() or Level.COUNTY
    parent = view.root if level is not Level.PROVINCE else None
    st.title("形势分析")
    view = analysis_period(view)
    if view.period.as_of_date < view.period.start:
        st.info(f"所选期间自 {view.period.start} 开始，晚于截止日期 {view.chosen_date}，尚无数据。")
        return
    (w_start, w_end), (p_start, p_end) = windows(view.period)
    st.caption(f"本期 {w_start} 至 {w_end}，与等长的上期 {p_start} 至 {p_end} 比较（收件含全部类别）。"
               f"“明显上升”：z ≥ {RISING_Z} 且本期收件不少于 {RISING_MIN_RECEIVED} 件（两期件数的泊松检验）。")
    by = TrendBy(st.segmented_control("分析维度", [b.value for b in TrendBy], default=TrendBy.DOMAIN.value, key="analysis_by",
                                      format_func=lambda v: BY_LABELS[TrendBy(v)], required=True) or TrendBy.DOMAIN.value)
    with guarded("分布与升降"):
        rows = data.trends(unit_level, by, view.period, view.filters, parent=parent)
        if rows.empty:
            st.info("所选期间及上期没有收件。")
            return
        rows = rows.assign(label=[value_label(by, v) for v in rows["value"]])
        hot = rows[rows["rising"]].sort_values("z", ascending=False)
        st.subheader(f"反映集中且明显上升（{len(hot)} 处）")
        if hot.empty:
            st.info("没有明显上升的地区与" + BY_LABELS[by] + "。")
        for _, row in hot.iterrows():
            st.markdown(f"**▲ 上升**　{plain_markdown(hot_spot_sentence(row, by))}")
        st.subheader(f"各{unit_level.label}按{BY_LABELS[by]}的收件分布（颜色：占本地区收件比例；红框：明显上升）")
        event = show_chart(heatmap_chart, rows, BY_LABELS[by], on_select="rerun", key=f"heatmap_{by.value}")
        st.caption(f"格中数字为本期收件数；点击一格，查看该地区该{BY_LABELS[by]}的案件。")
        if (cell := selected_cell(event)) is not None:
            drill_to(cell[0], **{BY_PARAMS[by]: [cell[1]]})
        share_map(view, unit_level, rows, by)
        with st.expander("明细表"):
            table = rows[["name", "label", "received", "previous", "change", "change_rate", "share", "z", "rising"]].assign(
                change_rate=rows["change_rate"] * 100, share=rows["share"] * 100, rising=rows["rising"].map({True: "是", False: ""}))
            show_table(table, hide_index=True, width="stretch", column_config={
                "name": "地区", "label": BY_LABELS[by], "received": "本期收件", "previous": "上期收件", "change": "增减",
                "change_rate": st.column_config.NumberColumn("增减率", format="%.1f%%"),
                "share": st.column_config.NumberColumn("占本地区", format="%.1f%%"),
                "z": st.column_config.NumberColumn("z 值", format="%.2f"), "rising": "明显上升"})
    with guarded("主要领域走势"):
        domains = rows if by is TrendBy.DOMAIN else data.trends(unit_level, TrendBy.DOMAIN, view.period, view.filters, parent=parent)
        domain_trends(view, data, domains)
    with guarded("越级重复举报积案"):
        matter_domains(view, data, parent, regions.name(view.root))
    with guarded("形势分析报告"):
        report_download(view, data, regions.name(view.root))


def matter_domains(view: View, data: ScopedData, parent: str | None, region_name: str) -> None:
    """The matters screened at the period's as-of date by domain of their latest report, as the report states them."""
    st.subheader("越级重复举报积案（按领域）")
    as_of = view.period.as_of_date
    rows = data.screened_by_domain(as_of, parent)
    st.markdown(plain_markdown(matter_domain_paragraph(rows, as_of, region_name)))
    if not rows.empty:
        show_table(matter_domain_rows(rows), hide_index=True, width="stretch")
    st.caption(f"每件积案按最近一次举报所属领域计一次；“突出”为举报 {data.settings.serious_min_reports} 件及以上的积案"
               "（重复举报分级）。")


def share_map(view: View, unit_level: Level, rows: pd.DataFrame, by: TrendBy) -> None:
    """The units on the map, coloured by the share one chosen domain (or channel) has of their reports."""
    values = rows.groupby("value")["received"].sum().sort_values(ascending=False).index.tolist()
    noun = BY_LABELS[by]
    chosen = st.selectbox(f"地图：按所选{noun}占本地区收件的比例着色", values, format_func=lambda v: value_label(by, v),
                          key=f"analysis_map_{by.value}")
    if chosen is None:
        return
    units = rows.drop_duplicates("code")[["code", "name"]]
    share = rows[rows["value"] == chosen].set_index("code")["share"]
    units = units.assign(share=units["code"].map(share).fillna(0.0).astype(float))
    measure = MapMeasure("share", f"{value_label(by, chosen)}{noun}占本地区收件比例", higher_better=False, fmt=pct)
    if (code := region_map(view.province, unit_level, units, measure, key=f"analysis_map_{by.value}_{chosen}")) is not None:
        drill_to(code, **{BY_PARAMS[by]: [chosen]})


def report_download(view: View, data: ScopedData, region_name: str) -> None:
    """The 形势分析报告 of the viewer's region for the sidebar's period: a supervisor issues it (a 文号, the chosen
    成文日期), and it is built as a Word file on its click — as issued, or as a draft (the number left blank)."""
    st.subheader("形势分析报告")
    start, end = view.period.start, view.period.end
    st.caption(f"按所选分析期间（{start} 至 {end}，截至 {view.period.as_of_date}）生成《{report_title_for(region_name, start, end)}》"
               "：总体情况、主要特点（区域、领域、渠道）、突出问题，意见建议留待撰写；数字均取自本看板指标。"
               f"重点督导县与“重点督导县”页、周例会一致（截至 {view.chosen_date} 的近 "
               f"{data.settings.priority_window_months} 个月滚动检验）。"
               "半年报告请在“统计期”选自定义，如 1 月 1 日至 6 月 30 日。")
    if (done := st.session_state.pop(ISSUED_KEY, None)) is not None:
        st.success(done)
    try:
        cjk_font()
        font_problem = None
    except CJKFontMissing as exc:
        font_problem = str(exc)
    documents, identity = data.documents, current_identity()
    draft = report_draft(documents, view.root, region_name, tree().level(view.root), start, end)
    issued = data.issued_documents(DocumentKind.ANALYSIS, [draft.subject]).get(draft.subject)
    issuance = None if issued is None else Issuance(issued.dated, issued.number)
    st.caption("本报告尚未发文：下载的是未编号的稿（成文日期为今天）。" if issued is None else
               f"本报告已发文：{issued.number}，成文日期 {issued.dated}。")
    name = report_name(region_name, start, end)
    facts = data.analysis_later(view.period, view.chosen_date)
    st.download_button("下载形势分析报告（Word）",
                       recorded_download(lambda: build_analysis_report(facts(), documents=documents, issuance=issuance,
                                                                       settings=data.settings), name),
                       file_name=name, mime=DOCX_MIME, key="analysis_docx", on_click="ignore", icon=":material/download:",
                       disabled=font_problem is not None)
    if font_problem:
        st.warning(font_problem)
    if is_supervisor(identity):
        issue_form("analysis_issue", "形势分析报告", "发出形势分析报告", issued is not None,
                   lambda dated: data.issue_documents(identity, [draft], dated)[0], ISSUED_KEY)


def domain_trends(view: View, data: ScopedData, rows: pd.DataFrame) -> None:
    """The region's main domains (most received in the period), received per month over 24 months."""
    end = view.as_of
    start = dt.date(end.year - TREND_MONTHS // 12, end.month, 1)
    top = rows.groupby("value")["received"].sum().sort_values(ascending=False).head(TOP_DOMAINS).index.tolist()
    st.subheader(f"主要领域近 {TREND_MONTHS} 个月收件走势（本期收件最多的 {len(top)} 个领域）")
    if not top:
        st.info("没有可绘制的领域。")
        return
    parts = []
    for domain in top:
        filters = dataclasses.replace(view.filters, domains=(domain,))
        series = data.series(Period(start, end, end), Grain.MONTH, region=view.root, filters=filters, metrics=("received",))
        parts.append(series[["bucket_start", "received"]].assign(领域=domain))
    show_chart(lines_chart, pd.concat(parts, ignore_index=True), "bucket_start", "received", "领域", "月份", "收件（件）")


if __name__ == "__main__":  # run by itself (a fresh server's first deep link): app.py routes, see pages/__init__.py
    hand_over()
