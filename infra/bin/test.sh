#!/usr/bin/env bash
# `npm test`: installs what is missing, type-checks and lints, runs the unit tier, brings up
# Kafka and Postgres (the machine's, or a private one), then the integration and e2e tiers
# against them. Tests isolate themselves: a fresh database and a topic prefix per run.
LOG_TAG=test
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$ROOT"

ensure_node_modules
t0=$SECONDS
log "typecheck"; npx tsc -p tsconfig.json --noEmit
log "lint"; npx eslint --max-warnings 0 . && npx prettier --check . >/dev/null || die "prettier: run npm run format"
log "unit tests"; npx jest -c jest.unit.config.js
ensure_build
bash infra/kafka/kafka.sh start
node dist/infra/cli/kafka-ready.js 90
bash infra/postgres/postgres.sh ensure
log "integration tests"; npx jest -c jest.int.config.js
log "e2e tests"; npx jest -c jest.e2e.config.js
log "all tiers passed in $((SECONDS - t0)) s"
