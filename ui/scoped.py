"""Every query a page makes goes through ScopedData, which stamps the viewer's region scope on it.

Pages cannot reach the cached metric calls without a scope: the scope is part of each request (and
so of each cache key), and metrics/ applies it inside every statement.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, replace

import pandas as pd

from metrics.request import CaseFilter, Period, TableRequest
from metrics.series import SeriesRequest
from metrics.settings import DEFAULT_SETTINGS, Settings

from . import runtime


@dataclass(frozen=True)
class ScopedData:
    """Cached metric calls limited to `scope` (None: the whole province)."""

    url: str
    version: str
    scope: str | None
    settings: Settings = DEFAULT_SETTINGS

    def table(self, request: TableRequest) -> pd.DataFrame:
        """Metrics per region (see metrics.table.region_table)."""
        return runtime.table(self.url, self.version, replace(request, scope=self.scope), self.settings)

    def series(self, request: SeriesRequest) -> pd.DataFrame:
        """Metrics per week or month (see metrics.series.metric_series)."""
        return runtime.series(self.url, self.version, replace(request, scope=self.scope), self.settings)

    def priority(self, period: Period, filters: CaseFilter) -> pd.DataFrame:
        """The priority-county ranking of the counties in scope."""
        return runtime.priority(self.url, self.version, period, filters, self.scope, self.settings)

    def overdue(self, as_of: dt.date, filters: CaseFilter, parent: str | None = None) -> pd.DataFrame:
        """The overdue ledger in scope."""
        return runtime.overdue(self.url, self.version, as_of, parent, self.scope, filters, self.settings)

    def cases_of_county(self, county: str, period: Period, filters: CaseFilter) -> pd.DataFrame:
        """A county's case list (empty outside the scope)."""
        return runtime.cases_of_county(self.url, self.version, county, period, filters, self.scope, self.settings)

    def ratings(self, period: Period, region: str | None, filters: CaseFilter) -> pd.DataFrame:
        """The distribution of ratings in scope."""
        return runtime.ratings(self.url, self.version, period, region, filters, self.scope, self.settings)

    def weekly(self, as_of: dt.date, filters: CaseFilter):  # -> metrics.weekly.WeeklyReport
        """The weekly meeting report in scope."""
        return runtime.weekly(self.url, self.version, as_of, filters, self.scope, self.settings)


def scoped() -> ScopedData:
    """The data access of this run, limited to the viewer's scope."""
    from .view import current_view

    return ScopedData(runtime.database_url(), runtime.data_version(), current_view().scope)
