"""越级重复举报专项治理's documents, through the one official-document writer (reports.docx_form):

- the 交办函 to a city: its matters enrolled and not yet 案结事了, each with its 包案领导 and 限期办结, and what the
  city reports back by when — numbered by the 文号 register (DocumentKind.CAMPAIGN_LETTER), a draft leaves it blank;
- a matter's 一案一档: its reports in order with their level and channel, the 包案 record, the steps and progress
  notes, the 督办 items of its cases — a file for the archive, without a 文号.

Everything written comes from metrics.campaign_week (city_letter, matter_dossier): the campaign's own tables, typed
by officials and checked there for personal numbers, and the case table, which holds no reporter identity.
"""
from __future__ import annotations

import datetime as dt

import pandas as pd

from data_access.reference.enums import Channel, ReceivedLevel
from data_access.supervision.campaign import State, Step
from data_access.supervision.document_register import DocumentKind, Draft
from data_access.supervision.ledger import Method
from data_access.supervision.ledger import Status as ItemStatus
from metrics.campaign_week import CityLetter, MatterDossier
from presentation.campaign import NO_LEADER, state_label
from presentation.documents import DEFAULT_DOCUMENT_SETTINGS, DocumentSettings, Issuance
from presentation.format import cn_date

from .docx_form import DOCX_MIME, Letterhead, OfficialDocument

__all__ = ["DOCX_MIME", "build_dossier", "build_letter", "dossier_name", "letter_draft", "letter_name"]

LETTER_TITLE = ("关于交办越级重复举报", "专项治理事项的函")
MECHANISM = "“一个积案、一名领导、一套班子、一个方案、一抓到底”"
NONE = "无。"


def _label(enum: type[State] | type[Step] | type[Channel] | type[ReceivedLevel] | type[Method] | type[ItemStatus],
           value: object) -> str:
    """The Chinese label of a stored value (the value itself when it is no member: a source system's own word)."""
    if value is None or value == "" or (isinstance(value, float) and value != value):
        return "—"
    try:
        return str(enum(str(value)).label)
    except ValueError:
        return str(value)


def _day(value: object) -> str:
    """A date or a moment as YYYY-MM-DD ('—' when empty)."""
    if value is None or value is pd.NaT or (isinstance(value, float) and value != value):
        return "—"
    stamp = pd.Timestamp(str(value))
    return "—" if pd.isna(stamp) else stamp.date().isoformat()


def _moment(value: object) -> str:
    """A step's moment as YYYY-MM-DD HH:MM ('—' when empty)."""
    stamp = pd.Timestamp(str(value)) if value is not None and value == value else pd.NaT
    return "—" if pd.isna(stamp) else stamp.strftime("%Y-%m-%d %H:%M")


def letter_subject(letter: CityLetter) -> str:
    """What the register files the letter under: campaign/<city>/<as-of> (the same when issued again)."""
    return f"campaign/{letter.city_code}/{letter.as_of.isoformat()}"


def letter_draft(letter: CityLetter, documents: DocumentSettings, issuer_region_name: str, reply_due: dt.date) -> Draft:
    """The 交办函 to the city as the 文号 register takes it, issued by the office of `issuer_region_name` (全省)."""
    return Draft(DocumentKind.CAMPAIGN_LETTER, documents.series(DocumentKind.CAMPAIGN_LETTER, issuer_region_name),
                 letter_subject(letter), "".join(LETTER_TITLE), f"{letter.city_name}纪委监委", letter.city_code, reply_due)


def build_letter(letter: CityLetter, documents: DocumentSettings = DEFAULT_DOCUMENT_SETTINGS,
                 issuance: Issuance | None = None, issuer_region_name: str = "全省") -> bytes:
    """The 交办函 as .docx bytes: as issued with `issuance` (its 文号, date and reply deadline), else a draft dated
    the as-of day, its number blank and its deadline the settings' working days on."""
    dated = issuance.dated if issuance else letter.as_of
    due = (issuance.due if issuance and issuance.due else None) or documents.reply_due(dated)
    issuer = documents.issuer(issuer_region_name)
    number = issuance.number if issuance and issuance.number else documents.draft_number(
        DocumentKind.CAMPAIGN_LETTER, issuer_region_name, dated)
    doc = OfficialDocument(Letterhead(issuer, number, dated, LETTER_TITLE, f"{letter.city_name}纪委监委",
                                      kind=DocumentKind.CAMPAIGN_LETTER.label))
    m = letter.matters
    doc.paragraph(f"根据越级重复举报专项治理工作安排，截至{cn_date(letter.as_of)}，你市纳入专项治理、尚未案结事了的越级重复"
                  f"举报事项共{len(m)}件，现集中交办你市。")
    doc.heading("一、工作要求")
    doc.paragraph(f"对交办事项，严格落实市县纪委监委领导班子包案责任，实行{MECHANISM}的工作机制，逐件明确包案领导、"
                  "工作专班和化解方案，加强跟踪督促和检查督办，严格限期办结，确保案结事了、群众满意。")
    doc.heading("二、交办事项")
    if m.empty:
        doc.paragraph("截至上述日期，你市没有尚未案结事了的专项治理事项。")
    else:
        doc.paragraph(f"交办事项{len(m)}件，逐件列明包案领导和限期办结日期如下。")
        rows = [[f"{i}", str(r.matter), str(r.county_name), f"{int(r.reports)}", state_label(str(r.state)),
                 str(r.leader) or NO_LEADER, _day(r.deadline)] for i, r in enumerate(m.itertuples(), start=1)]
        doc.table(["序号", "事项编号", "承办县（市、区）", "举报件数", "状态", "包案领导", "限期办结"], rows, unbroken=(1, 6))
    doc.heading("三、反馈要求")
    missing = (f"尚未确定包案领导的{letter.without_leader}件，请在此前确定包案领导、工作专班和化解方案并在系统中登记；"
               if letter.without_leader else "")
    overdue = int(m["overdue"].sum()) if not m.empty else 0
    late = f"已超过限期的{overdue}件，说明未化解原因和办结时限；" if overdue else ""
    doc.paragraph(f"请于{cn_date(due)}前将包案落实情况和化解进展书面反馈{issuer}。{missing}{late}"
                  "出现新的重复举报的，及时报告反弹情况。")
    return doc.to_bytes()


def letter_name(letter: CityLetter) -> str:
    """专项治理交办函_济宁市_2026-10-31.docx."""
    return f"专项治理交办函_{letter.city_name}_{letter.as_of.isoformat()}.docx"


def build_dossier(dossier: MatterDossier, documents: DocumentSettings = DEFAULT_DOCUMENT_SETTINGS,
                  issuer_region_name: str = "全省", dated: dt.date | None = None) -> bytes:
    """The matter's 一案一档 as .docx bytes, dated `dated` (default: its as-of day), without a 文号."""
    as_of = dossier.as_of
    doc = OfficialDocument(Letterhead(documents.issuer(issuer_region_name), None, dated or as_of,
                                      ("越级重复举报专项治理", "一案一档"), kind="一案一档",
                                      note=f"本档案按截至{cn_date(as_of)}的数据生成"))
    doc.heading("一、基本情况")
    doc.paragraph(_summary(dossier))
    doc.heading("二、举报情况")
    _reports(doc, dossier)
    doc.heading("三、包案情况")
    plans = dossier.assignments
    if plans.empty:
        doc.paragraph("尚未确定包案领导、工作专班和化解方案。")
    else:
        doc.paragraph(f"包案记录{len(plans)}条，最后一条为现行包案安排。")
        doc.table(["序号", "确定日期", "包案领导", "工作专班", "化解方案"],
                  [[f"{int(r.seq)}", _day(r.set_at), f"{r.leader_post}{r.leader_name}", str(r.team), str(r.plan)]
                   for r in plans.itertuples()], unbroken=(1,))
    doc.heading("四、办理过程")
    _steps(doc, dossier)
    doc.heading("五、进展情况")
    notes = dossier.notes
    if notes.empty:
        doc.paragraph(NONE)
    else:
        doc.table(["时间", "类别", "内容"], [[_moment(r.written_at), _label(Step, r.kind), str(r.note)]
                                           for r in notes.itertuples()], unbroken=(0,))
    doc.heading("六、督办事项")
    items = dossier.items
    if items.empty:
        doc.paragraph("该事项的举报件在督办台账中没有督办事项。")
    else:
        doc.table(["件号", "督办事项", "督办方式", "反馈期限", "状态"],
                  [[str(r.case_id), str(r.title), _label(Method, r.method), _day(r.reply_due), _label(ItemStatus, r.status)]
                   for r in items.itertuples()], unbroken=(0, 3))
    return doc.to_bytes()


def _summary(dossier: MatterDossier) -> str:
    m = dossier.matter
    leader = str(m["leader"]) or NO_LEADER
    marks = [f"已超过限期{cn_date(m['deadline'])}" if bool(m["overdue"]) else f"限期{cn_date(m['deadline'])}办结"]
    if bool(m["relapse"]):
        unseen = int(m["new_reports"])
        marks.append(f"反弹（{'又有' + str(unseen) + '件新举报尚未记录' if unseen else '已记录'}）")
    return (f"事项编号{m['matter']}，承办单位{m['city_name']}{m['county_name']}，截至{cn_date(dossier.as_of)}"
            f"共有举报{int(m['reports'])}件。{cn_date(m['enrolled_on'])}纳入专项治理，{'，'.join(marks)}；"
            f"现状态为“{state_label(str(m['state']))}”，包案领导{leader}。")


def _reports(doc: OfficialDocument, dossier: MatterDossier) -> None:
    reports = dossier.reports
    elsewhere = f"另有{dossier.reports_elsewhere}件不在本级管辖范围内，未列出。" if dossier.reports_elsewhere else ""
    if reports.empty:
        doc.paragraph(f"本级管辖范围内没有该事项的举报件。{elsewhere}")
        return
    doc.paragraph(f"按收件日期先后列出举报{len(reports)}件。{elsewhere}")
    doc.table(["序号", "件号", "收件日期", "受理层级", "渠道", "领域", "办结日期", "结而不服"],
              [[f"{i}", str(r.case_id), _day(r.received_date), _label(ReceivedLevel, r.received_level),
                _label(Channel, r.channel), str(r.domain), _day(r.closed_date), "是" if r.disputed else "否"]
               for i, r in enumerate(reports.itertuples(), start=1)], unbroken=(1, 2, 6))


def _steps(doc: OfficialDocument, dossier: MatterDossier) -> None:
    steps = dossier.history
    if steps.empty:
        doc.paragraph(NONE)
        return
    doc.table(["时间", "步骤", "办理后状态", "说明"],
              [[_moment(r.at), _label(Step, r.action), _label(State, r.to_state), str(r.detail)] for r in steps.itertuples()],
              unbroken=(0,))


def dossier_name(dossier: MatterDossier) -> str:
    """一案一档_<matter>_<as-of>.docx (the key's characters a file name cannot hold replaced)."""
    key = "".join(ch if ch.isalnum() or ch in "-_" else "_" for ch in str(dossier.matter["matter"]))
    return f"一案一档_{key}_{dossier.as_of.isoformat()}.docx"
