"""The server needs no network but loopback: started as the README starts it, in a network namespace
with only `lo`, it serves its pages, and no connect() or name lookup goes to a non-loopback address.

The namespace needs root (`unshare -n`); CI runs as root, where this test must run.
"""
from __future__ import annotations

import ipaddress
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from browser_support import build_golden_database
from conftest import GOLDEN_CASES, REPO_ROOT

OFFLINE = REPO_ROOT / "tests" / "offline"


def _can_unshare() -> bool:
    return os.geteuid() == 0 and shutil.which("unshare") is not None and shutil.which("ip") is not None


needs_namespace = pytest.mark.skipif(not _can_unshare() and os.environ.get("CI", "").lower() not in ("1", "true"),
                                     reason="a network namespace needs root, unshare and ip")


def is_local(address: object) -> bool:
    """Loopback (127.0.0.0/8, ::1, localhost), a Unix socket path, or no host at all (a bind lookup)."""
    if address is None or address == "":
        return True
    if isinstance(address, list):  # (host, port[, flowinfo, scope]) of an inet socket
        return is_local(address[0])
    text = str(address)
    if text.startswith("/") or text.startswith("\x00") or text == "localhost":
        return True
    try:
        return ipaddress.ip_address(text).is_loopback
    except ValueError:
        return False


def read_log(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def test_the_audit_hook_records_connects(tmp_path: Path) -> None:
    """The hook the offline test relies on sees a connect() (a UDP one to another loopback address:
    no packet is sent)."""
    log = tmp_path / "connects.jsonl"
    code = ("import socket, sys; sys.path.insert(0, sys.argv[2]); import audited_streamlit as a; "
            "a.install_hook(sys.argv[1]); s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); "
            "s.connect(('127.0.0.2', 9)); s.close()")
    subprocess.run([sys.executable, "-c", code, str(log), str(OFFLINE)], check=True, timeout=30)
    assert {"event": "socket.connect", "address": ["127.0.0.2", 9]} in read_log(log)
    assert is_local(["127.0.0.2", 9]) and not is_local(["8.8.8.8", 1]) and not is_local("checkip.amazonaws.com")


@needs_namespace
def test_server_in_a_loopback_only_namespace_serves_and_connects_nowhere(tmp_path: Path) -> None:
    url = build_golden_database(tmp_path / "offline.duckdb", GOLDEN_CASES)
    connects, server_log = tmp_path / "connects.jsonl", tmp_path / "server.log"
    inner = (f"ip link set lo up && exec {sys.executable} {OFFLINE / 'check_inside.py'} "
             f"'{url}' '{connects}' '{server_log}'")
    done = subprocess.run(["unshare", "-n", "bash", "-c", inner], capture_output=True, text=True, timeout=300,
                          cwd=REPO_ROOT)
    assert done.returncode == 0, done.stderr[-3000:]
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["healthy"], server_log.read_text(errors="replace")[-3000:]
    assert [p["page"] for p in result["pages"]] == ["overview", "priority", "overdue", "drilldown"]
    for page in result["pages"]:
        assert page["errors"] == [] and page["elements"] > 0, page
    overview = result["pages"][0]
    assert overview["kinds"].get("metric") == 6 and overview["kinds"].get("deck_gl_json_chart") == 1
    events = read_log(connects)
    outside = [e for e in events if not is_local(e["address"])]
    assert outside == [], f"the server reached for outside addresses: {outside}"
    log_text = server_log.read_text(errors="replace")
    assert "Did not auto detect external IP" not in log_text
