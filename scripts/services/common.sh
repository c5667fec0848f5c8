# shellcheck shell=bash disable=SC2034
# Shared helpers for the Kafka and S3Proxy service scripts: cache paths,
# fetching from Maven Central, pid files, bounded waits, and the machine-wide
# lock and leases that let several checkouts share one server per port.
# Sourced, not executed.

SERVICES_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
SERVICES_DIR="$SERVICES_ROOT/scripts/services"
CACHE_DIR="${PULSE_SERVICES_CACHE:-$SERVICES_ROOT/.cache/services}"
MAVEN_DEPENDENCY_PLUGIN="org.apache.maven.plugins:maven-dependency-plugin:3.8.1"
# Ports are machine-wide, so the state that guards them is too.
STATE_ROOT="${PULSE_SERVICES_STATE:-${TMPDIR:-/tmp}/pulse-services}"
LOCK_TIMEOUT=900
# Set by a start function when it spawned a server (empty when one was running).
STARTED_PID=""

log() { printf '[services] %s\n' "$*" >&2; }
die() { printf '[services] error: %s\n' "$*" >&2; exit 1; }

require_cmd() {
  local cmd
  for cmd in "$@"; do
    command -v "$cmd" >/dev/null 2>&1 || die "'$cmd' is required but not on PATH"
  done
}

# mvn, quiet and non-interactive. jansi.noreset stops Maven 3.8 printing
# stray ANSI reset codes even with -q -B. Downloads go to Maven's own local
# repository (~/.m2).
mvn_run() {
  require_cmd mvn java
  MAVEN_OPTS="${MAVEN_OPTS:-} -Djansi.noreset=true" mvn -q -B "$@" >&2
}

# mvn_run with a clear error when Maven Central is unreachable.
mvn_quiet() {
  if ! mvn_run "$@"; then
    die "Maven could not fetch the artifacts (is Maven Central reachable?): mvn $*"
  fi
}

# True when the pid names a live process whose command line carries our
# marker (-Dpulse.service=NAME), so a recycled pid is never mistaken for ours.
is_our_process() {
  local pid="$1" name="$2"
  [[ -n "$pid" && -r "/proc/$pid/cmdline" ]] || return 1
  tr '\0' ' ' <"/proc/$pid/cmdline" | grep -q -- "-Dpulse.service=$name "
}

read_pid() {
  local file="$1"
  if [[ -f "$file" ]]; then tr -d '[:space:]' <"$file"; fi
}

# True when a socket listens on local TCP PORT. Read from /proc/net/tcp*
# rather than by connecting: our ports lie in Linux's ephemeral range
# (32768-60999), and a connect to a port nobody listens on can pick that very
# port as its source and connect to itself, holding the port so the server's
# bind fails. Elsewhere, falls back to a connect.
port_listening() {
  local port="$1" hex
  if [[ -r /proc/net/tcp ]]; then
    hex="$(printf ':%04X' "$port")"
    # columns: sl local_address rem_address st ...; st 0A is LISTEN
    awk -v p="$hex" '$2 ~ p"$" && $4 == "0A" { found = 1 } END { exit !found }' \
      /proc/net/tcp /proc/net/tcp6 2>/dev/null
  else
    (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null
  fi
}

# Waits until PID listens on PORT (bounded); 0 when it does, 1 on timeout,
# 2 when the process died. Client probes start only after this, for the
# reason given at port_listening.
wait_listening() {
  local pid="$1" port="$2" timeout="$3" waited=0
  until port_listening "$port"; do
    kill -0 "$pid" 2>/dev/null || return 2
    ((waited++ < timeout * 10)) || return 1
    sleep 0.1
  done
}

# Starts a command detached from the caller's session (so the caller can
# exit or be interrupted without taking the server down), with stdin closed
# stdout/stderr appended to LOGFILE, and the lock descriptor closed (or the
# server would hold the lock for its lifetime). Prints the pid.
# PULSE_SERVICES_CPUS (a taskset list such as "0") places the server on
# those cores: the benchmarks keep it off the core they measure on, and a
# caller's own CPU affinity is not inherited.
spawn_detached() {
  local logfile="$1"
  shift
  if [ -n "${PULSE_SERVICES_CPUS:-}" ] && command -v taskset >/dev/null 2>&1; then
    set -- taskset -c "$PULSE_SERVICES_CPUS" "$@"
  fi
  if command -v setsid >/dev/null 2>&1; then
    setsid "$@" </dev/null >>"$logfile" 2>&1 9>&- &
  else
    nohup "$@" </dev/null >>"$logfile" 2>&1 9>&- &
  fi
  echo $!
}

# Sends TERM, waits up to TIMEOUT seconds for exit, then KILL.
stop_pid() {
  local pid="$1" name="$2" timeout="${3:-30}"
  kill -TERM "$pid" 2>/dev/null || return 0
  local waited=0
  while kill -0 "$pid" 2>/dev/null; do
    if ((waited >= timeout * 10)); then
      log "$name (pid $pid) did not exit within ${timeout}s; killing it"
      kill -KILL "$pid" 2>/dev/null || true
      sleep 0.2
      break
    fi
    sleep 0.1
    waited=$((waited + 1))
  done
}

# Renames a finished directory into place unless another start already put
# one there (then drops ours). -T keeps GNU mv from nesting SRC inside an
# existing DST; where mv lacks -T, a plain rename to a free name does.
move_into_place() {
  local src="$1" dst="$2"
  if ! mv -T "$src" "$dst" 2>/dev/null && [[ ! -e "$dst" ]]; then
    mv "$src" "$dst"
  fi
  rm -rf "$src"
}

# Prints the last lines of a log, to explain a failed start.
show_log_tail() {
  local logfile="$1"
  if [[ -f "$logfile" ]]; then
    log "last lines of $logfile:"
    tail -n 30 "$logfile" >&2
  fi
}

# Seconds since the epoch, with millisecond precision, for timings.
now_s() { date +%s.%N | cut -c1-14; }
elapsed() { awk -v a="$1" -v b="$(now_s)" 'BEGIN { printf "%.1f", b - a }'; }

# Runs "$@" holding the exclusive lock of the service's state directory, so
# that starts, stops and leases from any checkout on this machine happen one
# at a time (two checkouts racing to start the same port would otherwise each
# see the port free, and one would take the other's server for its own).
with_lock() {
  local dir="$1"
  shift
  mkdir -p "$dir/leases"
  if command -v flock >/dev/null 2>&1; then
    (
      flock -w "$LOCK_TIMEOUT" 9 || die "waited ${LOCK_TIMEOUT}s for $dir/lock"
      "$@"
    ) 9>"$dir/lock"
  else
    local waited=0
    until mkdir "$dir/lock.d" 2>/dev/null; do
      ((waited++ < LOCK_TIMEOUT * 10)) || die "waited ${LOCK_TIMEOUT}s for $dir/lock.d (remove it if no start is running)"
      sleep 0.1
    done
    local rc=0
    ("$@") || rc=$?
    rmdir "$dir/lock.d"
    return "$rc"
  fi
}

# Leases let test runs from several checkouts share a server. acquire starts
# the server unless it answers already and records the caller (a pid) as a
# user; release drops that user and, when no live user remains, stops the
# server if a test run started it. A server started by hand (start) is never
# stopped by a release.
#
#   lease_acquire NAME STATE_DIR START_FN HOLDER_PID
#   lease_release NAME STATE_DIR HOLDER_PID
lease_acquire() {
  local name="$1" dir="$2" start_fn="$3" holder="$4"
  [[ "$holder" =~ ^[0-9]+$ ]] || die "acquire needs the pid of the process that uses $name"
  "$start_fn"
  if [[ -n "$STARTED_PID" ]]; then
    echo "$STARTED_PID" >"$dir/started-for-tests"
  fi
  touch "$dir/leases/$holder"
}

lease_release() {
  local name="$1" dir="$2" holder="$3" lease users=0 pid
  rm -f "$dir/leases/$holder"
  for lease in "$dir"/leases/*; do
    [[ -e "$lease" ]] || continue
    if kill -0 "${lease##*/}" 2>/dev/null; then
      users=$((users + 1))
    else
      rm -f "$lease" # its holder died without releasing
    fi
  done
  pid="$(read_pid "$dir/started-for-tests")"
  if ((users > 0)); then
    log "$name still used by $users other test run(s); left running"
  elif [[ -n "$pid" ]]; then
    if is_our_process "$pid" "$name"; then
      stop_pid "$pid" "$name" 30
      log "$name stopped (pid $pid)"
    fi
    rm -f "$dir/started-for-tests"
  fi
}

# Who uses a server, for status: ", leased to 2 test run(s), started for tests".
lease_note() {
  local dir="$1" lease users=0 note=""
  for lease in "$dir"/leases/*; do
    [[ -e "$lease" ]] && kill -0 "${lease##*/}" 2>/dev/null && users=$((users + 1))
  done
  ((users > 0)) && note=", leased to $users test run(s)"
  [[ -f "$dir/started-for-tests" ]] && note="$note, started for tests"
  echo "$note"
}

# Spawns a server (COMMAND...), records its pid, and waits until it listens
# on PORT and `READY_FN PID TIMEOUT` succeeds; on failure shows its log,
# stops it and dies. Sets STARTED_PID.
#   launch_server LABEL PID_FILE LOG PORT TIMEOUT READY_FN COMMAND...
launch_server() {
  local label="$1" pid_file="$2" logfile="$3" port="$4" timeout="$5" ready_fn="$6"
  shift 6
  local pid rc=0
  pid="$(spawn_detached "$logfile" "$@")"
  echo "$pid" >"$pid_file"
  wait_listening "$pid" "$port" "$timeout" || rc=$?
  ((rc != 0)) || "$ready_fn" "$pid" "$timeout" || rc=$?
  if ((rc != 0)); then
    show_log_tail "$logfile"
    stop_pid "$pid" "$label" 10
    rm -f "$pid_file"
    ((rc == 2)) && die "$label exited during startup; see $logfile"
    die "$label did not answer within ${timeout}s; see $logfile"
  fi
  STARTED_PID="$pid"
}

# Stops the server of PID_FILE if it is ours (marker NAME), waiting up to
# GRACE seconds, and forgets that a test run started it.
#   stop_server LABEL NAME PID_FILE STATE_DIR GRACE
stop_server() {
  local label="$1" name="$2" pid_file="$3" dir="$4" grace="$5" pid
  pid="$(read_pid "$pid_file")"
  if is_our_process "$pid" "$name"; then
    stop_pid "$pid" "$label" "$grace"
    log "$label stopped (pid $pid)"
    if [[ "$(read_pid "$dir/started-for-tests")" == "$pid" ]]; then
      rm -f "$dir/started-for-tests"
    fi
  else
    log "$label not running"
  fi
  rm -f "$pid_file"
}

# One status line; returns 3 when the server is stopped.
#   server_status NAME ADDRESS PID_FILE PORT STATE_DIR
server_status() {
  local name="$1" address="$2" pid_file="$3" port="$4" dir="$5" pid
  pid="$(read_pid "$pid_file")"
  if is_our_process "$pid" "$name"; then
    echo "$name: running at $address (pid $pid$(lease_note "$dir"))"
  elif port_listening "$port"; then
    echo "$name: port $port in use, not started from this checkout$(lease_note "$dir")"
  else
    echo "$name: stopped"
    return 3
  fi
}

# A service script's commands; starts, stops and leases hold the lock.
#   service_main NAME STATE_DIR START_FN STOP_FN STATUS_FN ARGS...
service_main() {
  local name="$1" dir="$2" start_fn="$3" stop_fn="$4" status_fn="$5"
  shift 5
  case "${1:-}" in
    start) with_lock "$dir" "$start_fn" ;;
    stop) with_lock "$dir" "$stop_fn" ;;
    status) "$status_fn" ;;
    acquire) with_lock "$dir" lease_acquire "$name" "$dir" "$start_fn" "${2:-}" ;;
    release) with_lock "$dir" lease_release "$name" "$dir" "${2:-}" ;;
    *) die "usage: $name.sh start|stop|status|acquire PID|release PID" ;;
  esac
}
