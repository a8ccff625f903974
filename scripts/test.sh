#!/usr/bin/env bash
# The test command (`npm test`, and what .ci/run calls): prepares dependencies, a real Docker
# engine and the fixture image (scripts/prepare.sh), then runs every test, unit and end-to-end.
# Extra arguments go to vitest, e.g. `npm test -- test/e2e/cache.test.ts`.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/prepare.sh
# Lint and format check first: a style or type-aware lint failure fails the test command.
npm run lint --silent
exec npx vitest run "$@"
