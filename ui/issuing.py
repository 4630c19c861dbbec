"""Issuing a document from a page: the 成文日期 (today by default) and one button; the 文号 the register gives (and
the one it replaces) is said after the rerun, a refusal (a deadline before the date, a recipient outside the
viewer's region) in one line. data_access.supervision.document_register decides; this only asks and reports."""
from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import streamlit as st

from data_access.identity.auth import OutOfScope
from data_access.supervision.document_register import DocumentRefused, Issued


def issued_message(what: str, doc: Issued) -> str:
    """督办通知单已发文：鲁纪信督〔2026〕3号（成文日期 2026-12-07，反馈期限 2026-12-14），替代 鲁纪信督〔2026〕1号。"""
    due = f"，反馈期限 {doc.reply_due}" if doc.reply_due else ""
    return f"{what}已发文：{doc.number}（成文日期 {doc.dated}{due}）" + (f"，替代 {doc.replaces}。" if doc.replaces else "。")


def issue_form(key: str, what: str, first_label: str, issued_before: bool, issue: Callable[[dt.date], Issued],
               done_key: str) -> None:
    """A form that issues one document dated the chosen day: `issue(dated)` takes its number; the message is kept
    under `done_key` for the page to show after the rerun."""
    with st.form(key, border=True):
        dated = st.date_input("成文日期", value=dt.date.today(), format="YYYY-MM-DD")
        if st.form_submit_button("重新发文（新文号）" if issued_before else first_label, icon=":material/description:"):
            try:
                doc = issue(dated)
            except (DocumentRefused, OutOfScope) as refused:
                st.error(f"未发文：{refused}")
            else:
                st.session_state[done_key] = issued_message(what, doc)
                st.rerun()
