"""The data version: one fingerprint of everything the pages show, moved by every write in its transaction.

Caches (ui/scoped.py) key on it, so a page, the deck and a workbook built after a write read the written
state, in every server process (the version lives in the database). Loads of the case table move it
through import_log; every other write of the app — ledger steps, 12388 steps and draws, saved mappings,
user changes — adds a row to data_changes in its own transaction (audit.record_in does so for every
audited write). A write rolled back leaves the version where it was.
"""
from __future__ import annotations

import datetime as dt
import uuid

import sqlalchemy as sa

from data_access.store.schema import data_changes, import_log


def note_change(conn: sa.Connection, what: str) -> None:
    """Move the data version inside the caller's transaction (`what`: the kind of write, for the record)."""
    conn.execute(data_changes.insert().values(id=uuid.uuid4().hex, changed_at=dt.datetime.now(), what=what[:16]))


def data_version(conn: sa.Connection) -> str:
    """The fingerprint: count and latest time of the loads and of the other writes (two index reads)."""
    loads, last_load = conn.execute(sa.select(sa.func.count(), sa.func.max(import_log.c.imported_at))).one()
    writes, last_write = conn.execute(sa.select(sa.func.count(), sa.func.max(data_changes.c.changed_at))).one()
    return f"{loads}:{last_load}|{writes}:{last_write}"
