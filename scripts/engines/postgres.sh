#!/usr/bin/env bash
# PostgreSQL (Debian's packages) on 127.0.0.1:${STRATA_PG_PORT:-55432}, own
# cluster under $STRATA_ENGINES_HOME/postgres, role strata/strata, databases
# strata and strata_test.  Usage: postgres.sh {install|up|down|status|restart}
set -euo pipefail
# shellcheck source=scripts/engines/lib.sh
source "$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/lib.sh"

ENGINE=postgres
PG_ROOT="$ENGINES_HOME/postgres"
PG_DATA="$PG_ROOT/data"
PG_SOCK="$PG_ROOT/run"
PG_LOG="$ENGINES_LOG_DIR/postgres.log"
PG_DATABASES=(strata strata_test)

pg_bindir() {
  local d best="" best_major=0 major
  for d in /usr/lib/postgresql/*/bin; do
    [[ -x "$d/pg_ctl" && -x "$d/initdb" && -x "$d/postgres" ]] || continue
    major="$(basename "$(dirname "$d")")"
    major="${major%%.*}"
    if [[ "$major" =~ ^[0-9]+$ ]] && (( major > best_major )); then
      best="$d"
      best_major="$major"
    fi
  done
  [[ -n "$best" ]] || return 1
  echo "$best"
}

# PostgreSQL refuses to run as root: as root we run it as the OS user
# `postgres` (created by the Debian package); otherwise as ourselves.
pg_user() {
  if [[ "$(id -u)" == 0 ]]; then echo postgres; else id -un; fi
}

as_pg() {
  if [[ "$(id -u)" == 0 ]]; then
    runuser -u postgres -- "$@"
  else
    "$@"
  fi
}

# The postgres user must be able to reach PG_ROOT. When the cache lives under a
# private home (/root is 0700) grant traverse-only (o+x) on the ancestors that
# lack it; nothing is made readable or listable.
ensure_traversable() {
  [[ "$(id -u)" == 0 ]] || return 0
  local d="$PG_ROOT" chain=() i
  while [[ "$d" != "/" ]]; do
    d="$(dirname "$d")"
    chain=("$d" "${chain[@]}")
  done
  # top-down, so each test sees its parents already fixed
  for i in "${chain[@]}"; do
    if [[ -d "$i" ]] && ! runuser -u postgres -- test -x "$i"; then
      chmod o+x "$i"
      eng_log "$ENGINE" "granted traverse-only permission (o+x) on $i so user postgres can reach its data dir"
    fi
  done
}

postgres_install() {
  if pg_bindir >/dev/null; then
    eng_log "$ENGINE" "server binaries present: $(pg_bindir)"
  else
    [[ "$(id -u)" == 0 ]] || eng_die "$ENGINE" "no PostgreSQL server under /usr/lib/postgresql/*/bin; install the Debian package 'postgresql' (needs root)"
    local t0
    t0="$(now_s)"
    eng_log "$ENGINE" "installing Debian package postgresql (apt-get; log $ENGINES_LOG_DIR/postgres-install.log)"
    # Do not let the package create and start its own cluster on 5432.
    mkdir -p /etc/postgresql-common
    if [[ ! -e /etc/postgresql-common/createcluster.conf ]]; then
      echo "create_main_cluster = false" >/etc/postgresql-common/createcluster.conf
    fi
    # ... nor start any service while installing (standard policy-rc.d "deny").
    local aptlog="$ENGINES_LOG_DIR/postgres-install.log" policy_added="" rc=0
    if [[ ! -e /usr/sbin/policy-rc.d ]]; then
      printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d
      chmod 755 /usr/sbin/policy-rc.d
      policy_added=1
    fi
    { apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
        -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold postgresql postgresql-client; } >>"$aptlog" 2>&1 || rc=$?
    if [[ -n "$policy_added" ]]; then rm -f /usr/sbin/policy-rc.d; fi
    (( rc == 0 )) || eng_die "$ENGINE" "apt-get install postgresql failed (exit $rc)" "$aptlog"
    pg_bindir >/dev/null || eng_die "$ENGINE" "postgresql installed but no server binaries found under /usr/lib/postgresql/*/bin"
    eng_log "$ENGINE" "installed in $(( $(now_s) - t0 ))s: $(pg_bindir)"
  fi
  if [[ "$(id -u)" == 0 ]] && ! id postgres >/dev/null 2>&1; then
    eng_die "$ENGINE" "OS user 'postgres' is missing (it comes with the Debian package)"
  fi
}

pg_initdb() {
  local bin="$1"
  ensure_traversable
  mkdir -p "$PG_ROOT" "$PG_SOCK"
  touch "$PG_LOG"
  if [[ "$(id -u)" == 0 ]]; then
    chown postgres: "$PG_ROOT" "$PG_SOCK" "$PG_LOG"
  fi
  if [[ -s "$PG_DATA/PG_VERSION" ]]; then
    return 0
  fi
  eng_log "$ENGINE" "initdb $PG_DATA"
  rm -rf "$PG_DATA"
  local pwfile
  pwfile="$(mktemp)"
  echo "strata" >"$pwfile"
  [[ "$(id -u)" == 0 ]] && chown postgres: "$pwfile"
  if ! as_pg "$bin/initdb" -D "$PG_DATA" -U postgres --pwfile="$pwfile" -E UTF8 --locale=C.UTF-8 \
      --auth-local=peer --auth-host=scram-sha-256 --no-instructions >>"$PG_LOG" 2>&1; then
    rm -f "$pwfile"
    eng_die "$ENGINE" "initdb failed" "$PG_LOG"
  fi
  rm -f "$pwfile"
  # Our settings go last so they win. fsync stays on (fault tests need real
  # durability); synchronous_commit keeps its default.
  as_pg tee -a "$PG_DATA/postgresql.conf" >/dev/null <<EOF

# ---- strata engines (scripts/engines/postgres.sh) ----
listen_addresses = '$LOOPBACK'
port = $PG_PORT
unix_socket_directories = '$PG_SOCK'
max_connections = 200
shared_buffers = 128MB
log_line_prefix = '%m [%p] %q%u@%d '
log_timezone = 'UTC'
timezone = 'UTC'
EOF
}

pg_psql() { # pg_psql BIN SQL  (as superuser postgres over the private socket)
  local bin="$1" sql="$2"
  as_pg "$bin/psql" -X -q -v ON_ERROR_STOP=1 -h "$PG_SOCK" -p "$PG_PORT" -U postgres -d postgres -tA -c "$sql"
}

pg_bootstrap_roles() {
  local bin="$1" db
  pg_psql "$bin" "DO \$\$BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'strata') THEN
      CREATE ROLE strata LOGIN SUPERUSER PASSWORD 'strata';
    ELSE
      ALTER ROLE strata LOGIN SUPERUSER PASSWORD 'strata';
    END IF;
  END\$\$;" >/dev/null
  for db in "${PG_DATABASES[@]}"; do
    if [[ "$(pg_psql "$bin" "SELECT 1 FROM pg_database WHERE datname = '$db'")" != 1 ]]; then
      pg_psql "$bin" "CREATE DATABASE $db OWNER strata" >/dev/null
      eng_log "$ENGINE" "created database $db"
    fi
  done
}

pg_running() {
  local bin="$1"
  [[ -s "$PG_DATA/PG_VERSION" ]] && as_pg "$bin/pg_ctl" status -D "$PG_DATA" >/dev/null 2>&1
}

pg_healthy() {
  PGPASSWORD=strata "$(pg_bindir)/psql" -X -q -h "$LOOPBACK" -p "$PG_PORT" -U strata -d strata_test -tA \
    -c "select 1" 2>/dev/null | grep -qx 1
}

postgres_up() {
  local t0 bin
  t0="$(now_s)"
  postgres_install
  bin="$(pg_bindir)"
  pg_initdb "$bin"
  if pg_running "$bin"; then
    if pg_healthy; then
      eng_log "$ENGINE" "already running on $LOOPBACK:$PG_PORT"
      return 0
    fi
  else
    if ! port_free "$PG_PORT"; then
      eng_die "$ENGINE" "port $PG_PORT is already in use by another process: $(port_owner "$PG_PORT")"
    fi
    eng_log "$ENGINE" "starting on $LOOPBACK:$PG_PORT (data $PG_DATA, log $PG_LOG)"
    if ! as_pg "$bin/pg_ctl" start -D "$PG_DATA" -l "$PG_LOG" -w -t 120 >/dev/null 2>&1; then
      eng_die "$ENGINE" "pg_ctl start failed" "$PG_LOG"
    fi
  fi
  pg_bootstrap_roles "$bin" || eng_die "$ENGINE" "creating role/databases failed" "$PG_LOG"
  pg_healthy || eng_die "$ENGINE" "started but 'select 1' as strata@strata_test failed" "$PG_LOG"
  eng_log "$ENGINE" "up in $(( $(now_s) - t0 ))s: postgres://strata:strata@$LOOPBACK:$PG_PORT/strata_test"
}

postgres_down() {
  local bin
  if ! bin="$(pg_bindir)"; then
    eng_log "$ENGINE" "not installed"
    return 0
  fi
  if pg_running "$bin"; then
    eng_log "$ENGINE" "stopping"
    as_pg "$bin/pg_ctl" stop -D "$PG_DATA" -m fast -w -t 60 >/dev/null 2>&1 \
      || eng_die "$ENGINE" "pg_ctl stop failed" "$PG_LOG"
    eng_log "$ENGINE" "stopped"
  else
    eng_log "$ENGINE" "not running"
  fi
}

postgres_status() {
  local bin
  if ! bin="$(pg_bindir)"; then
    echo "postgres   NOT INSTALLED"
    return 1
  fi
  if pg_running "$bin" && pg_healthy; then
    echo "postgres   UP    $LOOPBACK:$PG_PORT  (PostgreSQL $("$bin/postgres" --version | awk '{print $3}'), data $PG_DATA)"
  elif pg_running "$bin"; then
    echo "postgres   UNHEALTHY  running but 'select 1' failed (log $PG_LOG)"
    return 1
  else
    echo "postgres   DOWN"
    return 1
  fi
}

engine_main "$ENGINE" "${1:-}"
