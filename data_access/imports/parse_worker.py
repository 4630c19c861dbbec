"""Parse an uploaded file in a worker process: its memory capped, its time limited (data_access/imports/limits.py).

Every session of the dashboard shares one server process; a file built to expand (a workbook of ten
million rows in 11 MB, a header of a million columns) must cost its uploader a refusal, not the server its
memory. The worker is forked from a small fork server started once (multiprocessing's "forkserver": the
server is a fresh single-threaded process, so forking it is safe where forking the threaded dashboard is
not), with the reader already imported, so a parse starts in milliseconds. The worker caps its address
space (RLIMIT_AS) at max_memory_mb, reads the file from a private temporary directory and hands back the
cells as an Arrow file; the parent kills it at max_seconds.
"""
from __future__ import annotations

import io
import logging
import multiprocessing
import os
import resource
import tempfile
from collections.abc import Callable
from multiprocessing import forkserver, popen_forkserver, reduction, spawn, util
from multiprocessing.connection import Connection
from multiprocessing.context import BaseContext, ForkServerProcess, set_spawning_popen
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pyarrow as pa
import pyarrow.ipc as ipc

from data_access.imports.limits import MB, ImportLimits, out_of_memory, out_of_time
from data_access.reference.problems import DataRejected, Problem, ProblemKind

if TYPE_CHECKING:
    from data_access.imports.reader import SourceTable

logger = logging.getLogger(__name__)
_context: BaseContext | None = None
_GRACE_SECONDS = 5  # beyond max_seconds: the worker's own deadline refuses first, in its own words


def _worker_context() -> BaseContext:
    global _context
    if _context is None:
        context = multiprocessing.get_context("forkserver")
        context.set_forkserver_preload(["data_access.imports.reader"])  # imported once, in the fork server
        _context = context
    return _context


class _WithoutMain(popen_forkserver.Popen):
    """multiprocessing's forkserver launch, minus one thing: the worker does not import the parent's __main__.
    Streamlit runs a page with the page as __main__ (and AppTest likewise), a script may call the importer at
    its top level: re-running either in the worker is wrong, and the worker needs nothing of it (its target is
    a function of this module). The rest is Python 3.11's Popen._launch as it is; tests/test_parse_worker.py
    fails on an interpreter whose launch differs."""

    def _launch(self, process_obj: Any) -> None:
        prep_data = {key: value for key, value in spawn.get_preparation_data(process_obj._name).items()
                     if key not in ("init_main_from_name", "init_main_from_path")}
        buf = io.BytesIO()
        set_spawning_popen(self)
        try:
            reduction.dump(prep_data, buf)
            reduction.dump(process_obj, buf)
        finally:
            set_spawning_popen(None)
        self.sentinel, w = forkserver.connect_to_new_process(self._fds)  # type: ignore[attr-defined]
        _parent_w = os.dup(w)
        self.finalizer = util.Finalize(self, util.close_fds, (_parent_w, self.sentinel))  # type: ignore[attr-defined]
        with open(w, "wb", closefd=True) as f:
            f.write(buf.getbuffer())
        self.pid = forkserver.read_signed(self.sentinel)


class _ParseProcess(ForkServerProcess):
    @staticmethod
    def _Popen(process_obj: Any) -> Any:
        return _WithoutMain(process_obj)


def parse_in_worker(data: bytes, filename: str, *, header_row: int | None, sheet: str | None,
                    known: Callable[[str], bool] | None, limits: ImportLimits) -> SourceTable:
    """read_source's parse (data_access.imports.reader.parse_source) run in a capped worker: the same SourceTable, or the
    same DataRejected; a worker that runs out of memory or time is a refusal naming that limit."""
    from data_access.imports.reader import SourceTable  # the reader imports this module

    with tempfile.TemporaryDirectory(prefix="petition-parse-") as folder:
        work = Path(folder)
        (work / "in").write_bytes(data)
        receiver, sender = _worker_context().Pipe(duplex=False)
        worker = _ParseProcess(target=_parse, args=(sender, str(work), filename, header_row, sheet, known, limits),
                               daemon=True, name="petition-parse")
        worker.start()
        sender.close()
        answer, timed_out = None, False
        try:
            if receiver.poll(limits.max_seconds + _GRACE_SECONDS):
                answer = receiver.recv()
            else:
                timed_out = worker.is_alive()
        except EOFError:  # the worker died without a word: its allocator gave up below the cap, or the kernel
            pass
        finally:
            receiver.close()
            if answer is None and worker.is_alive():
                worker.kill()
            worker.join()
        if answer is None:
            logger.warning("parse of %s ended without an answer (exit code %s)", filename, worker.exitcode)
            raise out_of_time(limits) if timed_out else out_of_memory(limits)
        kind, payload = answer
        if kind == "rejected":
            problems, totals = payload
            raise DataRejected(problems, totals=totals)
        if kind == "memory":
            raise out_of_memory(limits)
        if kind == "error":
            raise DataRejected([Problem(None, None, None, f"读取文件时出错（{payload}），未写入",
                                        f"the file could not be read ({payload}); nothing written", ProblemKind.FILE)])
        header_row_read, skipped, sheet_read = payload
        with pa.memory_map(str(work / "cells.arrow")) as source:
            table = ipc.open_file(source).read_all()
        frame = table.to_pandas()
        rows = np.load(work / "rows.npy")
    return SourceTable(frame, rows, header_row_read, tuple(skipped), sheet_read)


def _parse(sender: Connection, folder: str, filename: str, header_row: int | None, sheet: str | None,
           known: Callable[[str], bool] | None, limits: ImportLimits) -> None:
    """The worker: cap the address space, parse, write the cells (Arrow) and row numbers, send how it went."""
    cap = limits.max_memory_mb * MB
    resource.setrlimit(resource.RLIMIT_AS, (cap, cap))
    from data_access.imports.reader import parse_source

    work = Path(folder)
    try:
        source = parse_source((work / "in").read_bytes(), filename, header_row=header_row, sheet=sheet, known=known,
                              limits=limits)
        with pa.OSFile(str(work / "cells.arrow"), "wb") as sink, ipc.new_file(sink, source.table.schema) as writer:
            writer.write_table(source.table)
        np.save(work / "rows.npy", np.asarray(source.rows, dtype=np.int64))
        answer: tuple[str, object] = ("ok", (source.header_row, source.skipped_rows, source.sheet))
    except DataRejected as rejected:
        answer = ("rejected", (rejected.problems, rejected.totals))
    except MemoryError:
        answer = ("memory", None)
    except Exception as exc:  # a fault of the reader: the parent refuses the file, naming its kind
        if _reached(cap):  # what failed was an allocation at the cap (Arrow: a thread it could not start ...)
            answer = ("memory", None)
        else:
            logger.exception("parse of %s failed in the worker", filename)
            answer = ("error", type(exc).__name__)
    try:
        sender.send(answer)
    except MemoryError:
        sender.send(("memory", None))
    finally:
        sender.close()


def _reached(cap: int) -> bool:
    """Whether this process's address space came within 64 MB of `cap` (Linux: VmPeak of /proc/self/status)."""
    try:
        status = Path("/proc/self/status").read_text()
    except OSError:
        return False
    for line in status.splitlines():
        if line.startswith("VmPeak:"):
            return int(line.split()[1]) * 1024 >= cap - 64 * MB
    return False
