"""The load test's client (benchmarks.protocol_client) against a real `streamlit run app.py`.

It must see each page as the browser would be sent it — the right page, its charts, map, tables
and downloads — and must report a page that does not exist or a section that failed, so that the
load test's "0 errors" means something. The whole load script is run once, briefly, on the golden
cases.
"""
from __future__ import annotations

import asyncio
from pathlib import Path
from urllib.parse import urlencode

import pytest
import sqlalchemy as sa
from browser_support import ARTIFACTS, StreamlitServer, build_golden_database, copy_database, group_alive
from conftest import GOLDEN_CASES

from benchmarks import load_sessions
from benchmarks.protocol_client import PageRun, ProtocolSession
from data_access.store.engine import make_engine
from metrics.periods import Preset

pytestmark = pytest.mark.skipif(not GOLDEN_CASES.exists(), reason=f"golden cases missing: {GOLDEN_CASES}")

H1 = {"period": Preset.CUSTOM.value, "asof": "2024-06-30", "from": "2024-01-01", "to": "2024-06-30"}
CITY, COUNTY = "370800", "370811"  # 济宁市, 任城区


@pytest.fixture(scope="module")
def golden_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("protocol_db") / "golden.duckdb"
    build_golden_database(path, GOLDEN_CASES)
    return path


@pytest.fixture(scope="module")
def server(golden_file: Path, tmp_path_factory: pytest.TempPathFactory):
    url = copy_database(golden_file, tmp_path_factory.mktemp("protocol_server") / "app.duckdb")
    srv = StreamlitServer(url, ARTIFACTS / "protocol-server.log").start()
    yield srv
    srv.stop()
    assert not group_alive(srv.process.pid)


def visit(server: StreamlitServer, pages: list[tuple[str, dict[str, str]]]) -> list[PageRun]:
    """One session (one websocket) through the pages, in order."""
    async def go() -> list[PageRun]:
        session = ProtocolSession(server.base_url, timeout_s=60)
        await session.connect()
        try:
            return [await session.open_page(path, urlencode(params)) for path, params in pages]
        finally:
            await session.close()

    return asyncio.run(go())


def test_each_page_arrives_with_its_content(server: StreamlitServer) -> None:
    overview, city, county, priority, overdue, weekly = visit(server, [
        ("", H1), ("drilldown", {**H1, "region": CITY}), ("drilldown", {**H1, "region": COUNTY}),
        ("priority", H1), ("overdue", H1), ("weekly", H1),
    ])
    for run in (overview, city, county, priority, overdue, weekly):
        assert run.errors == [] and run.seconds > 0
    assert overview.kinds["metric"] == 6 and overview.kinds["deck_gl_json_chart"] == 1
    assert overview.kinds["vega_lite_chart"] >= 2
    assert city.kinds["dataframe"] == 1 and city.kinds["deck_gl_json_chart"] == 1  # its counties: table, map
    assert county.kinds["download_button"] == 2 and "deck_gl_json_chart" not in county.kinds  # the case list
    assert priority.kinds["vega_lite_chart"] == 2  # the two funnel plots
    assert overdue.kinds.get("dataframe", 0) >= 1
    assert weekly.elements > 0


def test_a_missing_page_is_an_error(server: StreamlitServer) -> None:
    (run,) = visit(server, [("no-such-page", H1)])
    assert any("page not found" in e for e in run.errors)


def test_a_failed_section_is_an_error(golden_file: Path, tmp_path_factory: pytest.TempPathFactory) -> None:
    """A case table the queries cannot read (a column gone): the guard's error alert is reported."""
    url = copy_database(golden_file, tmp_path_factory.mktemp("broken_server") / "app.duckdb")
    srv = StreamlitServer(url, ARTIFACTS / "protocol-broken-server.log").start()
    try:
        (healthy,) = visit(srv, [("overdue", H1)])
        assert healthy.errors == []
        srv.stop()  # DuckDB admits one process per file: break the table while no server holds it
        engine = make_engine(url)
        with engine.begin() as conn:
            conn.execute(sa.text("ALTER TABLE cases DROP COLUMN closed_date"))
        engine.dispose()
        srv = StreamlitServer(url, ARTIFACTS / "protocol-broken-server.log").start()
        (broken,) = visit(srv, [("overdue", H1)])
        assert any(e.startswith("error box:") for e in broken.errors), broken.errors
    finally:
        srv.stop()


def test_the_load_script_runs_clean_on_the_golden_cases(golden_file: Path, tmp_path_factory: pytest.TempPathFactory,
                                                       capsys: pytest.CaptureFixture[str]) -> None:
    url = copy_database(golden_file, tmp_path_factory.mktemp("load_db") / "load.duckdb")
    status = load_sessions.main(["--db", url, "--sessions", "2", "--minutes", "0.25", "--think", "0.2"])
    out = capsys.readouterr().out
    assert status == 0, out
    assert "errors        0 " in out
    loads = int(out.split("page loads")[1].split()[0])
    assert loads >= 2 * len(load_sessions.PAGE_ORDER)  # at least one full round per session
    assert "server RSS    start" in out
