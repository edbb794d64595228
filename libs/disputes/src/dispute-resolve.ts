import type { EntityManager } from 'typeorm';
import type { LedgerEntryV1 } from '@app/contracts';
import { clip } from '@app/domain';
import { appendOperatorEntry, lockConversion, operatorEntry } from '@app/ledger';
import { csvField } from '@app/read-models';
import { ReviewRefused } from '@app/read-models';

export interface DisputeResolution {
  disputeId: string;
  item: number;
  /** adjust: an `adjusted` ledger entry of `amountMicros` (signed); dismiss: no money moves. */
  action: 'adjust' | 'dismiss';
  amountMicros?: bigint;
  operator: string;
  note: string;
  now?: Date;
}

/**
 * Resolves one difference of a dispute, once: an adjustment is an `adjusted` ledger entry on
 * our conversion naming the dispute, the operator and the note (the reconciliation report shows
 * it); a dismissal records who decided that nothing moves, and why. Resolving twice is refused.
 */
export async function resolveDisputeItem(
  em: EntityManager,
  r: DisputeResolution,
): Promise<{ resolution: 'adjusted' | 'dismissed'; entry: LedgerEntryV1 | null }> {
  const now = r.now ?? new Date();
  const [item] = await em.query<
    {
      kind: string;
      conversion_id: string | null;
      resolution: string | null;
      resolved_by: string | null;
      resolved_at: Date | null;
    }[]
  >(
    `SELECT kind, conversion_id, resolution, resolved_by, resolved_at FROM dispute_items
      WHERE dispute_id = $1 AND item = $2 FOR UPDATE`,
    [r.disputeId, r.item],
  );
  if (!item) throw new ReviewRefused('not_found', `no item ${r.item} in dispute ${r.disputeId}`);
  if (item.resolution)
    throw new ReviewRefused(
      'already_decided',
      `item ${r.item} was already ${item.resolution} by ${item.resolved_by} at ${item.resolved_at?.toISOString()}`,
    );
  let entry: LedgerEntryV1 | null = null;
  if (r.action === 'adjust') {
    if (!item.conversion_id)
      throw new ReviewRefused(
        'not_allowed',
        `item ${r.item} (${item.kind}) has no conversion on our side to adjust: dismiss it, or have the partner resend the postback`,
      );
    if (r.amountMicros === undefined || r.amountMicros === 0n)
      throw new ReviewRefused('not_allowed', 'an adjustment needs a non-zero amount');
    const locked = await lockConversion(em, item.conversion_id);
    if (!locked) throw new ReviewRefused('not_found', `no conversion ${item.conversion_id}`);
    const c = locked.row;
    entry = operatorEntry(c, {
      entryType: 'adjusted',
      status: c.status,
      amountMicros: r.amountMicros.toString(),
      reason: null,
      operator: r.operator,
      note: clip(`dispute ${r.disputeId} item ${r.item}: ${r.note}`, 1000),
      now,
    });
    await appendOperatorEntry(em, locked, entry);
  }
  const resolution = r.action === 'adjust' ? 'adjusted' : 'dismissed';
  await em.query(
    `UPDATE dispute_items SET resolution = $3, entry_id = $4, resolved_by = $5, note = $6, resolved_at = $7
      WHERE dispute_id = $1 AND item = $2`,
    [
      r.disputeId,
      r.item,
      resolution,
      entry?.entry_id ?? null,
      r.operator,
      clip(r.note, 1000),
      now.toISOString(),
    ],
  );
  return { resolution, entry };
}

export interface DisputeView {
  dispute: Record<string, unknown>;
  items: Record<string, unknown>[];
}

/** A dispute with its differences (optionally only one kind, or only the open ones). */
export async function loadDispute(
  em: EntityManager,
  id: string,
  q: { kind?: string; open?: boolean; limit?: number; afterItem?: number } = {},
): Promise<DisputeView | undefined> {
  const [dispute] = await em.query<Record<string, unknown>[]>(
    `SELECT id, counterparty_kind, counterparty_id, file_name, rows, to_char(from_day, 'YYYY-MM-DD') AS from_day,
            to_char(to_day, 'YYYY-MM-DD') AS to_day, summary, created_by, created_at,
            (SELECT count(*)::int FROM dispute_items i WHERE i.dispute_id = d.id AND i.resolution IS NULL) AS open_items
       FROM disputes d WHERE id = $1`,
    [id],
  );
  if (!dispute) return undefined;
  const items = await em.query<Record<string, unknown>[]>(
    `SELECT item, kind, transaction_id, offer_id, conversion_id, ours, theirs, resolution, entry_id, resolved_by, note,
            resolved_at
       FROM dispute_items WHERE dispute_id = $1 AND ($2::text IS NULL OR kind = $2) AND (NOT $3 OR resolution IS NULL)
        AND item > $4
      ORDER BY item LIMIT $5`,
    [id, q.kind ?? null, q.open ?? false, q.afterItem ?? 0, q.limit ?? 10_000],
  );
  return { dispute, items };
}

const csvCell = (v: unknown): string =>
  csvField(
    v === null || v === undefined
      ? ''
      : typeof v === 'object'
        ? JSON.stringify(v)
        : `${v as string | number}`,
  );

/** Differences as CSV (RFC 4180, CRLF): ours and theirs side by side; `header` false for later pages. */
export function disputeCsv(items: Record<string, unknown>[], header = true): string {
  const cols = [
    'item',
    'kind',
    'transaction_id',
    'offer_id',
    'conversion_id',
    'our_status',
    'our_amount_micros',
    'their_line',
    'their_status',
    'their_payout_micros',
    'their_date',
    'resolution',
    'entry_id',
    'resolved_by',
    'note',
  ];
  const rows = items.map((i): string[] => {
    const ours = (i.ours ?? {}) as Record<string, unknown>;
    const theirs = (i.theirs ?? {}) as Record<string, unknown>;
    return [
      i.item,
      i.kind,
      i.transaction_id,
      i.offer_id,
      i.conversion_id,
      ours.status,
      ours.amount_micros,
      theirs.line ?? (theirs.lines as { line: number }[] | undefined)?.map((l) => l.line).join(' '),
      theirs.status,
      theirs.payout_micros,
      theirs.date,
      i.resolution,
      i.entry_id,
      i.resolved_by,
      i.note,
    ].map(csvCell);
  });
  return (header ? [cols.join(','), ...rows.map((r) => r.join(','))] : rows.map((r) => r.join(',')))
    .map((l) => `${l}\r\n`)
    .join('');
}
