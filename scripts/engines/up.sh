#!/usr/bin/env bash
# Installs (first run only) and starts the four engines: postgres, kafka,
# opensearch, seaweedfs. Downloads/builds run in parallel (the seaweedfs Go
# build beside the Maven resolutions and apt), then the engines start in
# parallel. Idempotent: engines already up are left alone.
# Usage: up.sh [engine...]   (default: all four)
set -euo pipefail
# shellcheck source=scripts/engines/lib.sh
source "$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/lib.sh"

ALL_ENGINES=(postgres kafka opensearch seaweedfs)
if (( $# > 0 )); then ENGINES=("$@"); else ENGINES=("${ALL_ENGINES[@]}"); fi
for e in "${ENGINES[@]}"; do
  [[ -x "$ENGINES_SCRIPT_DIR/$e.sh" ]] || { echo "up.sh: unknown engine '$e' (known: ${ALL_ENGINES[*]})" >&2; exit 2; }
done

has() { local x; for x in "${ENGINES[@]}"; do [[ "$x" == "$1" ]] && return 0; done; return 1; }

T0="$(now_s)"
OUT_DIR="$ENGINES_LOG_DIR/up"
mkdir -p "$OUT_DIR"

declare -A JOB_PID=()
declare -A JOB_ENGINES=()

start_job() { # start_job NAME "ENGINES" CMD...
  local name="$1" engines="$2"
  shift 2
  : >"$OUT_DIR/$name.out"
  ( "$@" ) >"$OUT_DIR/$name.out" 2>&1 &
  JOB_PID[$name]=$!
  JOB_ENGINES[$name]="$engines"
}

# Waits for every job; prints each job's output; returns 1 if any failed.
wait_jobs() { # wait_jobs PHASE
  local phase="$1" name failed=()
  for name in "${!JOB_PID[@]}"; do
    if wait "${JOB_PID[$name]}"; then
      cat "$OUT_DIR/$name.out" >&2
    else
      cat "$OUT_DIR/$name.out" >&2
      failed+=("${JOB_ENGINES[$name]}")
    fi
  done
  JOB_PID=()
  JOB_ENGINES=()
  if (( ${#failed[@]} > 0 )); then
    echo "[engines] FAILED during $phase: ${failed[*]} (logs in $ENGINES_LOG_DIR)" >&2
    return 1
  fi
}

install_java_engines() {
  # kafka and opensearch share one Maven local repository: resolve one after the other
  local e
  for e in kafka opensearch; do
    if has "$e"; then bash "$ENGINES_SCRIPT_DIR/$e.sh" install; fi
  done
}

echo "[engines] home $ENGINES_HOME; installing: ${ENGINES[*]}" >&2
has postgres && start_job install-postgres postgres bash "$ENGINES_SCRIPT_DIR/postgres.sh" install
has seaweedfs && start_job install-seaweedfs seaweedfs bash "$ENGINES_SCRIPT_DIR/seaweedfs.sh" install
if has kafka || has opensearch; then
  java_engines=""
  has kafka && java_engines+="kafka "
  has opensearch && java_engines+="opensearch"
  start_job install-java "$java_engines" install_java_engines
fi
wait_jobs install
T1="$(now_s)"
echo "[engines] install phase done in $(( T1 - T0 ))s; starting" >&2

for e in "${ENGINES[@]}"; do
  start_job "up-$e" "$e" bash "$ENGINES_SCRIPT_DIR/$e.sh" up
done
wait_jobs start
echo "[engines] all up (${ENGINES[*]}) in $(( $(now_s) - T0 ))s (install $(( T1 - T0 ))s, start $(( $(now_s) - T1 ))s)" >&2
