#!/usr/bin/env bash
# The whole project's tests in one command (`npm test`): builds the native
# addon when it is missing or older than the Rust sources, then runs the Rust
# tests and the TypeScript tests (which start Kafka and S3 themselves).
set -euo pipefail
cd "$(dirname "$0")/.."

node scripts/ensure-built.mjs
echo "== cargo test"
cargo test --workspace --quiet
echo "== vitest"
npx vitest run "$@"
