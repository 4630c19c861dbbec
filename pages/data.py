"""数据: the connected database, what it holds, the last load, an upload through the importer, quality warnings.

Everything that came from a user's file (file names, column names, cell values) is shown in tables
or code blocks, never as Markdown or HTML.
"""
from __future__ import annotations

import json

import pandas as pd
import streamlit as st

from data_access.identity.auth import OutOfScope
from data_access.imports.importer import Preview
from data_access.imports.inventory import calendar_note
from data_access.imports.loading import ImportMode, LoadReport
from data_access.imports.mappings import NOT_IMPORTED
from data_access.imports.orphans import LISTED_CASE_IDS, Orphans, ReferenceKind
from data_access.imports.validate import field_guide
from data_access.reference.privacy import MASKED_LABEL
from data_access.reference.problems import DataRejected
from metrics.caselists import COLUMN_LABELS
from pages import hand_over
from presentation.format import plain_markdown
from reports.import_template import TEMPLATE_NAME, import_template_xlsx
from ui.access import current_identity
from ui.downloads import recorded_download
from ui.scoped import ScopedData
from ui.tables import problem_counts, problems_frame, show_rejection, show_table
from ui.view import View

MODE_LABELS = {ImportMode.APPEND: "追加", ImportMode.REPLACE: "覆盖全部", ImportMode.UPSERT: "按件号更新"}
MODE_HELP = ("追加：文件中的件全部新增，件号与库中已有件重复则整批拒绝；"
             "按件号更新：库中已有的件号用文件中的内容替换，其余新增；"
             "覆盖全部：先删除库中全部案件，再载入本文件（督办台账、12388来电记录不删除；其件号不在文件中的，需确认后才能导入）。")
KIND_LABELS = {"import": "文件导入", "demo": "演示数据", "remove_demo": "删除演示数据", "hotline": "12388来电导入",
               "reference": "重新载入地区与工作日日历"}
LOAD_MODE_LABELS = {**MODE_LABELS, "delete": "删除"}
REMOVED_KEY = "_data_demo_removed"
RESULT_KEY = "_data_import_report"
UPLOAD_TYPES = ["csv", "xlsx", "parquet"]


def database_section(data: ScopedData) -> None:
    """Which database, how many rows, which dates, and the latest load."""
    where, dialect = data.database()
    st.subheader("连接的数据库")
    st.code(where, language=None)
    st.caption(f"数据库类型：{dialect}（连接地址不显示密码；通过环境变量 DATABASE_URL 设置）")
    cov = data.coverage()
    c1, c2, c3, c4, c5 = st.columns(5)
    c1.metric("案件数", f"{cov.cases:,}", border=True)
    c2.metric("地区数（省、市、县）", f"{cov.regions:,}", border=True)
    c3.metric("最早收件日期", f"{cov.first_received or '—'}", border=True)
    c4.metric("最晚收件日期", f"{cov.last_received or '—'}", border=True)
    c5.metric("最晚办结日期", f"{cov.last_closed or '—'}", border=True)
    last = data.last_load()
    if last is None:
        st.info("尚无导入记录。")
        return
    st.markdown("**最近一次载入**")
    show_table(pd.DataFrame([{
        "时间": last["imported_at"], "类型": KIND_LABELS.get(last["kind"], last["kind"]), "来源": last["source"],
        "方式": LOAD_MODE_LABELS.get(last["mode"], last["mode"]), "件数": last["rows"],
        "忽略的列": last["dropped_columns"] or "—",
    }]), hide_index=True, width="stretch", column_config={"件数": st.column_config.NumberColumn(format="localized")})


def demo_section(data: ScopedData) -> None:
    """The demo cases still in the database, and a button that deletes them (real cases stay)."""
    share = data.demo_cases()
    if (removed := st.session_state.pop(REMOVED_KEY, None)) is not None:
        st.success(f"已删除演示数据 {removed:,} 件，真实案件未受影响。各页数字已更新。")
    if not share.demo:
        return
    st.subheader("演示数据")
    real = share.total - share.demo
    st.markdown(f"库中共 {share.total:,} 件，其中 **{share.demo:,} 件是系统生成的演示数据**（件号以 DEMO- 开头），"
                f"真实案件 {real:,} 件。演示数据与真实案件一并统计，删除后各页只统计真实案件。")
    st.caption("也可用命令删除：python -m data_access demo --remove")
    confirmed = st.checkbox(f"我确认：删除 {share.demo:,} 件演示数据（真实案件不受影响）", key="demo_remove_confirm")
    if st.button("删除演示数据", type="primary", disabled=not confirmed, key="demo_remove"):
        with st.spinner("正在删除演示数据……"):
            removed = data.remove_demo_cases(current_identity())  # recorded in the audit log in the same transaction
        st.cache_data.clear()
        st.session_state[REMOVED_KEY] = removed
        st.rerun()


BACKUP_LISTED = 10


def backup_section(data: ScopedData) -> None:
    """备份: a snapshot of every table into the server's backup folder, taken while everyone goes on working."""
    st.subheader("备份")
    folder = data.backup_folder()
    st.markdown("把全部数据表（案件、督办台账、12388来电与抽查、用户、审计日志、导入映射等）在同一时刻的快照写入服务器上的备份文件夹："
                "每张表一个 Parquet 文件，另有清单记录行数和校验和。备份期间看板照常使用。")
    st.code(str(folder), language=None)
    st.caption("每晚的定时备份（deploy/README.md）写入同一文件夹。恢复到一个新建的空数据库（可换数据库类型）："
               "python -m data_access restore --db 地址 备份文件夹。备份含用户的密码哈希，请只让运行看板的系统账户读取该文件夹。")
    if st.button("立即备份", key="backup_run", icon=":material/backup:"):
        try:
            with st.spinner("正在备份……"):
                report = data.take_backup(current_identity())  # recorded in the audit log
        except OSError as error:
            st.error(f"无法写入备份文件夹：{error.strerror or error}")
        else:
            st.success(f"已备份 {len(report.manifest.tables)} 张表、{report.manifest.rows:,} 行，用时 {report.seconds:.1f} 秒。")
    taken = data.backups()[:BACKUP_LISTED]
    if taken:
        names = data.display_names()
        show_table(pd.DataFrame({
            "备份时间": [manifest.taken_at[:19].replace("T", " ") for _, manifest in taken],
            "文件夹": [path.name for path, _ in taken],
            "表": [len(manifest.tables) for _, manifest in taken],
            "行数": [manifest.rows for _, manifest in taken],
            "操作人": [names.get(manifest.taken_by, manifest.taken_by) for _, manifest in taken],
        }), hide_index=True, width="stretch", column_config={"行数": st.column_config.NumberColumn(format="localized")})
    else:
        st.info("该文件夹中还没有备份。")


def format_help() -> None:
    """The columns an upload may hold, with the Chinese headers the importer also accepts, and the blank template."""
    guide = field_guide()
    with st.expander("文件格式：列名与必填项", expanded=False):
        show_table(pd.DataFrame({
            "列名": [g.header for g in guide],
            "必填": ["是" if g.required else "否" for g in guide],
            "可填的值或格式": [g.accepted for g in guide],
            "说明": [g.meaning for g in guide],
            "也可用的列名": ["、".join(g.aliases) for g in guide],
        }), hide_index=True, width="stretch")
        st.caption("不在上表中的列会被忽略并在导入结果中列出；疑似举报人身份信息的列（姓名、电话、证件号码、住址、内容摘要）"
                   "在预览中屏蔽，不显示、不导入、不保存。")
    st.download_button("下载空白模板（Excel，含填写说明）", recorded_download(import_template_xlsx, TEMPLATE_NAME),
                       file_name=TEMPLATE_NAME, key="template_download", on_click="ignore", icon=":material/download:",
                       mime="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")


def show_report(report: LoadReport) -> None:
    """What a successful import did, and how the file was read."""
    replaced = f"，替换原有 {report.replaced:,} 件" if report.replaced else ""
    st.success(f"导入成功：载入 {report.rows:,} 件（{MODE_LABELS.get(report.mode, report.mode)}{replaced}）。各页数字已更新。")
    read = [f"读取工作表“{report.sheet}”" if report.sheet else "", f"表头在第 {report.header_row} 行" if report.header_row > 1 else "",
            f"跳过表头之前的第 {'、'.join(map(str, report.skipped_rows))} 行（标题、说明）" if report.skipped_rows else ""]
    if any(read):
        st.caption(plain_markdown("；".join(r for r in read if r) + "。"))
    if report.dropped_columns:
        st.caption("以下列不在数据规范中，已忽略：")
        show_table(pd.DataFrame({"忽略的列": list(report.dropped_columns)}), hide_index=True)


FIELD_LABELS = {NOT_IMPORTED: "（不导入）",
                **{g.field: COLUMN_LABELS.get(g.field, g.header) for g in field_guide()},  # Chinese only: the walk reads it
                "city_name": "所属市（用于识别县名，不保存）"}
FIELD_OF_LABEL = {label: field for field, label in FIELD_LABELS.items()}
NO_MAPPING = "（不套用）"
PREVIEW_KEY = "_data_preview"  # (file id, mapping) -> Preview: a rerun does not read the file again


def _preview(data: ScopedData, uploaded, mapping: dict[str, str] | None, mode: str) -> Preview:
    key = (uploaded.file_id, json.dumps(mapping, sort_keys=True, ensure_ascii=False), mode, data.version)
    cached = st.session_state.get(PREVIEW_KEY)
    if cached is None or cached[0] != key:
        cached = (key, data.preview_import(uploaded.getvalue(), uploaded.name, current_identity(), mapping, mode))
        st.session_state[PREVIEW_KEY] = cached
    return cached[1]


def mapping_preview(data: ScopedData, uploaded, mode: str) -> tuple[dict[str, str] | None, Orphans]:
    """Before anything is written: which field each column of the file feeds (changeable, and saved by
    name for the next export of the same system), how the file was read, what the checks found, and what a
    replacement would leave without its case (returned with the mapping)."""
    st.markdown("**导入预览（尚未写入数据库）**")
    saved = data.import_mapping_names()
    left, right = st.columns([2, 3])
    chosen = left.selectbox("套用已保存的映射", [NO_MAPPING, *saved], key="mapping_name")
    base = data.import_mapping(chosen) if chosen in saved else None
    try:
        preview = _preview(data, uploaded, base, mode)
    except DataRejected as unreadable:
        show_rejection(unreadable)
        return None, Orphans()
    read = [f"工作表“{preview.sheet}”" if preview.sheet else "", f"表头在第 {preview.header_row} 行",
            f"跳过其上的第 {'、'.join(map(str, preview.skipped_rows))} 行" if preview.skipped_rows else "", f"共 {preview.rows:,} 行"]
    right.caption(plain_markdown("读取：" + "，".join(r for r in read if r) + "。"))
    readable = preview.columns[~preview.columns["masked"]]  # identity-like columns: never a value, never a field
    shown = pd.DataFrame({"文件中的列": readable["column"], "对应字段": readable["field"].map(FIELD_LABELS),
                          "示例值": readable["samples"]})
    edited = st.data_editor(shown, hide_index=True, width="stretch", key=f"mapping_editor_{uploaded.file_id}_{chosen}",
                            disabled=["文件中的列", "示例值"],
                            column_config={"对应字段": st.column_config.SelectboxColumn(
                                "对应字段", options=list(FIELD_LABELS.values()), required=True,
                                help="系统按列名自动识别；识别不对或未识别的列，在此选择对应字段，选“（不导入）”则忽略该列。")})
    mapping = {str(c): FIELD_OF_LABEL.get(label, NOT_IMPORTED) for c, label in zip(edited["文件中的列"], edited["对应字段"], strict=True)}
    if mapping != dict(zip(readable["column"], readable["field"], strict=True)):
        preview = _preview(data, uploaded, mapping, mode)
    column_warnings(preview)
    if preview.problems is None:
        st.success(f"校验通过：{preview.rows:,} 件，可以导入。")
    else:
        st.warning(f"校验发现 {preview.problems.total:,} 个问题，现在导入将被整批拒绝：")
        st.caption(problem_counts(preview.problems))
        show_table(problems_frame(preview.problems), hide_index=True, width="stretch",
                   column_config={"行": st.column_config.NumberColumn("行", format="%d")})
    orphans_warning(preview.orphans)
    name_col, save_col = st.columns([3, 1], vertical_alignment="bottom")
    name = name_col.text_input("保存本映射，供下次导入同一系统的导出文件（命令行：--mapping 名称）", key="mapping_save_name",
                               placeholder="如：济宁市信访系统导出")
    if save_col.button("保存映射", key="mapping_save", disabled=not name.strip(), icon=":material/save:"):
        try:
            data.save_import_mapping(current_identity(), name, mapping)
        except DataRejected as refused:
            show_rejection(refused)
        except OutOfScope as refused:
            st.error(str(refused))
        else:
            st.toast(f"已保存导入映射“{name.strip()}”", icon=":material/check_circle:")
    return mapping, preview.orphans


def orphans_warning(orphans: Orphans) -> None:
    """A replacement's preview: the ledger items and 12388 complaints whose case is not in the file."""
    if not orphans.total:
        return
    st.warning(f"整表替换后，库中 {orphans.counted()} 所对应的案件不在本文件中，将不再对应任何案件。"
               "这些记录不会被删除；如确认仍要替换，请在下方勾选确认。")
    show_table(pd.DataFrame({"类型": [c.kind.label for c in orphans.counts], "记录数": [c.references for c in orphans.counts],
                             "涉及件号数": [c.cases for c in orphans.counts],
                             f"件号（前 {LISTED_CASE_IDS} 个）": ["、".join(c.case_ids) for c in orphans.counts]}),
               hide_index=True, width="stretch")


def column_warnings(preview: Preview) -> None:
    """The identity-like columns (masked: how many values, never one of them) and the dropped columns whose
    header looks like a field's."""
    masked = preview.masked
    if not masked.empty:
        st.markdown(f"**{MASKED_LABEL}的列：{len(masked)} 列**")
        show_table(pd.DataFrame({"文件中的列": masked["column"], "处理": MASKED_LABEL, "非空值个数": masked["values"]}),
                   hide_index=True, width="stretch")
        st.caption("这些列疑似举报人身份信息（姓名、电话、证件号码、住址、内容摘要），不显示其内容，也不导入、不保存。")
    if preview.notes:
        st.warning(f"有 {len(preview.notes)} 列未导入，但列名像是数据规范中的字段：如需导入，请在上表“对应字段”中选择；"
                   "确实不需要的可以忽略。")
        show_table(pd.DataFrame({"文件中的列": [n.column for n in preview.notes],
                                 "像是": [FIELD_LABELS.get(n.field, n.field) for n in preview.notes],
                                 "说明": [n.reason_zh for n in preview.notes]}), hide_index=True, width="stretch")


def upload_section(data: ScopedData, modes: tuple[str, ...] = tuple(MODE_LABELS)) -> None:
    """Upload a file and run the same importer as the command line: all rows or none."""
    st.subheader("导入案件数据")
    st.caption("与命令 python -m data_access import 使用同一导入程序：先校验全部行，发现任何问题则整批拒绝，数据库不作任何更改。"
               "表头可以不在第一行（其上的标题、说明会被跳过）；多个工作表时读取含案件的那一张；承办县可写代码或名称。")
    format_help()
    uploaded = st.file_uploader("选择文件（CSV、XLSX 或 Parquet）", type=UPLOAD_TYPES, key="upload_file")
    mode = st.radio("导入方式", list(modes), format_func=lambda m: MODE_LABELS[m], horizontal=True,
                    key="upload_mode", help=MODE_HELP)
    mapping, orphans = mapping_preview(data, uploaded, mode) if uploaded is not None else (None, Orphans())
    confirmed = accept_orphans = True
    if mode == ImportMode.REPLACE:
        confirmed = st.checkbox("我确认：删除数据库中现有的全部案件，以本文件替换", key="upload_confirm")
        if orphans.total:
            accept_orphans = st.checkbox(f"我确认：保留{orphans.counted()}，它们将不再对应任何案件",
                                         key="upload_orphans_confirm")
    if st.button("导入", type="primary", disabled=uploaded is None or not (confirmed and accept_orphans),
                 key="upload_run") and uploaded:
        try:
            with st.spinner("正在校验并导入……"):
                # the importer records the import (or its refusal) in the audit log
                report = data.import_file(uploaded.getvalue(), uploaded.name, mode, current_identity(), mapping,
                                          accept_orphans=mode == ImportMode.REPLACE and bool(orphans.total))
        except DataRejected as error:
            show_rejection(error)
        else:
            st.cache_data.clear()
            st.session_state[RESULT_KEY] = report
            st.rerun()
    if (report := st.session_state.pop(RESULT_KEY, None)) is not None:
        show_report(report)


ORPHANS_LISTED = 200


def orphans_section(data: ScopedData) -> None:
    """无对应案件的记录: ledger items and 12388 complaints whose case left the case table (a replacement)."""
    listing = data.orphaned_references(ORPHANS_LISTED)
    if not listing.orphans.total:
        return
    st.subheader("无对应案件的记录")
    st.markdown(f"库中 {listing.orphans.counted()} 所对应的案件已不在案件表中（多为整表替换的文件中没有这些件号）。"
                "这些记录仍保留；如案件应当存在，请在下次导入时补上。")
    rows = listing.rows
    show_table(pd.DataFrame({
        "类型": [ReferenceKind(k).label for k in rows["kind"]], "件号": rows["case_id"],
        "记录编号": rows["reference_id"], "县（市、区）代码": rows["county_code"],
        "记录建立": rows["made_at"], "失去对应案件（不早于）": rows["since"],
    }), hide_index=True, width="stretch",
        column_config={"记录建立": st.column_config.DatetimeColumn(format="YYYY-MM-DD HH:mm"),
                       "失去对应案件（不早于）": st.column_config.DatetimeColumn(format="YYYY-MM-DD HH:mm")})
    st.caption(f"每类最多列出 {ORPHANS_LISTED} 条（按件号）。“失去对应案件”为记录建立后第一次整表替换或删除演示数据的时间；"
               "12388来电的“记录建立”为来电日期。")


def reporting_section(data: ScopedData) -> None:
    """上报情况: which city has reported up to which date, and its last upload."""
    st.subheader("上报情况")
    status = data.reporting_status()
    show_table(status.drop(columns="code"), hide_index=True, width="stretch",
               column_config={"name": st.column_config.TextColumn("市"),
                              "latest_received": st.column_config.DateColumn("最晚收件日期", format="YYYY-MM-DD"),
                              "last_import": st.column_config.DatetimeColumn("最近一次本级上报", format="YYYY-MM-DD HH:mm"),
                              "by": st.column_config.TextColumn("上报人")})
    st.caption("“最近一次本级上报”为该市或其所属县（市、区）账号在“数据上报”页或命令行导入的时间；空白表示尚无本级上报（数据由省级导入）。")


def quality_section(view: View, data: ScopedData) -> None:
    """Observations a supervisor should know before trusting the numbers."""
    st.subheader("数据质量提示")
    warnings = data.quality_warnings(view.chosen_date)
    st.table(pd.DataFrame({
        "": ["⚠️" if w.count else "✅" for w in warnings],
        "检查项": [plain_markdown(w.label) for w in warnings],
        "件数": [f"{w.count:,}" for w in warnings],
        "影响": [plain_markdown(w.explanation) for w in warnings],
    }), hide_index=True)
    st.caption(f"“日期晚于截止日期”按侧边栏的截止日期 {view.chosen_date:%Y-%m-%d} 检查。")
    if (note := calendar_note(view.period.end)) is not None:
        st.info(note)


def render(view: View, data: ScopedData) -> None:
    """The database, an upload through the importer, the quality warnings (province users only)."""
    st.title("数据")
    database_section(data)
    demo_section(data)
    reporting_section(data)
    upload_section(data)
    orphans_section(data)
    backup_section(data)
    quality_section(view, data)


if __name__ == "__main__":  # run by itself (a fresh server's first deep link): app.py routes, see pages/__init__.py
    hand_over()
