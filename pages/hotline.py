"""12388 通报: the month's hotline complaints by city and kind, where the monthly cycle stands (answers still
missing after the deadline, 属实 share, 抽查), the month-end pack, and the steps each role may take — a
city answers its complaints, the province draws and records 抽查 and issues the month's 通报.

data_access.supervision.hotline decides every step (scope, role, current state); the page offers what the viewer's
role allows and shows its answer. Nothing here holds a caller's identity: the table has none.
"""
from __future__ import annotations

import datetime as dt

import pandas as pd
import streamlit as st

from data_access.identity.auth import Identity, OutOfScope, Role
from data_access.reference.enums import ComplaintKind, Feedback, Level, SpotCheckResult
from data_access.reference.problems import DataRejected
from data_access.supervision.document_register import DocumentRefused, Issued
from data_access.supervision.hotline import CycleRefused
from data_access.supervision.ledger import StaleStep
from metrics.hotline import KIND_COLUMNS, LABELS, month_before
from pages import hand_over
from presentation.documents import numbers_text
from presentation.format import pct
from presentation.palette import BLUE, GREY, ORANGE, VERMILLION
from reports.monthly import pack_dates, pack_drafts, pack_of, pack_zip
from ui import steps
from ui.access import current_identity
from ui.charts import lines_chart, stacked_bar_chart
from ui.downloads import recorded_download
from ui.regions import tree
from ui.scoped import ScopedData
from ui.tables import show_rejection, show_table
from ui.vega import show_chart
from ui.view import View

DONE_KEY = "_hotline_done"
PACK_KEY = "_hotline_pack"
MONTHS_SHOWN = 12
KIND_LABELS = {k.value: k.label for k in ComplaintKind}
FEEDBACK_LABELS = {f.value: f.label for f in Feedback}
CHECK_LABELS = {r.value: r.label for r in SpotCheckResult}
ZIP_MIME = "application/zip"
KIND_COLOURS = [VERMILLION, ORANGE, BLUE, GREY]  # 办理缓慢, 对处理结果不满意, 实名举报长期不反馈, 其他
LIST_LABELS = {"complaint_id": "来电编号", "received_date": "来电日期", "county_name": "县（市、区）", "kind_label": "反映类型",
               "case_id": "关联件号", "late_label": "备注", "state": "办理环节", "feedback_label": "地市反馈",
               "check_label": "抽查结果"}
LATE = "逾期补录"


def month_label(month: str) -> str:
    """2026-10 -> 2026年10月."""
    return f"{int(month[:4])}年{int(month[5:7])}月"


def recent_months(day: dt.date, n: int = MONTHS_SHOWN) -> list[str]:
    """The n months up to the day's, newest first."""
    index = day.year * 12 + day.month - 1
    return [f"{(i // 12):04d}-{(i % 12) + 1:02d}" for i in range(index, index - n, -1)]


def last_complete_month(day: dt.date) -> str:
    """The last month that has ended by the end of `day` (2026-11 on 2026-12-06, and on 2026-11-30)."""
    return recent_months(day + dt.timedelta(days=1), 2)[1]


def state_of(row: pd.Series) -> str:
    """Where one complaint stands in the cycle, in words."""
    if pd.isna(row["notified_month"]):
        return "待通报"
    if pd.isna(row["feedback"]):
        return "待地市反馈"
    if row["feedback"] == Feedback.TRUE.value:
        return "属实，已挂账督办"
    if pd.isna(row["spot_check_draw"]):
        return "不属实，未抽中"
    if pd.isna(row["spot_check_result"]):
        return "不属实，待抽查"
    return "抽查：反馈不实，已挂账督办" if row["spot_check_result"] == SpotCheckResult.FALSE.value else "抽查：反馈属实"


def month_caption(month: str, default: str, day: dt.date, issued: bool, late: int) -> str:
    """Which month the page shows and which complaints it counts, in one line."""
    opened = (f"默认显示最近一个完整月份（截至 {day:%Y-%m-%d}：{month_label(default)}）。" if month == default
              else f"最近一个完整月份为{month_label(default)}。")
    if issued:
        counted = f"{month_label(month)}通报已发出：以下为该通报所列来电" + (f"（含{LATE} {late} 件）" if late else "") + "。"
    else:
        counted = (f"{month_label(month)}尚未通报：以下为现在通报将列入的来电，即当月来电和此前月份尚未通报的来电"
                   f"（备注“{LATE}”）。")
    return opened + counted + "按通报月份统计，不随侧栏统计期变化。"


def take_step(step, done: str) -> None:
    """Run one write of the cycle (ui.steps)."""
    steps.take_step(step, done, DONE_KEY)


def headline(counts: pd.DataFrame, previous: pd.DataFrame, month: str, feedback_due: dt.date) -> None:
    """来电, 属实占比, 逾期未反馈, 抽查, 挂账督办 of the month in the viewer's region."""
    total, before = int(counts["complaints"].sum()), int(previous["complaints"].sum())
    answered, confirmed = int(counts["answered"].sum()), int(counts["confirmed"].sum())
    c1, c2, c3, c4, c5 = st.columns(5)
    c1.metric(f"{month_label(month)}来电投诉", f"{total:,} 件", f"{total - before:+,} 件（较上月）" if before or total else None,
              delta_color="inverse", border=True)
    c2.metric("属实占比", pct(confirmed / answered) if answered else "—", border=True,
              help=f"地市已反馈 {answered} 件，其中属实 {confirmed} 件。")
    c3.metric("逾期未反馈", f"{int(counts['missing'].sum()):,} 件", border=True,
              help=f"已通报、超过通报所定反馈期限（{feedback_due}）仍未反馈的来电。")
    c4.metric("抽查", f"{int(counts['checked'].sum())}/{int(counts['drawn'].sum())} 件", border=True,
              help=f"已抽查/抽中；抽查发现反馈不实 {int(counts['check_false'].sum())} 件。")
    c5.metric("挂账督办", f"{int(counts['items'].sum()):,} 项", border=True, help="反馈属实或抽查发现反馈不实而挂账的督办事项。")


def by_unit(counts: pd.DataFrame, unit_noun: str) -> None:
    """The units' complaints stacked by kind, and the cycle table."""
    shown = counts.sort_values(["complaints", "code"], ascending=[False, True])
    long = shown.melt(id_vars=["code", "name"], value_vars=list(KIND_COLUMNS), var_name="kind", value_name="n")
    long = long.assign(类型=long["kind"].map(KIND_LABELS))
    show_chart(stacked_bar_chart, long, "name", "类型", "n", [KIND_LABELS[k] for k in KIND_COLUMNS], KIND_COLOURS, unit_noun,
               "来电（件）", stack_title="反映类型")
    table = shown.assign(confirmed_share=shown["confirmed_share"] * 100)
    columns = ["name", "complaints", *KIND_COLUMNS, "notified", "answered", "confirmed", "denied", "confirmed_share", "missing",
               "drawn", "check_false", "items"]
    show_table(table[columns], hide_index=True, width="stretch", column_config={
        "name": unit_noun, **{c: LABELS[c] for c in columns if c not in ("name", "confirmed_share")},
        "confirmed_share": st.column_config.NumberColumn(LABELS["confirmed_share"], format="%.1f%%")})


def complaint_list(rows: pd.DataFrame) -> pd.DataFrame:
    """The notice's complaints in people's terms (a late one: 逾期补录, beside its received date)."""
    regions = tree()
    return rows.assign(county_name=rows["county_code"].map(regions.name), kind_label=rows["kind"].map(KIND_LABELS),
                       late_label=rows["late"].map({True: LATE, False: ""}),
                       state=[state_of(r) for _, r in rows.iterrows()],
                       feedback_label=rows["feedback"].map(FEEDBACK_LABELS).fillna(""),
                       check_label=rows["spot_check_result"].map(CHECK_LABELS).fillna(""))


def feedback_form(data: ScopedData, identity: Identity, rows: pd.DataFrame, month: str) -> None:
    """A city (or the province) answers one notified complaint: 属实 opens a supervision item."""
    waiting = rows[rows["notified_month"].notna() & rows["feedback"].isna()]
    st.subheader(f"地市反馈（待反馈 {len(waiting)} 件，截止 {data.hotline_feedback_due(month)}）")
    if waiting.empty:
        st.info("本月没有待反馈的来电。" if rows["notified_month"].notna().any() else "本月来电尚未通报，通报后由地市逐件反馈。")
        return
    labels = dict(zip(waiting["complaint_id"], waiting["complaint_id"] + "　" + waiting["county_name"] + "　" + waiting["kind_label"],
                      strict=True))
    with st.form("hotline_feedback", border=True):
        picked = st.selectbox("来电", list(labels), format_func=labels.__getitem__, key="hotline_feedback_pick")
        verdict = st.radio("核查结论", [f.value for f in Feedback], format_func=FEEDBACK_LABELS.__getitem__, horizontal=True,
                           key="hotline_feedback_verdict")
        note = st.text_area("核查情况说明", max_chars=1000, key="hotline_feedback_note",
                            placeholder="核查经过、结论依据；属实的写明整改措施。不得填写来电人姓名、电话、身份证号。")
        if st.form_submit_button("提交反馈", type="primary"):
            take_step(lambda: data.record_hotline_feedback(identity, picked, verdict, note),
                      f"已反馈：{picked} {FEEDBACK_LABELS[verdict]}" + ("，已挂账督办。" if verdict == Feedback.TRUE.value else "。"))


def spot_checks(data: ScopedData, identity: Identity, rows: pd.DataFrame, month: str) -> None:
    """The province draws among the 不属实 answers (seeded, recorded, re-runnable) and records each result."""
    share = data.hotline.spot_check_share
    st.subheader("抽查")
    st.caption(f"对反馈不属实的来电按 {share * 100:.0f}% 抽查（每市至少 1 件），随机数种子记录在案，任何人可按种子复现抽样结果。")
    draws = data.hotline_draws(month)
    # what a draw would take (data_access.supervision.hotline._draw_population): the month's notified 不属实 answers not drawn,
    # and after an earlier draw only those answered since (the rest were in that draw's population)
    denied = rows[(rows["notified_month"] == month) & (rows["feedback"] == Feedback.UNTRUE.value) & rows["spot_check_draw"].isna()]
    if len(draws):
        denied = denied[pd.to_datetime(denied["feedback_at"]) > pd.Timestamp(draws["drawn_at"].max())]
        for _, draw in draws.iterrows():
            same = data.hotline_draw_replays(str(draw["id"]))
            st.markdown(f"- {pd.Timestamp(draw['drawn_at']):%Y-%m-%d %H:%M} 由 {draw['drawn_by']} 抽取：种子 {int(draw['seed'])}，"
                        f"比例 {float(draw['share']) * 100:.0f}%，从 {int(draw['population'])} 件中抽中 {int(draw['sample'])} 件；"
                        f"按种子复现{'一致' if same else '不一致，请核对'}。")
    if len(denied):
        if st.button(f"抽取本月抽查件（待抽 {len(denied)} 件不属实反馈）", key="hotline_draw", icon=":material/casino:"):
            take_step(lambda: data.draw_spot_checks(identity, month), "已抽取并记录抽查件。")
    pending = rows[rows["spot_check_draw"].notna() & rows["spot_check_result"].isna()]
    if pending.empty:
        return
    labels = dict(zip(pending["complaint_id"], pending["complaint_id"] + "　" + pending["county_name"] + "　" + pending["kind_label"],
                      strict=True))
    with st.form("hotline_spot_check", border=True):
        picked = st.selectbox(f"抽查件（待录入 {len(pending)} 件）", list(labels), format_func=labels.__getitem__,
                              key="hotline_check_pick")
        result = st.radio("抽查结果", [r.value for r in SpotCheckResult], format_func=CHECK_LABELS.__getitem__, horizontal=True,
                          key="hotline_check_result")
        note = st.text_area("抽查情况", max_chars=1000, key="hotline_check_note", placeholder="抽查方式、发现的问题。")
        if st.form_submit_button("录入抽查结果", type="primary"):
            opened = "，已挂账督办。" if result == SpotCheckResult.FALSE.value else "。"
            take_step(lambda: data.record_spot_check(identity, picked, result, note),
                      f"已录入抽查结果：{picked} {CHECK_LABELS[result]}{opened}")


def month_end_pack(data: ScopedData, identity: Identity, month: str, issued: bool) -> None:
    """The province issues the month's 通报 — a 文号 for each document and exactly the complaints it lists marked
    notified, in one transaction — and downloads the pack; a month already issued is issued again under new
    numbers (each naming the one it replaces) and marks nothing."""
    st.subheader("月度通报")
    st.caption("生成各市通报（来电清单、办理情况对比、反馈要求）、重点督导县点对点通报（初次举报超期未办结和结而不服件号）、"
               "全省汇总和台账，每份文件取一个文号（文号登记，不重复使用）；发文即将通报所列来电标记为“已通报”。"
               f"此前月份的来电在该月通报后才导入的，并入本次通报，清单中备注“{LATE}”。反馈期限自成文日期起按工作日计算"
               f"（各市 {data.documents.feedback_workdays} 个工作日，重点督导县 {data.documents.reply_workdays} 个工作日）。")
    dated = st.date_input("成文日期", value=dt.date.today(), format="YYYY-MM-DD", key="hotline_pack_date")
    label = f"重新发文：{month_label(month)}通报（新文号）" if issued else f"发出{month_label(month)}通报"
    if st.button(label, key="hotline_pack", type="primary", icon=":material/description:"):
        try:
            facts = data.monthly_facts(month)
            dates = pack_dates(dated, data.documents)
            numbers, marked = data.issue_monthly_notice(identity, month, facts.complaint_ids,
                                                        pack_drafts(facts, dates, data.documents), dated)
            pack = pack_of(facts, dates, numbers, documents=data.documents, hotline_settings=data.hotline,
                           answers=data.last_month_answers(month, dated))
        except (CycleRefused, OutOfScope, PermissionError, DocumentRefused) as refused:
            st.error(f"未发文：{refused}")
        except StaleStep as moved:
            st.warning(str(moved))
        else:
            st.session_state[PACK_KEY] = (month, pack_zip(pack), len(pack.files), marked, len(facts.complaint_ids),
                                          facts.late, facts.issued, numbers)
            st.rerun()  # the lists above now read the month as notified
    if (ready := st.session_state.get(PACK_KEY)) and ready[0] == month:
        _, content, files, marked, listed, late, before, numbers = ready
        if before:
            st.success(f"已重新发文 {files} 个文件（新文号：{numbers_text(numbers)}）；本月通报已于此前发出（来电 {listed} 件），"
                       "本次未再标记。")
        else:
            st.success(f"已发文 {files} 个文件（文号：{numbers_text(numbers)}）；本次标记已通报 {marked} 件来电。")
            if late:
                st.caption(f"其中 {late} 件为此前月份来电、通报后补录（{LATE}），已列入各市通报清单。")
        show_table(issued_table(numbers), hide_index=True, width="stretch")
        name = f"12388月度通报_{month}.zip"
        st.download_button("下载本月通报（ZIP）", recorded_download(lambda: content, name), file_name=name, mime=ZIP_MIME,
                           on_click="ignore", key="hotline_pack_zip", icon=":material/download:")


def issued_table(issued: list[Issued]) -> pd.DataFrame:
    """The documents just issued as the page lists them: 文号, 文件, 主送, 成文日期, 反馈期限, 替代文号."""
    return pd.DataFrame({"文号": [d.number for d in issued], "文件": [d.title for d in issued],
                         "主送": [d.recipient for d in issued], "成文日期": [d.dated for d in issued],
                         "反馈期限": [d.reply_due for d in issued], "替代文号": [d.replaces or "" for d in issued]})


def upload(data: ScopedData, identity: Identity) -> None:
    """Import a 12388 complaint file (all rows or none; a city's rows only of its counties)."""
    with st.expander("导入 12388 来电记录"):
        st.caption("CSV 或 Excel：来电编号、来电日期、市、县（市、区）、投诉类型、关联件号（可空）。来电人姓名、电话、"
                   "身份证号、地址、来电内容等列一律不导入。整份文件全部正确才写入。")
        file = st.file_uploader("来电记录文件", type=["csv", "xlsx"], key="hotline_upload")
        if file is not None and st.button("导入", key="hotline_upload_run", type="primary"):
            try:
                done = data.import_complaints(file.getvalue(), file.name, identity)
            except DataRejected as rejected:
                show_rejection(rejected)
            except OutOfScope as refused:
                st.error(f"未导入：{refused}")
            else:
                st.session_state[DONE_KEY] = f"已导入 {done.rows} 件来电。" + (
                    f"未导入的列：{'、'.join(done.dropped_columns)}。" if done.dropped_columns else "")
                st.rerun()


def trend(data: ScopedData, month: str) -> None:
    """The notices' complaints by kind over 12 months, and the 属实 share."""
    series = data.hotline_series(month, MONTHS_SHOWN)
    st.subheader(f"近 {MONTHS_SHOWN} 个月走势")
    long = series.melt(id_vars=["month"], value_vars=list(KIND_COLUMNS), var_name="kind", value_name="n")
    long = long.assign(month=pd.to_datetime(long["month"] + "-01"), 类型=long["kind"].map(KIND_LABELS))
    show_chart(lines_chart, long, "month", "n", "类型", "月份", "来电（件）")
    shares = series.assign(属实占比=(series["confirmed_share"] * 100).round(1), 月份=series["month"]).iloc[::-1]  # newest first
    show_table(shares[["月份", "complaints", "answered", "confirmed", "属实占比", "missing", "check_false"]], hide_index=True,
               width="stretch", column_config={"complaints": "来电", "answered": "已反馈", "confirmed": "属实",
                                                "属实占比": st.column_config.NumberColumn(format="%.1f%%"),
                                                "missing": "逾期未反馈", "check_false": "抽查发现反馈不实"})


def render(view: View, data: ScopedData) -> None:
    """The viewer's region: the month's complaints and cycle, the steps the role allows, the 12-month trend."""
    identity, regions = current_identity(), tree()
    st.title("12388 通报")
    st.caption("12388 举报电话反映检举控告办理缓慢、对处理结果不满意、实名举报长期不反馈等问题：每月底通报各市，"
               "次月反馈核查情况；属实的挂账督办、销号管理，不属实的按比例抽查。")
    if (done := st.session_state.pop(DONE_KEY, None)) is not None:
        st.success(done)
    # the page belongs to the last complete month as of the sidebar's 截止日期 (today unless chosen), not to its period
    day = view.chosen_date
    months, default = recent_months(day), last_complete_month(day)
    month = st.selectbox("月份", months, index=months.index(default), format_func=month_label, key="hotline_month")
    level = regions.level(view.root)
    unit_level = level.child() or Level.COUNTY
    parent = view.root if level is not Level.PROVINCE else None
    counts = data.hotline_counts(month, unit_level, parent)
    rows = complaint_list(data.hotline_complaints(month))
    issued = data.hotline_notice_issued(month)
    st.caption(month_caption(month, default, day, issued, int(rows["late"].sum())))
    previous = data.hotline_counts(month_before(month), unit_level, parent)
    headline(counts, previous, month, data.hotline_feedback_due(month))
    st.subheader(f"各{unit_level.label}来电（按反映类型）")
    by_unit(counts, unit_level.label)
    if identity.role is not Role.COUNTY:
        feedback_form(data, identity, rows, month)
    if identity.role is Role.PROVINCE:
        spot_checks(data, identity, rows, month)
        month_end_pack(data, identity, month, issued)
    st.subheader(f"来电清单（{len(rows)} 件）")
    show_table(rows[list(LIST_LABELS)].rename(columns=LIST_LABELS), hide_index=True, width="stretch",
               height=min(40 + 35 * len(rows), 420))
    if identity.role is not Role.COUNTY:
        upload(data, identity)
    trend(data, month)


if __name__ == "__main__":  # run by itself (a fresh server's first deep link): app.py routes, see pages/__init__.py
    hand_over()
