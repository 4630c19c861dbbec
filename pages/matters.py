"""积案化解 (越级重复举报专项治理): the repeat matters screened at the sidebar's 截止日期, the campaign that takes them
on (纳入专项治理, 包案, 进展, 化解, 案结事了, 反弹) and each matter's timeline.

Relapses are recorded when the page is opened: a campaign matter with a report the campaign has not seen at the
截止日期 is marked 反弹 at once (by the viewer, in the audit log), so every supervisor sees it without a click and the
周例会 reads the same state. The page offers only what the viewer's role allows; data_access.supervision.campaign decides
(scope, role, state, what the data shows) and the page shows its answer. 包案 and notes are typed by officials
and shown in tables, never as Markdown.
"""
from __future__ import annotations

import datetime as dt

import pandas as pd
import streamlit as st

from data_access.identity.auth import Identity, OutOfScope, Role
from data_access.reference.enums import Channel, Level, ReceivedLevel
from data_access.supervision.campaign import State, Step
from data_access.supervision.document_register import DocumentKind
from data_access.supervision.ledger import LedgerRefused
from metrics.campaign_week import NotACity
from metrics.matters import MatterTier
from pages import hand_over
from presentation.documents import Issuance
from presentation.format import EMPTY
from reports.campaign_docs import build_dossier, build_letter, dossier_name, letter_draft, letter_name, letter_subject
from reports.docx_form import DOCX_MIME
from ui import steps
from ui.access import current_identity
from ui.downloads import recorded_download
from ui.geo import MapMeasure
from ui.guard import guarded
from ui.issuing import issue_form
from ui.maps import region_map
from ui.regions import RegionTree, tree
from ui.scoped import ScopedData
from ui.tables import show_table
from ui.view import View

DONE_KEY = "_matters_done"  # the message of the step just taken, shown after the rerun
LETTER_ISSUED_KEY = "_matters_letter_issued"  # the message of the 交办函 just issued, shown after the rerun
DEADLINE_DAYS = 60  # the default 限期办结: two months from today
OTHER_REGION = "（本级管辖范围外）"
NOT_ENROLLED = "未纳入"
SCREENED_LABELS = {"matter": "事项编号", "city_name": "所属市", "county_name": "承办县（市、区）", "tier_label": "分级",
                   "badges": "特征", "reports": "举报件数", "first_received": "首次举报", "last_received": "最近举报",
                   "latest": "最新办理情况", "campaign": "专项治理"}
CAMPAIGN_LABELS = {"matter": "事项编号", "city_name": "所属市", "county_name": "承办县（市、区）", "state_label": "状态",
                   "deadline": "限期办结", "mode": "交办方式", "enrolled_on": "纳入日期", "known_reports": "已掌握举报"}
REGION_LABELS = {"name": "地区", "cases": "检举控告件", "screened": "列入筛选积案", "per_100": "每百件积案",
                 "enrolled": "纳入专项治理", "assigned_rate": "包案率", "resolved_rate": "化解率", "overdue": "超期未化解",
                 "relapsed": "反弹"}
PER_100 = MapMeasure("per_100", "每百件检举控告列入筛选积案", False, lambda v: EMPTY if v is None or v != v else f"{v:.2f}")


def percent(rate: float) -> str:
    return EMPTY if rate != rate else f"{rate * 100:.1f}%"


def badges(row: pd.Series) -> list[str]:
    """多年 / 多层 / 多头 as text chips (emoji render as boxes on the intranet's Chromium)."""
    return [label for label, on in (("多年", row["years"] >= 2), ("多层", row["levels"] >= 2), ("多头", row["channels"] >= 2))
            if on]


def latest_state(row: pd.Series) -> str:
    """What the latest reports show: reports still open, the latest contested, or all closed."""
    if row["open"]:
        return f"{row['open']} 件未办结"
    return "最新一件结而不服" if row["disputed_last"] else "均已办结"


def headline(row: pd.Series, screen_min_reports: int) -> None:
    """积案 screened, enrolled, 包案率, 化解率, 超期未化解, 反弹 of the viewer's region."""
    screened = (f"截止日期时举报 {screen_min_reports} 件及以上、多年/多层/多头且未案结事了的事项"
                "（按最新一件举报所在地计）。")
    cards = (("列入筛选积案", f"{row['screened']:,} 件", screened),
             ("纳入专项治理", f"{row['enrolled']:,} 件", "截止日期日终时已交办的专项治理事项（按承办县计）。"
              "截止日期为数据的最后一天（默认）时按专项治理的当前状态计；更早的截止日期按该日日终时的状态计，"
              "其后的操作不计入。与周例会一致。"),
             ("包案率", percent(row["assigned_rate"]), "已确定包案领导、工作专班和化解方案的事项 ÷ 纳入专项治理的事项。"),
             ("化解率", percent(row["resolved_rate"]), "县（市、区）报告已化解或已确认案结事了的事项 ÷ 纳入专项治理的事项。"),
             ("超期未化解", f"{row['overdue']:,} 件", "截止日期时已过限期办结日、尚未确认案结事了的事项。"),
             ("反弹", f"{row['relapsed']:,} 件", "纳入专项治理后又有新举报、尚未重新化解的事项。"))
    for column, (label, value, help_text) in zip(st.columns(len(cards)), cards, strict=True):
        column.metric(label, value, border=True, help=help_text)


def region_section(view: View, data: ScopedData, regions: RegionTree, as_of: dt.date) -> None:
    """The units below the viewer's region and the county map of screened matters per 100 cases."""
    level = regions.level(view.root)
    child = level.child() or level
    table = data.campaign_table(child, as_of, parent=view.root)
    table = table.assign(name=table["code"].map(regions.name))
    left, right = st.columns(2, gap="large")  # the map's zoom fits a half-width column (ui.maps)
    with left:
        st.subheader(f"各{child.label}情况")
        shown = table.assign(assigned_rate=table["assigned_rate"] * 100, resolved_rate=table["resolved_rate"] * 100)
        show_table(shown[list(REGION_LABELS)].rename(columns=REGION_LABELS), hide_index=True, width="stretch",
                   height=min(40 + 35 * len(shown), 620),
                   column_config={"每百件积案": st.column_config.NumberColumn(format="%.2f"),
                                  "包案率": st.column_config.NumberColumn(format="%.1f%%"),
                                  "化解率": st.column_config.NumberColumn(format="%.1f%%")})
    with right, guarded("积案分布图"):
        st.subheader("积案分布图")
        counties = data.campaign_table(Level.COUNTY, as_of, parent=view.root)
        counties = counties.assign(name=counties["code"].map(regions.name))
        region_map(view.province, Level.COUNTY, counties, PER_100, key="matters_map", height=520, width="half")


def screened_frame(matters: pd.DataFrame, enrolled: pd.DataFrame, regions: RegionTree) -> pd.DataFrame:
    """The screened matters with names, badges and labels for the list; the campaign state of those enrolled."""
    out = matters[matters["screened"].astype(bool)].copy()
    states = dict(zip(enrolled["matter"], enrolled["state"], strict=True)) if not enrolled.empty else {}
    out["county_name"] = out["county_code"].map(regions.name)
    out["city_name"] = out["county_code"].map(regions.city_name)
    out["tier_label"] = out["tier"].map(lambda v: MatterTier(v).label)
    out["badges"] = [badges(row) for _, row in out.iterrows()]
    out["latest"] = [latest_state(row) for _, row in out.iterrows()]
    out["campaign"] = out["matter"].map(lambda key: State(states[key]).label if key in states else NOT_ENROLLED)
    return out


def enrol_section(data: ScopedData, identity: Identity, screened: pd.DataFrame, as_of: dt.date) -> None:
    """纳入专项治理: one matter (交办) or several at once (集中交办), with a 限期办结."""
    open_keys = list(screened.loc[screened["campaign"] == NOT_ENROLLED, "matter"])
    if not open_keys:
        return
    labels = dict(zip(screened["matter"], screened["matter"] + "　" + screened["county_name"] + "　"
                      + screened["reports"].astype(str) + " 件", strict=True))
    today = dt.date.today()
    left, right = st.columns([3, 1])
    chosen = left.multiselect("选择纳入专项治理的事项（可多选，集中交办）", open_keys, format_func=labels.__getitem__,
                              placeholder="从列入筛选的事项中选择", key="matters_pick")
    deadline = right.date_input("限期办结", value=today + dt.timedelta(days=DEADLINE_DAYS), min_value=today,
                                format="YYYY-MM-DD", key="matters_deadline")
    what = "集中交办" if len(chosen) > 1 else "交办"
    if st.button(f"纳入专项治理（{what}{len(chosen)} 件）" if chosen else "纳入专项治理", type="primary",
                 disabled=not chosen, icon=":material/playlist_add_check:", key="matters_enrol"):
        take_step(lambda: data.enrol_matters(identity, chosen, deadline, as_of),
                  f"已纳入专项治理（{what}）：{len(chosen)} 件，限期 {deadline} 办结。")


def take_step(step, done: str) -> None:
    """Run one campaign write (ui.steps: the data layer's refusal shown in Chinese, nothing written)."""
    steps.take_step(step, done, DONE_KEY)


def campaign_frame(enrolled: pd.DataFrame, regions: RegionTree) -> pd.DataFrame:
    """The campaign matters with names and labels; 超期未化解 named in the state."""
    out = enrolled.copy()
    out["county_name"] = out["county_code"].map(regions.name)
    out["city_name"] = out["county_code"].map(regions.city_name)
    out["state_label"] = [f"{State(s).label}（超期）" if late else State(s).label
                          for s, late in zip(out["state"], out["overdue"], strict=True)]
    out["mode"] = out["batch"].map(lambda b: "集中交办" if isinstance(b, str) and b else "交办")
    out["enrolled_on"] = pd.to_datetime(out["enrolled_at"]).dt.date
    return out


def report_rows(reports: pd.DataFrame, regions: RegionTree) -> pd.DataFrame:
    """The matter's reports as timeline rows: 时间, 环节, 内容 (another region's report without its case_id)."""
    rows = []
    for number, report in enumerate(reports.itertuples(index=False), start=1):
        level = ReceivedLevel(report.received_level).label if report.received_level else "受理层级不详"
        where = f"{regions.city_name(report.county_code)}{regions.name(report.county_code)}"
        state = ("办结（结而不服）" if report.disputed else "办结") if report.closed_date is not None else "在办"
        case = report.case_id if report.in_scope else OTHER_REGION
        rows.append({"时间": str(report.received_date), "环节": f"第 {number} 次举报",
                     "内容": f"{level}受理，{Channel(report.channel).label}，{where}，{state}，件号 {case}"})
    return pd.DataFrame(rows, columns=["时间", "环节", "内容"])


def step_rows(history: pd.DataFrame, names: dict[str, str]) -> pd.DataFrame:
    """The campaign's steps as timeline rows, who took each by display name."""
    return pd.DataFrame({"时间": pd.to_datetime(history["at"]).dt.strftime("%Y-%m-%d %H:%M"),
                         "环节": history["action"].map(lambda v: Step(v).label),
                         "内容": history["username"].map(lambda u: names.get(u, u)) + "：" + history["detail"]},
                        columns=["时间", "环节", "内容"])


def matter_panel(data: ScopedData, identity: Identity, key: str, row: pd.Series | None, regions: RegionTree,
                 as_of: dt.date) -> None:
    """One matter: its timeline (reports, then the campaign's steps), its 包案 records and notes, the next step."""
    reports = data.matter_reports(key, as_of)
    st.subheader(f"事项 {key}")
    if row is None:
        st.caption(f"尚未纳入专项治理。截至 {as_of} 共 {len(reports)} 件举报。")
    else:
        st.caption(f"当前状态：{State(row['state']).label}　限期 {row['deadline']} 办结"
                   f"{'（已超期）' if row['overdue'] else ''}　{row['mode']}，{row['enrolled_on']} 纳入")
    history = data.matter_history(row["id"]) if row is not None else pd.DataFrame(columns=["at", "action", "username", "detail"])
    names = data.display_names()  # people are named as they are called, never by their username
    timeline = pd.concat([report_rows(reports, regions), step_rows(history, names)], ignore_index=True)
    st.markdown("**时间线**")
    show_table(timeline, hide_index=True, width="stretch")
    if row is None:
        return
    plans = data.matter_assignments(row["id"])
    if not plans.empty:
        st.markdown("**包案记录**（最后一条为现行）")
        show_table(plans.assign(set_by=plans["set_by"].map(lambda u: names.get(u, u)))[
            ["seq", "leader_name", "leader_post", "team", "plan", "set_by", "set_at"]].rename(columns={
            "seq": "序号", "leader_name": "包案领导", "leader_post": "职务", "team": "工作专班", "plan": "化解方案",
            "set_by": "设定人", "set_at": "时间"}), hide_index=True, width="stretch")
    notes = data.matter_notes(row["id"])
    if not notes.empty:
        st.markdown("**进展与化解情况**")
        show_table(notes.assign(kind=notes["kind"].map(lambda v: Step(v).label),
                                written_by=notes["written_by"].map(lambda u: names.get(u, u)))[
            ["kind", "note", "written_by", "written_at"]]
                   .rename(columns={"kind": "类别", "note": "内容", "written_by": "填写人", "written_at": "时间"}),
                   hide_index=True, width="stretch")
    dossier_button(data, str(row["id"]))
    step_forms(data, identity, row, plans, as_of)


def dossier_button(data: ScopedData, campaign_matter_id: str) -> None:
    """一案一档: the matter's whole file for print (Word) — its reports, 包案 record, steps, notes and 督办 items as they
    are today (a file printed now holds every step taken, whatever the sidebar's 截止日期)."""
    dossier = data.matter_dossier(campaign_matter_id, dt.date.today())
    if dossier is None:
        return
    issuer = issuer_name(data)
    name = dossier_name(dossier)
    st.download_button("打印一案一档（Word）", recorded_download(lambda: build_dossier(dossier, data.documents, issuer), name),
                       file_name=name, mime=DOCX_MIME, key=f"dossier_{campaign_matter_id}", on_click="ignore",
                       icon=":material/print:")


def issuer_name(data: ScopedData) -> str:
    """The office a document of this page comes from: 全省 for the province, else the viewer's region."""
    return "全省" if data.scope.code is None else tree().name(data.scope.code)


def letter_section(data: ScopedData, identity: Identity, regions: RegionTree) -> None:
    """交办函: the province writes to each city its campaign matters not yet 案结事了 (download, and issue with a 文号);
    a city user downloads the letter to its city. A letter is written about the campaign as it is today (the day
    of writing; the matters just enrolled are in it), whatever the sidebar's 截止日期."""
    as_of = dt.date.today()
    enrolled = data.campaign_matters(as_of)
    if identity.role is Role.PROVINCE:
        parents = {regions.parent(code) for code in enrolled["county_code"]} if not enrolled.empty else set()
        cities = sorted(code for code in parents if code is not None)
    elif identity.role is Role.CITY and data.scope.code is not None and not enrolled.empty:
        cities = [data.scope.code]
    else:
        return
    if not cities:
        return
    st.subheader("交办函")
    if (done := st.session_state.pop(LETTER_ISSUED_KEY, None)) is not None:
        st.success(done)
    city = cities[0] if len(cities) == 1 else st.selectbox("交办对象", cities, format_func=regions.name, key="letter_city")
    try:
        letter = data.campaign_letter(city, as_of)
    except (OutOfScope, NotACity) as refused:
        st.error(f"无法生成交办函：{refused}")
        return
    subject = letter_subject(letter)
    issued = data.issued_documents(DocumentKind.CAMPAIGN_LETTER, [subject]).get(subject)
    issuance = None if issued is None else Issuance(issued.dated, issued.number, issued.reply_due)
    st.caption(f"致{letter.city_name}纪委监委：截至 {as_of} 尚未案结事了的专项治理事项 {len(letter.matters)} 件，"
               f"其中未确定包案领导 {letter.without_leader} 件。"
               + (f"已发文：{issued.number}，成文日期 {issued.dated}。" if issued else "尚未发文：下载的是未编号的稿。"))
    name = letter_name(letter)
    st.download_button("下载交办函（Word）", recorded_download(lambda: build_letter(letter, data.documents, issuance, "全省"), name),
                       file_name=name, mime=DOCX_MIME, key="letter_docx", on_click="ignore", icon=":material/download:")
    if identity.role is Role.PROVINCE:
        issue_form("letter_issue", "交办函", "发出交办函", issued is not None,
                   lambda dated: data.issue_documents(
                       identity, [letter_draft(letter, data.documents, "全省", data.documents.reply_due(dated))], dated)[0],
                   LETTER_ISSUED_KEY)


def step_forms(data: ScopedData, identity: Identity, row: pd.Series, plans: pd.DataFrame, as_of: dt.date) -> None:
    """What the viewer's role may do next on the matter (data_access.supervision.campaign checks it again)."""
    state, matter_id = State(row["state"]), str(row["id"])
    if identity.role in (Role.CITY, Role.COUNTY) and state in (State.ENROLLED, State.ASSIGNED, State.RELAPSED):
        assign_form(data, identity, matter_id, state, plans)
    if identity.role is Role.COUNTY and state in (State.ASSIGNED, State.RESOLVED, State.RELAPSED) and not plans.empty:
        with st.form(f"progress_{matter_id}", border=True):
            note = st.text_area("进展情况或化解情况（不得填写举报人姓名、电话、身份证号等信息）", max_chars=1000)
            progress, resolve = st.columns(2)
            if progress.form_submit_button("报送进展", icon=":material/edit_note:"):
                take_step(lambda: data.note_matter_progress(identity, matter_id, note, state), "已报送进展。")
            if state is not State.RESOLVED and resolve.form_submit_button("报告已化解", type="primary",
                                                                          icon=":material/task_alt:"):
                take_step(lambda: data.claim_matter_resolved(identity, matter_id, note, state), "已报告化解，待省级确认案结事了。")
    if identity.role is Role.PROVINCE and state is State.RESOLVED:
        with st.form(f"settle_{matter_id}", border=True):
            note = st.text_input("确认意见（可不填）", max_chars=1000)
            st.caption(f"按截止日期 {as_of} 的数据核对：无在办举报、最新一件未结而不服、且已满无新举报的观察期，方可确认。")
            if st.form_submit_button("确认案结事了", type="primary", icon=":material/verified:"):
                take_step(lambda: data.confirm_matter_settled(identity, matter_id, as_of, note, state), "已确认案结事了。")


def assign_form(data: ScopedData, identity: Identity, matter_id: str, state: State, plans: pd.DataFrame) -> None:
    """包案: set, or change (a new record, the earlier kept), the leader, the 工作专班 and the 化解方案."""
    current = plans.iloc[-1] if not plans.empty else None
    title = "变更包案" if current is not None else "确定包案（一个积案、一名领导、一套班子、一个方案）"
    with st.expander(title, expanded=current is None, icon=":material/assignment_ind:"), \
            st.form(f"assign_{matter_id}", border=False):
        left, right = st.columns(2)
        name = left.text_input("包案领导姓名", value="" if current is None else current["leader_name"], max_chars=32)
        post = right.text_input("包案领导职务", value="" if current is None else current["leader_post"], max_chars=64,
                                placeholder="如：任城区纪委书记")
        team = st.text_area("工作专班", value="" if current is None else current["team"], max_chars=500)
        plan = st.text_area("化解方案", value="" if current is None else current["plan"], max_chars=2000)
        if st.form_submit_button("保存包案", type="primary", icon=":material/save:"):
            take_step(lambda: data.assign_matter(identity, matter_id, state, leader_name=name, leader_post=post,
                                                 team=team, plan=plan), "已保存包案。")


def record_relapses(data: ScopedData, identity: Identity, as_of: dt.date) -> None:
    """反弹 found at the 截止日期, recorded as the page opens (see the module's docstring), and said."""
    try:
        recorded = data.record_matter_relapses(identity, as_of)
    except (LedgerRefused, OutOfScope) as refused:
        st.error(f"反弹未能记录：{refused}")
        return
    if recorded:
        st.warning(f"截至 {as_of}，{len(recorded)} 个专项治理事项有新举报，已记录为反弹。", icon=":material/replay:")


def render(view: View, data: ScopedData) -> None:
    """The campaign in the viewer's region at the sidebar's 截止日期."""
    identity, regions = current_identity(), tree()
    as_of = view.chosen_date  # a stock page, read at the 截止日期 like 督办台账
    st.title("积案化解")
    st.caption(f"{view.stock_caption(with_filters=False)}：越级重复举报专项治理，筛选多年、多层、多头举报的积案，"
               "一个积案、一名领导、一套班子、一个方案、一抓到底。")
    st.caption("纳入专项治理（省级，或市级对所辖县）→ 包案（持有该事项的市、县）→ 进展与化解（县）"
               "→ 案结事了（省级，数据显示已案结事了时）。"
               "打开本页时，已纳入的事项若有新举报即记录为反弹。每一步都记入审计日志；包案和进展内容不得填写举报人信息。")
    if (done := st.session_state.pop(DONE_KEY, None)) is not None:
        st.success(done)
    record_relapses(data, identity, as_of)
    level = regions.level(view.root)
    totals = data.campaign_table(level, as_of, parent=view.root)
    headline(totals.iloc[0], data.settings.screen_min_reports)
    region_section(view, data, regions, as_of)
    enrolled = data.campaign_matters(as_of)
    screened = screened_frame(data.repeat_matters(as_of), enrolled, regions)
    st.subheader(f"列入筛选的积案：{len(screened):,} 件")
    if screened.empty:
        st.info(f"截至 {as_of}，本地区没有列入筛选的重复举报事项。")
    else:
        show_table(screened[list(SCREENED_LABELS)].rename(columns=SCREENED_LABELS), hide_index=True, width="stretch",
                   height=min(40 + 35 * len(screened), 420),
                   column_config={"特征": st.column_config.ListColumn("特征", help="多年：跨 2 个以上年度；多层：2 个以上受理层级；"
                                                                                 "多头：2 个以上渠道。")})
        if identity.role in (Role.PROVINCE, Role.CITY):
            enrol_section(data, identity, screened, as_of)
    st.subheader(f"专项治理事项：{len(enrolled):,} 件")
    last_day = data.latest_received()
    if last_day is not None and as_of < last_day:
        st.info(f"截止日期 {as_of} 早于数据的最后一天 {last_day}：上方的统计是专项治理在该日日终时的状态；"
                "本清单、事项的包案与进展和各项操作是当前状态（含该日以后纳入的事项）。")
    shown = campaign_frame(enrolled, regions) if not enrolled.empty else enrolled
    if not enrolled.empty:
        show_table(shown[list(CAMPAIGN_LABELS)].rename(columns=CAMPAIGN_LABELS), hide_index=True, width="stretch")
    letter_section(data, identity, regions)
    choices = [*shown["matter"], *(k for k in screened["matter"] if k not in set(shown["matter"]))] if not shown.empty \
        else list(screened["matter"])
    if not choices:
        return
    picked = st.selectbox("查看事项（时间线、包案、进展）", choices, index=None, placeholder="选择一个事项", key="matter_open")
    if picked is not None:
        row = shown[shown["matter"] == picked].iloc[0] if not shown.empty and picked in set(shown["matter"]) else None
        matter_panel(data, identity, picked, row, regions, as_of)


if __name__ == "__main__":  # run by itself (a fresh server's first deep link): app.py routes, see pages/__init__.py
    hand_over()
