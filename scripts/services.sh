#!/usr/bin/env bash
# The real Kafka broker and S3 server the integration tests talk to, fetched
# from Maven Central and run as plain JVM processes (no Docker). Downloads,
# data and logs live under .cache/services/.
#
#   bash scripts/services.sh start|stop|status [kafka|s3]
#   bash scripts/services.sh acquire|release kafka|s3 PID
#
# start is idempotent, waits until each server answers a real request and
# prints its endpoint as NAME=value lines (usable with eval); stop ends what
# the pid files name and waits for it to exit. A server started by hand stays
# up until stopped by hand.
#
# acquire/release are what test runs use (test/setup/services.ts): acquire
# starts the server if nothing answers and leases it to process PID; release
# ends the lease, and the last lease holder out stops a server that a test
# run started. So concurrent runs, from one checkout or several, share one
# server per port and never stop it under each other.
set -euo pipefail
dir="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/services"

usage() {
  echo "usage: bash scripts/services.sh start|stop|status [kafka|s3]" >&2
  echo "       bash scripts/services.sh acquire|release kafka|s3 PID" >&2
  exit 64
}

action="${1:-}"
case "$action" in
  start | stop | status)
    case "${2:-all}" in
      all) services=(kafka s3) ;;
      kafka | s3) services=("$2") ;;
      *) usage ;;
    esac
    ;;
  acquire | release)
    if [[ "${2:-}" != kafka && "${2:-}" != s3 ]] || [[ ! "${3:-}" =~ ^[0-9]+$ ]]; then usage; fi
    exec bash "$dir/$2.sh" "$action" "$3"
    ;;
  *) usage ;;
esac

rc=0
for service in "${services[@]}"; do
  bash "$dir/$service.sh" "$action" || rc=$?
  # stop every service even when one fails; start stops at the first failure
  if ((rc != 0)) && [[ "$action" == start ]]; then exit "$rc"; fi
done
exit "$rc"
