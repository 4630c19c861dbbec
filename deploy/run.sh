#!/usr/bin/env bash
# N dashboard processes and nginx in front of them, without systemd (a container, a machine where
# systemd is not PID 1). Runs in the foreground until Ctrl-C / SIGTERM, then stops everything it started.
#
#   DATABASE_URL=postgresql+psycopg://user@host:5432/petition deploy/run.sh N BASE_PORT
#
# nginx listens on BASE_PORT (all addresses; PETITION_LISTEN=127.0.0.1:8500 narrows it), the processes
# on 127.0.0.1:BASE_PORT+1 .. BASE_PORT+N. A process that exits is started again after 3 s.
# Logs, nginx.conf and pids go to PETITION_RUN_DIR (default: run/ beside app.py).
# HTTPS: PETITION_TLS_CERT and PETITION_TLS_KEY (PEM files) make nginx's port speak TLS only
# (deploy/nginx.py --tls-cert/--tls-key; PETITION_HTTP_REDIRECT=PORT adds a plain-HTTP port that redirects).
# More than one process needs a database server (PostgreSQL): the embedded DuckDB file admits one process.
set -euo pipefail

usage() { echo "usage: DATABASE_URL=postgresql+psycopg://... $0 N BASE_PORT" >&2; exit 2; }
[ $# -eq 2 ] || usage
N=$1 BASE=$2
[[ "$N" =~ ^[1-9][0-9]*$ && "$BASE" =~ ^[1-9][0-9]*$ ]] || usage
(( BASE + N < 65536 )) || usage

ROOT="$(cd "$(dirname "$0")/.." && pwd)"
cd "$ROOT"
PYTHON="${PYTHON:-python3}"
RUN_DIR="${PETITION_RUN_DIR:-$ROOT/run}"
LISTEN="${PETITION_LISTEN:-$BASE}"
NGINX="${NGINX:-$(command -v nginx || echo /usr/sbin/nginx)}"

if (( N > 1 )) && [[ "${DATABASE_URL:-}" != postgresql* ]]; then
  echo "错误：多个进程需要共享 PostgreSQL 数据库（设置 DATABASE_URL=postgresql+psycopg://...）；内置 DuckDB 文件只允许一个进程打开。" >&2
  exit 2
fi
[ -x "$NGINX" ] || { echo "错误：未找到 nginx（Debian: apt-get install nginx）" >&2; exit 2; }

# One cookie secret for every process (Streamlit signs its OIDC cookies with it): generated per start unless given.
export STREAMLIT_SERVER_COOKIE_SECRET="${STREAMLIT_SERVER_COOKIE_SECRET:-$("$PYTHON" -c 'import secrets; print(secrets.token_hex(32))')}"
export PYTHONUNBUFFERED=1 STREAMLIT_BROWSER_GATHER_USAGE_STATS=false
# glibc gives every thread that allocates its own malloc arena and keeps freed memory in it; Streamlit
# runs each script run in a thread of its own (benchmarks/README.md, memory): two arenas are plenty.
export MALLOC_ARENA_MAX="${MALLOC_ARENA_MAX:-2}"

mkdir -p "$RUN_DIR"
PORTS=()
for i in $(seq 1 "$N"); do PORTS+=($((BASE + i))); done
PORT_LIST=$(IFS=,; echo "${PORTS[*]}")

declare -A PIDS=()
NGINX_PID=""

start_process() {
  local port=$1
  "$PYTHON" -m streamlit run server.py --server.port "$port" --server.address 127.0.0.1 --server.headless true \
    >>"$RUN_DIR/streamlit-$port.log" 2>&1 </dev/null &
  PIDS[$port]=$!
  echo "$!" >"$RUN_DIR/streamlit-$port.pid"
  echo "started process on 127.0.0.1:$port (pid $!, log $RUN_DIR/streamlit-$port.log)"
}

healthy() { curl -fsS --max-time 2 "http://127.0.0.1:$1/_stcore/health" >/dev/null 2>&1; }

stop_all() {
  trap - INT TERM EXIT
  echo "stopping ..."
  [ -n "$NGINX_PID" ] && kill "$NGINX_PID" 2>/dev/null || true
  for port in "${!PIDS[@]}"; do kill "${PIDS[$port]}" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -f "$RUN_DIR"/streamlit-*.pid
}
trap 'stop_all; exit 0' INT TERM
trap stop_all EXIT

for port in "${PORTS[@]}"; do start_process "$port"; done
for port in "${PORTS[@]}"; do
  for _ in $(seq 1 120); do healthy "$port" && break; sleep 0.5; done
  healthy "$port" || { echo "process on port $port did not become healthy; see $RUN_DIR/streamlit-$port.log" >&2; exit 1; }
done

TLS_ARGS=()
SCHEME=http
if [ -n "${PETITION_TLS_CERT:-}${PETITION_TLS_KEY:-}" ]; then
  TLS_ARGS=(--tls-cert "${PETITION_TLS_CERT:-}" --tls-key "${PETITION_TLS_KEY:-}")
  [ -n "${PETITION_HTTP_REDIRECT:-}" ] && TLS_ARGS+=(--http-redirect "$PETITION_HTTP_REDIRECT")
  SCHEME=https
fi
CONF=$("$PYTHON" -m deploy.nginx standalone --ports "$PORT_LIST" --listen "$LISTEN" --dir "$RUN_DIR/nginx" \
       --workers "${PETITION_NGINX_WORKERS:-1}" "${TLS_ARGS[@]}")
"$NGINX" -t -q -c "$CONF"
"$NGINX" -c "$CONF" &
NGINX_PID=$!
echo "nginx (pid $NGINX_PID) on $LISTEN -> ${PORTS[*]}; config $CONF"
echo "ready: $SCHEME://$( [[ "$LISTEN" == *:* ]] && echo "$LISTEN" || echo "127.0.0.1:$LISTEN" )/"

# keep everything running: restart a process that exited; stop when nginx exits
while true; do
  sleep 3
  if ! kill -0 "$NGINX_PID" 2>/dev/null; then
    echo "nginx exited; see $RUN_DIR/nginx/error.log" >&2
    exit 1
  fi
  for port in "${PORTS[@]}"; do
    if ! kill -0 "${PIDS[$port]}" 2>/dev/null; then
      wait "${PIDS[$port]}" 2>/dev/null || true
      echo "process on port $port exited; starting it again" >&2
      start_process "$port"
    fi
  done
done
