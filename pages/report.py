"""数据上报 (分级上报): a city or county user uploads its own region's cases through the same importer as
the province; a file with any case of another region is refused whole, with the rows named."""
from __future__ import annotations

import streamlit as st

from data_access.imports.loading import ImportMode
from pages import hand_over
from pages.data import upload_section
from ui.regions import tree
from ui.scoped import ScopedData
from ui.view import View


def render(view: View, data: ScopedData) -> None:
    """The upload, limited to the viewer's region (checked by the importer row by row)."""
    st.title("数据上报")
    region = tree().name(view.root)
    st.caption(f"本账号上报{region}的案件：文件中每一件的承办县都须在{region}范围内，否则整批拒绝并列出行号；"
               "按月重新导出的台账请选“按件号更新”，已上报的件会被更新而不会重复。覆盖全部案件仅限省级。")
    upload_section(data, (ImportMode.APPEND, ImportMode.UPSERT))


if __name__ == "__main__":  # run by itself (a fresh server's first deep link): app.py routes, see pages/__init__.py
    hand_over()
