"""Load test: concurrent sessions moving through the pages of one dashboard server.

    python -m benchmarks.load_sessions [--rows 1000000] [--sessions 20] [--minutes 3] [--db URL]
                                       [--client protocol|browser] [--think SECONDS]
                                       [--processes 1,2 | --url URL]

Where the sessions go:
- by default, ONE `streamlit run server.py` on a free 127.0.0.1 port, reached directly;
- `--processes 1,2` (a list): for each count in turn, that many server processes on one database
  (PostgreSQL: --db) behind nginx on one port, as deploy/run.sh runs them (deploy/nginx.py's
  config, sticky cookie); then a table of the runs and the ratio of each run to the first;
- `--url URL`: a deployment already running there (its database given by --db, read only for the
  region list); the server's memory and CPU are not sampled then.

Two kinds of client:
- `protocol` (default): each session speaks Streamlit's own websocket protocol (benchmarks.
  protocol_client): it opens the dashboard (the HTML page, then the stream), asks for each page's
  script run as the frontend does on navigation, and reads every element the server sends. A page
  time runs from the request to `script_finished`: the server's whole work for the page, without the
  browser's drawing. Errors: an exception box or error alert among the elements, a page not found,
  no element, no `script_finished` within 60 s, a broken connection, a traceback in the server log.
  Cheap enough on the client side that 20 sessions measure the server, not the load generator.
- `browser`: one Chromium context per session, pages opened by URL and waited for until drawn
  (details below). On a 2-core machine the browsers themselves take most of the CPU.

Builds (or reuses, when it already holds --rows cases) data/bench/load_<rows>.duckdb with the demo
cases of benchmarks.common, or uses the database of --db as it is (demo cases are loaded only into
an empty one). Starts ONE `streamlit run app.py` on a free 127.0.0.1 port in open mode (the database
must hold no user), then drives --sessions concurrent sessions (one Chromium, one context each,
1920x1080) for --minutes: each loops through overview, drilldown (a random city, then a random county
of it), priority, overdue, satisfaction, weekly and definitions, with the view fixed by URL parameters.

A page time runs from the start of the navigation to the page rendered: `load`, the app connected,
the script run finished, the status widget gone, the main block holding elements and every visible
chart, map and grid drawn. Errors: an exception box, an error box of the app, a navigation that takes
longer than 60 s, a console/page error (but Streamlit's own /<page>/_stcore/health and host-config
404 probes), a request to a host other than 127.0.0.1 (aborted, never sent), and a traceback in the
server log. The server's RSS (its process group) is sampled after the first page load and at the end.

Exit status 1 when there is any error. Slowness is reported, never an error below the timeout.
"""
from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import os
import random
import re
import shutil
import signal
import statistics
import subprocess
import sys
import time
from collections import defaultdict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlencode, urlsplit
from urllib.request import urlopen

import numpy as np
import sqlalchemy as sa

from deploy.nginx import write_standalone
from tests.browser_support import (
    _ALL_DRAWN,
    CHROMIUM,
    CHROMIUM_ARGS,
    VIEWPORT,
    ConsoleEntry,
    StreamlitServer,
    free_port,
    group_alive,
    is_known_noise,
    is_local,
    view_url,
)

from .common import BENCH_DIR, fresh_duckdb, load_demo_million
from .protocol_client import ProtocolSession

NAV_TIMEOUT_S = 60.0
PERIOD = "this_month"
MAX_LOADS_PER_SESSION = 5_000  # a bound on the loop besides the clock
RSS_SAMPLE_EVERY_S = 5.0
STAGGER_S = 0.5  # session i starts i * STAGGER_S after the first
PAGE_ORDER = ("overview", "drilldown_city", "drilldown_county", "priority", "overdue", "satisfaction", "weekly",
              "definitions")
# The default page (overview) is served at the root only: /overview shows it too, but after a console
# error "The page that you have requested does not seem to exist".
PATHS = {"overview": "/", "drilldown_city": "/drilldown", "drilldown_county": "/drilldown",
         "priority": "/priority", "overdue": "/overdue", "satisfaction": "/satisfaction", "weekly": "/weekly",
         "definitions": "/definitions"}
# Anything not on 127.0.0.1 (or data:/blob:, which never reach the network) is aborted by the route.
OUTSIDE = re.compile(r"^(?!(https?|wss?)://127\.0\.0\.1[:/]|data:|blob:)")
# The main block holds elements (a fresh document each navigation: nothing left over from the last page).
_MAIN_FILLED = """() => {
  const app = document.querySelector('[data-testid=stApp]');
  if (!app || app.getAttribute('data-test-connection-state') !== 'CONNECTED') return false;
  if (app.getAttribute('data-test-script-state') !== 'notRunning') return false;
  if (document.querySelector('[data-testid=stStatusWidget]')) return false;
  const main = document.querySelector('[data-testid=stMainBlockContainer]');
  return !!main && main.querySelector('[data-testid=stElementContainer]') !== null;
}"""


# --------------------------------------------------------------------------------------------
# the database
# --------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Database:
    url: str
    engine_name: str
    rows: int
    cities: dict[str, list[str]]  # city code -> its county codes


def _inspect(url: str) -> tuple[str, int, dict[str, list[str]], bool]:
    """Dialect, case count, city -> counties and whether any user exists (the engine is disposed)."""
    from data_access.identity.auth import any_user_exists
    from data_access.store.database import case_count, county_frame
    from data_access.store.engine import make_engine

    engine = make_engine(url)
    try:
        counties = county_frame(engine)
        cities: dict[str, list[str]] = defaultdict(list)
        for code, parent in zip(counties["code"], counties["parent_code"], strict=True):
            cities[str(parent)].append(str(code))
        return engine.dialect.name, case_count(engine), dict(cities), any_user_exists(engine)
    finally:
        engine.dispose()


def prepare_database(rows: int, db_url: str | None) -> Database:
    """The bench DuckDB file with `rows` demo cases (reused when it holds exactly that many), or --db."""
    from data_access.store.database import ensure_initialized
    from data_access.store.engine import make_engine

    if db_url:
        engine = make_engine(db_url)
        try:
            ensure_initialized(engine)  # never replaces data already there
        finally:
            engine.dispose()
        name, count, cities, users = _inspect(db_url)
        if count == 0:
            print(f"{db_url}: no cases; loading {rows:,} demo cases", flush=True)
            engine = make_engine(db_url)
            try:
                load_demo_million(engine, rows)
            finally:
                engine.dispose()
            name, count, cities, users = _inspect(db_url)
        elif count != rows:
            print(f"note: {db_url} already holds {count:,} cases; used as it is (not {rows:,})", flush=True)
        url = db_url
    else:
        path = BENCH_DIR / f"load_{rows}.duckdb"
        url = f"duckdb:///{path}"
        reuse = False
        if path.exists():
            try:
                name, count, cities, users = _inspect(url)
                reuse = count == rows and cities and not users
            except sa.exc.SQLAlchemyError:
                reuse = False
        if reuse:
            print(f"reusing {path} ({count:,} cases)", flush=True)
        else:
            print(f"building {path} with {rows:,} demo cases ...", flush=True)
            start = time.perf_counter()
            engine = fresh_duckdb(f"load_{rows}")
            try:
                load_demo_million(engine, rows)
            finally:
                engine.dispose()
            print(f"  built in {time.perf_counter() - start:.1f} s", flush=True)
            name, count, cities, users = _inspect(url)
    if users:
        raise SystemExit(f"{url} holds users: the sessions would meet the login form; use a database without users")
    if not cities:
        raise SystemExit(f"{url} has no regions")
    return Database(url, name, count, cities)


# --------------------------------------------------------------------------------------------
# what the sessions run against: one server, N servers behind nginx, or a URL
# --------------------------------------------------------------------------------------------

class Proxy:
    """nginx in the foreground, in its own process group, with deploy/nginx.py's standalone config."""

    def __init__(self, ports: list[int], folder: Path) -> None:
        self.port = free_port()
        self.folder = folder
        self.conf = write_standalone(ports, f"127.0.0.1:{self.port}", folder)
        self.process: subprocess.Popen | None = None

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout_s: float = 30.0) -> Proxy:
        nginx = shutil.which("nginx") or "/usr/sbin/nginx"
        self.process = subprocess.Popen([nginx, "-c", str(self.conf)], stdin=subprocess.DEVNULL, start_new_session=True,
                                        stdout=subprocess.DEVNULL, stderr=(self.folder / "stderr.log").open("wb"))
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"nginx exited: {(self.folder / 'stderr.log').read_text(errors='replace')}")
            try:
                with urlopen(f"{self.base_url}/healthz", timeout=2) as response:
                    if response.status == 200:
                        return self
            except OSError:
                pass
            time.sleep(0.2)
        raise TimeoutError(f"nginx at {self.base_url} did not answer /healthz")

    def stop(self) -> None:
        if self.process is None:
            return
        pgid = self.process.pid
        try:
            os.killpg(pgid, signal.SIGTERM)
            self.process.wait(timeout=10)
        except (ProcessLookupError, subprocess.TimeoutExpired):
            pass
        if group_alive(pgid):
            os.killpg(pgid, signal.SIGKILL)


@dataclass
class Target:
    """Where the sessions go: `base_url`, and the processes we started there (none for --url)."""

    base_url: str
    servers: list[StreamlitServer] = field(default_factory=list)
    proxy: Proxy | None = None

    @property
    def groups(self) -> list[int]:
        """Process group ids of the servers (and the proxy): everything the server side runs."""
        out = [s.process.pid for s in self.servers if s.process is not None]
        return out + ([self.proxy.process.pid] if self.proxy is not None and self.proxy.process is not None else [])

    def describe(self) -> str:
        if not self.servers:
            return f"{self.base_url} (a running deployment: memory and CPU not sampled)"
        pids = ", ".join(str(s.process.pid) for s in self.servers if s.process is not None)
        if self.proxy is None:
            return f"{self.base_url} (one process, pid {pids})"
        return f"{self.base_url} (nginx, sticky cookie) -> {len(self.servers)} processes (pids {pids})"

    def start(self) -> Target:
        for server in self.servers:
            server.start()
        if self.proxy is not None:
            self.proxy.start()
        return self

    def stop(self) -> None:
        if self.proxy is not None:
            self.proxy.stop()
        for server in self.servers:
            server.stop()


def make_target(db_url: str, processes: int | None, stamp: str) -> Target:
    """One direct server (processes None), or `processes` servers behind a fresh nginx."""
    if processes is None:
        server = StreamlitServer(db_url, BENCH_DIR / f"load_sessions-{stamp}.log")
        return Target(server.base_url, [server])
    servers = [StreamlitServer(db_url, BENCH_DIR / f"load_sessions-{stamp}-p{processes}-{i}.log") for i in range(processes)]
    proxy = Proxy([s.port for s in servers], BENCH_DIR / f"nginx-{stamp}-p{processes}")
    return Target(proxy.base_url, servers, proxy)


# --------------------------------------------------------------------------------------------
# the server's memory
# --------------------------------------------------------------------------------------------

def _proc_stat(pid: int) -> tuple[int, int] | None:
    """(ppid, pgid) of a process, or None when it is gone."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = text[text.rindex(")") + 2:].split()
    return int(fields[1]), int(fields[2])


def _all_pids() -> list[int]:
    return [int(p) for p in os.listdir("/proc") if p.isdigit()]


def descendants(root: int) -> list[int]:
    """Every live process below `root` (not `root` itself)."""
    children: dict[int, list[int]] = defaultdict(list)
    for pid in _all_pids():
        st = _proc_stat(pid)
        if st is not None:
            children[st[0]].append(pid)
    out, todo = [], [root]
    while todo:
        for child in children.get(todo.pop(), []):
            out.append(child)
            todo.append(child)
    return out


def _vmrss_kb(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def server_rss_mb(pid: int) -> float:
    """RSS of the server and all its child processes, in MB (psutil when installed, else /proc)."""
    try:
        import psutil
    except ImportError:
        psutil = None
    if psutil is not None:
        try:
            proc = psutil.Process(pid)
            procs = [proc, *proc.children(recursive=True)]
            total = 0
            for p in procs:
                try:
                    total += p.memory_info().rss
                except psutil.Error:
                    pass
            return total / 1024 / 1024
        except psutil.Error:
            return 0.0
    return sum(_vmrss_kb(p) for p in [pid, *descendants(pid)]) / 1024


def _cpu_ticks(pid: int) -> int:
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return 0
    fields = text[text.rindex(")") + 2:].split()
    return int(fields[11]) + int(fields[12])  # utime + stime


@dataclass
class CpuSnapshot:
    """CPU ticks so far: the machine (busy, total), and per process of the server group, the browser
    side (everything below this script but the server) and this script itself."""

    at: float
    machine_busy: int
    machine_total: int
    server: dict[int, int]
    browser: dict[int, int]
    own: int
    group_of: dict[int, int] = field(default_factory=dict)  # server pid -> its process group

    @classmethod
    def take(cls, server_groups: list[int]) -> CpuSnapshot:
        values = [int(v) for v in Path("/proc/stat").read_text().splitlines()[0].split()[1:9]]
        total, idle = sum(values), values[3] + values[4]  # idle + iowait
        server, browser, group_of = {}, {}, {}
        for pid in descendants(os.getpid()):
            st = _proc_stat(pid)
            if st is not None:
                if st[1] in server_groups:
                    server[pid], group_of[pid] = _cpu_ticks(pid), st[1]
                else:
                    browser[pid] = _cpu_ticks(pid)
        return cls(time.monotonic(), total - idle, total, server, browser, _cpu_ticks(os.getpid()), group_of)


def group_cpu_seconds(start: CpuSnapshot, end: CpuSnapshot) -> dict[int, float]:
    """CPU seconds per server process group between two snapshots."""
    hz = os.sysconf("SC_CLK_TCK")
    out: dict[int, float] = defaultdict(float)
    for pid, ticks in end.server.items():
        out[end.group_of[pid]] += max(ticks - start.server.get(pid, 0), 0) / hz
    return dict(out)


def cpu_line(start: CpuSnapshot, end: CpuSnapshot, client: str = "chromium + playwright driver") -> str:
    """Where the CPU went between two snapshots, in seconds and in % of all cores over the interval."""
    hz = os.sysconf("SC_CLK_TCK")
    cores = os.cpu_count() or 1
    wall = max(end.at - start.at, 1e-9)

    def grown(a: dict[int, int], b: dict[int, int]) -> float:
        return sum(max(t - a.get(pid, 0), 0) for pid, t in b.items()) / hz

    busy = (end.machine_busy - start.machine_busy) / hz
    server, browser = grown(start.server, end.server), grown(start.browser, end.browser)
    own = (end.own - start.own) / hz
    other = max(busy - server - browser - own, 0.0)

    def pct(seconds: float) -> float:
        return 100 * seconds / (wall * cores)

    return (f"machine busy {pct(busy):.0f}% of {cores} cores over {wall:.0f} s: "
            f"server {server:.0f} s ({pct(server):.0f}%), "
            f"{client} {browser:.0f} s ({pct(browser):.0f}%), this script {own:.0f} s "
            f"({pct(own):.0f}%), other processes {other:.0f} s ({pct(other):.0f}%)")


# --------------------------------------------------------------------------------------------
# the sessions
# --------------------------------------------------------------------------------------------

@dataclass
class Load:
    session: int
    page: str
    url: str
    seconds: float
    errors: list[str]
    phases: tuple[float, float, float] | None = None  # seconds to `load`, to the script run done, to drawn


@dataclass
class Recorder:
    """What one browser context did: requests, console and page errors; read since the last mark."""

    requests: list[str] = field(default_factory=list)
    console: list[ConsoleEntry] = field(default_factory=list)
    page_errors: list[str] = field(default_factory=list)
    marks: tuple[int, int, int] = (0, 0, 0)

    def attach(self, page) -> None:
        page.on("request", lambda request: self.requests.append(request.url))
        page.on("websocket", lambda ws: self.requests.append(ws.url))
        page.on("console", self._on_console)
        page.on("pageerror", lambda error: self.page_errors.append(f"{error.name}: {error.message}"))

    def _on_console(self, message) -> None:
        if message.type == "error":
            self.console.append(ConsoleEntry("console.error", message.text, (message.location or {}).get("url", "")))

    def take(self) -> list[str]:
        """The problems since the last call."""
        r, c, p = self.marks
        out = [f"request to a non-local host: {u}" for u in self.requests[r:] if not is_local(u)
               or urlsplit(u).hostname not in (None, "127.0.0.1")]
        out += [f"console error: {e}" for e in self.console[c:] if not is_known_noise(e)]
        out += [f"page error: {e}" for e in self.page_errors[p:]]
        self.marks = (len(self.requests), len(self.console), len(self.page_errors))
        return out


def plan(rng: random.Random, cities: dict[str, list[str]]) -> list[tuple[str, dict[str, str]]]:
    """One round through the pages: (page name, query parameters)."""
    city = rng.choice(sorted(cities))
    county = rng.choice(cities[city])
    out = []
    for name in PAGE_ORDER:
        params = {"period": PERIOD}
        if name == "drilldown_city":
            params["region"] = city
        elif name == "drilldown_county":
            params["region"] = county
        out.append((name, params))
    return out


async def load_page(page, recorder: Recorder, base_url: str, path: str,
                    params: dict[str, str]) -> tuple[float, list[str], tuple[float, float, float] | None]:
    """Open a page by URL and wait until it is rendered; (seconds, problems, phase times when rendered)."""
    from playwright.async_api import Error as PlaywrightError

    url = view_url(base_url, path, **params)
    errors: list[str] = []
    start = time.perf_counter()
    deadline = start + NAV_TIMEOUT_S

    def left_ms() -> float:
        return max(1.0, (deadline - time.perf_counter()) * 1000)

    phases: list[float] = []
    steps = ("the load event", "the script run to finish", "charts, maps and grids to be drawn")
    try:
        await page.goto(url, wait_until="load", timeout=left_ms())
        phases.append(time.perf_counter() - start)
        await page.wait_for_function(_MAIN_FILLED, timeout=left_ms(), polling=100)
        phases.append(time.perf_counter() - start)
        await page.wait_for_function(_ALL_DRAWN, timeout=left_ms(), polling=100)
        phases.append(time.perf_counter() - start)
        seconds = phases[-1]
    except PlaywrightError as exc:
        seconds = time.perf_counter() - start
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        timeout = "Timeout" in type(exc).__name__ or "Timeout" in first
        waited = " / ".join(f"{t:.1f} s" for t in phases)
        errors.append(f"{'navigation timeout' if timeout else 'navigation error'} after {seconds:.1f} s waiting for "
                      f"{steps[len(phases)]}{f' (earlier steps done at {waited})' if phases else ''}: {first}")
    try:
        exceptions = await page.locator("[data-testid=stException]").all_inner_texts()
        alerts = await page.locator("[data-testid=stAlertContentError]").all_inner_texts()
    except PlaywrightError as exc:
        exceptions, alerts = [], []
        errors.append(f"page unreadable: {str(exc).splitlines()[0]}")
    errors += [f"exception box: {' '.join(t.split())[:300]}" for t in exceptions]
    errors += [f"error box: {' '.join(t.split())[:300]}" for t in alerts]
    errors += recorder.take()
    return seconds, errors, (tuple(phases) if len(phases) == 3 else None)


async def run_session(index: int, browser, base_url: str, db: Database, stop_at: float, loads: list[Load],
                      first_done: asyncio.Event | None, seed: int) -> None:
    context = await browser.new_context(viewport=VIEWPORT, locale="zh-CN", service_workers="block")
    outside: list[str] = []

    async def refuse(route) -> None:  # the page's "request" event has recorded it already
        await route.abort("blockedbyclient")

    await context.route(OUTSIDE, refuse)
    # a websocket to elsewhere is answered by nobody (never connected to its server) and recorded
    await context.route_web_socket(OUTSIDE, lambda ws: outside.append(ws.url))
    try:
        page = await context.new_page()
        recorder = Recorder()
        recorder.attach(page)
        rng = random.Random(seed * 1000 + index)
        count = 0
        while time.monotonic() < stop_at and count < MAX_LOADS_PER_SESSION:
            for name, params in plan(rng, db.cities):
                if time.monotonic() >= stop_at or count >= MAX_LOADS_PER_SESSION:
                    break
                seconds, errors, phases = await load_page(page, recorder, base_url, PATHS[name], params)
                errors += [f"request to a non-local host (aborted): {u}" for u in outside]
                outside.clear()
                loads.append(Load(index, name, view_url("", PATHS[name], **params), seconds, errors, phases))
                count += 1
                if first_done is not None:
                    first_done.set()
                    return  # the warm-up session ends after its single load
        await asyncio.sleep(1.0)  # let late console messages of the last page arrive
        late = recorder.take() + [f"request to a non-local host (aborted): {u}" for u in outside]
        if late and loads:
            own = [ld for ld in loads if ld.session == index]
            if own:
                own[-1].errors += [f"(after render) {e}" for e in late]
    finally:
        await context.close()


def servers_rss_mb(pids: list[int]) -> float:
    """RSS of several servers (each with its children), in MB."""
    return sum(server_rss_mb(pid) for pid in pids)


async def sample_rss(pids: list[int], samples: list[float], stop: asyncio.Event) -> None:
    while not stop.is_set():
        samples.append(servers_rss_mb(pids))
        try:
            await asyncio.wait_for(stop.wait(), RSS_SAMPLE_EVERY_S)
        except TimeoutError:
            pass


@dataclass
class Result:
    loads: list[Load]
    warmup: Load | None
    rss_start: float
    rss_end: float
    rss_peak: float
    wall_s: float
    cpu: str
    warm_errors: list[str] = field(default_factory=list)  # errors of the warm-up round (protocol client)
    rss_samples: list[float] = field(default_factory=list)  # every RSS_SAMPLE_EVERY_S, from the start
    cpu_by_process: list[float] = field(default_factory=list)  # CPU seconds of each server group (Target.groups order)


async def drive(server: Target, db: Database, sessions: int, minutes: float, seed: int,
                browser_pids: list[int]) -> Result:
    from playwright.async_api import async_playwright

    pw = await async_playwright().start()
    browser = None
    try:
        before = set(descendants(os.getpid()))
        browser = await pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True)
        browser_pids.extend(p for p in descendants(os.getpid()) if p not in before)

        # the first page load (cold caches), then the start sample
        warm: list[Load] = []
        await run_session(-1, browser, server.base_url, db, time.monotonic() + NAV_TIMEOUT_S * 2, warm,
                          asyncio.Event(), seed)
        return await measured(server, sessions, minutes,
                              lambda i, stop_at, loads: run_session(i, browser, server.base_url, db, stop_at, loads,
                                                                    None, seed),
                              warm[0] if warm else None)
    finally:
        browser_pids.extend(p for p in descendants(os.getpid()) if p not in browser_pids)  # renderers too
        if browser is not None:
            try:
                await asyncio.wait_for(browser.close(), 30)
            except Exception:
                pass
        try:
            await asyncio.wait_for(pw.stop(), 30)
        except Exception:
            pass


async def run_protocol_session(index: int, base_url: str, db: Database, stop_at: float, loads: list[Load],
                               seed: int, think_s: float, rounds: int | None = None) -> None:
    """Rounds through the pages over the websocket protocol; each round opens the dashboard afresh
    (a new session, as a supervisor opening a link), then navigates page by page within it."""
    rng = random.Random(seed * 1000 + index)
    count = done = 0
    while time.monotonic() < stop_at and count < MAX_LOADS_PER_SESSION and (rounds is None or done < rounds):
        session = ProtocolSession(base_url, NAV_TIMEOUT_S)
        try:
            await session.connect()
        except Exception as exc:
            loads.append(Load(index, "(connect)", "/", 0.0, [f"connect: {type(exc).__name__}: {exc}"]))
            await asyncio.sleep(1.0)
            continue
        try:
            for name, params in plan(rng, db.cities):
                if time.monotonic() >= stop_at or count >= MAX_LOADS_PER_SESSION:
                    break
                path = PATHS[name]
                run = await session.open_page(path.strip("/"), urlencode(params))
                loads.append(Load(index, name, view_url("", path, **params), run.seconds, run.errors))
                count += 1
                if think_s:
                    await asyncio.sleep(rng.uniform(0.5, 1.5) * think_s)
        finally:
            await session.close()
        done += 1


async def drive_protocol(server: Target, db: Database, sessions: int, minutes: float, seed: int,
                         think_s: float) -> Result:
    """`sessions` protocol clients against the server for `minutes`, after one warm-up round."""
    warm: list[Load] = []
    await run_protocol_session(-1, server.base_url, db, time.monotonic() + NAV_TIMEOUT_S * 10, warm, seed, 0.0,
                               rounds=1)
    warmup = next((ld for ld in warm if ld.page == "overview"), warm[0] if warm else None)
    # the rest of the warm-up round is warm-up too (the first run of each page: cold caches)
    return await measured(server, sessions, minutes,
                          lambda i, stop_at, loads: run_protocol_session(i, server.base_url, db, stop_at, loads, seed,
                                                                         think_s),
                          warmup, client="protocol clients",
                          warm_errors=[f"(warm-up) {ld.page}: {e}" for ld in warm if ld is not warmup for e in ld.errors])


async def measured(server: Target, sessions: int, minutes: float,
                   session: Callable[[int, float, list[Load]], Awaitable[None]], warmup: Load | None,
                   client: str = "chromium + playwright driver", warm_errors: list[str] | None = None) -> Result:
    """Run `sessions` staggered sessions until `minutes` have passed, sampling the server's memory
    and everybody's CPU; session(i, stop_at, loads) appends its page loads to `loads`."""
    groups = server.groups
    rss_start = servers_rss_mb(groups)
    cpu_start = CpuSnapshot.take(groups)
    samples = [rss_start]
    stop = asyncio.Event()
    sampler = asyncio.create_task(sample_rss(groups, samples, stop))
    loads: list[Load] = []
    start = time.monotonic()
    stop_at = start + minutes * 60

    async def staggered(i: int) -> None:
        await asyncio.sleep(i * STAGGER_S)
        await session(i, stop_at, loads)

    outcomes = await asyncio.gather(*(staggered(i) for i in range(sessions)), return_exceptions=True)
    wall = time.monotonic() - start
    cpu_end = CpuSnapshot.take(groups)
    for i, outcome in enumerate(outcomes):
        if isinstance(outcome, BaseException):
            loads.append(Load(i, "(session)", "", 0.0, [f"session crashed: {outcome!r}"]))
    stop.set()
    await sampler
    rss_end = servers_rss_mb(groups)
    samples.append(rss_end)
    per_group = group_cpu_seconds(cpu_start, cpu_end)
    return Result(loads, warmup, rss_start, rss_end, max(samples), wall, cpu_line(cpu_start, cpu_end, client),
                  warm_errors or [], samples, [per_group.get(g, 0.0) for g in groups])


def kill_pids(pids: list[int]) -> None:
    """SIGKILL processes we started (the browser and its children) that are still alive."""
    for pid in pids:
        try:
            os.kill(pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass


# --------------------------------------------------------------------------------------------
# the report
# --------------------------------------------------------------------------------------------

def p95(values: list[float]) -> float:
    return float(np.percentile(values, 95)) if values else float("nan")


def med(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


def server_problems(target: Target) -> list[str]:
    """Tracebacks and guarded database errors in the logs of the servers we started."""
    out = []
    for server in target.servers:
        out += _server_problems(server)
    return out


def _server_problems(server: StreamlitServer) -> list[str]:
    out = []
    tracebacks = server.tracebacks()
    if tracebacks:
        out += [f"server traceback: {block.strip()[:2000]}" for block in
                re.split(r"(?m)^(?=\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d+ )", tracebacks) if block.strip()]
    try:
        log = server.log_path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        log = ""
    out += [f"server log: {line.strip()[:500]}" for line in log.splitlines() if "database error in section" in line]
    return out


@dataclass(frozen=True)
class Summary:
    """One run's headline figures, for the comparison of process counts."""

    label: str
    loads: int
    errors: int
    median_s: float
    p95_s: float
    per_minute: float
    rss_end_mb: float


def report(args, db: Database, result: Result, server: Target) -> Summary:
    loads = [ld for ld in result.loads if ld.page != "(session)"]
    failed = [ld for ld in result.loads if ld.errors]
    if result.warmup is not None and result.warmup.errors:
        failed.insert(0, result.warmup)
    extra = server_problems(server)
    ok_times = [ld.seconds for ld in loads if not ld.errors]
    all_times = [ld.seconds for ld in loads]
    extra = result.warm_errors + extra
    n_errors = sum(len(ld.errors) for ld in failed) + len(extra)

    print()
    print(f"client        {args.client}" + (f" (think time ~{args.think:g} s between pages)" if args.client == "protocol" else ""))
    print(f"sessions      {args.sessions}")
    print(f"minutes       {args.minutes:g} (wall {result.wall_s / 60:.2f} min of sessions)")
    print(f"rows          {db.rows:,}")
    print(f"engine        {db.engine_name} ({db.url})")
    print(f"server        {server.describe()}")
    if result.warmup is not None:
        print(f"first load    {result.warmup.page} {result.warmup.seconds:.2f} s "
              "(cold caches, not in the figures below)")
    print(f"page loads    {len(loads)} ({len(loads) / max(result.wall_s, 1e-9) * 60:.1f} per minute)")
    print(f"errors        {n_errors} (in {len(failed)} page loads{', and server log' if extra else ''})")
    print(f"page time     median {med(all_times):.2f} s, p95 {p95(all_times):.2f} s, max "
          f"{max(all_times, default=float('nan')):.2f} s (all loads; without errors: median {med(ok_times):.2f} s, "
          f"p95 {p95(ok_times):.2f} s)")
    print("per page      page               loads  median s   p95 s    max s" + (
        " | rendered loads, median s to: load event, script done, drawn" if args.client == "browser" else ""))
    for name in PAGE_ORDER:
        times = [ld.seconds for ld in loads if ld.page == name]
        phases = [ld.phases for ld in loads if ld.page == name and ld.phases]
        split = (" ".join(f"{med([p[i] for p in phases]):6.2f}" for i in range(3)) if phases
                 else "     -      -      -")
        if times:
            print(f"              {name:18s} {len(times):5d}  {med(times):8.2f} {p95(times):7.2f} {max(times):8.2f}"
                  + (f" | {len(phases):5d}  {split}" if args.client == "browser" else ""))
    print(f"CPU           {result.cpu}")
    if len(result.cpu_by_process) > 1:
        print(f"CPU by group  {', '.join(f'{sec:.0f} s' for sec in result.cpu_by_process)} "
              "(each server process, then nginx)")
    print(f"server RSS    start {result.rss_start:.0f} MB, end {result.rss_end:.0f} MB "
          f"({result.rss_end - result.rss_start:+.0f} MB), peak {result.rss_peak:.0f} MB")
    per_minute = result.rss_samples[::max(int(60 / RSS_SAMPLE_EVERY_S), 1)]
    if len(per_minute) > 2:
        print(f"RSS by minute {', '.join(f'{mb:.0f}' for mb in per_minute)} MB")
    if n_errors:
        print("\nERRORS")
        for ld in failed:
            for e in ld.errors:
                print(f"  session {ld.session} {ld.page} {ld.url} ({ld.seconds:.1f} s): {e}")
        for e in extra:
            print(f"  {e}")
    for srv in server.servers:
        print(f"server log: {srv.log_path}")
    return Summary(f"{len(server.servers)} process(es)" if server.proxy is not None else server.base_url, len(loads),
                   n_errors, med(all_times), p95(all_times), len(loads) / max(result.wall_s, 1e-9) * 60, result.rss_end)


def compare(summaries: list[Summary]) -> None:
    """The runs side by side, each against the first."""
    first = summaries[0]
    print("\nCOMPARISON    run             loads  errors  median s   p95 s  pages/min  RSS end MB  throughput ratio")
    for s in summaries:
        print(f"              {s.label:15s} {s.loads:5d}  {s.errors:6d}  {s.median_s:8.2f} {s.p95_s:7.2f}  {s.per_minute:9.1f}"
              f"  {s.rss_end_mb:10.0f}  {s.per_minute / max(first.per_minute, 1e-9):.2f}x")


def _interrupt(signum, frame) -> None:
    raise KeyboardInterrupt(f"signal {signum}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=1_000_000, help="demo cases in the bench database")
    parser.add_argument("--sessions", type=int, default=20, help="concurrent sessions")
    parser.add_argument("--minutes", type=float, default=3.0, help="how long the sessions run")
    parser.add_argument("--db", default=None, help="use this database URL instead of data/bench/load_<rows>.duckdb")
    parser.add_argument("--seed", type=int, default=1, help="seed of the random city/county choices")
    parser.add_argument("--client", choices=("protocol", "browser"), default="protocol",
                        help="Streamlit's websocket protocol (default) or Chromium")
    parser.add_argument("--think", type=float, default=1.0,
                        help="protocol client: mean seconds a supervisor looks at a page before the next (0: none)")
    parser.add_argument("--processes", default=None,
                        help="comma-separated process counts (e.g. 1,2): each run puts that many servers behind nginx")
    parser.add_argument("--url", default=None, help="drive a deployment already running at this URL (needs --db)")
    args = parser.parse_args(argv)
    if args.sessions < 1 or args.minutes <= 0 or args.rows < 1 or args.think < 0:
        parser.error("--sessions, --minutes and --rows must be positive, --think not negative")
    counts: list[int | None] = [None]
    if args.processes:
        try:
            counts = [int(n) for n in args.processes.split(",")]
        except ValueError:
            parser.error("--processes: a comma-separated list of counts, e.g. 1,2")
        if any(n < 1 for n in counts):
            parser.error("--processes: counts of 1 or more")
        if max(counts) > 1 and not (args.db or "").startswith("postgresql"):
            parser.error("several processes share one database server: give --db postgresql+psycopg://...")
        if shutil.which("nginx") is None and not Path("/usr/sbin/nginx").exists():
            parser.error("--processes needs nginx (apt-get install nginx)")
    if args.url and (args.processes or not args.db):
        parser.error("--url needs --db (its database, for the region list) and excludes --processes")
    if args.client == "browser" and not CHROMIUM.exists():
        raise SystemExit(f"{CHROMIUM} not found")

    signal.signal(signal.SIGTERM, _interrupt)  # SIGTERM ends the run through the finally blocks, like Ctrl-C

    db = prepare_database(args.rows, args.db)
    stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    summaries = []
    for count in counts:
        target = Target(args.url.rstrip("/")) if args.url else make_target(db.url, count, stamp)
        summaries.append(run_once(args, db, target))
    if len(summaries) > 1:
        compare(summaries)
    return 1 if any(s.errors for s in summaries) else 0


def run_once(args, db: Database, target: Target) -> Summary:
    """Start the target's processes, drive the sessions against it, report, stop."""
    browser_pids: list[int] = []
    print(f"\n{args.sessions} sessions x {args.minutes:g} min against {db.rows:,} cases on {db.engine_name}", flush=True)
    try:
        target.start()
        print(f"up: {target.describe()}; driving the sessions ...", flush=True)
        if args.client == "protocol":
            result = asyncio.run(drive_protocol(target, db, args.sessions, args.minutes, args.seed, args.think))
        else:
            result = asyncio.run(drive(target, db, args.sessions, args.minutes, args.seed, browser_pids))
        return report(args, db, result, target)
    finally:
        target.stop()
        groups = set(target.groups)
        # whatever of the browser outlived browser.close() (never a server's group: stopped above)
        kill_pids([p for p in browser_pids if (st := _proc_stat(p)) is not None and st[1] not in groups])


if __name__ == "__main__":
    sys.exit(main())
