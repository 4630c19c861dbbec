"""Where a server's memory goes: RSS and tracemalloc's top allocations after K sessions.

    python -m benchmarks.memory_profile [--sessions 20] [--rows 1000000] [--db URL] [--frames 8] [--top 25]
                                        [--no-tracemalloc] [--env NAME=VALUE ...]

Starts one `streamlit run server.py` (on data/bench/load_<rows>.duckdb as benchmarks.load_sessions
builds it, or --db) in the memory debug mode of ui/memory_debug.py, opens one protocol session
through every page (the warm-up: caches filled, modules imported) and takes a snapshot; then opens
K more sessions at once, each through every page, and keeps them connected while it takes a second
snapshot. It prints:
- the server's RSS after each step, split into anonymous memory (heaps) and file-backed pages
  (code, mapped libraries) from /proc/<pid>/smaps_rollup;
- tracemalloc's traced Python allocations (what Python objects hold) against that RSS: the rest is
  native memory (DuckDB's buffer pool and query memory, Arrow buffers, glibc's per-thread arenas and
  the fragmentation in them);
- the top allocations by source line, and the growth from the warm-up to K sessions;
- Streamlit's own accounting (/_stcore/metrics, cache_memory_bytes): each st.cache_data function
  and the session states.
--no-tracemalloc measures RSS alone (tracemalloc itself costs memory and time); --env passes a
variable to the server (e.g. MALLOC_ARENA_MAX=2) to compare.
"""
from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import os
import re
import sys
import time
import tracemalloc
import urllib.request
from pathlib import Path

import sqlalchemy as sa

from tests.browser_support import StreamlitServer, copy_database

from .common import BENCH_DIR
from .load_sessions import PAGE_ORDER, PATHS, PERIOD, plan, prepare_database, server_rss_mb
from .protocol_client import ProtocolSession

DUMP_TIMEOUT_S = 300.0


def smaps_mb(pid: int) -> dict[str, float]:
    """Rss, Anonymous and file-backed memory of a process in MB (/proc/<pid>/smaps_rollup)."""
    out: dict[str, float] = {}
    try:
        for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
            name, _, rest = line.partition(":")
            if name in ("Rss", "Anonymous", "Pss_File", "Pss_Anon"):
                out[name] = int(rest.split()[0]) / 1024
    except OSError:
        pass
    return out


def request_dump(target: Path) -> tuple[tracemalloc.Snapshot, dict]:
    """Ask the server for a snapshot (ui/memory_debug.py) and read it."""
    for old in (target, target.with_name(target.name + ".json")):
        old.unlink(missing_ok=True)
    request = target.with_name(target.name + ".request")
    request.write_text("", encoding="utf-8")
    deadline = time.monotonic() + DUMP_TIMEOUT_S
    while request.exists() or not target.exists():
        if time.monotonic() > deadline:
            raise TimeoutError("the server wrote no snapshot (is PETITION_TRACEMALLOC set?)")
        time.sleep(0.5)
    facts = json.loads(target.with_name(target.name + ".json").read_text(encoding="utf-8"))
    return tracemalloc.Snapshot.load(str(target)), facts


def streamlit_cache_stats(base_url: str) -> list[tuple[str, float]]:
    """cache_memory_bytes from /_stcore/metrics, summed per (cache type, function), in MB, largest first."""
    try:
        with urllib.request.urlopen(f"{base_url}/_stcore/metrics", timeout=60) as response:
            text = response.read().decode("utf-8", errors="replace")
    except OSError as exc:
        return [(f"(metrics unavailable: {exc})", 0.0)]
    sums: dict[str, float] = {}
    for line in text.splitlines():
        found = re.match(r'cache_memory_bytes\{cache_type="([^"]*)",cache="([^"]*)"\} (\S+)', line)
        if found:
            key = f"{found.group(1)} {found.group(2).rsplit(':', 1)[-1] if ':' in found.group(2) else found.group(2)}"
            sums[key] = sums.get(key, 0.0) + float(found.group(3)) / 1024 / 1024
    return sorted(sums.items(), key=lambda kv: -kv[1])


async def open_sessions(base_url: str, cities: dict[str, list[str]], count: int, seed: int) -> tuple[list[ProtocolSession], list[str]]:
    """`count` sessions, each through every page once (concurrently); left connected."""
    import random

    sessions = [ProtocolSession(base_url, 300) for _ in range(count)]
    errors: list[str] = []

    async def walk(i: int, session: ProtocolSession) -> None:
        await asyncio.sleep(i * 0.3)
        await session.connect()
        for name, params in plan(random.Random(seed * 1000 + i), cities):
            run = await session.open_page(PATHS[name].strip("/"), "&".join(f"{k}={v}" for k, v in params.items()))
            errors.extend(f"session {i} {name}: {e}" for e in run.errors)

    await asyncio.gather(*(walk(i, s) for i, s in enumerate(sessions)))
    return sessions, errors


async def close_all(sessions: list[ProtocolSession]) -> None:
    await asyncio.gather(*(s.close() for s in sessions), return_exceptions=True)


def top_lines(snapshot: tracemalloc.Snapshot, top: int, root: str) -> list[str]:
    stats = snapshot.statistics("lineno")
    return [_fmt(stat.traceback[0], stat.size, stat.count, root) for stat in stats[:top]]


def top_growth(after: tracemalloc.Snapshot, before: tracemalloc.Snapshot, top: int, root: str) -> list[str]:
    stats = after.compare_to(before, "lineno")
    return [_fmt(stat.traceback[0], stat.size_diff, stat.count_diff, root, signed=True) for stat in stats[:top]]


def top_files(snapshot: tracemalloc.Snapshot, top: int, root: str) -> list[str]:
    """Allocations summed per package folder (site-packages/<pkg>, or the project's folder)."""
    sums: dict[str, int] = {}
    for stat in snapshot.statistics("filename"):
        name = stat.traceback[0].filename
        if "site-packages/" in name:
            key = name.split("site-packages/")[1].split("/")[0]
        elif name.startswith(root):
            key = "(project) " + name[len(root):].lstrip("/").split("/")[0]
        else:
            key = "(stdlib/other) " + Path(name).name
        sums[key] = sums.get(key, 0) + stat.size
    return [f"{size / 1024 / 1024:9.1f} MB  {key}" for key, size in sorted(sums.items(), key=lambda kv: -kv[1])[:top]]


def _fmt(frame: tracemalloc.Frame, size: int, count: int, root: str, signed: bool = False) -> str:
    name = frame.filename
    name = name[len(root):].lstrip("/") if name.startswith(root) else name.split("site-packages/")[-1]
    mb = size / 1024 / 1024
    return f"{mb:+9.1f} MB {count:+9d} blocks  {name}:{frame.lineno}" if signed else \
        f"{mb:9.1f} MB {count:9d} blocks  {name}:{frame.lineno}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sessions", type=int, default=20, help="sessions held open at the second snapshot")
    parser.add_argument("--rows", type=int, default=1_000_000, help="demo cases in the bench database")
    parser.add_argument("--db", default=None, help="use this database URL instead of data/bench/load_<rows>.duckdb")
    parser.add_argument("--frames", type=int, default=8, help="tracemalloc frames per allocation")
    parser.add_argument("--top", type=int, default=25, help="lines of each list")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--no-tracemalloc", action="store_true", help="RSS and Streamlit's accounting only")
    parser.add_argument("--env", action="append", default=[], help="NAME=VALUE for the server's environment")
    args = parser.parse_args(argv)

    db = prepare_database(args.rows, args.db)
    stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    dump = BENCH_DIR / f"memory-{stamp}.snapshot"
    saved = {k: os.environ.get(k) for k in ("PETITION_TRACEMALLOC", "PETITION_TRACEMALLOC_DUMP",
                                            *(e.split("=", 1)[0] for e in args.env))}
    if not args.no_tracemalloc:
        os.environ["PETITION_TRACEMALLOC"] = str(args.frames)
        os.environ["PETITION_TRACEMALLOC_DUMP"] = str(dump)
    for item in args.env:
        name, _, value = item.partition("=")
        os.environ[name] = value
    url = db.url
    if args.db is None:  # a private copy: the bench file stays free for another run (DuckDB: one process per file)
        url = copy_database(Path(sa.make_url(db.url).database or ""), BENCH_DIR / f"memory-{stamp}.duckdb")
    server = StreamlitServer(url, BENCH_DIR / f"memory-{stamp}.log")
    root = str(Path(__file__).resolve().parent.parent)
    try:
        server.start()
    finally:
        for name, value in saved.items():  # the server has its environment; ours is restored
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
    pid = server.process.pid
    print(f"server pid {pid} on {db.engine_name} ({db.rows:,} cases), tracemalloc "
          f"{'off' if args.no_tracemalloc else f'{args.frames} frames'}, env {' '.join(args.env) or '-'}", flush=True)
    print(f"RSS at start          {server_rss_mb(pid):7.0f} MB  {smaps_mb(pid)}", flush=True)
    try:
        warm, errors = asyncio.run(open_sessions(server.base_url, db.cities, 1, args.seed))
        asyncio.run(close_all(warm))
        print(f"RSS after 1 session   {server_rss_mb(pid):7.0f} MB  {smaps_mb(pid)}", flush=True)
        before = facts_before = None
        if not args.no_tracemalloc:
            before, facts_before = request_dump(dump)
            print(f"  traced by tracemalloc {facts_before['traced_bytes'] / 1024 / 1024:7.0f} MB, "
                  f"sessions held {facts_before['sessions']}", flush=True)
        start = time.monotonic()
        sessions, more = asyncio.run(open_sessions(server.base_url, db.cities, args.sessions, args.seed + 1))
        errors += more
        print(f"{args.sessions} sessions through {len(PAGE_ORDER)} pages each ({PERIOD}) in "
              f"{time.monotonic() - start:.0f} s, {len(errors)} errors", flush=True)
        print(f"RSS with {args.sessions} sessions {server_rss_mb(pid):7.0f} MB  {smaps_mb(pid)}", flush=True)
        if before is not None:
            after, facts = request_dump(dump)
            print(f"  traced by tracemalloc {facts['traced_bytes'] / 1024 / 1024:7.0f} MB "
                  f"(peak {facts['traced_peak_bytes'] / 1024 / 1024:.0f} MB), sessions held {facts['sessions']}")
            print(f"\nTOP {args.top} ALLOCATIONS by line, {args.sessions} sessions held")
            print("\n".join(top_lines(after, args.top, root)))
            print(f"\nTOP {args.top} GROWTH from 1 session to {args.sessions}")
            print("\n".join(top_growth(after, before, args.top, root)))
            print("\nBY PACKAGE")
            print("\n".join(top_files(after, args.top, root)))
            print("\nLIVE OBJECTS by type: " + ", ".join(f"{name} {n:,}" for name, n in facts["objects_by_type"][:15]))
        print("\nSTREAMLIT cache_memory_bytes (MB)")
        for name, mb in streamlit_cache_stats(server.base_url)[:args.top]:
            print(f"{mb:9.1f} MB  {name}")
        asyncio.run(close_all(sessions))
        for e in errors[:20]:
            print(f"ERROR {e}")
        print(f"\nserver log: {server.log_path}")
        return 1 if errors else 0
    finally:
        server.stop()
        for leftover in [*BENCH_DIR.glob(f"memory-{stamp}.snapshot*"), *BENCH_DIR.glob(f"memory-{stamp}.duckdb*")]:
            leftover.unlink(missing_ok=True)


if __name__ == "__main__":
    sys.exit(main())
