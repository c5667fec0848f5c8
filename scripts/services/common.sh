# Shared helpers for the Kafka and S3Proxy service scripts: cache paths,
# fetching from Maven Central, pid files and bounded waits.
# Sourced, not executed.

SERVICES_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
SERVICES_DIR="$SERVICES_ROOT/scripts/services"
CACHE_DIR="${PULSE_SERVICES_CACHE:-$SERVICES_ROOT/.cache/services}"
MAVEN_DEPENDENCY_PLUGIN="org.apache.maven.plugins:maven-dependency-plugin:3.8.1"

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
  [[ -f "$file" ]] && tr -d '[:space:]' <"$file" || true
}

# True when something accepts TCP connections on 127.0.0.1:PORT.
port_open() {
  (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

# Starts a command detached from the caller's session (so the caller can
# exit or be interrupted without taking the server down), with stdin closed
# and stdout/stderr appended to LOGFILE. Prints the pid.
spawn_detached() {
  local logfile="$1"
  shift
  if command -v setsid >/dev/null 2>&1; then
    setsid "$@" </dev/null >>"$logfile" 2>&1 &
  else
    nohup "$@" </dev/null >>"$logfile" 2>&1 &
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
