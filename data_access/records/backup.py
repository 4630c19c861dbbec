"""Backups: one consistent snapshot of every table, as Parquet files with a manifest, and its restore into an
empty database of any engine (docs/contract/backup.md).

The app is a system of record: the ledger, the 12388 answers and draws, the users, the audit trail and the
saved mappings exist nowhere else. A backup reads every table of `schema.metadata`, and metrics' per-county
daily summary when present, in one read transaction — a snapshot on DuckDB, REPEATABLE READ on PostgreSQL
and the MySQL family — so that it holds the database as it was at one moment while the dashboard goes on
writing. It writes what the tables hold and nothing else (they hold no reporter identity; they do hold the
users' password hashes and the hashes of session tokens, so a backup folder is readable by its owner only).

A restore checks the whole backup first (every file's SHA-256, row count and columns against the manifest),
refuses a database that holds any row, creates the tables and loads them all in one transaction through
the engine's bulk path (data_access.store.bulk), so a backup taken on DuckDB restores into PostgreSQL or MariaDB.
"""
from __future__ import annotations

import datetime as dt
import enum
import hashlib
import io
import json
import os
import re
import shutil
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
import sqlalchemy as sa

from data_access.identity import audit
from data_access.identity.auth import Identity
from data_access.store import bulk
from data_access.store.dialects import Timestamp, is_mysql_family
from data_access.store.engine import REPO_ROOT, describe_url
from data_access.store.schema import metadata

FORMAT = "petition-dashboard-backup"
FORMAT_VERSION = 1
MANIFEST_NAME = "manifest.json"
FOLDER_PREFIX = "petition-backup-"
BACKUP_DIR_VARIABLE = "PETITION_BACKUP_DIR"
DEFAULT_BACKUP_DIR = REPO_ROOT / "data" / "backups"
# Kept by metrics/summary.py (a floor above: not imported here), derived from the cases (the per-county daily
# summary, its state, the linked cases of the repeat-matters screening); backed up when present.
# tests/test_backup.py checks this list against metrics' declaration.
DERIVED_TABLES: tuple[str, ...] = ("county_day_counts", "summary_state", "matter_links")
BATCH_ROWS = 100_000
STAGED = "restore_staged"
_NAME = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")
# a string column of unknown length (DuckDB keeps none) in a key: the MySQL family indexes no TEXT
_KEY_STRING_LENGTH = 255


class ColumnKind(str, enum.Enum):
    """A column's type as the manifest states it, the same whichever engine the backup was taken on."""

    STRING = "string"
    DATE = "date"
    TIMESTAMP = "timestamp"  # without time zone, microseconds
    BOOLEAN = "boolean"
    INTEGER = "integer"  # 32 bits
    BIGINT = "bigint"
    DOUBLE = "double"


_ARROW_TYPES: dict[ColumnKind, pa.DataType] = {
    ColumnKind.STRING: pa.string(), ColumnKind.DATE: pa.date32(), ColumnKind.TIMESTAMP: pa.timestamp("us"),
    ColumnKind.BOOLEAN: pa.bool_(), ColumnKind.INTEGER: pa.int32(), ColumnKind.BIGINT: pa.int64(),
    ColumnKind.DOUBLE: pa.float64(),
}
_SQL_TYPES: dict[ColumnKind, sa.types.TypeEngine[Any]] = {
    ColumnKind.DATE: sa.Date(), ColumnKind.TIMESTAMP: Timestamp, ColumnKind.BOOLEAN: sa.Boolean(),
    ColumnKind.INTEGER: sa.Integer(), ColumnKind.BIGINT: sa.BigInteger(), ColumnKind.DOUBLE: sa.Double(),
}  # a string's type depends on its length


@dataclass(frozen=True)
class ColumnSpec:
    """One column of a backed-up table."""

    name: str
    kind: ColumnKind
    nullable: bool
    length: int | None = None  # a string's declared length, when the engine keeps one

    def arrow_type(self) -> pa.DataType:
        """The Parquet file's type of this column."""
        return _ARROW_TYPES[self.kind]

    def sql_type(self, in_key: bool) -> sa.types.TypeEngine[Any]:
        """The type a restore creates for a table this version does not declare (the summary)."""
        if self.kind is ColumnKind.STRING:
            if self.length is not None:
                return sa.String(self.length)
            return sa.String(_KEY_STRING_LENGTH) if in_key else sa.Text()
        return _SQL_TYPES[self.kind]

    def as_json(self) -> dict[str, Any]:
        """The manifest's object for this column."""
        out: dict[str, Any] = {"name": self.name, "type": self.kind.value, "nullable": self.nullable}
        if self.length is not None:
            out["length"] = self.length
        return out


@dataclass(frozen=True)
class TableEntry:
    """One table of a backup: its file, row count, checksum and columns."""

    name: str
    file: str
    rows: int
    sha256: str
    columns: tuple[ColumnSpec, ...]
    primary_key: tuple[str, ...]

    def arrow_schema(self) -> pa.Schema:
        """The schema of the table's Parquet file."""
        return pa.schema([(c.name, c.arrow_type()) for c in self.columns])

    def as_json(self) -> dict[str, Any]:
        """The manifest's object for this table."""
        return {"name": self.name, "file": self.file, "rows": self.rows, "sha256": self.sha256,
                "primary_key": list(self.primary_key), "columns": [c.as_json() for c in self.columns]}


@dataclass(frozen=True)
class Manifest:
    """What a backup holds and how to check it (manifest.json)."""

    engine: str
    database: str
    taken_at: str  # ISO 8601 with the machine's UTC offset
    taken_by: str
    tables: tuple[TableEntry, ...]

    @property
    def rows(self) -> int:
        """All rows of all tables."""
        return sum(t.rows for t in self.tables)

    def as_json(self) -> dict[str, Any]:
        """The manifest file's content."""
        return {"format": FORMAT, "version": FORMAT_VERSION, "engine": self.engine, "database": self.database,
                "taken_at": self.taken_at, "taken_by": self.taken_by, "tables": [t.as_json() for t in self.tables]}


@dataclass(frozen=True)
class BackupReport:
    """A backup written: its folder, manifest, duration and the older backups removed by --keep."""

    folder: Path
    manifest: Manifest
    seconds: float
    pruned: tuple[Path, ...] = ()


@dataclass(frozen=True)
class RestoreReport:
    """A backup restored."""

    folder: Path
    manifest: Manifest
    seconds: float


class BadBackup(Exception):
    """The folder is not a usable backup; the one-line message names the file or table and what differs."""

    def __init__(self, message_zh: str, message_en: str) -> None:
        super().__init__(f"备份不可用：{message_zh} / bad backup: {message_en}")


class TargetNotEmpty(Exception):
    """A restore into a database that holds rows: refused, whatever they are."""

    def __init__(self, occupied: dict[str, int]) -> None:
        self.occupied = occupied
        listed = "、".join(f"{name} {rows:,} 行" for name, rows in occupied.items())
        super().__init__(
            f"目标数据库不是空的（{listed}）：恢复只写入空数据库，请新建一个数据库（PostgreSQL/MariaDB: CREATE DATABASE；"
            "DuckDB：一个新文件），不要先运行 init 或启动看板 / the target database is not empty "
            f"({', '.join(f'{name}: {rows} rows' for name, rows in occupied.items())}): restore into a new, empty database")


def default_backup_dir() -> Path:
    """Where backups go unless told: $PETITION_BACKUP_DIR, else data/backups beside the embedded database."""
    named = os.environ.get(BACKUP_DIR_VARIABLE, "").strip()
    return Path(named) if named else DEFAULT_BACKUP_DIR


# ---------------------------------------------------------------------------------------------- backup

def take_backup(engine: sa.Engine, out_dir: Path, actor: Identity | str, keep: int | None = None) -> BackupReport:
    """Write one consistent snapshot of every table into a new folder under `out_dir`, record it in the audit
    log, then (with `keep`) remove all but the newest `keep` backups of `out_dir`."""
    if keep is not None and keep < 1:
        raise ValueError("keep must be at least 1")
    start = time.monotonic()
    out_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    now = dt.datetime.now().astimezone()
    final = _new_folder(out_dir, now)
    partial = out_dir / f".{final.name}.partial"
    partial.mkdir(mode=0o700)
    try:
        entries = _write_snapshot(engine, partial)
        manifest = Manifest(engine.dialect.name, describe_url(engine), now.isoformat(timespec="microseconds"),
                            actor.username if isinstance(actor, Identity) else actor, entries)
        _write_private(partial / MANIFEST_NAME, json.dumps(manifest.as_json(), ensure_ascii=False, indent=2).encode("utf-8"))
        partial.rename(final)
    except BaseException:
        shutil.rmtree(partial, ignore_errors=True)
        raise
    audit.record(engine, actor, audit.AuditAction.BACKUP,
                 f"备份数据库：{len(entries)} 张表 {manifest.rows:,} 行，写入 {final}")
    pruned = prune_backups(out_dir, keep) if keep is not None else ()
    return BackupReport(final, manifest, time.monotonic() - start, pruned)


def _new_folder(out_dir: Path, now: dt.datetime) -> Path:
    base = f"{FOLDER_PREFIX}{now:%Y%m%d-%H%M%S}"
    folder, n = out_dir / base, 1
    while folder.exists():
        folder, n = out_dir / f"{base}-{n}", n + 1
    return folder


@contextmanager
def _snapshot(engine: sa.Engine) -> Iterator[sa.Connection]:
    """A connection in one read transaction that sees the database as it was when it began."""
    with engine.connect() as conn:
        if conn.dialect.name == "postgresql":
            conn = conn.execution_options(isolation_level="REPEATABLE READ", postgresql_readonly=True)
        elif is_mysql_family(conn):
            conn = conn.execution_options(isolation_level="REPEATABLE READ")
        with conn.begin():  # DuckDB: BEGIN starts a snapshot of its own (MVCC)
            if is_mysql_family(conn):  # InnoDB takes its read view at the first read unless told now
                conn.execute(sa.text("START TRANSACTION WITH CONSISTENT SNAPSHOT, READ ONLY"))
            yield conn


def _write_snapshot(engine: sa.Engine, folder: Path) -> tuple[TableEntry, ...]:
    with _snapshot(engine) as conn:
        return tuple(_write_table(conn, table, specs, folder) for table, specs in _tables_present(conn))


def _tables_present(conn: sa.Connection) -> list[tuple[sa.Table, tuple[ColumnSpec, ...]]]:
    """The declared tables the database holds, then the derived ones it holds (described by the database),
    each with the manifest's description of its columns."""
    names = set(sa.inspect(conn).get_table_names())
    present = [(t, tuple(_declared_spec(c) for c in t.columns)) for t in metadata.sorted_tables if t.name in names]
    derived_metadata = sa.MetaData()
    for name in DERIVED_TABLES:
        if name in names:
            specs, key = _described(conn, name)
            present.append((_table_of(derived_metadata, name, specs, key), specs))
    return present


# information_schema's data_type (lower case) on DuckDB, PostgreSQL and the MySQL family
_KINDS_BY_DATA_TYPE = {
    **dict.fromkeys(("varchar", "character varying", "text", "char", "character", "bpchar", "longtext", "mediumtext"),
                    ColumnKind.STRING),
    "date": ColumnKind.DATE,
    **dict.fromkeys(("timestamp", "timestamp without time zone", "datetime"), ColumnKind.TIMESTAMP),
    **dict.fromkeys(("boolean", "bool"), ColumnKind.BOOLEAN),
    **dict.fromkeys(("integer", "int", "int4", "smallint", "int2", "mediumint", "tinyint"), ColumnKind.INTEGER),
    **dict.fromkeys(("bigint", "int8"), ColumnKind.BIGINT),
    **dict.fromkeys(("double", "double precision", "float8"), ColumnKind.DOUBLE),
}
_INFO_COLUMNS = sa.table("columns", *(sa.column(c) for c in (
    "table_schema", "table_name", "column_name", "data_type", "character_maximum_length", "is_nullable",
    "ordinal_position")), schema="information_schema")
_INFO_CONSTRAINTS = sa.table("table_constraints", *(sa.column(c) for c in (
    "table_schema", "table_name", "constraint_name", "constraint_type")), schema="information_schema")
_INFO_KEYS = sa.table("key_column_usage", *(sa.column(c) for c in (
    "table_schema", "table_name", "constraint_name", "column_name", "ordinal_position")), schema="information_schema")


def _described(conn: sa.Connection, name: str) -> tuple[tuple[ColumnSpec, ...], tuple[str, ...]]:
    """A table's columns and primary key as information_schema states them (duckdb-engine reflects neither)."""
    mysql_family = is_mysql_family(conn)
    schema = sa.func.database() if mysql_family else sa.func.current_schema()
    # MySQL and MariaDB store BOOLEAN as TINYINT(1): only their column_type tells it from a small integer
    column_type = sa.column("column_type") if mysql_family else sa.null()
    rows = conn.execute(sa.select(_INFO_COLUMNS.c.column_name, _INFO_COLUMNS.c.data_type,
                                  _INFO_COLUMNS.c.character_maximum_length, _INFO_COLUMNS.c.is_nullable, column_type)
                        .where(_INFO_COLUMNS.c.table_schema == schema, _INFO_COLUMNS.c.table_name == name)
                        .order_by(_INFO_COLUMNS.c.ordinal_position)).all()
    specs = []
    for column, data_type, length, nullable, stored_as in rows:
        kind = ColumnKind.BOOLEAN if stored_as == "tinyint(1)" else _KINDS_BY_DATA_TYPE.get(str(data_type).lower())
        if kind is None:
            raise TypeError(f"column {name}.{column}: no backup type for {data_type}")
        specs.append(ColumnSpec(str(column), kind, nullable == "YES", int(length) if kind is ColumnKind.STRING and length else None))
    keys = conn.execute(
        sa.select(_INFO_KEYS.c.column_name)
        .join(_INFO_CONSTRAINTS, sa.and_(_INFO_CONSTRAINTS.c.constraint_name == _INFO_KEYS.c.constraint_name,
                                         _INFO_CONSTRAINTS.c.table_schema == _INFO_KEYS.c.table_schema,
                                         _INFO_CONSTRAINTS.c.table_name == _INFO_KEYS.c.table_name))
        .where(_INFO_KEYS.c.table_schema == schema, _INFO_KEYS.c.table_name == name,
               _INFO_CONSTRAINTS.c.constraint_type == "PRIMARY KEY")
        .order_by(_INFO_KEYS.c.ordinal_position)).scalars().all()
    return tuple(specs), tuple(str(k) for k in keys)


def _write_table(conn: sa.Connection, table: sa.Table, specs: tuple[ColumnSpec, ...], folder: Path) -> TableEntry:
    """One table's rows, ordered by its key, into <name>.parquet; its manifest entry."""
    key = tuple(c.name for c in table.primary_key.columns)
    entry = TableEntry(table.name, f"{table.name}.parquet", 0, "", specs, key)
    schema = entry.arrow_schema()
    order = [table.c[k] for k in key] or list(table.columns)
    path = folder / entry.file
    rows = 0
    with pq.ParquetWriter(path, schema, compression="zstd") as writer:
        for batch in _read_batches(conn, table, order, schema):
            writer.write_table(batch)
            rows += batch.num_rows
        if rows == 0:
            writer.write_table(schema.empty_table())
    path.chmod(0o600)
    return TableEntry(entry.name, entry.file, rows, _sha256(path), specs, key)


def _read_batches(conn: sa.Connection, table: sa.Table, order: list[sa.Column[Any]],
                  schema: pa.Schema) -> Iterator[pa.Table]:
    """The table's rows in this order as Arrow tables of `schema`, BATCH_ROWS at a time, in the connection's transaction."""
    stmt = sa.select(*table.columns).order_by(*order)
    if conn.dialect.name == "duckdb":  # DuckDB hands out Arrow itself
        reader = _driver(conn).sql(str(stmt.compile(dialect=conn.dialect))).to_arrow_reader(BATCH_ROWS)
        for batch in reader:
            yield pa.Table.from_batches([batch]).rename_columns(schema.names).cast(schema)
    elif conn.dialect.name == "postgresql":
        yield from _copied_batches(conn, stmt, schema)
    elif is_mysql_family(conn):
        yield from _line_batches(conn, table, order, schema)
    else:
        result = conn.execution_options(yield_per=BATCH_ROWS).execute(stmt)  # a server-side cursor
        for part in result.partitions():
            columns = list(zip(*part, strict=True))
            yield pa.table([pa.array(values, type=field.type) for values, field in zip(columns, schema, strict=True)],
                           schema=schema)


# PostgreSQL's CSV: NULL unquoted and empty, an empty string quoted (""), booleans t/f, every other word as it is
_PG_CSV = {"null_values": [""], "strings_can_be_null": True, "quoted_strings_can_be_null": False,
           "true_values": ["t"], "false_values": ["f"]}


def _copied_batches(conn: sa.Connection, stmt: sa.Select[Any], schema: pa.Schema) -> Iterator[pa.Table]:
    """PostgreSQL: COPY (SELECT ...) TO STDOUT as CSV, parsed by Arrow (3-4 times faster than fetching rows). The
    server sends one CopyData message per row, so a batch of messages is a batch of whole rows."""
    conn.execute(sa.text("SET LOCAL DateStyle = ISO"))  # dates as YYYY-MM-DD whatever the server's default
    conn.execute(sa.text("SET LOCAL extra_float_digits = 3"))  # doubles that read back to the same value
    sql = str(stmt.compile(dialect=conn.dialect))
    options = pacsv.ConvertOptions(column_types=schema, **_PG_CSV)
    read = pacsv.ReadOptions(column_names=schema.names)

    def parsed(rows: list[bytes]) -> pa.Table:
        return pacsv.read_csv(io.BytesIO(b"".join(rows)), read_options=read, convert_options=options).cast(schema)

    with _driver(conn).cursor() as cursor, cursor.copy(f"COPY ({sql}) TO STDOUT (FORMAT csv)") as copy:
        rows: list[bytes] = []
        for row in copy:
            rows.append(bytes(row))
            if len(rows) == BATCH_ROWS:
                yield parsed(rows)
                rows = []
        if rows:
            yield parsed(rows)


# The MySQL family's rows as CSV lines made by the server: strings quoted (quotes doubled), NULL empty, 1/0
_LINE_CSV = {**_PG_CSV, "true_values": ["1"], "false_values": ["0"]}


def _line_batches(conn: sa.Connection, table: sa.Table, order: list[sa.Column[Any]],
                  schema: pa.Schema) -> Iterator[pa.Table]:
    """The MySQL family: each row as one CSV line written by the server, parsed by Arrow. PyMySQL decodes every
    field in Python (100,000 cases: several seconds); one field per row takes a fraction of that."""
    line = sa.func.concat_ws(",", *(sa.func.ifnull(_csv_field(table.c[field.name], field.type), "") for field in schema))
    result = conn.execution_options(yield_per=BATCH_ROWS).execute(sa.select(line).order_by(*order))
    options = pacsv.ConvertOptions(column_types=schema, **_LINE_CSV)
    read = pacsv.ReadOptions(column_names=schema.names)
    for part in result.partitions():
        text = "".join(f"{row[0]}\n" for row in part).encode("utf-8")  # Arrow misreads a last line ending in ","
        yield pacsv.read_csv(io.BytesIO(text), read_options=read, convert_options=options).cast(schema)


def _csv_field(column: sa.ColumnElement[Any], arrow_type: pa.DataType) -> sa.ColumnElement[Any]:
    """A value as CSV text on the MySQL family: strings quoted, everything else as the server writes it (dates
    YYYY-MM-DD, DATETIME(6) with its microseconds, doubles in their shortest exact form)."""
    if pa.types.is_string(arrow_type):
        return sa.func.concat('"', sa.func.replace(column, '"', '""'), '"')
    return sa.cast(column, sa.String())  # CAST(... AS CHAR)


def _driver(conn: sa.Connection) -> Any:
    """The DBAPI driver's own connection under a SQLAlchemy connection, in its transaction."""
    driver = conn.connection.driver_connection
    if driver is None:
        raise RuntimeError("the connection has been closed")
    return driver


# ---------------------------------------------------------------------------------------------- types

def _declared_spec(column: sa.Column[Any]) -> ColumnSpec:
    """The manifest's description of a declared (or reconstructed) column."""
    kind = _kind_of(column.type)
    if kind is None:
        raise TypeError(f"column {column.table.name}.{column.name}: no backup type for {column.type!r}")
    length = getattr(column.type, "length", None) if kind is ColumnKind.STRING else None
    return ColumnSpec(column.name, kind, bool(column.nullable), length)


def _kind_of(type_: sa.types.TypeEngine[Any]) -> ColumnKind | None:
    # order matters: BigInteger is an Integer, DateTime is no Date, Boolean is neither
    for cls, kind in ((sa.Boolean, ColumnKind.BOOLEAN), (sa.DateTime, ColumnKind.TIMESTAMP), (sa.Date, ColumnKind.DATE),
                      (sa.BigInteger, ColumnKind.BIGINT), (sa.Integer, ColumnKind.INTEGER), (sa.Float, ColumnKind.DOUBLE),
                      (sa.String, ColumnKind.STRING)):
        if isinstance(type_, cls):
            return kind
    return None


def _table_of(meta: sa.MetaData, name: str, specs: tuple[ColumnSpec, ...], key: tuple[str, ...]) -> sa.Table:
    """A table declared from its manifest description (names always quoted: `rows`, `day` are keywords somewhere)."""
    return sa.Table(name, meta, *(sa.Column(s.name, s.sql_type(s.name in key), nullable=s.nullable,
                                            primary_key=s.name in key, quote=True) for s in specs))


# ---------------------------------------------------------------------------------------------- files

def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _write_private(path: Path, content: bytes) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(content)


def read_manifest(folder: Path) -> Manifest:
    """The backup's manifest, checked for form (not yet against the files); BadBackup when unusable."""
    path = folder / MANIFEST_NAME
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise BadBackup(f"{folder} 中没有 {MANIFEST_NAME}，不是备份文件夹", f"no {MANIFEST_NAME} in {folder}") from None
    except (OSError, ValueError) as exc:
        raise BadBackup(f"无法读取 {path}：{exc}", f"cannot read {path}: {exc}") from None
    if not isinstance(document, dict) or document.get("format") != FORMAT:
        raise BadBackup(f"{path} 不是本系统的备份清单", f"{path} is not a {FORMAT} manifest")
    if document.get("version") != FORMAT_VERSION:
        raise BadBackup(f"备份格式版本 {document.get('version')!r}，本版本只读版本 {FORMAT_VERSION}",
                        f"format version {document.get('version')!r}, this version reads {FORMAT_VERSION}")
    try:
        tables = tuple(_entry(t) for t in document["tables"])
        manifest = Manifest(str(document["engine"]), str(document.get("database", "")), str(document["taken_at"]),
                            str(document.get("taken_by", "")), tables)
    except (KeyError, TypeError, ValueError) as exc:
        raise BadBackup(f"{path} 内容不完整或有误（{exc}）", f"{path} is malformed ({exc!r})") from None
    names = [t.name for t in tables]
    if len(set(names)) != len(names):
        raise BadBackup(f"{path} 中有重复的表", f"{path} lists a table twice")
    return manifest


def _entry(document: dict[str, Any]) -> TableEntry:
    name = str(document["name"])
    if not _NAME.match(name) or document["file"] != f"{name}.parquet":
        raise ValueError(f"table {name!r}, file {document['file']!r}")
    columns = tuple(ColumnSpec(str(c["name"]), ColumnKind(c["type"]), bool(c["nullable"]),
                               int(c["length"]) if c.get("length") is not None else None) for c in document["columns"])
    if not all(_NAME.match(c.name) for c in columns):
        raise ValueError(f"a column name of table {name}")
    rows = int(document["rows"])
    if rows < 0:
        raise ValueError(f"rows {rows}")
    return TableEntry(name, str(document["file"]), rows, str(document["sha256"]), columns,
                      tuple(str(k) for k in document["primary_key"]))


def verify_backup(folder: Path) -> Manifest:
    """Check every file of the backup against its manifest (checksum, row count, columns); the manifest."""
    manifest = read_manifest(folder)
    for entry in manifest.tables:
        path = folder / entry.file
        if not path.is_file():
            raise BadBackup(f"表 {entry.name} 的文件 {entry.file} 不存在", f"table {entry.name}: file {entry.file} is missing")
        if (found := _sha256(path)) != entry.sha256:
            raise BadBackup(f"表 {entry.name} 的文件 {entry.file} 校验和不符（清单 {entry.sha256[:12]}…，文件 {found[:12]}…），"
                            "文件已被改动或损坏", f"table {entry.name}: {entry.file} SHA-256 {found[:12]}… differs from the "
                            f"manifest's {entry.sha256[:12]}…")
        try:
            parquet = pq.ParquetFile(path)
        except (OSError, pa.ArrowException) as exc:
            raise BadBackup(f"表 {entry.name} 的文件 {entry.file} 无法读取（{exc}）", f"table {entry.name}: {exc}") from None
        if (rows := parquet.metadata.num_rows) != entry.rows:
            raise BadBackup(f"表 {entry.name} 的文件有 {rows:,} 行，清单记 {entry.rows:,} 行",
                            f"table {entry.name}: {rows} rows in {entry.file}, {entry.rows} in the manifest")
        if not parquet.schema_arrow.equals(entry.arrow_schema()):
            raise BadBackup(f"表 {entry.name} 的文件列与清单不符（文件：{_columns_text(parquet.schema_arrow)}）",
                            f"table {entry.name}: the file's columns differ from the manifest's")
    return manifest


def _columns_text(schema: pa.Schema) -> str:
    return ", ".join(f"{f.name} {f.type}" for f in schema)


def list_backups(out_dir: Path) -> list[tuple[Path, Manifest]]:
    """The backups in `out_dir` whose manifest reads, newest first (not checked against their files)."""
    found = []
    for folder in sorted(out_dir.glob(f"{FOLDER_PREFIX}*")) if out_dir.is_dir() else []:
        try:
            found.append((folder, read_manifest(folder)))
        except BadBackup:
            continue
    return sorted(found, key=lambda pair: (pair[1].taken_at, pair[0].name), reverse=True)


def prune_backups(out_dir: Path, keep: int) -> tuple[Path, ...]:
    """Remove all but the newest `keep` backups of `out_dir` (folders with a readable manifest only: nothing
    else there is touched); the folders removed."""
    if keep < 1:
        raise ValueError("keep must be at least 1")
    old = [folder for folder, _ in list_backups(out_dir)[keep:]]
    for folder in old:
        shutil.rmtree(folder)
    return tuple(old)


# ---------------------------------------------------------------------------------------------- restore

def restore_backup(engine: sa.Engine, folder: Path, actor: Identity | str) -> RestoreReport:
    """Load a checked backup into an empty database: create the tables, load every table in one transaction
    with the engine's bulk path, check the row counts, move the data version and write the audit row."""
    start = time.monotonic()
    manifest = verify_backup(folder)
    restored_metadata = sa.MetaData()
    tables = [_target_table(restored_metadata, entry) for entry in manifest.tables]
    occupied = _rows_present(engine, [*metadata.sorted_tables, *tables])
    if occupied:
        raise TargetNotEmpty(occupied)
    metadata.create_all(engine)  # DDL first: the MySQL family commits before it
    restored_metadata.create_all(engine)
    with engine.begin() as conn:
        for entry, table in zip(manifest.tables, tables, strict=True):
            _load_table(conn, folder / entry.file, entry, table)
        for entry, table in zip(manifest.tables, tables, strict=True):
            loaded = conn.execute(sa.select(sa.func.count()).select_from(table)).scalar_one()
            if loaded != entry.rows:
                raise BadBackup(f"表 {entry.name} 载入后有 {loaded:,} 行，清单记 {entry.rows:,} 行（已全部撤销）",
                                f"table {entry.name}: {loaded} rows after loading, {entry.rows} in the manifest (rolled back)")
        audit.record_in(conn, actor, audit.AuditAction.RESTORE,
                        f"从备份恢复：{folder.name}（{manifest.engine}，{manifest.taken_at}）{len(tables)} 张表 "
                        f"{manifest.rows:,} 行")
    if engine.dialect.name == "postgresql":  # planner statistics of the new tables
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(sa.text("ANALYZE"))
    return RestoreReport(folder, manifest, time.monotonic() - start)


def _target_table(restored_metadata: sa.MetaData, entry: TableEntry) -> sa.Table:
    """The table a backed-up table loads into: the declared one (its columns checked against the backup's),
    or, for a table this version does not declare (the summary), one made from the manifest."""
    declared = metadata.tables.get(entry.name)
    if declared is None:
        return _table_of(restored_metadata, entry.name, entry.columns, entry.primary_key)
    for spec in entry.columns:
        if spec.name not in declared.c:
            raise BadBackup(f"表 {entry.name} 的列 {spec.name} 不是本版本的列（备份来自其他版本？）",
                            f"table {entry.name}: column {spec.name} is unknown to this version")
        if (ours := _declared_spec(declared.c[spec.name]).kind) is not spec.kind:
            raise BadBackup(f"表 {entry.name} 的列 {spec.name} 在备份中为 {spec.kind.value}，本版本为 {ours.value}",
                            f"table {entry.name}: column {spec.name} is {spec.kind.value} in the backup, {ours.value} here")
    backed_up = {spec.name for spec in entry.columns}
    for column in declared.columns:
        if column.name not in backed_up and not column.nullable:
            raise BadBackup(f"表 {entry.name} 缺少必需的列 {column.name}（备份来自较早的版本？）",
                            f"table {entry.name}: required column {column.name} is missing")
    return declared


def _rows_present(engine: sa.Engine, tables: list[sa.Table]) -> dict[str, int]:
    """The tables of the target that exist and hold rows, with their counts."""
    with engine.connect() as conn:
        names = set(sa.inspect(conn).get_table_names())
        counts = {t.name: conn.execute(sa.select(sa.func.count()).select_from(t)).scalar_one()
                  for t in dict.fromkeys(tables) if t.name in names}
    return {name: rows for name, rows in counts.items() if rows}


def _load_table(conn: sa.Connection, path: Path, entry: TableEntry, table: sa.Table) -> None:
    """Stage the file's rows batch by batch through the engine's bulk path and move them into the table.
    Staged columns are named c0, c1, ...: the staging DDL is raw text, and some column names are keywords."""
    if entry.rows == 0:
        return
    names = [spec.name for spec in entry.columns]
    positional = [f"c{i}" for i in range(len(names))]
    for batch in pq.ParquetFile(path).iter_batches(batch_size=BATCH_ROWS):
        staged = bulk.stage_table(conn, pa.Table.from_batches([batch]).rename_columns(positional), name=STAGED)
        conn.execute(table.insert().from_select([table.c[n] for n in names], sa.select(*(staged.c[p] for p in positional))))
        bulk.drop_staged(conn, STAGED)
