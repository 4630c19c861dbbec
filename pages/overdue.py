"""超期督办: cases past due and still open at the sidebar's 截止日期, by city and county, bucketed by days
overdue, and the cases about to fall due (临期预警).

A stock page: everything here is read at the 截止日期 (View.chosen_date), never at the end of the sidebar's
period — with the default period 上周 that would be last Sunday, and a case due since would read 临期
while it is overdue on the day the sidebar names.
"""
from __future__ import annotations

import datetime as dt

import pandas as pd
import streamlit as st
from streamlit.elements.lib.column_types import ColumnConfig

from data_access.identity.auth import Role
from data_access.reference.enums import Level
from metrics.caselists import OverdueBucket, overdue_bucket, overdue_buckets
from metrics.registry import METRICS_BY_ID
from metrics.warnings import Colour
from pages import hand_over
from presentation.format import falls_due
from presentation.palette import BLUE, ORANGE, SKY, VERMILLION
from ui.access import current_identity, is_supervisor
from ui.charts import stacked_bar_chart
from ui.downloads import download_buttons, for_people
from ui.geo import MapMeasure
from ui.kpi import warning_strip
from ui.maps import region_map
from ui.navigation import drill_to, supervise
from ui.regions import tree
from ui.scoped import ScopedData
from ui.tables import show_table
from ui.vega import show_chart
from ui.view import View

BUCKET_COLOURS = {OverdueBucket.UP_TO_7: SKY, OverdueBucket.UP_TO_30: BLUE, OverdueBucket.UP_TO_90: ORANGE,
                  OverdueBucket.OVER_90: VERMILLION}
LIST_COLUMNS = ("case_id", "city_name", "county_name", "received_date", "due_date", "days_overdue", "bucket",
                "is_first_report", "supervised", "channel", "domain")
ALL_CITIES = "全部"


def bucket_columns() -> dict[str, ColumnConfig]:
    """Column config of the bucket counts, total and first-report count."""
    return {**{b.value: st.column_config.NumberColumn(b.label, format="localized") for b in OverdueBucket},
            "total": st.column_config.NumberColumn("合计", format="localized"),
            "first_report": st.column_config.NumberColumn("其中初次举报", format="localized")}


def headline(ledger: pd.DataFrame) -> None:
    """Total, first-report and over-90-day counts, and the longest delay."""
    c1, c2, c3, c4 = st.columns(4)
    c1.metric(METRICS_BY_ID["overdue"].label, f"{len(ledger):,}", help=METRICS_BY_ID["overdue"].definition, border=True)
    c2.metric(METRICS_BY_ID["first_overdue"].label, f"{int(ledger['is_first_report'].astype(bool).sum()):,}",
              help=METRICS_BY_ID["first_overdue"].definition, border=True)
    over_90 = int((ledger["bucket"] == OverdueBucket.OVER_90.value).sum())
    c3.metric("超期 90 天以上", f"{over_90:,}", help="超期天数（截止日期减办理期限）大于 90 天的超期未办结件。", border=True)
    c4.metric("最长超期天数", f"{int(ledger['days_overdue'].max()):,} 天", help="超期未办结件中超期天数的最大值。", border=True)


def by_city(ledger: pd.DataFrame) -> None:
    """Stacked bars and a table: overdue cases per city and bucket."""
    cities = overdue_buckets(ledger, ("city_code", "city_name"))
    st.subheader("各市超期件（按超期天数分段）")
    left, right = st.columns([3, 2], gap="large")
    long = cities.melt(id_vars=["city_name"], value_vars=[b.value for b in OverdueBucket], var_name="bucket",
                       value_name="cases")
    long["区间"] = long["bucket"].map(lambda v: OverdueBucket(v).label)
    order = [b.label for b in OverdueBucket]
    show_chart(stacked_bar_chart, long, "city_name", "区间", "cases", order, [BUCKET_COLOURS[b] for b in OverdueBucket],
               "市", "超期未办结（件）", target=left)
    right.dataframe(cities.drop(columns="city_code"), hide_index=True, width="stretch",
                    height=min(40 + 35 * len(cities), 620),
                    column_config={"city_name": st.column_config.TextColumn("市", pinned=True), **bucket_columns()})


def filtered(ledger: pd.DataFrame) -> pd.DataFrame:
    """The ledger limited by the filter row (city, buckets, first reports only)."""
    c1, c2, c3 = st.columns([2, 3, 2])
    cities = ledger.drop_duplicates("city_code").sort_values("city_code")
    names = dict(zip(cities["city_code"], cities["city_name"], strict=True))
    city = c1.selectbox("所属市", [ALL_CITIES, *names], format_func=lambda c: names.get(c, c), key="overdue_city")
    buckets = c2.multiselect("超期区间", [b.value for b in OverdueBucket], format_func=lambda v: OverdueBucket(v).label,
                             key="overdue_buckets", placeholder="全部区间")
    first_only = c3.toggle("仅看初次举报", key="overdue_first")
    out = ledger
    if city != ALL_CITIES:
        out = out[out["city_code"] == city]
    if buckets:
        out = out[out["bucket"].isin(buckets)]
    if first_only:
        out = out[out["is_first_report"].astype(bool)]
    return out


def by_county(ledger: pd.DataFrame) -> None:
    """Overdue cases per county and bucket, most first; a click on a row opens the county."""
    counties = overdue_buckets(ledger, ("county_code", "county_name", "city_name"))
    st.markdown(f"**各县（市、区）：{len(counties)} 个有超期件**")
    event = show_table(counties, hide_index=True, width="stretch", height=min(40 + 35 * len(counties), 420),
                         on_select="rerun", selection_mode="single-row", key="overdue_counties",
                         column_config={"county_code": None,
                                        "county_name": st.column_config.TextColumn("县（市、区）", pinned=True),
                                        "city_name": st.column_config.TextColumn("所属市"), **bucket_columns()})
    rows = event.selection.rows if event and event.selection else []
    if rows:
        drill_to(str(counties.iloc[rows[0]]["county_code"]))


def case_list(ledger: pd.DataFrame, stem: str) -> None:
    """The overdue cases, most overdue first, first reports marked; with downloads. A supervisor picks a
    row and opens a supervision item for that case in one click."""
    st.markdown(f"**超期件清单：{len(ledger):,} 件（按超期天数从多到少）**")
    people = for_people(ledger[list(LIST_COLUMNS)].assign(bucket=ledger["bucket"].map(lambda v: OverdueBucket(v).label)),
                        {"bucket": "超期区间"})
    event = show_table(people, hide_index=True, width="stretch", height=520, on_select="rerun",
                       selection_mode="single-row", key="overdue_case_rows",
                       column_config={"超期天数": st.column_config.NumberColumn("超期天数", format="%d 天")})
    picked = ledger.iloc[event.selection.rows[0]] if event and event.selection and event.selection.rows else None
    supervise_button(picked, lambda row: (f"件号 {row['case_id']} 超期 {int(row['days_overdue'])} 天未办结",
                                          "请立即督促办结，并书面反馈超期原因和整改措施。"), key="supervise_overdue")
    download_buttons(people, stem, key="overdue_cases")


def supervise_button(row: pd.Series | None, words, key: str) -> None:
    """督办此件: for a supervisor, a button opening the 督办台账 with the picked case drafted (words(row)
    gives the item's title and reason); nothing is written until the item is opened there."""
    if not is_supervisor(current_identity()):
        return
    label = f"对所选案件挂账督办（件号 {row['case_id']}）" if row is not None else "对所选案件挂账督办（先在表中选一行）"
    if st.button(label, key=key, disabled=row is None, icon=":material/assignment_add:") and row is not None:
        title, reason = words(row)
        supervise(str(row["county_code"]), title, reason, case_id=str(row["case_id"]))


def yellow_section(view: View, data: ScopedData) -> None:
    """临期预警: open cases due within the yellow window, the nearest deadline first; with downloads."""
    workdays = data.settings.warning_workdays
    st.subheader(f"临期预警：{workdays} 个工作日内到期")
    as_of = view.chosen_date
    yellow = data.warnings(as_of, view.filters, (Colour.YELLOW.value,))
    if yellow.empty:
        st.info(f"截至 {as_of:%Y-%m-%d}，没有 {workdays} 个工作日内到期的在办件。")
        return
    regions = tree()
    today = dt.date.today()
    shown = yellow.assign(county_name=yellow["county_code"].map(regions.name),
                          city_name=yellow["county_code"].map(regions.city_name),
                          falls_due=[falls_due(due, as_of, today) for due in yellow["due_date"]])
    st.markdown(f"**临期件清单：{len(shown):,} 件（按办理期限从近到远；到期时间和剩余工作日均自截止日期 {as_of:%Y-%m-%d} 起算）**")
    people = for_people(shown[["case_id", "city_name", "county_name", "received_date", "due_date", "falls_due",
                               "working_days_left", "supervised"]],
                        {"falls_due": "到期时间", "working_days_left": "剩余工作日"})
    event = show_table(people, hide_index=True, width="stretch", height=min(40 + 35 * len(people), 420), on_select="rerun",
                       selection_mode="single-row", key="yellow_case_rows",
                       column_config={"剩余工作日": st.column_config.NumberColumn("剩余工作日", format="%d 天")})
    picked = shown.iloc[event.selection.rows[0]] if event and event.selection and event.selection.rows else None
    supervise_button(picked, lambda row: (
        f"件号 {row['case_id']} 将于 {row['due_date']} 到期（剩 {int(row['working_days_left'])} 个工作日）",
        "请在办理期限内办结，确有困难的按规定办理延期并书面说明。"), key="supervise_yellow")
    download_buttons(people, f"临期预警_{as_of}", key="yellow_cases")


def render(view: View, data: ScopedData) -> None:
    """The deadline warnings and the overdue ledger at the sidebar's 截止日期: a county user, who can still
    act, sees the cases about to fall due first; supervisors see the overdue stock first."""
    st.title("超期督办")
    st.caption(view.stock_caption())
    st.caption(f"超期：截至 {view.chosen_date:%Y-%m-%d} 日终已过办理期限、仍未办结的检举控告件"
               "（超期天数 = 截止日期 − 办理期限）；临期：办理期限在截止日期起若干个工作日内的在办件。"
               "要看其他日期的存量，请改侧边栏的截止日期。")
    counts = data.warning_counts(view.chosen_date, tree().level(view.root), view.filters, parent=view.root)
    warning_strip(counts, None, view.chosen_date, data.settings.warning_workdays)
    county_user = current_identity().role is Role.COUNTY
    if not county_user:
        warning_map(view, data)
    if county_user:
        yellow_section(view, data)
    overdue_section(view, data)
    if not county_user:
        yellow_section(view, data)


WARNING_MEASURES = {"red": ("超期（红）件数", "截止日期已过办理期限、仍未办结的检举控告件"),
                    "yellow": ("临期（黄）件数", "截止日期在办、即将到期的检举控告件")}


def warning_map(view: View, data: ScopedData) -> None:
    """The counties of the viewer's region on the map, coloured by their red (overdue) or yellow (about to
    fall due) cases; a click opens the county."""
    counties = data.warning_counts(view.chosen_date, Level.COUNTY, view.filters, parent=view.root)
    if counties.empty:
        return
    regions = tree()
    colour = st.segmented_control("地图着色", list(WARNING_MEASURES), default="red", key="overdue_map_colour",
                                  format_func=lambda c: WARNING_MEASURES[c][0], required=True) or "red"
    label, meaning = WARNING_MEASURES[colour]
    units = counties.assign(name=counties["code"].map(regions.name), value=counties[colour].astype(float))
    measure = MapMeasure("value", label, higher_better=False, fmt=lambda v: "—" if v is None or v != v else f"{int(v):,} 件")
    if (code := region_map(view.province, Level.COUNTY, units, measure, key=f"overdue_map_{colour}")) is not None:
        drill_to(code)
    st.caption(f"{meaning}，按县（市、区）着色；点击一县进入该县。")


def overdue_section(view: View, data: ScopedData) -> None:
    """The overdue ledger: headline, by city, then by county and case, filtered."""
    ledger = data.overdue(view.chosen_date, view.filters)
    if ledger.empty:
        st.info(f"截至 {view.chosen_date:%Y-%m-%d}，没有超期未办结的检举控告件。")
        return
    ledger = ledger.assign(bucket=overdue_bucket(ledger["days_overdue"]))
    headline(ledger)
    if tree().level(view.root) is Level.PROVINCE:  # a city's or a county's ledger has one city: the counties follow
        by_city(ledger)
    st.subheader("各县（市、区）与超期件清单")
    shown = filtered(ledger)
    if shown.empty:
        st.info("没有符合筛选条件的超期件。")
    else:
        by_county(shown)
        case_list(shown, f"超期督办_{view.chosen_date}")


if __name__ == "__main__":  # run by itself (a fresh server's first deep link): app.py routes, see pages/__init__.py
    hand_over()
