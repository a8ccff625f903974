#!/usr/bin/env bash
# What the tests and the benchmarks need before they run: dependencies (when missing or stale),
# a running Docker engine (scripts/setup-docker.sh), the fixture base image, and the compiled CLI.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm ci --no-audit --no-fund
fi
bash scripts/setup-docker.sh
bash scripts/make-fixture-images.sh
npm run build --silent
