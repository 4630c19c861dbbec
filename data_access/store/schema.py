"""The tables the dashboard reads and keeps, declared once with SQLAlchemy Core."""
from __future__ import annotations

import sqlalchemy as sa

from data_access.store.dialects import MYSQL_FAMILY, Timestamp

metadata = sa.MetaData()

regions = sa.Table(
    "regions",
    metadata,
    sa.Column("code", sa.String(6), primary_key=True),
    sa.Column("name", sa.String(64), nullable=False),
    sa.Column("level", sa.String(16), nullable=False),
    sa.Column("parent_code", sa.String(6), nullable=True),
    sa.Column("lon", sa.Double, nullable=True),
    sa.Column("lat", sa.Double, nullable=True),
)

# One row per petition/report. Never any reporter identity (see data-contract.md).
cases = sa.Table(
    "cases",
    metadata,
    sa.Column("case_id", sa.String(64), primary_key=True),
    sa.Column("county_code", sa.String(6), nullable=False),
    sa.Column("received_date", sa.Date, nullable=False),
    sa.Column("channel", sa.String(16), nullable=False),
    sa.Column("category", sa.String(16), nullable=False),
    sa.Column("domain", sa.String(32), nullable=False),
    sa.Column("is_first_report", sa.Boolean, nullable=False),
    sa.Column("is_leapfrog", sa.Boolean, nullable=False),
    sa.Column("is_repeat", sa.Boolean, nullable=False),
    sa.Column("is_real_name", sa.Boolean, nullable=False),
    sa.Column("due_date", sa.Date, nullable=True),
    sa.Column("closed_date", sa.Date, nullable=True),
    sa.Column("satisfaction", sa.String(16), nullable=True),
    sa.Column("disputed", sa.Boolean, nullable=False),
    sa.Column("accepted_notice_date", sa.Date, nullable=True),
    sa.Column("result_notice_date", sa.Date, nullable=True),
    # Optional (added 2026-12-06; a database made before gets them from ensure_initialized, empty):
    sa.Column("matter_id", sa.String(64), nullable=True),  # 事项编号: the reports about one matter share it
    sa.Column("received_level", sa.String(16), nullable=True),  # 受理层级: central | province | city | county
    # Derived at load time from workday_calendar (never read from a file): D1 and D2 of metrics.md,
    # stored so that the aggregates need no calendar join. A database whose `cases` lacks them
    # (an external table or view) is served by joining the calendar instead.
    sa.Column("notice_deadline", sa.Date, nullable=True),  # 15th working day after received_date
    sa.Column("feedback_deadline", sa.Date, nullable=True),  # 15th working day after closed_date
)

# Indexes for the row stores, PostgreSQL and the MySQL family (region subtree, period windows, overdue
# stock). DuckDB's zone maps serve the same scans, and ART indexes there only slow bulk loads, so they
# are skipped.
ROW_STORES: tuple[str, ...] = ("postgresql", *MYSQL_FAMILY)


def row_store_index(name: str, column: sa.Column[object]) -> sa.Index:
    """An index created on the row stores only (ddl_if takes a tuple of dialect names; its stub says str)."""
    return sa.Index(name, column).ddl_if(dialect=ROW_STORES)  # type: ignore[arg-type]


for _column in ("county_code", "received_date", "due_date", "closed_date"):
    row_store_index(f"ix_cases_{_column}", cases.c[_column])

DEADLINE_COLUMNS: tuple[str, ...] = ("notice_deadline", "feedback_deadline")
# The contract's columns: what a file brings and the importer checks (the deadlines are derived).
CASE_COLUMNS: tuple[str, ...] = tuple(c.name for c in cases.columns if c.name not in DEADLINE_COLUMNS)
# Contract columns added after the first release: optional, so a `cases` table or view without them still
# serves every page; a base table made before them gets them (empty) when the app starts.
LATER_CASE_COLUMNS: tuple[str, ...] = ("matter_id", "received_level")

# The official working-day calendar, one row per day: the "15th working day after X" is looked
# up here inside SQL rather than computed case by case in Python.
workday_calendar = sa.Table(
    "workday_calendar",
    metadata,
    sa.Column("day", sa.Date, primary_key=True),
    sa.Column("is_workday", sa.Boolean, nullable=False),
    sa.Column("official", sa.Boolean, nullable=False),  # false: outside the official calendar's years, Mon-Fri assumed
    sa.Column("deadline_15", sa.Date, nullable=False),  # the 15th working day after `day`
)

# What was loaded and when (the 数据 page shows the last import; the demo banner reads `kind`).
import_log = sa.Table(
    "import_log",
    metadata,
    sa.Column("imported_at", Timestamp, nullable=False),
    sa.Column("kind", sa.String(16), nullable=False),  # import | demo | remove_demo | hotline | reference
    sa.Column("source", sa.String(255), nullable=False),
    sa.Column("mode", sa.String(16), nullable=False),  # append | replace | upsert
    sa.Column("rows", sa.Integer, nullable=False),
    sa.Column("dropped_columns", sa.String(1000), nullable=True),
)

# One row per write of the app (a ledger step, a 12388 step or draw, an import, a user change), in the
# writing transaction: with import_log it makes the data version that every cache keys on, shared by
# every server process (data_access.store.changes). Insert-only, so concurrent writers never conflict on a row.
data_changes = sa.Table(
    "data_changes",
    metadata,
    sa.Column("id", sa.String(32), primary_key=True),  # uuid4 hex
    sa.Column("changed_at", Timestamp, nullable=False),
    sa.Column("what", sa.String(16), nullable=False),  # the audit action (or user_admin) that wrote
)
row_store_index("ix_data_changes_changed_at", data_changes.c.changed_at)

# The local user store, used when no OIDC provider is configured. Never a plain-text password.
users = sa.Table(
    "users",
    metadata,
    sa.Column("username", sa.String(64), primary_key=True),  # stored lower-case
    sa.Column("display_name", sa.String(64), nullable=False),
    sa.Column("role", sa.String(16), nullable=False),  # province | city | county
    sa.Column("region_code", sa.String(6), nullable=True),  # NULL only for a province user: the whole province
    sa.Column("password_hash", sa.String(255), nullable=False),  # argon2id, PHC string
    sa.Column("disabled", sa.Boolean, nullable=False),
    sa.Column("created_at", Timestamp, nullable=False),
    # the lock-out of the first release (one fixed lock per account); kept for existing databases, written 0 / NULL:
    # lock-outs now live in sign_in_events
    sa.Column("failed_attempts", sa.Integer, nullable=False),
    sa.Column("locked_until", Timestamp, nullable=True),
)

# Signed-in sessions of local users. The browser holds a random token in an HttpOnly cookie; only its
# SHA-256 is stored, so a copy of this table opens no session. Until the browser has the cookie, the
# session waits with the hash of a one-time handoff code instead (see data_access.identity.sessions). A session
# ends on sign-out, after the idle timeout, or when its user is disabled or gets a new password.
user_sessions = sa.Table(
    "user_sessions",
    metadata,
    sa.Column("id", sa.String(32), primary_key=True),  # uuid4 hex: what the signed-in tab remembers
    sa.Column("token_hash", sa.String(64), nullable=True, unique=True),  # NULL until the cookie is set
    sa.Column("handoff_hash", sa.String(64), nullable=True, unique=True),
    sa.Column("handoff_until", Timestamp, nullable=True),
    sa.Column("username", sa.String(64), nullable=False),
    sa.Column("created_at", Timestamp, nullable=False),
    sa.Column("last_seen", Timestamp, nullable=False),
    sa.Column("ended_at", Timestamp, nullable=True),
    sa.Column("end_reason", sa.String(16), nullable=True),  # logout | idle | expired | disabled | password
)
sa.Index("ix_user_sessions_username", user_sessions.c.username)

# Sign-in attempts of local users and the lock-outs they caused (data_access/identity/auth.py, "Signing in"): one row per
# failure, success or lock-out, by account and client address. Insert-only, so concurrent attempts never update
# the same row; rows older than the settings need are pruned at a successful sign-in.
sign_in_events = sa.Table(
    "sign_in_events",
    metadata,
    sa.Column("id", sa.String(32), primary_key=True),  # uuid4 hex
    sa.Column("at", Timestamp, nullable=False, quote=True),
    sa.Column("kind", sa.String(8), nullable=False),  # failure | success | lockout
    sa.Column("username", sa.String(64), nullable=False),  # '' for an unknown user and for a lock-out of an address
    sa.Column("client", sa.String(64), nullable=False),  # the client's address; '' for a lock-out of an account
    sa.Column("locked_until", Timestamp, nullable=True),  # a lock-out: when it ends
    sa.Column("level", sa.Integer, nullable=True),  # a lock-out: its step of the back-off, 0 for the first
)
row_store_index("ix_sign_in_events_username", sign_in_events.c.username)
row_store_index("ix_sign_in_events_client", sign_in_events.c.client)

# Who did what, when, within which scope. `detail` is text we write ourselves (file and page names,
# row counts), never anything about a reporter. Ids are uuid4 hex: no autoincrement in DuckDB here.
audit_log = sa.Table(
    "audit_log",
    metadata,
    sa.Column("id", sa.String(32), primary_key=True),
    sa.Column("at", Timestamp, nullable=False, quote=True),  # AT is a keyword in DuckDB: always quoted
    sa.Column("username", sa.String(255), nullable=False),
    sa.Column("role", sa.String(16), nullable=True),  # NULL for the command line
    sa.Column("scope", sa.String(6), nullable=False),  # region code, '' for the whole province or none
    sa.Column("action", sa.String(16), nullable=False),  # login | login_failed | logout | import | download | user_admin
    sa.Column("detail", sa.String(500), nullable=False),
)
row_store_index("ix_audit_log_at", audit_log.c.at)

# 督办台账: supervision orders and every step taken on them (docs/contract/supervision-ledger.md). Text
# fields are typed by officials and shown on shared screens: ledger.py refuses phone and ID numbers.
supervision_items = sa.Table(
    "supervision_items",
    metadata,
    sa.Column("id", sa.String(32), primary_key=True),  # uuid4 hex
    sa.Column("subject", sa.String(8), nullable=False),  # case | county
    sa.Column("case_id", sa.String(64), nullable=True),  # the case, for a case item
    sa.Column("county_code", sa.String(6), nullable=False),  # the county that must reply
    sa.Column("title", sa.String(200), nullable=False),  # what is wrong, e.g. 初次举报超期未办结 37 件
    sa.Column("reason", sa.String(1000), nullable=False),  # why it is ordered, what is asked
    sa.Column("method", sa.String(16), nullable=False),  # phone | letter | visit
    sa.Column("reply_due", sa.Date, nullable=False),  # the county replies by this day
    sa.Column("status", sa.String(16), nullable=False),  # open | replied | closed
    sa.Column("opened_by", sa.String(64), nullable=False),
    sa.Column("opened_scope", sa.String(6), nullable=False),  # the opener's region, '' for the province
    sa.Column("opened_at", Timestamp, nullable=False),
    sa.Column("replied_at", Timestamp, nullable=True),  # the latest reply
    sa.Column("closed_at", Timestamp, nullable=True),  # 销号
)
sa.Index("ix_supervision_items_county", supervision_items.c.county_code)

supervision_events = sa.Table(
    "supervision_events",
    metadata,
    sa.Column("id", sa.String(32), primary_key=True),
    sa.Column("item_id", sa.String(32), nullable=False),
    sa.Column("seq", sa.Integer, nullable=False),  # 1, 2, ... within the item: the order of its steps
    sa.Column("at", Timestamp, nullable=False, quote=True),
    sa.Column("username", sa.String(64), nullable=False),
    sa.Column("role", sa.String(16), nullable=False),
    sa.Column("action", sa.String(16), nullable=False),  # open | reply | close | return
    sa.Column("note", sa.String(1000), nullable=False),
    sa.Column("promised_date", sa.Date, nullable=True),  # a reply: the day the county promises to finish
)
sa.Index("ix_supervision_events_item", supervision_events.c.item_id)

# Saved column mappings of the importer (docs/contract/import-mappings.md): how one source system's
# export names the contract's fields, saved from the 数据 page, reused by `import --mapping NAME`.
import_mappings = sa.Table(
    "import_mappings",
    metadata,
    sa.Column("name", sa.String(64), primary_key=True),
    sa.Column("columns", sa.String(4000), nullable=False),  # JSON object: file header -> field ('' = not imported)
    sa.Column("saved_by", sa.String(64), nullable=False),
    sa.Column("saved_at", Timestamp, nullable=False),
)

# 12388 来电投诉 and their monthly cycle (docs/contract/hotline-complaints.md). The first five columns come
# from an imported file; the rest are filled by the app's steps (data_access/supervision/hotline.py), never imported.
# No caller identity: the importer drops every column it does not know.
hotline_complaints = sa.Table(
    "hotline_complaints",
    metadata,
    sa.Column("complaint_id", sa.String(64), primary_key=True),  # 来电编号
    sa.Column("received_date", sa.Date, nullable=False),  # 来电日期
    sa.Column("county_code", sa.String(6), nullable=False),  # the county complained about
    sa.Column("kind", sa.String(16), nullable=False),  # slow | result | no_feedback | other
    sa.Column("case_id", sa.String(64), nullable=True),  # the case concerned, a case of county_code
    sa.Column("notified_month", sa.String(7), nullable=True),  # YYYY-MM of the 通报 that listed it
    sa.Column("feedback", sa.String(8), nullable=True),  # true 属实 | untrue 不属实
    sa.Column("feedback_note", sa.String(1000), nullable=True),
    sa.Column("feedback_at", Timestamp, nullable=True),
    sa.Column("feedback_by", sa.String(64), nullable=True),
    sa.Column("spot_check_draw", sa.String(32), nullable=True),  # spot_check_draws.id of the draw that chose it
    sa.Column("spot_check_result", sa.String(16), nullable=True),  # confirmed 反馈属实 | false 反馈不实
    sa.Column("spot_check_note", sa.String(1000), nullable=True),
    sa.Column("spot_check_at", Timestamp, nullable=True),
    sa.Column("spot_check_by", sa.String(64), nullable=True),
    sa.Column("supervision_item_id", sa.String(32), nullable=True),  # the ledger item a 属实 / 反馈不实 opened
)
for _column in ("county_code", "received_date"):
    row_store_index(f"ix_hotline_complaints_{_column}", hotline_complaints.c[_column])
HOTLINE_FILE_COLUMNS: tuple[str, ...] = ("complaint_id", "received_date", "county_code", "kind", "case_id")
HOTLINE_WORKFLOW_COLUMNS: tuple[str, ...] = tuple(
    c.name for c in hotline_complaints.columns if c.name not in HOTLINE_FILE_COLUMNS)

# One row per 抽查 draw: everything needed to re-run it (docs/contract/hotline-complaints.md, "The draw").
spot_check_draws = sa.Table(
    "spot_check_draws",
    metadata,
    sa.Column("id", sa.String(32), primary_key=True),  # uuid4 hex (DEMO-… for the demo's draws)
    sa.Column("month", sa.String(7), nullable=False),  # the notified month drawn from
    sa.Column("seed", sa.Integer, nullable=False),  # 0 … 2^31-1
    sa.Column("share", sa.Double, nullable=False),
    sa.Column("population", sa.Integer, nullable=False),  # complaints it drew from
    sa.Column("sample", sa.Integer, nullable=False),  # complaints it chose
    sa.Column("drawn_at", Timestamp, nullable=False),
    sa.Column("drawn_by", sa.String(64), nullable=False),
)

# 文号 register (docs/contract/document-numbers.md): one row per document issued, inserted in the transaction that
# records the document and never updated or deleted, so a number is never given twice. The sequence runs per
# series (the kind's pattern with the issuing office filled in) and year; the primary key on the number itself is
# what makes one of two concurrent issuers of the same number fail and take the next.
document_numbers = sa.Table(
    "document_numbers",
    metadata,
    sa.Column("number", sa.String(64), primary_key=True),  # 文号 as printed: 鲁纪信督〔2026〕3号
    sa.Column("series", sa.String(64), nullable=False),  # the pattern it was numbered in: 鲁纪信督〔{year}〕{seq}号
    sa.Column("year", sa.Integer, nullable=False, quote=True),  # the 成文日期's year
    sa.Column("seq", sa.Integer, nullable=False),  # 1, 2, ... within series and year
    # weekly | hotline_city | hotline_county | hotline_summary | notice | analysis | campaign_letter
    sa.Column("kind", sa.String(16), nullable=False),
    sa.Column("subject", sa.String(64), nullable=False),  # what it is about, kept by a re-issue: 2026-10/370800, an item id
    sa.Column("title", sa.String(200), nullable=False),
    sa.Column("recipient", sa.String(200), nullable=False),  # 主送
    sa.Column("recipient_code", sa.String(6), nullable=False),  # the recipient's region, '' across the province
    sa.Column("dated", sa.Date, nullable=False),  # 成文日期
    sa.Column("reply_due", sa.Date, nullable=True),  # the 答复 / 反馈期限 it states
    sa.Column("issued_by", sa.String(64), nullable=False),
    sa.Column("issued_scope", sa.String(6), nullable=False),  # the issuing office's region, '' for the province
    sa.Column("issued_at", Timestamp, nullable=False),
    sa.Column("replaces", sa.String(64), nullable=True),  # a re-issue: the number it replaces
    sa.UniqueConstraint("series", "year", "seq", name="uq_document_numbers_seq"),
)
sa.Index("ix_document_numbers_subject", document_numbers.c.kind, document_numbers.c.subject)

# 越级重复举报专项治理: the repeat matters the campaign has taken on, their 包案 records, the county's progress
# notes and every step (docs/contract/campaign.md, data_access/supervision/campaign.py). A matter is named by its key in
# metrics.matters (the trimmed matter_id, else a case_id), never by a reporter. Texts are typed by officials and
# shown on shared screens: campaign.py refuses phone and ID numbers as the ledger does.
campaign_matters = sa.Table(
    "campaign_matters",
    metadata,
    sa.Column("id", sa.String(32), primary_key=True),  # uuid4 hex
    sa.Column("matter", sa.String(64), nullable=False, unique=True),  # the matter key: enrolled once
    sa.Column("county_code", sa.String(6), nullable=False),  # the county holding it: its latest report's at enrolment
    sa.Column("batch", sa.String(32), nullable=True),  # 集中交办: the id shared by the matters enrolled together
    sa.Column("deadline", sa.Date, nullable=False),  # 限期办结
    sa.Column("state", sa.String(16), nullable=False),  # enrolled | assigned | resolved | settled | relapsed
    sa.Column("revision", sa.Integer, nullable=False),  # 1, 2, ...: moved by every step (a stale step is refused)
    sa.Column("known_reports", sa.Integer, nullable=False),  # reports seen at enrolment or the latest relapse recorded
    sa.Column("enrolled_by", sa.String(64), nullable=False),
    sa.Column("enrolled_scope", sa.String(6), nullable=False),  # the enroller's region, '' for the province
    sa.Column("enrolled_at", Timestamp, nullable=False),
    sa.Column("updated_at", Timestamp, nullable=False),  # the latest step
)
sa.Index("ix_campaign_matters_county", campaign_matters.c.county_code)

# 包案: one row per record set; a change is a new row (seq + 1), the earlier ones kept as history.
campaign_assignments = sa.Table(
    "campaign_assignments",
    metadata,
    sa.Column("id", sa.String(32), primary_key=True),
    sa.Column("campaign_matter_id", sa.String(32), nullable=False),
    sa.Column("seq", sa.Integer, nullable=False),  # 1, 2, ... within the matter: the latest is in force
    sa.Column("leader_name", sa.String(32), nullable=False),  # 包案领导: an official
    sa.Column("leader_post", sa.String(64), nullable=False),  # his or her post, e.g. 市纪委副书记
    sa.Column("team", sa.String(500), nullable=False),  # 工作专班
    sa.Column("plan", sa.String(2000), nullable=False),  # 化解方案
    sa.Column("set_by", sa.String(64), nullable=False),
    sa.Column("set_scope", sa.String(6), nullable=False),  # the setter's region
    sa.Column("set_at", Timestamp, nullable=False),
)
sa.Index("ix_campaign_assignments_matter", campaign_assignments.c.campaign_matter_id)

# The county's progress notes and resolve claims (what was done), in order; never updated or deleted.
campaign_notes = sa.Table(
    "campaign_notes",
    metadata,
    sa.Column("id", sa.String(32), primary_key=True),
    sa.Column("campaign_matter_id", sa.String(32), nullable=False),
    sa.Column("kind", sa.String(16), nullable=False),  # progress | resolve
    sa.Column("note", sa.String(1000), nullable=False),
    sa.Column("written_by", sa.String(64), nullable=False),
    sa.Column("written_at", Timestamp, nullable=False),
)
sa.Index("ix_campaign_notes_matter", campaign_notes.c.campaign_matter_id)

# Every step of every campaign matter, in order; never updated or deleted.
campaign_events = sa.Table(
    "campaign_events",
    metadata,
    sa.Column("id", sa.String(32), primary_key=True),
    sa.Column("campaign_matter_id", sa.String(32), nullable=False),
    sa.Column("seq", sa.Integer, nullable=False),  # 1, 2, ... within the matter
    sa.Column("at", Timestamp, nullable=False, quote=True),
    sa.Column("username", sa.String(64), nullable=False),
    sa.Column("role", sa.String(16), nullable=False),
    sa.Column("action", sa.String(16), nullable=False),  # enrol | assign | progress | resolve | settle | relapse
    sa.Column("from_state", sa.String(16), nullable=True),  # NULL for the enrolment
    sa.Column("to_state", sa.String(16), nullable=False),
    sa.Column("detail", sa.String(500), nullable=False),
)
sa.Index("ix_campaign_events_matter", campaign_events.c.campaign_matter_id)
