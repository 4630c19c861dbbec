#!/usr/bin/env bash
# Install everything the test suite needs on a fresh Debian machine, then run the whole suite.
# Used by the README and by .ci/run. Extra arguments go to pytest.
set -euo pipefail
cd "$(dirname "$0")/.."

as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

echo "== Python packages (requirements-dev.txt)"
python3 -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt

# Exact package states and no pipeline: under pipefail, a grep that quits early (-q) made fc-list exit 141.
deb_installed() { [ "$(dpkg-query -W -f='${db:Status-Status}' "$1" 2>/dev/null)" = installed ]; }
DEBS="chromium fonts-noto-cjk libreoffice-impress libreoffice-writer libreoffice-calc poppler-utils nginx mariadb-server"
missing=""
for deb in $DEBS; do deb_installed "$deb" || missing="$missing $deb"; done
if ! command -v chromium >/dev/null 2>&1 || [ -n "$missing" ]; then
  echo "== Debian packages:$missing (chromium: browser tests; fonts-noto-cjk: Chinese in screenshots;"
  echo "   libreoffice-*, poppler-utils: the meeting deck rendered to PDF and PNG; nginx: deploy/ with several processes;"
  echo "   mariadb-server: the MySQL-family test backend)"
  as_root apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $DEBS >/dev/null
fi

if ! pg_isready -q -h 127.0.0.1 -p 5432 2>/dev/null; then
  echo "== starting PostgreSQL"
  as_root pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -1)" main start
  for _ in $(seq 1 30); do pg_isready -q -h 127.0.0.1 -p 5432 && break; sleep 1; done
fi

# mariadb-admin ping answers 0 whenever the server runs, even where it refuses the user
if ! mariadb-admin --protocol=tcp -h 127.0.0.1 -P 3306 ping >/dev/null 2>&1; then
  echo "== starting MariaDB"
  as_root service mariadb start >/dev/null || (as_root mysqld_safe >/dev/null 2>&1 &)
  for _ in $(seq 1 30); do mariadb-admin --protocol=tcp -h 127.0.0.1 -P 3306 ping >/dev/null 2>&1 && break; sleep 1; done
fi
# The tests connect as root over TCP without a password (as to PostgreSQL); a fresh Debian install lets
# root in by its Unix socket only, so grant the same to root@127.0.0.1 there, and make the `test` database.
if ! mariadb --protocol=tcp -h 127.0.0.1 -P 3306 -uroot -e "SELECT 1" test >/dev/null 2>&1; then
  echo "== MariaDB: root@127.0.0.1 without a password, database test"
  as_root mariadb -e "CREATE USER IF NOT EXISTS 'root'@'127.0.0.1'; GRANT ALL PRIVILEGES ON *.* TO 'root'@'127.0.0.1' WITH GRANT OPTION; CREATE DATABASE IF NOT EXISTS test CHARACTER SET utf8mb4"
fi

echo "== ruff, mypy (pyproject.toml)"
python3 -m ruff check --quiet .
python3 -m mypy

echo "== pytest (${TEST_WORKERS:-2} processes)"
# Each test file runs whole in one process (its module fixtures, servers and databases built once); every
# process makes its own session databases. TEST_WORKERS=0 runs everything in this process.
exec python3 -m pytest -p no:cacheprovider -n "${TEST_WORKERS:-2}" --dist loadfile "$@"
