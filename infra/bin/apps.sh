# App process management, sourced by up.sh / down.sh. Each app: name, entry file, health URL.
APPS_DIR="$RUN_DIR/apps"
mkdir -p "$APPS_DIR"

export PORT="${PORT:-3000}"
# The admin API's bearer token: yours from the environment, else one generated once and kept
# in .run/admin-token (printed by npm start).
if [ -z "${ADMIN_TOKEN:-}" ]; then
  [ -s "$RUN_DIR/admin-token" ] || node -e "process.stdout.write(require('crypto').randomBytes(24).toString('base64url'))" > "$RUN_DIR/admin-token"
  ADMIN_TOKEN="$(cat "$RUN_DIR/admin-token")"
fi
export ADMIN_TOKEN
export PROCESSOR_HEALTH_PORT="${PROCESSOR_HEALTH_PORT:-3001}"
export NOTIFIER_HEALTH_PORT="${NOTIFIER_HEALTH_PORT:-3002}"

app_entry() { case "$1" in gateway) echo "$ROOT/dist/apps/gateway/src/main.js" ;; processor) echo "$ROOT/dist/apps/processor/src/main.js" ;; notifier) echo "$ROOT/dist/apps/notifier/src/main.js" ;; esac; }
app_health() { case "$1" in gateway) echo "http://127.0.0.1:$PORT/health/ready" ;; processor) echo "http://127.0.0.1:$PROCESSOR_HEALTH_PORT/health/ready" ;; notifier) echo "http://127.0.0.1:$NOTIFIER_HEALTH_PORT/health/ready" ;; esac; }
app_env() { case "$1" in processor) echo "HEALTH_PORT=$PROCESSOR_HEALTH_PORT" ;; notifier) echo "HEALTH_PORT=$NOTIFIER_HEALTH_PORT" ;; *) echo "PORT=$PORT" ;; esac; }
# Node flags per app (libs/testing's spawnApp passes the same, and a unit test holds them equal).
# The processor allocates a young generation's worth of short-lived strings and rows per decision
# batch: a 32 MB semi-space (16 MB by default) halves its scavenges (bench/drain.ts, docs/deployment.md).
app_node_flags() { case "$1" in processor) echo "--max-semi-space-size=32" ;; esac; }
ALL_APPS=(gateway processor notifier)

app_pid() { cat "$APPS_DIR/$1.pid" 2>/dev/null || true; }

start_app() {
  local name=$1 pid; pid=$(app_pid "$name")
  if pid_alive "$pid"; then log "$name already running (pid $pid)"; return 0; fi
  log "starting $name (log: .run/logs/$name.log)"
  mkdir -p "$RUN_DIR/logs"
  env $(app_env "$name") nohup node --enable-source-maps $(app_node_flags "$name") "$(app_entry "$name")" >>"$RUN_DIR/logs/$name.log" 2>&1 </dev/null &
  echo $! > "$APPS_DIR/$name.pid"
}

# Polls an app's readiness until it answers 200; prints the last answer when it gives up.
wait_ready() {
  local name=$1 url; url=$(app_health "$name")
  local t0=$SECONDS body=""
  while [ $((SECONDS - t0)) -lt "${READY_TIMEOUT:-90}" ]; do
    pid_alive "$(app_pid "$name")" || die "$name exited: $(tail -20 "$RUN_DIR/logs/$name.log")"
    if body=$(node -e "fetch(process.argv[1]).then(async r=>{const t=await r.text();console.log(t);process.exit(r.status===200?0:1)},()=>process.exit(1))" "$url" 2>/dev/null); then
      log "$name ready ($url)"; return 0
    fi
    sleep 0.5
  done
  die "$name not ready after ${READY_TIMEOUT:-90} s: $body"
}

stop_app() {
  local name=$1 pid; pid=$(app_pid "$name")
  if pid_alive "$pid"; then
    kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 1 100); do pid_alive "$pid" || break; sleep 0.1; done
    pid_alive "$pid" && kill -KILL "$pid" 2>/dev/null || true
    log "$name stopped"
  fi
  rm -f "$APPS_DIR/$name.pid"
}
