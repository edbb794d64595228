#!/usr/bin/env bash
# PostgreSQL for the project. `ensure` uses the server that answers OWNER_DATABASE_URL's host:port
# (the machine's own on 127.0.0.1:5432), starts the machine's Debian cluster if it is merely
# stopped, and otherwise starts a private server from Debian's binaries in .run/pg-<port>.
# It then creates the database named in OWNER_DATABASE_URL when missing (its owner: that URL's role).
# Usage: infra/postgres/postgres.sh ensure|start-private|stop-private|kill-private|status|start-replica|replica-lag
# A fault test runs its own private instance: PG_PORT=55432 infra/postgres/postgres.sh start-private
# A streaming replica of a server (for reports, REPORTS_DATABASE_URL; docs/deployment.md), on its own
# port and data directory, copied with pg_basebackup -R on first start:
#   PRIMARY_PORT=55432 PG_PORT=55433 PG_DATA=.run/pg-replica infra/postgres/postgres.sh start-replica
# (PRIMARY_HOST defaults to OWNER_DATABASE_URL's host; REPLICA_SLOT=name makes and uses a replication
# slot, so the primary keeps the WAL a stopped replica still needs.) Stop it with stop-private and
# the same PG_PORT / PG_DATA; `replica-lag` prints how many seconds it is behind.
LOG_TAG=postgres
source "$(dirname "${BASH_SOURCE[0]}")/../bin/lib.sh"

# host, port, user and database from OWNER_DATABASE_URL (postgres://user[:pw]@host:port/db).
url_part() { node -e "const u=new URL(process.argv[1]);const v={host:u.hostname,port:u.port||'5432',user:decodeURIComponent(u.username)||'postgres',db:u.pathname.slice(1)||'postgres'};process.stdout.write(v[process.argv[2]])" "$OWNER_DATABASE_URL" "$1"; }

PG_HOST="$(url_part host)"
PG_PORT="${PG_PORT:-$(url_part port)}"
PG_USER="$(url_part user)"
PG_DB="$(url_part db)"
PG_DATA="${PG_DATA:-$RUN_DIR/pg-$PG_PORT}"
# As root, initdb and postgres run as the postgres system user, which cannot reach a clone
# under a folder only its owner may enter (a 0700 home): the data directory then goes under
# /var/tmp instead, at a path derived from the requested one (so stop and status find it).
if [ "$(id -u)" = 0 ] && id postgres >/dev/null 2>&1; then
  mkdir -p "$(dirname "$PG_DATA")"
  if ! runuser -u postgres -- test -x "$(dirname "$PG_DATA")" 2>/dev/null; then
    PG_DATA="/var/tmp/conversion-ledger-pg/$(printf %s "$PG_DATA" | md5sum | cut -c1-12)-$PG_PORT"
  fi
fi

pg_bin() {
  local d; d=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
  [ -n "$d" ] || die "no PostgreSQL binaries (apt-get install -y postgresql)"
  echo "$d"
}

answers() { pg_isready -q -h "$PG_HOST" -p "$PG_PORT" -t 2 2>/dev/null; }

# initdb and postgres refuse to run as root: run them as the postgres system user then.
as_pg() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }

start_private() {
  local bin; bin=$(pg_bin)
  if [ ! -f "$PG_DATA/PG_VERSION" ]; then
    log "initialising a private cluster in $PG_DATA"
    mkdir -p "$PG_DATA"; chmod 755 "$(dirname "$PG_DATA")"; [ "$(id -u)" = 0 ] && chown postgres "$PG_DATA"
    as_pg "$bin/initdb" -D "$PG_DATA" -U postgres --auth=trust -E UTF8 >/dev/null
  fi
  if answers; then log "server already answers on $PG_HOST:$PG_PORT"; return 0; fi
  log "starting private server on 127.0.0.1:$PG_PORT"
  as_pg "$bin/pg_ctl" -D "$PG_DATA" -l "$PG_DATA/server.log" -w -t 60 \
    -o "-p $PG_PORT -k /tmp -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200" start >/dev/null \
    || die "private server did not start: $(tail -5 "$PG_DATA/server.log")"
  as_pg "$bin/psql" -h 127.0.0.1 -p "$PG_PORT" -U postgres -d postgres -qc "DO \$\$BEGIN IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname='$PG_USER') THEN CREATE ROLE \"$PG_USER\" LOGIN SUPERUSER; END IF; END\$\$" >/dev/null
}

# The replica copies the primary's roles, databases and settings; it answers read-only queries.
start_replica() {
  local bin; bin=$(pg_bin)
  [ -n "${PRIMARY_PORT:-}" ] || die "start-replica needs PRIMARY_PORT (the primary), and PG_PORT and PG_DATA for the replica"
  [ "$PRIMARY_PORT" != "$PG_PORT" ] || die "the replica needs a port of its own (PG_PORT), not the primary's"
  local primary_host="${PRIMARY_HOST:-$PG_HOST}"
  if [ ! -f "$PG_DATA/PG_VERSION" ]; then
    log "copying $primary_host:$PRIMARY_PORT into $PG_DATA (pg_basebackup -R)"
    mkdir -p "$PG_DATA"; chmod 700 "$PG_DATA"; chmod 755 "$(dirname "$PG_DATA")"; [ "$(id -u)" = 0 ] && chown postgres "$PG_DATA"
    local slot=()
    [ -n "${REPLICA_SLOT:-}" ] && slot=(-C -S "$REPLICA_SLOT")
    as_pg "$bin/pg_basebackup" -h "$primary_host" -p "$PRIMARY_PORT" -U "$PG_USER" -D "$PG_DATA" -R -X stream -c fast "${slot[@]}" \
      || die "pg_basebackup from $primary_host:$PRIMARY_PORT failed"
    # The primary's own log came along with its data directory.
    rm -f "$PG_DATA/server.log"
  fi
  [ -f "$PG_DATA/standby.signal" ] || die "$PG_DATA is not a replica (no standby.signal)"
  if answers; then log "server already answers on $PG_HOST:$PG_PORT"; return 0; fi
  log "starting replica of $primary_host:$PRIMARY_PORT on 127.0.0.1:$PG_PORT"
  as_pg "$bin/pg_ctl" -D "$PG_DATA" -l "$PG_DATA/server.log" -w -t 60 \
    -o "-p $PG_PORT -k /tmp -c listen_addresses=127.0.0.1 -c max_connections=200 -c hot_standby=on -c hot_standby_feedback=on" start >/dev/null \
    || die "replica did not start: $(tail -5 "$PG_DATA/server.log")"
}

# Seconds the replica on PG_PORT is behind (0 when it has replayed all it received).
replica_lag() {
  psql -h "$PG_HOST" -p "$PG_PORT" -U "$PG_USER" -d postgres -qtAc "SELECT CASE WHEN NOT pg_is_in_recovery() THEN 'not a replica' WHEN pg_last_wal_receive_lsn() = pg_last_wal_replay_lsn() THEN '0' ELSE COALESCE(EXTRACT(EPOCH FROM now() - pg_last_xact_replay_timestamp()), 0)::text END"
}

stop_private() {
  local mode="${1:-fast}"
  [ -f "$PG_DATA/postmaster.pid" ] || { log "private server in $PG_DATA not running"; return 0; }
  if [ "$mode" = kill ]; then
    kill -KILL "$(head -1 "$PG_DATA/postmaster.pid")" 2>/dev/null || true
    sleep 0.5; log "private server on $PG_PORT killed"
  else
    as_pg "$(pg_bin)/pg_ctl" -D "$PG_DATA" -m fast -w stop >/dev/null && log "private server on $PG_PORT stopped"
  fi
}

ensure() {
  if ! answers; then
    if [ "$PG_PORT" = 5432 ] && command -v pg_ctlcluster >/dev/null && [ -d /etc/postgresql ]; then
      log "starting the machine's PostgreSQL cluster"
      for v in $(ls /etc/postgresql); do pg_ctlcluster --skip-systemctl-redirect "$v" main start 2>/dev/null || true; done
      for _ in $(seq 1 30); do answers && break; sleep 0.5; done
    fi
    answers || start_private
  fi
  answers || die "no PostgreSQL answers on $PG_HOST:$PG_PORT"
  if ! psql -h "$PG_HOST" -p "$PG_PORT" -U "$PG_USER" -d "$PG_DB" -qtAc 'select 1' >/dev/null 2>&1; then
    log "creating database $PG_DB"
    psql -h "$PG_HOST" -p "$PG_PORT" -U "$PG_USER" -d postgres -qc "CREATE DATABASE \"$PG_DB\"" >/dev/null \
      || die "cannot create database $PG_DB as $PG_USER"
  fi
  log "ready at $PG_HOST:$PG_PORT/$PG_DB"
}

case "${1:-}" in
  ensure) ensure ;;
  start-private) start_private ;;
  stop-private) stop_private fast ;;
  kill-private) stop_private kill ;;
  start-replica) start_replica ;;
  replica-lag) replica_lag ;;
  data-dir) echo "$PG_DATA" ;;
  status) answers && echo "answers on $PG_HOST:$PG_PORT" || { echo "no answer on $PG_HOST:$PG_PORT"; exit 1; } ;;
  *) die "usage: $0 ensure|start-private|stop-private|kill-private|data-dir|status|start-replica|replica-lag" ;;
esac
