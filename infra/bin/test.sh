#!/usr/bin/env bash
# `npm test`: installs what is missing, type-checks and lints, runs the unit tier, brings up
# Kafka and Postgres (the machine's, or a private one), then the integration and e2e tiers
# against them. Tests isolate themselves: a fresh database and a topic prefix per run.
LOG_TAG=test
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$ROOT"

ensure_node_modules
t0=$SECONDS
BIN="$ROOT/node_modules/.bin"
log "typecheck"; "$BIN/tsc" -p tsconfig.json --noEmit
log "lint"; "$BIN/eslint" --max-warnings 0 .
"$BIN/prettier" --check --log-level warn . || die "formatting: run npm run format"
# Each tier writes a JSON report; the closing line sums them ("N passed, N failed").
tier() { log "$1 tests"; "$BIN/jest" -c "jest.$2.config.js" --json --outputFile="$RUN_DIR/jest-$2.json"; }
rm -f "$RUN_DIR"/jest-*.json
tier unit unit
ensure_build
# What this run starts, it stops (a broker or a private Postgres that was already up is left as it was).
kafka_was_up=0; port_open "${KAFKA_PORT:-9092}" && kafka_was_up=1
pg_was_up=0; bash infra/postgres/postgres.sh status >/dev/null 2>&1 && pg_was_up=1
cleanup() {
  [ "$kafka_was_up" = 1 ] || bash infra/kafka/kafka.sh stop || true
  [ "$pg_was_up" = 1 ] || bash infra/postgres/postgres.sh stop-private || true
}
trap cleanup EXIT
bash infra/kafka/kafka.sh start
node dist/infra/cli/kafka-ready.js 90
bash infra/postgres/postgres.sh ensure
tier integration int
tier e2e e2e
log "all tiers passed in $((SECONDS - t0)) s"
node -e "
  let p = 0, f = 0;
  for (const t of ['unit', 'int', 'e2e']) { const r = require('$RUN_DIR/jest-' + t + '.json'); p += r.numPassedTests; f += r.numFailedTests; }
  console.log('tests: ' + p + ' passed, ' + f + ' failed');
"
