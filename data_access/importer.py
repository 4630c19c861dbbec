"""The importer: read a file, validate every row, load it all-or-nothing."""
from __future__ import annotations

from pathlib import Path
from typing import Callable

import sqlalchemy as sa

from .database import ImportMode, LoadReport, county_codes, ensure_initialized, load_cases
from .reader import read_source
from .validate import validate_cases


def import_bytes(engine: sa.Engine, data: bytes, filename: str, mode: str = ImportMode.APPEND,
                 progress: Callable[[float], None] | None = None) -> LoadReport:
    """Import one file's content; raise DataRejected (nothing written) if anything is wrong."""
    step = progress or (lambda fraction: None)
    ensure_initialized(engine)
    step(0.0)
    source = read_source(data, filename)
    step(0.3)
    validated = validate_cases(source.frame, county_codes(engine), source.rows)
    step(0.6)
    report = load_cases(engine, validated, mode, source=Path(filename).name)
    step(1.0)
    return report


def import_file(engine: sa.Engine, path: Path, mode: str = ImportMode.APPEND,
                progress: Callable[[float], None] | None = None) -> LoadReport:
    """Import a CSV/XLSX/Parquet file from disk."""
    return import_bytes(engine, Path(path).read_bytes(), str(path), mode, progress)
