"""AppTest on this app's pages: functions registered with st.Page by url path (app.py, pages/)."""
from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest
from streamlit.util import calc_hash


def switch_to(at: AppTest, url_path: str) -> AppTest:
    """Aim `at`'s next run at the page registered under `url_path` (as /url_path in a browser).

    AppTest.switch_page finds a page by its file, and these pages are functions; Streamlit knows a page
    by calc_hash(url_path) alone (streamlit/navigation/page.py), so the run asks for that hash."""
    at._page_hash = calc_hash(url_path)
    return at


def duckdb_with_cases(folder: Path, cases_file: Path) -> str:
    """The URL of a new DuckDB file in `folder`, initialised and loaded with `cases_file` through the importer."""
    from data_access.imports.importer import import_file
    from data_access.store.database import init_database
    from data_access.store.engine import make_engine

    url = f"duckdb:///{folder / 'app.duckdb'}"
    engine = make_engine(url)
    try:
        init_database(engine)
        import_file(engine, cases_file)
    finally:
        engine.dispose()
    return url


def first_run(url: str, monkeypatch: pytest.MonkeyPatch) -> AppTest:
    """app.py run once on the database at `url` (DATABASE_URL set to it), with no exception or error shown."""
    monkeypatch.setenv("DATABASE_URL", url)
    at = AppTest.from_file(str(Path(__file__).resolve().parent.parent / "app.py"), default_timeout=60).run()
    assert not at.exception and not at.error, [*at.exception, *at.error]
    return at
