"""More than one server process (deploy/): what one process does, the others see.

deploy/run.sh starts two server.py processes and nginx in front of them, on one PostgreSQL database
of this test's own. In Chromium a user signs in on process A through the form; process B, opened
with the same browser (the same cookie), shows the dashboard signed in. A CLI import of new cases
shows on B's next page (the data version is read from the database at every run). Signing out on B
ends the session on A too. Through the proxy (sticky cookie, websocket upgrade) the pages work, and
deploy/check.sh names a process that is down; run.sh starts it again. The nginx configurations that
deploy/nginx.py writes pass `nginx -t`.
"""
from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from browser_support import (
    ARTIFACTS,
    CHROMIUM,
    REPO_ROOT,
    add_users,
    chromium,
    exception_texts,
    group_alive,
    new_context,
    sign_in_through_form,
    view_url,
    wait_rendered,
)
from conftest import GOLDEN_CASES, database_of_its_own

from deploy import nginx as nginx_config

NGINX = shutil.which("nginx") or "/usr/sbin/nginx"
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")
UI_TIMEOUT_MS = 45_000
PASSWORD = "Shandong-2024!"
SIGN_IN_TITLE = "信访举报督导看板"
H1 = {"period": "custom", "asof": "2024-06-30", "from": "2024-01-01", "to": "2024-06-30"}
NEW_CASES = 7
SITE_FILE = REPO_ROOT / "deploy" / "petition-dashboard.nginx"


def need_nginx() -> None:
    if not Path(NGINX).exists():
        if IN_CI:
            pytest.fail("nginx missing under CI=true (scripts/test.sh installs Debian's nginx)")
        pytest.skip("nginx not installed (apt-get install nginx)")


def nginx_test(conf: Path) -> subprocess.CompletedProcess:
    return subprocess.run([NGINX, "-t", "-q", "-c", str(conf)], capture_output=True, text=True, timeout=30)


# --------------------------------------------------------------------------------------------
# the configuration alone
# --------------------------------------------------------------------------------------------

def test_committed_site_file_is_what_the_generator_writes() -> None:
    assert SITE_FILE.read_text(encoding="utf-8") == nginx_config.site_config([8501, 8502])


def test_parse_ports() -> None:
    assert nginx_config.parse_ports("8501-8503") == [8501, 8502, 8503]
    assert nginx_config.parse_ports("8501,8505-8506") == [8501, 8505, 8506]
    for bad in ("", "0", "8501,8501", "70000"):
        with pytest.raises(ValueError):
            nginx_config.parse_ports(bad)


@pytest.mark.parametrize("sticky", nginx_config.STICKY)
def test_generated_nginx_config_passes_nginx_t(tmp_path: Path, sticky: str) -> None:
    need_nginx()
    conf = nginx_config.write_standalone([8501, 8502, 8503, 8504], "127.0.0.1:8500", tmp_path / "nginx", sticky)
    result = nginx_test(conf)
    assert result.returncode == 0, result.stderr
    text = conf.read_text(encoding="utf-8")
    assert "proxy_set_header Upgrade $http_upgrade;" in text and "proxy_read_timeout 86400s;" in text
    assert ("ip_hash;" in text) == (sticky == "ip") and ("$uid_got$uid_set" in text) == (sticky == "cookie")


def test_debian_site_file_passes_nginx_t(tmp_path: Path) -> None:
    """The committed site file as Debian's nginx.conf includes it (inside http {})."""
    need_nginx()
    folder = tmp_path / "nginx"
    nginx_config.write_standalone([8501], "127.0.0.1:8500", folder)  # temp folders
    main = (f"pid {folder / 'nginx.pid'};\nerror_log {folder / 'error.log'};\nevents {{}}\n"
            f"http {{\n    access_log off;\n"
            + "".join(f"    {k}_temp_path {folder / 'tmp' / k};\n" for k in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"))
            + f"    include {SITE_FILE};\n}}\n")
    conf = folder / "debian.conf"
    conf.write_text(main.replace("listen 80;", "listen 127.0.0.1:8500;"), encoding="utf-8")
    result = nginx_test(conf)
    assert result.returncode == 0, result.stderr


TLS_SITE_FILE = REPO_ROOT / "deploy" / "petition-dashboard-tls.nginx"
EXAMPLE_TLS = nginx_config.Tls(Path("/etc/ssl/certs/petition-dashboard.pem"), Path("/etc/ssl/private/petition-dashboard.key"),
                               http_redirect="80")


def self_signed_certificate(folder: Path) -> tuple[Path, Path]:
    """A certificate for 127.0.0.1 signed by its own key, made now with openssl: (certificate, key)."""
    if shutil.which("openssl") is None:
        pytest.skip("openssl is not installed")
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(key), "-out", str(cert),
                    "-days", "2", "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1"],
                   check=True, capture_output=True, timeout=60)
    return cert, key


def test_committed_tls_site_file_is_what_the_generator_writes() -> None:
    assert TLS_SITE_FILE.read_text(encoding="utf-8") == nginx_config.site_config([8501, 8502], "443", tls=EXAMPLE_TLS)


def test_tls_config_passes_nginx_t(tmp_path: Path) -> None:
    """HTTPS on the port, a plain-HTTP port that only redirects, HSTS once, a Secure stickiness cookie."""
    need_nginx()
    cert, key = self_signed_certificate(tmp_path)
    conf = nginx_config.write_standalone([8501, 8502], "127.0.0.1:8443", tmp_path / "nginx",
                                         tls=nginx_config.Tls(cert, key, http_redirect="127.0.0.1:8480"))
    result = nginx_test(conf)
    assert result.returncode == 0, result.stderr
    text = conf.read_text(encoding="utf-8")
    assert "listen 127.0.0.1:8443 ssl;" in text and f"ssl_certificate     {cert};" in text
    assert "return 301 https://$host:8443$request_uri;" in text and "listen 127.0.0.1:8480;" in text
    assert text.count("Strict-Transport-Security") == 2  # the processes' hidden, nginx's added
    assert "userid_flags   httponly samesite=strict secure;" in text
    usage = subprocess.run([sys.executable, "-m", "deploy.nginx", "site", "--ports", "8501", "--tls-cert", str(cert)],
                           cwd=REPO_ROOT, capture_output=True, text=True, timeout=60)
    assert usage.returncode == 2 and "--tls-key" in usage.stderr


UNIT_FILE = REPO_ROOT / "deploy" / "petition-dashboard@.service"


def test_systemd_unit_passes_systemd_analyze_verify(tmp_path: Path) -> None:
    """The unit as systemd reads it: directives, ExecStart, the instance's port (no systemd runs here to start
    it; deploy/run.sh and check.sh are what the tests start)."""
    if shutil.which("systemd-analyze") is None:
        pytest.skip("systemd-analyze is not installed (Debian package systemd)")
    text = UNIT_FILE.read_text(encoding="utf-8")
    assert "%i" in text and "MALLOC_ARENA_MAX=2" in text
    local = (text.replace("/opt/petition-dashboard/.venv/bin/python", sys.executable)
             .replace("WorkingDirectory=/opt/petition-dashboard", f"WorkingDirectory={REPO_ROOT}")
             .replace("EnvironmentFile=/etc/petition-dashboard.env", "EnvironmentFile=-/etc/petition-dashboard.env"))
    unit = tmp_path / "petition-dashboard@.service"
    unit.write_text(local, encoding="utf-8")
    result = subprocess.run(["systemd-analyze", "verify", str(tmp_path / "petition-dashboard@8501.service")],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0 and not result.stderr.strip(), result.stderr


def test_run_script_refuses_several_processes_on_duckdb() -> None:
    env = dict(os.environ, DATABASE_URL="duckdb:///data/x.duckdb")
    result = subprocess.run(["bash", str(REPO_ROOT / "deploy" / "run.sh"), "2", "18500"], env=env, capture_output=True,
                            text=True, timeout=30)
    assert result.returncode == 2 and "PostgreSQL" in result.stderr


# --------------------------------------------------------------------------------------------
# two processes and the proxy, started by deploy/run.sh
# --------------------------------------------------------------------------------------------

def free_block(size: int) -> int:
    """A base port B with B .. B+size-1 all free on 127.0.0.1 right now."""
    for _ in range(200):
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            base = probe.getsockname()[1]
        if base + size >= 65000:
            continue
        try:
            socks = []
            for port in range(base, base + size):
                sock = socket.socket()
                socks.append(sock)
                sock.bind(("127.0.0.1", port))
            return base
        except OSError:
            continue
        finally:
            for sock in socks:
                sock.close()
    raise RuntimeError("no free block of ports")


def healthy(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=3) as response:
            return response.status == 200
    except OSError:
        return False


class Deployment:
    """deploy/run.sh N BASE in its own process group: proxy on BASE, processes on BASE+1 .. BASE+N (two by
    default); `tls`: the certificate and key nginx serves HTTPS with."""

    def __init__(self, database_url: str, run_dir: Path, processes: int = 2, tls: tuple[Path, Path] | None = None) -> None:
        self.base = free_block(processes + 1)
        self.database_url = database_url
        self.run_dir = run_dir
        self.scheme = "https" if tls else "http"
        env = dict(os.environ, DATABASE_URL=database_url, PETITION_RUN_DIR=str(run_dir), PYTHON=sys.executable,
                   PETITION_LISTEN=f"127.0.0.1:{self.base}", NGINX=NGINX)
        if tls:
            env.update(PETITION_TLS_CERT=str(tls[0]), PETITION_TLS_KEY=str(tls[1]))
        self.env = env
        self.log = run_dir / "run.out"
        run_dir.mkdir(parents=True, exist_ok=True)
        with self.log.open("wb") as out:
            self.process = subprocess.Popen(["bash", str(REPO_ROOT / "deploy" / "run.sh"), str(processes), str(self.base)],
                                            cwd=REPO_ROOT, env=env, stdout=out, stderr=subprocess.STDOUT,
                                            stdin=subprocess.DEVNULL, start_new_session=True)
        deadline = time.monotonic() + 120
        while "ready:" not in self.output():
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"deploy/run.sh did not come up:\n{self.output()}")
            time.sleep(0.5)

    def url(self, which: str) -> str:
        scheme = self.scheme if which == "proxy" else "http"  # the processes themselves speak plain HTTP
        return f"{scheme}://127.0.0.1:{self.base + {'proxy': 0, 'a': 1, 'b': 2}[which]}"

    def output(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace")

    def pid_of(self, which: str) -> int:
        return int((self.run_dir / f"streamlit-{self.base + {'a': 1, 'b': 2}[which]}.pid").read_text())

    def tracebacks(self) -> str:
        return "\n".join(path.read_text(encoding="utf-8", errors="replace") for path in self.run_dir.glob("streamlit-*.log")
                         if "Traceback" in path.read_text(encoding="utf-8", errors="replace"))

    def check(self, processes: int = 2) -> subprocess.CompletedProcess:
        return subprocess.run(["bash", str(REPO_ROOT / "deploy" / "check.sh"), str(processes), str(self.base)],
                              capture_output=True, text=True, timeout=60, env=self.env)

    def stop(self) -> None:
        pgid = self.process.pid
        if self.process.poll() is None:
            os.killpg(pgid, signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                pass
        for _ in range(50):
            if not group_alive(pgid):
                return
            time.sleep(0.2)
        os.killpg(pgid, signal.SIGKILL)


@pytest.fixture(scope="module")
def deployment(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory):
    """Two processes and the proxy on a PostgreSQL database of their own: the golden cases and one province user."""
    need_nginx()
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} not installed")
    from data_access.imports.importer import import_file
    from data_access.store.database import init_database

    engine = database_of_its_own("postgresql", "deploy", request, tmp_path_factory)
    init_database(engine)
    import_file(engine, GOLDEN_CASES)
    url = engine.url.render_as_string(hide_password=False)
    engine.dispose()
    add_users(url, {"province": ("sheng", "PROVINCE", None)}, PASSWORD)
    run_dir = ARTIFACTS / "deploy-run"
    shutil.rmtree(run_dir, ignore_errors=True)
    deployed = Deployment(url, run_dir)
    yield deployed
    deployed.stop()
    assert not group_alive(deployed.process.pid), "deploy/run.sh left a process behind"


@pytest.fixture(scope="module")
def browser():
    with chromium() as b:
        yield b


@pytest.fixture(scope="module")
def context(browser):
    ctx = new_context(browser, UI_TIMEOUT_MS)
    yield ctx
    ctx.close()


def open_and_wait(tab, url: str) -> None:
    tab.goto(url)
    wait_rendered(tab)
    assert not exception_texts(tab), exception_texts(tab)


def signed_in(tab) -> bool:
    return SIGN_IN_TITLE not in tab.locator("h1").all_inner_texts() and tab.get_by_text("当前用户：").count() > 0


def case_count_shown(tab) -> int:
    text = tab.locator("[data-testid=stSidebar]").inner_text()
    found = re.search(r"共 ([\d,]+) 件", text)
    assert found, f"no case count in the sidebar: {text[:500]}"
    return int(found.group(1).replace(",", ""))


def test_signed_in_on_a_is_signed_in_on_b(deployment, context) -> None:
    tab = context.new_page()
    open_and_wait(tab, view_url(deployment.url("a"), "/", **H1))
    sign_in_through_form(tab, "sheng", PASSWORD, UI_TIMEOUT_MS)  # the page posts its handoff code to A's /auth/session
    wait_rendered(tab)
    assert signed_in(tab)

    other = context.new_page()  # the same browser: the cookie goes to process B (another port, same host)
    open_and_wait(other, view_url(deployment.url("b"), "/priority", **H1))
    assert signed_in(other), "process B does not know the sign-in made on process A"
    assert case_count_shown(other) == case_count_shown(tab) == 6000
    other.close()
    assert not deployment.tracebacks()


def test_an_import_through_the_command_line_shows_on_both_processes(deployment, context, tmp_path: Path) -> None:
    tab_b = context.new_page()
    open_and_wait(tab_b, view_url(deployment.url("b"), "/", **H1))
    before = case_count_shown(tab_b)  # B has cached this data version's figures

    lines = GOLDEN_CASES.read_text(encoding="utf-8").splitlines()
    new_file = tmp_path / "new_cases.csv"
    new_file.write_text("\n".join([lines[0], *(re.sub(r"^SD\d+-", "NEW-", line) for line in lines[1:1 + NEW_CASES])]) + "\n",
                        encoding="utf-8")
    done = subprocess.run([sys.executable, "-m", "data_access", "import", str(new_file), "--db", deployment.database_url],
                          cwd=REPO_ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr

    open_and_wait(tab_b, view_url(deployment.url("b"), "/", **H1))
    assert case_count_shown(tab_b) == before + NEW_CASES, "process B shows the count from before the import"
    tab_a = context.new_page()
    open_and_wait(tab_a, view_url(deployment.url("a"), "/", **H1))
    assert case_count_shown(tab_a) == before + NEW_CASES
    tab_a.close()
    tab_b.close()


def test_the_proxy_serves_the_signed_in_pages(deployment, context) -> None:
    """Through nginx: the sticky cookie is set, the websocket is upgraded, the user is still signed in."""
    tab = context.new_page()
    for path in ("/", "/priority", "/overdue"):
        open_and_wait(tab, view_url(deployment.url("proxy"), path, **H1))
        assert signed_in(tab), f"{path} through the proxy: signed out"
    assert any(c["name"] == nginx_config.ROUTE_COOKIE for c in context.cookies())
    tab.close()


def test_protocol_sessions_through_the_proxy_reach_both_processes(deployment) -> None:
    """Fresh sessions (no cookie) spread over the processes; each one's pages stay on its process."""
    import asyncio

    from benchmarks.protocol_client import ProtocolSession

    def cpu_ticks(pid: int) -> int:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return int(fields[11]) + int(fields[12])

    pids = [deployment.pid_of("a"), deployment.pid_of("b")]
    before = [cpu_ticks(pid) for pid in pids]

    async def one() -> tuple[str, list[str]]:
        session = ProtocolSession(deployment.url("proxy"), 90)
        await session.connect()
        try:
            runs = [await session.open_page(page, "period=this_month") for page in ("", "definitions")]
        finally:
            await session.close()
        return session.cookies.get(nginx_config.ROUTE_COOKIE, ""), [e for run in runs for e in run.errors]

    async def many() -> list[tuple[str, list[str]]]:
        return await asyncio.gather(*(one() for _ in range(8)))

    # The stickiness cookie is random and nginx hashes it, so eight fresh sessions all land on one of two processes
    # about once in a hundred runs (seen in CI): up to four batches, until both processes have served one.
    grown: list[int] = []
    for _ in range(4):
        with ThreadPoolExecutor(1) as pool:  # Playwright's sync API holds this thread's event loop
            results = pool.submit(asyncio.run, many()).result()
        # no user is signed in on these sessions: they get the sign-in form, which is no error
        assert all(not errors for _, errors in results), results
        assert all(route for route, _ in results), "the proxy set no stickiness cookie"
        grown = [cpu_ticks(pid) - b for pid, b in zip(pids, before, strict=True)]
        if all(g > 0 for g in grown):
            break
    assert all(g > 0 for g in grown), f"one process did no work in 32 fresh sessions: {grown}"


def test_sign_out_on_b_ends_the_session_of_an_open_tab_on_a(deployment, context) -> None:
    """A's tab keeps its session id in its own session state; B's sign-out ends that session in the
    database, and A's next action finds it ended."""
    from playwright.sync_api import expect

    tab_a = context.new_page()
    open_and_wait(tab_a, view_url(deployment.url("a"), "/", **H1))
    assert signed_in(tab_a)
    tab_b = context.new_page()
    open_and_wait(tab_b, view_url(deployment.url("b"), "/", **H1))
    tab_b.get_by_role("button", name="退出登录").click()
    expect(tab_b.locator("h1").first).to_have_text(SIGN_IN_TITLE, timeout=UI_TIMEOUT_MS)
    tab_a.locator("[data-testid=stSidebarNav] a", has_text="重点督导县").click()  # a rerun in the same session
    expect(tab_a.locator("h1").first).to_have_text(SIGN_IN_TITLE, timeout=UI_TIMEOUT_MS)
    tab_a.close()
    tab_b.close()


def test_check_script_names_a_process_that_is_down_and_run_sh_restarts_it(deployment) -> None:
    result = deployment.check()
    assert result.returncode == 0, result.stdout
    pid = deployment.pid_of("b")
    os.kill(pid, signal.SIGKILL)
    down = f"DOWN  process {deployment.base + 2}"
    seen = []  # poll: the check must see B down before run.sh's loop (every 3 s) has it serving again
    for _ in range(25):
        result = deployment.check()
        seen.append(result.stdout)
        if result.returncode == 1 and down in result.stdout:
            break
        time.sleep(0.2)
    assert result.returncode == 1 and down in result.stdout, f"killed pid {pid}; the checks said:\n" + "\n".join(seen)
    assert healthy(deployment.url("proxy") + "/healthz"), "the proxy should go on with process A"
    deadline = time.monotonic() + 120
    while deployment.check().returncode != 0:
        assert time.monotonic() < deadline, f"run.sh did not restart process B:\n{deployment.output()}"
        time.sleep(1)
    assert "starting it again" in deployment.output()
    assert not deployment.tracebacks()


def test_reloading_the_reference_data_changes_the_data_version(tmp_path: Path) -> None:
    """`python -m data_access init` on a running deployment replaces the region tree and recomputes the
    stored deadlines: every process must drop its cached answers, so the data version changes."""
    from data_access.imports.inventory import data_version
    from data_access.store.database import init_database, latest_load
    from data_access.store.engine import make_engine

    engine = make_engine(f"duckdb:///{tmp_path / 'ref.duckdb'}")
    try:
        init_database(engine)
        first = data_version(engine)
        assert latest_load(engine) is None  # a fresh database: nothing was reloaded
        time.sleep(1.1)  # imported_at has whole seconds
        init_database(engine)
        assert data_version(engine) != first
        assert latest_load(engine)["kind"] == "reference"
    finally:
        engine.dispose()


# --------------------------------------------------------------------------------------------
# HTTPS on nginx (deploy/run.sh with PETITION_TLS_CERT / PETITION_TLS_KEY), one process on DuckDB
# --------------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def tls_deployment(tmp_path_factory: pytest.TempPathFactory):
    """One process behind nginx serving HTTPS with a certificate made for this test: the golden cases, one user."""
    need_nginx()
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} not installed")
    from browser_support import build_golden_database

    folder = tmp_path_factory.mktemp("tls")
    url = build_golden_database(folder / "tls.duckdb", GOLDEN_CASES)
    add_users(url, {"province": ("sheng", "PROVINCE", None)}, PASSWORD)
    run_dir = ARTIFACTS / "deploy-tls-run"
    shutil.rmtree(run_dir, ignore_errors=True)
    deployed = Deployment(url, run_dir, processes=1, tls=self_signed_certificate(folder))
    yield deployed
    deployed.stop()
    assert not group_alive(deployed.process.pid), "deploy/run.sh left a process behind"


def test_behind_tls_the_sign_in_cookie_is_secure(tls_deployment, browser) -> None:
    """Signed in through nginx's HTTPS: the session cookie (and nginx's stickiness cookie) carry Secure, the page
    carries HSTS once and the security headers, and a new tab of the browser is still signed in (over wss)."""

    assert tls_deployment.url("proxy").startswith("https://")
    context = browser.new_context(ignore_https_errors=True, locale="zh-CN")  # the certificate is this test's own
    context.set_default_timeout(UI_TIMEOUT_MS)
    try:
        tab = context.new_page()
        response = tab.goto(view_url(tls_deployment.url("proxy"), "/", **H1))
        assert response is not None and response.url.startswith("https://")
        headers = response.headers  # Playwright joins repeated headers with a newline
        assert headers.get("strict-transport-security") == nginx_config.HSTS
        assert "frame-ancestors 'none'" in headers.get("content-security-policy", "")
        assert headers.get("x-frame-options") == "DENY" and headers.get("x-content-type-options") == "nosniff"
        wait_rendered(tab)
        session = sign_in_through_form(tab, "sheng", PASSWORD, UI_TIMEOUT_MS)
        cookies = {c["name"]: c for c in context.cookies()}
        assert session["secure"] and session["httpOnly"] and session["sameSite"] == "Strict"
        assert cookies[nginx_config.ROUTE_COOKIE]["secure"]
        other = context.new_page()
        open_and_wait(other, view_url(tls_deployment.url("proxy"), "/priority", **H1))
        assert signed_in(other), "a new tab over HTTPS is signed out"
        assert tls_deployment.check(processes=1).returncode == 0
    finally:
        context.close()
    assert not tls_deployment.tracebacks()
