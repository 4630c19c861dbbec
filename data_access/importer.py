"""The importer: read a file, validate every row, load it all-or-nothing."""
from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa

from .database import ImportMode, LoadReport, county_codes, ensure_initialized, load_cases
from .reader import read_source
from .validate import validate_cases


def import_bytes(engine: sa.Engine, data: bytes, filename: str, mode: str = ImportMode.APPEND) -> LoadReport:
    """Import one file's content; raise DataRejected (nothing written) if anything is wrong."""
    ensure_initialized(engine)
    frame = read_source(data, filename)
    validated = validate_cases(frame, county_codes(engine))
    return load_cases(engine, validated, mode, source=Path(filename).name)


def import_file(engine: sa.Engine, path: Path, mode: str = ImportMode.APPEND) -> LoadReport:
    """Import a CSV/XLSX/Parquet file from disk."""
    return import_bytes(engine, Path(path).read_bytes(), str(path), mode)
