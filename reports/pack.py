"""The meeting pack on disk: the deck and the ledger, named by the as-of date."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

from metrics.weekly import WeeklyReport
from presentation.documents import DocumentSettings, Issuance, load_document_settings

from .deck import build_deck
from .workbook import build_workbook


@dataclass(frozen=True)
class PackPaths:
    """Where the pack was written."""

    deck: Path
    workbook: Path


def deck_name(as_of: dt.date) -> str:
    """周例会_2024-06-30.pptx."""
    return f"周例会_{as_of.isoformat()}.pptx"


def workbook_name(as_of: dt.date) -> str:
    """周例会台账_2024-06-30.xlsx."""
    return f"周例会台账_{as_of.isoformat()}.xlsx"


def write_pack(report: WeeklyReport, out_dir: Path, documents: DocumentSettings | None = None,
               issuance: Issuance | None = None) -> PackPaths:
    """Write the deck and the ledger into `out_dir` (created if missing); an existing pack of that date is replaced.
    The issuing office follows `documents` (the settings file's [documents] when None); the 通报's number, date and
    deadline `issuance` (its draft when None)."""
    documents = documents if documents is not None else load_document_settings()
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = PackPaths(out_dir / deck_name(report.as_of), out_dir / workbook_name(report.as_of))
    deck = build_deck(report, documents, issuance)  # both built before either is written: a font error leaves no half pack
    workbook = build_workbook(report, documents, issuance)
    paths.deck.write_bytes(deck)
    paths.workbook.write_bytes(workbook)
    return paths
