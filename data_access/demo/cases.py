"""Deterministic synthetic cases for the demo: vectorized numpy, any list of county codes.

The generator plants a realistic structure the dashboard can find: county volumes that differ
(with a few tiny counties), a Spring Festival dip and fewer reports on rest days, a mild growth
trend, a handful of "poor" counties that handle first reports badly AND draw many leapfrog
reports (plus a couple that fail only one of the two), open and overdue stock at end_date,
ratings, 结而不服, real-name notice dates around the 15-working-day deadlines, and repeat matters
(data_access/demo/matters.py: existing accusation cases linked by a matter_id, their levels escalating).
"""
from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from data_access.demo.matters import plant_matters
from data_access.reference.enums import DOMAINS, Category, Channel, Satisfaction
from data_access.reference.workdays import load_calendar

# --- volume -----------------------------------------------------------------------------
CASES_PER_YEAR_REFERENCE = 150_000  # all categories, a province of REFERENCE_COUNTIES units
REFERENCE_COUNTIES = 136
DEFAULT_YEARS = 2.5
DAYS_PER_YEAR = 365.25
GROWTH_PER_YEAR = 0.06  # mild upward trend in received volume
COUNTY_VOLUME_SIGMA = 0.6  # lognormal spread of county volumes
TINY_COUNTY_SHARE = 0.03  # share of counties that get only a handful of cases a year
TINY_CASES_PER_YEAR = (2.0, 6.0)
MIN_COUNTIES_FOR_ROLES = 5  # fewer counties than this: no tiny or poor counties are planted

# --- seasonality: relative daily intake --------------------------------------------------
WORKDAY_FACTOR = 1.0
WEEKEND_FACTOR = 0.35  # ordinary rest day
HOLIDAY_FACTOR = 0.30  # public holiday other than the Spring Festival
SPRING_FESTIVAL_FACTOR = 0.12
SPRING_FESTIVAL_MIN_RUN = 5  # a run of >= 5 rest days starting in Jan/Feb is the Spring Festival
SPRING_FESTIVAL_FALLBACK_DAYS = 7  # outside the official calendar: 7 days from the eve
# Lunar New Year's day for years the official calendar package may not cover.
LUNAR_NEW_YEAR = {
    2000: "02-05", 2001: "01-24", 2002: "02-12", 2003: "02-01",
    2027: "02-06", 2028: "01-26", 2029: "02-13", 2030: "02-03", 2031: "01-23",
    2032: "02-11", 2033: "01-31", 2034: "02-19", 2035: "02-08", 2036: "01-28",
    2037: "02-15", 2038: "02-04", 2039: "01-24", 2040: "02-12", 2041: "02-01",
    2042: "01-22", 2043: "02-10", 2044: "01-30", 2045: "02-17",
}

# --- case attributes ---------------------------------------------------------------------
CATEGORY_WEIGHTS = {Category.ACCUSATION: 0.72, Category.OUT_OF_SCOPE: 0.18, Category.NO_SUBSTANCE: 0.10}
CHANNELS = tuple(Channel)
CHANNEL_WEIGHTS_WORKDAY = {
    Channel.LETTER: 0.12, Channel.VISIT: 0.10, Channel.PHONE: 0.13, Channel.ONLINE: 0.45, Channel.QR: 0.20,
}
CHANNEL_WEIGHTS_RESTDAY = {
    Channel.LETTER: 0.03, Channel.VISIT: 0.01, Channel.PHONE: 0.10, Channel.ONLINE: 0.56, Channel.QR: 0.30,
}
REAL_NAME_BY_CHANNEL = {
    Channel.LETTER: 0.45, Channel.VISIT: 0.80, Channel.PHONE: 0.50, Channel.ONLINE: 0.30, Channel.QR: 0.35,
}
DOMAIN_WEIGHTS = {
    "乡村振兴": 0.20, "教育医疗": 0.14, "养老社保": 0.12, "其他": 0.12, "营商环境": 0.10,
    "招投标": 0.09, "生态环保": 0.08, "安全生产": 0.06, "食品药品": 0.05, "金融": 0.04,
}
DEFAULT_DOMAIN_WEIGHT = 0.05  # a domain added to enums.DOMAINS later
REPEAT_RATE = 0.08
FIRST_REPORT_RATE = 0.55  # overall; repeat reports are never first reports

# --- handling ----------------------------------------------------------------------------
DUE_DAYS = 60
EXTENDED_DUE_DAYS = 90
DUE_SHARES = (0.85, 0.10, 0.05)  # standard, extended, empty
MIN_HANDLING_DAYS = 7
HANDLING_BETA = (2.2, 1.6)  # on-time handling time as a fraction of the allowed span
LATE_OVERRUN_LOG_MEAN = np.log(15.0)  # days past due for late closures (lognormal)
LATE_OVERRUN_LOG_SIGMA = 1.0
POOR_OVERRUN_SCALE = 1.6
MAX_OVERRUN_DAYS = 1000
SNAP_FORWARD_SHARE = 0.5  # on-time closures on a rest day move to the next working day this often
STUCK_RATE = {"normal": 0.002, "poor": 0.015}  # never closed: long-overdue stock
NON_ACCUSATION_CLOSE_DAYS = 8  # out-of-scope / no-substance cases are disposed within a week or so

# --- per-county quality (role -> parameter draws) ----------------------------------------
POOR_COUNTY_SHARE = 0.05  # ~7 of 136
SINGLE_FAILURE_SHARE = 0.012  # quality-only and leapfrog-only counties: ~2 each of 136
NORMAL_ON_TIME = (0.935, 0.006)  # mean, sd
POOR_ON_TIME = (0.72, 0.80)  # uniform range
NORMAL_FIRST_PENALTY = (0.0, 0.01)
POOR_FIRST_PENALTY = (0.10, 0.16)
NORMAL_LEAPFROG = (0.09, 0.004)  # mean, sd
HIGH_LEAPFROG = (0.25, 0.35)  # uniform range

# --- ratings and notices -----------------------------------------------------------------
RATED_RATE = {True: 0.85, False: 0.60}  # by is_real_name: ~70% of closed accusation cases
SATISFACTION_LEVELS = (Satisfaction.SATISFIED, Satisfaction.BASIC, Satisfaction.DISSATISFIED)
SATISFACTION_WEIGHTS = {"normal": (0.72, 0.21, 0.07), "poor": (0.52, 0.28, 0.20)}
LATE_DISSATISFIED_BONUS = 0.08
DISPUTED_RATE = {"normal": 0.015, "poor": 0.05, "dissatisfied": 0.22}
NOTICE_ON_TIME_RATE = {"normal": 0.87, "poor": 0.70}
NOTICE_WORKDAYS = 15
NOTICE_BETA = (1.5, 2.5)  # on-time notices lean early within the 15 working days
NOTICE_MAX_LATE_WORKDAYS = 5

ROLE_NORMAL, ROLE_POOR, ROLE_QUALITY, ROLE_LEAPFROG, ROLE_TINY = (
    "normal", "poor", "quality_only", "leapfrog_only", "tiny",
)
POOR_QUALITY_ROLES = (ROLE_POOR, ROLE_QUALITY)
HIGH_LEAPFROG_ROLES = (ROLE_POOR, ROLE_LEAPFROG)

# Independent random streams, so one part's draws never shift another's.
STREAM_PROFILE, STREAM_INTAKE, STREAM_ATTRS, STREAM_HANDLING, STREAM_RATING, STREAM_NOTICE, STREAM_MATTERS = range(7)

Progress = Callable[[float], None] | None


def default_case_count(n_counties: int, years: float = DEFAULT_YEARS) -> int:
    """A realistic case count: ~150,000 a year per 136 counties, scaled to n_counties and years."""
    return int(round(CASES_PER_YEAR_REFERENCE * n_counties / REFERENCE_COUNTIES * years))


def _rng(seed: int, stream: int) -> np.random.Generator:
    """An independent generator for one part of the data."""
    return np.random.default_rng([seed, stream])


def _role_counts(n_counties: int) -> dict[str, int]:
    """How many counties get each planted role (none for very small lists)."""
    if n_counties < MIN_COUNTIES_FOR_ROLES:
        return {ROLE_TINY: 0, ROLE_POOR: 0, ROLE_QUALITY: 0, ROLE_LEAPFROG: 0}
    single = max(1, round(n_counties * SINGLE_FAILURE_SHARE))
    return {
        ROLE_TINY: max(1, round(n_counties * TINY_COUNTY_SHARE)),
        ROLE_POOR: max(1, round(n_counties * POOR_COUNTY_SHARE)),
        ROLE_QUALITY: single,
        ROLE_LEAPFROG: single,
    }


def _assign_roles(rng: np.random.Generator, n_counties: int) -> np.ndarray:
    """A role per county, placed at random."""
    roles = np.full(n_counties, ROLE_NORMAL, dtype=object)
    order = rng.permutation(n_counties)
    start = 0
    for role, count in _role_counts(n_counties).items():
        roles[order[start:start + count]] = role
        start += count
    return roles


def county_profiles(counties: pd.DataFrame, seed: int) -> pd.DataFrame:
    """Per-county volume weight, role and handling parameters the generator uses (sorted by code)."""
    if "code" not in counties.columns or counties.empty:
        raise ValueError("counties must be a non-empty DataFrame with a 'code' column")
    codes = np.sort(counties["code"].astype(str).unique())
    n = len(codes)
    rng = _rng(seed, STREAM_PROFILE)
    roles = _assign_roles(rng, n)
    poor_q = np.isin(roles, POOR_QUALITY_ROLES)
    high_l = np.isin(roles, HIGH_LEAPFROG_ROLES)
    volume = rng.lognormal(0.0, COUNTY_VOLUME_SIGMA, n)
    # Poor counties are big enough for the funnel test to see them.
    volume[poor_q | high_l] = np.maximum(volume[poor_q | high_l], 1.0)
    on_time = np.where(poor_q, rng.uniform(*POOR_ON_TIME, n), rng.normal(*NORMAL_ON_TIME, n))
    penalty = np.where(poor_q, rng.uniform(*POOR_FIRST_PENALTY, n), rng.uniform(*NORMAL_FIRST_PENALTY, n))
    leapfrog = np.where(high_l, rng.uniform(*HIGH_LEAPFROG, n), rng.normal(*NORMAL_LEAPFROG, n))
    tiny_per_year = np.where(roles == ROLE_TINY, rng.uniform(*TINY_CASES_PER_YEAR, n), np.nan)
    return pd.DataFrame(
        {
            "code": codes,
            "role": roles.astype(str),
            "volume": volume,
            "tiny_cases_per_year": tiny_per_year,
            "on_time_rate": np.clip(on_time, 0.0, 1.0),
            "first_penalty": penalty,
            "leapfrog_rate": np.clip(leapfrog, 0.0, 1.0),
            "poor_quality": poor_q,
        }
    )


def _county_shares(profiles: pd.DataFrame, n_cases: int, years: float) -> np.ndarray:
    """Probability of each county: lognormal volumes, tiny counties at a handful of cases a year."""
    tiny = profiles["role"].to_numpy() == ROLE_TINY
    shares = profiles["volume"].to_numpy(dtype=float).copy()
    shares[tiny] = 0.0
    shares /= shares.sum()
    if tiny.any() and n_cases > 0:
        tiny_share = profiles["tiny_cases_per_year"].to_numpy()[tiny] * years / n_cases
        tiny_share = np.minimum(tiny_share, 0.5 / len(shares))  # never bigger than half an average county
        shares *= 1.0 - tiny_share.sum()
        shares[tiny] = tiny_share
    return np.asarray(shares / shares.sum())


@dataclass(frozen=True)
class _Workdays:
    """Calendar-index helpers: positions of working days and running working-day counts."""

    days: np.ndarray
    is_workday: np.ndarray
    official: np.ndarray
    workday_pos: np.ndarray
    seq: np.ndarray

    def nth_after(self, idx: np.ndarray, n: np.ndarray | int) -> np.ndarray:
        """Index of the n-th working day strictly after each index (n >= 1)."""
        target = np.minimum(self.seq[idx] + n - 1, len(self.workday_pos) - 1)
        return np.asarray(self.workday_pos[target])

    def snap_forward(self, idx: np.ndarray) -> np.ndarray:
        """Index of the first working day on or after each index."""
        pos = np.minimum(np.searchsorted(self.workday_pos, idx, "left"), len(self.workday_pos) - 1)
        return self.workday_pos[pos]

    def snap_back(self, idx: np.ndarray) -> np.ndarray:
        """Index of the last working day on or before each index."""
        return self.workday_pos[np.maximum(np.searchsorted(self.workday_pos, idx, "right") - 1, 0)]


@lru_cache(maxsize=1)
def _workdays() -> _Workdays:
    """The official calendar with working-day lookups (cached)."""
    cal = load_calendar()
    pos = np.flatnonzero(cal.is_workday)
    return _Workdays(cal.days, cal.is_workday, cal.official, pos, np.cumsum(cal.is_workday))


def _spring_festival_mask(wd: _Workdays, span: slice) -> np.ndarray:
    """Spring Festival days in the span: official Jan/Feb holiday runs, else 7 days from the eve."""
    rest = ~wd.is_workday[span]
    edges = np.diff(np.concatenate(([0], rest.astype(np.int8), [0])))
    starts, ends = np.flatnonzero(edges == 1), np.flatnonzero(edges == -1)
    days = wd.days[span]
    month = days.astype("datetime64[M]").astype(np.int64) % 12 + 1
    festival = (ends - starts >= SPRING_FESTIVAL_MIN_RUN) & (month[starts] <= 2)
    mask = np.zeros(len(days), dtype=bool)
    run_id = np.cumsum(edges[:-1] == 1) - 1  # run each rest day belongs to
    mask[rest] = festival[run_id[rest]]
    eves = np.array([f"{y}-{md}" for y, md in LUNAR_NEW_YEAR.items()], dtype="datetime64[D]") - 1
    offset = (days[:, None] - eves[None, :]).astype(np.int64)
    fallback = ((offset >= 0) & (offset < SPRING_FESTIVAL_FALLBACK_DAYS)).any(axis=1)
    return np.asarray(mask | (fallback & ~wd.official[span]))


def _day_weights(wd: _Workdays, span: slice) -> np.ndarray:
    """Relative intake per day: rest days, holidays, the Spring Festival and a growth trend."""
    days = wd.days[span]
    weekday = (days.view(np.int64) - 4) % 7  # 0 = Monday
    workday = wd.is_workday[span]
    factor = np.where(workday, WORKDAY_FACTOR, np.where(weekday >= 5, WEEKEND_FACTOR, HOLIDAY_FACTOR))
    factor[_spring_festival_mask(wd, span)] = SPRING_FESTIVAL_FACTOR
    t_years = np.arange(len(days)) / DAYS_PER_YEAR
    weights = factor * np.exp(GROWTH_PER_YEAR * t_years)
    return np.asarray(weights / weights.sum())


def _pick(rng: np.random.Generator, weights: Mapping[Any, float], n: int) -> np.ndarray:
    """Indices into the dict's keys, drawn with its (normalised) weights."""
    p = np.fromiter(weights.values(), float)
    return rng.choice(len(p), size=n, p=p / p.sum()).astype(np.int8)


def _intake(
    rng: np.random.Generator, wd: _Workdays, shares: np.ndarray, n: int, span: slice
) -> tuple[np.ndarray, np.ndarray]:
    """Received-date calendar indices (sorted) and county indices."""
    per_day = rng.multinomial(n, _day_weights(wd, span))
    received = np.repeat(np.arange(span.start, span.stop), per_day)
    county = rng.choice(len(shares), size=n, p=shares).astype(np.int32)
    return received, county


def _attributes(rng: np.random.Generator, wd: _Workdays, received: np.ndarray, leap_rate: np.ndarray) -> dict[str, np.ndarray]:
    """Channel, category, domain and the boolean flags of each case."""
    n = len(received)
    workday = wd.is_workday[received]
    channel = np.where(
        workday, _pick(rng, CHANNEL_WEIGHTS_WORKDAY, n), _pick(rng, CHANNEL_WEIGHTS_RESTDAY, n)
    )
    real_p = np.fromiter((REAL_NAME_BY_CHANNEL[c] for c in CHANNELS), float)[channel]
    domain_w = {d: DOMAIN_WEIGHTS.get(d, DEFAULT_DOMAIN_WEIGHT) for d in DOMAINS}
    repeat = rng.random(n) < REPEAT_RATE
    return {
        "channel": channel,
        "category": _pick(rng, CATEGORY_WEIGHTS, n),
        "domain": _pick(rng, domain_w, n),
        "is_repeat": repeat,
        "is_first_report": ~repeat & (rng.random(n) < FIRST_REPORT_RATE / (1 - REPEAT_RATE)),
        "is_leapfrog": rng.random(n) < leap_rate,
        "is_real_name": rng.random(n) < real_p,
    }


def _due(rng: np.random.Generator, received: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Allowed handling span in days (60 or 90) and whether due_date is left empty."""
    kind = rng.choice(3, size=len(received), p=DUE_SHARES)
    span = np.where(kind == 1, EXTENDED_DUE_DAYS, DUE_DAYS)
    return span, kind == 2


def _handling(rng: np.random.Generator, wd: _Workdays, received: np.ndarray, span_days: np.ndarray,
              p_on_time: np.ndarray, poor: np.ndarray, accusation: np.ndarray) -> np.ndarray:
    """Uncensored closed-date calendar index per case (-1 = never closed)."""
    n = len(received)
    due = received + span_days
    frac = rng.beta(*HANDLING_BETA, n)
    on_time_idx = received + MIN_HANDLING_DAYS + np.floor(frac * (span_days - MIN_HANDLING_DAYS)).astype(np.int64)
    on_time_idx = _snap_within(rng, wd, on_time_idx, received, due)
    overrun = rng.lognormal(LATE_OVERRUN_LOG_MEAN, LATE_OVERRUN_LOG_SIGMA, n) * np.where(poor, POOR_OVERRUN_SCALE, 1.0)
    late_idx = wd.snap_forward(due + np.ceil(np.minimum(overrun, MAX_OVERRUN_DAYS)).astype(np.int64))
    closed = np.where(rng.random(n) < p_on_time, on_time_idx, late_idx)
    stuck = rng.random(n) < np.where(poor, STUCK_RATE["poor"], STUCK_RATE["normal"])
    closed[stuck] = -1
    quick = received + rng.integers(0, NON_ACCUSATION_CLOSE_DAYS, n)
    return np.where(accusation, closed, quick)


def _snap_within(rng: np.random.Generator, wd: _Workdays, idx: np.ndarray, lo: np.ndarray,
                 hi: np.ndarray) -> np.ndarray:
    """Move each index to a working day within [lo, hi]: randomly back or forward, else unchanged."""
    back, forward = wd.snap_back(idx), wd.snap_forward(idx)
    use_forward = (forward <= hi) & ((rng.random(len(idx)) < SNAP_FORWARD_SHARE) | (back < lo))
    return np.where(use_forward, forward, np.where(back >= lo, back, idx))


def _ratings(rng: np.random.Generator, closed_acc: np.ndarray, real_name: np.ndarray, poor: np.ndarray,
             late: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Satisfaction level index (-1 = not rated) and disputed flag for each case."""
    n = len(closed_acc)
    rated = closed_acc & (rng.random(n) < np.where(real_name, RATED_RATE[True], RATED_RATE[False]))
    weights = np.where(poor[:, None], SATISFACTION_WEIGHTS["poor"], SATISFACTION_WEIGHTS["normal"])
    weights[:, 2] += np.where(late, LATE_DISSATISFIED_BONUS, 0.0)
    cum = np.cumsum(weights / weights.sum(axis=1, keepdims=True), axis=1)
    level = (rng.random(n)[:, None] > cum[:, :-1]).sum(axis=1)
    level = np.where(rated, level, -1)
    dissatisfied = level == 2
    p_disputed = np.where(dissatisfied, DISPUTED_RATE["dissatisfied"],
                          np.where(poor, DISPUTED_RATE["poor"], DISPUTED_RATE["normal"]))
    return level, closed_acc & (rng.random(n) < p_disputed)


def _notice(rng: np.random.Generator, wd: _Workdays, base: np.ndarray, poor: np.ndarray) -> np.ndarray:
    """A working day around the 15th working day after each base index (mostly on or before it)."""
    n = len(base)
    deadline = _index_of(load_calendar().deadline_after(wd.days[base]))
    on_time_rate = np.where(poor, NOTICE_ON_TIME_RATE["poor"], NOTICE_ON_TIME_RATE["normal"])
    early_k = 1 + np.floor(rng.beta(*NOTICE_BETA, n) * NOTICE_WORKDAYS).astype(np.int64)
    late_k = rng.integers(1, NOTICE_MAX_LATE_WORKDAYS + 1, n)
    on_time = rng.random(n) < on_time_rate
    return np.where(on_time, wd.nth_after(base, np.minimum(early_k, NOTICE_WORKDAYS)), wd.nth_after(deadline, late_k))


def _index_of(dates: np.ndarray) -> np.ndarray:
    """Calendar positions of the dates (raises outside the calendar)."""
    return load_calendar().index_of(dates)


def _date_array(wd: _Workdays, idx: np.ndarray, valid: np.ndarray) -> pa.Array:
    """date32 column from calendar indices, null where not valid."""
    dates = wd.days[0] + np.where(valid, idx, 0)  # may run past the calendar's last day
    return pa.array(dates, type=pa.date32(), mask=~valid)


def _labels(values: tuple[str, ...], idx: np.ndarray, valid: np.ndarray | None = None) -> pa.Array:
    """String column from a small label list and int indices (null where not valid)."""
    labels = pa.array([getattr(v, "value", v) for v in values], type=pa.string())
    indices = pa.array(idx.astype(np.int32), mask=None if valid is None else ~valid)
    return labels.take(indices)


def _case_ids(prefix: str, n: int) -> pa.Array:
    """f"{prefix}-{i:08d}" for i in 0..n-1, built by Arrow kernels."""
    digits = pc.utf8_lpad(pc.cast(pa.array(np.arange(n, dtype=np.int64)), pa.string()), 8, "0")
    return pc.binary_join_element_wise(prefix, digits, "-")


CASE_SCHEMA = pa.schema(
    [
        ("case_id", pa.string()), ("county_code", pa.string()), ("received_date", pa.date32()),
        ("channel", pa.string()), ("category", pa.string()), ("domain", pa.string()),
        ("is_first_report", pa.bool_()), ("is_leapfrog", pa.bool_()), ("is_repeat", pa.bool_()),
        ("is_real_name", pa.bool_()), ("due_date", pa.date32()), ("closed_date", pa.date32()),
        ("satisfaction", pa.string()), ("disputed", pa.bool_()),
        ("accepted_notice_date", pa.date32()), ("result_notice_date", pa.date32()),
    ]
)


def _span(end_date: dt.date, years: float) -> tuple[slice, int]:
    """Calendar-index window of `years` years ending on end_date, and end_date's index."""
    if years <= 0:
        raise ValueError("years must be positive")
    end_idx = int(_index_of(np.array([end_date], dtype="datetime64[D]"))[0])
    start_idx = end_idx - max(1, int(round(years * DAYS_PER_YEAR))) + 1
    if start_idx < 0:
        raise ValueError("the requested window starts before the working-day calendar")
    return slice(start_idx, end_idx + 1), end_idx


def generate_cases(
    counties: pd.DataFrame,
    n_cases: int,
    seed: int,
    end_date: dt.date,
    years: float = DEFAULT_YEARS,
    id_prefix: str = "DEMO",
    progress: Progress = None,
) -> pa.Table:
    """Synthetic cases over `years` years ending on end_date, as a table in the cases contract."""
    report = progress or (lambda _fraction: None)
    if n_cases < 0:
        raise ValueError("n_cases must be >= 0")
    wd = _workdays()
    span, end_idx = _span(end_date, years)
    prof = county_profiles(counties, seed)
    report(0.05)
    arrays = _simulate_intake(seed, wd, prof, n_cases, years, span)
    report(0.3)
    arrays |= _simulate_handling(seed, wd, prof, arrays, end_idx)
    report(0.55)
    arrays |= _simulate_follow_up(seed, wd, arrays, end_idx)
    report(0.75)
    table = plant_matters(_build_table(wd, prof, arrays, id_prefix), _rng(seed, STREAM_MATTERS), end_date, id_prefix)
    report(1.0)
    return table


def _simulate_intake(seed: int, wd: _Workdays, prof: pd.DataFrame, n_cases: int, years: float,
                     span: slice) -> dict[str, np.ndarray]:
    """Received date, county and the attributes known on receipt."""
    shares = _county_shares(prof, n_cases, years)
    received, county = _intake(_rng(seed, STREAM_INTAKE), wd, shares, n_cases, span)
    attrs = _attributes(_rng(seed, STREAM_ATTRS), wd, received, prof["leapfrog_rate"].to_numpy()[county])
    accusation = attrs["category"] == list(CATEGORY_WEIGHTS).index(Category.ACCUSATION)
    poor = prof["poor_quality"].to_numpy()[county]
    return {"received": received, "county": county, "accusation": accusation, "poor": poor, **attrs}


def _simulate_handling(seed: int, wd: _Workdays, prof: pd.DataFrame, a: dict[str, np.ndarray],
                       end_idx: int) -> dict[str, np.ndarray]:
    """Due span, closure (censored at end_date) and lateness."""
    rng = _rng(seed, STREAM_HANDLING)
    span_days, due_empty = _due(rng, a["received"])
    penalty = np.where(a["is_first_report"], prof["first_penalty"].to_numpy()[a["county"]], 0.0)
    p_on_time = prof["on_time_rate"].to_numpy()[a["county"]] - penalty
    closed = _handling(rng, wd, a["received"], span_days, p_on_time, a["poor"], a["accusation"])
    return {
        "due": a["received"] + span_days,
        "due_empty": due_empty,
        "closed": closed,
        "is_closed": (closed >= 0) & (closed <= end_idx),
        "late": closed > a["received"] + span_days,
    }


def _simulate_follow_up(seed: int, wd: _Workdays, a: dict[str, np.ndarray], end_idx: int) -> dict[str, np.ndarray]:
    """Rating, dispute and the real-name notice dates (null when after end_date)."""
    level, disputed = _ratings(
        _rng(seed, STREAM_RATING), a["is_closed"] & a["accusation"], a["is_real_name"], a["poor"], a["late"]
    )
    rng = _rng(seed, STREAM_NOTICE)
    notified = a["is_real_name"] & a["accusation"]
    accepted = _notice(rng, wd, a["received"], a["poor"])
    result = _notice(rng, wd, np.where(a["is_closed"], a["closed"], a["received"]), a["poor"])
    return {
        "level": level,
        "disputed": disputed,
        "accepted_notice": accepted,
        "accepted_notice_valid": notified & (accepted <= end_idx),
        "result_notice": result,
        "result_notice_valid": notified & a["is_closed"] & (result <= end_idx),
    }


def _build_table(wd: _Workdays, prof: pd.DataFrame, a: dict[str, np.ndarray], id_prefix: str) -> pa.Table:
    """Assemble the Arrow table in the contract's column order and types."""
    n = len(a["received"])
    codes = pa.array(prof["code"].to_numpy(), type=pa.string())
    columns = {
        "case_id": _case_ids(id_prefix, n),
        "county_code": codes.take(pa.array(a["county"])),
        "received_date": _date_array(wd, a["received"], np.ones(n, dtype=bool)),
        "channel": _labels(CHANNELS, a["channel"]),
        "category": _labels(tuple(CATEGORY_WEIGHTS), a["category"]),
        "domain": _labels(DOMAINS, a["domain"]),
        "is_first_report": pa.array(a["is_first_report"]),
        "is_leapfrog": pa.array(a["is_leapfrog"]),
        "is_repeat": pa.array(a["is_repeat"]),
        "is_real_name": pa.array(a["is_real_name"]),
        "due_date": _date_array(wd, a["due"], ~a["due_empty"]),
        "closed_date": _date_array(wd, a["closed"], a["is_closed"]),
        "satisfaction": _labels(SATISFACTION_LEVELS, a["level"], a["level"] >= 0),
        "disputed": pa.array(a["disputed"]),
        "accepted_notice_date": _date_array(wd, a["accepted_notice"], a["accepted_notice_valid"]),
        "result_notice_date": _date_array(wd, a["result_notice"], a["result_notice_valid"]),
    }
    return pa.Table.from_pydict(columns, schema=CASE_SCHEMA)
