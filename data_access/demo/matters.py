"""Repeat matters planted in the demo's cases: some accusation cases of one county become the follow-up
reports of one matter (a shared matter_id), received at rising levels (county → city → province).

No case is added or changed but for its matter_id and received_level, so every count of the demo stays
what it was. The matters' latest reports are drawn to give the 专项治理 pages all it shows: some open, some
closed and contested (结而不服), some closed long enough ago to be settled, some recently closed. Half the
matters use a source system's matter number; the others name their first report's case_id (that first
report's own matter_id left empty), as metrics.md's keys allow.
"""
from __future__ import annotations

import datetime as dt

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from data_access.reference.enums import Category, ReceivedLevel

ACCUSATIONS_PER_MATTER = 400  # one matter for so many accusation cases
MAX_MATTERS = 3000
MATTER_SIZES = {2: 0.25, 3: 0.30, 4: 0.20, 5: 0.12, 6: 0.08, 8: 0.05}  # reports per matter
# What the latest report is: still open, closed and contested, or closed and accepted.
LATEST_KINDS = {"open": 0.35, "contested": 0.20, "closed": 0.45}
SOURCE_NUMBERED_SHARE = 0.5  # the others are keyed by their first report's case_id
ESCALATION = (ReceivedLevel.COUNTY, ReceivedLevel.CITY, ReceivedLevel.PROVINCE)
ATTEMPTS_PER_MATTER = 4


def plant_matters(table: pa.Table, rng: np.random.Generator, end_date: dt.date, id_prefix: str) -> pa.Table:
    """`table` with matter_id and received_level appended: empty but for the cases of the planted matters."""
    n = table.num_rows
    matter_id = np.full(n, None, dtype=object)
    level = np.full(n, None, dtype=object)
    for number, members in enumerate(_draw_matters(table, rng, end_date)):
        ids = table.column("case_id").take(pa.array(members)).to_pylist()
        if rng.random() < SOURCE_NUMBERED_SHARE:
            matter_id[members] = f"{id_prefix}-SX{number + 1:05d}"
        else:
            matter_id[members[1:]] = ids[0]
        steps = (np.arange(len(members)) * len(ESCALATION)) // len(members)
        level[members] = [ESCALATION[step].value for step in steps]
    return (table.append_column("matter_id", pa.array(matter_id, type=pa.string()))
            .append_column("received_level", pa.array(level, type=pa.string())))


def _draw_matters(table: pa.Table, rng: np.random.Generator, end_date: dt.date) -> list[np.ndarray]:
    """The planted matters: each an array of row indices of one county, in received order, the last the latest."""
    accusation = pc.equal(table.column("category"), Category.ACCUSATION.value).to_numpy(zero_copy_only=False)
    rows = np.flatnonzero(accusation)
    wanted = min(MAX_MATTERS, len(rows) // ACCUSATIONS_PER_MATTER)
    if not wanted:
        return []
    received = _days(table.column("received_date"))[rows]
    closed = table.column("closed_date")
    is_open = pc.or_kleene(pc.is_null(closed), pc.greater(closed, pa.scalar(end_date, pa.date32()))).to_numpy(
        zero_copy_only=False)[rows]
    disputed = table.column("disputed").to_numpy(zero_copy_only=False)[rows]
    county = pc.dictionary_encode(table.column("county_code")).combine_chunks().indices.to_numpy()[rows]
    order = np.lexsort((received, county))  # by county, then received: each county's reports in a run
    pools = {"open": np.flatnonzero(is_open), "contested": np.flatnonzero(~is_open & disputed),
             "closed": np.flatnonzero(~is_open & ~disputed)}
    by_county = _CountyRuns(order, county[order])
    used = np.zeros(len(rows), dtype=bool)
    matters: list[np.ndarray] = []
    for _ in range(wanted * ATTEMPTS_PER_MATTER):
        if len(matters) == wanted:
            break
        kind = rng.choice(list(LATEST_KINDS), p=list(LATEST_KINDS.values()))
        size = int(rng.choice(list(MATTER_SIZES), p=list(MATTER_SIZES.values())))
        members = _one_matter(rng, pools[kind], used, by_county, county, received, size)
        if members is not None:
            used[members] = True
            matters.append(rows[members])
    return matters


class _CountyRuns:
    """The accusations' positions sorted by county then received date, and where each county's run lies."""

    def __init__(self, order: np.ndarray, sorted_county: np.ndarray) -> None:
        self.order = order
        self.sorted_county = sorted_county

    def of(self, county: int) -> np.ndarray:
        """The positions of one county's accusations, in received order."""
        start, stop = np.searchsorted(self.sorted_county, [county, county + 1])
        return self.order[start:stop]


def _one_matter(rng: np.random.Generator, pool: np.ndarray, used: np.ndarray, runs: _CountyRuns, county: np.ndarray,
                received: np.ndarray, size: int) -> np.ndarray | None:
    """A latest report drawn from `pool` and size - 1 earlier unused reports of its county (positions among the
    accusations, in received order), or None when it is taken or its county has too few before it."""
    if not len(pool):
        return None
    latest = int(rng.choice(pool))
    if used[latest]:
        return None
    block = runs.of(int(county[latest]))
    earlier = block[(received[block] < received[latest]) & ~used[block]]
    if len(earlier) < size - 1:
        return None
    chosen = rng.choice(earlier, size=size - 1, replace=False)
    return np.append(chosen[np.argsort(received[chosen], kind="stable")], latest)


def _days(column: pa.ChunkedArray) -> np.ndarray:
    """A date32 column as day numbers."""
    days: np.ndarray = pc.cast(column, pa.int32()).to_numpy(zero_copy_only=False)
    return days
