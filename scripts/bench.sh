#!/usr/bin/env bash
# `npm run bench`: the benchmarks of BENCHMARKS.md, on the real Docker engine. Prepares what the
# tests prepare (Docker engine, fixture image), compiles the benchmark, runs it. BENCH_RUNS
# (default 3) and BENCH_WORK_MB (default 700: MB of sha256 per fixture component) tune it.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/prepare.sh
npx tsc -p tsconfig.bench.json
exec node build/bench/scripts/bench/run.js "$@"
