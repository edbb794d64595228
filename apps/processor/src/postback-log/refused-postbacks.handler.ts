import { Controller, Inject } from '@nestjs/common';
import { EventPattern, Payload } from '@nestjs/microservices';
import { DataSource } from 'typeorm';
import { type PostbackRefused, Topics } from '@app/contracts';
import { KafkaBatchServer, type MessageBatch } from '@app/kafka';
import { decodeBatch, runIsolatingPoison } from '../batch-decoder';

/**
 * Stores the gateway's sample of refused postbacks (`postbacks.refused`) in `refused_postbacks`,
 * the refused half of the postback log. One statement per batch, idempotent on the event id, so
 * a redelivered batch changes nothing; RefusedRetention deletes old rows.
 */
@Controller()
export class RefusedPostbacksHandler {
  constructor(
    @Inject(DataSource) private readonly ds: DataSource,
    @Inject(KafkaBatchServer) private readonly server: KafkaBatchServer,
  ) {}

  @EventPattern(Topics.postbacksRefused)
  async handle(@Payload() batch: MessageBatch): Promise<void> {
    const decoded = await decodeBatch<PostbackRefused>(this.server, batch, 'postback.refused');
    await runIsolatingPoison(this.server, batch, decoded, (items) => this.store(items.map((d) => d.event)));
  }

  private async store(events: PostbackRefused[]): Promise<void> {
    if (events.length === 0) return;
    await this.ds.query(
      `INSERT INTO refused_postbacks (event_id, partner_id, http_status, code, field, message, transaction_id,
         click_id, request_id, source_ip, received_at)
       SELECT x.event_id, x.partner_id, x.http_status, x.code, x.field, x.message, x.transaction_id, x.click_id,
         x.request_id, x.source_ip, x.received_at
       FROM jsonb_to_recordset($1::jsonb) AS x(event_id text, partner_id text, http_status int, code text,
         field text, message text, transaction_id text, click_id text, request_id text, source_ip text,
         received_at timestamptz)
       ON CONFLICT (event_id) DO NOTHING`,
      [
        JSON.stringify(
          events.map((e) => ({
            event_id: e.id,
            ...e.payload,
            transaction_id: e.payload.transaction_id ?? null,
            click_id: e.payload.click_id ?? null,
            request_id: e.payload.request_id ?? null,
          })),
        ),
      ],
    );
  }
}
