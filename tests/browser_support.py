"""Helpers for the browser tests: a `streamlit run` server on a free localhost port, Debian's
Chromium through Playwright, a recorder of requests and console errors, render waits, screenshots.

Kept free of pytest fixtures so that it can also be used from a script while debugging.
"""
from __future__ import annotations

import io
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Hashable, Iterator, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlencode, urlsplit

if TYPE_CHECKING:
    from data_access.identity.auth import Identity

REPO_ROOT = Path(__file__).resolve().parent.parent
ARTIFACTS = REPO_ROOT / "test-artifacts"
SCREENSHOTS = ARTIFACTS / "screenshots"

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]
VIEWPORT = {"width": 1920, "height": 1080}
LOCAL_HOSTS = frozenset({"127.0.0.1", "localhost"})
LOCAL_SCHEMES = frozenset({"data", "blob"})

SERVER_START_TIMEOUT_S = 60.0
RENDER_TIMEOUT_MS = 45_000
MAX_SCREENSHOT_HEIGHT = 12_000


# --------------------------------------------------------------------------------------------
# the database and the server
# --------------------------------------------------------------------------------------------

def browser_test_marks(*needed: Path) -> list:
    """A browser test module's `pytestmark`: marked `browser`, skipped without Chromium or a file it reads."""
    import pytest

    return [pytest.mark.browser, pytest.mark.skipif(not CHROMIUM.exists(), reason=f"{CHROMIUM} not installed"),
            *(pytest.mark.skipif(not path.exists(), reason=f"missing: {path}") for path in needed)]


def free_port() -> int:
    """A TCP port free on 127.0.0.1 right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def build_golden_database(path: Path, cases_csv: Path) -> str:
    """A DuckDB file at `path` holding the golden cases; returns its URL (the engine is disposed)."""
    from data_access.imports.importer import import_file
    from data_access.store.database import init_database
    from data_access.store.engine import make_engine

    url = f"duckdb:///{path}"
    engine = make_engine(url)
    try:
        init_database(engine)
        import_file(engine, cases_csv)
    finally:
        engine.dispose()
    return url


def add_users(url: str, users: Mapping[Hashable, tuple[str, str, str | None] | tuple[str, str, str | None, str]],
              password: str) -> dict[Hashable, Identity]:
    """Add `users` (any key -> username, Role member name, region code or None, optionally a display name) to the
    database at `url`, all with `password` under a cheap hash (the hash carries its own cost, so signing in is quick
    too); their identities by the same keys."""
    import pytest
    from argon2 import PasswordHasher

    from data_access.identity import auth
    from data_access.identity.auth import Role
    from data_access.store.engine import make_engine

    engine = make_engine(url)
    try:
        with pytest.MonkeyPatch.context() as mp:
            mp.setattr(auth, "PASSWORD_HASHER", PasswordHasher(time_cost=1, memory_cost=8, parallelism=1))
            return {key: auth.add_user(engine, name, password, Role[role], region, *display)
                    for key, (name, role, region, *display) in users.items()}
    finally:
        engine.dispose()


def serving(url: str, log_name: str, env: Mapping[str, str] | None = None) -> Iterator[StreamlitServer]:
    """A module fixture's body: server.py on `url` (its log test-artifacts/`log_name`, `env` added to its environment),
    stopped at the end with no process of its group left behind (a test that stops it earlier leaves nothing to do)."""
    server = StreamlitServer(url, ARTIFACTS / log_name, env=dict(env or {})).start()
    yield server
    server.stop()
    assert not group_alive(server.process.pid), "streamlit left a process behind"


def copy_database(source: Path, target: Path) -> str:
    """Copy a (closed) DuckDB file, so that a second server has a file lock of its own."""
    shutil.copyfile(source, target)
    wal = source.with_name(source.name + ".wal")
    if wal.exists():
        shutil.copyfile(wal, target.with_name(target.name + ".wal"))
    return f"duckdb:///{target}"


@dataclass
class StreamlitServer:
    """`python -m streamlit run server.py` (app.py with the session-cookie routes, as deployed) in its
    own process group, stopped with the whole group."""

    database_url: str
    log_path: Path
    port: int = field(default_factory=free_port)
    script: str = "server.py"
    app_dir: Path = REPO_ROOT
    env: dict[str, str] = field(default_factory=dict)  # added to this process's environment
    process: subprocess.Popen | None = None

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout_s: float = SERVER_START_TIMEOUT_S) -> StreamlitServer:
        env = dict(os.environ, DATABASE_URL=self.database_url, PYTHONUNBUFFERED="1",
                   STREAMLIT_BROWSER_GATHER_USAGE_STATS="false", **self.env)
        cmd = [sys.executable, "-m", "streamlit", "run", self.script, "--server.port", str(self.port),
               "--server.address", "127.0.0.1", "--server.headless", "true"]
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        log = self.log_path.open("wb")
        try:
            self.process = subprocess.Popen(cmd, cwd=self.app_dir, env=env, stdout=log, stderr=subprocess.STDOUT,
                                            stdin=subprocess.DEVNULL, start_new_session=True)
        finally:
            log.close()  # the child holds its own descriptor
        try:
            self._wait_healthy(timeout_s)
        except BaseException:
            self.stop()
            raise
        return self

    def _wait_healthy(self, timeout_s: float) -> None:
        deadline = time.monotonic() + timeout_s
        url = f"{self.base_url}/_stcore/health"
        while time.monotonic() < deadline:
            if self.process is not None and self.process.poll() is not None:
                raise RuntimeError(f"streamlit exited with {self.process.returncode} before answering:\n{self.log_tail()}")
            try:
                with urllib.request.urlopen(url, timeout=2) as response:
                    if response.status == 200:
                        return
            except (urllib.error.URLError, ConnectionError, TimeoutError, OSError):
                pass
            time.sleep(0.2)
        raise TimeoutError(f"{url} did not answer 200 within {timeout_s:.0f} s:\n{self.log_tail()}")

    def stop(self, grace_s: float = 10.0) -> None:
        """SIGTERM the process group, SIGKILL it if it lingers; leaves no child behind."""
        proc = self.process
        if proc is None:
            return
        pgid = proc.pid  # start_new_session: the group id is the leader's pid
        for sig, wait_s in ((signal.SIGTERM, grace_s), (signal.SIGKILL, 5.0)):
            try:
                os.killpg(pgid, sig)
            except ProcessLookupError:
                break
            try:
                proc.wait(timeout=wait_s)
            except subprocess.TimeoutExpired:
                continue
            if not group_alive(pgid):
                break
            time.sleep(0.2)  # the leader is gone; give the rest of the group a moment
            if not group_alive(pgid):
                break
        if proc.poll() is None:
            proc.wait(timeout=5)

    def log_tail(self, lines: int = 60) -> str:
        try:
            text = self.log_path.read_text(encoding="utf-8", errors="replace")
        except OSError:
            return "(no server log)"
        return "\n".join(text.splitlines()[-lines:])

    def tracebacks(self) -> str:
        """The server's 'Uncaught app execution' tracebacks so far (the page itself hides details)."""
        try:
            text = self.log_path.read_text(encoding="utf-8", errors="replace")
        except OSError:
            return ""
        blocks = re.split(r"(?m)^(?=\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d+ )", text)
        return "\n".join(b.rstrip() for b in blocks if "Traceback" in b)


class FreshServers:
    """Fresh servers started ahead in background threads, in the order they will be asked for, at most
    `alive` at a time (the one in use included): take() waits for a server, done() stops it."""

    def __init__(self, order: Sequence[Hashable], start: Callable[[Hashable], StreamlitServer], alive: int = 2):
        self._start, self._slots = start, threading.BoundedSemaphore(alive)
        self._pool = ThreadPoolExecutor(max_workers=alive, thread_name_prefix="fresh-server")
        # in order: a start waits for a free slot, and slots free up in the order the servers are used
        self._futures: dict[Hashable, Future] = {key: self._pool.submit(self._started, key) for key in order}

    def _started(self, key: Hashable) -> StreamlitServer:
        self._slots.acquire()
        try:
            return self._start(key)
        except BaseException:
            self._slots.release()
            raise

    def take(self, key: Hashable) -> StreamlitServer:
        return self._futures.pop(key).result()

    def done(self, server: StreamlitServer) -> None:
        try:
            server.stop()
        finally:
            self._slots.release()

    def close(self) -> None:
        """Stop the servers started for keys never taken."""
        for future in self._futures.values():
            future.cancel()
        for key in list(self._futures):
            future = self._futures.pop(key)
            if not future.cancelled() and future.exception() is None:
                self.done(future.result())
        self._pool.shutdown(wait=True)


def group_alive(pgid: int) -> bool:
    """True while any process of the group runs. A zombie does not count: the server's helpers (the import's fork
    server, multiprocessing's resource tracker) die with the group but, orphaned, wait for an init that reaps them;
    this machine's init does not (systemd, in a deployment, does)."""
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    proc = Path("/proc")
    if not proc.is_dir():
        return True
    for entry in proc.iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue  # gone meanwhile
        if int(fields[2]) == pgid and fields[0] != "Z":  # state, ppid, pgrp follow the command's closing bracket
            return True
    return False


@contextmanager
def chromium() -> Iterator:
    """Debian's Chromium through Playwright (headless, no network of its own), closed at the end."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


def new_context(browser, timeout_ms: int):
    """A fresh profile (no cookies: signed out) as a supervisor's screen: 1920x1080, Chinese, Beijing time."""
    context = browser.new_context(viewport=VIEWPORT, locale="zh-CN", timezone_id="Asia/Shanghai")
    context.set_default_timeout(timeout_ms)
    return context


# --------------------------------------------------------------------------------------------
# what the browser did
# --------------------------------------------------------------------------------------------

# Opening a page by its own URL (/drilldown) makes Streamlit's frontend probe /drilldown/_stcore/health
# and /drilldown/_stcore/host-config (404) before it uses /_stcore/...: Streamlit's own noise.
_PROBE = re.compile(r"^/[^/]+/_stcore/(health|host-config)$")
_RESOURCE_404 = "Failed to load resource: the server responded with a status of 404"


@dataclass
class ConsoleEntry:
    kind: str
    text: str
    url: str

    def __str__(self) -> str:
        return f"[{self.kind}] {self.text} @ {self.url}"


@dataclass
class BrowserRecorder:
    """Every request URL, console error and page error of the pages it is attached to."""

    requests: list[str] = field(default_factory=list)
    console_errors: list[ConsoleEntry] = field(default_factory=list)
    page_errors: list[str] = field(default_factory=list)
    mark_requests: int = 0
    mark_console: int = 0
    mark_page: int = 0

    def attach(self, page) -> None:
        page.on("request", lambda request: self.requests.append(request.url))
        page.on("websocket", lambda socket_: self.requests.append(socket_.url))  # not seen by "request"
        page.on("console", self._on_console)
        page.on("pageerror", lambda error: self.page_errors.append(f"{error.name}: {error.message}\n{error.stack}"))

    def _on_console(self, message) -> None:
        if message.type == "error":
            self.console_errors.append(ConsoleEntry("console.error", message.text, (message.location or {}).get("url", "")))

    def mark(self) -> None:
        """Start of a test: later checks look only at what came after."""
        self.mark_requests = len(self.requests)
        self.mark_console = len(self.console_errors)
        self.mark_page = len(self.page_errors)

    def unexpected_console_errors(self, since_mark: bool = True) -> list[str]:
        entries = self.console_errors[self.mark_console if since_mark else 0:]
        errors = self.page_errors[self.mark_page if since_mark else 0:]
        return [str(e) for e in entries if not is_known_noise(e)] + [f"[pageerror] {e}" for e in errors]

    def outside_requests(self, since_mark: bool = False) -> list[str]:
        return [u for u in self.requests[self.mark_requests if since_mark else 0:] if not is_local(u)]

    def assert_clean(self) -> None:
        """No console error (but Streamlit's known probes) and no request off localhost since mark()."""
        errors = self.unexpected_console_errors()
        assert not errors, "console errors in the browser:\n" + "\n".join(errors)
        outside = self.outside_requests(since_mark=True)
        assert not outside, "requests that left localhost:\n" + "\n".join(sorted(set(outside)))


def is_known_noise(entry: ConsoleEntry) -> bool:
    """Streamlit's own 404 probes of /<page>/_stcore/..., and a missing favicon."""
    if not entry.text.startswith(_RESOURCE_404):
        return False
    path = urlsplit(entry.url).path
    return bool(_PROBE.match(path)) or path.rsplit("/", 1)[-1].startswith("favicon")


def is_local(url: str) -> bool:
    parts = urlsplit(url)
    if parts.scheme in LOCAL_SCHEMES:
        return True
    return parts.scheme in ("http", "https", "ws", "wss") and (parts.hostname or "") in LOCAL_HOSTS


# --------------------------------------------------------------------------------------------
# driving the pages
# --------------------------------------------------------------------------------------------

def view_url(base_url: str, path: str = "/", **params: str) -> str:
    """`base_url + path` with the query parameters (percent-encoded, Chinese values allowed)."""
    query = urlencode(params)
    return f"{base_url}{path}" + (f"?{query}" if query else "")


_ALL_DRAWN = """() => {
  const main = document.querySelector('[data-testid=stMain]');
  if (!main) return false;
  // elements inside a closed expander or an inactive tab are never drawn: only visible ones count
  const ok = (sel, inner) => [...main.querySelectorAll(sel)].filter(e => e.checkVisibility()).every(e => e.querySelector(inner));
  return ok('[data-testid=stVegaLiteChart]', 'svg, canvas')
      && ok('[data-testid=stDeckGlJsonChart]', 'canvas')
      && ok('[data-testid=stDataFrame]', 'canvas');
}"""

_STABLE = """() => {
  const main = document.querySelector('[data-testid=stMain]');
  if (!main) return false;
  const sig = main.innerHTML.length + ':' + main.querySelectorAll('canvas, svg').length;
  if (window.__renderSig === sig) { window.__renderStable += 1; } else { window.__renderSig = sig; window.__renderStable = 0; }
  return window.__renderStable >= 3;
}"""


def wait_rendered(page, timeout_ms: int = RENDER_TIMEOUT_MS) -> None:
    """Wait for `load`, the end of the script run, charts/maps/grids drawn and the DOM at rest.

    Never networkidle (Streamlit keeps a websocket open). After a click, first wait for what
    the click changes (URL, title), then call this.
    """
    from playwright.sync_api import expect

    page.wait_for_load_state("load", timeout=timeout_ms)
    app = page.locator("[data-testid=stApp]")
    expect(app).to_have_attribute("data-test-connection-state", "CONNECTED", timeout=timeout_ms)
    expect(app).to_have_attribute("data-test-script-state", "notRunning", timeout=timeout_ms)
    expect(page.locator("[data-testid=stStatusWidget]")).to_have_count(0, timeout=timeout_ms)
    page.wait_for_function(_ALL_DRAWN, timeout=timeout_ms, polling=100)
    page.evaluate("() => { window.__renderSig = null; window.__renderStable = 0; }")
    page.wait_for_function(_STABLE, timeout=timeout_ms, polling=150)


SESSION_COOKIE = "petition_session"  # ui/session_routes.py


def sign_in_through_form(tab, username: str, password: str, timeout_ms: int = RENDER_TIMEOUT_MS) -> dict:
    """Sign in with the form the open page shows, wait for the page to leave it and for the browser to hold the
    session cookie (the page posts its handoff code to /auth/session); that cookie, as Playwright reports it."""
    from playwright.sync_api import expect

    title = tab.locator("h1").first.inner_text()
    tab.get_by_label("用户名").fill(username)
    tab.get_by_label("密码").fill(password)
    tab.get_by_role("button", name="登录").click()
    expect(tab.locator("h1").first).not_to_have_text(title, timeout=timeout_ms)
    deadline = time.monotonic() + timeout_ms / 1000
    while time.monotonic() < deadline:
        if cookie := next((c for c in tab.context.cookies() if c["name"] == SESSION_COOKIE), None):
            return cookie
        time.sleep(0.2)
    raise AssertionError(f"no {SESSION_COOKIE} cookie after the sign-in: {[c['name'] for c in tab.context.cookies()]}")


def exception_texts(page) -> list[str]:
    """Text of every st.exception box on the page."""
    return [t.strip() for t in page.locator("[data-testid=stException]").all_inner_texts()]


def clear_screenshots() -> None:
    """Remove the screenshots of an earlier run, so that the folder shows this run only."""
    if SCREENSHOTS.exists():
        for old in SCREENSHOTS.glob("*.png"):
            old.unlink()


def save_screenshots(page, name: str) -> tuple[Path, Path]:
    """`<name>.png`: the whole page at 1920 px wide (full_page, the viewport stretched to the content,
    because Streamlit scrolls inside stMain rather than the document); `<name>-1080.png`: exactly
    what a 1920x1080 projector shows."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    screen = SCREENSHOTS / f"{name}-1080.png"
    full = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(screen))
    height = page.evaluate("""() => Math.max(...['[data-testid=stMain]', '[data-testid=stSidebarContent]']
        .map(s => { const e = document.querySelector(s); return e ? e.scrollHeight : 0; }))""")
    height = max(VIEWPORT["height"], min(int(height), MAX_SCREENSHOT_HEIGHT))
    try:
        if height > VIEWPORT["height"]:
            page.set_viewport_size({"width": VIEWPORT["width"], "height": height})
            wait_rendered(page)
        page.screenshot(path=str(full), full_page=True)
    finally:
        page.set_viewport_size(VIEWPORT)
    return full, screen


def drawn_fraction(png: bytes, background: tuple[int, int, int] = (255, 255, 255)) -> float:
    """Share of pixels of a PNG that differ from the background colour (a blank canvas gives ~0)."""
    import numpy as np
    from PIL import Image

    pixels = np.asarray(Image.open(io.BytesIO(png)).convert("RGB"), dtype=np.int16)
    if pixels.size == 0:
        return 0.0
    far = np.abs(pixels - np.array(background, dtype=np.int16)).max(axis=2) > 24
    return float(far.mean())


def query_of(url: str) -> dict[str, str]:
    """The query parameters of a URL (last value wins)."""
    from urllib.parse import parse_qsl

    return dict(parse_qsl(urlsplit(url).query))


def path_of(url: str) -> str:
    return urlsplit(url).path
