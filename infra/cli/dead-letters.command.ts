/**
 * `ledger dead-letters ...`: the dead-letter topic and the postbacks whose retry budget ran out.
 *   list                      every dead letter (source, offset, error)
 *   replay --yes              send the not-yet-replayed ones back to their source topic (after
 *                             fixing the cause)
 *   exhausted                 postbacks whose retry budget ran out (`postbacks.dead`): attempts, errors
 *   exhausted replay [--event <id>]... [--yes]
 *                             decide them again (e.g. once a stalled click pipeline has caught up)
 * Replays are tracked by the consumer group `dead-letter-replay`, so each dead letter is replayed
 * once; a message that fails again lands in dead letters again, with its new error. An exhausted
 * postback's replay has an id derived from its own, so replaying it again changes nothing; it is
 * decided as a first report only while its conversion holds nothing but its unknown_click
 * rejection (docs/processing.md#retries). Reads KAFKA_BROKERS, TOPIC_PREFIX and DATABASE_URL.
 */
import { Kafka, logLevel, type KafkaMessage } from 'kafkajs';
import { assertValidEvent, type PostbackDeadV1, type PostbackReceived, Topics } from '@app/contracts';
import { createDataSource } from '@app/persistence';
import { appDatabaseUrl } from '@app/config';
import type { ParsedCommand } from './command-line';
import { planReplay, replayOf } from './exhausted-replay';
import { out, outJson } from './output';

const brokers = () => (process.env.KAFKA_BROKERS || '127.0.0.1:9092').split(',');
const prefix = () => process.env.TOPIC_PREFIX || '';
const h = (m: KafkaMessage, k: string) => m.headers?.[k]?.toString() ?? '';

async function read(
  kafka: Kafka,
  groupId: string,
  commit: boolean,
  topic = `${prefix()}${Topics.deadLetters}`,
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
  const all: KafkaMessage[] = [];
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  await new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, 30000);
    void consumer.run({
      autoCommit: commit,
      eachMessage: async ({ message }) => {
        all.push(message);
        if (all.length >= remaining) {
          clearTimeout(timer);
          resolve();
        }
      },
    });
  });
  await consumer.disconnect();
  return all;
}

const readDead = (kafka: Kafka) =>
  read(kafka, `dead-letter-list-${Date.now()}`, false, `${prefix()}${Topics.postbacksDead}`).then((all) =>
    all.map((m) => JSON.parse(m.value?.toString() ?? '{}') as PostbackDeadV1),
  );

export async function deadLetters(p: ParsedCommand): Promise<number> {
  const kafka = new Kafka({ clientId: 'dead-letters-cli', brokers: brokers(), logLevel: logLevel.NOTHING });
  const cmd = p.spec.path.slice(1).join(' ');
  if (cmd === 'list') {
    const all = await read(kafka, `dead-letter-list-${Date.now()}`, false);
    const rows = all.map((m) => ({
      failed_at: h(m, 'x-failed-at'),
      source_topic: h(m, 'x-source-topic'),
      source_partition: h(m, 'x-source-partition'),
      source_offset: h(m, 'x-source-offset'),
      error: h(m, 'x-error'),
    }));
    if (p.json) outJson(rows);
    else {
      for (const r of rows)
        out(`${r.failed_at}  ${r.source_topic}[${r.source_partition}]@${r.source_offset}  ${r.error}`);
      out(`${all.length} dead letter(s)`);
    }
    return 0;
  }
  if (cmd === 'exhausted') {
    const all = await readDead(kafka);
    if (p.json) outJson(all);
    else {
      for (const d of all)
        out(
          `${d.dead_at}  ${d.partner_id}:${d.transaction_id}  click ${d.click_id}  ${d.attempts} retries  ` +
            `${d.decision.reason_code} (entry ${d.decision.entry_id})  first try ${d.errors[0]?.at ?? d.received_at}`,
        );
      out(`${all.length} exhausted postback(s)`);
    }
    return 0;
  }
  if (cmd === 'exhausted replay') return replayExhausted(kafka, p);
  // replay
  if (!p.opts.has('yes')) {
    process.stderr.write(
      'replay sends dead letters back to their source topics; run it again with --yes to do it\n',
    );
    return 2;
  }
  const todo = await read(kafka, 'dead-letter-replay', true);
  const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
  await producer.connect();
  for (const m of todo) {
    await producer.send({
      topic: `${prefix()}${h(m, 'x-source-topic')}`,
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
  if (p.json) outJson({ replayed: todo.length });
  else out(`replayed ${todo.length} dead letter(s) to their source topics`);
  return 0;
}

/** Sends exhausted postbacks (and the later statuses they took down with them) to be decided again. */
async function replayExhausted(kafka: Kafka, p: ParsedCommand): Promise<number> {
  const wanted = new Set(p.lists.get('event') ?? []);
  const yes = p.opts.has('yes');
  const byId = new Map<string, PostbackDeadV1>();
  for (const d of await readDead(kafka)) if (!wanted.size || wanted.has(d.event_id)) byId.set(d.event_id, d);
  const missing = [...wanted].filter((id) => !byId.has(id));
  if (missing.length) {
    process.stderr.write(`dead-letters: not on ${Topics.postbacksDead}: ${missing.join(', ')}\n`);
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
    if (!p.json)
      out(
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
  const summary = () => ({
    plan: plan.map((i) => ({
      event_id: i.dead.event_id,
      partner_id: i.dead.partner_id,
      transaction_id: i.dead.transaction_id,
      click_id: i.dead.click_id,
      click_stored: i.clickStored,
      follow_ups: i.followUps.map((f) => ({ event_id: f.id, status: f.payload.status })),
    })),
    postbacks: events.length,
    sent: yes && events.length > 0,
  });
  if (events.length === 0) {
    if (p.json) outJson(summary());
    else out('no exhausted postbacks to replay');
    return 0;
  }
  if (!yes) {
    if (p.json) outJson(summary());
    else
      out(
        `${plan.length} exhausted postback(s), ${events.length} postback(s) to replay; run it again with --yes to send them`,
      );
    return 2;
  }
  const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
  await producer.connect();
  try {
    // In plan order, one send: each transaction's postbacks reach their partition in arrival order.
    await producer.send({
      topic: `${prefix()}${Topics.postbacksReceived}`,
      acks: -1,
      messages: events.map((e) => ({ key: e.key, value: JSON.stringify(e) })),
    });
  } finally {
    await producer.disconnect();
  }
  if (p.json) outJson(summary());
  else
    out(
      `replayed ${events.length} postback(s) for ${plan.length} exhausted one(s) to ${Topics.postbacksReceived}; ` +
        'their outcomes say "operator replay of <id>"',
    );
  return 0;
}
