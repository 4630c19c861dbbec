"""The screening as the 专项治理 steps read it (data_access.supervision.campaign's `screening`): the repeat matters among
some keys, computed by metrics.matters in the caller's transaction, so a step and the reading it rests on
see the same cases."""
from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from typing import Any

import pandas as pd
import sqlalchemy as sa

from data_access.identity.scope import Scope, require_scope
from data_access.reference.enums import Category, Level
from data_access.store.database import last_received
from data_access.store.dialects import count_where
from data_access.store.engine import connect, result_frame
from data_access.store.schema import campaign_assignments, campaign_events, campaign_matters, cases
from data_access.supervision.campaign import State

from .compiler import group_key, in_subtree, region_map
from .matters import RepeatMatter, case_source, repeat_matter, repeat_matters_query
from .settings import DEFAULT_SETTINGS, Settings


def read_matters(conn: sa.Connection, as_of: dt.date, keys: Sequence[str],
                 settings: Settings = DEFAULT_SETTINGS) -> dict[str, RepeatMatter]:
    """The repeat matters among `keys` at the end of `as_of`, by key (a key that is no repeat matter is absent)."""
    if not keys or (source := case_source(conn, settings)) is None:
        return {}
    screening = repeat_matters_query(as_of, settings=settings, source=source, among=list(keys)).order_by(None)
    found = conn.execute(screening).all()
    return {matter.matter: matter for matter in map(repeat_matter, found)}


def screening_with(settings: Settings) -> Callable[[sa.Connection, dt.date, Sequence[str]], dict[str, RepeatMatter]]:
    """read_matters with the deployment's settings (settle_quiet_days, screen_min_reports) bound."""
    def read(conn: sa.Connection, as_of: dt.date, keys: Sequence[str]) -> dict[str, RepeatMatter]:
        return read_matters(conn, as_of, keys, settings)
    return read


# --- the 积案化解 page: the campaign's standing per region (issue 31) -------------------------------------------

# Steps are stamped with the clock, cases with the day: read at the data's last day (or later), the campaign is the
# campaign as it is now, else a step taken today after a load of yesterday's cases would not show at the default
# 截止日期, and a relapse recorded as the page opens would vanish from the counts it was recorded for.
NOW_AND_AFTER = dt.datetime(9999, 12, 31)


def steps_cutoff(conn: sa.Connection, as_of: dt.date) -> dt.datetime:
    """The first moment a campaign step read at `as_of` has not happened by: the end of `as_of` for a past day of the
    data, none (NOW_AND_AFTER) when `as_of` is on or after the last day a case was received (docs/contract/campaign.md)."""
    last_day = last_received(conn)
    if last_day is None or as_of >= last_day:
        return NOW_AND_AFTER
    return dt.datetime.combine(as_of + dt.timedelta(days=1), dt.time())


def campaign_at(cutoff: dt.datetime) -> sa.Subquery:
    """The campaign matters enrolled before `cutoff` (steps_cutoff) as they stood then (docs/contract/campaign.md,
    "read at a past date"): id, matter, county_code, batch, deadline, enrolled_at, known_reports, `state` (the
    to_state of its last step by then) and `leader` (post and name of the 包案 then in force, NULL without one). The
    积案化解 page (campaign_table) and the 周例会 (metrics.campaign_week) both read the campaign through it."""
    m, e, a = campaign_matters.c, campaign_events.c, campaign_assignments.c
    last_step = sa.func.row_number().over(partition_by=e.campaign_matter_id, order_by=e.seq.desc())
    states = (sa.select(e.campaign_matter_id, e.to_state, last_step.label("recency"))
              .where(e.at < cutoff).subquery("states"))
    newest = sa.func.row_number().over(partition_by=a.campaign_matter_id, order_by=a.seq.desc())
    leaders = (sa.select(a.campaign_matter_id, (a.leader_post + a.leader_name).label("leader"), newest.label("recency"))
               .where(a.set_at < cutoff).subquery("leaders"))
    return (sa.select(m.id, m.matter, m.county_code, m.batch, m.deadline, m.enrolled_at, m.known_reports,
                      states.c.to_state.label("state"), leaders.c.leader)
            .select_from(campaign_matters
                         .join(states, sa.and_(states.c.campaign_matter_id == m.id, states.c.recency == 1))
                         .outerjoin(leaders, sa.and_(leaders.c.campaign_matter_id == m.id, leaders.c.recency == 1)))
            .where(m.enrolled_at < cutoff).subquery("campaign_at"))


CAMPAIGN_COUNTS = ("cases", "screened", "enrolled", "assigned", "resolved", "settled", "overdue", "relapsed")
CAMPAIGN_COLUMNS = ("code", *CAMPAIGN_COUNTS, "per_100", "assigned_rate", "resolved_rate")


def campaign_table(conn: sa.Engine | sa.Connection, level: Level, as_of: dt.date, *, scope: Scope,
                   parent: str | None = None, settings: Settings = DEFAULT_SETTINGS) -> pd.DataFrame:
    """The campaign per region of `level` at or under `parent` within `scope`, at the end of `as_of`, one statement:
    cases (accusations received by then), screened (列入筛选 matters whose latest report lies there) and per_100
    (screened per 100 of those cases); of the campaign matters held there as they stood at the end of `as_of`
    (campaign_at: steps taken later unseen, as the 周例会 reads them): enrolled, assigned (a 包案 set), resolved
    (已化解 or 案结事了), settled, overdue (超期未化解: not settled, deadline before `as_of`) and relapsed (反弹:
    recorded and not yet resolved again, or with a report the campaign has not seen); assigned_rate (包案率) and
    resolved_rate (化解率) over enrolled (NaN without any). Columns CAMPAIGN_COLUMNS, by code; every region of the
    level there has a row."""
    a = sa.bindparam("as_of", as_of, type_=sa.Date)
    with connect(conn) as c:
        screening = screening_cte(c, as_of, settings)
        by_county = [_accusations(a), _screened_by_county(screening),
                     _campaign_by_county(a, steps_cutoff(c, as_of), screening)]
        rmap = region_map()
        code = group_key(rmap, level)
        source: sa.FromClause = rmap
        for part in by_county:
            source = source.outerjoin(part, part.c.county_code == rmap.c.county_code)
        sums = [sa.cast(sa.func.coalesce(sa.func.sum(part.c[name]), 0), sa.BigInteger).label(name)
                for part in by_county for name in part.c.keys() if name != "county_code"]
        totals = (sa.select(code.label("code"), *sums).select_from(source)
                  .where(in_subtree(rmap, parent), in_subtree(rmap, require_scope(scope).code))
                  .group_by(code).subquery("totals"))
        t = totals.c
        query = sa.select(*t, (_per(t.screened, t.cases) * 100).label("per_100"),
                          _per(t.assigned, t.enrolled).label("assigned_rate"),
                          _per(t.resolved, t.enrolled).label("resolved_rate")).order_by(t.code)
        result = c.execute(query)
        frame = result_frame(result)
    frame = frame.astype(dict.fromkeys(CAMPAIGN_COUNTS, "int64"))
    for rate in CAMPAIGN_COLUMNS[len(CAMPAIGN_COUNTS) + 1:]:
        frame[rate] = pd.to_numeric(frame[rate], errors="coerce").astype("float64")  # NULL (no denominator): NaN
    return frame[list(CAMPAIGN_COLUMNS)]


def _per(numerator: sa.ColumnElement[Any], denominator: sa.ColumnElement[Any]) -> sa.ColumnElement[Any]:
    """A ratio in double precision, NULL when the denominator is 0."""
    return sa.cast(numerator, sa.Double) / sa.cast(sa.func.nullif(denominator, 0), sa.Double)


def _accusations(a: sa.BindParameter[dt.date]) -> sa.Subquery:
    """Accusation cases received by A per county: what a matter per 100 cases is counted against."""
    return (sa.select(cases.c.county_code, sa.func.count().label("cases"))
            .where(cases.c.category == Category.ACCUSATION.value, cases.c.received_date <= a)
            .group_by(cases.c.county_code).subquery("accusations"))


def screening_cte(conn: sa.Connection, as_of: dt.date, settings: Settings,
                  among: sa.Select[Any] | None = None) -> sa.CTE | None:
    """The screening at `as_of` (metrics.matters) as a CTE named "screening", once for a statement that joins the
    campaign to it, of the matters `among` only if given (repeat_matters_query); None without a matter_id column."""
    source = case_source(conn, settings)
    if source is None:
        return None
    return repeat_matters_query(as_of, settings=settings, source=source, among=among).order_by(None).cte("screening")


def _screened_by_county(screening: sa.CTE | None) -> sa.Subquery:
    """Screened matters per county of their latest report (none without a matter_id column)."""
    if screening is None:
        return sa.select(sa.null().label("county_code"), sa.literal(0).label("screened")).where(sa.false()).subquery("screened")
    return (sa.select(screening.c.county_code, count_where(screening.c.screened == 1).label("screened"))
            .group_by(screening.c.county_code).subquery("screened"))


def _campaign_by_county(a: sa.BindParameter[dt.date], cutoff: dt.datetime, screening: sa.CTE | None) -> sa.Subquery:
    """The campaign matters per county holding them as they stood at the end of `as_of` (campaign_at, as the 周例会
    reads them): counted by state, 包案 and deadline; 反弹 also when the screening holds reports the campaign has
    not seen (a relapse not yet recorded)."""
    m = campaign_at(cutoff)
    state_in = m.c.state.in_
    source = with_screening(m, screening)
    return (sa.select(m.c.county_code, sa.func.count().label("enrolled"),
                      count_where(m.c.leader.is_not(None)).label("assigned"),
                      count_where(state_in([State.RESOLVED.value, State.SETTLED.value])).label("resolved"),
                      count_where(m.c.state == State.SETTLED.value).label("settled"),
                      count_where(sa.and_(m.c.state != State.SETTLED.value, m.c.deadline < a)).label("overdue"),
                      count_where(relapsed(m, screening)).label("relapsed"))
            .select_from(source)
            .group_by(m.c.county_code).subquery("campaign"))


def with_screening(campaign: sa.Subquery, screening: sa.CTE | None) -> sa.FromClause:
    """campaign_at's matters joined to the screening's row of each (outer: a matter no longer a repeat one has none)."""
    if screening is None:
        return campaign
    return campaign.outerjoin(screening, screening.c.matter == campaign.c.matter)


def relapsed(campaign: sa.Subquery, screening: sa.CTE | None) -> sa.ColumnElement[bool]:
    """反弹 at the as-of date, the one rule of page and meeting: recorded relapsed by then (and not resolved again), or
    holding a report the campaign has not seen (the screening's reports exceed its known_reports: a relapse not yet
    recorded). Over with_screening(campaign, screening)."""
    recorded = campaign.c.state == State.RELAPSED.value
    if screening is None:
        return recorded
    return sa.or_(recorded, sa.func.coalesce(screening.c.reports, 0) > campaign.c.known_reports)
