"""The month-end 12388 pack: one 通报 per city, one point-to-point notice per priority county, and the province's
summary (DOCX + XLSX ledger). Each document holds only its recipient's data: a city's 通报 lists that city's
complaints and counties, a county's notice its own case numbers, nothing else.
"""
from __future__ import annotations

import datetime as dt
import io
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

import pandas as pd
import sqlalchemy as sa

from data_access.identity.auth import Identity
from data_access.identity.scope import WHOLE_PROVINCE
from data_access.reference.enums import ComplaintKind
from data_access.supervision.document_register import DocumentKind, Draft, Issued
from data_access.supervision.hotline import issue_notice
from data_access.supervision.hotline_settings import DEFAULT_HOTLINE_SETTINGS, HotlineSettings
from metrics.hotline import KIND_COLUMNS, CityNotice, CountyNotice, MonthlyFacts, last_month_answers, month_before, monthly_facts
from metrics.settings import DEFAULT_SETTINGS, Settings
from presentation.documents import DEFAULT_DOCUMENT_SETTINGS, DocumentSettings
from presentation.format import cn_date, is_missing, pct
from presentation.spreadsheet import PRODUCT, new_workbook

from .docx_form import Letterhead as Frame
from .docx_form import OfficialDocument, cn_count
from .workbook import write_sheet

KIND_LABELS = {k.value: k.label for k in ComplaintKind}
LATE = "逾期补录"  # a complaint of an earlier month that joined this notice (imported after its own month's)
XLSX_MIME = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
T = TypeVar("T")


@dataclass(frozen=True)
class Letterhead:
    """Who issues the pack, its number and the day it is dated."""

    issuer: str  # 山东省纪委监委信访室
    number: str  # 鲁纪信月通〔2026〕10号: the register's number of this one document
    issued_on: dt.date


def month_words(month: str) -> str:
    """2026-10 -> 2026年10月."""
    return f"{int(month[:4])}年{int(month[5:7])}月"


def _kinds_text(row: pd.Series) -> str:
    parts = [f"{KIND_LABELS[k]}{cn_count(int(row[k]))}件" for k in KIND_COLUMNS if int(row[k])]
    return "，其中" + "、".join(parts) if parts else ""


def you_of(name: str) -> str:
    """How a document addresses a county-level unit: 你区 (任城区), 你县 (微山县), 你市 (曲阜市), 你旗."""
    for suffix in ("区", "县", "市", "旗"):
        if name.endswith(suffix):
            return f"你{suffix}"
    return "你单位"


def _document(letterhead: Letterhead, title: tuple[str, ...], recipient: str | None, *, kind: str,
              copy_to: tuple[str, ...] = (), attachments: tuple[str, ...] = ()) -> OfficialDocument:
    return OfficialDocument(Frame(letterhead.issuer, letterhead.number, letterhead.issued_on, title, recipient,
                                  copy_to=copy_to, attachments=attachments, kind=kind))


def city_notice_title_parts(facts: MonthlyFacts, notice: CityNotice) -> tuple[str, ...]:
    """The title's phrases (a line breaks only between them)."""
    return ("关于", month_words(facts.month), "12388举报电话", "反映", notice.name, "检举控告", "办理问题的通报")


def city_notice_title(facts: MonthlyFacts, notice: CityNotice) -> str:
    """关于2026年10月12388举报电话反映济宁市检举控告办理问题的通报."""
    return "".join(city_notice_title_parts(facts, notice))


def build_city_notice(facts: MonthlyFacts, notice: CityNotice, letterhead: Letterhead, spot_share: float,
                      feedback_due: dt.date, answers: pd.Series | None = None) -> bytes:
    """One city's 通报: its complaints by kind and county, its handling against the province, the counties notified
    point to point, its answers to last month's 通报 and the 抽查 (`answers`: its row of last_month_answers), the
    problems these show (存在问题), what it must do and the list to answer (附件)."""
    n, late = int(notice.counts["complaints"]), notice.late
    doc = _document(letterhead, city_notice_title_parts(facts, notice), f"{notice.name}纪委监委", kind="12388来电通报",
                    attachments=("来电清单",) if n else ())
    doc.heading("一、来电情况")
    if n:
        by_county = notice.counties[notice.counties["complaints"] > 0].sort_values(["complaints", "code"], ascending=[False, True])
        doc.paragraph(_calls_text(facts, n, late, "反映你市检举控告办理问题的") + f"{_kinds_text(notice.counts)}。按县（市、区）："
                      + "、".join(f"{r['name']}{cn_count(int(r['complaints']))}件" for _, r in by_county.iterrows()) + "。")
        doc.table(["县（市、区）", "来电", *(KIND_LABELS[k] for k in KIND_COLUMNS)],
                  [[str(r["name"]), cn_count(int(r["complaints"])), *(cn_count(int(r[k])) for k in KIND_COLUMNS)]
                   for _, r in by_county.iterrows()])
    else:
        doc.paragraph(f"{month_words(facts.month)}，12388举报电话未接到反映你市检举控告办理问题的来电。")
    doc.heading("二、办理情况")
    h, p = notice.handling, facts.province
    doc.paragraph(f"{month_words(facts.month)}，你市按期办结率{pct(h['on_time_rate'])}（全省{pct(p['on_time_rate'])}），"
                  f"初次举报按期办结率{pct(h['first_on_time_rate'])}（全省{pct(p['first_on_time_rate'])}），"
                  f"群众满意率{pct(h['satisfaction_rate'])}（全省{pct(p['satisfaction_rate'])}）；截至{cn_date(facts.as_of)}，"
                  f"超期未办结{cn_count(int(h['overdue']))}件，其中初次举报{cn_count(int(h['first_overdue']))}件。")
    doc.table(["指标", notice.name, "全省"], [
        ["应办结件", cn_count(int(h["due"])), cn_count(int(p["due"]))],
        ["按期办结率", pct(h["on_time_rate"]), pct(p["on_time_rate"])],
        ["初次举报按期办结率", pct(h["first_on_time_rate"]), pct(p["first_on_time_rate"])],
        ["群众满意率", pct(h["satisfaction_rate"]), pct(p["satisfaction_rate"])],
        ["超期未办结（月末）", cn_count(int(h["overdue"])), cn_count(int(p["overdue"]))],
        ["结而不服件", cn_count(int(h["disputed"])), cn_count(int(p["disputed"]))]])
    own = [c for c in facts.county_notices if c.city_name == notice.name]
    if own:
        doc.paragraph(f"你市{'、'.join(c.name for c in own)}列为重点督导县（市、区），其初次举报超期未办结和结而不服情况"
                      "已另行点对点通报，并抄送你市纪委监委。")
    if answers is not None:
        doc.heading("三、上月通报反馈和抽查情况")
        doc.paragraph(answers_text(facts.month, answers, letterhead.issued_on))
    doc.heading("四、存在问题" if answers is not None else "三、存在问题")
    doc.paragraph(problems_text(facts, notice, own, answers))
    doc.heading("五、工作要求" if answers is not None else "四、工作要求")
    if n:
        doc.paragraph(f"请对附件所列{cn_count(n)}件来电逐件核查，于{cn_date(feedback_due)}前在督导看板“12388通报”页逐件反馈"
                      f"核查情况（属实或不属实，并说明理由）。反馈属实的，省纪委监委信访室挂账督办、销号管理；反馈不属实的，"
                      f"按不低于{spot_share * 100:.0f}%的比例（每市至少1件）抽查，抽查发现反馈不实的，一并挂账督办。")
    else:
        doc.paragraph("请继续落实检举控告按期办理、及时反馈的要求。")
    if answers is not None and int(answers["missing"]):
        doc.paragraph(f"{month_words(month_before(facts.month))}通报逾期未反馈的{cn_count(int(answers['missing']))}件，"
                      f"请于{cn_date(feedback_due)}前一并补报。")
    if n:
        doc.attachment("附件", ("来电清单",))
        if late:
            doc.note(f"备注“{LATE}”的{late}件为此前月份来电、通报后补录。")
        doc.table(["序号", "来电编号", "来电日期", "县（市、区）", "反映类型", "关联件号", "备注"], unbroken=(0, 1, 2, 5), rows=
                  [[str(i), str(r["complaint_id"]), str(r["received_date"]), str(r["county_name"]), KIND_LABELS[str(r["kind"])],
                    "" if pd.isna(r["case_id"]) else str(r["case_id"]), LATE if r["late"] else ""]
                   for i, (_, r) in enumerate(notice.complaints.iterrows(), start=1)])
    return doc.to_bytes()


def answers_text(month: str, answers: pd.Series, dated: dt.date) -> str:
    """What a city answered to last month's 通报 and what the 抽查 of its 不属实 answers found, at the 成文日期."""
    last = month_words(month_before(month))
    notified = int(answers["notified"])
    if not notified:
        return f"{last}通报未列你市来电。"
    text = (f"{last}通报你市来电{cn_count(notified)}件，截至{cn_date(dated)}已反馈{cn_count(int(answers['answered']))}件，"
            f"其中属实{cn_count(int(answers['confirmed']))}件、不属实{cn_count(int(answers['denied']))}件")
    text += f"；逾期未反馈{cn_count(int(answers['missing']))}件。" if int(answers["missing"]) else "；无逾期未反馈。"
    if int(answers["drawn"]):
        checked, untrue = int(answers["checked"]), int(answers["check_false"])
        text += (f"反馈不属实的抽查{cn_count(int(answers['drawn']))}件，已核查{cn_count(checked)}件，"
                 + (f"发现反馈不实{cn_count(untrue)}件。" if untrue else "未发现反馈不实。"))
    else:
        text += "反馈不属实的未抽取抽查件。"
    if int(answers["items"]):
        text += f"属实和抽查发现反馈不实的{cn_count(int(answers['items']))}件已挂账督办。"
    return text


def problems_text(facts: MonthlyFacts, notice: CityNotice, priority: Sequence[CountyNotice],
                  answers: pd.Series | None) -> str:
    """存在问题: where the city falls behind the province, its overdue first reports, its priority counties, and the
    answers to last month's 通报 missing or found untrue; each figure as the sections above state it."""
    h, p = notice.handling, facts.province
    problems = [f"{label}{pct(h[m])}，低于全省（{pct(p[m])}）"
                for m, label in (("on_time_rate", "按期办结率"), ("first_on_time_rate", "初次举报按期办结率"),
                                 ("satisfaction_rate", "群众满意率"))
                if not is_missing(h[m]) and not is_missing(p[m]) and h[m] < p[m]]
    if int(h["first_overdue"]):
        problems.append(f"截至{cn_date(facts.as_of)}初次举报超期未办结{cn_count(int(h['first_overdue']))}件")
    if priority:
        problems.append(f"{'、'.join(c.name for c in priority)}列为重点督导县（市、区）")
    if answers is not None and int(answers["missing"]):
        problems.append(f"{month_words(month_before(facts.month))}通报的来电逾期未反馈{cn_count(int(answers['missing']))}件")
    if answers is not None and int(answers["check_false"]):
        problems.append(f"抽查发现反馈不实{cn_count(int(answers['check_false']))}件")
    if not problems:
        return "本月未发现你市检举控告办理明显落后于全省的情况。"
    ordinals = "一二三四五六七八九十"
    return "；".join(f"{ordinals[i]}是{text}" for i, text in enumerate(problems)) + "。"


def _calls_text(facts: MonthlyFacts, n: int, late: int, about: str) -> str:
    """The opening of the 来电情况 paragraph: the notice's n calls, and how many of them joined it late."""
    if not late:
        return f"{month_words(facts.month)}，12388举报电话共接到{about}来电{cn_count(n)}件"
    return (f"本次通报12388举报电话{about}来电{cn_count(n)}件，其中{month_words(facts.month)}来电{cn_count(n - late)}件、"
            f"此前月份来电{LATE}{cn_count(late)}件（通报后导入，并入本次通报）")


def county_notice_title_parts(facts: MonthlyFacts, notice: CountyNotice) -> tuple[str, ...]:
    """The title's phrases (a line breaks only between them)."""
    return ("关于", f"{notice.city_name}{notice.name}", "初次举报", "超期未办结", "及结而不服", "情况的通报",
            f"（{month_words(facts.month)}）")


def county_notice_title(facts: MonthlyFacts, notice: CountyNotice) -> str:
    """关于济宁市微山县初次举报超期未办结及结而不服情况的通报（2026年10月）."""
    return "".join(county_notice_title_parts(facts, notice))


def build_county_notice(facts: MonthlyFacts, notice: CountyNotice, letterhead: Letterhead, reply_due: dt.date) -> bytes:
    """A priority county's point-to-point notice, 抄送 its city: its overdue first reports and 结而不服 cases, by case
    number only."""
    you = you_of(notice.name)
    doc = _document(letterhead, county_notice_title_parts(facts, notice), f"{notice.city_name}{notice.name}纪委监委",
                    kind="点对点通报", copy_to=(f"{notice.city_name}纪委监委",))
    window = facts.priority_window
    doc.paragraph(f"{you}列为重点督导县（市、区）（近{_months(window)}个月，{cn_date(window.start)}至{cn_date(window.end)}，"
                  f"初次举报按期办结率明显低于全省、越级举报率明显高于全省）。经{month_words(facts.month)}全覆盖检查，"
                  f"截至{cn_date(facts.as_of)}，{you}初次举报超期未办结{len(notice.overdue_first)}件，"
                  f"本月办结的检举控告中结而不服{len(notice.disputed)}件，件号见下表。")
    doc.heading("一、初次举报超期未办结")
    if len(notice.overdue_first):
        doc.table(["序号", "件号", "收件日期", "办理期限", "超期天数"],
                  [[str(i), str(r["case_id"]), str(r["received_date"]), str(r["due_date"]), str(int(r["days_overdue"]))]
                   for i, (_, r) in enumerate(notice.overdue_first.iterrows(), start=1)], unbroken=(0, 1, 2, 3))
    else:
        doc.paragraph("无。")
    doc.heading("二、结而不服")
    if len(notice.disputed):
        doc.table(["序号", "件号", "办结日期"],
                  [[str(i), str(r["case_id"]), str(r["closed_date"])] for i, (_, r) in enumerate(notice.disputed.iterrows(), start=1)],
                  unbroken=(0, 1, 2))
    else:
        doc.paragraph("无。")
    doc.heading("三、工作要求")
    doc.paragraph(f"请{you}纪委监委主要负责人亲自过问，逐件明确办理责任和时限，于{cn_date(reply_due)}前将办理进展书面反馈"
                  f"{letterhead.issuer}。")
    return doc.to_bytes()


def _months(window) -> int:
    return (window.end.year - window.start.year) * 12 + window.end.month - window.start.month + (1 if window.start.day == 1 else 0)


def province_summary_title_parts(facts: MonthlyFacts) -> tuple[str, ...]:
    """The title's phrases (a line breaks only between them)."""
    return (month_words(facts.month), "12388举报电话", "来电及", "重点督导县", "检查情况汇总")


def province_summary_title(facts: MonthlyFacts) -> str:
    """2026年10月12388举报电话来电及重点督导县检查情况汇总."""
    return "".join(province_summary_title_parts(facts))


def build_province_summary(facts: MonthlyFacts, letterhead: Letterhead, feedback_due: dt.date) -> bytes:
    """The province's summary (for its leaders: no 主送): complaints by city and kind, handling by city, the notices
    sent."""
    doc = _document(letterhead, province_summary_title_parts(facts), None, kind="12388月度汇总")
    t = facts.province_counts
    doc.heading("一、来电情况")
    doc.paragraph(_calls_text(facts, int(t["complaints"]), facts.late, "反映检举控告办理问题的") + f"{_kinds_text(t)}。"
                  f"已向{sum(1 for n in facts.city_notices if int(n.counts['complaints']))}个市通报，"
                  f"请于{cn_date(feedback_due)}前反馈。")
    doc.table(["市", "来电", *(KIND_LABELS[k] for k in KIND_COLUMNS), "按期办结率", "初次举报按期办结率", "群众满意率", "超期未办结"],
              [[str(r["name"]), cn_count(int(r["complaints"])), *(cn_count(int(r[k])) for k in KIND_COLUMNS),
                pct(r["on_time_rate"]), pct(r["first_on_time_rate"]), pct(r["satisfaction_rate"]), cn_count(int(r["overdue"]))]
               for _, r in facts.cities.iterrows()])
    doc.heading("二、重点督导县检查情况")
    if facts.county_notices:
        doc.paragraph(f"对{len(facts.county_notices)}个重点督导县全覆盖检查初次举报超期未办结及结而不服情况，并点对点通报其纪委监委"
                      "主要负责人、抄送所在市纪委监委：")
        doc.table(["县（市、区）", "所属市", "初次举报超期未办结", "本月结而不服"],
                  [[n.name, n.city_name, str(len(n.overdue_first)), str(len(n.disputed))] for n in facts.county_notices])
    else:
        doc.paragraph("本月没有列为重点督导的县（市、区）。")
    return doc.to_bytes()


def build_province_ledger(facts: MonthlyFacts, issuer: str = PRODUCT) -> bytes:
    """The XLSX ledger: 汇总 by city, 来电清单 (every complaint of the notice, 逾期补录 marked), and the priority
    counties' case numbers."""
    cities = facts.cities.rename(columns={"name": "市", "complaints": "来电", "late": "其中逾期补录",
                                          **{k: KIND_LABELS[k] for k in KIND_COLUMNS},
                                          "on_time_rate": "按期办结率", "first_on_time_rate": "初次举报按期办结率",
                                          "satisfaction_rate": "群众满意率", "overdue": "超期未办结"})
    summary = cities[["市", "来电", "其中逾期补录", *(KIND_LABELS[k] for k in KIND_COLUMNS), "按期办结率", "初次举报按期办结率",
                      "群众满意率", "超期未办结"]]
    listed = pd.concat([n.complaints.assign(city=n.name) for n in facts.city_notices], ignore_index=True)
    listed = listed.assign(late=listed["late"].astype(bool))  # an empty notice concatenates to object columns
    complaints = pd.DataFrame({"来电编号": listed["complaint_id"], "来电日期": listed["received_date"], "市": listed["city"],
                               "县（市、区）": listed["county_name"], "反映类型": listed["kind"].map(KIND_LABELS),
                               "关联件号": listed["case_id"], "备注": listed["late"].map({True: LATE, False: ""})})
    overdue = pd.DataFrame([{"县（市、区）": n.name, "所属市": n.city_name, "件号": r["case_id"], "收件日期": r["received_date"],
                             "办理期限": r["due_date"], "超期天数": int(r["days_overdue"])}
                            for n in facts.county_notices for _, r in n.overdue_first.iterrows()],
                           columns=["县（市、区）", "所属市", "件号", "收件日期", "办理期限", "超期天数"])
    disputed = pd.DataFrame([{"县（市、区）": n.name, "所属市": n.city_name, "件号": r["case_id"], "办结日期": r["closed_date"]}
                             for n in facts.county_notices for _, r in n.disputed.iterrows()],
                            columns=["县（市、区）", "所属市", "件号", "办结日期"])
    wb = new_workbook(f"12388月度台账（{month_words(facts.month)}）", issuer)
    rates = dict.fromkeys(("按期办结率", "初次举报按期办结率", "群众满意率"), "0.0%")
    sheets: tuple[tuple[str, pd.DataFrame, dict[str, str]], ...] = (
        ("汇总", summary, rates), ("来电清单", complaints, {}), ("重点县超期初次举报", overdue, {}), ("重点县结而不服", disputed, {}))
    for title, frame, formats in sheets:
        write_sheet(wb.create_sheet(title), frame, formats)
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


@dataclass(frozen=True)
class MonthlyPack:
    """The pack's files as (name, bytes), built before any is written."""

    files: tuple[tuple[str, bytes], ...]


@dataclass(frozen=True)
class PackDates:
    """The pack's 成文日期 and the deadlines it states (computed from the date unless given)."""

    dated: dt.date
    feedback_due: dt.date  # the cities answer the 通报's complaints by this day
    county_reply_due: dt.date  # a priority county reports its progress by this day


def pack_dates(dated: dt.date, documents: DocumentSettings, due: dt.date | None = None) -> PackDates:
    """The dates of a pack dated `dated`: the deadlines in working days from it (settings), or `due` for both."""
    return PackDates(dated, due or documents.feedback_due(dated), due or documents.reply_due(dated))


def summary_subject(month: str) -> str:
    """The register's subject of the month's summary (also where the month's answer deadline is read back)."""
    return month


def city_subject(month: str, code: str) -> str:
    """The register's subject of a city's 通报 of `month`: 2026-10/370800."""
    return f"{month}/{code}"


def pack_drafts(facts: MonthlyFacts, dates: PackDates, documents: DocumentSettings) -> list[Draft]:
    """One register draft per document of the pack, in the pack's order: the summary, the cities, the counties."""
    issuer = facts.province_name
    summary = Draft(DocumentKind.HOTLINE_SUMMARY, documents.series(DocumentKind.HOTLINE_SUMMARY, issuer),
                    summary_subject(facts.month), province_summary_title(facts), f"{documents.province_name}纪委监委领导", "",
                    dates.feedback_due)
    cities = [Draft(DocumentKind.HOTLINE_CITY, documents.series(DocumentKind.HOTLINE_CITY, issuer),
                    city_subject(facts.month, n.code), city_notice_title(facts, n), f"{n.name}纪委监委", n.code, dates.feedback_due)
              for n in facts.city_notices]
    counties = [Draft(DocumentKind.HOTLINE_COUNTY, documents.series(DocumentKind.HOTLINE_COUNTY, issuer),
                      city_subject(facts.month, n.code), county_notice_title(facts, n), f"{n.city_name}{n.name}纪委监委",
                      n.code, dates.county_reply_due)
                for n in facts.county_notices]
    return [summary, *cities, *counties]


def build_monthly_pack(facts: MonthlyFacts, issuer: str, dates: PackDates, numbers: Mapping[tuple[DocumentKind, str], str],
                       *, spot_share: float, answers: pd.DataFrame | None = None) -> MonthlyPack:
    """Every document of the month: province summary and ledger, a 通报 per city, a notice per priority county, each
    with its own number (`numbers` by kind and register subject); the city 通报 state last month's answers and
    抽查 given `answers` (last_month_answers)."""
    by_city = answers.set_index("code") if answers is not None else None
    m = facts.month

    def head(kind: DocumentKind, subject: str) -> Letterhead:
        return Letterhead(issuer, numbers[(kind, subject)], dates.dated)

    files = [(f"12388月度汇总_{m}.docx", build_province_summary(facts, head(DocumentKind.HOTLINE_SUMMARY, summary_subject(m)),
                                                                 dates.feedback_due)),
             (f"12388月度台账_{m}.xlsx", build_province_ledger(facts, issuer))]
    files += [(f"12388通报_{m}_{n.name}.docx",
               build_city_notice(facts, n, head(DocumentKind.HOTLINE_CITY, city_subject(m, n.code)), spot_share,
                                 dates.feedback_due, None if by_city is None else by_city.loc[n.code]))
              for n in facts.city_notices]
    files += [(f"点对点通报_{m}_{n.city_name}{n.name}.docx",
               build_county_notice(facts, n, head(DocumentKind.HOTLINE_COUNTY, city_subject(m, n.code)), dates.county_reply_due))
              for n in facts.county_notices]
    return MonthlyPack(tuple(files))


def write_monthly_pack(pack: MonthlyPack, out_dir: Path) -> list[Path]:
    """Write every file of the pack into `out_dir` (created if missing); the paths written."""
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = []
    for name, content in pack.files:
        path = out_dir / name
        path.write_bytes(content)
        paths.append(path)
    return paths


def pack_zip(pack: MonthlyPack) -> bytes:
    """The pack as one ZIP file (the page's download)."""
    import zipfile

    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in pack.files:
            archive.writestr(name, content)
    return out.getvalue()


def month_end_pack(engine: sa.Engine, month: str, dated: dt.date, *, settings: Settings = DEFAULT_SETTINGS,
                   documents: DocumentSettings = DEFAULT_DOCUMENT_SETTINGS,
                   hotline_settings: HotlineSettings = DEFAULT_HOTLINE_SETTINGS) -> MonthlyPack:
    """The province's pack of `month` as a draft dated `dated`: numbers left blank, nothing issued or marked."""
    facts = monthly_facts(engine, month, scope=WHOLE_PROVINCE, settings=settings, hotline_settings=hotline_settings)
    return pack_of(facts, pack_dates(dated, documents), None, documents=documents, hotline_settings=hotline_settings,
                   answers=last_month_answers(engine, month, dated, hotline_settings))


def pack_of(facts: MonthlyFacts, dates: PackDates, issued: Sequence[Issued] | None, *,
            documents: DocumentSettings = DEFAULT_DOCUMENT_SETTINGS,
            hotline_settings: HotlineSettings = DEFAULT_HOTLINE_SETTINGS, answers: pd.DataFrame | None = None) -> MonthlyPack:
    """The pack of the facts with the numbers `issued` for it (the register's rows of pack_drafts), or as a draft
    with the numbers left blank when None; the issuer and the 抽查 share from the settings; last month's answers
    and 抽查 in the city 通报 given `answers` (last_month_answers)."""
    drafts = pack_drafts(facts, dates, documents)
    if issued is None:
        numbers = {(d.kind, d.subject): documents.draft_number(d.kind, facts.province_name, dates.dated) for d in drafts}
    else:
        numbers = {(d.kind, d.subject): d.number for d in issued}
    return build_monthly_pack(facts, documents.issuer(facts.province_name), dates, numbers,
                              spot_share=hotline_settings.spot_check_share, answers=answers)


def issue_monthly_pack(engine: sa.Engine, actor: Identity | str, facts: MonthlyFacts, dates: PackDates, *,
                       documents: DocumentSettings, hotline_settings: HotlineSettings,
                       write: Callable[[MonthlyPack], T]) -> tuple[MonthlyPack, list[Issued], int, T]:
    """Issue the month's pack in one transaction (data_access.supervision.hotline.issue_notice): a number for each of its
    documents, the complaints it lists marked notified (StaleStep if they moved), the pack built with its numbers
    and handed to `write` (the command line writes the files there: a failed write takes no number and marks
    nothing). The pack, the numbers, how many complaints were marked and what `write` returned."""
    answers = last_month_answers(engine, facts.month, dates.dated, hotline_settings)

    def build_and_write(issued: list[Issued]) -> tuple[MonthlyPack, T]:
        pack = pack_of(facts, dates, issued, documents=documents, hotline_settings=hotline_settings, answers=answers)
        return pack, write(pack)

    issued, marked, done = issue_notice(engine, actor, facts.month, facts.complaint_ids, pack_drafts(facts, dates, documents),
                                        dates.dated, then=build_and_write)
    assert done is not None
    return done[0], issued, marked, done[1]
