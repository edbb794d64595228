#!/usr/bin/env bash
# Apache Kafka 3.9 (KRaft) from Maven Central jars, run with plain java. One node acting as broker
# and controller, or a cluster of KAFKA_NODES such nodes on this machine (docs/kafka-cluster.md).
# Usage: infra/kafka/kafka.sh fetch|start|stop|kill|status
#        infra/kafka/kafka.sh start-node|stop-node|kill-node <n>   (one node of a cluster, 1-based)
# Instance settings (a fault test starts its own instance with other values):
#   KAFKA_NODES (1). One node: KAFKA_PORT (9092), KAFKA_CONTROLLER_PORT (KAFKA_PORT+1),
#   KAFKA_DATA (.run/kafka-<port>), KAFKA_HEAP (512m).
#   N nodes: node n serves KAFKA_PORT+n-1 (9092-9094) and its controller KAFKA_CONTROLLER_PORT+n-1
#   (default base KAFKA_PORT+100: 9192-9194); data in KAFKA_DATA/node-<n>
#   (.run/kafka-cluster-<port>), KAFKA_HEAP (256m) each.
LOG_TAG=kafka
source "$(dirname "${BASH_SOURCE[0]}")/../bin/lib.sh"

KAFKA_VERSION=3.9.1
KAFKA_NODES="${KAFKA_NODES:-1}"
KAFKA_PORT="${KAFKA_PORT:-9092}"
[[ "$KAFKA_NODES" =~ ^[1-9]$ ]] || die "KAFKA_NODES must be 1 to 9 (got $KAFKA_NODES)"
if [ "$KAFKA_NODES" = 1 ]; then
  KAFKA_CONTROLLER_PORT="${KAFKA_CONTROLLER_PORT:-$((KAFKA_PORT + 1))}"
  KAFKA_DATA="${KAFKA_DATA:-$RUN_DIR/kafka-$KAFKA_PORT}"
  KAFKA_HEAP="${KAFKA_HEAP:-512m}"
else
  KAFKA_CONTROLLER_PORT="${KAFKA_CONTROLLER_PORT:-$((KAFKA_PORT + 100))}"
  KAFKA_DATA="${KAFKA_DATA:-$RUN_DIR/kafka-cluster-$KAFKA_PORT}"
  KAFKA_HEAP="${KAFKA_HEAP:-256m}"
fi
# Internal topics and defaults follow the cluster's size: 3 replicas and 2 in sync when it has
# at least three nodes (the same rule as libs/kafka/src/topic-admin.ts for the project's topics).
REPLICAS=$((KAFKA_NODES < 3 ? KAFKA_NODES : 3))
MIN_ISR=$((KAFKA_NODES >= 3 ? 2 : 1))
JARS="${KAFKA_JARS:-$RUN_DIR/kafka-jars-$KAFKA_VERSION}"
JAVA_OPTS=(-Xms256m "-Xmx$KAFKA_HEAP" -XX:+UseSerialGC -XX:TieredStopAtLevel=1 -XX:+ExitOnOutOfMemoryError
  -Djava.awt.headless=true "-Dlog4j.configuration=file:$ROOT/infra/kafka/log4j.properties")

# Sets NODE_PORT, NODE_CTRL_PORT, DATA and PIDFILE for node $1 (1-based).
node_vars() {
  local n=$1
  [[ "$n" =~ ^[0-9]+$ ]] && [ "$n" -ge 1 ] && [ "$n" -le "$KAFKA_NODES" ] || die "no node $n (KAFKA_NODES=$KAFKA_NODES)"
  if [ "$KAFKA_NODES" = 1 ]; then
    NODE_PORT=$KAFKA_PORT NODE_CTRL_PORT=$KAFKA_CONTROLLER_PORT DATA=$KAFKA_DATA
  else
    NODE_PORT=$((KAFKA_PORT + n - 1)) NODE_CTRL_PORT=$((KAFKA_CONTROLLER_PORT + n - 1)) DATA="$KAFKA_DATA/node-$n"
  fi
  PIDFILE="$DATA/broker.pid"
}

voters() {
  local n out=""
  for n in $(seq 1 "$KAFKA_NODES"); do out+="${out:+,}$n@127.0.0.1:$((KAFKA_CONTROLLER_PORT + n - 1))"; done
  echo "$out"
}

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
  local n=$1
  mkdir -p "$DATA/log"
  cat > "$DATA/server.properties" <<PROPS
process.roles=broker,controller
node.id=$n
controller.quorum.voters=$(voters)
listeners=PLAINTEXT://127.0.0.1:$NODE_PORT,CONTROLLER://127.0.0.1:$NODE_CTRL_PORT
advertised.listeners=PLAINTEXT://127.0.0.1:$NODE_PORT
inter.broker.listener.name=PLAINTEXT
controller.listener.names=CONTROLLER
listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT
log.dirs=$DATA/log
num.partitions=1
auto.create.topics.enable=false
default.replication.factor=$REPLICAS
min.insync.replicas=$MIN_ISR
unclean.leader.election.enable=false
offsets.topic.replication.factor=$REPLICAS
offsets.topic.num.partitions=3
transaction.state.log.replication.factor=$REPLICAS
transaction.state.log.min.isr=$MIN_ISR
transaction.state.log.num.partitions=3
group.initial.rebalance.delay.ms=0
num.network.threads=2
num.io.threads=2
num.replica.fetchers=1
log.cleaner.dedupe.buffer.size=16777216
PROPS
}

# A fixed cluster id per data directory (shared by every node of a cluster): formatting is done
# once. Like Kafka's own Uuid.randomUuid, never one that starts with '-': the storage tool would
# read it as a flag (CI once failed on "argument --cluster-id/-t: expected one argument").
cluster_id() {
  local file="$KAFKA_DATA/cluster.id"
  [ "$KAFKA_NODES" = 1 ] && file="$KAFKA_DATA/.cluster.id"
  mkdir -p "$KAFKA_DATA"
  if [ ! -s "$file" ]; then
    node -e "const c=require('crypto');let id;do{id=c.randomBytes(16).toString('base64url')}while(id.startsWith('-'));process.stdout.write(id)" > "$file"
  fi
  cat "$file"
}

# Starts node $1 in the background unless it runs; returns at once (launch_wait waits).
launch() {
  local n=$1
  node_vars "$n"
  if [ -f "$PIDFILE" ] && pid_alive "$(cat "$PIDFILE")"; then
    log "node $n already running on 127.0.0.1:$NODE_PORT (pid $(cat "$PIDFILE"))"; return 0
  fi
  if port_open "$NODE_PORT"; then
    [ "$KAFKA_NODES" = 1 ] && { log "something already serves 127.0.0.1:$NODE_PORT; using that broker"; return 0; }
    die "127.0.0.1:$NODE_PORT is served by another process: not starting node $n of a cluster there"
  fi
  write_config "$n"
  if [ ! -f "$DATA/log/meta.properties" ]; then
    java "${JAVA_OPTS[@]}" -cp "$JARS/*" kafka.tools.StorageTool format --cluster-id "$(cluster_id)" \
      --config "$DATA/server.properties" --ignore-formatted >"$DATA/format.log" 2>&1 \
      || die "formatting $DATA failed: $(tail -3 "$DATA/format.log")"
  fi
  log "starting node $n on 127.0.0.1:$NODE_PORT (controller $NODE_CTRL_PORT, data $DATA, heap $KAFKA_HEAP)"
  nohup java "${JAVA_OPTS[@]}" -cp "$JARS/*" kafka.Kafka "$DATA/server.properties" \
    >"$DATA/broker.log" 2>&1 </dev/null &
  echo $! > "$PIDFILE"
}

# Waits until node $1 logged "Kafka Server started" and accepts connections. A cluster node
# only gets there once a quorum of controllers is up, so launch every node before waiting.
launch_wait() {
  local n=$1 t0=$SECONDS
  node_vars "$n"
  [ -f "$PIDFILE" ] || return 0 # an outside broker (one node only)
  for _ in $(seq 1 900); do
    if grep -q 'Kafka Server started' "$DATA/broker.log" 2>/dev/null && port_open "$NODE_PORT"; then
      log "node $n started in $((SECONDS - t0)) s (pid $(cat "$PIDFILE"))"; return 0
    fi
    pid_alive "$(cat "$PIDFILE")" || die "node $n exited during start: $(tail -5 "$DATA/broker.log")"
    sleep 0.1
  done
  die "node $n did not start within 90 s: $(tail -5 "$DATA/broker.log")"
}

start() {
  fetch
  local n
  for n in $(seq 1 "$KAFKA_NODES"); do launch "$n"; done
  for n in $(seq 1 "$KAFKA_NODES"); do launch_wait "$n"; done
  [ "$KAFKA_NODES" = 1 ] || log "cluster of $KAFKA_NODES nodes up: KAFKA_BROKERS=$(brokers_list)"
}

brokers_list() {
  local n out=""
  for n in $(seq 1 "$KAFKA_NODES"); do out+="${out:+,}127.0.0.1:$((KAFKA_PORT + n - 1))"; done
  echo "$out"
}

# Signals node $1 with $2 (no wait).
signal_node() {
  node_vars "$1"
  [ -f "$PIDFILE" ] || { log "node $1 not running (no pid file in $DATA)"; return 0; }
  pid_alive "$(cat "$PIDFILE")" && kill "-$2" "$(cat "$PIDFILE")" 2>/dev/null || true
}

# Waits up to 30 s for node $1 to exit, then kills it.
reap_node() {
  node_vars "$1"
  [ -f "$PIDFILE" ] || return 0
  local pid; pid=$(cat "$PIDFILE")
  if pid_alive "$pid"; then
    for _ in $(seq 1 300); do pid_alive "$pid" || break; sleep 0.1; done
    if pid_alive "$pid"; then log "node $1 did not stop in 30 s; killing"; kill -KILL "$pid" 2>/dev/null || true; sleep 0.5; fi
  fi
  log "node $1 on 127.0.0.1:$NODE_PORT stopped"
  rm -f "$PIDFILE"
}

stop_node() { signal_node "$1" "$2"; reap_node "$1"; }

stop() {
  local n
  # All at once: a cluster node stopped last has no controller quorum for a controlled shutdown
  # and would wait out its timeout.
  for n in $(seq 1 "$KAFKA_NODES"); do signal_node "$n" "$1"; done
  for n in $(seq 1 "$KAFKA_NODES"); do reap_node "$n"; done
}

status() {
  local n rc=0
  for n in $(seq 1 "$KAFKA_NODES"); do
    node_vars "$n"
    local who=""; [ "$KAFKA_NODES" = 1 ] || who="node $n "
    if [ -f "$PIDFILE" ] && pid_alive "$(cat "$PIDFILE")"; then echo "${who}running pid $(cat "$PIDFILE") port $NODE_PORT"
    elif port_open "$NODE_PORT"; then echo "${who}port $NODE_PORT served by another process"
    else echo "${who}stopped"; rc=1; fi
  done
  return $rc
}

case "${1:-}" in
  fetch) fetch ;;
  start) start ;;
  stop) stop TERM ;;
  kill) stop KILL ;;
  status) status ;;
  start-node) fetch; launch "${2:-}"; launch_wait "${2:-}" ;;
  stop-node) stop_node "${2:-}" TERM ;;
  kill-node) stop_node "${2:-}" KILL ;;
  brokers) brokers_list ;;
  *) die "usage: $0 fetch|start|stop|kill|status|brokers, or start-node|stop-node|kill-node <n>" ;;
esac
