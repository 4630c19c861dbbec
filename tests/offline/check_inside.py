"""Run inside a loopback-only network namespace: start the dashboard as an operator would (no
--server.address), open pages over its websocket like a browser, and print what happened as JSON.

Usage: python tests/offline/check_inside.py DATABASE_URL CONNECT_LOG SERVER_LOG
"""
from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from urllib.parse import urlencode

REPO_ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO_ROOT))

from benchmarks.protocol_client import ProtocolSession  # noqa: E402

PORT = 8765
PAGES = [("", {}), ("priority", {}), ("overdue", {}), ("drilldown", {"region": "370800"})]


def main() -> int:
    database_url, connect_log, server_log = sys.argv[1:4]
    env = dict(os.environ, DATABASE_URL=database_url, PYTHONUNBUFFERED="1")
    cmd = [sys.executable, str(REPO_ROOT / "tests" / "offline" / "audited_streamlit.py"), connect_log,
           "run", "server.py", "--server.port", str(PORT)]  # the README's start command, on another port
    started = time.monotonic()
    with open(server_log, "wb") as log:
        server = subprocess.Popen(cmd, cwd=REPO_ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
                                  stdin=subprocess.DEVNULL, start_new_session=True)
    result: dict[str, object] = {"healthy": False, "pages": []}
    try:
        result["healthy"] = _wait_healthy(f"http://127.0.0.1:{PORT}/_stcore/health", 90)
        result["start_seconds"] = round(time.monotonic() - started, 1)
        if result["healthy"]:
            result["pages"] = asyncio.run(_visit(f"http://127.0.0.1:{PORT}"))
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
    print(json.dumps(result, ensure_ascii=False))
    return 0


def _wait_healthy(url: str, timeout_s: float) -> bool:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return True
        except OSError:
            pass
        time.sleep(0.2)
    return False


async def _visit(base_url: str) -> list[dict[str, object]]:
    session = ProtocolSession(base_url, timeout_s=60)
    await session.connect()
    try:
        runs = [await session.open_page(path, urlencode(params)) for path, params in PAGES]
    finally:
        await session.close()
    return [{"page": path or "overview", "elements": r.elements, "errors": r.errors, "kinds": r.kinds}
            for (path, _), r in zip(PAGES, runs, strict=True)]


if __name__ == "__main__":
    sys.exit(main())
