# Shared helpers for the infra scripts. Sourced, not executed.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
RUN_DIR="${RUN_DIR:-$ROOT/.run}"
mkdir -p "$RUN_DIR"

log() { printf '\033[36m[%s]\033[0m %s\n' "${LOG_TAG:-infra}" "$*" >&2; }
die() { printf '\033[31m[%s] error:\033[0m %s\n' "${LOG_TAG:-infra}" "$*" >&2; exit 1; }

# True when something accepts TCP connections on 127.0.0.1:$1 (bash's /dev/tcp, no netcat needed).
port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

pid_alive() { [ -n "${1:-}" ] && kill -0 "$1" 2>/dev/null; }

# Installs npm packages when node_modules is missing or older than the lock file.
ensure_node_modules() {
  if [ ! -d "$ROOT/node_modules" ] || [ "$ROOT/package-lock.json" -nt "$ROOT/node_modules/.package-lock.json" ]; then
    log "installing npm packages (npm ci)"
    (cd "$ROOT" && npm ci --no-audit --no-fund --loglevel=error >&2)
  fi
}

# Compiles TypeScript to dist/ when any source is newer than the last build.
ensure_build() {
  local stamp="$ROOT/dist/.build-stamp"
  if [ ! -f "$stamp" ] || [ -n "$(find "$ROOT/apps" "$ROOT/libs" "$ROOT/infra" "$ROOT/bench" "$ROOT/tsconfig.json" "$ROOT/tsconfig.build.json" -newer "$stamp" \( -name '*.ts' -o -name '*.json' \) -print -quit 2>/dev/null)" ]; then
    log "building (tsc)"
    (cd "$ROOT" && node_modules/.bin/tsc -p tsconfig.build.json && node_modules/.bin/tsc-alias -p tsconfig.build.json) >&2
    touch "$stamp"
  fi
}

# Defaults every script and app agrees on. KAFKA_NODES=3: a three-node cluster on this machine
# (infra/kafka/kafka.sh, docs/kafka-cluster.md), and the apps get every node's address.
if [ -z "${KAFKA_BROKERS:-}" ]; then
  KAFKA_BROKERS=""
  for _n in $(seq 1 "${KAFKA_NODES:-1}"); do KAFKA_BROKERS+="${KAFKA_BROKERS:+,}127.0.0.1:$((${KAFKA_PORT:-9092} + _n - 1))"; done
  unset _n
fi
export KAFKA_BROKERS
# The schema's owner (migrations, creating the database) and the role the apps connect as
# (ledger_app: rows only, and on the ledger only INSERT and SELECT). docs/ledger.md says why.
export OWNER_DATABASE_URL="${OWNER_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/test}"
if [ -z "${DATABASE_URL:-}" ]; then
  DATABASE_URL="$(node -e 'const u=new URL(process.argv[1]);u.username="ledger_app";u.password=encodeURIComponent(process.env.LEDGER_APP_PASSWORD||"ledger_app");process.stdout.write(u.toString())' "$OWNER_DATABASE_URL")"
fi
export DATABASE_URL
