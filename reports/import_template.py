"""The blank case template offered on the 数据 and 数据上报 pages: a sheet 案件 whose header row holds the
contract's Chinese headers (the importer reads it as it is), and a sheet 填写说明 listing every column —
required or not, the values it accepts, what it means, the other headers read as the same column. Every
cell through presentation.spreadsheet (text stays text)."""
from __future__ import annotations

import io

from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter

from data_access.imports.validate import field_guide
from presentation.spreadsheet import append_row, new_workbook, print_layout

TEMPLATE_NAME = "案件数据导入模板.xlsx"
CASES_SHEET, GUIDE_SHEET = "案件", "填写说明"
REQUIRED_FILL = PatternFill("solid", fgColor="F6D7B0")
OPTIONAL_FILL = PatternFill("solid", fgColor="DCE6F2")
TEXT_FIELDS = ("case_id", "county_code", "matter_id")  # kept as text: Excel would drop a code's leading zeros
NOTES = (
    "每行一件。第 1 行是表头，请勿修改；橙色为必填列，蓝色为选填列（不需要的选填列可整列删除）。",
    "日期可写 2025-08-22、2025/8/22、2025.8.22、2025年8月22日、20250822，或 Excel 日期单元格；收件、办结、告知、反馈日期不能晚于导入当天。",
    "是/否 列可写 是/否、1/0、Y/N、true/false。选填列空白时按下表“说明”中的默认值处理。",
    "不要填写举报人姓名、电话、身份证号码、住址或反映内容摘要：系统不导入、不显示、不保存这些信息。",
    "导入前系统会一次列出文件中的全部问题（行号、列名、原值）；有任何问题则整批不写入。",
)


def import_template_xlsx() -> bytes:
    """The blank template as an XLSX file."""
    guide = field_guide()
    book = new_workbook("案件数据导入模板")
    cases = book.create_sheet(CASES_SHEET)
    append_row(cases, [g.header for g in guide])
    for i, g in enumerate(guide, start=1):
        cell = cases.cell(row=1, column=i)
        cell.font = Font(bold=True)
        cell.fill = REQUIRED_FILL if g.required else OPTIONAL_FILL
        letter = get_column_letter(i)
        cases.column_dimensions[letter].width = max(12, 2 * len(g.header) + 4)
        if g.field in TEXT_FIELDS:
            cases.column_dimensions[letter].number_format = "@"
    print_layout(cases)

    notes = book.create_sheet(GUIDE_SHEET)
    append_row(notes, ["案件数据导入模板 填写说明"])
    notes["A1"].font = Font(bold=True, size=14)
    for line in NOTES:
        append_row(notes, [line])
    notes.append([])
    append_row(notes, ["列名", "必填", "可填的值或格式", "说明", "也可用的列名", "字段"])
    header_row = notes.max_row
    for cell in notes[header_row]:
        cell.font = Font(bold=True)
        cell.fill = OPTIONAL_FILL
    for g in guide:
        append_row(notes, [g.header, "必填" if g.required else "选填", g.accepted, g.meaning,
                           "、".join(g.aliases[1:]) or "—", g.field])
        if g.required:
            notes.cell(row=notes.max_row, column=2).fill = REQUIRED_FILL
    for letter, width in zip("ABCDEF", (14, 8, 44, 52, 44, 22), strict=True):
        notes.column_dimensions[letter].width = width
    for row in notes.iter_rows(min_row=header_row + 1):
        for cell in row:
            cell.alignment = Alignment(wrap_text=True, vertical="top")
    print_layout(notes, header_row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
