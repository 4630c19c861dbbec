"""The screening as the 专项治理 steps read it (data_access.campaign's `screening`): the repeat matters among
some keys, computed by metrics.matters in the caller's transaction, so a step and the reading it rests on
see the same cases."""
from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from typing import Any

import sqlalchemy as sa

from .matters import MATTER_BOOLEANS, MATTER_COLUMNS, MatterTier, RepeatMatter, optional_case_columns, repeat_matters_query
from .settings import DEFAULT_SETTINGS, Settings


def read_matters(conn: sa.Connection, as_of: dt.date, keys: Sequence[str],
                 settings: Settings = DEFAULT_SETTINGS) -> dict[str, RepeatMatter]:
    """The repeat matters among `keys` at the end of `as_of`, by key (a key that is no repeat matter is absent)."""
    if not keys or "matter_id" not in (present := optional_case_columns(conn)):
        return {}
    screening = repeat_matters_query(as_of, settings=settings, has_levels="received_level" in present).order_by(None)
    rows = screening.subquery("screening")
    found = conn.execute(sa.select(rows).where(rows.c.matter.in_(list(keys)))).mappings().all()
    return {str(row["matter"]): _reading(row) for row in found}


def _reading(row: sa.RowMapping) -> RepeatMatter:
    """A row of the screening as a RepeatMatter (the MySQL family returns numbers for the flags, a driver may widen
    a date to a datetime)."""
    def value(name: str) -> Any:
        raw = row[name]
        if name in MATTER_BOOLEANS:
            return bool(raw)
        if name in ("first_received", "last_received"):
            return raw.date() if isinstance(raw, dt.datetime) else raw
        if name in ("matter", "county_code"):
            return str(raw)
        return MatterTier(raw) if name == "tier" else int(raw)
    return RepeatMatter(**{name: value(name) for name in MATTER_COLUMNS})


def screening_with(settings: Settings) -> Callable[[sa.Connection, dt.date, Sequence[str]], dict[str, RepeatMatter]]:
    """read_matters with the deployment's settings (settle_quiet_days, screen_min_reports) bound."""
    def read(conn: sa.Connection, as_of: dt.date, keys: Sequence[str]) -> dict[str, RepeatMatter]:
        return read_matters(conn, as_of, keys, settings)
    return read
