#!/usr/bin/env bash
# Health check of a deployment: every process's /_stcore/health and the proxy's /healthz.
# Exit 0 when all answer 200, 1 when any is down (each one named); for cron, a monitoring agent or by hand.
#
#   deploy/check.sh N BASE_PORT [PROXY_URL]
#
# Processes on 127.0.0.1:BASE_PORT+1 .. BASE_PORT+N (as deploy/run.sh and the systemd units start them);
# the proxy at PROXY_URL (default http://127.0.0.1:BASE_PORT; https://127.0.0.1:BASE_PORT when PETITION_TLS_CERT
# is set, as deploy/run.sh then serves HTTPS). The proxy's certificate is not verified here: the check asks
# whether nginx answers, a browser checks the certificate.
set -uo pipefail

usage() { echo "usage: $0 N BASE_PORT [PROXY_URL]" >&2; exit 2; }
[ $# -ge 2 ] && [ $# -le 3 ] || usage
N=$1 BASE=$2
[[ "$N" =~ ^[1-9][0-9]*$ && "$BASE" =~ ^[1-9][0-9]*$ ]] || usage
DEFAULT_SCHEME=$([ -n "${PETITION_TLS_CERT:-}" ] && echo https || echo http)
PROXY="${3:-$DEFAULT_SCHEME://127.0.0.1:$BASE}"
TIMEOUT="${PETITION_CHECK_TIMEOUT:-5}"

ok() { curl -fsS --insecure --max-time "$TIMEOUT" -o /dev/null "$1" 2>/dev/null; }

down=0
for i in $(seq 1 "$N"); do
  url="http://127.0.0.1:$((BASE + i))/_stcore/health"
  if ok "$url"; then echo "ok    process $((BASE + i))"; else echo "DOWN  process $((BASE + i)) ($url)"; down=1; fi
done
if ok "$PROXY/healthz"; then echo "ok    proxy $PROXY"; else echo "DOWN  proxy $PROXY ($PROXY/healthz)"; down=1; fi
exit $down
