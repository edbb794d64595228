import { Controller, Inject } from '@nestjs/common';
import { EventPattern, Payload } from '@nestjs/microservices';
import { DataSource } from 'typeorm';
import { type PostbackReceived, Topics } from '@app/contracts';
import { KafkaBatchServer, type MessageBatch } from '@app/kafka';
import { decodeBatch } from '../batch-decoder';

/**
 * Stores every accepted postback once (keyed by the gateway's event id) with its Kafka
 * position: the raw evidence that decisions and disputes are traced back to.
 */
@Controller()
export class PostbackInboxHandler {
  constructor(
    @Inject(DataSource) private readonly ds: DataSource,
    @Inject(KafkaBatchServer) private readonly server: KafkaBatchServer,
  ) {}

  @EventPattern(Topics.postbacksReceived)
  async handle(@Payload() batch: MessageBatch): Promise<void> {
    const decoded = await decodeBatch<PostbackReceived>(this.server, batch, 'postback.received');
    if (decoded.length === 0) return;
    const rows = decoded.map(({ event: e, offset }) => [
      e.id,
      e.payload.partner_id,
      e.payload.click_id,
      e.payload.transaction_id,
      e.payload.status,
      e.payload.offer_id,
      e.payload.payout_micros,
      e.payload.currency,
      e.payload.event,
      e.payload.reason,
      e.payload.source_ip,
      e.payload.received_at,
      JSON.stringify(e.payload.extra),
      batch.partition,
      offset,
    ]);
    const columns = rows[0]!.map((_, i) => rows.map((r) => r[i]));
    await this.ds.query(
      `INSERT INTO postbacks (event_id, partner_id, click_id, transaction_id, status, offer_id, payout_micros,
                              currency, event, reason, source_ip, received_at, extra, kafka_partition, kafka_offset)
       SELECT * FROM unnest($1::varchar[], $2::varchar[], $3::varchar[], $4::varchar[], $5::varchar[], $6::varchar[],
                            $7::bigint[], $8::char(3)[], $9::varchar[], $10::varchar[], $11::varchar[],
                            $12::timestamptz[], $13::jsonb[], $14::int[], $15::bigint[])
       ON CONFLICT (event_id) DO NOTHING`,
      columns,
    );
  }
}
