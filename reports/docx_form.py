"""The official-document writer: every Word document the dashboard issues goes through OfficialDocument, which lays
out the GB/T 9704-2012 frame once, so that no document sets a font, a size or a margin of its own.

The frame: A4 with the standard margins (天头 37 mm, 订口 28 mm: a 156 × 225 mm 版心); the red 发文机关标志 and the
red separator line under the 文号; the title in 方正小标宋简体 二号, broken into lines only between the phrases its
author gave (a title word is never split); 主送; the body in 仿宋_GB2312 三号 on a grid of 28 characters × 22 lines
(the section's w:docGrid is lines-and-chars, line pitch 28.95 pt and the character pitch of 28 characters in 156 mm;
the writer's own paragraphs take exact 28.95 pt lines and a 0.4 pt condensed character spacing, so that a renderer
that does not compress characters onto the grid, LibreOffice among them, also sets 28 on a line); headings 一、 in
黑体 and （一） in 楷体; tables whose columns fit their content (case ids never wrap), header rows repeated, rows that
wrap never split across pages and the last rows never left alone on a page; 附件说明 after the body; the 署名
centred over the 成文日期, the date four characters in from the right, both kept on the page of the last text; 附注;
each 附件 on a new page under its label; the 版记 (抄送, 印发机关, 印发日期) closing the document after its last text
(not pushed to the foot of the page, as GB/T 9704 places it: a floating table anchored to the bottom margin (w:tblpPr)
or a positioned paragraph frame (w:framePr, bottom-aligned or at an absolute height) is set right after the text by
LibreOffice 7.4, which the render tests print with, so neither can be checked; and the last page being even is known
only after layout, which python-docx does not do); page numbers “— 1 —” in 四号 at the outside edge; and the document's
properties (author, title, dates) from the [documents] settings and the document itself.
"""
from __future__ import annotations

import datetime as dt
import io
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from docx import Document
from docx.document import Document as DocxDocument
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_BREAK, WD_LINE_SPACING, WD_TAB_ALIGNMENT
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.section import Section
from docx.shared import Emu, Mm, Pt, RGBColor
from docx.table import Table
from docx.text.paragraph import Paragraph

from presentation.format import cn_count, cn_date

TITLE_FONT, BODY_FONT, HEADING_FONT, SUBHEADING_FONT, NUMBER_FONT = "方正小标宋简体", "仿宋_GB2312", "黑体", "楷体_GB2312", "宋体"
MASTHEAD_PT, TITLE_PT, BODY_PT, TABLE_PT, NOTE_PT, RECORD_PT, PAGE_PT = 36, 22, 16, 10.5, 12, 14, 14  # 二号 22, 三号 16, 四号 14
RED = RGBColor(0xFF, 0x00, 0x00)
DOCX_MIME = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"

PAGE_WIDTH, PAGE_HEIGHT = Mm(210), Mm(297)
TOP, BOTTOM, LEFT, RIGHT = Mm(37), Mm(35), Mm(28), Mm(26)  # 版心 156 mm × 225 mm
TEXT_WIDTH_PT = (PAGE_WIDTH - LEFT - RIGHT) / 12700  # 442.2 pt
LINES, CHARS = 22, 28
LINE_PT = 28.95  # 225 mm / 22 lines
LINE_PITCH_TWIPS = 579  # the grid's line pitch: 28.95 pt
# The grid's character pitch, 156 mm / 28 = 15.79 pt, as w:charSpace: 4096ths of a point added to the 16 pt default.
CHAR_SPACE = round((TEXT_WIDTH_PT / CHARS - BODY_PT) * 4096)
CONDENSE_TWENTIETHS = -8  # 0.4 pt less per character: 28 × 15.6 pt fit the 442.2 pt line with room to justify
TITLE_LINE_PT = 35
MASTHEAD_TOP_MM = 35  # 发文机关标志: its top edge 35 mm below the 版心's
FOOTER_MM = 22  # the page number's line sits 7 mm under the 版心 (35 mm margin − 7 mm − the line)
KEEP_LAST_ROWS = 3  # the last rows of a table move to a new page together, never one alone
CELL_PAD_PT = 7.2  # left + right cell margins of a table (0.05 in, 72 twips, each side: set on every table)
_CJK_SPACE = re.compile(r"(?<=[\u3000-\u303f\u3400-\u9fff\uff00-\uffef]) +(?=[0-9A-Za-z%+\-−.])|"
                        r"(?<=[0-9A-Za-z%.]) +(?=[\u3000-\u303f\u3400-\u9fff\uff00-\uffef])")


def prose(text: str) -> str:
    """Chinese prose as it is printed: no space between a Han character (or full-width mark) and a number or Latin
    word (来电 22 件 → 来电22件); spaces between Latin words stay."""
    return _CJK_SPACE.sub("", text)


def em_width(text: str) -> float:
    """The width of `text` in em: Han characters and full-width marks 1, the rest (digits, Latin) ½."""
    return sum(1.0 if ord(ch) >= 0x2E80 or ch in "—…“”‘’" else 0.5 for ch in text)


def title_lines(parts: Sequence[str], per_line: float) -> list[str]:
    """The title's lines: its phrases (never split) put on as few lines as fit `per_line` em, as evenly as possible."""
    parts = [p for p in parts if p]
    best: tuple[int, float, list[str]] | None = None
    n = len(parts)
    for mask in range(1 << max(n - 1, 0)):  # a title has a handful of phrases: every way to break it is tried
        lines, current = [], parts[0] if parts else ""
        for i in range(1, n):
            if mask >> (i - 1) & 1:
                lines.append(current)
                current = parts[i]
            else:
                current += parts[i]
        lines.append(current)
        widest = max(em_width(line) for line in lines)
        if widest > per_line and len(lines) < n:
            continue
        key = (len(lines), widest, lines)
        if best is None or key[:2] < best[:2]:
            best = key
    return best[2] if best else [""]


@dataclass(frozen=True)
class Letterhead:
    """What frames a document: who issues it, its number, title, recipients, date and what follows its body."""

    issuer: str  # 发文机关: the 发文机关标志 and the 署名 (山东省纪委监委信访室)
    number: str | None  # 文号; None for a document without one
    dated: dt.date  # 成文日期
    title: tuple[str, ...]  # the title's phrases: lines break only between them
    recipient: str | None = None  # 主送, without its colon
    copy_to: tuple[str, ...] = ()  # 抄送
    attachments: tuple[str, ...] = ()  # the names of the 附件, in order (附件说明 lists them)
    note: str | None = None  # 附注, printed in brackets under the date
    kind: str = ""  # what the document is (document properties): 通报, 督办通知单
    printer: str | None = None  # 印发机关 (default: the issuer)

    @property
    def title_text(self) -> str:
        """The title as one line of text."""
        return "".join(self.title)


# The order the schema gives the children of the elements the writer adds to (Word refuses a file out of order).
_ORDER = {
    "w:pPr": ("w:pStyle", "w:keepNext", "w:keepLines", "w:pageBreakBefore", "w:framePr", "w:widowControl", "w:numPr",
              "w:suppressLineNumbers", "w:pBdr", "w:shd", "w:tabs", "w:suppressAutoHyphens", "w:kinsoku", "w:wordWrap",
              "w:overflowPunct", "w:topLinePunct", "w:autoSpaceDE", "w:autoSpaceDN", "w:bidi", "w:adjustRightInd",
              "w:snapToGrid", "w:spacing", "w:ind", "w:contextualSpacing", "w:mirrorIndents", "w:suppressOverlap", "w:jc",
              "w:textDirection", "w:textAlignment", "w:textboxTightWrap", "w:outlineLvl", "w:divId", "w:cnfStyle",
              "w:rPr", "w:sectPr", "w:pPrChange"),
    "w:rPr": ("w:rStyle", "w:rFonts", "w:b", "w:bCs", "w:i", "w:iCs", "w:caps", "w:smallCaps", "w:strike", "w:dstrike",
              "w:outline", "w:shadow", "w:emboss", "w:imprint", "w:noProof", "w:snapToGrid", "w:vanish", "w:webHidden",
              "w:color", "w:spacing", "w:w", "w:kern", "w:position", "w:sz", "w:szCs", "w:highlight", "w:u", "w:effect",
              "w:bdr", "w:shd", "w:fitText", "w:vertAlign", "w:rtl", "w:cs", "w:em", "w:lang", "w:eastAsianLayout"),
    "w:tblPr": ("w:tblStyle", "w:tblpPr", "w:tblOverlap", "w:bidiVisual", "w:tblStyleRowBandSize",
                "w:tblStyleColBandSize", "w:tblW", "w:jc", "w:tblCellSpacing", "w:tblInd", "w:tblBorders", "w:shd",
                "w:tblLayout", "w:tblCellMar", "w:tblLook", "w:tblCaption", "w:tblDescription"),
    "w:tcPr": ("w:cnfStyle", "w:tcW", "w:gridSpan", "w:hMerge", "w:vMerge", "w:tcBorders", "w:shd", "w:noWrap",
               "w:tcMar", "w:textDirection", "w:tcFitText", "w:vAlign", "w:hideMark"),
    "w:tcBorders": ("w:top", "w:left", "w:start", "w:bottom", "w:right", "w:end", "w:insideH", "w:insideV"),
    "w:pBdr": ("w:top", "w:left", "w:bottom", "w:right", "w:between", "w:bar"),
    "w:tblCellMar": ("w:top", "w:left", "w:start", "w:bottom", "w:right", "w:end"),
}


def _set(element: Any, tag: str, **attrs: str) -> Any:
    """The child `tag` of `element` (created in its schema place if missing) with `attrs` set."""
    child = element.find(qn(tag))
    if child is None:
        child = OxmlElement(tag)
        order = _ORDER.get(element.tag.replace("{http://schemas.openxmlformats.org/wordprocessingml/2006/main}", "w:"), ())
        later = order[order.index(tag) + 1:] if tag in order else ()
        following = next((c for c in element if any(c.tag == qn(t) for t in later)), None)
        if following is not None:
            following.addprevious(child)
        else:
            element.append(child)
    for key, value in attrs.items():
        child.set(qn(f"w:{key}"), value)
    return child


def _border(paragraph: Paragraph, side: str, size_eighths: int, colour: str, space_pt: int = 0) -> None:
    """A rule along one side of a paragraph (its whole width: the 版心's)."""
    borders = _set(paragraph._p.get_or_add_pPr(), "w:pBdr")
    _set(borders, f"w:{side}", val="single", sz=str(size_eighths), space=str(space_pt), color=colour)


def _no_grid(paragraph: Paragraph) -> None:
    """Take a paragraph off the character grid (its characters keep their own widths)."""
    _set(paragraph._p.get_or_add_pPr(), "w:snapToGrid", val="0")


def _run(paragraph: Paragraph, text: str, font: str, size: float, *, bold: bool = False, colour: RGBColor | None = None,
         condensed: bool = True) -> None:
    run = paragraph.add_run(text)
    run.font.name, run.font.size, run.font.bold = font, Pt(size), bold
    fonts = run.element.get_or_add_rPr().get_or_add_rFonts()
    for attr in ("w:eastAsia", "w:ascii", "w:hAnsi"):
        fonts.set(qn(attr), font)
    if colour is not None:
        run.font.color.rgb = colour
    if condensed:
        _set(run.element.get_or_add_rPr(), "w:spacing", val=str(CONDENSE_TWENTIETHS))


@dataclass
class OfficialDocument:
    """One official document being written: the frame is laid out by the writer, the body by its author through
    paragraph / heading / table / picture / note; attachment() opens a 附件; to_bytes() closes the frame."""

    head: Letterhead
    doc: DocxDocument = field(default_factory=Document)
    _last: list[Paragraph] = field(default_factory=list)  # the last body block's paragraphs (kept with the signature)
    _signed: bool = False

    def __post_init__(self) -> None:
        self._page()
        self._masthead()
        self._title(self.head.title, self.doc)
        self._line("", indent=False)  # 主送 (or the body) one line under the title
        if self.head.recipient:
            self._line(f"{self.head.recipient}：", indent=False)

    # --- the frame -------------------------------------------------------------------------------------------

    def _page(self) -> None:
        section = self.doc.sections[0]
        section.page_width, section.page_height = PAGE_WIDTH, PAGE_HEIGHT
        section.top_margin, section.bottom_margin, section.left_margin, section.right_margin = TOP, BOTTOM, LEFT, RIGHT
        section.header_distance, section.footer_distance = Mm(15), Mm(FOOTER_MM)
        _set(section._sectPr, "w:docGrid", type="linesAndChars", linePitch=str(LINE_PITCH_TWIPS), charSpace=str(CHAR_SPACE))
        defaults = self.doc.styles.element.find(qn("w:docDefaults"))
        run_defaults = defaults.find(qn("w:rPrDefault")).find(qn("w:rPr"))
        for tag in ("w:sz", "w:szCs"):
            _set(run_defaults, tag, val=str(BODY_PT * 2))
        fonts = _set(run_defaults, "w:rFonts")
        for attr in ("ascii", "hAnsi", "eastAsia", "cs"):
            fonts.attrib.pop(qn(f"w:{attr}Theme"), None)
            fonts.set(qn(f"w:{attr}"), BODY_FONT)
        _set(_set(defaults.find(qn("w:pPrDefault")), "w:pPr"), "w:spacing", after="0", line=str(LINE_PITCH_TWIPS),
             lineRule="exact")
        normal = self.doc.styles["Normal"]
        normal.font.size = Pt(BODY_PT)
        self.doc.settings.odd_and_even_pages_header_footer = True
        self._page_numbers(section)

    def _page_numbers(self, section: Section) -> None:
        """“— 1 —” in 四号: odd pages at the right, even pages at the left, one character in from the edge."""
        for footer, align in ((section.footer, WD_ALIGN_PARAGRAPH.RIGHT), (section.even_page_footer, WD_ALIGN_PARAGRAPH.LEFT)):
            footer.is_linked_to_previous = False
            p = footer.paragraphs[0]
            p.alignment = align
            fmt = p.paragraph_format
            fmt.left_indent = Pt(PAGE_PT) if align == WD_ALIGN_PARAGRAPH.LEFT else None
            fmt.right_indent = Pt(PAGE_PT) if align == WD_ALIGN_PARAGRAPH.RIGHT else None
            _no_grid(p)
            _run(p, "— ", NUMBER_FONT, PAGE_PT, condensed=False)
            self._field(p, "PAGE")
            _run(p, " —", NUMBER_FONT, PAGE_PT, condensed=False)

    @staticmethod
    def _field(paragraph: Paragraph, instruction: str) -> None:
        def char(kind: str) -> None:
            run = paragraph.add_run()
            run.font.name, run.font.size = NUMBER_FONT, Pt(PAGE_PT)
            _set(run.element, "w:fldChar", fldCharType=kind)

        char("begin")
        run = paragraph.add_run()
        run.font.name, run.font.size = NUMBER_FONT, Pt(PAGE_PT)
        text = OxmlElement("w:instrText")
        text.set(qn("xml:space"), "preserve")
        text.text = f" {instruction} "
        run.element.append(text)
        char("separate")
        run = paragraph.add_run("1")
        run.font.name, run.font.size = NUMBER_FONT, Pt(PAGE_PT)
        char("end")

    def _masthead(self) -> None:
        """The red 发文机关标志 (35 mm under the 版心's top), the 文号 two lines below, and the red rule under it."""
        size = min(MASTHEAD_PT, TEXT_WIDTH_PT / max(em_width(self.head.issuer), 1) * 0.96)
        p = self._bare(WD_ALIGN_PARAGRAPH.CENTER, line_pt=size * 1.2)
        p.paragraph_format.space_before = Mm(MASTHEAD_TOP_MM)
        _run(p, self.head.issuer, TITLE_FONT, size, colour=RED, condensed=False)
        self._line("", indent=False)
        number = self._line(self.head.number or "", indent=False, align=WD_ALIGN_PARAGRAPH.CENTER)
        _border(number, "bottom", 12, "FF0000", space_pt=11)  # the separator: 版心 wide, 4 mm under the number
        self._line("", indent=False)

    def _title(self, parts: Sequence[str], where: DocxDocument) -> None:
        lines = title_lines(parts, TEXT_WIDTH_PT / TITLE_PT)
        p = self._bare(WD_ALIGN_PARAGRAPH.CENTER, line_pt=TITLE_LINE_PT)
        for i, line in enumerate(lines):
            if i:
                p.runs[-1].add_break(WD_BREAK.LINE)
            _run(p, line, TITLE_FONT, TITLE_PT, condensed=False)
        p.paragraph_format.keep_with_next = True

    def _bare(self, align: WD_ALIGN_PARAGRAPH, line_pt: float = LINE_PT) -> Paragraph:
        p = self.doc.add_paragraph()
        p.alignment = align
        fmt = p.paragraph_format
        fmt.line_spacing_rule, fmt.line_spacing = WD_LINE_SPACING.EXACTLY, Pt(line_pt)
        fmt.space_before = fmt.space_after = Pt(0)
        fmt.widow_control = True
        _no_grid(p)
        return p

    def _line(self, text: str, *, indent: bool = True, font: str = BODY_FONT, size: float = BODY_PT,
              align: WD_ALIGN_PARAGRAPH = WD_ALIGN_PARAGRAPH.JUSTIFY, bold: bool = False) -> Paragraph:
        p = self._bare(align, LINE_PT if size <= BODY_PT else size * 1.4)
        if indent:
            p.paragraph_format.first_line_indent = Pt(size * 2)
        if text:
            _run(p, prose(text), font, size, bold=bold)
        return p

    # --- the body -------------------------------------------------------------------------------------------

    def paragraph(self, text: str) -> Paragraph:
        """A body paragraph: 仿宋 三号, first line indented two characters, justified."""
        p = self._line(text)
        self._last = [p]
        return p

    def heading(self, text: str, level: int = 1) -> Paragraph:
        """一、… in 黑体 (level 1) or （一）… in 楷体 (level 2), indented like the body, kept with what follows."""
        p = self._line(text, font=HEADING_FONT if level == 1 else SUBHEADING_FONT)
        p.paragraph_format.keep_with_next = True
        self._last = [p]
        return p

    def note(self, text: str) -> Paragraph:
        """A note in 小四 (a method, a source), indented like the body."""
        p = self._line(text, size=NOTE_PT)
        self._last = [p]
        return p

    def blank(self, lines: int = 1) -> None:
        """Empty body lines (a space left to write into)."""
        for _ in range(lines):
            self._line("", indent=False)

    def picture(self, image: bytes, width_mm: float = 150) -> None:
        """A centred picture (a chart) in its own paragraph, kept with what follows it."""
        p = self.doc.add_paragraph()
        p.alignment = WD_ALIGN_PARAGRAPH.CENTER
        fmt = p.paragraph_format
        fmt.keep_with_next = True
        fmt.line_spacing_rule = WD_LINE_SPACING.SINGLE  # as tall as the picture (the body's lines are exact)
        fmt.space_before, fmt.space_after = Pt(6), Pt(6)
        _no_grid(p)
        p.add_run().add_picture(io.BytesIO(image), width=Mm(min(width_mm, 156)))
        self._last = [p]

    def table(self, header: Sequence[str], rows: Sequence[Sequence[str]], *, unbroken: Sequence[int] = (),
              size: float = TABLE_PT, fill: bool = False, min_height_pt: float | None = None) -> Table:
        """A grid table in 仿宋 (五号 by default): columns as wide as their content (the `unbroken` columns, such as
        case ids, never wrap; with `fill` the last column takes the rest of the 版心, a form to write into), the
        header row repeated on every page, no row split across pages, the first two and the last rows kept together, numbers
        right-aligned; rows at least `min_height_pt` high when given."""
        widths = _column_widths(header, rows, unbroken, size)
        if fill:
            widths[-1] += max(TEXT_WIDTH_PT - sum(widths), 0)
        table = self.doc.add_table(rows=1 + len(rows), cols=len(header))
        table.style = "Table Grid"
        table.alignment = WD_TABLE_ALIGNMENT.CENTER
        table.autofit = False
        _set(table._tbl.tblPr, "w:tblLayout", type="fixed")
        _set(table._tbl.tblPr, "w:tblW", w=str(round(sum(widths) * 20)), type="dxa")
        margins = _set(table._tbl.tblPr, "w:tblCellMar")
        for side in ("left", "right"):
            _set(margins, f"w:{side}", w=str(round(CELL_PAD_PT * 10)), type="dxa")
        for col, width in zip(table.columns, widths, strict=True):
            col.width = Emu(round(width * 12700))
        for r, values in enumerate([header, *rows]):
            row = table.rows[r]
            if any(_cell_em(str(v)) * size + CELL_PAD_PT > w for v, w in zip(values, widths, strict=True)):
                # a row that wraps stays whole on its page (a one-line row cannot split anyway; marking those too
                # makes LibreOffice drop rows of a table that starts at the foot of a page)
                _set(row._tr.get_or_add_trPr(), "w:cantSplit")
            if min_height_pt and r:
                _set(row._tr.get_or_add_trPr(), "w:trHeight", val=str(round(min_height_pt * 20)), hRule="atLeast")
            if r == 0:
                _set(row._tr.get_or_add_trPr(), "w:tblHeader")
            # the header and the first row go on with the second (a table that starts at the foot of a page moves
            # over rather than leaving one row there), and the last rows stay together
            keep = r == 0 or r == 1 < len(rows) or r >= len(rows) + 1 - KEEP_LAST_ROWS and r < len(rows)
            for c, value in enumerate(values):
                cell = row.cells[c]
                cell.width = Emu(round(widths[c] * 12700))
                p = cell.paragraphs[0]
                numeric = r > 0 and bool(re.fullmatch(r"[+\-−]?[\d,.]+%?|—", value))
                p.alignment = (WD_ALIGN_PARAGRAPH.RIGHT if numeric else WD_ALIGN_PARAGRAPH.CENTER if r == 0
                               else WD_ALIGN_PARAGRAPH.LEFT)
                fmt = p.paragraph_format
                fmt.line_spacing_rule, fmt.line_spacing = WD_LINE_SPACING.EXACTLY, Pt(size * 1.45)
                fmt.space_before = fmt.space_after = Pt(1)
                fmt.keep_with_next = keep
                _no_grid(p)
                _run(p, value, BODY_FONT, size, bold=r == 0, condensed=False)
        if self.doc.paragraphs:
            self.doc.paragraphs[-1].paragraph_format.keep_with_next = True  # the lead-in stays with the table's head
        self._last = [row.cells[0].paragraphs[0] for row in table.rows[-1:]]
        after = self._line("", indent=False)  # a table is followed by body text, never by the frame directly
        after.paragraph_format.line_spacing = Pt(BODY_PT * 0.6)
        return table

    # --- what follows the body ------------------------------------------------------------------------------

    def _sign(self) -> None:
        """附件说明, then the 署名 centred over the 成文日期 (four characters in from the right), then the 附注; kept
        on the page of the body's last lines."""
        if self._signed:
            return
        self._signed = True
        for p in self._last:
            p.paragraph_format.keep_with_next = True
        block = [self._line("", indent=False)]
        attachments = self.head.attachments
        for i, name in enumerate(attachments):
            label = "附件：" if i == 0 else "　　　"
            numbered = f"{i + 1}．{name}" if len(attachments) > 1 else name
            p = self._line(f"{label}{numbered}", align=WD_ALIGN_PARAGRAPH.LEFT)
            p.paragraph_format.left_indent = Pt(BODY_PT * (5 if len(attachments) > 1 else 3)) if i else None
            block.append(p)
        if attachments:
            block.append(self._line("", indent=False))
            block.append(self._line("", indent=False))
        # both centred on one tab stop: the 署名 exactly over the date, whose right end falls four characters in
        # from the right (exactly so in 仿宋_GB2312, whose digits are half a character wide)
        date = cn_date(self.head.dated)
        char = BODY_PT + CONDENSE_TWENTIETHS / 20
        centre = Pt(TEXT_WIDTH_PT - 4 * char - em_width(date) * char / 2)
        signer = self._line("", indent=False, align=WD_ALIGN_PARAGRAPH.LEFT)
        dated = self._line("", indent=False, align=WD_ALIGN_PARAGRAPH.LEFT)
        for p, text in ((signer, self.head.issuer), (dated, date)):
            p.paragraph_format.tab_stops.add_tab_stop(centre, WD_TAB_ALIGNMENT.CENTER)
            _run(p, f"\t{text}", BODY_FONT, BODY_PT)
        for p in [*block, signer]:
            p.paragraph_format.keep_with_next = True
        if self.head.note:
            dated.paragraph_format.keep_with_next = True
            self._line(f"（{self.head.note}）")

    def attachment(self, label: str, title: Sequence[str]) -> None:
        """Open a 附件 on a new page: its label (附件 / 附件1) at the top left in 黑体, then its title."""
        self._sign()
        p = self._line(label, indent=False, font=HEADING_FONT, align=WD_ALIGN_PARAGRAPH.LEFT)
        p.paragraph_format.page_break_before = True
        p.paragraph_format.keep_with_next = True
        self._line("", indent=False).paragraph_format.keep_with_next = True
        self._title(title, self.doc)
        self._line("", indent=False).paragraph_format.keep_with_next = True

    def _record(self) -> None:
        """The 版记 closing the document: 抄送, then 印发机关 and 印发日期, between a thick, a thin and a thick rule as
        wide as the 版心 (a one-column table, kept in one piece, after a blank line)."""
        self._line("", indent=False).paragraph_format.keep_with_next = True
        rows = ([f"抄送：{'，'.join(self.head.copy_to)}。"] if self.head.copy_to else []) + [""]
        table = self.doc.add_table(rows=len(rows), cols=1)
        tbl_pr = table._tbl.tblPr
        _set(tbl_pr, "w:tblW", w=str(round(TEXT_WIDTH_PT * 20)), type="dxa")
        _set(tbl_pr, "w:jc", val="center")
        _set(tbl_pr, "w:tblLayout", type="fixed")
        table.columns[0].width = Emu(round(TEXT_WIDTH_PT * 12700))
        for i, text in enumerate(rows):
            row = table.rows[i]
            _set(row._tr.get_or_add_trPr(), "w:cantSplit")
            cell = row.cells[0]
            cell.width = Emu(round(TEXT_WIDTH_PT * 12700))
            borders = _set(cell._tc.get_or_add_tcPr(), "w:tcBorders")
            _set(borders, "w:top", val="single", sz="8" if i == 0 else "4", space="0", color="000000")
            _set(borders, "w:left", val="nil")
            _set(borders, "w:bottom", val="single" if i == len(rows) - 1 else "nil", sz="8", space="0", color="000000")
            _set(borders, "w:right", val="nil")
            p = cell.paragraphs[0]
            fmt = p.paragraph_format
            fmt.line_spacing_rule, fmt.line_spacing = WD_LINE_SPACING.EXACTLY, Pt(LINE_PT)
            fmt.left_indent = fmt.right_indent = Pt(RECORD_PT)
            fmt.keep_with_next = i < len(rows) - 1
            _no_grid(p)
            if i == len(rows) - 1:
                fmt.tab_stops.add_tab_stop(Pt(TEXT_WIDTH_PT - 2 * RECORD_PT - CELL_PAD_PT), WD_TAB_ALIGNMENT.RIGHT)
                text = f"{self.head.printer or self.head.issuer}\t{cn_date(self.head.dated)}印发"
            _run(p, text, BODY_FONT, RECORD_PT, condensed=False)
        end = self._bare(WD_ALIGN_PARAGRAPH.LEFT, line_pt=1)  # a document does not end on a table
        end.paragraph_format.line_spacing = Pt(1)

    def _properties(self) -> None:
        props = self.doc.core_properties
        now = dt.datetime.now().replace(microsecond=0)
        props.author = props.last_modified_by = self.head.issuer
        props.title = self.head.title_text
        props.subject = self.head.kind
        props.keywords = self.head.number or ""
        props.comments = f"成文日期 {self.head.dated}"
        props.category = self.head.kind
        props.created = props.modified = now
        props.revision = 1

    def to_bytes(self) -> bytes:
        """Close the frame (signature if no 附件 did, 版记, properties) and return the .docx bytes."""
        self._sign()
        self._record()
        self._properties()
        out = io.BytesIO()
        self.doc.save(out)
        return out.getvalue()


def _cell_em(text: str) -> float:
    """A cell's width in em, generous for Latin and digits (fonts differ: ½ em in 仿宋_GB2312, about 0.6 in a fallback)."""
    return sum(1.0 if ord(ch) >= 0x2E80 else 0.78 if ch.isupper() else 0.66 if ch.isdigit() else 0.6 for ch in text)


def _column_widths(header: Sequence[str], rows: Sequence[Sequence[str]], unbroken: Sequence[int], size: float) -> list[float]:
    """Column widths in pt: each column as wide as its widest cell and its header; when that is wider than the 版心,
    long headers take two lines, then the widest columns that may wrap give way first (`unbroken` ones never)."""
    n = len(header)
    pad = CELL_PAD_PT + 2  # the cell margins and a little air
    cells = [max([_cell_em(str(r[c])) for r in rows] or [0.0]) for c in range(n)]
    heads = [_cell_em(h) for h in header]
    need = [max(cells[c], heads[c]) * size + pad for c in range(n)]
    if sum(need) > TEXT_WIDTH_PT:  # long headers on two lines
        need = [max(cells[c], heads[c] / 2 + 1 if heads[c] > 4 else heads[c]) * size + pad for c in range(n)]
    if sum(need) <= TEXT_WIDTH_PT:
        return need
    flexible = [c for c in range(n) if c not in unbroken] or list(range(n))
    room = TEXT_WIDTH_PT - sum(need[c] for c in range(n) if c not in flexible)
    floor = 2 * size + pad
    low, high = floor, max(need[c] for c in flexible)
    for _ in range(40):  # the cap on the flexible columns that makes them fill the room: the widest give way first
        cap = (low + high) / 2
        low, high = (cap, high) if sum(min(need[c], cap) for c in flexible) <= room else (low, cap)
    return [min(need[c], low) if c in flexible else need[c] for c in range(n)]


def to_bytes(document: OfficialDocument) -> bytes:
    """The document as .docx bytes (OfficialDocument.to_bytes)."""
    return document.to_bytes()


__all__ = ["DOCX_MIME", "Letterhead", "OfficialDocument", "cn_count", "em_width", "prose", "title_lines"]
