#!/usr/bin/env bash
# Brings the whole system up in the background and returns when every app reports ready:
# npm packages, build, Kafka (fetched from Maven Central on first use), Postgres, topics,
# migrations, then the gateway and workers. Idempotent: running it again changes nothing.
LOG_TAG=up
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
source "$ROOT/infra/bin/apps.sh"

command -v node >/dev/null || die "node is not installed"
ensure_node_modules
ensure_build
bash "$ROOT/infra/kafka/kafka.sh" start
node "$ROOT/dist/infra/cli/kafka-ready.js" 90
bash "$ROOT/infra/postgres/postgres.sh" ensure
node "$ROOT/dist/infra/cli/provision-topics.js"
node "$ROOT/dist/libs/persistence/src/cli/migrate.js" run >&2
for app in "${ALL_APPS[@]}"; do start_app "$app"; done
for app in "${ALL_APPS[@]}"; do wait_ready "$app"; done
log "system up: gateway http://127.0.0.1:$PORT (Kafka $KAFKA_BROKERS, Postgres $(echo "$DATABASE_URL" | sed 's/:[^:@\/]*@/:***@/'))"
