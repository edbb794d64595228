#!/usr/bin/env bash
# Stops what up.sh started: the apps, the project's Kafka broker, and a private Postgres if
# one was started. The machine's own Postgres is left running.
LOG_TAG=down
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
source "$ROOT/infra/bin/apps.sh"

for app in "${ALL_APPS[@]}"; do stop_app "$app"; done
bash "$ROOT/infra/kafka/kafka.sh" stop
bash "$ROOT/infra/postgres/postgres.sh" stop-private
