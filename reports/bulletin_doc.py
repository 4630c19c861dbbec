"""The weekly 通报 as a Word document to send (beside the deck that shows it at the meeting): the same text as
presentation.bulletin, framed by the official-document writer with its 文号 and 成文日期 (a draft, the number left
blank, until it is issued)."""
from __future__ import annotations

import datetime as dt

from metrics.weekly import WeeklyReport
from presentation.bulletin import bulletin, bulletin_title_parts
from presentation.documents import DEFAULT_DOCUMENT_SETTINGS, DocumentSettings, Issuance

from .docx_form import Letterhead, OfficialDocument


def build_bulletin_document(report: WeeklyReport, documents: DocumentSettings = DEFAULT_DOCUMENT_SETTINGS,
                            issuance: Issuance | None = None) -> bytes:
    """The week's 通报 as .docx bytes, as issued with `issuance` (or its draft)."""
    b = bulletin(report, documents, issuance)
    doc = OfficialDocument(Letterhead(b.issuer, b.number, b.dated, bulletin_title_parts(report), b.addressee.rstrip("："),
                                      kind="通报"))
    for paragraph in b.body:
        doc.paragraph(paragraph)
    doc.paragraph(b.requirements)
    return doc.to_bytes()


def bulletin_name(as_of: dt.date) -> str:
    """周例会通报_2024-06-30.docx."""
    return f"周例会通报_{as_of.isoformat()}.docx"
