"""Deterministic synthetic 12388 complaints and their monthly cycle for the demo.

A few calls per county per month (Poisson; more where a county handles its cases badly, next to none
for tiny counties), most about a case of that county received before the call. Every complete month
before the last one has gone through the cycle the way data_access.supervision.hotline would have done it: notified,
answered by the city (about a third 属实), a recorded draw of the 不属实 answers that replay_draw
reproduces, 抽查 results, and a supervision item for every 属实 and 反馈不实 — mostly closed for the
older months. The current and the previous month are left open to act on.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import sqlalchemy as sa

from data_access.demo.cases import ROLE_TINY, county_profiles
from data_access.reference.enums import ComplaintKind, Feedback, SpotCheckResult
from data_access.store import bulk
from data_access.store.schema import hotline_complaints, spot_check_draws, supervision_events, supervision_items
from data_access.supervision.hotline import SEED_MAX, item_reason, item_title, replay_draw
from data_access.supervision.hotline_settings import DEFAULT_HOTLINE_SETTINGS, HotlineSettings
from data_access.supervision.ledger import Method, Status, Step

ID_PREFIX = "DEMO-12388-"  # the importer refuses DEMO-… ids: demo rows are told apart by it
PROVINCE_USER = "demo-province"
STREAM_HOTLINE = 100  # beside the case generator's streams (0-5)
_NONE = np.array(None, dtype=object)  # np.where's "no value"
_DAY_SPAN = 100_000  # > any day number of the calendar: county * _DAY_SPAN + day orders by county, then day

CALLS_BASE, CALLS_PER_VOLUME, POOR_FACTOR, TINY_CALLS = 0.8, 1.2, 2.5, 0.1  # calls per county per month
KIND_WEIGHTS = {"normal": (0.38, 0.30, 0.20, 0.12), "poor": (0.55, 0.22, 0.16, 0.07)}  # ComplaintKind order
CASE_LINK_RATE = 0.85
CASE_LOOKBACK_DAYS = 365
TRUE_RATE = {"normal": 0.30, "poor": 0.55}
LATE_MISSING_RATE = 0.3  # poor counties' answers still missing for the last month that was notified
FALSE_FEEDBACK_RATE = {"normal": 0.15, "poor": 0.35}
CLOSED_AFTER_DAYS = 90  # an item this old is closed with probability 0.95
TRUE_NOTES = ("经核查，承办人员存在拖延情况，已责令限期办结", "经核查，反映问题基本属实，已督促承办单位整改",
              "经核查，未按规定向实名举报人反馈，已责令补正并约谈承办人")
UNTRUE_NOTES = ("经核查，该件已按期办结并依规告知举报人", "经核查，办理程序符合规定，已向来电人解释说明",
                "经核查，该件尚在法定办理期限内，已向来电人说明进度")
SPOT_NOTES = {SpotCheckResult.CONFIRMED: "调阅卷宗并回访来电人，地市反馈情况属实",
              SpotCheckResult.FALSE: "调阅卷宗发现办理超期且未告知举报人，地市反馈不实"}


@dataclass(frozen=True)
class HotlineDemo:
    """The demo's complaints, draws and the supervision items (with their events) they opened, as Arrow tables."""

    complaints: pa.Table
    draws: pa.Table
    items: pa.Table
    events: pa.Table


def generate_hotline(counties: pd.DataFrame, cases: pa.Table, seed: int, end_date: dt.date,
                     settings: HotlineSettings = DEFAULT_HOTLINE_SETTINGS) -> HotlineDemo:
    """Complaints from the month of the first case to end_date, the cycle filled for complete months
    before the last one (counties: code, parent_code; cases: case_id, county_code, received_date)."""
    rng = np.random.default_rng([seed, STREAM_HOTLINE])
    prof = county_profiles(counties, seed)
    city_of = dict(zip(counties["code"].astype(str), counties["parent_code"].astype(str), strict=True))
    first = pc.min(cases["received_date"]).as_py() if cases.num_rows else end_date - dt.timedelta(days=900)
    frame = _calls(rng, prof, first, end_date)
    frame["case_id"] = _linked_cases(rng, frame, cases)
    frame["city_code"] = frame["county_code"].map(city_of)
    current = pd.Period(end_date, "M")
    filled = frame["month"] < str(current - 1)
    frame = _feedback(rng, frame, filled, str(current - 2), settings)
    frame, draws = _draws(rng, frame, settings)
    frame = _spot_checks(rng, frame, end_date, settings)
    frame, items, events = _items(rng, frame, end_date, settings)
    return HotlineDemo(_complaint_table(frame), draws, items, events)


def _calls(rng: np.random.Generator, prof: pd.DataFrame, first: dt.date, end_date: dt.date) -> pd.DataFrame:
    """One row per call: county, received date, month and kind."""
    months = pd.period_range(pd.Period(first, "M"), pd.Period(end_date, "M"), freq="M")
    poor = prof["poor_quality"].to_numpy()
    rate = CALLS_BASE + CALLS_PER_VOLUME * np.sqrt(np.clip(prof["volume"].to_numpy(), 0.2, 4.0))
    rate = np.where(poor, rate * POOR_FACTOR, rate)
    rate = np.where(prof["role"].to_numpy() == ROLE_TINY, TINY_CALLS, rate)
    # each month's days within [first, end_date]: the first and the current month may be partial
    starts = np.maximum(np.array([m.start_time.date() for m in months], dtype="datetime64[D]"), np.datetime64(first))
    ends = np.minimum(np.array([m.end_time.date() for m in months], dtype="datetime64[D]"), np.datetime64(end_date))
    lengths = (ends - starts).astype(np.int64) + 1
    counts = rng.poisson(rate[None, :] * (lengths / np.array([m.days_in_month for m in months]))[:, None])
    cells = np.nonzero(counts)
    month_idx, county_idx = np.repeat(cells[0], counts[cells]), np.repeat(cells[1], counts[cells])
    received = starts[month_idx] + np.floor(rng.random(len(month_idx)) * lengths[month_idx]).astype("timedelta64[D]")
    weights = np.where(poor[county_idx, None], KIND_WEIGHTS["poor"], KIND_WEIGHTS["normal"])
    kind = (rng.random(len(month_idx))[:, None] > np.cumsum(weights, axis=1)[:, :-1]).sum(axis=1)
    frame = pd.DataFrame({"received_date": received, "county_code": prof["code"].to_numpy()[county_idx],
                          "kind": np.array([k.value for k in ComplaintKind])[kind], "poor": poor[county_idx]})
    frame = frame.sort_values(["received_date", "county_code"], kind="stable").reset_index(drop=True)
    frame["complaint_id"] = [f"{ID_PREFIX}{i:06d}" for i in range(1, len(frame) + 1)]
    frame["month"] = frame["received_date"].dt.strftime("%Y-%m")
    return frame


def _linked_cases(rng: np.random.Generator, frame: pd.DataFrame, cases: pa.Table) -> pd.Series:
    """For most calls, a case of the call's county received within the year before the call."""
    if cases.num_rows == 0:
        return pd.Series(None, index=frame.index, dtype=object)
    # one sorted key (county, day) for every case: a call's candidates are one contiguous run of it
    key = (pc.cast(cases["county_code"], pa.int64()).to_numpy() * _DAY_SPAN
           + cases["received_date"].to_numpy().astype("datetime64[D]").astype(np.int64))
    order = np.argsort(key, kind="stable")
    key = key[order]
    call = (frame["county_code"].to_numpy().astype(np.int64) * _DAY_SPAN
            + frame["received_date"].to_numpy().astype("datetime64[D]").astype(np.int64))
    lo, hi = np.searchsorted(key, call - CASE_LOOKBACK_DAYS, "left"), np.searchsorted(key, call, "left")
    linked = (hi > lo) & (rng.random(len(frame)) < CASE_LINK_RATE)
    pick = np.minimum(lo + np.floor(rng.random(len(frame)) * (hi - lo)).astype(np.int64), len(key) - 1)
    ids = cases["case_id"].take(pa.array(order[pick])).to_numpy(zero_copy_only=False)  # only the picked ones
    return pd.Series(np.where(linked, ids, None), index=frame.index, dtype=object)


def _at(rng: np.random.Generator, days: np.ndarray) -> np.ndarray:
    """Office-hours timestamps on the given days."""
    minutes = rng.integers(9 * 60, 17 * 60, len(days)).astype("timedelta64[m]")
    return np.asarray(days.astype("datetime64[D]").astype("datetime64[m]") + minutes, dtype="datetime64[s]")


def _next_month_day(months: pd.Series, day: np.ndarray) -> np.ndarray:
    """The `day`-th of the month after each month (YYYY-MM; day 1 = the 1st)."""
    starts = (months.to_numpy().astype("datetime64[M]") + 1).astype("datetime64[D]")
    return np.asarray(starts + (np.asarray(day) - 1).astype("timedelta64[D]"))


def _feedback(rng: np.random.Generator, frame: pd.DataFrame, filled: pd.Series, last_filled: str,
              settings: HotlineSettings) -> pd.DataFrame:
    """Notified months, and the cities' answers (a few poor counties' still missing for the last month)."""
    n = len(frame)
    poor = frame["poor"].to_numpy()
    missing = (frame["month"] == last_filled).to_numpy() & poor & (rng.random(n) < LATE_MISSING_RATE)
    answered = filled.to_numpy() & ~missing
    true = rng.random(n) < np.where(poor, TRUE_RATE["poor"], TRUE_RATE["normal"])
    day = rng.integers(1, settings.feedback_day + 5, n)
    frame["notified_month"] = frame["month"].where(filled, None)
    frame["feedback"] = np.where(answered, np.where(true, Feedback.TRUE.value, Feedback.UNTRUE.value), _NONE)
    notes = np.where(true, np.array(TRUE_NOTES)[rng.integers(0, 3, n)], np.array(UNTRUE_NOTES)[rng.integers(0, 3, n)])
    frame["feedback_note"] = np.where(answered, notes, _NONE)
    frame["feedback_at"] = pd.Series(_at(rng, _next_month_day(frame["month"], day))).where(answered)
    frame["feedback_by"] = ("demo-" + frame["city_code"]).where(answered, None)
    return frame


def _draws(rng: np.random.Generator, frame: pd.DataFrame, settings: HotlineSettings) -> tuple[pd.DataFrame, pa.Table]:
    """One recorded draw per notified month, made after its feedback deadline, exactly as replay_draw makes it."""
    frame["spot_check_draw"] = None
    rows = []
    untrue = frame[frame["feedback"] == Feedback.UNTRUE.value]
    for month, group in untrue.groupby("notified_month", sort=True):
        population = {str(c): list(ids) for c, ids in group.groupby("city_code")["complaint_id"]}
        seed, share = int(rng.integers(0, SEED_MAX + 1)), settings.spot_check_share
        chosen = [i for ids in replay_draw(population, seed, share).values() for i in ids]
        draw_id = f"DEMO-{month}"
        frame.loc[frame["complaint_id"].isin(chosen), "spot_check_draw"] = draw_id
        drawn_at = _next_month_day(pd.Series([month]), np.array([settings.feedback_day + 5]))[0]
        rows.append({"id": draw_id, "month": month, "seed": seed, "share": share, "population": len(group),
                     "sample": len(chosen), "drawn_at": pd.Timestamp(drawn_at) + pd.Timedelta(hours=10),
                     "drawn_by": PROVINCE_USER})
    schema = pa.schema([("id", pa.string()), ("month", pa.string()), ("seed", pa.int64()), ("share", pa.float64()),
                        ("population", pa.int64()), ("sample", pa.int64()), ("drawn_at", pa.timestamp("us")),
                        ("drawn_by", pa.string())])
    return frame, pa.Table.from_pylist(rows, schema=schema)


def _spot_checks(rng: np.random.Generator, frame: pd.DataFrame, end_date: dt.date,
                 settings: HotlineSettings) -> pd.DataFrame:
    """The province's results for the drawn complaints, recorded within about two weeks of the draw."""
    n = len(frame)
    drawn = frame["spot_check_draw"].notna().to_numpy()
    drawn_day = _next_month_day(frame["month"], np.full(n, settings.feedback_day + 5))
    at = _at(rng, drawn_day + rng.integers(3, 16, n).astype("timedelta64[D]"))
    done = drawn & (at < np.datetime64(end_date))
    false = rng.random(n) < np.where(frame["poor"], FALSE_FEEDBACK_RATE["poor"], FALSE_FEEDBACK_RATE["normal"])
    result = np.where(false, SpotCheckResult.FALSE.value, SpotCheckResult.CONFIRMED.value)
    frame["spot_check_result"] = np.where(done, result, _NONE)
    frame["spot_check_note"] = np.where(done, np.where(false, SPOT_NOTES[SpotCheckResult.FALSE],
                                                       SPOT_NOTES[SpotCheckResult.CONFIRMED]), _NONE)
    frame["spot_check_at"] = pd.Series(at).where(done)
    frame["spot_check_by"] = np.where(done, PROVINCE_USER, _NONE)
    return frame


def _items(rng: np.random.Generator, frame: pd.DataFrame, end_date: dt.date,
           settings: HotlineSettings) -> tuple[pd.DataFrame, pa.Table, pa.Table]:
    """The supervision item of every 属实 answer and every 反馈不实 found, with its steps: the older the
    item, the likelier it has been replied to and closed by end_date."""
    spot = (frame["spot_check_result"] == SpotCheckResult.FALSE.value).to_numpy()
    true = (frame["feedback"] == Feedback.TRUE.value).to_numpy()
    rows = frame[true | spot].copy()
    spot, n = spot[true | spot], len(rows)
    ids = [f"{a:016x}{b:016x}" for a, b in rng.integers(0, 2**63, (n, 2), dtype=np.int64)]
    opened = np.where(spot, rows["spot_check_at"].to_numpy(), rows["feedback_at"].to_numpy()).astype("datetime64[s]")
    replied = opened + rng.integers(2, 16, n).astype("timedelta64[D]")
    closed = replied + rng.integers(1, 9, n).astype("timedelta64[D]")
    end = np.datetime64(end_date + dt.timedelta(days=1)).astype("datetime64[s]")
    age = (end - opened).astype("timedelta64[D]").astype(np.int64)
    p_closed = 0.95 * np.clip(age / CLOSED_AFTER_DAYS, 0.0, 1.0)
    u = rng.random(n)
    is_closed = (u < p_closed) & (closed < end)
    is_replied = ~is_closed & (u < p_closed + 0.5 * (1 - p_closed)) & (replied < end)
    status = np.where(is_closed, Status.CLOSED.value, np.where(is_replied, Status.REPLIED.value, Status.OPEN.value))
    opener = np.where(spot, PROVINCE_USER, rows["feedback_by"].to_numpy())
    notes = np.where(spot, rows["spot_check_note"].to_numpy(), rows["feedback_note"].to_numpy())
    from data_access.reference.workdays import load_calendar  # the calendar is cached: cheap after the case generator
    due = load_calendar().deadline_after(opened.astype("datetime64[D]"), settings.reply_workdays)
    items = pd.DataFrame({
        "id": ids, "subject": np.where(rows["case_id"].notna(), "case", "county"), "case_id": rows["case_id"].to_numpy(),
        "county_code": rows["county_code"].to_numpy(),
        "title": [item_title(k, c, bool(s)) for k, c, s in zip(rows["kind"], rows["complaint_id"], spot, strict=True)],
        "reason": [item_reason(m, t, bool(s)) for m, t, s in zip(rows["notified_month"], notes, spot, strict=True)],
        "method": Method.LETTER.value, "reply_due": due, "status": status, "opened_by": opener,
        "opened_scope": np.where(spot, "", rows["city_code"].to_numpy()), "opened_at": opened,
        "replied_at": pd.Series(replied).where(is_closed | is_replied), "closed_at": pd.Series(closed).where(is_closed)})
    frame["supervision_item_id"] = None
    frame.loc[rows.index, "supervision_item_id"] = ids
    return frame, _item_table(items), _event_table(rng, items, opener, np.where(spot, "province", "city"))


def _event_table(rng: np.random.Generator, items: pd.DataFrame, opener: np.ndarray, role: np.ndarray) -> pa.Table:
    """open, then reply and close where the item got that far, as the ledger would have written them."""
    steps = [pd.DataFrame({"item_id": items["id"], "seq": 1, "at": items["opened_at"], "username": opener, "role": role,
                           "action": Step.OPEN.value, "note": items["reason"]})]
    replied = items["replied_at"].notna()
    steps.append(pd.DataFrame({"item_id": items["id"], "seq": 2, "at": items["replied_at"],
                               "username": "demo-" + items["county_code"], "role": "county", "action": Step.REPLY.value,
                               "note": "已按要求整改，并向来电人反馈办理结果"})[replied])
    closed = items["closed_at"].notna()
    steps.append(pd.DataFrame({"item_id": items["id"], "seq": 3, "at": items["closed_at"], "username": opener,
                               "role": role, "action": Step.CLOSE.value, "note": "同意销号"})[closed])
    events = pd.concat(steps, ignore_index=True)
    events.insert(0, "id", [f"{a:016x}{b:016x}" for a, b in rng.integers(0, 2**63, (len(events), 2), dtype=np.int64)])
    schema = pa.schema([("id", pa.string()), ("item_id", pa.string()), ("seq", pa.int64()), ("at", pa.timestamp("us")),
                        ("username", pa.string()), ("role", pa.string()), ("action", pa.string()), ("note", pa.string()),
                        ("promised_date", pa.date32())])
    events["promised_date"] = None
    return pa.Table.from_pandas(events, schema=schema, preserve_index=False)


def _item_table(items: pd.DataFrame) -> pa.Table:
    schema = pa.schema([("id", pa.string()), ("subject", pa.string()), ("case_id", pa.string()),
                        ("county_code", pa.string()), ("title", pa.string()), ("reason", pa.string()),
                        ("method", pa.string()), ("reply_due", pa.date32()), ("status", pa.string()),
                        ("opened_by", pa.string()), ("opened_scope", pa.string()), ("opened_at", pa.timestamp("us")),
                        ("replied_at", pa.timestamp("us")), ("closed_at", pa.timestamp("us"))])
    return pa.Table.from_pandas(items, schema=schema, preserve_index=False)


COMPLAINT_SCHEMA = pa.schema([
    ("complaint_id", pa.string()), ("received_date", pa.date32()), ("county_code", pa.string()), ("kind", pa.string()),
    ("case_id", pa.string()), ("notified_month", pa.string()), ("feedback", pa.string()), ("feedback_note", pa.string()),
    ("feedback_at", pa.timestamp("us")), ("feedback_by", pa.string()), ("spot_check_draw", pa.string()),
    ("spot_check_result", pa.string()), ("spot_check_note", pa.string()), ("spot_check_at", pa.timestamp("us")),
    ("spot_check_by", pa.string()), ("supervision_item_id", pa.string())])


def _complaint_table(frame: pd.DataFrame) -> pa.Table:
    return pa.Table.from_pandas(frame[COMPLAINT_SCHEMA.names], schema=COMPLAINT_SCHEMA, preserve_index=False)


def is_demo_complaint() -> sa.ColumnElement[bool]:
    """True for a complaint the demo generator made (the importer refuses its prefix)."""
    return hotline_complaints.c.complaint_id.like(f"{ID_PREFIX}%")


def replace_demo_rows(conn: sa.Connection, demo: HotlineDemo | None) -> int:
    """In the caller's transaction: delete the demo's complaints, the supervision items they opened (with
    their events) and the draws only they were in; then store `demo`'s rows (none: a removal). Real
    complaints stay. How many demo complaints were deleted."""
    demo_ids = sa.select(hotline_complaints.c.complaint_id).where(is_demo_complaint())
    opened = sa.select(hotline_complaints.c.supervision_item_id).where(
        is_demo_complaint(), hotline_complaints.c.supervision_item_id.is_not(None))
    conn.execute(supervision_events.delete().where(supervision_events.c.item_id.in_(opened)))
    conn.execute(supervision_items.delete().where(supervision_items.c.id.in_(opened)))
    real_draws = sa.select(hotline_complaints.c.spot_check_draw).where(
        ~is_demo_complaint(), hotline_complaints.c.spot_check_draw.is_not(None))
    demo_draws = sa.select(hotline_complaints.c.spot_check_draw).where(
        hotline_complaints.c.complaint_id.in_(demo_ids), hotline_complaints.c.spot_check_draw.is_not(None))
    conn.execute(spot_check_draws.delete().where(
        sa.or_(spot_check_draws.c.id.like("DEMO-%"), spot_check_draws.c.id.in_(demo_draws)),
        spot_check_draws.c.id.not_in(real_draws)))
    removed = int(conn.execute(hotline_complaints.delete().where(is_demo_complaint())).rowcount)
    if demo is not None:
        for table, rows in ((hotline_complaints, demo.complaints), (spot_check_draws, demo.draws),
                            (supervision_items, demo.items), (supervision_events, demo.events)):
            if rows.num_rows:
                staged = bulk.stage_table(conn, rows, f"staged_{table.name}")
                conn.execute(table.insert().from_select([table.c[c] for c in rows.column_names],
                                                        sa.select(*(staged.c[c] for c in rows.column_names))))
                bulk.drop_staged(conn, f"staged_{table.name}")
    return removed
