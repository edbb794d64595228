import { Kafka, logLevel, type Producer } from 'kafkajs';
import { monotonicFactory } from 'ulid';
import type { ClickRecorded, PostbackReceived, PostbackStatus } from '@app/contracts';
import type { DataSource } from 'typeorm';
import { TEST_BROKERS } from './test-kafka';

const newId = monotonicFactory();

/** Inserts an offer and publisher straight into the catalog tables (processing tests need no gateway). */
export async function seedOffer(
  ds: DataSource,
  o: {
    id: string;
    payout?: string;
    currency?: string;
    allowedGeos?: string[] | null;
    dailyCap?: number | null;
    minConversionSeconds?: number | null;
  },
): Promise<void> {
  await ds.query(
    `INSERT INTO offers (id, name, landing_url, payout_micros, currency, allowed_geos, daily_cap, min_conversion_seconds, goals)
     VALUES ($1, $1, 'https://adv.example/?c={click_id}', $2, $3, $4, $5, $6, '{default}') ON CONFLICT DO NOTHING`,
    [
      o.id,
      o.payout ?? '1000000',
      o.currency ?? 'USD',
      o.allowedGeos ?? null,
      o.dailyCap ?? null,
      o.minConversionSeconds ?? null,
    ],
  );
}

export function clickEvent(
  offerId: string,
  publisherId: string,
  at = new Date(),
  extra: Partial<ClickRecorded['payload']> = {},
): ClickRecorded {
  const id = newId(at.getTime());
  return {
    id,
    type: 'click.recorded',
    schema_version: 1,
    occurred_at: at.toISOString(),
    recorded_at: at.toISOString(),
    key: id,
    correlation_id: id,
    payload: {
      click_id: id,
      offer_id: offerId,
      publisher_id: publisherId,
      sub1: 'src',
      sub2: null,
      sub3: null,
      sub4: null,
      sub5: null,
      placement: 'wall',
      geo: 'US',
      device: 'mobile',
      ip: null,
      user_agent: null,
      clicked_at: at.toISOString(),
      ...extra,
    },
  };
}

export function postbackEvent(
  partnerId: string,
  clickId: string,
  transactionId: string,
  status: PostbackStatus,
  extra: Partial<PostbackReceived['payload']> = {},
  at = new Date(),
): PostbackReceived {
  const id = newId(at.getTime());
  return {
    id,
    type: 'postback.received',
    schema_version: 1,
    occurred_at: at.toISOString(),
    recorded_at: at.toISOString(),
    key: `${partnerId}:${transactionId}`,
    correlation_id: id,
    payload: {
      partner_id: partnerId,
      click_id: clickId,
      transaction_id: transactionId,
      status,
      offer_id: null,
      payout_micros: null,
      currency: null,
      event: null,
      reason: null,
      source_ip: '127.0.0.1',
      received_at: at.toISOString(),
      extra: {},
      ...extra,
    },
  };
}

/** Produces events as the gateway would (same key, same envelope), in order, in chunks. */
export async function produceEvents(
  topic: string,
  events: (ClickRecorded | PostbackReceived)[],
  brokers = TEST_BROKERS,
): Promise<void> {
  const producer: Producer = new Kafka({
    clientId: 'test-traffic',
    brokers,
    logLevel: logLevel.NOTHING,
  }).producer({ idempotent: true, maxInFlightRequests: 1 });
  await producer.connect();
  try {
    for (let i = 0; i < events.length; i += 1000) {
      await producer.send({
        topic,
        acks: -1,
        messages: events.slice(i, i + 1000).map((e) => ({ key: e.key, value: JSON.stringify(e) })),
      });
    }
  } finally {
    await producer.disconnect();
  }
}
