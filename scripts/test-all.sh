#!/usr/bin/env bash
# npm run test:all — start the real engines (idempotent, cached outside the clone), then run every
# suite: unit, contract (embedded AND real adapters), end-to-end in embedded and production shape,
# faults, and the engine-specific tests.
set -euo pipefail
cd "$(dirname "$0")/.."

start=$(date +%s)
bash scripts/engines/up.sh
echo "engines ready in $(( $(date +%s) - start )) s"
eval "$(bash scripts/engines/env.sh)"
export STRATA_TEST_ENGINES=1

npm run typecheck
npm run lint
# Every suite, contract suites against embedded and real adapters.
npx vitest run -c vitest.engines.config.ts
# The HTTP end-to-end suites again, with Strata in production shape (S3, PostgreSQL, Kafka, OpenSearch).
# (The demo test already ran on both shapes above; the CLI and crash tests need the embedded folder.)
STRATA_E2E_SHAPE=production npx vitest run -c vitest.engines.config.ts test/e2e/http- test/e2e/rebuild-while-live
echo "test:all passed in $(( $(date +%s) - start )) s"
