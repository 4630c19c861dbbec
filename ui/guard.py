"""Faults: a database that is down or a query that fails shows a plain message and a retry button.

No traceback reaches a page (client.showErrorDetails = "none" as the last line of defence); the
rest of the page keeps working because each section is guarded on its own.
"""
from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager

import sqlalchemy as sa
import streamlit as st

LOG = logging.getLogger(__name__)
DB_ERRORS = (sa.exc.DBAPIError, sa.exc.OperationalError, sa.exc.InterfaceError, sa.exc.TimeoutError)


def _retry() -> None:
    st.cache_data.clear()


@contextmanager
def guarded(section: str) -> Iterator[None]:
    """Run a page section; on a database error show a Chinese message and a retry control instead."""
    try:
        yield
    except DB_ERRORS as exc:
        LOG.warning("database error in section %s: %s", section, exc)
        st.error(f"“{section}”暂时无法显示：数据库连接失败或查询出错。请稍后点击“重试”；"
                 "如持续出现，请联系信息技术人员。", icon=":material/cloud_off:")
        st.button("重试", key=f"retry_{section}", on_click=_retry, icon=":material/refresh:")


def database_down() -> None:
    """The whole-app message when the database cannot be reached at all (the frame could not start)."""
    st.error("无法连接数据库，看板暂时不能显示数据。请稍后点击“重试”；如持续出现，请联系信息技术人员。",
             icon=":material/cloud_off:")
    st.button("重试", key="retry_app", on_click=_retry, icon=":material/refresh:")
