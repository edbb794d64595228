import { execFile, execFileSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { Kafka, logLevel } from 'kafkajs';
import { poll } from './app-process';

const ROOT = join(__dirname, '..', '..', '..');

/**
 * A KRaft cluster of a test's own on this machine (infra/kafka/kafka.sh with KAFKA_NODES): node n
 * serves basePort+n-1 and its controller basePort+100+n-1, data under .run/. Ports are fixed
 * (KAFKA_CLUSTER_PORT, default 19092), not picked at random: the nodes name each other in
 * controller.quorum.voters. Always call `destroy()`.
 */
export interface OwnKafkaCluster {
  brokers: string[];
  nodes: number;
  /** Asynchronous, so traffic a test drives from its own process keeps flowing meanwhile. */
  start(): Promise<void>;
  /** Starts node n (1-based) and resolves once it serves. */
  startNode(n: number): Promise<void>;
  /** SIGTERM: a controlled shutdown (leaders move first). */
  stopNode(n: number): Promise<void>;
  /** kill -9. */
  killNode(n: number): Promise<void>;
  destroy(): void;
}

const portOpen = (port: number) =>
  new Promise<boolean>((resolve) => {
    const s = connect(port, '127.0.0.1');
    s.once('connect', () => (s.destroy(), resolve(true)));
    s.once('error', () => resolve(false));
  });

export async function ownKafkaCluster(
  tag: string,
  opts: { nodes?: number; basePort?: number } = {},
): Promise<OwnKafkaCluster> {
  const nodes = opts.nodes ?? 3;
  const base = opts.basePort ?? Number(process.env.KAFKA_CLUSTER_PORT || 19092);
  const ports = Array.from({ length: nodes }, (_, i) => base + i);
  for (const port of [...ports, ...ports.map((p) => p + 100)])
    if (await portOpen(port))
      throw new Error(`127.0.0.1:${port} is taken: set KAFKA_CLUSTER_PORT to a free base for ${nodes} nodes`);
  const data = join(ROOT, '.run', `kafka-cluster-test-${tag}-${base}`);
  const env = {
    ...process.env,
    KAFKA_NODES: String(nodes),
    KAFKA_PORT: String(base),
    KAFKA_CONTROLLER_PORT: String(base + 100),
    KAFKA_DATA: data,
    KAFKA_HEAP: process.env.KAFKA_HEAP || '256m',
  };
  const script = join(ROOT, 'infra/kafka/kafka.sh');
  const run = (...args: string[]) =>
    new Promise<void>((resolve, reject) =>
      execFile('bash', [script, ...args], { env }, (error, _stdout, stderr) => {
        if (stderr) process.stderr.write(stderr);
        if (error) reject(new Error(`kafka.sh ${args.join(' ')}: ${error.message}`));
        else resolve();
      }),
    );
  return {
    brokers: ports.map((p) => `127.0.0.1:${p}`),
    nodes,
    start: () => run('start'),
    startNode: (n) => run('start-node', String(n)),
    stopNode: (n) => run('stop-node', String(n)),
    killNode: (n) => run('kill-node', String(n)),
    destroy: () => {
      try {
        execFileSync('bash', [script, 'kill'], { env, stdio: ['ignore', 'ignore', 'inherit'] });
      } finally {
        rmSync(data, { recursive: true, force: true });
      }
    },
  };
}

export interface PartitionState {
  topic: string;
  partition: number;
  leader: number;
  replicas: number[];
  isr: number[];
}

/** Leader, replicas and in-sync replicas of every partition of these topics. */
export async function partitionStates(brokers: string[], topics: string[]): Promise<PartitionState[]> {
  const admin = new Kafka({
    clientId: 'test-isr',
    brokers,
    logLevel: logLevel.NOTHING,
    connectionTimeout: 1000,
    retry: { retries: 2 },
  }).admin();
  await admin.connect();
  try {
    const meta = await admin.fetchTopicMetadata({ topics });
    return meta.topics.flatMap((t) =>
      t.partitions.map((p) => ({
        topic: t.name,
        partition: p.partitionId,
        leader: p.leader,
        replicas: p.replicas,
        isr: p.isr,
      })),
    );
  } finally {
    await admin.disconnect().catch(() => undefined);
  }
}

/** The node (node.id) leading the most partitions of these topics, with its count. */
export async function busiestLeader(
  brokers: string[],
  topics: string[],
): Promise<{ node: number; leads: number; of: number }> {
  const states = await partitionStates(brokers, topics);
  const counts = new Map<number, number>();
  for (const s of states) counts.set(s.leader, (counts.get(s.leader) ?? 0) + 1);
  const [node, leads] = [...counts].sort((a, b) => b[1] - a[1] || a[0] - b[0])[0]!;
  return { node, leads, of: states.length };
}

/** Waits until every partition of these topics has a leader and all its replicas in sync. */
export async function waitForFullIsr(
  brokers: string[],
  topics: string[],
  timeoutMs = 120_000,
): Promise<void> {
  await poll(
    `every replica of ${topics.join(', ')} in sync`,
    async () => {
      const states = await partitionStates(brokers, topics);
      const lagging = states.filter((s) => s.leader < 0 || s.isr.length < s.replicas.length);
      if (lagging.length)
        throw new Error(
          `${lagging.length} partition(s) short, e.g. ${lagging[0]!.topic}:${lagging[0]!.partition} isr ${lagging[0]!.isr.join(',')} of ${lagging[0]!.replicas.join(',')}`,
        );
      return true;
    },
    timeoutMs,
    250,
  );
}

/** Waits until no partition of these topics is led by `node` (it was fenced and leaders moved). */
export async function waitForLeadersOff(
  brokers: string[],
  topics: string[],
  node: number,
  timeoutMs = 60_000,
): Promise<void> {
  await poll(
    `leaders of ${topics.join(', ')} moved off node ${node}`,
    async () => {
      const states = await partitionStates(brokers, topics);
      return states.every((s) => s.leader >= 0 && s.leader !== node && !s.isr.includes(node)) || undefined;
    },
    timeoutMs,
    100,
  );
}
