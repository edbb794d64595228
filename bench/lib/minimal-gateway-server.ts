/**
 * The minimal gateway of the same-box references (reference.ts), run as its own process so it
 * gets a core of its own like the real gateway: Fastify, the partner's v1 HMAC check over the
 * sorted query (`canonicalQuery` and `verifySignature` from @app/domain, the code the real
 * gateway verifies with), a `postback.received` envelope like the gateway's, and in-process
 * batching into kafkajs with acks=all: a batch leaves after 2 ms or at 500 messages, batches are
 * not limited in flight, and each request is answered only after its own batch was acknowledged.
 * Nothing else: no catalog, no rate limits, no schema validation, no metrics, no logging.
 *
 * Started by reference.ts with ts-node; env: MINIMAL_PORT, MINIMAL_TOPIC, MINIMAL_PARTNER,
 * MINIMAL_SECRET, KAFKA_BROKERS. Answers GET /health with 200 once the producer is connected.
 */
import Fastify from 'fastify';
import { Kafka, logLevel, type Message, Partitioners } from 'kafkajs';
import {
  canonicalQuery,
  SIGNATURE_HEADER,
  TIMESTAMP_HEADER,
  ulidFactory,
  verifySignature,
} from '@app/domain';

const LINGER_MS = 2;
const MAX_BATCH = 500;
const TOLERANCE_SECONDS = 300;

const need = (name: string): string => {
  const v = process.env[name];
  if (!v) throw new Error(`${name} is required`);
  return v;
};
const port = Number(need('MINIMAL_PORT'));
const topic = need('MINIMAL_TOPIC');
const partner = need('MINIMAL_PARTNER');
const secrets = [need('MINIMAL_SECRET')];
const brokers = need('KAFKA_BROKERS').split(',');

const kafka = new Kafka({ clientId: 'bench-minimal-gateway', brokers, logLevel: logLevel.WARN });
const producer = kafka.producer({
  createPartitioner: Partitioners.DefaultPartitioner,
  allowAutoTopicCreation: false,
});

interface Pending {
  message: Message;
  resolve: () => void;
  reject: (e: unknown) => void;
}
let queue: Pending[] = [];
let linger: NodeJS.Timeout | undefined;

function flush(): void {
  if (linger) clearTimeout(linger);
  linger = undefined;
  const batch = queue;
  queue = [];
  if (batch.length === 0) return;
  producer.send({ topic, acks: -1, messages: batch.map((p) => p.message) }).then(
    () => batch.forEach((p) => p.resolve()),
    (e: unknown) => batch.forEach((p) => p.reject(e)),
  );
}

/** Resolves when Kafka acknowledged this message's batch (acks=all). */
function send(message: Message): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    queue.push({ message, resolve, reject });
    if (queue.length >= MAX_BATCH) flush();
    else linger ??= setTimeout(flush, LINGER_MS);
  });
}

const newId = ulidFactory();
const first = (v: string | string[] | undefined) => (Array.isArray(v) ? v[0] : v);

const app = Fastify({ logger: false });
app.get('/health', async () => ({ status: 'ok' }));
app.get<{ Params: { partner: string } }>('/v1/postbacks/:partner', async (req, reply) => {
  if (req.params.partner !== partner) return reply.code(403).send({ error: 'unknown_partner' });
  const url = req.raw.url ?? '';
  const q = url.indexOf('?');
  const pairs = q < 0 ? [] : [...new URLSearchParams(url.slice(q + 1))];
  const check = verifySignature({
    secrets,
    timestamp: first(req.headers[TIMESTAMP_HEADER]),
    signature: first(req.headers[SIGNATURE_HEADER]),
    payload: canonicalQuery(pairs),
    nowSeconds: Date.now() / 1000,
    toleranceSeconds: TOLERANCE_SECONDS,
  });
  if (!check.ok) return reply.code(401).send({ error: check.code });
  const p = new Map(pairs);
  const clickId = p.get('click_id');
  const transactionId = p.get('transaction_id');
  if (!clickId || !transactionId) return reply.code(400).send({ error: 'missing_field' });
  const now = new Date();
  const at = now.toISOString();
  const id = newId(now.getTime());
  const key = `${partner}:${transactionId}`;
  const event = {
    id,
    type: 'postback.received',
    schema_version: 1,
    occurred_at: at,
    recorded_at: at,
    key,
    correlation_id: id,
    payload: {
      partner_id: partner,
      click_id: clickId,
      transaction_id: transactionId,
      status: p.get('status') ?? 'approved',
      offer_id: null,
      payout_micros: p.has('payout') ? String(Math.round(Number(p.get('payout')) * 1e6)) : null,
      currency: p.get('currency') ?? null,
      event: null,
      reason: null,
      source_ip: req.ip,
      received_at: at,
      extra: {},
      request_id: req.id,
    },
  };
  await send({ key, value: JSON.stringify(event) });
  return { status: 'accepted', id };
});

async function main(): Promise<void> {
  await producer.connect();
  await app.listen({ port, host: '127.0.0.1' });
}

const stop = () => {
  flush();
  void app
    .close()
    .then(() => producer.disconnect())
    .finally(() => process.exit(0));
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);

main().catch((e: unknown) => {
  console.error('minimal gateway failed:', e);
  process.exit(1);
});
