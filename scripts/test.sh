#!/usr/bin/env bash
# The test command (`npm test`, and what .ci/run calls): installs dependencies when missing,
# starts a real Docker engine, builds the fixture base image and the CLI, then runs every test
# (unit and end-to-end). Extra arguments go to vitest, e.g. `npm test -- test/e2e/plan.test.ts`.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm ci --no-audit --no-fund
fi
bash scripts/setup-docker.sh
bash scripts/make-fixture-images.sh
npm run build --silent
exec npx vitest run "$@"
