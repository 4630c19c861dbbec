"""Engine factory: --db URL, else DATABASE_URL, else the embedded DuckDB file."""
from __future__ import annotations

import os
import re
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pandas as pd
import sqlalchemy as sa

from data_access.store.config import SettingsError

REPO_ROOT = Path(__file__).resolve().parents[2]
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
        return sa.create_engine(resolved, connect_args=duckdb_arguments())
    # a server database may restart under a running dashboard: test pooled connections before use
    return sa.create_engine(resolved, pool_pre_ping=True, connect_args=_driver_arguments(parsed))


# DuckDB takes up to 80 % of the machine's memory for its buffers by default; several dashboard processes
# on one server (deploy/) each set a share with this variable, e.g. PETITION_DUCKDB_MEMORY_LIMIT=2GB.
DUCKDB_MEMORY_VARIABLE = "PETITION_DUCKDB_MEMORY_LIMIT"
_MEMORY_SIZE = re.compile(r"^\d+(\.\d+)?\s*(KB|MB|GB|TB|KiB|MiB|GiB|TiB)$", re.IGNORECASE)


class BadMemoryLimit(SettingsError):
    """PETITION_DUCKDB_MEMORY_LIMIT is not a size such as 2GB or 512MiB (the app shows it as a settings error)."""


def duckdb_arguments() -> dict[str, object]:
    """DuckDB's configuration from the environment: its memory limit, when one is set."""
    limit = os.environ.get(DUCKDB_MEMORY_VARIABLE, "").strip()
    if not limit:
        return {}
    if not _MEMORY_SIZE.match(limit):
        raise BadMemoryLimit(f"环境变量 {DUCKDB_MEMORY_VARIABLE} 的值“{limit}”不是内存大小（例如 2GB、512MiB） / "
                             f"{DUCKDB_MEMORY_VARIABLE}={limit!r} is not a size such as 2GB or 512MiB")
    return {"config": {"memory_limit": limit}}


def _driver_arguments(url: sa.URL) -> dict[str, object]:
    """What the MySQL-family drivers need beyond the URL: utf8mb4 (Chinese text, 4-byte characters) and
    LOAD DATA LOCAL INFILE, the bulk path of data_access/store/bulk.py (the server must allow it too). Options
    given in the URL's query win."""
    if url.get_backend_name() not in ("mysql", "mariadb"):
        return {}
    wanted: dict[str, object] = {"charset": "utf8mb4", "local_infile": True}
    return {k: v for k, v in wanted.items() if k not in url.query}


def describe_url(engine: sa.Engine) -> str:
    """The engine's URL without password, for display."""
    return engine.url.render_as_string(hide_password=True)


def dialect_name(bind: sa.Engine | sa.Connection) -> str:
    """'duckdb', 'postgresql', ... for the given engine or connection."""
    return bind.dialect.name


_LOCK = re.compile(r'Could not set lock on file "(?P<path>[^"]+)": Conflicting lock is held in (?P<program>.+?) '
                   r'\(PID (?P<pid>\d+)\)')


def file_held_message(error: BaseException) -> str | None:
    """A Chinese (and English) explanation when `error` is DuckDB refusing a file another process holds
    (one writing process per file: usually the running dashboard); None for any other error."""
    match = _LOCK.search(str(getattr(error, "orig", None) or error))
    if match is None:
        return None
    path, program, pid = match["path"], Path(match["program"]).name, match["pid"]
    return (f"数据库文件 {path} 正被另一个进程占用（进程号 {pid}，程序 {program}），通常是正在运行的看板。"
            "内嵌数据库同一时间只允许一个进程使用：请先停止看板（或该进程）再运行本命令；"
            "导入数据也可在看板的“数据”页进行。\n"
            f"The database file {path} is held by another process (PID {pid}, {program}), usually the running "
            "dashboard: stop it first, or import through the dashboard's 数据 page.")


@contextmanager
def connect(bind: sa.Engine | sa.Connection) -> Iterator[sa.Connection]:
    """Use a given Connection as is, or open (and close) one from an Engine."""
    if isinstance(bind, sa.Connection):
        yield bind
    else:
        with bind.connect() as conn:
            yield conn


def result_frame(result: sa.Result[Any], columns: Sequence[str] | None = None) -> pd.DataFrame:
    """The rows of a result as a DataFrame, named by `columns` or by the result's keys. Built from plain tuples:
    given Row objects, pandas takes its slow path for non-tuples (22,375 overdue cases: 0.13 s against 0.026 s)."""
    names = list(result.keys()) if columns is None else list(columns)
    return pd.DataFrame([tuple(row) for row in result.fetchall()], columns=names)  # one fetch, not a fetch per row
