import { Controller, Inject } from '@nestjs/common';
import { EventPattern, Payload } from '@nestjs/microservices';
import { DataSource } from 'typeorm';
import { decodeAnyLedgerEntry, type LedgerEntry, Topics } from '@app/contracts';
import { publisherStatus } from '@app/domain';
import { KafkaBatchServer, type MessageBatch } from '@app/kafka';
import { DeliveryLoop } from './delivery-loop';

/** Postgres refused the data itself (class 22, NOT NULL, CHECK): retrying cannot help. */
function isPermanentDataError(e: unknown): boolean {
  const code = (e as { driverError?: { code?: unknown } } | null)?.driverError?.code;
  return typeof code === 'string' && (code.startsWith('22') || code === '23502' || code === '23514');
}

/**
 * Consumes `conversions.ledger.v2` the way billing does (version 2: the publisher's payout, the
 * user's reward and id reach the postback's macros): every entry a publisher is told about
 * (approved, released, reversed) becomes one delivery row, idempotent on entry_id, for a
 * publisher with a postback configured. The rows commit before the handler returns, and the
 * offsets are committed only after that (KafkaBatchServer): a crash replays the batch and the
 * repeats are ignored by the primary key. Order within a conversion is the partition's order.
 */
@Controller()
export class LedgerIntakeHandler {
  constructor(
    @Inject(DataSource) private readonly ds: DataSource,
    @Inject(KafkaBatchServer) private readonly server: KafkaBatchServer,
    @Inject(DeliveryLoop) private readonly loop: DeliveryLoop,
  ) {}

  @EventPattern(Topics.conversionsLedgerV2)
  async handle(@Payload() batch: MessageBatch): Promise<void> {
    const owed: { entry: LedgerEntry; index: number }[] = [];
    for (const m of batch.messages) {
      const d = decodeAnyLedgerEntry(m.value);
      if (!d.ok) {
        await this.server.deadLetter(batch, m, d.error);
        continue;
      }
      if (d.event.publisher_id !== null && publisherStatus(d.event.entry_type))
        owed.push({ entry: d.event, index: batch.messages.indexOf(m) });
    }
    if (owed.length === 0) return;
    let written: number;
    try {
      written = await this.store(owed.map((o) => o.entry));
    } catch (e) {
      if (!isPermanentDataError(e)) throw e;
      written = 0;
      for (const o of owed) {
        try {
          written += await this.store([o.entry]);
        } catch (e2) {
          if (!isPermanentDataError(e2)) throw e2;
          const message = batch.messages[o.index]!;
          await this.server.deadLetter(batch, message, `database refused it: ${(e2 as Error).message}`);
        }
      }
    }
    if (written > 0) this.loop.kick();
  }

  /**
   * One statement: the entries whose publisher has a template for their status, in ledger order.
   * Entries recorded before the publisher's postback was configured are not sent (a lagging or
   * rewound consumer never backfills a new publisher with its history).
   */
  private async store(entries: LedgerEntry[]): Promise<number> {
    const rows = await this.ds.query<{ entry_id: string }[]>(
      `INSERT INTO publisher_deliveries (entry_id, publisher_id, conversion_id, entry_type, entry, entry_recorded_at)
       SELECT u.entry_id, u.publisher_id, u.conversion_id, u.entry_type, u.entry, u.recorded_at
         FROM unnest($1::varchar[], $2::varchar[], $3::varchar[], $4::varchar[], $5::jsonb[], $6::timestamptz[])
              WITH ORDINALITY AS u(entry_id, publisher_id, conversion_id, entry_type, entry, recorded_at, ord)
         JOIN publisher_postbacks p ON p.publisher_id = u.publisher_id
        WHERE CASE WHEN u.entry_type = 'reversed' THEN coalesce(p.reversed_url, p.url)
                   ELSE coalesce(p.approved_url, p.url) END IS NOT NULL
          AND u.recorded_at >= p.created_at
        ORDER BY u.ord
       ON CONFLICT (entry_id) DO NOTHING
       RETURNING entry_id`,
      [
        entries.map((e) => e.entry_id),
        entries.map((e) => e.publisher_id),
        entries.map((e) => e.conversion_id),
        entries.map((e) => e.entry_type),
        // Whole, as published: v2's wall fields (payout, revenue, reward, user id) reach the postback.
        entries.map((e) => JSON.stringify(e)),
        entries.map((e) => e.recorded_at),
      ],
    );
    return rows.length;
  }
}
