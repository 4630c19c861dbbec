"""督办通知单: one supervision item as an official notice (reports.docx_form lays out the GB/T 9704 frame): its 文号
from the register, the county's commission named with its city, what is ordered and by when, the issuing office's
联系人 and 电话 in the 附注 (blanks to fill in by hand where the page does not give them), and a 回执 on its own
page for the county to return. Everything written comes from the ledger (typed by officials, checked for personal
numbers there) and the register.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from data_access.supervision.ledger import Method, Subject
from presentation.format import cn_date

from .docx_form import DOCX_MIME, NOTE_PT, Letterhead, OfficialDocument

__all__ = ["DOCX_MIME", "NoticeFacts", "build_notice", "notice_name"]

RECEIPT = "督办事项办理情况回执"
TO_FILL = "\u3000" * 5  # a blank the officer fills in by hand


@dataclass(frozen=True)
class NoticeFacts:
    """What a 督办通知单 says, resolved to names (the page fills it from the ledger and the 文号 register)."""

    number: str  # 鲁纪信督〔2026〕3号
    issuer: str  # 山东省纪委监委信访室, 济宁市纪委监委信访室
    recipient: str  # 济宁市微山县纪委监委
    subject: str  # Subject value
    case_id: str | None
    title: str
    reason: str
    method: str  # Method value
    opened_on: dt.date
    reply_due: dt.date
    issued_on: dt.date  # 成文日期
    copy_to: tuple[str, ...] = ()  # 抄送: the county's city commission when the province issues it
    contact: str = TO_FILL  # 联系人 of the issuing office
    phone: str = TO_FILL  # the 联系人's office telephone


def contact_note(facts: NoticeFacts) -> str:
    """The 附注 naming whom the county calls with a question: 联系人：张某，联系电话：0531-12345678."""
    return f"联系人：{facts.contact}，联系电话：{facts.phone}"


def build_notice(facts: NoticeFacts) -> bytes:
    """The notice as .docx bytes: the body, then the 回执 on a page of its own."""
    head = Letterhead(facts.issuer, facts.number, facts.issued_on, ("督办通知单",), facts.recipient, copy_to=facts.copy_to,
                      attachments=(RECEIPT,), kind="督办通知单", note=contact_note(facts))
    doc = OfficialDocument(head)
    about = f"件号{facts.case_id}的检举控告件" if facts.subject == Subject.CASE.value and facts.case_id else "你单位有关工作"
    doc.paragraph(f"{cn_date(facts.opened_on)}，{facts.issuer}对{about}进行{Method(facts.method).label}。现将有关事项通知如下。")
    doc.heading("一、督办事项")
    doc.paragraph(f"{facts.title.rstrip('。')}。")
    doc.heading("二、督办要求")
    doc.paragraph(f"{facts.reason.rstrip('。')}。")
    doc.heading("三、反馈时限")
    doc.paragraph(f"请于{cn_date(facts.reply_due)}前，将办理进展、整改措施和办结时限书面反馈{facts.issuer}（填写附件回执）；"
                  "逾期未反馈的，将予以通报。")
    doc.attachment("附件", (RECEIPT,))
    doc.table(["项目", "填写内容"], [["督办通知单文号", facts.number], ["督办事项", facts.title], ["办理进展", ""],
                                   ["整改措施", ""], ["办结时限", ""], ["承办单位（盖章）", ""], ["联系人及电话", ""],
                                   ["填报日期", ""]], size=NOTE_PT, fill=True, min_height_pt=40)
    return doc.to_bytes()


def notice_name(facts: NoticeFacts) -> str:
    """The file name: 督办通知单_<recipient>_<opened on>.docx."""
    return f"督办通知单_{facts.recipient}_{facts.opened_on}.docx"
