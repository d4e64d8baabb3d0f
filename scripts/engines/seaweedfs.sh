#!/usr/bin/env bash
# SeaweedFS S3 gateway, built from the Go module proxy, run as one `weed mini`
# process (master + volume + filer + S3) on 127.0.0.1, S3 on
# ${STRATA_S3_PORT:-58333}, signed requests with strata / strata-secret.
# Usage: seaweedfs.sh {install|up|down|status|restart}
set -euo pipefail
# shellcheck source=scripts/engines/lib.sh
source "$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/lib.sh"

ENGINE=seaweedfs
SW_MODULE=github.com/seaweedfs/seaweedfs
# Pseudo-version of 2026-11-09: has `weed mini` and the locked re-check of
# conditional headers on PutObject (If-None-Match: * is atomic under concurrency).
SW_VERSION="${STRATA_SEAWEEDFS_VERSION:-v0.0.0-20261109003541-7506e5f91cd6}"
SW_ROOT="$ENGINES_HOME/seaweedfs"
SW_BIN="$SW_ROOT/bin/weed-$SW_VERSION"
SW_DATA="$SW_ROOT/data"
SW_S3_CONFIG="$SW_ROOT/s3.json"
SW_LOG="$ENGINES_LOG_DIR/seaweedfs.log"
SW_INSTALL_LOG="$ENGINES_LOG_DIR/seaweedfs-install.log"
SW_PID="$ENGINES_RUN_DIR/seaweedfs.pid"
S3_URL="http://$LOOPBACK:$S3_PORT"

sw_go_env() {
  export GOMODCACHE="$ENGINES_GOMODCACHE" GOCACHE="$ENGINES_GOCACHE"
  # writable module cache, so `rm -rf $STRATA_ENGINES_HOME` works for non-root users too
  export GOFLAGS=-modcacherw
}

seaweedfs_install_locked() {
  if [[ -x "$SW_BIN" ]]; then
    eng_log "$ENGINE" "already installed ($SW_VERSION)"
    return 0
  fi
  require_cmd "$ENGINE" go
  local t0 srcdir
  t0="$(now_s)"
  sw_go_env
  mkdir -p "$SW_ROOT/bin"
  eng_log "$ENGINE" "downloading $SW_MODULE@$SW_VERSION from the Go module proxy (log $SW_INSTALL_LOG)"
  # `go install module/weed@version` refuses this module (its go.mod has a
  # replace directive), so download the module and build inside it, where it
  # is the main module and its own go.mod/go.sum apply.
  srcdir="$(cd "$ENGINES_HOME" && go mod download -json "$SW_MODULE@$SW_VERSION" 2>>"$SW_INSTALL_LOG" \
    | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')" || true
  [[ -n "$srcdir" && -d "$srcdir/weed" ]] || eng_die "$ENGINE" "go mod download $SW_MODULE@$SW_VERSION failed" "$SW_INSTALL_LOG"
  eng_log "$ENGINE" "building weed (go build; several minutes on 2 cores the first time)"
  if ! (cd "$srcdir" && go build -trimpath -ldflags "-s -w" -o "$SW_BIN.tmp" ./weed >>"$SW_INSTALL_LOG" 2>&1); then
    rm -f "$SW_BIN.tmp"
    eng_die "$ENGINE" "go build failed" "$SW_INSTALL_LOG"
  fi
  mv "$SW_BIN.tmp" "$SW_BIN"
  eng_log "$ENGINE" "installed in $(( $(now_s) - t0 ))s: $("$SW_BIN" version 2>/dev/null | head -n1)"
  # The Go module and build caches (~4 GB) are only needed to build again,
  # i.e. for another SEAWEEDFS version; keep them with STRATA_ENGINES_KEEP_GO_CACHE=1.
  if [[ "${STRATA_ENGINES_KEEP_GO_CACHE:-0}" != 1 ]]; then
    go clean -cache -modcache >>"$SW_INSTALL_LOG" 2>&1 || true
    rm -rf "$ENGINES_HOME/go"
    eng_log "$ENGINE" "removed the Go build/module caches (set STRATA_ENGINES_KEEP_GO_CACHE=1 to keep them)"
  fi
}

seaweedfs_install() {
  with_lock seaweedfs-install seaweedfs_install_locked
}

# Two identities: Strata's own, and a read-only one (tests show that an identity which may read
# but not write is refused at start-up, naming the credentials).
sw_s3_config() {
  cat <<EOF
{
  "identities": [
    {
      "name": "strata",
      "credentials": [ { "accessKey": "$S3_ACCESS_KEY", "secretKey": "$S3_SECRET_KEY" } ],
      "actions": [ "Admin", "Read", "Write", "List", "Tagging" ]
    },
    {
      "name": "strata-reader",
      "credentials": [ { "accessKey": "$S3_READER_ACCESS_KEY", "secretKey": "$S3_READER_SECRET_KEY" } ],
      "actions": [ "Read", "List" ]
    }
  ]
}
EOF
}

sw_write_s3_config() {
  sw_s3_config >"$SW_S3_CONFIG"
  chmod 600 "$SW_S3_CONFIG"
}

# True when the running server was started with the identities this script would give it now.
sw_s3_config_current() {
  [[ -f "$SW_S3_CONFIG" ]] && [[ "$(cat "$SW_S3_CONFIG")" == "$(sw_s3_config)" ]]
}

# A SigV4-signed ListBuckets: proves the gateway is up and our identity works.
sw_s3_ok() {
  local code
  code="$(curl -sS -o /dev/null -w '%{http_code}' --max-time 5 \
    --aws-sigv4 "aws:amz:us-east-1:s3" --user "$S3_ACCESS_KEY:$S3_SECRET_KEY" "$S3_URL/" 2>/dev/null || true)"
  [[ "$code" == 200 ]]
}

seaweedfs_up() {
  local t0
  t0="$(now_s)"
  seaweedfs_install
  if pid_alive "$SW_PID" && ! sw_s3_config_current; then
    eng_log "$ENGINE" "running with older S3 identities; restarting it with the current ones"
    seaweedfs_down
  fi
  if pid_alive "$SW_PID"; then
    if sw_s3_ok; then
      eng_log "$ENGINE" "already running, S3 on $S3_URL (pid $(cat "$SW_PID"))"
      return 0
    fi
    eng_log "$ENGINE" "process alive but S3 not answering yet; waiting"
  else
    local p
    for p in "$S3_PORT" "$SW_MASTER_PORT" "$SW_VOLUME_PORT" "$SW_FILER_PORT" \
        "$((SW_MASTER_PORT + 100))" "$((SW_VOLUME_PORT + 100))" "$((SW_FILER_PORT + 100))" "$((S3_PORT + 100))" \
        "$SW_ADMIN_PORT" "$((SW_ADMIN_PORT + 100))"; do
      port_free "$p" || eng_die "$ENGINE" "port $p is already in use by another process: $(port_owner "$p")"
    done
    mkdir -p "$SW_DATA"
    sw_write_s3_config
    eng_log "$ENGINE" "starting weed mini, S3 on $S3_URL (data $SW_DATA, log $SW_LOG)"
    # cwd = SW_ROOT so no stray filer.toml in the caller's cwd is picked up.
    # gRPC ports are set explicitly (default is http+10000, past 65535 here).
    (cd "$SW_ROOT" && start_daemon "$SW_PID" "$SW_LOG" "$SW_BIN" mini \
      -dir="$SW_DATA" -ip="$LOOPBACK" -ip.bind="$LOOPBACK" \
      -master.port="$SW_MASTER_PORT" -master.port.grpc="$((SW_MASTER_PORT + 100))" \
      -master.telemetry=false -master.volumeSizeLimitMB=64 \
      -volume.port="$SW_VOLUME_PORT" -volume.port.grpc="$((SW_VOLUME_PORT + 100))" \
      -filer.port="$SW_FILER_PORT" -filer.port.grpc="$((SW_FILER_PORT + 100))" \
      -s3.port="$S3_PORT" -s3.port.grpc="$((S3_PORT + 100))" \
      -s3.port.iceberg=0 -s3.port.lance=0 -s3.config="$SW_S3_CONFIG" \
      -webdav=false -admin.ui=false -admin.port="$SW_ADMIN_PORT" \
      -admin.port.grpc="$((SW_ADMIN_PORT + 100))" -admin.port.legacy=0)
  fi
  wait_for_port "$ENGINE" "$S3_PORT" 120 "$SW_LOG" "$SW_PID"
  local end=$(( $(now_s) + 120 ))
  until sw_s3_ok; do
    pid_alive "$SW_PID" || eng_die "$ENGINE" "weed exited during startup" "$SW_LOG"
    (( $(now_s) < end )) || eng_die "$ENGINE" "signed ListBuckets on $S3_URL not answering 200 after 120s" "$SW_LOG"
    sleep 1
  done
  eng_log "$ENGINE" "up in $(( $(now_s) - t0 ))s: S3 $S3_URL (access key $S3_ACCESS_KEY)"
}

seaweedfs_down() {
  stop_pid "$ENGINE" "$SW_PID" 30
}

seaweedfs_status() {
  if [[ ! -x "$SW_BIN" ]]; then
    echo "seaweedfs  NOT INSTALLED"
    return 1
  fi
  if pid_alive "$SW_PID"; then
    if sw_s3_ok; then
      echo "seaweedfs  UP    $S3_URL  (weed mini $SW_VERSION, pid $(cat "$SW_PID"), data $SW_DATA)"
    else
      echo "seaweedfs  UNHEALTHY  pid $(cat "$SW_PID") alive but signed ListBuckets failed (log $SW_LOG)"
      return 1
    fi
  else
    echo "seaweedfs  DOWN"
    return 1
  fi
}

engine_main "$ENGINE" "${1:-}"
