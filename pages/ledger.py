"""督办台账: the supervision orders of the viewer's region — open a new one, reply, sign off (销号) or send
back (退回), each item's history, the 督办通知单 and the ledger as files.

The page only offers what the viewer's role allows; data_access.supervision.ledger decides (scope, role, current
status) and the page shows its answer. Everything the ledger stores was typed by officials and is
shown in tables, never as Markdown or HTML.
"""
from __future__ import annotations

import datetime as dt
from collections.abc import Mapping

import pandas as pd
import streamlit as st

from data_access.identity.auth import Identity, Role
from data_access.reference.enums import Level
from data_access.supervision.document_register import DocumentKind, Draft, Issued
from data_access.supervision.ledger import Method, Standing, Status, Step, Subject
from pages import hand_over
from presentation.documents import DocumentSettings
from presentation.format import EMPTY, plain_markdown
from reports.ledger_book import build_ledger_workbook
from reports.notice import DOCX_MIME, NoticeFacts, build_notice, notice_name
from ui import steps
from ui.access import current_identity, is_supervisor
from ui.downloads import recorded_download
from ui.issuing import issue_form
from ui.navigation import NEW_ITEM_PARAMS
from ui.regions import RegionTree, tree
from ui.scoped import ScopedData
from ui.tables import show_table
from ui.view import View

XLSX_MIME = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
LINK_TEXT_SHOWN = 20  # characters of a link's unknown county code repeated in the refusal
DONE_KEY = "_ledger_done"  # the message of the step just taken, shown after the rerun
ITEM_LABELS = {"status_label": "状态", "title": "督办事项", "county_name": "被督办县（市、区）", "city_name": "所属市",
               "subject_label": "类型", "case_id": "件号", "method_label": "方式", "opened_on": "挂账日期",
               "reply_due": "反馈期限", "age_days": "已挂账天数", "opened_by": "挂账人"}
STEP_LABELS = {"seq": "序号", "at": "时间", "username": "办理人", "action_label": "环节", "note": "内容",
               "promised_date": "承诺办结日期"}


def labelled(items: pd.DataFrame, regions: RegionTree, names: Mapping[str, str]) -> pd.DataFrame:
    """Items with names and Chinese labels for the table; 逾期未反馈 named in the status; 挂账人 by display name."""
    out = items.copy()
    out["opened_by"] = out["opened_by"].map(lambda u: names.get(u, u))
    out["county_name"] = out["county_code"].map(regions.name)
    out["city_name"] = out["county_code"].map(regions.city_name)
    out["status_label"] = [("逾期未反馈" if late else Status(s).label) for s, late in zip(out["status"], out["overdue_reply"],
                                                                                       strict=True)]
    out["subject_label"] = out["subject"].map(lambda v: Subject(v).label)
    out["method_label"] = out["method"].map(lambda v: Method(v).label)
    out["opened_on"] = pd.to_datetime(out["opened_at"]).dt.date
    return out


def headline(items: pd.DataFrame, standing: Standing) -> None:
    """在办, 逾期未反馈, 销号率 (data_access.supervision.ledger.standing, as the 周例会 counts them), median days to 销号."""
    closed = items[items["status"] == Status.CLOSED.value]
    days = (pd.to_datetime(closed["closed_at"]) - pd.to_datetime(closed["opened_at"])).dt.total_seconds() / 86400
    c1, c2, c3, c4 = st.columns(4)
    c1.metric("在办事项", f"{standing.in_progress:,} 项", border=True, help="挂账和已反馈、尚未销号的督办事项。")
    c2.metric("逾期未反馈", f"{standing.overdue_replies:,} 项", border=True,
              help="挂账（含退回）后已过反馈期限、县（市、区）仍未反馈的事项。")
    c3.metric("销号率", f"{standing.closed / standing.total * 100:.1f}%" if standing.total else EMPTY, border=True,
              help="已销号事项 ÷ 全部督办事项。")
    c4.metric("销号中位用时", f"{days.median():.1f} 天" if len(closed) else EMPTY, border=True,
              help="已销号事项从挂账到销号所用天数的中位数。")


def new_item_form(view: View, data: ScopedData, identity: Identity, regions: RegionTree) -> None:
    """挂账: a new item, drafted from the URL when the viewer came from a problem (a case, a county)."""
    draft = {k: st.query_params.get(k, "") for k in NEW_ITEM_PARAMS}
    counties = regions.counties_under(view.root)
    if draft["county"] and draft["county"] not in counties:  # a crafted or stale link: refused, never switched
        st.error(foreign_county_message(draft["county"], regions))
        draft = dict.fromkeys(NEW_ITEM_PARAMS, "")
    today = dt.date.today()
    with st.expander("新建督办事项（挂账）", expanded=draft["new"] == "1", icon=":material/add_task:"):
        with st.form("new_item", clear_on_submit=False, border=False):
            left, right = st.columns(2)
            default = counties.index(draft["county"]) if draft["county"] in counties else 0
            county = left.selectbox("被督办县（市、区）", counties, index=default,
                                    format_func=lambda c: f"{regions.city_name(c)} {regions.name(c)}")
            case_id = right.text_input("件号（对单件督办时填写，否则留空）", value=draft["case"])
            title = st.text_input("督办事项", value=draft["title"], max_chars=200,
                                  placeholder="如：初次举报超期未办结 37 件；件号 XXX 超期 12 天")
            reason = st.text_area("督办要求", value=draft["reason"], max_chars=1000,
                                  placeholder="写明问题与要求，如：请于期限内办结并书面反馈超期原因和整改措施。不得填写举报人信息。")
            m, d = st.columns(2)
            method = m.radio("督办方式", [x.value for x in Method], format_func=lambda v: Method(v).label, horizontal=True)
            reply_due = d.date_input("反馈期限", value=data.draft_reply_due(draft["case"].strip() or None, today),
                                     min_value=today, format="YYYY-MM-DD",
                                     help="默认为今天起若干个工作日；对未超期的案件（临期）不晚于该件的办理期限。")
            submitted = st.form_submit_button("挂账督办", type="primary", icon=":material/assignment_add:")
        if submitted:
            take_step(lambda: data.open_supervision(identity, county_code=county, title=title, reason=reason, method=method,
                                                    reply_due=reply_due, case_id=case_id.strip() or None),
                      f"已挂账：{regions.name(county)}，反馈期限 {reply_due}。", clear_draft=True)


def foreign_county_message(code: str, regions: RegionTree) -> str:
    """Why a 督办 link naming another region's county (or no county at all) opened no draft; the link's text is
    shown literally (it may be anything)."""
    if regions.exists(code) and regions.level(code) is Level.COUNTY:
        city, name = regions.city_name(code), regions.name(code)
        return f"链接中的县（区）{code}（{'' if city == name else city}{name}）不在您的管辖范围内，未打开。"
    return f"链接中的县（区）{plain_markdown(code[:LINK_TEXT_SHOWN])} 不是本省的县（市、区），未打开。"


def take_step(step, done: str, clear_draft: bool = False) -> None:
    """Run one ledger write (ui.steps); after a new item, its draft leaves the URL."""
    def clear() -> None:
        for key in NEW_ITEM_PARAMS:
            st.query_params.pop(key, None)

    steps.take_step(step, done, DONE_KEY, clear if clear_draft else None)


def filters(items: pd.DataFrame, regions: RegionTree, view: View) -> pd.DataFrame:
    """Status, method and city filters (the city filter for a province viewer)."""
    c1, c2, c3 = st.columns(3)
    statuses = c1.multiselect("状态", ["overdue", *(s.value for s in Status)], placeholder="全部状态", key="ledger_status",
                              format_func=lambda v: "逾期未反馈" if v == "overdue" else Status(v).label)
    methods = c2.multiselect("督办方式", [m.value for m in Method], format_func=lambda v: Method(v).label,
                             placeholder="全部方式", key="ledger_method")
    out = items
    if regions.level(view.root) is Level.PROVINCE:
        cities = sorted(set(out["city_name"]))
        city = c3.selectbox("所属市", ["全部", *cities], key="ledger_city")
        if city != "全部":
            out = out[out["city_name"] == city]
    if statuses:
        wanted = out["status"].isin(statuses) | (out["overdue_reply"] & ("overdue" in statuses))
        out = out[wanted]
    if methods:
        out = out[out["method"].isin(methods)]
    return out


def item_panel(data: ScopedData, identity: Identity, item: pd.Series, regions: RegionTree) -> None:
    """One item: its history, what the viewer may do next, its notice."""
    st.subheader(f"{item['county_name']}：{item['title']}")
    st.caption(f"{item['subject_label']}　{item['method_label']}　挂账 {item['opened_on']}（{item['opened_by']}）　"
               f"反馈期限 {item['reply_due']}　当前状态：{item['status_label']}")
    show_table(pd.DataFrame({"督办要求": [item["reason"]]}), hide_index=True, width="stretch")
    steps = named_steps(data, item["id"])
    show_table(steps[list(STEP_LABELS)].rename(columns=STEP_LABELS), hide_index=True, width="stretch")
    status = Status(item["status"])
    if identity.role is Role.COUNTY and status is Status.OPEN:
        with st.form(f"reply_{item['id']}", border=True):
            note = st.text_area("反馈内容（办理进展、整改措施）", max_chars=1000)
            promised = st.date_input("承诺办结日期", value=None, format="YYYY-MM-DD")
            if st.form_submit_button("提交反馈", type="primary"):
                take_step(lambda: data.reply_supervision(identity, item["id"], note, promised), "已提交反馈。")
    elif is_supervisor(identity) and status is Status.REPLIED:
        with st.form(f"review_{item['id']}", border=True):
            note = st.text_area("意见（退回时必填）", max_chars=1000)
            sign_off, send_back = st.columns(2)
            if sign_off.form_submit_button("销号", type="primary", icon=":material/task_alt:"):
                take_step(lambda: data.close_supervision(identity, item["id"], note), "已销号。")
            if send_back.form_submit_button("退回重办", icon=":material/undo:"):
                take_step(lambda: data.return_supervision(identity, item["id"], note), "已退回，事项重新挂账。")
    notice_section(data, identity, item, regions)


def notice_section(data: ScopedData, identity: Identity, item: pd.Series, regions: RegionTree) -> None:
    """The item's 督办通知单: a supervisor issues it (a 文号 from the register, dated the chosen 成文日期; again under a
    new number when it was issued before); every viewer of the item downloads the one last issued."""
    issued = data.issued_documents(DocumentKind.NOTICE, [item["id"]]).get(item["id"])
    if issued is not None:
        again = f"（替代 {issued.replaces}）" if issued.replaces else ""
        st.caption(f"督办通知单已发文：{issued.number}，成文日期 {issued.dated}，反馈期限 {item['reply_due']}{again}。")
        facts = notice_facts(item, regions, data.documents, issued)
        st.download_button("下载督办通知单（Word）", recorded_download(lambda: build_notice(facts), notice_name(facts)),
                           file_name=notice_name(facts), mime=DOCX_MIME, on_click="ignore", key=f"notice_{item['id']}",
                           icon=":material/description:")
    elif not is_supervisor(identity):
        st.caption("督办通知单尚未发文。")
    if not is_supervisor(identity) or Status(item["status"]) is Status.CLOSED:
        return
    issue_form(f"notice_form_{item['id']}", "督办通知单", "发出督办通知单", issued is not None,
               lambda dated: data.issue_documents(identity, [notice_draft(item, regions, data.documents, identity)], dated)[0],
               DONE_KEY)


def issuer_name(regions: RegionTree, scope_code: str) -> str:
    """The name of an issuing office's region ('' the province)."""
    return regions.name(scope_code or regions.province)


def recipient(item: pd.Series) -> str:
    """The county's commission named with its city (two cities have a 市中区): 济宁市任城区纪委监委."""
    city = item["city_name"] if item["city_name"] != item["county_name"] else ""
    return f"{city}{item['county_name']}纪委监委"


def notice_draft(item: pd.Series, regions: RegionTree, documents: DocumentSettings, identity: Identity) -> Draft:
    """The register's draft of an item's 督办通知单, issued by the viewer's office."""
    office = issuer_name(regions, identity.region_code or "")
    return Draft(DocumentKind.NOTICE, documents.series(DocumentKind.NOTICE, office), str(item["id"]),
                 f"督办通知单：{item['title']}"[:200], recipient(item), str(item["county_code"]), item["reply_due"])


def notice_facts(item: pd.Series, regions: RegionTree, documents: DocumentSettings, issued: Issued) -> NoticeFacts:
    """The notice of an item as issued: its number and date from the register, issued by that office to the county
    (抄送 its city when the province issues it)."""
    return NoticeFacts(number=issued.number, issuer=documents.issuer(issuer_name(regions, issued.issued_scope)),
                       recipient=issued.recipient, subject=item["subject"], case_id=item["case_id"],
                       title=item["title"], reason=item["reason"], method=item["method"], opened_on=item["opened_on"],
                       reply_due=item["reply_due"], issued_on=issued.dated,
                       copy_to=(f"{item['city_name']}纪委监委",) if not issued.issued_scope and item["city_name"] != item["county_name"]
                       else ())


def named_steps(data: ScopedData, item_id: str | None = None) -> pd.DataFrame:
    """The steps of one item (or of every item in scope) with the step's Chinese label and 办理人 by display name."""
    steps, names = data.ledger_history(item_id), data.display_names()
    return steps.assign(action_label=steps["action"].map(lambda v: Step(v).label),
                        username=steps["username"].map(lambda u: names.get(u, u)))


def ledger_file(data: ScopedData, items: pd.DataFrame) -> bytes:
    """The items shown and all their steps, as a workbook."""
    steps = named_steps(data)
    steps = steps[steps["item_id"].isin(items["id"])]
    titles = dict(zip(items["id"], items["county_name"] + "：" + items["title"], strict=True))
    steps = steps.assign(item=steps["item_id"].map(titles))
    return build_ledger_workbook(items[list(ITEM_LABELS)].rename(columns=ITEM_LABELS),
                                 steps[["item", *STEP_LABELS]].rename(columns={"item": "督办事项", **STEP_LABELS}))


def render(view: View, data: ScopedData) -> None:
    """The ledger of the viewer's region: KPIs, a new item, the list (overdue replies first), one item."""
    identity, regions = current_identity(), tree()
    st.title("督办台账")
    st.caption(f"{view.stock_caption(with_filters=False)}：逾期未反馈、已挂账天数按截止日期计，事项状态为最新办理结果。")
    st.caption("挂账 → 县（市、区）反馈 → 销号或退回；逾期未反馈的排在最前。每一步都记入审计日志。"
               "督办事项和反馈内容在共享屏幕上显示，不得填写举报人姓名、电话、身份证号等信息。")
    if (done := st.session_state.pop(DONE_KEY, None)) is not None:
        st.success(done)
    as_of = view.chosen_date  # a stock page, read at the sidebar's 截止日期 as the 周例会 counts it
    items = data.ledger_items(as_of)
    if is_supervisor(identity):
        new_item_form(view, data, identity, regions)
    if items.empty:
        st.info("本地区还没有督办事项。" + ("可在上方新建，或从“超期督办”“重点督导县”页的问题处一键挂账。"
                                           if is_supervisor(identity) else ""))
        return
    items = labelled(items, regions, data.display_names())
    headline(items, data.ledger_standing(as_of))
    shown = filters(items, regions, view)
    st.markdown(f"**督办事项：{len(shown):,} 项**")
    show_table(shown[list(ITEM_LABELS)].rename(columns=ITEM_LABELS), hide_index=True, width="stretch",
               height=min(40 + 35 * len(shown), 460), column_config={"已挂账天数": st.column_config.NumberColumn(format="%d 天")})
    name = f"督办台账_{dt.date.today()}.xlsx"
    st.download_button("下载台账（Excel）", recorded_download(lambda: ledger_file(data, shown), name), file_name=name,
                       mime=XLSX_MIME, on_click="ignore", key="ledger_xlsx", icon=":material/download:")
    what = "反馈" if identity.role is Role.COUNTY else "销号或退回"
    # the label holds nothing a step changes (a status in it would no longer match after the step, and
    # Streamlit would drop the choice on the next rerun)
    titles = dict(zip(shown["id"], shown["county_name"] + "：" + shown["title"] + "（挂账 " + shown["opened_on"].astype(str) + "）",
                      strict=True))
    picked = st.selectbox(f"办理事项（查看办理记录、{what}、下载督办通知单）", list(titles), index=None,
                          format_func=titles.__getitem__, placeholder="选择一项督办事项", key="ledger_item")
    if picked is not None:
        item_panel(data, identity, shown[shown["id"] == picked].iloc[0], regions)


if __name__ == "__main__":  # run by itself (a fresh server's first deep link): app.py routes, see pages/__init__.py
    hand_over()
