"""三色预警 (metrics.md, "Deadline warnings"): the golden lists from the command line on both engines, and
the edges the golden file need not hold — holidays, 调休 working weekends, an as-of date on a holiday."""
from __future__ import annotations

import dataclasses
import datetime as dt
import io
import json

import pandas as pd
import pytest
import sqlalchemy as sa

from data_access.identity.scope import WHOLE_PROVINCE, Scope
from data_access.imports.importer import import_bytes
from data_access.reference.enums import Level
from metrics import cli
from metrics.settings import DEFAULT_SETTINGS
from metrics.warnings import WARNING_COLUMNS, deadline_warnings, warning_counts, yellow_limit
from tests.conftest import GOLDEN as GOLDEN_DIR
from tests.test_importer import case, csv_bytes

RUNS = {"h1": "2024-06-30", "q1_asof_q1": "2024-03-31", "q1_asof_feb15": "2024-02-15"}


def cli_rows(engine: sa.Engine, args: list[str], fmt: str) -> list[list[str]]:
    """`python -m metrics warnings ...` printed, as rows of text (the header first for CSV)."""
    out = io.StringIO()
    assert cli.main(["warnings", *args, "--db", engine.url.render_as_string(hide_password=False), "--format", fmt],
                    out=out) == 0
    if fmt == "csv":
        return [line.split(",") for line in out.getvalue().splitlines()]
    records = json.loads(out.getvalue())
    return [list(WARNING_COLUMNS), *([str(r[c]) for c in WARNING_COLUMNS] for r in records)]


@pytest.mark.parametrize("fmt", ["csv", "json"])
@pytest.mark.parametrize(("run", "as_of"), RUNS.items(), ids=list(RUNS))
def test_cli_warnings_equal_the_golden_file(golden_engine: sa.Engine, run: str, as_of: str, fmt: str) -> None:
    want = (GOLDEN_DIR / f"expected_{run}_warnings.csv").read_text(encoding="utf-8").splitlines()
    assert cli_rows(golden_engine, ["--as-of", as_of], fmt) == [line.split(",") for line in want]


def test_parent_and_scope_keep_their_cases_and_counts_add_up(golden_engine: sa.Engine) -> None:
    as_of = dt.date(2024, 6, 30)
    whole = deadline_warnings(golden_engine, as_of, scope=WHOLE_PROVINCE)
    jining = deadline_warnings(golden_engine, as_of, scope=WHOLE_PROVINCE, parent="370800")
    assert set(jining["case_id"]) == set(whole.loc[whole["county_code"].str.startswith("3708"), "case_id"])
    assert jining.equals(deadline_warnings(golden_engine, as_of, scope=Scope("370800")))
    cities = warning_counts(golden_engine, as_of, Level.CITY, scope=WHOLE_PROVINCE)
    by_colour = whole["colour"].value_counts()
    for colour in ("red", "yellow", "green"):
        assert cities[colour].sum() == by_colour.get(colour, 0)
    assert cities["open"].sum() == len(whole)
    row = cities.set_index("code").loc["370800"]
    assert (row["red"], row["yellow"], row["green"]) == tuple(int((jining["colour"] == c).sum()) for c in ("red", "yellow", "green"))


# --- edges: the 2024 National Day holiday (10-01..10-07 off; Sunday 09-29 and Saturday 10-12 worked) ---------

EDGE_CASES = [  # case_id, received, due, closed
    ("E-RED-HOLIDAY", "2024-09-01", "2024-09-30", ""),  # as of 10-01: red with 0 working days (no working day since)
    ("E-DUE-ON-A", "2024-09-01", "2024-10-01", ""),  # due on A: yellow, 0
    ("E-Y", "2024-09-01", "2024-10-12", ""),  # the 5th working day after 09-30 is the 调休 Saturday 10-12
    ("E-AFTER-Y", "2024-09-01", "2024-10-13", ""),  # a Sunday after Y: green, though still 5 working days
    ("E-CLOSED", "2024-09-01", "2024-09-20", "2024-09-29"),  # closed before A: not open
    ("E-CLOSED-LATER", "2024-09-01", "2024-09-20", "2024-10-09"),  # closed after A: open at A, red
    ("E-LATER", "2024-10-02", "2024-11-30", ""),  # received after A: not yet there
]


@pytest.fixture
def edges(engine: sa.Engine) -> sa.Engine:
    rows = [case(cid, received_date=rec, due_date=due, closed_date=closed, satisfaction="", disputed="0",
                 accepted_notice_date="", result_notice_date="") for cid, rec, due, closed in EDGE_CASES]
    rows.append(case("E-REPORT", received_date="2024-09-01", due_date="2024-09-10", closed_date="", satisfaction="",
                     disputed="0", category="out_of_scope", accepted_notice_date="", result_notice_date=""))
    import_bytes(engine, csv_bytes(rows), "edges.csv")
    return engine


def colours(engine: sa.Engine, as_of: str) -> dict[str, tuple[str, int]]:
    frame = deadline_warnings(engine, dt.date.fromisoformat(as_of), scope=WHOLE_PROVINCE)
    return {r.case_id: (r.colour, r.working_days_left) for r in frame.itertuples()}


def test_yellow_window_counts_working_days_over_holidays_and_working_weekends(edges: sa.Engine) -> None:
    with edges.connect() as conn:
        assert yellow_limit(conn, dt.date(2024, 9, 30))[0] == dt.date(2024, 10, 12)
        assert yellow_limit(conn, dt.date(2024, 10, 1))[0] == dt.date(2024, 10, 12)  # A on a holiday
        assert yellow_limit(conn, dt.date(2024, 9, 27))[0] == dt.date(2024, 10, 10)  # 09-29 worked, 10-01..07 not
    assert colours(edges, "2024-09-30") == {
        "E-RED-HOLIDAY": ("yellow", 0), "E-DUE-ON-A": ("yellow", 0), "E-Y": ("yellow", 5), "E-AFTER-Y": ("green", 5),
        "E-CLOSED-LATER": ("red", -7)}


def test_as_of_on_a_holiday(edges: sa.Engine) -> None:
    assert colours(edges, "2024-10-01") == {
        "E-RED-HOLIDAY": ("red", 0), "E-DUE-ON-A": ("yellow", 0), "E-Y": ("yellow", 5), "E-AFTER-Y": ("green", 5),
        "E-CLOSED-LATER": ("red", -7)}


def test_due_friday_open_monday_is_one_working_day_late(engine: sa.Engine) -> None:
    import_bytes(engine, csv_bytes([case("F-1", received_date="2024-05-01", due_date="2024-05-31", closed_date="", accepted_notice_date="",
                                         satisfaction="", result_notice_date="")]), "friday.csv")
    assert colours(engine, "2024-06-03") == {"F-1": ("red", -1)}
    assert colours(engine, "2024-06-01") == {"F-1": ("red", 0)}  # Saturday: no working day after the Friday yet


def test_a_wider_yellow_window_is_a_setting(edges: sa.Engine) -> None:
    wide = dataclasses.replace(DEFAULT_SETTINGS, warning_workdays=10)
    frame = deadline_warnings(edges, dt.date(2024, 9, 30), scope=WHOLE_PROVINCE, settings=wide)
    assert dict(zip(frame["case_id"], frame["colour"], strict=True))["E-AFTER-Y"] == "yellow"


def test_cli_refuses_an_unknown_parent(golden_engine: sa.Engine, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_:
        cli.main(["warnings", "--as-of", "2024-06-30", "--parent", "999999",
                  "--db", golden_engine.url.render_as_string(hide_password=False)], out=io.StringIO())
    assert exit_.value.code == 2 and "999999" in capsys.readouterr().err


def test_empty_list_keeps_its_header(engine: sa.Engine) -> None:
    assert cli_rows(engine, ["--as-of", "2024-06-30"], "csv") == [list(WARNING_COLUMNS)]
    assert pd.DataFrame(deadline_warnings(engine, dt.date(2024, 6, 30), scope=WHOLE_PROVINCE)).empty
