"""A debug mode for the server's memory (benchmarks/memory_profile.py drives it; off unless asked for).

With PETITION_TRACEMALLOC=N in the environment, server.py starts tracemalloc (N frames per
allocation) before anything else is imported, and a daemon thread waits for a request file: when
`<PETITION_TRACEMALLOC_DUMP>.request` appears, it collects garbage, writes a tracemalloc snapshot to
PETITION_TRACEMALLOC_DUMP and a JSON of counts beside it (`.json`: live objects by type, the Streamlit
sessions held), then deletes the request. A file, not a signal: the request works from any thread
and needs no handler in Streamlit's main thread. tracemalloc slows the server (more with more
frames): never set it on a production server.
"""
from __future__ import annotations

import gc
import json
import os
import threading
import time
import tracemalloc
from collections import Counter
from pathlib import Path

ENV_FRAMES = "PETITION_TRACEMALLOC"
ENV_DUMP = "PETITION_TRACEMALLOC_DUMP"


def install_from_env() -> bool:
    """Start the debug mode when the environment asks for it; True when it is on."""
    frames = os.environ.get(ENV_FRAMES, "").strip()
    if not frames:
        return False
    tracemalloc.start(max(int(frames), 1))
    target = Path(os.environ.get(ENV_DUMP) or "tracemalloc.snapshot").resolve()
    threading.Thread(target=_serve, args=(target,), name="memory-debug", daemon=True).start()
    return True


def _serve(target: Path) -> None:
    request = target.with_name(target.name + ".request")
    while True:
        if request.exists():
            try:
                dump(target)
            finally:
                request.unlink(missing_ok=True)
        time.sleep(0.25)


def dump(target: Path) -> None:
    """Write the snapshot and the counts (each through a temporary file, so a reader never sees half)."""
    gc.collect()
    snapshot = tracemalloc.take_snapshot()
    tmp = target.with_name(target.name + ".tmp")
    snapshot.dump(str(tmp))
    counts = Counter(type(o).__qualname__ for o in gc.get_objects())
    current, peak = tracemalloc.get_traced_memory()
    facts = {"traced_bytes": current, "traced_peak_bytes": peak, "sessions": _session_count(),
             "objects_by_type": counts.most_common(30)}
    json_tmp = target.with_name(target.name + ".json.tmp")
    json_tmp.write_text(json.dumps(facts), encoding="utf-8")
    os.replace(json_tmp, target.with_name(target.name + ".json"))
    os.replace(tmp, target)


def _session_count() -> int | None:
    """How many sessions Streamlit holds (connected, and disconnected ones not yet expired)."""
    try:
        from streamlit.runtime import Runtime

        manager = Runtime.instance()._session_mgr  # private, and only for this debug count
        return len(manager.list_sessions())
    except Exception:
        return None
