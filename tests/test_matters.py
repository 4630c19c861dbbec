"""Repeat matters (metrics.md, "Repeat matters"): the golden screenings of tests/data/golden/matters from the
command line on every engine (CSV byte for byte, and JSON), and each rule on hand-made cases inserted as an
external system would write them (the importer trims its cells; the screening must trim the keys itself)."""
from __future__ import annotations

import csv
import dataclasses
import datetime as dt
import io
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from data_access.imports.importer import import_file
from data_access.store.database import init_database
from data_access.store.schema import CASE_COLUMNS, cases
from metrics import cli, summary
from metrics.matters import MATTER_BOOLEANS, MATTER_COLUMNS, CaseSource, MatterTier, RepeatMatter, case_source, repeat_matters
from metrics.settings import DEFAULT_SETTINGS, load_settings
from tests.conftest import BACKENDS, GOLDEN, database_of_its_own

MATTERS = GOLDEN / "matters"
GOLDEN_RUNS = (("2023-12-31", None), ("2024-06-30", None), ("2024-06-30", "370800"))
INTEGERS = ("reports", "years", "levels", "channels", "open", "quiet_days")
D = dt.date.fromisoformat
LIXIA, SHINAN = "370102", "370202"  # 济南市 历下区, 青岛市 市南区
JINAN, QINGDAO, PROVINCE = "370100", "370200", "370000"


@pytest.fixture(scope="module", params=BACKENDS)
def matters_engine(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> sa.Engine:
    """The golden matters' cases (through the importer) on each engine."""
    engine = database_of_its_own(request.param, "matters", request, tmp_path_factory)
    init_database(engine)
    import_file(engine, MATTERS / "cases.csv")
    yield engine
    engine.dispose()


def golden_path(as_of: str, parent: str | None) -> Path:
    return MATTERS / f"expected_matters_asof_{as_of}{f'_parent_{parent}' if parent else ''}.csv"


def run_cli(engine: sa.Engine, *args: str) -> str:
    out = io.StringIO()
    assert cli.main(["matters", "--db", engine.url.render_as_string(hide_password=False), *args], out=out) == 0
    return out.getvalue()


def typed(record: dict[str, str]) -> dict[str, Any]:
    """A golden CSV row as the JSON output types it."""
    return {k: int(v) if k in INTEGERS else {"true": True, "false": False}[v] if k in MATTER_BOOLEANS else v
            for k, v in record.items()}


@pytest.mark.parametrize(("as_of", "parent"), GOLDEN_RUNS, ids=lambda v: v or "province")
def test_cli_csv_is_the_golden_file(matters_engine: sa.Engine, as_of: str, parent: str | None) -> None:
    args = ["--as-of", as_of, *(["--parent", parent] if parent else [])]
    assert run_cli(matters_engine, *args) == golden_path(as_of, parent).read_text(encoding="utf-8")


@pytest.mark.parametrize(("as_of", "parent"), GOLDEN_RUNS, ids=lambda v: v or "province")
def test_cli_json_holds_the_golden_rows(matters_engine: sa.Engine, as_of: str, parent: str | None) -> None:
    args = ["--as-of", as_of, "--format", "json", *(["--parent", parent] if parent else [])]
    got = json.loads(run_cli(matters_engine, *args))
    with golden_path(as_of, parent).open(encoding="utf-8", newline="") as handle:
        want = [typed(row) for row in csv.DictReader(handle)]
    assert len(want) > 10 and got == want
    assert all(list(row) == list(MATTER_COLUMNS) for row in got)


def test_the_golden_files_exercise_every_rule() -> None:
    """Screened and not, settled and not, every tier: the files test the rules, not just the counting."""
    with golden_path("2024-06-30", None).open(encoding="utf-8", newline="") as handle:
        rows = [typed(row) for row in csv.DictReader(handle)]
    assert {r["tier"] for r in rows} == {t.value for t in MatterTier} and {r["settled"] for r in rows} == {True, False}
    assert {r["screened"] for r in rows} == {True, False} and any(r["quiet_days"] == 0 for r in rows)


def test_cli_refuses_an_unknown_parent(matters_engine: sa.Engine, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_:
        cli.main(["matters", "--db", matters_engine.url.render_as_string(hide_password=False), "--parent", "379999"])
    err = capsys.readouterr().err
    assert exit_.value.code == 2 and "地区代码 379999 不存在" in err and "region 379999 does not exist" in err


def test_cli_prints_the_header_alone_when_no_matter_repeats(matters_engine: sa.Engine) -> None:
    assert run_cli(matters_engine, "--as-of", "2020-01-01") == ",".join(MATTER_COLUMNS) + "\n"
    assert json.loads(run_cli(matters_engine, "--as-of", "2020-01-01", "--format", "json")) == []


# ------------------------------------------------------------------------------------------ hand-made cases

def case(case_id: str, received: str, matter_id: str | None = None, **fields: object) -> dict[str, object]:
    """An open accusation case in 历下区 received on `received`; fields override the defaults."""
    row: dict[str, object] = {
        "case_id": case_id, "county_code": LIXIA, "received_date": D(received), "channel": "online",
        "category": "accusation", "domain": "其他", "is_first_report": matter_id is None, "is_leapfrog": False,
        "is_repeat": matter_id is not None, "is_real_name": False, "due_date": None, "closed_date": None,
        "satisfaction": None, "disputed": False, "accepted_notice_date": None, "result_notice_date": None,
        "matter_id": matter_id, "received_level": None,
    }
    unknown = set(fields) - set(row)
    assert not unknown, unknown
    row.update({k: D(v) if k == "closed_date" and isinstance(v, str) else v for k, v in fields.items()})
    return row


Insert = Callable[[sa.Engine, list[dict[str, object]]], None]


@pytest.fixture(params=["cases", "linked"])
def insert(request: pytest.FixtureRequest) -> Insert:
    """Write the cases as they are (no importer: its trimming and checks are not the screening's). `linked`: then
    build the stored linked cases as a load does (metrics.summary.rebuild), so that every rule is checked on both
    of the screening's sources: the case table, and the linked cases."""
    linked = request.param == "linked"

    def write(engine: sa.Engine, rows: list[dict[str, object]]) -> None:
        with engine.begin() as conn:
            conn.execute(cases.insert(), rows)
            if linked:
                summary.rebuild(conn, load_settings())
        with engine.connect() as conn:
            assert case_source(conn, DEFAULT_SETTINGS) == CaseSource(has_levels=True, linked=linked)
    return write


def screen(engine: sa.Engine, as_of: str, parent: str | None = None, **settings: int) -> dict[str, RepeatMatter]:
    found = repeat_matters(engine, D(as_of), parent=parent, settings=dataclasses.replace(DEFAULT_SETTINGS, **settings))
    return {m.matter: m for m in found}


def test_years_count_across_new_year(engine: sa.Engine, insert: Insert) -> None:
    insert(engine, [case("N-1", "2023-12-31"), case("N-2", "2024-01-01", "N-1"),
                    case("S-1", "2024-01-01"), case("S-2", "2024-12-31", "S-1")])
    assert screen(engine, "2023-12-31") == {}  # one report so far
    new_year = screen(engine, "2024-01-01")["N-1"]
    assert (new_year.years, new_year.quiet_days, new_year.first_received, new_year.last_received) == \
        (2, 0, D("2023-12-31"), D("2024-01-01"))
    later = screen(engine, "2025-01-01")
    assert later["N-1"].quiet_days == 366 and later["S-1"].years == 1 and later["S-1"].quiet_days == 1


def test_levels_count_distinct_values_and_never_empty_ones(engine: sa.Engine, insert: Insert) -> None:
    insert(engine, [case("L-1", "2024-01-01", received_level="county"), case("L-2", "2024-01-02", "L-1", received_level=""),
                    case("L-3", "2024-01-03", "L-1"), case("L-4", "2024-01-04", "L-1", received_level="city"),
                    case("L-5", "2024-01-05", "L-1", received_level="county"),
                    case("E-1", "2024-01-01", received_level=""), case("E-2", "2024-01-02", "E-1")])
    got = screen(engine, "2024-02-01")
    assert got["L-1"].levels == 2 and got["E-1"].levels == 0
    assert got["L-1"].screened and not got["E-1"].screened  # 多层 alone screens a matter of 3+ reports


@pytest.mark.parametrize("variant", [" M1", "M1 ", "\u3000M1", "M1\u3000", "\tM1\n", "\r\nM1 \u3000\t"],
                         ids=["space", "trailing", "ideographic", "ideographic-trailing", "tab-newline", "mixed"])
def test_keys_lose_blanks_at_both_ends(engine: sa.Engine, insert: Insert, variant: str) -> None:
    insert(engine, [case("C-1", "2024-01-01", "M1"), case("C-2", "2024-01-02", variant), case("C-3", "2024-01-03", "M1")])
    assert list(screen(engine, "2024-02-01")) == ["M1"] and screen(engine, "2024-02-01")["M1"].reports == 3


def test_keys_are_compared_exactly(engine: sa.Engine, insert: Insert) -> None:
    """Case, full-width letters and inner blanks count; a blank matter_id keys a case by its own id."""
    insert(engine, [case("C-1", "2024-01-01", "M1"), case("C-2", "2024-01-02", "m1"), case("C-3", "2024-01-03", "Ｍ1"),
                    case("C-4", "2024-01-04", "M 1"), case("C-5", "2024-01-05", "M1"),
                    case("B-1", "2024-01-01", " \u3000\t"), case("B-2", "2024-01-02", "B-1"),
                    case("b-3", "2024-01-03", "b-1"), case("b-4", "2024-01-04", "b-1")])  # not B-1's: case counts
    got = screen(engine, "2024-02-01")
    assert sorted(got) == ["B-1", "M1", "b-1"] and [m.reports for m in got.values()] == [2, 2, 2]


def test_keys_are_matched_never_chained(engine: sa.Engine, insert: Insert) -> None:
    insert(engine, [case("A-1", "2024-01-01"), case("A-2", "2024-01-02", "A-1"), case("A-3", "2024-01-03", "A-1"),
                    case("A-4", "2024-01-04", "A-2"),  # names a case keyed by another matter_id: a matter of its own
                    case("F-1", "2024-01-01", "F-1"), case("F-2", "2024-01-02", "F-1")])  # a first report naming itself
    got = screen(engine, "2024-02-01")
    assert sorted(got) == ["A-1", "F-1"] and got["A-1"].reports == 3 and got["F-1"].reports == 2


def test_only_accusations_received_by_the_as_of_date_count(engine: sa.Engine, insert: Insert) -> None:
    insert(engine, [case("K-1", "2024-01-01"), case("K-2", "2024-01-02", "K-1", category="out_of_scope"),
                    case("K-3", "2024-01-03", "K-1"), case("K-4", "2024-03-01", "K-1")])
    assert screen(engine, "2024-02-01")["K-1"].reports == 2 and screen(engine, "2024-03-01")["K-1"].reports == 3


def test_a_matter_across_two_counties_belongs_to_its_latest_report(engine: sa.Engine, insert: Insert) -> None:
    insert(engine, [case("T-1", "2024-01-01", county_code=LIXIA), case("T-2", "2024-01-02", "T-1", county_code=LIXIA),
                    case("T-3", "2024-01-03", "T-1", county_code=SHINAN)])
    assert screen(engine, "2024-02-01", JINAN) == {} and screen(engine, "2024-02-01", LIXIA) == {}
    for parent in (QINGDAO, SHINAN, PROVINCE, None):
        matter = screen(engine, "2024-02-01", parent)["T-1"]
        assert (matter.county_code, matter.reports) == (SHINAN, 3)  # every case counted, wherever it lies
    assert screen(engine, "2024-01-02", JINAN)["T-1"].county_code == LIXIA  # before the third report


def test_an_earlier_as_of_date_reads_the_matter_as_it_stood(engine: sa.Engine, insert: Insert) -> None:
    insert(engine, [case("H-1", "2024-01-01", closed_date="2024-01-20"),
                    case("H-2", "2024-02-01", "H-1", closed_date="2024-02-10", disputed=True, channel="phone"),
                    case("H-3", "2024-05-01", "H-1", closed_date="2024-05-05", is_leapfrog=True)])
    before = screen(engine, "2024-02-05")["H-1"]
    assert (before.reports, before.last_received, before.open, before.disputed_last, before.leapfrog, before.channels) \
        == (2, D("2024-02-01"), 1, False, False, 2)  # H-2 closes after the as-of date: open, its dispute not yet
    closed = screen(engine, "2024-02-10")["H-1"]
    assert (closed.open, closed.disputed_last) == (0, True)
    later = screen(engine, "2024-06-01")["H-1"]
    assert (later.reports, later.disputed_last, later.leapfrog, later.quiet_days) == (3, False, True, 31)


def test_latest_report_ties_are_broken_by_the_greatest_case_id_in_binary_order(engine: sa.Engine, insert: Insert) -> None:
    insert(engine, [case("X-10", "2024-01-05", county_code=LIXIA), case("X-9", "2024-01-05", "X-10", county_code=SHINAN),
                    case("Y-B", "2024-01-05", county_code=LIXIA), case("Y-a", "2024-01-05", "Y-B", county_code=SHINAN),
                    case("Z-2", "2024-01-06", county_code=LIXIA), case("Z-3", "2024-01-05", "Z-2", county_code=SHINAN)])
    got = screen(engine, "2024-02-01")
    assert {k: m.county_code for k, m in got.items()} == {"X-10": SHINAN, "Y-B": SHINAN, "Z-2": LIXIA}


def test_settled_needs_all_closed_no_dispute_last_and_quiet_days(engine: sa.Engine, insert: Insert) -> None:
    insert(engine, [case("Q-1", "2024-01-01", closed_date="2024-01-05", disputed=True),
                    case("Q-2", "2024-01-02", "Q-1", closed_date="2024-01-06", channel="phone"),
                    case("Q-3", "2024-01-03", "Q-1", closed_date="2024-01-07")])
    assert not screen(engine, "2024-04-01")["Q-1"].settled  # 89 quiet days
    settled = screen(engine, "2024-04-02")["Q-1"]  # 90: the earlier report's dispute does not count
    assert (settled.quiet_days, settled.settled, settled.screened) == (90, True, False)
    assert not screen(engine, "2024-04-02", settle_quiet_days=91)["Q-1"].settled


def test_screened_and_tier_follow_the_settings(engine: sa.Engine, insert: Insert) -> None:
    rows = [case("G-1", "2024-01-01")] + [case(f"G-{i}", f"2024-01-0{i}", "G-1", channel="phone") for i in range(2, 7)]
    rows += [case("O-1", "2023-06-01")] + [case(f"O-{i}", f"2024-01-0{i}", "O-1") for i in range(2, 4)]  # 多年 alone
    rows += [case("P-1", "2024-01-01"), case("P-2", "2024-01-02", "P-1", channel="phone")]  # 多头 but two reports
    rows += [case("R-1", "2024-01-01"), case("R-2", "2024-01-02", "R-1"), case("R-3", "2024-01-03", "R-1")]  # one year, door
    insert(engine, rows)
    got = screen(engine, "2024-02-01")
    assert {k: (m.reports, m.tier, m.screened) for k, m in got.items()} == {
        "G-1": (6, MatterTier.SERIOUS, True), "O-1": (3, MatterTier.KEY, True), "P-1": (2, MatterTier.GENERAL, False),
        "R-1": (3, MatterTier.KEY, False)}
    assert list(got) == ["G-1", "O-1", "R-1", "P-1"]  # reports descending, then matter
    stricter = screen(engine, "2024-02-01", screen_min_reports=4, serious_min_reports=7)
    assert {k: (m.tier, m.screened) for k, m in stricter.items() if k in ("G-1", "O-1")} == {
        "G-1": (MatterTier.KEY, True), "O-1": (MatterTier.GENERAL, False)}


def test_optional_columns_left_empty_make_no_matter(engine: sa.Engine, insert: Insert) -> None:
    insert(engine, [case(f"E-{i}", "2024-01-01") for i in range(5)])
    assert screen(engine, "2024-02-01") == {}


@pytest.fixture(scope="module", params=BACKENDS)
def view_engine(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> sa.Engine:
    """A `cases` view with the contract's required columns only (an external database): no matter_id, no level."""
    engine = database_of_its_own(request.param, "matters_view", request, tmp_path_factory)
    init_database(engine)
    with engine.begin() as conn:
        conn.execute(cases.insert(), [case("V-1", "2024-01-01"), case("V-2", "2024-01-02", "V-1"),
                                      case("V-3", "2024-01-03", "V-1")])
    required = [c for c in CASE_COLUMNS if c not in ("matter_id", "received_level")]
    with engine.begin() as conn:
        conn.execute(sa.text("ALTER TABLE cases RENAME TO cases_source"))
        conn.execute(sa.text(f"CREATE VIEW cases AS SELECT {', '.join(required)} FROM cases_source"))
    yield engine
    engine.dispose()


def test_a_case_table_without_the_optional_columns_has_no_repeat_matter(view_engine: sa.Engine) -> None:
    assert repeat_matters(view_engine, D("2024-02-01")) == []
    assert run_cli(view_engine, "--as-of", "2024-02-01") == ",".join(MATTER_COLUMNS) + "\n"
