"""The form of an official Word document (GB/T 9704 as far as a template-free document can): A4 with the
standard margins, the title in 方正小标宋简体 二号, the body in 仿宋_GB2312 三号 at 28 pt line spacing,
first-level headings in 黑体 and second-level in 楷体_GB2312. Shared by every DOCX the dashboard writes."""
from __future__ import annotations

import io

from docx import Document
from docx.document import Document as DocxDocument
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_LINE_SPACING
from docx.oxml.ns import qn
from docx.shared import Cm, Pt
from docx.text.paragraph import Paragraph

TITLE_FONT, BODY_FONT, HEADING_FONT, SUBHEADING_FONT = "方正小标宋简体", "仿宋_GB2312", "黑体", "楷体_GB2312"
TITLE_PT, BODY_PT, TABLE_PT, NOTE_PT = 22, 16, 10.5, 12  # 二号, 三号, 五号, 小四
DOCX_MIME = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


def new_document() -> DocxDocument:
    """An empty A4 document with the margins of an official document."""
    doc = Document()
    section = doc.sections[0]
    section.page_width, section.page_height = Cm(21), Cm(29.7)
    section.top_margin, section.bottom_margin = Cm(3.7), Cm(3.5)
    section.left_margin, section.right_margin = Cm(2.8), Cm(2.6)
    return doc


def add_run(paragraph: Paragraph, text: str, font: str = BODY_FONT, size: float = BODY_PT, bold: bool = False) -> None:
    """A run of text in `font` for both Latin and Chinese characters."""
    run = paragraph.add_run(text)
    run.font.name, run.font.size, run.font.bold = font, Pt(size), bold
    run.element.get_or_add_rPr().get_or_add_rFonts().set(qn("w:eastAsia"), font)


def add_paragraph(doc: DocxDocument, text: str = "", *, align: WD_ALIGN_PARAGRAPH = WD_ALIGN_PARAGRAPH.JUSTIFY,
                  indent: bool = True, font: str = BODY_FONT, size: float = BODY_PT, bold: bool = False,
                  line_pt: float | None = None) -> Paragraph:
    """A body paragraph: exact lines of `line_pt` (default 28 pt, more for a large size), first line indented
    two characters unless `indent` is off."""
    p = doc.add_paragraph()
    p.alignment = align
    fmt = p.paragraph_format
    fmt.line_spacing_rule, fmt.line_spacing = WD_LINE_SPACING.EXACTLY, Pt(line_pt or max(28, size * 1.4))
    fmt.space_before = fmt.space_after = Pt(0)
    if indent:
        fmt.first_line_indent = Pt(size * 2)
    if text:
        add_run(p, text, font, size, bold)
    return p


def add_title(doc: DocxDocument, text: str, line_pt: float | None = None) -> Paragraph:
    """The document's title, centred."""
    return add_paragraph(doc, text, align=WD_ALIGN_PARAGRAPH.CENTER, indent=False, font=TITLE_FONT, size=TITLE_PT,
                         line_pt=line_pt)


def add_heading(doc: DocxDocument, text: str, level: int = 1) -> Paragraph:
    """一、… in 黑体 (level 1) or （一）… in 楷体 (level 2), indented like the body."""
    return add_paragraph(doc, text, font=HEADING_FONT if level == 1 else SUBHEADING_FONT)


def add_table(doc: DocxDocument, header: list[str], rows: list[list[str]], widths_cm: list[float] | None = None) -> None:
    """A plain grid table in 五号 text, the header row bold, numbers right-aligned."""
    table = doc.add_table(rows=1 + len(rows), cols=len(header))
    table.style = "Table Grid"
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    for r, values in enumerate([header, *rows]):
        for c, value in enumerate(values):
            cell = table.cell(r, c)
            p = cell.paragraphs[0]
            numeric = r > 0 and c > 0 and value[:1] in "0123456789+-−—"
            p.alignment = WD_ALIGN_PARAGRAPH.RIGHT if numeric else WD_ALIGN_PARAGRAPH.CENTER if r == 0 else WD_ALIGN_PARAGRAPH.LEFT
            add_run(p, value, BODY_FONT, TABLE_PT, bold=r == 0)
            if widths_cm:
                cell.width = Cm(widths_cm[c])


def add_picture(doc: DocxDocument, image: bytes, width_cm: float = 15.5) -> None:
    """A centred picture (a chart) in its own paragraph."""
    p = doc.add_paragraph()
    p.alignment = WD_ALIGN_PARAGRAPH.CENTER
    p.add_run().add_picture(io.BytesIO(image), width=Cm(width_cm))


def to_bytes(doc: DocxDocument) -> bytes:
    """The document as .docx bytes."""
    out = io.BytesIO()
    doc.save(out)
    return out.getvalue()
