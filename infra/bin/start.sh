#!/usr/bin/env bash
# `npm start`: the whole system on defaults, its demo, then stays up until Ctrl-C and stops
# everything it started.
LOG_TAG=start
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
source "$ROOT/infra/bin/apps.sh"

bash "$ROOT/infra/bin/up.sh"
trap 'echo; bash "$ROOT/infra/bin/down.sh"; exit 0' INT TERM
node "$ROOT/dist/infra/cli/demo.js" || log "demo failed (see above); the system stays up for inspection"
log "system running: gateway http://127.0.0.1:$PORT (API docs at /docs), logs in .run/logs/"
log "admin API token: $ADMIN_TOKEN (Authorization: Bearer ...; kept in .run/admin-token unless ADMIN_TOKEN is set)"
log "Ctrl-C stops it."
while true; do sleep 3600 & wait $!; done
