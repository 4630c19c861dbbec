"""形势分析: the screened repeat matters (越级重复举报积案, metrics.md "Repeat matters") by domain — each matter counted
once, in the domain of its latest report (the report that also gives its county), in one statement the database runs.
The 形势分析 page and the 形势分析报告 both read it (the report through metrics.analysis.AnalysisFacts)."""
from __future__ import annotations

import datetime as dt
from typing import Any

import pandas as pd
import sqlalchemy as sa

from data_access.reference.enums import Category
from data_access.store.engine import connect, result_frame
from data_access.store.schema import cases

from .matter_keys import binary_text, matter_key
from .matter_links import matter_links
from .matters import MatterTier, case_source, repeat_matters_query
from .settings import DEFAULT_SETTINGS, Settings

DOMAIN_COLUMNS = ("domain", "matters", "reports", "serious", "share")


def screened_by_domain(conn: sa.Engine | sa.Connection, as_of: dt.date, *, parent: str | None = None,
                       settings: Settings = DEFAULT_SETTINGS) -> pd.DataFrame:
    """The matters screened (列入筛选) at the end of `as_of` whose latest report lies at or under `parent` (None: the
    province), per domain of that latest report: matters, the reports they hold, how many are 突出 (tier serious) and
    the domain's share of the matters; most matters first, then by domain. Columns DOMAIN_COLUMNS."""
    with connect(conn) as c:
        source = case_source(c, settings)
        if source is None:
            return _typed(pd.DataFrame(columns=list(DOMAIN_COLUMNS)))
        screening = repeat_matters_query(as_of, parent=parent, settings=settings, source=source)
        screened = screening.order_by(None).subquery("screening")
        chosen = sa.select(screened.c.matter).where(screened.c.screened == 1)
        ranked = _latest_domains(sa.bindparam("as_of", as_of, type_=sa.Date), chosen, source.linked)
        serious = sa.func.sum(sa.case((screened.c.tier == MatterTier.SERIOUS.value, 1), else_=0))
        stmt = (sa.select(ranked.c.domain, sa.func.count().label("matters"), sa.func.sum(screened.c.reports).label("reports"),
                          serious.label("serious"))
                .select_from(ranked.join(screened, screened.c.matter == ranked.c.matter))
                .where(ranked.c.recency == 1, screened.c.screened == 1)
                .group_by(ranked.c.domain))
        result = c.execute(stmt)
        frame = result_frame(result)
    total = int(frame["matters"].sum()) if not frame.empty else 0
    frame["share"] = frame["matters"].astype("float64") / total if total else pd.Series(dtype="float64")
    frame = frame.sort_values(["matters", "domain"], ascending=[False, True], kind="stable").reset_index(drop=True)
    return _typed(frame[list(DOMAIN_COLUMNS)])


def _latest_domains(a: sa.BindParameter[dt.date], chosen: sa.Select[Any], linked: bool) -> sa.Subquery:
    """The reports received by A of the `chosen` matters with their domain, `recency` 1 on each matter's latest: from
    the stored linked cases (by their order in the matter, seq) or from the case table (keyed as the screening keys)."""
    if linked:
        links = matter_links.c
        matter = binary_text(links.matter)
        recency = sa.func.row_number().over(partition_by=matter, order_by=links.seq.desc())
        return (sa.select(matter.label("matter"), links.domain, recency.label("recency"))
                .where(links.received_date <= a, matter.in_(chosen)).subquery("ranked"))
    key = matter_key(cases.c.matter_id, cases.c.case_id)
    keyed = (sa.select(key.label("matter"), cases.c.received_date, cases.c.case_id, cases.c.domain)
             .where(cases.c.category == Category.ACCUSATION.value, cases.c.received_date <= a, key.in_(chosen))
             .subquery("keyed"))
    recency = sa.func.row_number().over(partition_by=keyed.c.matter,
                                        order_by=(keyed.c.received_date.desc(), binary_text(keyed.c.case_id).desc()))
    return sa.select(keyed.c.matter, keyed.c.domain, recency.label("recency")).subquery("ranked")


def _typed(frame: pd.DataFrame) -> pd.DataFrame:
    """Counts as integers (the MySQL family returns decimals for sums), the domain as text, the share as a float."""
    out = frame.astype({"matters": "int64", "reports": "int64", "serious": "int64", "share": "float64"})
    out["domain"] = out["domain"].astype(str)
    return out
