#!/usr/bin/env bash
# Apache Kafka 3.9 (KRaft, one node acting as broker and controller) from Maven Central jars,
# run with plain java. Usage: infra/kafka/kafka.sh fetch|start|stop|kill|status
# Instance settings (a fault test starts its own instance with other values):
#   KAFKA_PORT (9092), KAFKA_CONTROLLER_PORT (KAFKA_PORT+1), KAFKA_DATA (.run/kafka-<port>),
#   KAFKA_HEAP (512m)
LOG_TAG=kafka
source "$(dirname "${BASH_SOURCE[0]}")/../bin/lib.sh"

KAFKA_VERSION=3.9.1
KAFKA_PORT="${KAFKA_PORT:-9092}"
KAFKA_CONTROLLER_PORT="${KAFKA_CONTROLLER_PORT:-$((KAFKA_PORT + 1))}"
KAFKA_DATA="${KAFKA_DATA:-$RUN_DIR/kafka-$KAFKA_PORT}"
KAFKA_HEAP="${KAFKA_HEAP:-512m}"
JARS="${KAFKA_JARS:-$RUN_DIR/kafka-jars-$KAFKA_VERSION}"
PIDFILE="$KAFKA_DATA/broker.pid"
JAVA_OPTS=(-Xms256m "-Xmx$KAFKA_HEAP" -XX:+UseSerialGC -XX:TieredStopAtLevel=1 -XX:+ExitOnOutOfMemoryError
  -Djava.awt.headless=true "-Dlog4j.configuration=file:$ROOT/infra/kafka/log4j.properties")

fetch() {
  if [ -f "$JARS/.complete" ]; then return 0; fi
  command -v java >/dev/null || die "java is not installed (apt-get install -y openjdk-17-jre-headless)"
  command -v mvn >/dev/null || die "mvn is not installed (apt-get install -y maven)"
  log "fetching Kafka $KAFKA_VERSION jars from Maven Central into $JARS"
  rm -rf "$JARS" && mkdir -p "$JARS"
  mvn -q -B -f "$ROOT/infra/kafka/pom.xml" \
    org.apache.maven.plugins:maven-dependency-plugin:3.6.1:copy-dependencies \
    -DoutputDirectory="$JARS" -DincludeScope=runtime >&2 || die "maven could not fetch the Kafka jars"
  touch "$JARS/.complete"
}

write_config() {
  mkdir -p "$KAFKA_DATA/log"
  cat > "$KAFKA_DATA/server.properties" <<PROPS
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@127.0.0.1:$KAFKA_CONTROLLER_PORT
listeners=PLAINTEXT://127.0.0.1:$KAFKA_PORT,CONTROLLER://127.0.0.1:$KAFKA_CONTROLLER_PORT
advertised.listeners=PLAINTEXT://127.0.0.1:$KAFKA_PORT
inter.broker.listener.name=PLAINTEXT
controller.listener.names=CONTROLLER
listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT
log.dirs=$KAFKA_DATA/log
num.partitions=1
auto.create.topics.enable=false
offsets.topic.replication.factor=1
offsets.topic.num.partitions=3
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
transaction.state.log.num.partitions=3
group.initial.rebalance.delay.ms=0
num.network.threads=2
num.io.threads=2
log.cleaner.dedupe.buffer.size=16777216
PROPS
}

start() {
  fetch
  if [ -f "$PIDFILE" ] && pid_alive "$(cat "$PIDFILE")"; then
    log "already running on 127.0.0.1:$KAFKA_PORT (pid $(cat "$PIDFILE"))"; return 0
  fi
  if port_open "$KAFKA_PORT"; then
    log "something already serves 127.0.0.1:$KAFKA_PORT; using that broker"; return 0
  fi
  write_config
  if [ ! -f "$KAFKA_DATA/log/meta.properties" ]; then
    # A fixed cluster id per data directory: formatting is done once. Like Kafka's own
    # Uuid.randomUuid, never one that starts with '-': the storage tool would read it as a flag
    # (CI once failed on "argument --cluster-id/-t: expected one argument").
    local cid; cid=$(node -e "const c=require('crypto');let id;do{id=c.randomBytes(16).toString('base64url')}while(id.startsWith('-'));process.stdout.write(id)")
    java "${JAVA_OPTS[@]}" -cp "$JARS/*" kafka.tools.StorageTool format --cluster-id "$cid" \
      --config "$KAFKA_DATA/server.properties" --ignore-formatted >"$KAFKA_DATA/format.log" 2>&1 \
      || die "formatting $KAFKA_DATA failed: $(tail -3 "$KAFKA_DATA/format.log")"
  fi
  log "starting broker on 127.0.0.1:$KAFKA_PORT (data $KAFKA_DATA, heap $KAFKA_HEAP)"
  local t0=$SECONDS
  nohup java "${JAVA_OPTS[@]}" -cp "$JARS/*" kafka.Kafka "$KAFKA_DATA/server.properties" \
    >"$KAFKA_DATA/broker.log" 2>&1 </dev/null &
  echo $! > "$PIDFILE"
  for _ in $(seq 1 600); do
    if grep -q 'Kafka Server started' "$KAFKA_DATA/broker.log" 2>/dev/null && port_open "$KAFKA_PORT"; then
      log "broker started in $((SECONDS - t0)) s (pid $(cat "$PIDFILE"))"; return 0
    fi
    pid_alive "$(cat "$PIDFILE")" || die "broker exited during start: $(tail -5 "$KAFKA_DATA/broker.log")"
    sleep 0.1
  done
  die "broker did not start within 60 s: $(tail -5 "$KAFKA_DATA/broker.log")"
}

stop() {
  local sig="${1:-TERM}"
  [ -f "$PIDFILE" ] || { log "not running (no pid file in $KAFKA_DATA)"; return 0; }
  local pid; pid=$(cat "$PIDFILE")
  if pid_alive "$pid"; then
    kill "-$sig" "$pid" 2>/dev/null || true
    for _ in $(seq 1 300); do pid_alive "$pid" || break; sleep 0.1; done
    if pid_alive "$pid"; then log "broker did not stop in 30 s; killing"; kill -KILL "$pid" 2>/dev/null || true; sleep 0.5; fi
    log "broker on 127.0.0.1:$KAFKA_PORT stopped"
  fi
  rm -f "$PIDFILE"
}

status() {
  if [ -f "$PIDFILE" ] && pid_alive "$(cat "$PIDFILE")"; then echo "running pid $(cat "$PIDFILE") port $KAFKA_PORT"
  elif port_open "$KAFKA_PORT"; then echo "port $KAFKA_PORT served by another process"
  else echo "stopped"; return 1; fi
}

case "${1:-}" in
  fetch) fetch ;;
  start) start ;;
  stop) stop TERM ;;
  kill) stop KILL ;;
  status) status ;;
  *) die "usage: $0 fetch|start|stop|kill|status" ;;
esac
