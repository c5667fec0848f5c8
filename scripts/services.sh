#!/usr/bin/env bash
# The real Kafka broker and S3 server the integration tests talk to, fetched
# from Maven Central and run as plain JVM processes (no Docker). Downloads,
# data and logs live under .cache/services/.
#
#   bash scripts/services.sh start|stop|status [kafka|s3]
#
# start is idempotent, waits until each server answers a real request and
# prints its endpoint as NAME=value lines (usable with eval); stop ends what
# the pid files name and waits for it to exit.
set -euo pipefail
dir="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/services"

usage() {
  echo "usage: bash scripts/services.sh start|stop|status [kafka|s3]" >&2
  exit 64
}

action="${1:-}"
case "$action" in start | stop | status) ;; *) usage ;; esac
case "${2:-all}" in
  all) services=(kafka s3) ;;
  kafka | s3) services=("$2") ;;
  *) usage ;;
esac

rc=0
for service in "${services[@]}"; do
  bash "$dir/$service.sh" "$action" || rc=$?
  # stop every service even when one fails; start stops at the first failure
  if ((rc != 0)) && [[ "$action" == start ]]; then exit "$rc"; fi
done
exit "$rc"
