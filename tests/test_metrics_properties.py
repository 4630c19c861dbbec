"""Properties of the metrics on random small case sets (hypothesis on DuckDB; one seeded set on every backend).

Each generated set is written as CSV and loaded through the importer. The checks: counts equal an
independent pure-Python reading of metrics.md; province = Σ cities = Σ counties for every count;
rates lie in [0, 1] and are null exactly when their denominator is 0; a case closed after A reads
as open at A (the table is unchanged when every date after A is erased); moving A forward never
lowers `closed` (nor the other counts that only accumulate) for a fixed period. Case dates and
deadlines are drawn mostly on, or a day beside, the period's bounds, so that every boundary is hit.
"""
from __future__ import annotations

import csv
import datetime as dt
import io
import math
import random
from collections.abc import Callable
from functools import cache

import chinese_calendar
import pandas as pd
import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from data_access.identity.scope import WHOLE_PROVINCE
from data_access.imports.importer import import_bytes
from data_access.reference.enums import Level
from data_access.store.database import init_database
from data_access.store.engine import make_engine
from data_access.store.schema import CASE_COLUMNS
from metrics.caselists import OverdueOrder, overdue_cases
from metrics.registry import ALL_IDS, COUNT_IDS, METRICS, MetricKind
from metrics.request import Period, TableRequest
from metrics.table import region_table

COUNTIES = {"370102": "370100", "370103": "370100", "370202": "370200", "370203": "370200"}
PROVINCE = "370000"
BASE = dt.date(2024, 1, 1)
DEFAULT_DUE_DAYS = 60
CATEGORIES = ("accusation", "accusation", "accusation", "out_of_scope", "no_substance")
CHANNELS = ("letter", "visit", "phone", "online", "qr")
DOMAINS = ("教育医疗", "生态环保", "其他")
SATISFACTIONS = (None, "satisfied", "basic", "dissatisfied")
RATES = [m for m in METRICS if m.kind is MetricKind.RATE]
AVERAGES = [m for m in METRICS if m.kind is MetricKind.AVERAGE]
# counts that can only grow when A moves forward over a fixed period
ACCUMULATING = ("received", "accepted", "due", "on_time", "first_due", "first_on_time", "closed", "rated", "satisfied",
                "disputed", "leapfrog", "repeat", "notice_due", "notice_on_time", "feedback_due", "feedback_on_time")
# Shrinking re-runs the database queries hundreds of times (minutes); a failure prints the unshrunk example.
PROPERTY_SETTINGS = settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow],
                             phases=[Phase.explicit, Phase.reuse, Phase.generate])

Case = dict[str, object]


# ------------------------------------------------------------------------------------------ data

def _after(base: dt.date, days: int | None) -> dt.date | None:
    return None if days is None else base + dt.timedelta(days=days)


def period_bounds(p: Period) -> list[dt.date]:
    """The dates at which a metric's window opens or closes."""
    return sorted({p.start, p.end, p.as_of_date, p.window_end})


@cache
def days_with_deadline(target: dt.date) -> tuple[dt.date, ...]:
    """The days whose 15th working day after is `target` (none when `target` is not a working day)."""
    candidates = (target - dt.timedelta(days=k) for k in range(15, 45))
    return tuple(sorted(d for d in candidates if deadline_15(d) == target))


class AsOf:
    """Where A lies against the period: each regime of metrics.md's W = [from, min(to, A)]."""

    DEFAULT = "default"  # A = to
    LONG_BEFORE = "long_before"  # A < from, possibly by months (W empty; overdue still the stock at A)
    JUST_BEFORE = "just_before"  # A < from by a few days
    INSIDE = "inside"  # from <= A < to
    AFTER = "after"  # A > to
    ALL = (DEFAULT, LONG_BEFORE, JUST_BEFORE, INSIDE, AFTER)


def as_of_in(regime: str, start: dt.date, end: dt.date, offset: int) -> dt.date | None:
    """The as-of date of a regime; `offset` (>= 0) picks one of its dates."""
    match regime:
        case AsOf.DEFAULT:
            return None
        case AsOf.LONG_BEFORE:
            return start - dt.timedelta(days=41 + offset % 200)
        case AsOf.JUST_BEFORE:
            return start - dt.timedelta(days=1 + offset % 40)
        case AsOf.INSIDE:
            return start + dt.timedelta(days=offset % max((end - start).days, 1))
        case AsOf.AFTER:
            return end + dt.timedelta(days=1 + offset % 120)
    raise AssertionError(regime)


@st.composite
def period_strategy(draw: st.DrawFn) -> Period:
    """A period within 2024, read as of its end (the default), months or days before its start,
    inside it, or after it."""
    start = BASE + dt.timedelta(days=draw(st.integers(0, 240)))
    end = start + dt.timedelta(days=draw(st.integers(0, 100)))
    as_of = as_of_in(draw(st.sampled_from(AsOf.ALL)), start, end, draw(st.integers(0, 1000)))
    return Period(start, end, as_of)


@st.composite
def case_strategy(draw: st.DrawFn, period: Period) -> Case:
    """One valid case whose dates (or deadlines) often fall on, or a day beside, a bound of the period."""
    bounds = period_bounds(period)

    def near_bound() -> dt.date:
        # on the bound itself twice as often as on either side of it
        return draw(st.sampled_from(bounds)) + dt.timedelta(days=draw(st.sampled_from((0, 0, -1, 1))))

    def some_day(after: dt.date | None = None, deadline_near_bound: bool = False) -> dt.date:
        """A day on or after `after`: next to a bound, with its 15-working-day deadline next to one, or anywhere."""
        kinds = ("bound", "bound", "deadline", "deadline", "free") if deadline_near_bound else ("bound", "bound", "free")
        how = draw(st.sampled_from(kinds))
        day = None
        if how == "deadline":
            options = [d for d in days_with_deadline(near_bound()) if after is None or d >= after]
            day = draw(st.sampled_from(options)) if options else None
        elif how == "bound":
            day = near_bound()
        if day is None or (after is not None and day < after):
            day = (after or BASE - dt.timedelta(days=90)) + dt.timedelta(days=draw(st.integers(0, 150)))
        return day

    def maybe(make: Callable[[], dt.date]) -> dt.date | None:
        return make() if draw(st.booleans()) else None

    received = some_day(deadline_near_bound=True)
    closed = maybe(lambda: some_day(after=received, deadline_near_bound=True))
    d1, d2 = deadline_15(received), deadline_15(closed) if closed else None
    beside = lambda day: day + dt.timedelta(days=draw(st.integers(-1, 1)))  # noqa: E731
    notice = maybe(lambda: max(received, beside(d1)) if draw(st.booleans()) else some_day(after=received))
    result = maybe(lambda: max(closed, beside(d2)) if draw(st.booleans()) else some_day(after=closed)) if closed else None
    return {
        "county_code": draw(st.sampled_from(sorted(COUNTIES))),
        "received_date": received,
        "channel": draw(st.sampled_from(CHANNELS)),
        "category": draw(st.sampled_from(CATEGORIES)),
        "domain": draw(st.sampled_from(DOMAINS)),
        "is_first_report": draw(st.booleans()),
        "is_leapfrog": draw(st.booleans()),
        "is_repeat": draw(st.booleans()),
        "is_real_name": draw(st.booleans()),
        "due_date": maybe(lambda: some_day(after=received)),
        "closed_date": closed,
        "satisfaction": draw(st.sampled_from(SATISFACTIONS)) if closed else None,
        "disputed": draw(st.booleans()) if closed else False,
        "accepted_notice_date": notice,
        "result_notice_date": result,
    }


@st.composite
def scenario(draw: st.DrawFn) -> tuple[list[Case], Period]:
    """A period, and a few dozen cases drawn around its bounds."""
    period = draw(period_strategy())
    return draw(st.lists(case_strategy(period), min_size=5, max_size=30)), period


def anchor_dates(cases: list[Case]) -> list[dt.date]:
    """Dates on which a rule changes for some case: receipt, due date, closure and the two deadlines."""
    out = set()
    for c in cases:
        received, closed = c["received_date"], c["closed_date"]
        out |= {received, c["due_date"] or received + dt.timedelta(days=DEFAULT_DUE_DAYS), deadline_15(received)}
        if closed is not None:
            out |= {closed, deadline_15(closed)}
    return sorted(out)


def random_cases(seed: int, n: int) -> list[Case]:
    """A fixed pseudo-random case set received in H1 2024."""
    rng = random.Random(seed)
    maybe = lambda lo, hi: None if rng.random() < 0.3 else rng.randint(lo, hi)  # noqa: E731
    out = []
    for _ in range(n):
        received = BASE + dt.timedelta(days=rng.randint(0, 180))
        closed = _after(received, maybe(0, 120))
        out.append({
            "county_code": rng.choice(sorted(COUNTIES)), "received_date": received, "channel": rng.choice(CHANNELS),
            "category": rng.choice(CATEGORIES), "domain": rng.choice(DOMAINS),
            "is_first_report": rng.random() < 0.5, "is_leapfrog": rng.random() < 0.3,
            "is_repeat": rng.random() < 0.2, "is_real_name": rng.random() < 0.5,
            "due_date": _after(received, maybe(0, 90)), "closed_date": closed,
            "satisfaction": rng.choice(SATISFACTIONS) if closed else None,
            "disputed": rng.random() < 0.2 if closed else False,
            "accepted_notice_date": _after(received, maybe(0, 40)),
            "result_notice_date": _after(closed, maybe(0, 40)) if closed else None,
        })
    return out


def csv_bytes(cases: list[Case]) -> bytes:
    """The cases as an importable CSV file (case ids assigned in order)."""
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(CASE_COLUMNS)
    for i, case in enumerate(cases):
        row = {"case_id": f"P{i:05d}", **case}
        writer.writerow([_cell(row.get(c)) for c in CASE_COLUMNS])  # the later optional columns empty
    return buf.getvalue().encode("utf-8")


def _cell(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)


def load(engine: sa.Engine, cases: list[Case]) -> None:
    import_bytes(engine, csv_bytes(cases), "x.csv", mode="replace")


def as_it_stood(cases: list[Case], as_of: dt.date) -> list[Case]:
    """The cases as recorded at the end of day `as_of`: closures and notices after it not yet happened."""
    out = []
    for case in cases:
        c = dict(case)
        if c["closed_date"] is not None and c["closed_date"] > as_of:
            c.update(closed_date=None, satisfaction=None, disputed=False, result_notice_date=None)
        if c["accepted_notice_date"] is not None and c["accepted_notice_date"] > as_of:
            c["accepted_notice_date"] = None
        if c["result_notice_date"] is not None and c["result_notice_date"] > as_of:
            c["result_notice_date"] = None
        out.append(c)
    return out


# ------------------------------------------------------------------------------------------ oracle

@cache
def deadline_15(day: dt.date) -> dt.date:
    """The 15th official working day strictly after `day`, straight from chinese_calendar."""
    count = 0
    while count < 15:
        day += dt.timedelta(days=1)
        count += chinese_calendar.is_workday(day)
    return day


def oracle_counts(cases: list[Case], p: Period) -> dict[str, int]:
    """Every count metric of metrics.md over the given cases, computed case by case.
    W = [from, min(to, A)]; a case received after A did not exist at A and counts nowhere."""
    a, window_end = p.as_of_date, min(p.end, p.as_of_date)
    n = dict.fromkeys(COUNT_IDS, 0)
    in_p = lambda d: d is not None and p.start <= d <= p.end  # noqa: E731
    in_window = lambda d: d is not None and p.start <= d <= window_end  # noqa: E731
    for c in cases:
        rec, closed = c["received_date"], c["closed_date"]
        if rec > a:
            continue
        n["received"] += in_window(rec)
        if c["category"] != "accusation":
            continue
        due = c["due_date"] or rec + dt.timedelta(days=DEFAULT_DUE_DAYS)
        closed_at_a = closed is not None and closed <= a
        first = c["is_first_report"]
        if in_window(rec):
            n["accepted"] += 1
            n["leapfrog"] += c["is_leapfrog"]
            n["repeat"] += c["is_repeat"]
        if in_window(due):
            on_time = closed_at_a and closed <= due
            n["due"] += 1
            n["first_due"] += first
            n["on_time"] += on_time
            n["first_on_time"] += on_time and first
        if due < a and not closed_at_a:
            n["overdue"] += 1
            n["first_overdue"] += first
        if closed_at_a and in_p(closed):
            n["closed"] += 1
            n["rated"] += c["satisfaction"] is not None
            n["satisfied"] += c["satisfaction"] in ("satisfied", "basic")
            n["disputed"] += c["disputed"]
        if c["is_real_name"] and in_window(deadline_15(rec)):
            n["notice_due"] += 1
            notice = c["accepted_notice_date"]
            n["notice_on_time"] += notice is not None and notice <= deadline_15(rec)
        if c["is_real_name"] and closed_at_a and in_window(deadline_15(closed)):
            n["feedback_due"] += 1
            result = c["result_notice_date"]
            n["feedback_on_time"] += result is not None and result <= deadline_15(closed)
    return n


def oracle_avg_handling_days(cases: list[Case], p: Period) -> float | None:
    days = [(c["closed_date"] - c["received_date"]).days for c in cases
            if c["category"] == "accusation" and c["closed_date"] is not None
            and p.start <= c["closed_date"] <= min(p.end, p.as_of_date)]
    return sum(days) / len(days) if days else None


# ------------------------------------------------------------------------------------------ checks

def tables(engine: sa.Engine, period: Period) -> dict[Level, pd.DataFrame]:
    return {lv: region_table(engine, TableRequest(lv, period, scope=WHOLE_PROVINCE)).set_index("code") for lv in Level}


def check_against_oracle(engine: sa.Engine, cases: list[Case], period: Period) -> dict[Level, pd.DataFrame]:
    """County rows equal the oracle; regions without cases are all zero; province and cities add up."""
    t = tables(engine, period)
    county = t[Level.COUNTY]
    for code in county.index:
        mine = [c for c in cases if c["county_code"] == code]
        want = oracle_counts(mine, period)
        got = {mid: int(county.at[code, mid]) for mid in COUNT_IDS}
        assert got == want, f"county {code}, {period}: {_diff(want, got)}"
        avg = oracle_avg_handling_days(mine, period)
        got_avg = county.at[code, "avg_handling_days"]
        assert (math.isnan(got_avg) if avg is None else abs(got_avg - avg) <= 1e-9), (code, avg, got_avg)
    assert oracle_counts(cases, period) == {mid: int(t[Level.PROVINCE].at[PROVINCE, mid]) for mid in COUNT_IDS}
    check_sums(t)
    for frame in t.values():
        check_rates(frame)
    return t


def _diff(want: dict, got: dict) -> str:
    return ", ".join(f"{k}: expected {want[k]} got {got[k]}" for k in want if want[k] != got[k])


def check_sums(t: dict[Level, pd.DataFrame]) -> None:
    """For every count: province = Σ cities = Σ counties, and each city = Σ its counties."""
    province, cities, counties = t[Level.PROVINCE], t[Level.CITY], t[Level.COUNTY]
    assert list(province.index) == [PROVINCE]
    for mid in COUNT_IDS:
        total = province.at[PROVINCE, mid]
        assert cities[mid].sum() == total, mid
        assert counties[mid].sum() == total, mid
        by_city = counties.groupby("parent_code")[mid].sum()
        for city, value in cities[mid].items():
            assert by_city.get(city, 0) == value, (mid, city)


def check_rates(frame: pd.DataFrame) -> None:
    """Rates in [0, 1], null exactly when the denominator is 0, and equal to numerator / denominator."""
    for m in RATES:
        for code, rate, num, den in zip(frame.index, frame[m.id], frame[m.numerator], frame[m.denominator], strict=True):
            assert num <= den, (code, m.id, num, den)
            if den == 0:
                assert math.isnan(rate), (code, m.id, rate)
            else:
                assert 0.0 <= rate <= 1.0 and abs(rate - num / den) <= 1e-12, (code, m.id, rate, num, den)
    for m in AVERAGES:
        nulls = frame[m.id].isna()
        assert (nulls == (frame[m.denominator] == 0)).all(), m.id
        assert (frame.loc[~nulls, m.id] >= 0).all(), m.id


def check_as_of_reading(engine: sa.Engine, cases: list[Case], period: Period) -> None:
    """Erasing every closure and notice after A changes nothing: a case closed after A is open at A."""
    a = period.as_of_date
    load(engine, cases)
    before = region_table(engine, TableRequest(Level.COUNTY, period, scope=WHOLE_PROVINCE))
    listed = set(overdue_cases(engine, a, order=OverdueOrder.CASE_ID, scope=WHOLE_PROVINCE)["case_id"])
    ids = {f"P{i:05d}": c for i, c in enumerate(cases)}
    late_closers = {i for i, c in ids.items() if c["category"] == "accusation" and c["closed_date"] is not None
                    and c["closed_date"] > a
                    and (c["due_date"] or c["received_date"] + dt.timedelta(days=DEFAULT_DUE_DAYS)) < a}
    assert late_closers <= listed, "a case closed after A but due before it must be on the overdue list at A"
    load(engine, as_it_stood(cases, a))
    after = region_table(engine, TableRequest(Level.COUNTY, period, scope=WHOLE_PROVINCE))
    assert set(overdue_cases(engine, a, order=OverdueOrder.CASE_ID, scope=WHOLE_PROVINCE)["case_id"]) == listed
    pd.testing.assert_frame_equal(before, after, check_exact=False, rtol=0, atol=1e-12)


def check_as_of_monotone(engine: sa.Engine, period: Period, shifts: list[int]) -> None:
    """Over a fixed period, a later A never gives fewer closed (or other accumulating) cases."""
    previous = None
    for shift in sorted(shifts):
        as_of = period.end + dt.timedelta(days=shift)
        frame = region_table(engine, TableRequest(Level.COUNTY, Period(period.start, period.end, as_of), scope=WHOLE_PROVINCE))
        current = frame.set_index("code")[list(ACCUMULATING)]
        if previous is not None:
            shrunk = (current < previous).stack()
            assert not shrunk.any(), f"as of {as_of}: decreased {list(shrunk[shrunk].index)[:5]}"
        previous = current


# ------------------------------------------------------------------------------------------ hypothesis (DuckDB)

@pytest.fixture(scope="module")
def duck(tmp_path_factory: pytest.TempPathFactory) -> sa.Engine:
    """An initialised DuckDB database of this module's own (hypothesis reuses it across examples)."""
    engine = make_engine(f"duckdb:///{tmp_path_factory.mktemp('props') / 'props.duckdb'}")
    init_database(engine)
    yield engine
    engine.dispose()


@PROPERTY_SETTINGS
@given(data=scenario())
def test_counts_match_definitions_and_add_up(duck: sa.Engine, data: tuple[list[Case], Period]) -> None:
    cases, period = data
    load(duck, cases)
    check_against_oracle(duck, cases, period)


@PROPERTY_SETTINGS
@given(data=scenario())
def test_closed_after_as_of_reads_as_open(duck: sa.Engine, data: tuple[list[Case], Period]) -> None:
    cases, period = data
    check_as_of_reading(duck, cases, period)


@PROPERTY_SETTINGS
@given(data=scenario(), shifts=st.lists(st.integers(-90, 90), min_size=2, max_size=4))
def test_moving_as_of_forward_never_reduces_closed(duck: sa.Engine, data: tuple[list[Case], Period],
                                                   shifts: list[int]) -> None:
    cases, period = data
    load(duck, cases)
    check_as_of_monotone(duck, period, shifts)


# ------------------------------------------------------------------------------------------ one fixed set, every backend

FIXED_CASES = random_cases(seed=20240630, n=80)

def anchored_period(cases: list[Case], seed: int) -> Period:
    """A period whose start, end and as-of date are each some case's receipt, due, closure or deadline date."""
    rng = random.Random(seed)
    start, end = sorted(rng.sample(anchor_dates(cases), 2))
    return Period(start, end, rng.choice(anchor_dates(cases)))


FIXED_PERIODS = (
    Period(dt.date(2024, 1, 1), dt.date(2024, 6, 30)),
    Period(dt.date(2024, 5, 1), dt.date(2024, 5, 31), dt.date(2024, 2, 10)),  # A months before the period
    Period(dt.date(2024, 5, 1), dt.date(2024, 5, 31), dt.date(2024, 4, 28)),  # A just before it
    Period(dt.date(2024, 2, 1), dt.date(2024, 4, 30), dt.date(2024, 3, 15)),
    Period(dt.date(2024, 3, 1), dt.date(2024, 3, 31), dt.date(2024, 5, 31)),
    anchored_period(FIXED_CASES, seed=1),
)


def test_fixed_random_set_on_every_backend(engine: sa.Engine) -> None:
    load(engine, FIXED_CASES)
    for period in FIXED_PERIODS:
        t = check_against_oracle(engine, FIXED_CASES, period)
        province = t[Level.PROVINCE].loc[PROVINCE]
        if period.as_of_date < period.start:  # W is empty; the overdue stock at A is not
            assert all(province[m] == 0 for m in COUNT_IDS if m not in ("overdue", "first_overdue"))
            assert province["overdue"] > 0
        else:
            assert province["received"] > 0
        check_as_of_monotone(engine, period, [-60, -20, 0, 30, 90])
    for period in FIXED_PERIODS:
        check_as_of_reading(engine, FIXED_CASES, period)
        load(engine, FIXED_CASES)


def test_fixed_set_exercises_every_count() -> None:
    """The fixed set is rich enough that each count is non-zero in some fixed period."""
    seen = {mid for p in FIXED_PERIODS for mid, v in oracle_counts(FIXED_CASES, p).items() if v}
    assert seen == set(COUNT_IDS)
    assert set(ALL_IDS) - set(COUNT_IDS) == {m.id for m in RATES + AVERAGES}
