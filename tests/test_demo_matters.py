"""The demo province's repeat matters (data_access/demo/matters.py) as the screening reads them on every engine:
follow-up reports escalating county → city → province, some settled, some open, some contested, screened ones
to enrol — and the demo's counts untouched by them."""
from __future__ import annotations

import datetime as dt

import pyarrow.compute as pc
import pytest
import sqlalchemy as sa

from data_access.demo import cases as demo_module
from data_access.demo.cases import generate_cases
from data_access.demo.loading import load_demo
from data_access.identity.auth import Identity, Role
from data_access.identity.scope import WHOLE_PROVINCE
from data_access.supervision import campaign
from metrics.campaign import read_matters
from metrics.matters import repeat_matters
from tests.test_demo import make_counties

END = dt.date(2024, 6, 30)
N_CASES = 40_000
PROVINCE = Identity("sheng", Role.PROVINCE, None, "省纪委监委信访室")


@pytest.fixture
def demo(engine: sa.Engine) -> sa.Engine:
    load_demo(engine, N_CASES, 7, END)
    return engine


def test_the_demo_province_has_matters_of_every_kind(demo: sa.Engine) -> None:
    matters = repeat_matters(demo, END)
    assert len(matters) >= 40
    screened = [m for m in matters if m.screened]
    assert len(screened) >= 10 and {m.tier.value for m in screened} >= {"key", "serious"}
    assert any(m.settled for m in matters) and any(m.open for m in matters) and any(m.disputed_last for m in matters)
    assert all(m.levels >= 2 for m in matters)  # each matter escalated at least once
    assert any(m.years >= 2 for m in matters) and any(m.leapfrog for m in matters)
    assert any(m.matter.startswith("DEMO-SX") for m in matters) and any(not m.matter.startswith("DEMO-SX") for m in matters)
    chosen = screened[0].matter
    row_id = campaign.enrol(demo, PROVINCE, chosen, deadline=END + dt.timedelta(days=60), as_of=END,
                            screening=read_matters, now=dt.datetime(2024, 6, 30, 10))
    assert campaign.matters(demo, WHOLE_PROVINCE, END)["id"].tolist() == [row_id]
    assert campaign.find_relapses(demo, WHOLE_PROVINCE, END, read_matters) == []


def test_matters_only_add_two_columns(monkeypatch: pytest.MonkeyPatch) -> None:
    """The planted matters change no other cell: the demo's counts are what they were."""
    table = generate_cases(make_counties(), 20_000, 42, END)
    linked = pc.sum(pc.is_valid(table.column("matter_id"))).as_py()
    levels = pc.sum(pc.is_valid(table.column("received_level"))).as_py()
    assert table.column_names[-2:] == ["matter_id", "received_level"] and 0 < linked < levels  # first reports named by case_id
    monkeypatch.setattr(demo_module, "plant_matters", lambda cases, *_: cases)
    assert table.drop_columns(["matter_id", "received_level"]).equals(generate_cases(make_counties(), 20_000, 42, END))
