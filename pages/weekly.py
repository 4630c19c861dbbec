"""周例会: this week against last week on a shared screen — one section per screen, a presentation mode, the meeting pack."""
from __future__ import annotations

from contextlib import nullcontext
from typing import Any, assert_never

import pandas as pd
import streamlit as st

from data_access.identity.auth import Identity
from data_access.supervision.document_register import DocumentKind
from metrics.registry import METRICS_BY_ID
from metrics.weekly import SATISFACTION_METRICS, STOCK_COUNTIES, WEEKLY_HEADLINE_METRICS, Section, WeeklyReport
from pages import hand_over
from presentation.bulletin import bulletin_draft, bulletin_text
from presentation.documents import DocumentSettings, Issuance
from presentation.format import EMPTY, UNCHANGED, arrow, delta_color, fmt_delta, fmt_value, plain_markdown
from reports.bulletin_doc import build_bulletin_document, bulletin_name
from reports.charts import CJKFontMissing, cjk_font
from reports.deck import build_deck, overdue_stock_note, overdue_stock_title
from reports.docx_form import DOCX_MIME
from reports.pack import deck_name, workbook_name
from reports.workbook import build_workbook
from ui.access import current_identity, is_supervisor
from ui.campaign_week import campaign_section
from ui.charts import TEXT_PX, ranking_chart
from ui.downloads import for_people, recorded_download
from ui.issuing import issue_form
from ui.scoped import ScopedData
from ui.tables import metric_table, percent_column_config, show_table
from ui.vega import show_chart
from ui.view import View

SECTIONS = tuple(Section)
SECTION_KEY, PRESENT_KEY = "section", "present"
ISSUED_KEY = "_weekly_issued"  # the message of the 通报 just issued, shown after the rerun
KPI_COLUMNS = 4
PPTX_MIME = "application/vnd.openxmlformats-officedocument.presentationml.presentation"
XLSX_MIME = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
# Static CSS only (no data in it): hide the sidebar and header, enlarge type for the back of the room (3 m from a
# 1920x1080 screen: no text under 18 px, tests/test_presentation_browser.py measures it).
PRESENT_CSS = """
<style>
[data-testid="stSidebar"], [data-testid="stSidebarCollapsedControl"], [data-testid="stHeader"] { display: none !important; }
.block-container { padding-top: 0.8rem; padding-bottom: 0.5rem; }
[data-testid="stMetricValue"] { font-size: 3.8rem; }
[data-testid="stMetricLabel"] p { font-size: 1.6rem; }
[data-testid="stMetricDelta"] { font-size: 1.4rem; }
[data-testid="stMarkdown"] p { font-size: 1.5rem; line-height: 1.6; }
[data-testid="stCaptionContainer"], [data-testid="stCaptionContainer"] p { font-size: 1.25rem; }
[data-testid="stMain"] button p, [data-testid="stWidgetLabel"] p, [data-testid="stAlertContainer"] p,
  [data-testid="stExpander"] summary p { font-size: 1.25rem; }
[data-testid="stMain"] [data-testid="stIconMaterial"] { font-size: 1.4rem; }
h1 { font-size: 2.6rem !important; }
h2 { font-size: 2.3rem !important; padding-top: 0.2rem !important; }
/* tables are drawn on a canvas, whose type CSS cannot size: the whole grid is zoomed instead */
[data-testid="stElementContainer"]:has(> [data-testid="stFullScreenFrame"] > [data-testid="stDataFrame"])
  { zoom: 1.45; width: calc(100% / 1.45) !important; }
[data-testid="stFullScreenFrame"] > [data-testid="stDataFrame"] { width: 100% !important; }
</style>
"""
STOCK_COLUMNS = {"county_name": "承办县（市、区）", "city_name": "所属市", "overdue": "超期未办结初次举报",
                 "overdue_before": "上周末", "overdue_change": "较上周末", "supervised": "其中已挂账督办"}
PRESENT_TEXT_PX = 20  # chart axis labels and titles on the projector (the bars' values one less)
PRESENT_ROW_PX = 20  # a table row before the 1.45 zoom: a 16-city table and its header fit under the section's title
GRID_HEADER_PX = 35  # st.dataframe's header row, whatever the rows' height
PRESENT_BAR_PX, PRESENT_CHART_PX = 40, 480  # the ranking's bar pitch, shrunk when the units would pass the chart's height
CASE_COLUMNS = ("case_id", "city_name", "county_name", "received_date", "due_date", "days_overdue", "is_first_report",
                "supervised", "channel", "domain")


def step_section(step: int) -> None:
    """Callback of 上一页/下一页: move the bound section control by `step`."""
    current = Section(st.session_state.get(SECTION_KEY) or Section.KPIS.value)
    index = min(max(SECTIONS.index(current) + step, 0), len(SECTIONS) - 1)
    st.session_state[SECTION_KEY] = SECTIONS[index].value


def controls() -> Section:
    """Section picker, previous/next buttons and the presentation toggle; returns the section to show."""
    picker, back, forward, mode = st.columns([7, 1.1, 1.1, 1.8], vertical_alignment="center")
    # a default only while Session State holds no section: 上一页/下一页 set it there, and a widget given both
    # makes Streamlit log a warning with a stack trace on every step
    default = None if SECTION_KEY in st.session_state else Section.KPIS.value
    value = picker.segmented_control("议程", [s.value for s in SECTIONS], format_func=lambda v: Section(v).label,
                                     default=default, required=True, key=SECTION_KEY, bind="query-params",
                                     label_visibility="collapsed")
    section = Section(value or Section.KPIS.value)
    index = SECTIONS.index(section)
    back.button("上一页", on_click=step_section, args=(-1,), disabled=index == 0, key="prev_section",
                icon=":material/arrow_back:", width="stretch")
    forward.button("下一页", on_click=step_section, args=(1,), disabled=index == len(SECTIONS) - 1, key="next_section",
                   icon=":material/arrow_forward:", width="stretch")
    mode.toggle("演示模式", key=PRESENT_KEY, bind="query-params", help="隐藏侧边栏、放大字号，供投影使用；再次点击退出。")
    return section


def delta_args(metric_id: str, this: float | None, last: float | None) -> dict[str, Any]:
    """st.metric's delta, colour and arrow: green/red by the metric's direction, no arrow when 持平."""
    delta = fmt_delta(metric_id, this, last)
    flat = delta == UNCHANGED
    return {"delta": delta, "delta_color": "off" if flat else delta_color(metric_id),
            "delta_arrow": "off" if flat else "auto"}


def metric_card(column, report: WeeklyReport, metric_id: str) -> None:
    """One KPI: this week, the change since last week (arrow and colour), last week and a year ago below."""
    m = METRICS_BY_ID[metric_id]
    this, last = report.province[metric_id], report.province_last[metric_id]
    ago = report.province_year_ago[metric_id] if report.province_year_ago is not None else None
    column.metric(m.label, fmt_value(metric_id, this), **delta_args(metric_id, this, last),
                  help=f"{m.definition}（变化为与上周相比）", border=True)
    year_ago = fmt_value(metric_id, ago) if report.year_ago_week is not None else "数据未覆盖"
    column.caption(f"上周 {fmt_value(metric_id, last)}　｜　去年同期 {year_ago}")


def kpis(report: WeeklyReport) -> None:
    """The headline metrics, four to a row."""
    for start in range(0, len(WEEKLY_HEADLINE_METRICS), KPI_COLUMNS):
        for column, metric_id in zip(st.columns(KPI_COLUMNS), WEEKLY_HEADLINE_METRICS[start:start + KPI_COLUMNS], strict=False):
            metric_card(column, report, metric_id)
    ago = report.year_ago_week
    st.caption(f"去年同期为 {ago.start} 至 {ago.end}（截至 {ago.as_of_date}）。" if ago else
               "去年同期：数据未覆盖，不作比较。")


def table_size(rows: int, present: bool, cap: int | None = None) -> dict[str, int]:
    """st.dataframe's height for `rows` rows and a header (at most `cap`); on the projector, lower rows (zoomed)."""
    if present:
        return {"height": PRESENT_ROW_PX * rows + GRID_HEADER_PX + 3, "row_height": PRESENT_ROW_PX}
    height = 40 + 35 * rows
    return {"height": min(height, cap) if cap else height}


def ranking_size(units: int, present: bool) -> tuple[int | None, int]:
    """The ranking chart's height (None: the chart's own) and type size; on the projector one bar pitch per unit,
    all within one screen."""
    return (min(PRESENT_CHART_PX, PRESENT_BAR_PX * units), PRESENT_TEXT_PX) if present else (None, TEXT_PX)


def _rank_text(value: float | None) -> str:
    return EMPTY if value is None or pd.isna(value) else str(int(value))


def _rank_change(value: float | None) -> str:
    return EMPTY if value is None or pd.isna(value) or value == 0 else f"{arrow(int(value))} {abs(int(value))}"



def cities(report: WeeklyReport, present: bool = False) -> None:
    """The units below the region (a province's cities, a city's counties) ranked by on-time rate with
    last week's rank and the change; a county viewer sees its own county's week."""
    frame = report.units
    noun = report.unit_noun
    ranks = frame["rank"] if report.ranks_units else pd.Series(pd.NA, index=frame.index)  # a county alone is not ranked
    shown = pd.DataFrame({"名次": ranks.map(_rank_text), noun: frame["name"],
                          "on_time_rate": frame["on_time_rate"], "due": frame["due"],
                          "上周名次": frame["rank_last"].map(_rank_text), "名次变化": frame["rank_change"].map(_rank_change),
                          "较上周（百分点）": frame["rate_change"] * 100})
    left, right = st.columns([3, 2], gap="large")
    with left:
        show_table(metric_table(shown, ("on_time_rate", "due")), hide_index=True, width="stretch",
                   **table_size(len(shown), present),
                   column_config={"on_time_rate": percent_column_config("on_time_rate"), "due": percent_column_config("due"),
                                  "较上周（百分点）": st.column_config.NumberColumn(format="%+.1f")})
    with right:
        height, text_px = ranking_size(len(frame), present)
        show_chart(ranking_chart, frame, "on_time_rate", report.headline("on_time_rate").this_week,
                   parent_name=report.region_name, height=height, text_px=text_px)
        if report.ranks_units:
            st.caption(f"名次按本周按期办结率从高到低，并列者同名次；本周应办结件不足 {report.min_due_to_compare} 件的"
                       f"{noun}不排名（一两件即可使比率大起大落），图中为灰色、列于最后。虚线为{report.region_name}整体水平。")
        else:
            st.caption(f"县级账号只看本县：{report.region_name}本周与上周的按期办结率，不与其他县（市、区）排名。")


def case_table(ledger: pd.DataFrame) -> None:
    """An overdue case list in people's terms."""
    show_table(for_people(ledger[list(CASE_COLUMNS)]), hide_index=True, width="stretch", height=360,
                 column_config={"超期天数": st.column_config.NumberColumn("超期天数", format="%d 天")})


def overdue(report: WeeklyReport, present: bool = False) -> None:
    """Overdue stock, cases that became overdue this week and long-overdue cases, by county; on the projector the
    two county tables side by side, each with the counties the deck lists, and no case lists."""
    h = report.headline("overdue")
    c1, c2, c3 = st.columns(3)
    c1.metric(METRICS_BY_ID["overdue"].label, fmt_value("overdue", h.this_week), **delta_args("overdue", h.this_week, h.last_week),
              help="与上周末（上周日日终）的存量相比。", border=True)
    c2.metric("本周新增超期", f"{len(report.newly_overdue):,}", border=True,
              help="截至本日超期未办结、而截至上周日尚未超期的检举控告件。")
    c3.metric(f"超期 {report.long_overdue_days} 天以上", f"{len(report.long_overdue):,}", border=True,
              help=f"截至本日超期天数大于 {report.long_overdue_days} 天的超期未办结件。")
    by_county = report.overdue_by_county
    shown = by_county.head(STOCK_COUNTIES) if present else by_county
    left, right = st.columns([2, 3], gap="large") if present else (nullcontext(), nullcontext())
    with left:
        st.markdown(f"**各县（市、区）：{len(by_county)} 个有新增或长期超期件**")
        show_table(shown, hide_index=True, width="stretch", **table_size(len(shown), present, cap=420),
                   column_config={"county_code": None, "county_name": st.column_config.TextColumn("县（市、区）", pinned=True),
                                  "city_name": st.column_config.TextColumn("所属市"),
                                  "newly_overdue": st.column_config.NumberColumn("本周新增超期", format="localized"),
                                  "long_overdue": st.column_config.NumberColumn(f"超期 {report.long_overdue_days} 天以上",
                                                                                 format="localized")})
        if len(shown) < len(by_county):
            st.caption(f"列出长期超期件最多的 {len(shown)} 个，另有 {len(by_county) - len(shown)} 个县（市、区）；"
                       "退出演示模式可看全部。")
    with right:
        overdue_stock(report, present)
    s = report.supervision
    st.markdown(f"**督办台账**：本周新挂账 {s.opened} 项，县级反馈 {s.replied} 项，销号 {s.closed} 项，退回 {s.returned} 项；"
                f"目前在办 {s.in_progress} 项，逾期未反馈 {s.overdue_replies} 项。")
    if present:
        return
    with st.expander(f"本周新增超期清单：{len(report.newly_overdue):,} 件"):
        case_table(report.newly_overdue)
    with st.expander(f"超期 {report.long_overdue_days} 天以上清单：{len(report.long_overdue):,} 件"):
        case_table(report.long_overdue)


def overdue_stock(report: WeeklyReport, present: bool = False) -> None:
    """Each county's overdue first reports, the change on last week and how many are already under a 督办 item;
    on the projector the counties the deck lists, the rest in the deck's note."""
    stock = report.overdue_stock_listed.head(STOCK_COUNTIES) if present else report.overdue_stock
    st.markdown(f"**{overdue_stock_title(report)}**")
    if stock.empty:
        return
    shown = stock.rename(columns=STOCK_COLUMNS)[["county_code", *STOCK_COLUMNS.values()]]
    show_table(shown, hide_index=True, width="stretch", **table_size(len(shown), present, cap=420),
               column_config={"county_code": None, "承办县（市、区）": st.column_config.TextColumn(pinned=True),
                              "较上周末": st.column_config.NumberColumn(format="%+d")})
    if present:
        st.caption(overdue_stock_note(report))
        return
    st.caption(f"截至 {report.as_of} 日终已过办理期限、仍未办结的初次举报件，按县（市、区）件数从多到少；上周末为截至 "
               f"{report.last_week.as_of_date} 日终；已挂账督办指督办台账中有未销号督办事项的件。")


def priority(report: WeeklyReport) -> None:
    """Priority counties over the rolling year; entries and exits since last week; the sentence for each."""
    window = report.priority_window
    st.caption(f"按近 {report.priority_window_months} 个月（{window.start} 至 {window.end}）的数据作漏斗图检验；"
               f"上周按截至 {report.priority_window_last.end} 的 12 个月检验。")
    c1, c2, c3 = st.columns(3)
    c1.metric("重点督导县", f"{len(report.priority)} 个", border=True)
    c2.metric("本周新列入", f"{len(report.priority_entered)} 个", border=True)
    c3.metric("本周移出", f"{len(report.priority_left)} 个", border=True)
    if report.priority.empty:
        st.info("本周没有县（市、区）列为重点督导。")
    for row in report.priority.itertuples():
        badge = "★ 本周新列入" if row.entered else "▲ 持续列入"
        st.markdown(f"**{badge}**　{plain_markdown(row.city_name or '')}　{plain_markdown(row.sentence)}")
    for row in report.priority_left.itertuples():
        st.markdown(f"**▽ 本周移出**　{plain_markdown(row.city_name or '')}　{plain_markdown(row.sentence)}")
    s = report.settings
    st.markdown(f"**变差信号**（近 {s.spc_recent_weeks} 周每周按期办结率对比前 {s.spc_baseline_weeks} 周基线）："
                + ("没有县（市、区）出现变差信号。" if report.signals.empty else f"{len(report.signals)} 个县（市、区）"))
    for row in report.signals.itertuples():
        st.markdown(f"**▼ 变差**　{plain_markdown(row.sentence)}")


def satisfaction(report: WeeklyReport, present: bool = False) -> None:
    """Satisfaction and 结而不服 this week against last week, and by city."""
    columns = st.columns(KPI_COLUMNS)
    shown = ("satisfaction_rate", "rating_rate", "dispute_rate", "disputed")
    for column, metric_id in zip(columns, shown, strict=True):
        metric_card(column, report, metric_id)
    frame = report.units.sort_values("code")[["name", *SATISFACTION_METRICS]]
    show_table(metric_table(frame, SATISFACTION_METRICS, report.province), hide_index=True, width="stretch",
                 **table_size(len(frame), present),
                 column_config={"name": st.column_config.TextColumn(report.unit_noun, pinned=True),
                                **{m: percent_column_config(m) for m in SATISFACTION_METRICS}})
    if report.ranks_units:
        st.caption(f"比率较{report.region_name}整体更差的标为橙色、更好的标为蓝色。")


def bulletin(report: WeeklyReport, documents: DocumentSettings, issuance: Issuance | None, present: bool = False) -> None:
    """The 通报 paragraph, as plain text (escaped), and a copyable block (not on the projector)."""
    text = bulletin_text(report, documents, issuance)
    for paragraph in text.split("\n"):
        st.markdown(plain_markdown(paragraph))
    if present:
        return
    with st.expander("复制通报文本"):
        st.code(text, language=None, wrap_lines=True)


def show(section: Section, report: WeeklyReport, documents: DocumentSettings, issuance: Issuance | None,
         present: bool = False) -> None:
    """Draw one section (`present`: sized for one 1920x1080 projector screen)."""
    st.header(report.section_title(section))
    match section:
        case Section.KPIS:
            kpis(report)
        case Section.CITIES:
            cities(report, present)
        case Section.OVERDUE:
            overdue(report, present)
        case Section.PRIORITY:
            priority(report)
        case Section.SATISFACTION:
            satisfaction(report, present)
        case Section.CAMPAIGN:
            campaign_section(report.campaign)
        case Section.BULLETIN:
            bulletin(report, documents, issuance, present)
        case _:
            assert_never(section)


def issued_bulletin(data: ScopedData, report: WeeklyReport) -> Issuance | None:
    """The week's 通报 as last issued for the viewer's region (the 文号 register), or None: a draft."""
    subject = bulletin_draft(report, data.documents, data.scope.code, report.as_of).subject
    issued = data.issued_documents(DocumentKind.WEEKLY, [subject]).get(subject)
    return None if issued is None else Issuance(issued.dated, issued.number, issued.reply_due)


def downloads(report: WeeklyReport, data: ScopedData, identity: Identity, issuance: Issuance | None) -> None:
    """The deck and the ledger, built only when their button is clicked, with the 通报 as issued (or its draft)."""
    st.divider()
    if (done := st.session_state.pop(ISSUED_KEY, None)) is not None:
        st.success(done)
    documents = data.documents
    if issuance is None:
        st.caption("本周通报尚未发文：演示稿、台账和通报（Word）中的通报为未编号的稿，文号留空。")
    else:
        st.caption(f"本周通报已发文：{issuance.number}，成文日期 {issuance.dated}，整改反馈期限 {issuance.due}。")
    try:
        cjk_font()
        font_problem = None
    except CJKFontMissing as exc:
        font_problem = str(exc)
    left, right, word, _ = st.columns([1, 1, 1, 2])
    # built only when clicked, and each download written to the audit log like every other one
    deck, ledger, notice = deck_name(report.as_of), workbook_name(report.as_of), bulletin_name(report.as_of)
    word.download_button("下载通报（Word）", recorded_download(lambda: build_bulletin_document(report, documents, issuance), notice),
                         file_name=notice, mime=DOCX_MIME, key="weekly_docx", on_click="ignore", icon=":material/download:")
    left.download_button("下载演示稿（PPTX）", recorded_download(lambda: build_deck(report, documents, issuance), deck),
                         file_name=deck, mime=PPTX_MIME,
                         key="weekly_pptx", on_click="ignore", icon=":material/download:", disabled=font_problem is not None)
    right.download_button("下载台账（XLSX）", recorded_download(lambda: build_workbook(report, documents, issuance), ledger),
                          file_name=ledger, mime=XLSX_MIME, key="weekly_xlsx", on_click="ignore", icon=":material/download:")
    if font_problem:
        st.warning(font_problem)
    if is_supervisor(identity):
        issue_form("weekly_issue", "本周通报", "发出本周通报", issuance is not None,
                   lambda dated: data.issue_documents(
                       identity, [bulletin_draft(report, data.documents, data.scope.code, data.documents.reply_due(dated))],
                       dated)[0], ISSUED_KEY)


def render(view: View, data: ScopedData) -> None:
    """This week against last week in the viewer's region, one section at a time; the meeting pack (not on the
    projector: there a section is all the screen shows)."""
    report = data.weekly(view.chosen_date, view.filters)  # limited to the viewer's region
    this, last = report.this_week, report.last_week
    head = st.container()  # above the controls, drawn once the toggle's state is known
    section = controls()
    present = bool(st.session_state.get(PRESENT_KEY))
    weeks = (f"本周 {this.start} 至 {this.end}（数据截至 {report.as_of}）　对比上周 {last.start} 至 {last.end}"
             f"（截至 {last.as_of_date}）。")
    if present:  # the section's title is the screen's; the sidebar's date is hidden
        head.caption(weeks)
        st.markdown(PRESENT_CSS, unsafe_allow_html=True)
    else:
        head.title("周例会")
        head.caption(weeks + "本页按侧边栏的“截止日期”取本周，不受“统计期”选择影响。")
    issuance = issued_bulletin(data, report)
    show(section, report, data.documents, issuance, present)
    if not present:
        downloads(report, data, current_identity(), issuance)


if __name__ == "__main__":  # run by itself (a fresh server's first deep link): app.py routes, see pages/__init__.py
    hand_over()
