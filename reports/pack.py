"""The meeting pack on disk: the deck, the ledger and the 通报 (Word), named by the as-of date."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

from metrics.weekly import WeeklyReport
from presentation.documents import DocumentSettings, Issuance, load_document_settings

from .bulletin_doc import build_bulletin_document, bulletin_name
from .deck import build_deck
from .workbook import build_workbook


@dataclass(frozen=True)
class PackPaths:
    """Where the pack was written."""

    deck: Path
    workbook: Path
    bulletin: Path  # the 通报 as a Word document to send


def deck_name(as_of: dt.date) -> str:
    """周例会_2024-06-30.pptx."""
    return f"周例会_{as_of.isoformat()}.pptx"


def workbook_name(as_of: dt.date) -> str:
    """周例会台账_2024-06-30.xlsx."""
    return f"周例会台账_{as_of.isoformat()}.xlsx"


def write_pack(report: WeeklyReport, out_dir: Path, documents: DocumentSettings | None = None,
               issuance: Issuance | None = None) -> PackPaths:
    """Write the deck, the ledger and the 通报 into `out_dir` (created if missing); a pack of that date is replaced.
    The issuing office follows `documents` (the settings file's [documents] when None); the 通报's number, date and
    deadline `issuance` (its draft when None)."""
    documents = documents if documents is not None else load_document_settings()
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = PackPaths(out_dir / deck_name(report.as_of), out_dir / workbook_name(report.as_of),
                      out_dir / bulletin_name(report.as_of))
    deck = build_deck(report, documents, issuance)  # all built before any is written: a font error leaves no half pack
    workbook = build_workbook(report, documents, issuance)
    notice = build_bulletin_document(report, documents, issuance)
    paths.deck.write_bytes(deck)
    paths.workbook.write_bytes(workbook)
    paths.bulletin.write_bytes(notice)
    return paths
