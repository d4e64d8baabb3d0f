# shellcheck shell=bash
# shellcheck disable=SC2034  # variables below are used by the scripts that source this
# Common helpers for scripts/engines/*.sh. Source it; do not execute it.
#
# Everything the engines need (downloads, builds, data, logs, pid files) lives
# under ${STRATA_ENGINES_HOME:-$HOME/.cache/strata-engines}, never in the clone.

if [[ -n "${STRATA_ENGINES_LIB_LOADED:-}" ]]; then
  return 0
fi
STRATA_ENGINES_LIB_LOADED=1

ENGINES_SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ENGINES_HOME="${STRATA_ENGINES_HOME:-$HOME/.cache/strata-engines}"
ENGINES_LOG_DIR="$ENGINES_HOME/logs"
ENGINES_RUN_DIR="$ENGINES_HOME/run"
# Maven and Go keep their own caches inside ENGINES_HOME too, so that removing
# ENGINES_HOME really is a cold start and nothing leaks into ~/.m2 or ~/go.
ENGINES_M2_REPO="$ENGINES_HOME/m2/repository"
ENGINES_GOMODCACHE="$ENGINES_HOME/go/mod"
ENGINES_GOCACHE="$ENGINES_HOME/go/build"

# Ports (all bound to 127.0.0.1). Override with the env vars named here.
PG_PORT="${STRATA_PG_PORT:-55432}"
KAFKA_PORT="${STRATA_KAFKA_PORT:-59092}"
KAFKA_CONTROLLER_PORT="${STRATA_KAFKA_CONTROLLER_PORT:-59093}"
OS_HTTP_PORT="${STRATA_OS_PORT:-59200}"
OS_TRANSPORT_PORT="${STRATA_OS_TRANSPORT_PORT:-59300}"
S3_PORT="${STRATA_S3_PORT:-58333}"
SW_MASTER_PORT="${STRATA_SW_MASTER_PORT:-59333}"
SW_VOLUME_PORT="${STRATA_SW_VOLUME_PORT:-58080}"
SW_FILER_PORT="${STRATA_SW_FILER_PORT:-58888}"
SW_ADMIN_PORT="${STRATA_SW_ADMIN_PORT:-57646}"

S3_ACCESS_KEY="${STRATA_S3_ACCESS_KEY:-strata}"
S3_SECRET_KEY="${STRATA_S3_SECRET_KEY:-strata-secret}"
# A second, read-only identity on the S3 server, for the tests of missing write permission.
S3_READER_ACCESS_KEY="strata-reader"
S3_READER_SECRET_KEY="strata-reader-secret"

LOOPBACK=127.0.0.1

mkdir -p "$ENGINES_HOME" "$ENGINES_LOG_DIR" "$ENGINES_RUN_DIR"

# ---------------------------------------------------------------- output

eng_log() { # eng_log ENGINE MESSAGE...
  local engine="$1"
  shift
  printf '[engines:%s] %s\n' "$engine" "$*" >&2
}

# Prints the last lines of a log file (stderr), framed, if it exists.
show_log_tail() { # show_log_tail FILE [LINES]
  local file="$1" lines="${2:-60}"
  if [[ -s "$file" ]]; then
    printf -- '----- last %s lines of %s -----\n' "$lines" "$file" >&2
    tail -n "$lines" "$file" >&2 || true
    printf -- '----- end of %s -----\n' "$file" >&2
  else
    printf -- '(no log at %s)\n' "$file" >&2
  fi
}

eng_die() { # eng_die ENGINE MESSAGE [LOGFILE]
  local engine="$1" msg="$2" logfile="${3:-}"
  printf '[engines:%s] ERROR: %s\n' "$engine" "$msg" >&2
  if [[ -n "$logfile" ]]; then
    show_log_tail "$logfile"
  fi
  exit 1
}

# ---------------------------------------------------------------- timing

now_s() { date +%s; }

# ---------------------------------------------------------------- ports / http

port_open() { # port_open PORT [HOST]
  local port="$1" host="${2:-$LOOPBACK}"
  timeout 2 bash -c "exec 3<>/dev/tcp/$host/$port" 2>/dev/null
}

# Prints "pid=N cmd=..." of whatever listens on the TCP port, or nothing.
port_owner() { # port_owner PORT
  ss -Hltnp "sport = :$1" 2>/dev/null | sed -n 's/.*users:((\(.*\)))/\1/p' | head -n1
}

# Fails (returns 1) if PORT is already taken; callers turn that into a clear error.
port_free() { # port_free PORT
  ! port_open "$1"
}

# wait_for_port ENGINE PORT DEADLINE_S LOGFILE [PIDFILE]
# Waits until the port accepts connections; dies with the log tail on timeout
# or when the process in PIDFILE has exited.
wait_for_port() {
  local engine="$1" port="$2" deadline_s="$3" logfile="$4" pidfile="${5:-}"
  local end=$(( $(now_s) + deadline_s ))
  while (( $(now_s) < end )); do
    if port_open "$port"; then
      return 0
    fi
    if [[ -n "$pidfile" ]] && ! pid_alive "$pidfile"; then
      eng_die "$engine" "process exited before port $port opened" "$logfile"
    fi
    sleep 0.5
  done
  eng_die "$engine" "port $port not open after ${deadline_s}s" "$logfile"
}

# wait_for_http ENGINE URL DEADLINE_S LOGFILE REGEX [PIDFILE] [CURL_ARGS...]
# Polls URL until the body matches the extended REGEX.
wait_for_http() {
  local engine="$1" url="$2" deadline_s="$3" logfile="$4" regex="$5" pidfile="${6:-}"
  shift 6 || shift $#
  local end=$(( $(now_s) + deadline_s )) body=""
  while (( $(now_s) < end )); do
    body="$(curl -sS --max-time 5 "$@" "$url" 2>/dev/null || true)"
    if [[ -n "$body" ]] && grep -Eq -- "$regex" <<<"$body"; then
      return 0
    fi
    if [[ -n "$pidfile" ]] && ! pid_alive "$pidfile"; then
      eng_die "$engine" "process exited before $url was healthy" "$logfile"
    fi
    sleep 1
  done
  eng_die "$engine" "$url not healthy after ${deadline_s}s (last body: ${body:0:300})" "$logfile"
}

# ---------------------------------------------------------------- pid files

pid_alive() { # pid_alive PIDFILE
  local pidfile="$1" pid
  [[ -s "$pidfile" ]] || return 1
  pid="$(cat "$pidfile")"
  [[ "$pid" =~ ^[0-9]+$ ]] || return 1
  kill -0 "$pid" 2>/dev/null
}

# start_daemon PIDFILE LOGFILE CMD...   (detached: own session, stdin closed)
start_daemon() {
  local pidfile="$1" logfile="$2"
  shift 2
  mkdir -p "$(dirname "$logfile")" "$(dirname "$pidfile")"
  printf '\n===== %s starting: %s\n' "$(date -Is)" "$*" >>"$logfile"
  setsid nohup "$@" >>"$logfile" 2>&1 </dev/null &
  echo $! >"$pidfile"
}

# stop_pid ENGINE PIDFILE [TIMEOUT_S]: SIGTERM, wait, then SIGKILL. Idempotent.
stop_pid() {
  local engine="$1" pidfile="$2" timeout_s="${3:-30}" pid end
  if ! pid_alive "$pidfile"; then
    rm -f "$pidfile"
    eng_log "$engine" "not running"
    return 0
  fi
  pid="$(cat "$pidfile")"
  eng_log "$engine" "stopping pid $pid"
  kill -TERM "$pid" 2>/dev/null || true
  end=$(( $(now_s) + timeout_s ))
  while kill -0 "$pid" 2>/dev/null && (( $(now_s) < end )); do
    sleep 0.5
  done
  if kill -0 "$pid" 2>/dev/null; then
    eng_log "$engine" "pid $pid still alive after ${timeout_s}s, sending SIGKILL"
    kill -KILL "$pid" 2>/dev/null || true
    sleep 1
  fi
  rm -f "$pidfile"
  eng_log "$engine" "stopped"
}

# ---------------------------------------------------------------- locking

# with_lock NAME CMD...: serialises installs of one engine across processes.
with_lock() {
  local name="$1"
  shift
  local lockfile="$ENGINES_RUN_DIR/$name.lock"
  (
    flock -w 1800 9 || { echo "could not take lock $lockfile" >&2; exit 1; }
    "$@"
  ) 9>"$lockfile"
}

# ---------------------------------------------------------------- java / maven

require_cmd() { # require_cmd ENGINE CMD...
  local engine="$1" c
  shift
  for c in "$@"; do
    command -v "$c" >/dev/null 2>&1 || eng_die "$engine" "required command '$c' not found on PATH"
  done
}

java_major() {
  java -version 2>&1 | sed -n 's/.*version "\([0-9]*\).*/\1/p' | head -n1
}

require_java17() { # require_java17 ENGINE
  local engine="$1" major
  require_cmd "$engine" java
  major="$(java_major)"
  if [[ -z "$major" ]] || (( major < 17 )); then
    eng_die "$engine" "Java 17+ required (found: $(java -version 2>&1 | head -n1))"
  fi
}

# mvn_copy_deps ENGINE DIR LOGFILE: resolves DIR/pom.xml's runtime deps into DIR/lib.
mvn_copy_deps() {
  local engine="$1" dir="$2" logfile="$3"
  require_cmd "$engine" mvn
  mkdir -p "$ENGINES_M2_REPO"
  rm -rf "${dir:?}/lib.tmp"
  if ! (cd "$dir" && mvn -B -q -ntp -Dmaven.repo.local="$ENGINES_M2_REPO" \
      dependency:copy-dependencies -DincludeScope=runtime \
      -DoutputDirectory="$dir/lib.tmp" >>"$logfile" 2>&1); then
    eng_die "$engine" "maven dependency resolution failed" "$logfile"
  fi
  rm -rf "${dir:?}/lib"
  mv "$dir/lib.tmp" "$dir/lib"
}

# stamp_ok FILE CONTENT: true if FILE holds exactly CONTENT.
stamp_ok() {
  [[ -f "$1" ]] && [[ "$(cat "$1")" == "$2" ]]
}

# ---------------------------------------------------------------- dispatch

# engine_main ENGINE ACTION: calls ${ENGINE}_${ACTION}.
engine_main() {
  local engine="$1" action="${2:-}"
  case "$action" in
    install|up|down|status) "${engine}_${action}" ;;
    restart) "${engine}_down"; "${engine}_up" ;;
    *) echo "usage: $0 {install|up|down|status|restart}" >&2; exit 2 ;;
  esac
}
