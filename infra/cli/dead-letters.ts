/**
 * Operator command for the dead-letter topic.
 *   node dist/infra/cli/dead-letters.js list            show every dead letter (source, offset, error)
 *   node dist/infra/cli/dead-letters.js replay [--yes]  send the not-yet-replayed ones back to their
 *                                                       source topic (after fixing the cause)
 *   node dist/infra/cli/dead-letters.js exhausted       show postbacks whose retry budget ran out
 *                                                       (`postbacks.dead`): attempts and errors
 *   node dist/infra/cli/dead-letters.js exhausted replay [--event <id>]... [--yes]
 *                                                       decide them again (e.g. once a stalled
 *                                                       click pipeline has caught up)
 * Replays are tracked by the consumer group `dead-letter-replay`, so each dead letter is replayed
 * once; a message that fails again lands in dead letters again, with its new error. An exhausted
 * postback's replay has an id derived from its own, so replaying it again changes nothing; it is
 * decided as a first report only while its conversion holds nothing but its unknown_click
 * rejection (docs/processing.md#retries). Reads KAFKA_BROKERS, TOPIC_PREFIX and DATABASE_URL.
 */
import { Kafka, logLevel, type KafkaMessage } from 'kafkajs';
import { assertValidEvent, type PostbackDeadV1, type PostbackReceived, Topics } from '@app/contracts';
import { createDataSource } from '@app/persistence';
import { planReplay, replayOf } from './exhausted-replay';
import { appDatabaseUrl } from '@app/config';

const brokers = (process.env.KAFKA_BROKERS || '127.0.0.1:9092').split(',');
const prefix = process.env.TOPIC_PREFIX || '';
const h = (m: KafkaMessage, k: string) => m.headers?.[k]?.toString() ?? '';

async function read(
  kafka: Kafka,
  groupId: string,
  commit: boolean,
  topic = `${prefix}${Topics.deadLetters}`,
): Promise<KafkaMessage[]> {
  const admin = kafka.admin();
  await admin.connect();
  const ends = await admin.fetchTopicOffsets(topic);
  const committed = await admin.fetchOffsets({ groupId, topics: [topic] });
  await admin.disconnect();
  // Where the group stands per partition (-1: never read), hence how many messages are left.
  const start = new Map(committed[0]?.partitions.map((p) => [p.partition, Number(p.offset)]) ?? []);
  const remaining = ends.reduce((n, e) => {
    const from = Math.max(Number(e.low), start.get(e.partition) ?? -1);
    return n + Math.max(0, Number(e.high) - from);
  }, 0);
  if (remaining <= 0) return [];
  const consumer = kafka.consumer({ groupId });
  const out: KafkaMessage[] = [];
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  await new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, 30000);
    void consumer.run({
      autoCommit: commit,
      eachMessage: async ({ message }) => {
        out.push(message);
        if (out.length >= remaining) {
          clearTimeout(timer);
          resolve();
        }
      },
    });
  });
  await consumer.disconnect();
  return out;
}

async function main(): Promise<number> {
  const [cmd, flag] = process.argv.slice(2);
  const kafka = new Kafka({ clientId: 'dead-letters-cli', brokers, logLevel: logLevel.NOTHING });
  if (cmd === 'list') {
    const all = await read(kafka, `dead-letter-list-${Date.now()}`, false);
    for (const m of all) {
      console.log(
        `${h(m, 'x-failed-at')}  ${h(m, 'x-source-topic')}[${h(m, 'x-source-partition')}]@${h(m, 'x-source-offset')}  ${h(m, 'x-error')}`,
      );
    }
    console.log(`${all.length} dead letter(s)`);
    return 0;
  }
  if (cmd === 'exhausted' && flag === 'replay') return replayExhausted(kafka, process.argv.slice(4));
  if (cmd === 'exhausted' && flag === undefined) {
    const all = await read(
      kafka,
      `dead-letter-list-${Date.now()}`,
      false,
      `${prefix}${Topics.postbacksDead}`,
    );
    for (const m of all) {
      const d = JSON.parse(m.value?.toString() ?? '{}') as PostbackDeadV1;
      console.log(
        `${d.dead_at}  ${d.partner_id}:${d.transaction_id}  click ${d.click_id}  ${d.attempts} retries  ` +
          `${d.decision.reason_code} (entry ${d.decision.entry_id})  first try ${d.errors[0]?.at ?? d.received_at}`,
      );
    }
    console.log(`${all.length} exhausted postback(s)`);
    return 0;
  }
  if (cmd === 'replay') {
    if (flag !== '--yes') {
      console.error(
        'replay sends dead letters back to their source topics; run it again with --yes to do it',
      );
      return 2;
    }
    const todo = await read(kafka, 'dead-letter-replay', true);
    const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
    await producer.connect();
    for (const m of todo) {
      await producer.send({
        topic: `${prefix}${h(m, 'x-source-topic')}`,
        acks: -1,
        messages: [
          {
            key: h(m, 'x-source-key') || null,
            value: m.value,
            headers: { 'x-replayed-from-offset': m.offset },
          },
        ],
      });
    }
    await producer.disconnect();
    console.log(`replayed ${todo.length} dead letter(s) to their source topics`);
    return 0;
  }
  console.error(USAGE);
  return 2;
}

const USAGE =
  'usage: dead-letters list | replay --yes | exhausted | exhausted replay [--event <id>]... [--yes]';

/** Sends exhausted postbacks (and the later statuses they took down with them) to be decided again. */
async function replayExhausted(kafka: Kafka, args: string[]): Promise<number> {
  const wanted = new Set<string>();
  let yes = false;
  for (let i = 0; i < args.length; i++) {
    if (args[i] === '--yes') yes = true;
    else if (args[i] === '--event' && args[i + 1]) wanted.add(args[++i]!);
    else {
      console.error(`dead-letters: unexpected argument ${JSON.stringify(args[i])}\n${USAGE}`);
      return 2;
    }
  }
  const byId = new Map<string, PostbackDeadV1>();
  for (const m of await read(
    kafka,
    `dead-letter-list-${Date.now()}`,
    false,
    `${prefix}${Topics.postbacksDead}`,
  )) {
    const d = JSON.parse(m.value?.toString() ?? '{}') as PostbackDeadV1;
    if (!wanted.size || wanted.has(d.event_id)) byId.set(d.event_id, d);
  }
  const missing = [...wanted].filter((id) => !byId.has(id));
  if (missing.length) {
    console.error(`dead-letters: not on ${Topics.postbacksDead}: ${missing.join(', ')}`);
    return 2;
  }
  const ds = createDataSource({
    url: appDatabaseUrl(),
    poolSize: 1,
    applicationName: 'dead-letters-cli',
  });
  await ds.initialize();
  const plan = await planReplay(ds.manager, [...byId.values()]).finally(() => ds.destroy());
  const now = new Date();
  const events: PostbackReceived[] = [];
  for (const item of plan) {
    const { dead } = item;
    console.log(
      `${dead.partner_id}:${dead.transaction_id}  ${dead.postback.payload.status}  click ${dead.click_id} ` +
        `${item.clickStored ? 'stored now' : 'still not stored (the replay will wait for it)'}` +
        (item.followUps.length
          ? `; then ${item.followUps.map((f) => f.payload.status).join(', ')} refused meanwhile`
          : ''),
    );
    for (const e of [dead.postback, ...item.followUps]) {
      const replay = replayOf(e, now);
      assertValidEvent(replay);
      events.push(replay);
    }
  }
  if (events.length === 0) {
    console.log('no exhausted postbacks to replay');
    return 0;
  }
  if (!yes) {
    console.log(
      `${plan.length} exhausted postback(s), ${events.length} postback(s) to replay; run it again with --yes to send them`,
    );
    return 2;
  }
  const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
  await producer.connect();
  try {
    // In plan order, one send: each transaction's postbacks reach their partition in arrival order.
    await producer.send({
      topic: `${prefix}${Topics.postbacksReceived}`,
      acks: -1,
      messages: events.map((e) => ({ key: e.key, value: JSON.stringify(e) })),
    });
  } finally {
    await producer.disconnect();
  }
  console.log(
    `replayed ${events.length} postback(s) for ${plan.length} exhausted one(s) to ${Topics.postbacksReceived}; ` +
      'their outcomes say "operator replay of <id>"',
  );
  return 0;
}

main().then(
  (code) => process.exit(code),
  (e: Error) => {
    console.error(`dead-letters: ${e.message}`);
    process.exit(1);
  },
);
