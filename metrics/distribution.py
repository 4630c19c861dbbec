"""Distribution of ratings among the cases closed in a period (满意 / 基本满意 / 不满意 / 未评价)."""
from __future__ import annotations

import pandas as pd
import sqlalchemy as sa

from data_access.identity.scope import Scope
from data_access.reference.enums import Satisfaction
from data_access.store.engine import connect
from data_access.store.schema import cases

from .compiler import (
    case_source,
    context,
    count_condition,
    deadlines_read,
    filter_conditions,
    rule_chain,
    within,
    within_scope,
)
from .request import CaseFilter, Period
from .rules import Bounds
from .settings import DEFAULT_SETTINGS, Settings

UNRATED = "unrated"
RATING_LABELS = {**{s.value: s.label for s in Satisfaction}, UNRATED: "未评价"}


def rating_distribution(conn: sa.Engine | sa.Connection, period: Period, region: str | None = None,
                        filters: CaseFilter = CaseFilter(), *, scope: Scope,
                        settings: Settings = DEFAULT_SETTINGS) -> pd.DataFrame:
    """Counts of each rating over the cases counted in `closed` (rating, label, cases, share), within
    `scope` (required)."""
    src = case_source(deadlines_read(rule_chain("closed")), stored_deadlines=False)  # no deadline is read
    ctx = context(src, Bounds.of_dates(period.start, period.end, period.as_of_date), settings)
    rating = sa.func.coalesce(cases.c.satisfaction, UNRATED).label("rating")
    stmt = (sa.select(rating, sa.func.count().label("cases"))
            .select_from(src.from_clause)
            .where(count_condition("closed", ctx), within(region), within_scope(scope), *filter_conditions(filters))
            .group_by(rating))
    with connect(conn) as c:
        counts: dict[str, int] = {row[0]: int(row[1]) for row in c.execute(stmt)}
    frame = pd.DataFrame({"rating": list(RATING_LABELS), "label": list(RATING_LABELS.values())})
    frame["cases"] = [int(counts.get(r, 0)) for r in frame["rating"]]
    total = frame["cases"].sum()
    frame["share"] = frame["cases"] / total if total else float("nan")
    return frame
