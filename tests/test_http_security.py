"""The door's furniture (issue 27, item 5), against server.py as deployed, over the golden cases on PostgreSQL
(the audit log is read while the server runs):

- every response carries the Content-Security-Policy (frame-ancestors 'none'), X-Frame-Options, X-Content-Type-
  Options and Referrer-Policy of ui/http_security.py, and no HSTS over plain HTTP (over TLS: tests/test_deploy.py);
- the two /auth/* routes answer only a page of this server: another Origin, an opaque one, another site's
  Referer or neither is refused with 403 and an audit row;
- in Chromium every page of a province user renders under the policy with no violation reported and no console
  error, and the sign-in cookie (posted by the inline errand the policy allows by its hash) lasts the absolute
  session lifetime, not 30 days;
- another site's page cannot show the dashboard in a frame;
- a signed-out visitor of a fresh server sees no list of pages, whatever address it opens first.
"""
from __future__ import annotations

import http.server
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
import sqlalchemy as sa
from browser_support import (
    ARTIFACTS,
    SESSION_COOKIE,
    BrowserRecorder,
    StreamlitServer,
    add_users,
    browser_test_marks,
    chromium,
    new_context,
    serving,
    sign_in_through_form,
    view_url,
    wait_rendered,
)
from conftest import GOLDEN_CASES, database_of_its_own

from data_access.identity.audit import AuditAction
from data_access.store.schema import audit_log
from ui.http_security import STREAMLIT_INDEX, inline_scripts, script_hash
from ui.printing import PRINT_SCRIPT
from ui.session_routes import POST_SCRIPT, SESSION_PATH, SIGNOUT_PATH

playwright_api = pytest.importorskip("playwright.sync_api")
expect = playwright_api.expect

pytestmark = browser_test_marks(GOLDEN_CASES)

UI_TIMEOUT_MS = 45_000
PASSWORD = "Shandong-2024!"
SIGN_IN_TITLE = "信访举报督导看板"
H1 = {"period": "custom", "asof": "2024-06-30", "from": "2024-01-01", "to": "2024-06-30"}
PAGES = ["overview", "drilldown", "priority", "overdue", "satisfaction", "analysis", "weekly", "ledger", "matters",
         "hotline", "dossier", "definitions", "data", "audit"]
EVIL = "http://evil.example"
# every CSP violation the page reports, kept where the test can read it
CSP_LISTENER = ("window.__cspViolations = []; document.addEventListener('securitypolicyviolation', "
                "e => window.__cspViolations.push(`${e.violatedDirective} ${e.blockedURI} ${e.sample || ''}`));")


@pytest.fixture(scope="module")
def database(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> sa.Engine:
    """The golden cases and one province user, on a PostgreSQL database of this module's own."""
    from data_access.imports.importer import import_file
    from data_access.store.database import init_database

    engine = database_of_its_own("postgresql", "httpsec", request, tmp_path_factory)
    init_database(engine)
    import_file(engine, GOLDEN_CASES)
    add_users(engine.url.render_as_string(hide_password=False), {"province": ("sheng", "PROVINCE", None)}, PASSWORD)
    return engine


def started(database: sa.Engine, name: str) -> StreamlitServer:
    return StreamlitServer(database.url.render_as_string(hide_password=False), ARTIFACTS / f"streamlit-{name}.log").start()


@pytest.fixture(scope="module")
def server(database: sa.Engine):
    yield from serving(database.url.render_as_string(hide_password=False), "streamlit-http-security.log")


@pytest.fixture(scope="module")
def browser():
    with chromium() as b:
        yield b


def request(url: str, method: str = "GET", headers: dict[str, str] | None = None, body: bytes | None = None):
    """(status, headers) of one request, an error status included."""
    try:
        with urllib.request.urlopen(urllib.request.Request(url, data=body, method=method, headers=headers or {}),
                                    timeout=30) as response:
            return response.status, response.headers
    except urllib.error.HTTPError as refused:
        return refused.code, refused.headers


def refused_rows(database: sa.Engine) -> list[str]:
    with database.connect() as conn:
        return list(conn.execute(sa.select(audit_log.c.detail).where(audit_log.c.action == AuditAction.REFUSED_REQUEST.value)
                                 .order_by(audit_log.c.at)).scalars())


# --------------------------------------------------------------------------------------------
# the headers and the routes, over HTTP
# --------------------------------------------------------------------------------------------

def test_every_response_carries_the_security_headers(server) -> None:
    script = next(line.split('src="./')[1].split('"')[0] for line in STREAMLIT_INDEX.read_text(encoding="utf-8").splitlines()
                  if 'type="module"' in line and "src=" in line)
    answers = {path: request(server.base_url + path) for path in ("/", "/priority", "/_stcore/health", f"/{script}")}
    answers["POST " + SESSION_PATH] = request(server.base_url + SESSION_PATH, "POST", body=b"x")
    for what, (status, headers) in answers.items():
        assert status in (200, 403), (what, status)
        policy = headers.get("Content-Security-Policy", "")
        assert "frame-ancestors 'none'" in policy and "default-src 'self'" in policy, (what, policy)
        assert "'unsafe-eval'" not in policy.replace("'wasm-unsafe-eval'", ""), policy
        assert headers.get("X-Frame-Options") == "DENY", what
        assert headers.get("X-Content-Type-Options") == "nosniff", what
        assert headers.get("Referrer-Policy") == "same-origin", what
        assert headers.get("Strict-Transport-Security") is None, f"{what}: HSTS over plain HTTP"


def test_the_policy_allows_exactly_the_inline_scripts_served(server) -> None:
    """Streamlit's own inline script of index.html, the cookie errand and the 打印 button's, by their hashes; nothing
    else inline."""
    _, headers = request(server.base_url + "/")
    script_src = next(d for d in headers["Content-Security-Policy"].split("; ") if d.startswith("script-src "))
    wanted = {script_hash(body) for body in [*inline_scripts(STREAMLIT_INDEX.read_text(encoding="utf-8")), POST_SCRIPT,
                                                    PRINT_SCRIPT]}
    assert set(script_src.split()[1:]) == {"'self'", "'wasm-unsafe-eval'", *wanted}


@pytest.mark.parametrize("path", [SESSION_PATH, SIGNOUT_PATH])
def test_the_cookie_routes_refuse_another_origin_and_audit_it(server, database: sa.Engine, path: str) -> None:
    before = len(refused_rows(database))
    own = server.base_url
    for headers in ({"Origin": EVIL}, {"Origin": "null"}, {"Referer": f"{EVIL}/page"},
                    {"Origin": own.replace("127.0.0.1", "127.0.0.2")}, {}):
        status, _ = request(own + path, "POST", headers, body=b"code")
        assert status == 403, (path, headers, status)
    rows = refused_rows(database)[before:]
    assert len(rows) == 5, rows
    assert all(path in row and "客户端地址" in row for row in rows)
    assert any(EVIL in row for row in rows) and any("来源 无" in row for row in rows)
    # from the server's own page: answered as before (a spent code is refused, without a refusal row)
    status, _ = request(own + path, "POST", {"Origin": own}, body=b"not-a-code")
    assert status == (403 if path == SESSION_PATH else 204)
    status, _ = request(own + path, "POST", {"Referer": own + "/priority?x=1"}, body=b"not-a-code")
    assert status == (403 if path == SESSION_PATH else 204)
    assert len(refused_rows(database)) == before + 5


# --------------------------------------------------------------------------------------------
# in Chromium
# --------------------------------------------------------------------------------------------

def test_every_page_renders_under_the_policy(server, browser) -> None:
    """Signed in through the form (the errand script posts the handoff code under the policy), every page of a
    province user: drawn, no violation reported, no console error; the cookie lasts session_lifetime_hours."""
    context = new_context(browser, UI_TIMEOUT_MS)
    context.add_init_script(CSP_LISTENER)
    try:
        tab, recorder = context.new_page(), BrowserRecorder()
        recorder.attach(tab)
        tab.goto(view_url(server.base_url, "/", **H1))
        wait_rendered(tab)
        cookie = sign_in_through_form(tab, "sheng", PASSWORD, UI_TIMEOUT_MS)  # the errand ran under the policy
        assert abs(cookie["expires"] - time.time() - 12 * 3600) < 600, "the cookie should last the 12-hour lifetime"
        violations: dict[str, list[str]] = {}
        for page in PAGES:
            tab.goto(view_url(server.base_url, "/" if page == "overview" else f"/{page}", **H1))
            wait_rendered(tab)
            assert SIGN_IN_TITLE not in tab.locator("h1").all_inner_texts(), f"/{page}: signed out"
            if found := tab.evaluate("window.__cspViolations"):
                violations[page] = found
        assert not violations, f"Content-Security-Policy violations: {violations}"
        tab.get_by_role("button", name="退出登录").click()  # the second errand of the page: the cookie goes
        expect(tab.locator("h1").first).to_have_text(SIGN_IN_TITLE, timeout=UI_TIMEOUT_MS)
        deadline = time.monotonic() + 20
        while any(c["name"] == SESSION_COOKIE for c in context.cookies()) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert not any(c["name"] == SESSION_COOKIE for c in context.cookies()), "the cookie outlived the sign-out"
        errors = recorder.unexpected_console_errors(since_mark=False)
        assert not errors, "console errors:\n" + "\n".join(errors)
    finally:
        context.close()
    assert not server.tracebacks()


@contextmanager
def page_elsewhere(html: str) -> Iterator[str]:
    """`html` served by a server of its own on another port of this machine (another origin; Chromium lets a
    local page frame a local page, where a public one would be refused for that alone): its URL."""
    body = html.encode("utf-8")

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}/frame.html"
    finally:
        httpd.shutdown()
        httpd.server_close()


def framed(browser, target: str) -> list[str]:
    """The URLs of the frames of another origin's page holding `target` in an iframe, once it has loaded."""
    context = new_context(browser, UI_TIMEOUT_MS)
    try:
        with page_elsewhere(f'<h1>elsewhere</h1><iframe id="victim" src="{target}" width="800" height="600"></iframe>') as url:
            tab = context.new_page()
            tab.goto(url)
            tab.wait_for_timeout(4000)
            return [frame.url for frame in tab.frames if frame is not tab.main_frame]
    finally:
        context.close()


def test_another_site_cannot_frame_the_dashboard(server, browser, database: sa.Engine) -> None:
    """A page of another origin holding the dashboard in an iframe: Chromium refuses to show it there. The same
    page frames `streamlit run app.py`, which has no headers: the refusal is the headers'."""
    urls = framed(browser, server.base_url + "/")
    assert urls and all(url.startswith("chrome-error://") for url in urls), urls
    bare = StreamlitServer(database.url.render_as_string(hide_password=False), ARTIFACTS / "streamlit-bare.log",
                           script="app.py").start()
    try:
        assert framed(browser, bare.base_url + "/") == [bare.base_url + "/"]
    finally:
        bare.stop()


@pytest.mark.parametrize("first", ["/audit", "/"])
def test_a_signed_out_visitor_of_a_fresh_server_sees_no_page_list(database: sa.Engine, browser, first: str) -> None:
    """The first request of a fresh server once ran Streamlit's pages-folder mode, which listed pages/'s files
    (app, audit, data, ledger ...) in the sidebar while the sign-in loaded; now nothing is listed, at any moment."""
    srv = started(database, f"fresh{first.replace('/', '-')}")
    context = new_context(browser, UI_TIMEOUT_MS)
    try:
        tab = context.new_page()
        tab.goto(srv.base_url + first, wait_until="commit")
        listed: set[str] = set()
        deadline = time.monotonic() + 8
        while time.monotonic() < deadline:
            listed.update(tab.locator("[data-testid=stSidebarNav]").all_inner_texts())
            tab.wait_for_timeout(50)
        wait_rendered(tab)
        assert tab.get_by_label("用户名").count() == 1, "the sign-in form is not shown"
        listed.update(tab.locator("[data-testid=stSidebarNav]").all_inner_texts())
        assert not listed, f"a signed-out visitor saw a page list: {listed}"
        assert tab.locator("[data-testid=stSidebar]").count() == 0
    finally:
        context.close()
        srv.stop()
