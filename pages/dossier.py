"""案件档案: one case found by the frame's 查找案件 box (件号, 12388 来电编号 or 督办事项编号) — its state and deadline
colour at the sidebar's 截止日期, its dates, its 督办 items with their steps, the 12388 calls about it, the other
reports of its matter, links to its county and city — laid out for printing.

The number and the scope check are metrics.dossier's: a case the viewer may not see answers 无权查看该案件 and
nothing more, an unknown number 未找到. No reporter identity exists in the tables read here.
"""
from __future__ import annotations

import datetime as dt
from typing import Any

import pandas as pd
import streamlit as st

from data_access.identity.auth import Role
from data_access.identity.scope import Scope
from data_access.reference.enums import (
    Category,
    Channel,
    ComplaintKind,
    Feedback,
    LabelledEnum,
    ReceivedLevel,
    Satisfaction,
    SpotCheckResult,
)
from data_access.supervision.ledger import Method, Status, Step
from metrics.dossier import Dossier, Outcome
from metrics.warnings import Colour
from pages import hand_over
from presentation.format import plain_markdown
from ui.case_search import searched_term
from ui.navigation import drill_to
from ui.printing import print_button, print_now, print_style
from ui.scoped import ScopedData
from ui.view import View

EMPTY = "—"
BADGE_COLOURS: dict[Colour, Any] = {Colour.RED: "red", Colour.YELLOW: "yellow", Colour.GREEN: "green"}


def label(enum: type[LabelledEnum], value: object) -> str:
    """The Chinese label of a stored value ('—' when empty; the value itself when the set does not know it)."""
    if value is None or (isinstance(value, float) and pd.isna(value)) or value == "":
        return EMPTY
    try:
        return enum(str(value)).label
    except ValueError:
        return str(value)


def day(value: object) -> str:
    """A date (or time) as the page prints it."""
    if value is None or value is pd.NaT or (isinstance(value, float) and pd.isna(value)):
        return EMPTY
    if isinstance(value, dt.datetime):
        return value.strftime("%Y-%m-%d %H:%M")
    if isinstance(value, (dt.date, pd.Timestamp)):
        return value.strftime("%Y-%m-%d")
    return str(value)


def yes_no(value: object) -> str:
    """是 / 否 of a stored flag."""
    return "是" if bool(value) else "否"


def text(value: object) -> str:
    """A stored text ('—' when empty)."""
    return EMPTY if value is None or (isinstance(value, float) and pd.isna(value)) or str(value) == "" else str(value)


def with_deadline(done: object, deadline: object) -> str:
    """A notice's date and, when the case has one, the day it was due (15 working days, data_access.reference.workdays)."""
    return day(done) if day(deadline) == EMPTY else f"{day(done)}（应于 {day(deadline)} 前）"


def facts_table(rows: list[tuple[str, str]]) -> None:
    """Two columns, 项目 and 内容."""
    st.table(pd.DataFrame(rows, columns=["项目", "内容"]), hide_index=True)


def state_line(d: Dossier) -> None:
    """办理状态 and the 三色预警 colour as a CSS chip (no emoji: they print as boxes on some systems)."""
    case = d.case
    closed = case["closed_date"] is not None and case["closed_date"] <= d.as_of
    if closed:
        st.badge(f"已办结（{day(case['closed_date'])}）", color="gray")
    elif d.colour is not None and d.working_days_left is not None:
        left = d.working_days_left
        detail = f"已超期 {-left} 个工作日" if left < 0 else f"距办理期限还有 {left} 个工作日"
        st.badge(f"{d.colour.label}：{detail}", color=BADGE_COLOURS[d.colour])
    elif case["received_date"] > d.as_of:
        st.badge("截止日期时尚未受理", color="gray")
    else:
        st.badge(f"在办（{label(Category, case['category'])}件，不设办理期限预警）", color="blue")


def basics(d: Dossier) -> None:
    case = d.case
    st.subheader("基本情况")
    facts_table([
        ("件号", text(case["case_id"])),
        ("所属地区", f"{text(case.get('city_name'))} {text(case['county_name'])}"),
        ("来源渠道", label(Channel, case["channel"])),
        ("类别", label(Category, case["category"])),
        ("领域", text(case["domain"])),
        ("初次举报 / 越级 / 重复", f"{yes_no(case['is_first_report'])} / {yes_no(case['is_leapfrog'])} / "
                                f"{yes_no(case['is_repeat'])}"),
        ("实名举报", yes_no(case["is_real_name"])),
        ("事项编号", text(case.get("matter_id"))),
        ("受理层级", label(ReceivedLevel, case.get("received_level"))),
    ])


def dates(d: Dossier) -> None:
    case = d.case
    due = day(case["effective_due"]) + ("" if case["due_date"] is not None else "（未填，按默认办理期限推算）")
    st.subheader("办理时间")
    facts_table([
        ("受理日期", day(case["received_date"])),
        ("办理期限", due),
        ("办结日期", day(case["closed_date"])),
        ("受理告知日期", with_deadline(case["accepted_notice_date"], case.get("notice_deadline"))),
        ("结果告知日期", with_deadline(case["result_notice_date"], case.get("feedback_deadline"))),
        ("满意度", label(Satisfaction, case["satisfaction"])),
        ("结而不服", yes_no(case["disputed"])),
    ])


def supervision(d: Dossier) -> None:
    st.subheader(f"督办事项（{len(d.items)} 项）")
    if d.items.empty:
        st.caption("该案件没有督办事项。")
        return
    for _, item in d.items.iterrows():
        st.markdown(f"**{plain_markdown(str(item['title']))}**")
        facts_table([
            ("督办事项编号", text(item["id"])),
            ("状态", label(Status, item["status"])),
            ("督办方式", label(Method, item["method"])),
            ("反馈期限", day(item["reply_due"])),
            ("挂账时间", day(item["opened_at"])),
            ("督办要求", text(item["reason"])),
        ])
        steps = d.steps[d.steps["item_id"] == item["id"]]
        st.table(pd.DataFrame({
            "时间": [day(v) for v in steps["at"]],
            "步骤": [label(Step, v) for v in steps["action"]],
            "办理层级": [label(Role, v) for v in steps["role"]],
            "说明": [text(v) for v in steps["note"]],
            "承诺办结日期": [day(v) for v in steps["promised_date"]],
        }), hide_index=True)


def calls(d: Dossier) -> None:
    st.subheader(f"12388 来电（{len(d.calls)} 件）")
    if d.calls.empty:
        st.caption("没有关于该案件的 12388 来电。")
        return
    c = d.calls
    st.table(pd.DataFrame({
        "来电编号": [text(v) for v in c["complaint_id"]],
        "来电日期": [day(v) for v in c["received_date"]],
        "反映问题": [label(ComplaintKind, v) for v in c["kind"]],
        "通报月份": [text(v) for v in c["notified_month"]],
        "核查反馈": [label(Feedback, v) for v in c["feedback"]],
        "反馈说明": [text(v) for v in c["feedback_note"]],
        "抽查结果": [label(SpotCheckResult, v) for v in c["spot_check_result"]],
    }), hide_index=True)


def matter(d: Dossier) -> None:
    if d.matter_key is None:
        return
    r = d.matter_reports
    st.subheader(f"同一事项的其他举报（事项 {plain_markdown(d.matter_key)}，{len(r)} 件）")
    st.caption("按事项编号归并（去掉首尾空白；未填的以件号为事项编号），与越级重复举报筛选口径一致：只计截止日期前收到的检举控告类举报，"
               "办结情况截至截止日期；只列本级管辖范围内的举报。")
    st.table(pd.DataFrame({
        "件号": [text(v) for v in r["case_id"]],
        "县（市、区）": [text(v) for v in r["county_name"]],
        "受理日期": [day(v) for v in r["received_date"]],
        "来源渠道": [label(Channel, v) for v in r["channel"]],
        "办结日期": [day(v) for v in r["closed_date"]],
        "结而不服": [yes_no(v) for v in r["disputed"]],
    }), hide_index=True)


def actions(d: Dossier, scope: Scope) -> bool:
    """打印 and the drill-down of the case's county and, when the viewer's region holds it, its city (buttons, left
    out of the printout); True on the run 打印 was clicked."""
    case = d.case
    columns = st.columns([1, 2, 2, 4])
    printing = print_button(columns[0])
    if columns[1].button(f"{case['county_name']}地区下钻", icon=":material/account_tree:", key="dossier_county"):
        drill_to(str(case["county_code"]))
    city = case.get("city_code")
    if city and (scope.is_whole_province or scope.code == city) and columns[2].button(
            f"{case['city_name']}地区下钻", icon=":material/account_tree:", key="dossier_city"):
        drill_to(str(city))
    return printing


def render(view: View, data: ScopedData) -> None:
    """Draw the dossier of the number in the URL, or say why there is none."""
    print_style()
    st.title("案件档案")
    term = searched_term()
    if not term.strip():
        st.info("在左侧“查找案件”中输入件号、12388 来电编号、督办事项编号或督办通知单文号，即可打开该案件的档案。")
        return
    lookup = data.case_dossier(term, view.chosen_date)
    if lookup.outcome is Outcome.FORBIDDEN:
        st.error(f"{Outcome.FORBIDDEN.label}。", icon=":material/block:")
        return
    if lookup.outcome is Outcome.NOT_FOUND or lookup.dossier is None:
        st.warning(f"{Outcome.NOT_FOUND.label}件号、12388 来电编号、督办事项编号或督办通知单文号为“{plain_markdown(term.strip())}”的案件。",
                   icon=":material/search_off:")
        return
    d = lookup.dossier
    st.subheader(f"件号 {plain_markdown(str(d.case['case_id']))}")
    st.caption(f"{text(d.case.get('city_name'))} {text(d.case['county_name'])} · 按{d.matched_by.label}查到 · "
               f"状态按截止日期 {day(d.as_of)} 计")
    state_line(d)
    printing = actions(d, view.scope)
    basics(d)
    dates(d)
    supervision(d)
    calls(d)
    matter(d)
    if printing:
        print_now()


if __name__ == "__main__":
    hand_over()
