"""Typed, frozen descriptions of what is asked: period, filters, region level and subtree."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field, replace

from data_access.identity.scope import Scope, require_scope
from data_access.reference.enums import Level


@dataclass(frozen=True)
class Period:
    """P = [start, end], both inclusive, read as the data stood at the end of day `as_of` (default: end)."""

    start: dt.date
    end: dt.date
    as_of: dt.date | None = None

    def __post_init__(self) -> None:
        if self.end < self.start:
            raise ValueError(f"period end {self.end} is before its start {self.start}")

    @property
    def as_of_date(self) -> dt.date:
        """A: the as-of date (the period's end unless given)."""
        return self.as_of or self.end

    @property
    def window_end(self) -> dt.date:
        """min(end, A): the last day a deadline may fall on to be counted as due."""
        return min(self.end, self.as_of_date)

    @property
    def days(self) -> int:
        """Length of the period in calendar days."""
        return (self.end - self.start).days + 1

    def previous(self) -> Period:
        """The period of the same length just before this one, as of its own last day."""
        end = self.start - dt.timedelta(days=1)
        return Period(end - dt.timedelta(days=self.days - 1), end, end)


@dataclass(frozen=True)
class CaseFilter:
    """Restrictions on which cases count; empty tuples mean no restriction."""

    channels: tuple[str, ...] = ()
    domains: tuple[str, ...] = ()
    categories: tuple[str, ...] = ()
    first_report_only: bool = False
    real_name_only: bool = False


@dataclass(frozen=True)
class TableRequest:
    """Metrics for every region of `level` under `parent` (None: all), within the viewer's `scope`
    (required: WHOLE_PROVINCE says "everything" explicitly)."""

    level: Level
    period: Period
    parent: str | None = None
    filters: CaseFilter = field(default_factory=CaseFilter)
    metrics: tuple[str, ...] | None = None  # None: every registered metric
    scope: Scope = field(kw_only=True)

    def __post_init__(self) -> None:
        require_scope(self.scope)

    def with_period(self, period: Period) -> TableRequest:
        """The same request over another period."""
        return replace(self, period=period)
