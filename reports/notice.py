"""督办通知单: one supervision item as a Word document in the usual form of an official notice —
title, number, addressee, body, reply deadline, issuing office and date — built with python-docx.

Fonts follow GB/T 9704 as far as a template-free document can: the title in 方正小标宋简体 (falling
back to 宋体 where it is not installed), the body in 仿宋_GB2312 三号 (16 pt), 28 pt line spacing.
Everything written comes from the ledger (typed by officials, checked for personal numbers there).
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from docx.enum.text import WD_ALIGN_PARAGRAPH

from data_access.ledger import Method, Subject
from presentation.format import cn_date

from .docx_form import DOCX_MIME, add_paragraph, add_title, new_document, to_bytes

__all__ = ["DOCX_MIME", "NoticeFacts", "build_notice", "notice_name"]


@dataclass(frozen=True)
class NoticeFacts:
    """What a 督办通知单 says, resolved to names (the page and the CLI fill it from the ledger)."""

    number: str  # e.g. 督办〔2024〕3f2a1c
    issuer: str  # 山东省纪委监委信访室, 济宁市纪委监委信访室
    recipient: str  # 微山县纪委监委
    subject: str  # Subject value
    case_id: str | None
    title: str
    reason: str
    method: str  # Method value
    opened_on: dt.date
    reply_due: dt.date
    issued_on: dt.date


def build_notice(facts: NoticeFacts) -> bytes:
    """The notice as .docx bytes."""
    doc = new_document()
    add_title(doc, "督办通知单", line_pt=28)
    add_paragraph(doc, facts.number, align=WD_ALIGN_PARAGRAPH.CENTER, indent=False)
    add_paragraph(doc, "")
    add_paragraph(doc, f"{facts.recipient}：", indent=False)
    about = f"件号 {facts.case_id} 的检举控告件" if facts.subject == Subject.CASE.value and facts.case_id else "你单位"
    add_paragraph(doc, f"{cn_date(facts.opened_on)}，{facts.issuer}对{about}进行{Method(facts.method).label}，事项如下：")
    add_paragraph(doc, f"一、督办事项：{facts.title}。")
    add_paragraph(doc, f"二、督办要求：{facts.reason.rstrip('。')}。")
    add_paragraph(doc, f"三、请于{cn_date(facts.reply_due)}前，将办理进展、整改措施和办结时限书面反馈{facts.issuer}；"
                       "逾期未反馈的，将予以通报。")
    add_paragraph(doc, "")
    add_paragraph(doc, facts.issuer, align=WD_ALIGN_PARAGRAPH.RIGHT, indent=False)
    add_paragraph(doc, cn_date(facts.issued_on), align=WD_ALIGN_PARAGRAPH.RIGHT, indent=False)
    return to_bytes(doc)


def notice_name(facts: NoticeFacts) -> str:
    """The file name: 督办通知单_<recipient>_<opened on>.docx."""
    return f"督办通知单_{facts.recipient}_{facts.opened_on}.docx"

