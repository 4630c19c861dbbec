"""The naive peer: the county table computed in pandas over the whole case table held in memory.

Used only by the benchmark (as the speed baseline the database path is measured against) and as an
independent cross-check of the SQL compiler. Not used by the app.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
import sqlalchemy as sa

from data_access.reference.workdays import load_calendar
from data_access.store.schema import cases as cases_table
from metrics.registry import ALL_IDS, COUNT_IDS, METRICS_BY_ID, MetricKind
from metrics.request import Period


def read_all_cases(engine) -> pd.DataFrame:
    """The whole case table in memory (what the metrics layer never does)."""
    with engine.connect() as conn:
        frame = pd.read_sql_query(sa.select(cases_table), conn)
    for column in ("received_date", "due_date", "closed_date", "accepted_notice_date", "result_notice_date"):
        frame[column] = pd.to_datetime(frame[column])
    return frame


def county_table_pandas(cases: pd.DataFrame, county_codes: list[str], period: Period, default_due_days: int = 60) -> pd.DataFrame:
    """Every metric per county, with the same definitions as metrics/ (metrics.md)."""
    start, end, a = (pd.Timestamp(d) for d in (period.start, period.end, period.as_of_date))
    window_end = min(end, a)
    c = cases
    acc = (c["category"] == "accusation").to_numpy()
    rec, closed = c["received_date"], c["closed_date"]
    due = c["due_date"].fillna(rec + pd.Timedelta(days=default_due_days))
    cal = load_calendar()
    d1 = _deadline(rec, cal)
    d2 = _deadline(closed, cal)
    closed_at = (closed <= a).to_numpy()
    first, real = c["is_first_report"].to_numpy(bool), c["is_real_name"].to_numpy(bool)
    m: dict[str, np.ndarray] = {}
    m["received"] = ((rec >= start) & (rec <= end)).to_numpy()
    m["accepted"] = acc & m["received"]
    m["due"] = acc & ((due >= start) & (due <= window_end)).to_numpy()
    m["on_time"] = m["due"] & (closed <= due).to_numpy() & closed_at
    m["first_due"], m["first_on_time"] = m["due"] & first, m["on_time"] & first
    m["overdue"] = acc & (due < a).to_numpy() & ~closed_at
    m["first_overdue"] = m["overdue"] & first
    m["closed"] = acc & ((closed >= start) & (closed <= end)).to_numpy() & closed_at
    rated = c["satisfaction"].notna().to_numpy()
    m["rated"] = m["closed"] & rated
    m["satisfied"] = m["rated"] & c["satisfaction"].isin(["satisfied", "basic"]).to_numpy()
    m["disputed"] = m["closed"] & c["disputed"].to_numpy(bool)
    m["leapfrog"] = m["accepted"] & c["is_leapfrog"].to_numpy(bool)
    m["repeat"] = m["accepted"] & c["is_repeat"].to_numpy(bool)
    m["notice_due"] = acc & real & ((d1 >= start) & (d1 <= window_end)).to_numpy()
    m["notice_on_time"] = m["notice_due"] & (c["accepted_notice_date"] <= d1).to_numpy()
    m["feedback_due"] = acc & real & closed_at & ((d2 >= start) & (d2 <= window_end)).to_numpy()
    m["feedback_on_time"] = m["feedback_due"] & (c["result_notice_date"] <= d2).to_numpy()
    frame = pd.DataFrame({k: m[k].astype(np.int64) for k in COUNT_IDS})
    frame["county_code"] = c["county_code"].to_numpy()
    frame["handling_days"] = np.where(m["closed"], (closed - rec).dt.days.fillna(0).to_numpy(), 0)
    grouped = frame.groupby("county_code").sum().reindex(county_codes, fill_value=0)
    out = grouped[list(COUNT_IDS)].copy()
    for mid in ALL_IDS:
        metric = METRICS_BY_ID[mid]
        if metric.kind is MetricKind.RATE:
            out[mid] = out[metric.numerator] / out[metric.denominator].replace(0, np.nan)
        elif metric.kind is MetricKind.AVERAGE:
            out[mid] = grouped["handling_days"] / out["closed"].replace(0, np.nan)
    return out.rename_axis("code").reset_index()


def _deadline(dates: pd.Series, cal) -> pd.Series:
    """15th working day after each date (NaT stays NaT)."""
    present = dates.notna().to_numpy()
    out = np.full(len(dates), np.datetime64("NaT"), dtype="datetime64[ns]")
    days = dates[present].to_numpy().astype("datetime64[D]")
    out[present] = cal.deadline_after(days).astype("datetime64[ns]")
    return pd.Series(out, index=dates.index)
