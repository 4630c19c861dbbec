"""The one door from pages to data: ScopedData stamps the viewer's region scope on every call.

Pages never build a scope, a request with a scope, or an engine: they ask `scoped()` (the data of
this run, limited to the viewer) and get frames back. The cached functions below are private to
this module; each takes the database URL, the data version and every argument that changes the
answer (the scope included), so one viewer's cached answer is never another's. A test checks that
no page imports around this module.
"""
from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
import streamlit as st

from data_access.demo.loading import remove_demo_cases
from data_access.identity import audit
from data_access.identity.auth import Identity, display_names
from data_access.identity.scope import Scope
from data_access.imports import inventory, mappings
from data_access.imports.importer import Preview, import_bytes, preview_import
from data_access.imports.loading import LoadReport
from data_access.imports.orphans import OrphanListing, orphan_listing
from data_access.records.backup import BackupReport, Manifest, default_backup_dir, list_backups, take_backup
from data_access.reference.enums import Level
from data_access.store.database import DemoShare
from data_access.store.engine import describe_url, dialect_name
from data_access.supervision import campaign, hotline, ledger
from data_access.supervision.document_register import DocumentKind, Draft, Issued, issue, latest
from data_access.supervision.hotline_import import ComplaintImport, import_complaints_bytes
from data_access.supervision.hotline_settings import HotlineSettings
from metrics.analysis import AnalysisFacts, analysis_facts
from metrics.brief import BriefFacts, brief_facts
from metrics.campaign import campaign_table, screening_with
from metrics.campaign_week import CityLetter, MatterDossier, city_letter, matter_dossier
from metrics.caselists import OverdueOrder, case_list, overdue_cases
from metrics.distribution import rating_distribution
from metrics.dossier import Lookup, find_case
from metrics.hotline import (
    MonthlyFacts,
    complaints_per_100,
    feedback_deadlines,
    last_month_answers,
    month_counts,
    month_series,
    monthly_facts,
    notice_complaints,
    notice_issued,
)
from metrics.ledger_draft import draft_reply_due
from metrics.matter_domains import screened_by_domain
from metrics.matters import MATTER_COLUMNS, matter_reports, repeat_matters
from metrics.priority import priority_counties
from metrics.request import CaseFilter, Period, TableRequest
from metrics.series import Grain, SeriesRequest, metric_series
from metrics.settings import DEFAULT_SETTINGS, Settings
from metrics.signals import deterioration_signals, p_chart
from metrics.table import region_table
from metrics.trends import TrendBy, trends
from metrics.warnings import deadline_warnings, warning_counts
from metrics.weekly import WeeklyReport, weekly_report
from presentation.documents import DocumentSettings

from . import runtime

WARNING_LIST_LIMIT = 5000  # rows of a warning list on screen (the counts are complete)


@dataclass(frozen=True)
class ScopedData:
    """Cached metric calls limited to `scope` (WHOLE_PROVINCE for a province supervisor)."""

    url: str
    version: str
    scope: Scope
    settings: Settings = DEFAULT_SETTINGS

    def table(self, level: Level, period: Period, *, parent: str | None = None,
              filters: CaseFilter = CaseFilter(), metrics: tuple[str, ...] | None = None) -> pd.DataFrame:
        """Metrics per region of `level` under `parent` (see metrics.table.region_table)."""
        request = TableRequest(level, period, parent=parent, filters=filters, metrics=metrics, scope=self.scope)
        return _table(self.url, self.version, request, self.settings)

    def series(self, period: Period, grain: Grain, *, region: str | None, filters: CaseFilter = CaseFilter(),
               metrics: tuple[str, ...] | None = None) -> pd.DataFrame:
        """Metrics of `region` per week or month (see metrics.series.metric_series)."""
        request = SeriesRequest(period, grain, region=region, filters=filters, metrics=metrics, scope=self.scope)
        return _series(self.url, self.version, request, self.settings)

    def priority(self, period: Period, filters: CaseFilter) -> pd.DataFrame:
        """The priority-county ranking of the counties in scope (pooled rates in columns theta, phi)."""
        return _priority(self.url, self.version, period, filters, self.scope, self.settings)

    def overdue(self, as_of: dt.date, filters: CaseFilter, parent: str | None = None) -> pd.DataFrame:
        """The overdue ledger in scope, most overdue first."""
        return _overdue(self.url, self.version, as_of, parent, self.scope, filters, self.settings)

    def warning_counts(self, as_of: dt.date, level: Level, filters: CaseFilter, parent: str | None = None) -> pd.DataFrame:
        """Open cases by warning colour per region of `level` under `parent` (code, red, yellow, green, open)."""
        return _warning_counts(self.url, self.version, as_of, level, parent, self.scope, filters, self.settings)

    def warnings(self, as_of: dt.date, filters: CaseFilter, colours: tuple[str, ...], parent: str | None = None,
                 limit: int | None = WARNING_LIST_LIMIT) -> pd.DataFrame:
        """Open cases in scope of the given warning colours, the most pressing deadline first."""
        return _warnings(self.url, self.version, as_of, parent, colours, limit, self.scope, filters, self.settings)

    # 督办台账: read fresh on every run (a few hundred rows); every write is
    # checked again in data_access.supervision.ledger against the actor's own region, whatever this page offered.

    def ledger_items(self, as_of: dt.date) -> pd.DataFrame:
        """The supervision items of the counties in scope, overdue replies first."""
        return ledger.items(runtime.get_engine(self.url), self.scope, as_of)

    def ledger_standing(self, as_of: dt.date) -> ledger.Standing:
        """在办, 逾期未反馈 at `as_of`, all and 销号 items in scope: the numbers the 周例会, its deck and workbook show."""
        with runtime.get_engine(self.url).connect() as conn:
            return ledger.standing(conn, self.scope, as_of)

    def ledger_history(self, item_id: str | None = None) -> pd.DataFrame:
        """One item's steps in order (empty outside the scope), or every step of the items in scope."""
        return ledger.history(runtime.get_engine(self.url), self.scope, item_id)

    def open_supervision(self, actor: Identity, **draft: Any) -> str:
        """挂账: a new item (see data_access.supervision.ledger.open_item); its id."""
        return ledger.open_item(runtime.get_engine(self.url), actor, **draft)

    def draft_reply_due(self, case_id: str | None, today: dt.date) -> dt.date:
        """The default 反馈期限 of a new item: the settings' working days from today, for an open case of the scope
        not after its due date (a yellow case's item is answered while the case can still be finished in time)."""
        return draft_reply_due(runtime.get_engine(self.url), case_id, today, runtime.document_settings().reply_due(today),
                               scope=self.scope, settings=self.settings)

    def reply_supervision(self, actor: Identity, item_id: str, note: str, promised_date: dt.date | None) -> None:
        """已反馈: the county's reply."""
        ledger.reply(runtime.get_engine(self.url), actor, item_id, note=note, promised_date=promised_date)

    def close_supervision(self, actor: Identity, item_id: str, note: str) -> None:
        """销号."""
        ledger.close(runtime.get_engine(self.url), actor, item_id, note=note)

    def return_supervision(self, actor: Identity, item_id: str, note: str) -> None:
        """退回."""
        ledger.send_back(runtime.get_engine(self.url), actor, item_id, note=note)

    # 越级重复举报专项治理's documents (reports.campaign_docs): read fresh, like the campaign's steps
    def campaign_letter(self, city_code: str, as_of: dt.date) -> CityLetter:
        """A city's 交办函 at `as_of`: its matters not yet 案结事了 (OutOfScope for a city outside the viewer's region)."""
        return city_letter(runtime.get_engine(self.url), city_code, as_of, scope=self.scope, settings=self.settings)

    def matter_dossier(self, campaign_matter_id: str, as_of: dt.date) -> MatterDossier | None:
        """A campaign matter's 一案一档 at `as_of` (None outside the scope or before its enrolment)."""
        return matter_dossier(runtime.get_engine(self.url), campaign_matter_id, as_of, scope=self.scope,
                              settings=self.settings)

    def screened_by_domain(self, as_of: dt.date, parent: str | None) -> pd.DataFrame:
        """形势分析: the matters screened at `as_of` under `parent` (None: the province) by domain of their latest report
        (metrics.matter_domains, as the 形势分析报告 states them); the viewer's scope bounds `parent`."""
        return screened_by_domain(runtime.get_engine(self.url), as_of, parent=parent or self.scope.code,
                                  settings=self.settings)

    def case_dossier(self, term: str, as_of: dt.date) -> Lookup:
        """The case a 件号, 12388 来电编号 or 督办事项编号 names, if the viewer may see it (metrics.dossier.find_case):
        read fresh, like the ledger, so a step just taken shows."""
        return find_case(runtime.get_engine(self.url), term, as_of, scope=self.scope, settings=self.settings)

    # 越级重复举报专项治理 (积案化解): the screening and the region table are cached by data version (every step moves
    # it); the campaign's own rows are read fresh. Every write is checked again in data_access.supervision.campaign.

    def repeat_matters(self, as_of: dt.date) -> pd.DataFrame:
        """The repeat matters whose latest report lies in scope at `as_of` (metrics.matters), one row each."""
        return _repeat_matters(self.url, self.version, as_of, self.scope, self.settings)

    def campaign_table(self, level: Level, as_of: dt.date, parent: str | None = None) -> pd.DataFrame:
        """The campaign per region of `level` in scope (metrics.campaign.campaign_table)."""
        return _campaign_table(self.url, self.version, level, as_of, parent, self.scope, self.settings)

    def latest_received(self) -> dt.date | None:
        """The data's last day: the last received_date of the whole case table (the default 截止日期)."""
        return runtime.latest_received(self.url, self.version)

    def campaign_matters(self, as_of: dt.date) -> pd.DataFrame:
        """The campaign matters of the counties in scope, overdue ones first (data_access.supervision.campaign.matters)."""
        return campaign.matters(runtime.get_engine(self.url), self.scope, as_of)

    def matter_reports(self, matter: str, as_of: dt.date) -> pd.DataFrame:
        """A repeat matter's reports in order, when its latest report lies in scope (else none); `in_scope` says which
        reports the viewer's region holds (the page shows another region's report without its case_id)."""
        from .regions import tree

        regions, engine = tree(), runtime.get_engine(self.url)
        with engine.connect() as conn:
            reading = screening_with(self.settings)(conn, as_of, [matter]).get(matter)
            held = reading is not None and regions.within(reading.county_code, self.scope)
            reports = matter_reports(conn, matter if held else "", as_of)
        return reports.assign(in_scope=[regions.within(code, self.scope) for code in reports["county_code"]])

    def matter_history(self, campaign_matter_id: str) -> pd.DataFrame:
        """A campaign matter's steps in order (empty outside the scope)."""
        return campaign.history(runtime.get_engine(self.url), self.scope, campaign_matter_id)

    def matter_assignments(self, campaign_matter_id: str) -> pd.DataFrame:
        """A campaign matter's 包案 records, oldest first, the last in force (empty outside the scope)."""
        return campaign.assignments(runtime.get_engine(self.url), self.scope, campaign_matter_id)

    def matter_notes(self, campaign_matter_id: str) -> pd.DataFrame:
        """A campaign matter's progress notes and resolve claims, in order (empty outside the scope)."""
        return campaign.notes(runtime.get_engine(self.url), self.scope, campaign_matter_id)

    def enrol_matters(self, actor: Identity, matters: list[str], deadline: dt.date, as_of: dt.date) -> campaign.Enrolment:
        """纳入专项治理: one matter (交办) or several together (集中交办, all or none), to be resolved by `deadline`."""
        engine, screening = runtime.get_engine(self.url), screening_with(self.settings)
        if len(matters) == 1:
            row_id = campaign.enrol(engine, actor, matters[0], deadline=deadline, as_of=as_of, screening=screening)
            return campaign.Enrolment(None, {matters[0]: row_id})
        return campaign.enrol_batch(engine, actor, matters, deadline=deadline, as_of=as_of, screening=screening)

    def assign_matter(self, actor: Identity, campaign_matter_id: str, seen: campaign.State, *, leader_name: str,
                      leader_post: str, team: str, plan: str) -> None:
        """包案: the leader (name, post), the 工作专班 and the 化解方案 (a change is a new record)."""
        campaign.assign(runtime.get_engine(self.url), actor, campaign_matter_id, leader_name=leader_name,
                        leader_post=leader_post, team=team, plan=plan, seen=seen)

    def note_matter_progress(self, actor: Identity, campaign_matter_id: str, note: str, seen: campaign.State) -> None:
        """进展: the county's progress note."""
        campaign.note_progress(runtime.get_engine(self.url), actor, campaign_matter_id, note=note, seen=seen)

    def claim_matter_resolved(self, actor: Identity, campaign_matter_id: str, note: str, seen: campaign.State) -> None:
        """化解: the county's claim, with what was done."""
        campaign.claim_resolved(runtime.get_engine(self.url), actor, campaign_matter_id, note=note, seen=seen)

    def confirm_matter_settled(self, actor: Identity, campaign_matter_id: str, as_of: dt.date, note: str,
                               seen: campaign.State) -> None:
        """案结事了: the province's confirmation, refused unless the data shows the matter settled at `as_of`."""
        campaign.confirm_settled(runtime.get_engine(self.url), actor, campaign_matter_id, as_of=as_of,
                                 screening=screening_with(self.settings), seen=seen, note=note)

    def record_matter_relapses(self, actor: Identity, as_of: dt.date) -> list[str]:
        """反弹: every campaign matter in the actor's region with a report the campaign has not seen at `as_of`,
        recorded (each its own step); the ids recorded. Whether there is any is cached by data version (a page run
        reads the screening of the campaign's matters once per import or step, not on every rerun)."""
        if not _relapses_found(self.url, self.version, as_of, self.scope, self.settings):
            return []
        return campaign.record_relapses(runtime.get_engine(self.url), actor, as_of, screening_with(self.settings))

    # 12388: a month holds a few hundred complaints, so these read uncached and a step shows at once
    def hotline_counts(self, month: str, level: Level, parent: str | None = None) -> pd.DataFrame:
        """The complaints of the month's notice per region of `level` in scope, by kind and cycle state (metrics.hotline)."""
        return month_counts(runtime.get_engine(self.url), month, level, scope=self.scope, parent=parent,
                            settings=runtime.hotline_settings())

    def last_month_answers(self, month: str, dated: dt.date) -> pd.DataFrame:
        """The cities' answers to the notice of the month before `month` and its 抽查, on the 成文日期 `dated`, in scope
        (metrics.hotline.last_month_answers: the city 通报's 上月通报反馈和抽查情况)."""
        return last_month_answers(runtime.get_engine(self.url), month, dated, runtime.hotline_settings(), scope=self.scope)

    def hotline_series(self, last_month: str, months: int) -> pd.DataFrame:
        """The notices' complaints and cycle counts month by month in scope."""
        return month_series(runtime.get_engine(self.url), last_month, months, scope=self.scope,
                            settings=runtime.hotline_settings())

    def hotline_complaints(self, month: str) -> pd.DataFrame:
        """The complaints of the month's notice in scope (metrics.hotline.notice_complaints; no caller identity exists)."""
        return notice_complaints(runtime.get_engine(self.url), month, scope=self.scope)

    def hotline_notice_issued(self, month: str) -> bool:
        """Whether the month's 通报 has been issued (province-wide: a region with no complaint in it too)."""
        return notice_issued(runtime.get_engine(self.url), month)

    def hotline_feedback_due(self, month: str) -> dt.date:
        """The day by which cities answer the month's 通报: as its issued documents state (metrics.hotline)."""
        with runtime.get_engine(self.url).connect() as conn:
            return feedback_deadlines(conn, [month], runtime.hotline_settings())[month]

    def hotline_draws(self, month: str) -> pd.DataFrame:
        """The recorded 抽查 draws of the month (the province's: everything needed to re-run them)."""
        return hotline.draws(runtime.get_engine(self.url), month)

    def hotline_draw_replays(self, draw_id: str) -> bool:
        """Whether re-running a recorded draw from its stored seed, share and population gives its sample."""
        return hotline.replays(runtime.get_engine(self.url), draw_id)

    def hotline_per_100(self, level: Level, period: Period, parent: str | None = None) -> pd.DataFrame:
        """Complaints and complaints per 100 cases received, per region of `level` in scope."""
        return complaints_per_100(runtime.get_engine(self.url), level, period, scope=self.scope, parent=parent,
                                  settings=self.settings)

    def record_hotline_feedback(self, actor: Identity, complaint_id: str, verdict: str, note: str) -> str | None:
        """A city's answer to one complaint; the supervision item it opened (属实), if any."""
        return hotline.record_feedback(runtime.get_engine(self.url), actor, complaint_id, verdict, note)

    def draw_spot_checks(self, actor: Identity, month: str) -> hotline.Draw:
        """The province's seeded, recorded 抽查 draw among the month's 不属实 answers."""
        return hotline.draw_spot_checks(runtime.get_engine(self.url), actor, month)

    def record_spot_check(self, actor: Identity, complaint_id: str, result: str, note: str) -> str | None:
        """The province's 抽查 result; the supervision item it opened (反馈不实), if any."""
        return hotline.record_spot_check(runtime.get_engine(self.url), actor, complaint_id, result, note)

    def import_complaints(self, data: bytes, filename: str, actor: Identity, check: bool = False) -> ComplaintImport:
        """Import a 12388 complaint file (all rows or none; a city or county user's rows only of its region)."""
        return import_complaints_bytes(runtime.get_engine(self.url), data, filename, actor=actor, check=check)

    def mark_notified(self, actor: Identity, month: str, listed: list[str]) -> int:
        """Mark the complaints of the month's notice notified (the province, with its month-end 通报): exactly `listed`."""
        return hotline.mark_notified(runtime.get_engine(self.url), actor, month, listed=listed)

    def issue_monthly_notice(self, actor: Identity, month: str, listed: list[str], drafts: list[Draft],
                             dated: dt.date) -> tuple[list[Issued], int]:
        """Issue the month's 通报 (province users only): a 文号 for each of its documents (`drafts`) and exactly the
        `listed` complaints marked notified, in one transaction; the numbers and how many complaints were marked."""
        issued, marked, _ = hotline.issue_notice(runtime.get_engine(self.url), actor, month, listed, drafts, dated)
        return issued, marked

    def issued_documents(self, kind: DocumentKind, subjects: list[str]) -> dict[str, Issued]:
        """The documents last issued of `kind` about each of `subjects` (the 文号 register)."""
        return latest(runtime.get_engine(self.url), kind, subjects)

    def issue_documents(self, actor: Identity, drafts: list[Draft], dated: dt.date) -> list[Issued]:
        """Number and record `drafts` dated `dated` (the 文号 register checks who may issue to whom)."""
        return issue(runtime.get_engine(self.url), actor, drafts, dated)[0]

    def monthly_facts(self, month: str) -> MonthlyFacts:
        """The month-end pack's facts (province users only)."""
        self._province_only("12388 月度通报")
        return monthly_facts(runtime.get_engine(self.url), month, scope=self.scope, settings=self.settings,
                             hotline_settings=runtime.hotline_settings())

    def signals(self, as_of: dt.date, filters: CaseFilter) -> pd.DataFrame:
        """Deterioration signals of every county in scope (see metrics.signals)."""
        return _signals(self.url, self.version, as_of, self.scope, filters, self.settings)

    def p_chart(self, as_of: dt.date, county: str, filters: CaseFilter) -> pd.DataFrame:
        """One county's weekly on-time rates against its baseline limits (empty outside the scope)."""
        return _p_chart(self.url, self.version, as_of, county, self.scope, filters, self.settings)

    def trends(self, level: Level, by: TrendBy, period: Period, filters: CaseFilter, parent: str | None = None) -> pd.DataFrame:
        """形势分析: received per region and domain or channel against the span before."""
        return _trends(self.url, self.version, level, by, period, parent, self.scope, filters)

    def analysis_later(self, period: Period, priority_as_of: dt.date) -> Callable[[], AnalysisFacts]:
        """The facts of the 形势分析报告 of the viewer's region for `period` (its 重点督导 list the one at
        `priority_as_of`), computed only when the returned function is called (a download builds the report
        on its click, outside the page's run)."""
        engine, scope, settings = runtime.get_engine(self.url), self.scope, self.settings
        return lambda: analysis_facts(engine, period, scope=scope, settings=settings, priority_as_of=priority_as_of)

    def brief_later(self, period: Period, filters: CaseFilter, priority_as_of: dt.date) -> Callable[[], BriefFacts]:
        """The facts of the 领导简报 of the viewer's region (the 总览's numbers for `period` and `filters`, its 重点督导
        list the one at `priority_as_of`), computed only when the returned function is called (on the download's click)."""
        engine, scope, settings = runtime.get_engine(self.url), self.scope, self.settings
        return lambda: brief_facts(engine, period, scope=scope, filters=filters, settings=settings,
                                   priority_as_of=priority_as_of)

    def cases_of_county(self, county: str, period: Period, filters: CaseFilter) -> pd.DataFrame:
        """A county's case list (empty outside the scope)."""
        return _cases_of_county(self.url, self.version, county, period, filters, self.scope, self.settings)

    def ratings(self, period: Period, region: str | None, filters: CaseFilter) -> pd.DataFrame:
        """The distribution of ratings in scope."""
        return _ratings(self.url, self.version, period, region, filters, self.scope, self.settings)

    def weekly(self, as_of: dt.date, filters: CaseFilter) -> WeeklyReport:
        """The weekly meeting report in scope."""
        return _weekly(self.url, self.version, as_of, filters, self.scope, self.settings)

    def coverage(self) -> inventory.Coverage:
        """Case count and date span of the cases in scope."""
        return _coverage(self.url, self.version, self.scope)

    # Province-only pages (数据, 审计日志): refused for any narrower scope.

    def last_load(self) -> dict | None:
        """The most recent row of the import log."""
        self._province_only("导入记录")
        return runtime.last_load(self.url, self.version)

    def quality_warnings(self, as_of: dt.date) -> list[inventory.QualityWarning]:
        """Data-quality observations over the whole case table."""
        self._province_only("数据质量提示")
        return runtime.quality_warnings(self.url, self.version, as_of, self.settings.default_due_days)

    def import_file(self, data: bytes, filename: str, mode: str, actor: Identity,
                    mapping: dict[str, str] | None = None, accept_orphans: bool = False) -> LoadReport:
        """Import a file (all rows or none; recorded in the audit log by the importer). A city or county
        user's file may hold only its own region's cases: the importer checks each row (分级上报). A replacement
        leaving ledger items or complaints without their case needs `accept_orphans`."""
        return import_bytes(runtime.get_engine(self.url), data, filename, mode, actor=actor, mapping=mapping,
                            accept_orphans=accept_orphans)

    def orphaned_references(self, limit: int) -> OrphanListing:
        """督办事项 and 12388 complaints whose case is no longer in the case table: counted, the first `limit` of each kind."""
        self._province_only("无对应案件的记录")
        return _orphan_rows(self.url, self.version, limit)

    def preview_import(self, data: bytes, filename: str, actor: Identity, mapping: dict[str, str] | None, mode: str) -> Preview:
        """What importing the file in `mode` would do, with the columns read through `mapping`; nothing written."""
        return preview_import(runtime.get_engine(self.url), data, filename, actor=actor, mapping=mapping, mode=mode)

    def import_mapping_names(self) -> list[str]:
        """The saved column mappings."""
        return mappings.mapping_names(runtime.get_engine(self.url))

    def import_mapping(self, name: str) -> dict[str, str]:
        """One saved column mapping."""
        return mappings.load_mapping(runtime.get_engine(self.url), name)

    def save_import_mapping(self, actor: Identity, name: str, mapping: dict[str, str]) -> None:
        """Save a column mapping under `name` (audited)."""
        mappings.save_mapping(runtime.get_engine(self.url), actor, name, mapping)

    def reporting_status(self) -> pd.DataFrame:
        """上报情况: each city's latest received date and last import."""
        self._province_only("上报情况")
        return pd.DataFrame(inventory.reporting_status(runtime.get_engine(self.url)))

    def demo_cases(self) -> DemoShare:
        """How many of the cases are demo cases (the whole table's counts)."""
        self._province_only("演示数据统计")
        return runtime.demo_cases(self.url, self.version)

    def remove_demo_cases(self, actor: Identity) -> int:
        """Delete the demo cases, keep the real ones (one transaction, recorded in the audit log)."""
        self._province_only("删除演示数据")
        return remove_demo_cases(runtime.get_engine(self.url), actor=actor)

    def backup_folder(self) -> Path:
        """The server's backup folder ($PETITION_BACKUP_DIR, else data/backups), where the nightly backup writes too."""
        self._province_only("备份")
        return default_backup_dir()

    def take_backup(self, actor: Identity) -> BackupReport:
        """A snapshot of every table into the backup folder while the dashboard goes on (audited)."""
        self._province_only("备份")
        return take_backup(runtime.get_engine(self.url), default_backup_dir(), actor)

    def backups(self) -> list[tuple[Path, Manifest]]:
        """The backups in the backup folder, newest first."""
        self._province_only("备份")
        return list_backups(default_backup_dir())

    def database(self) -> tuple[str, str]:
        """The connected database as shown to a supervisor: its address (no password) and its kind."""
        self._province_only("数据库信息")
        engine = runtime.get_engine(self.url)
        return describe_url(engine), dialect_name(engine)

    def audit_rows(self, limit: int, since: dt.datetime) -> pd.DataFrame:
        """The latest audit rows since `since`, newest first."""
        self._province_only("审计日志")
        return audit.recent(runtime.get_engine(self.url), limit, since=since)

    def display_names(self) -> dict[str, str]:
        """Every account's display name by username: where people read who did something, they read a name."""
        return display_names(runtime.get_engine(self.url))

    @property
    def documents(self) -> DocumentSettings:
        """Who issues the documents and how they are numbered (the settings file's [documents])."""
        return runtime.document_settings()

    @property
    def hotline(self) -> HotlineSettings:
        """The 12388 cycle's settings ([hotline])."""
        return runtime.hotline_settings()

    def _province_only(self, what: str) -> None:
        if not self.scope.is_whole_province:
            raise PermissionError(f"{what}仅限省级用户 / province users only")


def scoped() -> ScopedData:
    """The data access of this run, limited to the viewer's scope."""
    from .view import current_view

    return ScopedData(runtime.database_url(), runtime.data_version(), current_view().scope, runtime.settings())


@st.cache_data(show_spinner=False, max_entries=512)
def _table(url: str, version: str, request: TableRequest, settings: Settings) -> pd.DataFrame:
    return region_table(runtime.get_engine(url), request, settings)


@st.cache_data(show_spinner=False, max_entries=256)
def _series(url: str, version: str, request: SeriesRequest, settings: Settings) -> pd.DataFrame:
    return metric_series(runtime.get_engine(url), request, settings)


@st.cache_data(show_spinner=False, max_entries=128)
def _priority(url: str, version: str, period: Period, filters: CaseFilter, scope: Scope,
              settings: Settings) -> pd.DataFrame:
    ranked = priority_counties(runtime.get_engine(url), period, filters, scope=scope, settings=settings)
    ranked["theta"], ranked["phi"] = ranked.attrs["theta"], ranked.attrs["phi"]
    return ranked


@st.cache_data(show_spinner=False, max_entries=128)
def _overdue(url: str, version: str, as_of: dt.date, parent: str | None, scope: Scope, filters: CaseFilter,
             settings: Settings) -> pd.DataFrame:
    return overdue_cases(runtime.get_engine(url), as_of, parent=parent, scope=scope, filters=filters,
                         order=OverdueOrder.MOST_OVERDUE, settings=settings)


@st.cache_data(show_spinner=False, max_entries=128)
def _warning_counts(url: str, version: str, as_of: dt.date, level: Level, parent: str | None, scope: Scope,
                    filters: CaseFilter, settings: Settings) -> pd.DataFrame:
    return warning_counts(runtime.get_engine(url), as_of, level, parent=parent, scope=scope, filters=filters,
                          settings=settings)


@st.cache_data(show_spinner=False, max_entries=64)
def _warnings(url: str, version: str, as_of: dt.date, parent: str | None, colours: tuple[str, ...], limit: int | None,
              scope: Scope, filters: CaseFilter, settings: Settings) -> pd.DataFrame:
    return deadline_warnings(runtime.get_engine(url), as_of, parent=parent, scope=scope, filters=filters, colours=colours,
                             limit=limit, settings=settings)


@st.cache_data(show_spinner=False, max_entries=32)
def _signals(url: str, version: str, as_of: dt.date, scope: Scope, filters: CaseFilter, settings: Settings) -> pd.DataFrame:
    return deterioration_signals(runtime.get_engine(url), as_of, scope=scope, filters=filters, settings=settings)


@st.cache_data(show_spinner=False, max_entries=64)
def _p_chart(url: str, version: str, as_of: dt.date, county: str, scope: Scope, filters: CaseFilter,
             settings: Settings) -> pd.DataFrame:
    return p_chart(runtime.get_engine(url), as_of, county, scope=scope, filters=filters, settings=settings)


@st.cache_data(show_spinner=False, max_entries=64)
def _trends(url: str, version: str, level: Level, by: TrendBy, period: Period, parent: str | None, scope: Scope,
            filters: CaseFilter) -> pd.DataFrame:
    return trends(runtime.get_engine(url), level, by, period, scope=scope, parent=parent, filters=filters)


@st.cache_data(show_spinner=False, max_entries=128)
def _cases_of_county(url: str, version: str, county: str, period: Period, filters: CaseFilter, scope: Scope,
                     settings: Settings) -> pd.DataFrame:
    return case_list(runtime.get_engine(url), county, period, filters=filters, scope=scope, limit=20000,
                     settings=settings)


@st.cache_data(show_spinner=False, max_entries=128)
def _ratings(url: str, version: str, period: Period, region: str | None, filters: CaseFilter, scope: Scope,
             settings: Settings) -> pd.DataFrame:
    return rating_distribution(runtime.get_engine(url), period, region, filters, scope=scope, settings=settings)


@st.cache_data(show_spinner=False, max_entries=32)
def _weekly(url: str, version: str, as_of: dt.date, filters: CaseFilter, scope: Scope,
            settings: Settings) -> WeeklyReport:
    return weekly_report(runtime.get_engine(url), as_of, filters, scope=scope, settings=settings)


@st.cache_data(show_spinner=False, max_entries=32)
def _repeat_matters(url: str, version: str, as_of: dt.date, scope: Scope, settings: Settings) -> pd.DataFrame:
    found = repeat_matters(runtime.get_engine(url), as_of, parent=scope.code, settings=settings)
    return pd.DataFrame([m.as_record() for m in found], columns=list(MATTER_COLUMNS))


@st.cache_data(show_spinner=False, max_entries=64)
def _relapses_found(url: str, version: str, as_of: dt.date, scope: Scope, settings: Settings) -> bool:
    return bool(campaign.find_relapses(runtime.get_engine(url), scope, as_of, screening_with(settings)))


@st.cache_data(show_spinner=False, max_entries=64)
def _campaign_table(url: str, version: str, level: Level, as_of: dt.date, parent: str | None, scope: Scope,
                    settings: Settings) -> pd.DataFrame:
    return campaign_table(runtime.get_engine(url), level, as_of, scope=scope, parent=parent, settings=settings)


@st.cache_data(show_spinner=False, max_entries=8)
def _orphan_rows(url: str, version: str, limit: int) -> OrphanListing:
    return orphan_listing(runtime.get_engine(url), limit)


@st.cache_data(show_spinner=False, ttl=600)
def _coverage(url: str, version: str, scope: Scope) -> inventory.Coverage:
    return inventory.coverage(runtime.get_engine(url), scope)
