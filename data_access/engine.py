"""Engine factory: --db URL, else DATABASE_URL, else the embedded DuckDB file."""
from __future__ import annotations

import os
from pathlib import Path

import sqlalchemy as sa

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DB_PATH = REPO_ROOT / "data" / "petition.duckdb"


def resolve_url(url: str | None = None) -> str:
    """The database URL to use: the argument, then $DATABASE_URL, then the embedded file."""
    if url:
        return url
    env = os.environ.get("DATABASE_URL")
    if env:
        return env
    return f"duckdb:///{DEFAULT_DB_PATH}"


def make_engine(url: str | None = None) -> sa.Engine:
    """Create an Engine for the resolved URL (creating the embedded file's folder if needed)."""
    resolved = resolve_url(url)
    parsed = sa.make_url(resolved)
    if parsed.get_backend_name() == "duckdb":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        return sa.create_engine(resolved)
    # a server database may restart under a running dashboard: test pooled connections before use
    return sa.create_engine(resolved, pool_pre_ping=True)


def describe_url(engine: sa.Engine) -> str:
    """The engine's URL without password, for display."""
    return engine.url.render_as_string(hide_password=True)


def dialect_name(bind: sa.Engine | sa.Connection) -> str:
    """'duckdb', 'postgresql', ... for the given engine or connection."""
    return bind.dialect.name
