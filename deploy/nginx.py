"""The nginx configuration of N dashboard processes behind one port, written out by code.

    python -m deploy.nginx site --ports 8501-8504 [--listen 80] [--sticky cookie|ip]   # a Debian site file
    python -m deploy.nginx site --ports 8501-8504 --listen 443 --tls-cert C --tls-key K [--http-redirect 80]
    python -m deploy.nginx standalone --ports 8501-8502 --listen 8080 --dir run/nginx  # nginx without root

`site` prints the file for /etc/nginx/sites-available/ (Debian's nginx package includes that folder
from its own nginx.conf); deploy/petition-dashboard.nginx is its output for two processes, checked
by tests/test_deploy.py. `standalone` writes a whole nginx.conf that keeps its pid, logs and temp
files in --dir, for deploy/run.sh and the load benchmark (no root, no systemd).

Why each setting:
- Sticky sessions. A Streamlit page is one websocket (/_stcore/stream) bound to the process that ran
  its script, and that process alone holds the tab's session state, its uploaded files
  (/_stcore/upload_file) and its media and download files (/media). Every request of one browser
  must reach the same process. `cookie` (default) hashes a cookie nginx itself sets on the first
  response (ngx_http_userid_module, in Debian's nginx): offices behind one NAT address still
  spread over the processes. `ip` is plain `ip_hash` (every user of one address lands on one process).
  A sign-in is not bound to a process: it lives in the database (user_sessions), so when a process
  stops, its users reconnect to another one and stay signed in.
- Websocket upgrade headers, and read/send timeouts of a day: a tab left open on the meeting room's
  projector keeps its websocket (Streamlit pings it) and must not be cut after nginx's default 60 s.
- `Host $http_host`: Streamlit accepts a websocket whose Origin matches the Host it sees.
- client_max_body_size as Streamlit's server.maxUploadSize (.streamlit/config.toml: 200 MB).
- Passive health checks (max_fails, fail_timeout): a process that refuses connections is skipped
  for fail_timeout. Open-source nginx has no active checks; deploy/check.sh asks every process's
  /_stcore/health and the proxy's /healthz (which nginx passes to a process's /_stcore/health).
- TLS (--tls-cert, --tls-key: the certificate chain and its key, PEM): the port speaks HTTPS only
  (TLS 1.2 and 1.3), and --http-redirect PORT answers plain HTTP there with a redirect to it. nginx
  tells the processes `X-Forwarded-Proto: https`, which uvicorn believes from 127.0.0.1 (the
  processes listen there): the sign-in cookie is then Secure, the websocket wss, and every response
  carries Strict-Transport-Security (nginx sets it once, for its own answers too: a year). The
  stickiness cookie is Secure as well. tests/test_deploy.py signs in through it in Chromium.
"""
from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

UPSTREAM = "petition_dashboard"
ROUTE_COOKIE = "petition_route"
MAX_UPLOAD_MB = 200  # .streamlit/config.toml server.maxUploadSize
LONG_TIMEOUT = "86400s"
STICKY = ("cookie", "ip")
HSTS = "max-age=31536000"  # as ui/http_security.py's


def parse_ports(text: str) -> list[int]:
    """'8501-8504' or '8501,8502' (or a mix) as a list of ports."""
    ports: list[int] = []
    for part in text.split(","):
        first, _, last = part.strip().partition("-")
        ports += list(range(int(first), int(last or first) + 1))
    if not ports or any(not 0 < p < 65536 for p in ports) or len(set(ports)) != len(ports):
        raise ValueError(f"bad port list: {text!r}")
    return ports


@dataclass(frozen=True)
class Tls:
    """HTTPS on nginx's port: the certificate (chain) and its private key, PEM files nginx can read, and
    optionally a plain-HTTP port that redirects there."""

    cert: Path
    key: Path
    http_redirect: str | None = None


def site_config(ports: Sequence[int], listen: str = "80", sticky: str = "cookie", server_name: str = "_",
                backend_host: str = "127.0.0.1", tls: Tls | None = None) -> str:
    """The http-level part: upstream, websocket map and the server block (a Debian site file)."""
    if sticky not in STICKY:
        raise ValueError(f"sticky must be one of {STICKY}")
    if not ports:
        raise ValueError("no ports")
    balance = "hash $uid_got$uid_set consistent;" if sticky == "cookie" else "ip_hash;"
    servers = "\n".join(f"    server {backend_host}:{port} max_fails=1 fail_timeout=10s;" for port in ports)
    flags = "httponly samesite=strict secure" if tls else "httponly samesite=strict"
    userid = (f"    # the stickiness cookie (only a random id; $uid_got on later requests, $uid_set on the first)\n"
              f"    userid         on;\n    userid_name    {ROUTE_COOKIE};\n    userid_path    /;\n"
              f"    userid_expires off;\n    userid_flags   {flags};\n") if sticky == "cookie" else ""
    proxy = f"""        proxy_pass http://{UPSTREAM};
        proxy_http_version 1.1;
        proxy_set_header Host $http_host;
        proxy_set_header X-Real-IP $remote_addr;
        proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
        proxy_set_header X-Forwarded-Proto $scheme;"""
    return f"""# 信访举报督导看板: {len(ports)} Streamlit processes behind one port (generated by deploy/nginx.py).
upstream {UPSTREAM} {{
    {balance}
{servers}
}}

map $http_upgrade $petition_connection_upgrade {{
    default upgrade;
    ''      close;
}}

{_redirect_server(listen, server_name, tls)}server {{
    listen {listen}{" ssl" if tls else ""};
    server_name {server_name};
    client_max_body_size {MAX_UPLOAD_MB}m;
{_tls_lines(tls)}{userid}
    # the page's websocket: upgraded, never buffered, kept open as long as the tab
    location = /_stcore/stream {{
{proxy}
        proxy_set_header Upgrade $http_upgrade;
        proxy_set_header Connection $petition_connection_upgrade;
        proxy_read_timeout {LONG_TIMEOUT};
        proxy_send_timeout {LONG_TIMEOUT};
        proxy_buffering off;
    }}

    # the proxy's own health: 200 when some process answers its /_stcore/health
    location = /healthz {{
        access_log off;
        proxy_pass http://{UPSTREAM}/_stcore/health;
        proxy_http_version 1.1;
        proxy_connect_timeout 5s;
        proxy_read_timeout 10s;
    }}

    location / {{
{proxy}
        proxy_set_header Upgrade $http_upgrade;
        proxy_set_header Connection $petition_connection_upgrade;
        proxy_read_timeout 600s;
        proxy_send_timeout 600s;
        proxy_request_buffering off;
    }}
}}
"""


def _tls_lines(tls: Tls | None) -> str:
    """The server block's TLS settings: certificate, protocols, session cache, and HSTS once (the processes'
    own header hidden, so that a response never carries two)."""
    if tls is None:
        return ""
    return f"""    ssl_certificate     {tls.cert};
    ssl_certificate_key {tls.key};
    ssl_protocols       TLSv1.2 TLSv1.3;
    ssl_session_cache   shared:petition_tls:10m;
    ssl_session_timeout 1h;
    proxy_hide_header   Strict-Transport-Security;
    add_header          Strict-Transport-Security "{HSTS}" always;
"""


def _redirect_server(listen: str, server_name: str, tls: Tls | None) -> str:
    """A plain-HTTP server block that sends every request to the HTTPS port (none without --http-redirect)."""
    if tls is None or tls.http_redirect is None:
        return ""
    port = listen.rsplit(":", 1)[-1]
    target = "https://$host" + ("" if port == "443" else f":{port}") + "$request_uri"
    return f"""# plain HTTP: only a redirect to HTTPS
server {{
    listen {tls.http_redirect};
    server_name {server_name};
    return 301 {target};
}}

"""


def standalone_config(ports: Sequence[int], listen: str, folder: Path, sticky: str = "cookie",
                      workers: int = 1, tls: Tls | None = None) -> str:
    """A whole nginx.conf for nginx run by an ordinary user: pid, logs and temp files under `folder`."""
    folder = folder.resolve()
    temp = "\n".join(f"    {kind}_temp_path {folder / 'tmp' / kind};" for kind in
                     ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"))
    return f"""# nginx for deploy/run.sh (generated by deploy/nginx.py): runs in the foreground, no root needed
worker_processes {workers};
pid {folder / 'nginx.pid'};
error_log {folder / 'error.log'} warn;
daemon off;

events {{
    worker_connections 4096;
}}

http {{
    access_log {folder / 'access.log'};
{temp}
    default_type application/octet-stream;

{site_config(ports, listen, sticky, tls=tls)}}}
"""


def write_standalone(ports: Sequence[int], listen: str, folder: Path, sticky: str = "cookie",
                     workers: int = 1, tls: Tls | None = None) -> Path:
    """Write `folder`/nginx.conf (and its temp folders); its path."""
    for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"):
        (folder / "tmp" / kind).mkdir(parents=True, exist_ok=True)
    path = folder / "nginx.conf"
    path.write_text(standalone_config(ports, listen, folder, sticky, workers, tls), encoding="utf-8")
    return path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("kind", choices=("site", "standalone"))
    parser.add_argument("--ports", required=True, help="the processes' ports: 8501-8504 or 8501,8502")
    parser.add_argument("--listen", default="80", help="what nginx listens on: a port or address:port")
    parser.add_argument("--sticky", choices=STICKY, default="cookie", help="stickiness: nginx's cookie or the client address")
    parser.add_argument("--server-name", default="_", help="server_name of the site (site only)")
    parser.add_argument("--dir", type=Path, help="standalone: the folder for nginx.conf, pid, logs, temp files")
    parser.add_argument("--workers", type=int, default=1, help="standalone: nginx worker processes")
    parser.add_argument("--tls-cert", type=Path, help="HTTPS: the certificate (chain), PEM; with --tls-key")
    parser.add_argument("--tls-key", type=Path, help="HTTPS: the certificate's private key, PEM")
    parser.add_argument("--http-redirect", help="with TLS: also listen on this port (or address:port) for plain "
                                                "HTTP, redirecting to HTTPS")
    args = parser.parse_args(argv)
    try:
        ports = parse_ports(args.ports)
    except ValueError as exc:
        parser.error(str(exc))
    if (args.tls_cert is None) != (args.tls_key is None):
        parser.error("--tls-cert and --tls-key go together")
    if args.http_redirect and args.tls_cert is None:
        parser.error("--http-redirect needs --tls-cert and --tls-key")
    tls = Tls(args.tls_cert.resolve(), args.tls_key.resolve(), args.http_redirect) if args.tls_cert else None
    if args.kind == "site":
        sys.stdout.write(site_config(ports, args.listen, args.sticky, args.server_name, tls=tls))
        return 0
    if args.dir is None:
        parser.error("standalone needs --dir")
    print(write_standalone(ports, args.listen, args.dir, args.sticky, args.workers, tls))
    return 0


if __name__ == "__main__":
    sys.exit(main())
