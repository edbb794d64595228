import type { DataSource } from 'typeorm';
import { ApiError } from '../http/api-error';

export interface PostbackLogFilter {
  transactionId?: string;
  clickId?: string;
  from?: Date;
  to?: Date;
  limit: number;
  cursor?: string;
}

export interface PostbackLogItem {
  /** accepted: answered 2xx and decided (or about to be); refused: answered 4xx (a sample). */
  kind: 'accepted' | 'refused';
  event_id: string;
  request_id: string | null;
  received_at: string;
  transaction_id: string | null;
  click_id: string | null;
  source_ip: string;
  /** Accepted: the partner status asked for. */
  status: string | null;
  /** Accepted: accepted | duplicate | rejected | held | retry_scheduled; null until decided. */
  outcome: string | null;
  reason: string | null;
  detail: string | null;
  conversion_id: string | null;
  ledger_entry_id: string | null;
  /** The publisher postback of that ledger entry: pending, delivered, ... ; null when none. */
  publisher_delivery: string | null;
  /** Refused: the answer's status, error code, field and message. */
  http_status: number | null;
  code: string | null;
  field: string | null;
  message: string | null;
}

interface Row extends Omit<PostbackLogItem, 'received_at'> {
  received_at: Date;
}

/** `<received_at ISO>|<event id>` of the last item, base64url: the next page starts after it. */
const encodeCursor = (r: Row) =>
  Buffer.from(`${r.received_at.toISOString()}|${r.event_id}`).toString('base64url');

function decodeCursor(cursor: string): { at: Date; id: string } {
  const [at, id] = Buffer.from(cursor, 'base64url').toString('utf8').split('|');
  const when = new Date(at ?? '');
  if (!id || !/^[0-9A-Z]{26}$/.test(id) || Number.isNaN(when.getTime()))
    throw ApiError.badField('cursor', 'cursor must be a next_cursor of an earlier page');
  return { at: when, id };
}

/**
 * What a partner sent, newest first: accepted postbacks (postbacks, with their outcome, ledger
 * entry and publisher delivery) and the refused ones the gateway sampled (refused_postbacks).
 * Each half is cut to the page size before the merge, so a page reads at most 2 x limit rows.
 */
export async function listPostbackLog(
  ds: DataSource,
  partnerId: string,
  f: PostbackLogFilter,
): Promise<{ items: PostbackLogItem[]; next_cursor: string | null }> {
  const after = f.cursor === undefined ? undefined : decodeCursor(f.cursor);
  const params: unknown[] = [
    partnerId,
    f.transactionId ?? null,
    f.clickId ?? null,
    f.from ?? null,
    f.to ?? null,
    after?.at ?? null,
    after?.id ?? null,
    f.limit + 1,
  ];
  const where = (t: string) =>
    `${t}.partner_id = $1
       AND ($2::text IS NULL OR ${t}.transaction_id = $2)
       AND ($3::text IS NULL OR ${t}.click_id = $3)
       AND ($4::timestamptz IS NULL OR ${t}.received_at >= $4)
       AND ($5::timestamptz IS NULL OR ${t}.received_at < $5)
       AND ($6::timestamptz IS NULL OR (${t}.received_at, ${t}.event_id) < ($6::timestamptz, $7::text))`;
  const rows = await ds.query<Row[]>(
    `SELECT * FROM (
       (SELECT 'accepted' AS kind, p.event_id, p.request_id, p.received_at, p.transaction_id, p.click_id,
               p.source_ip, p.status, o.outcome, o.reason_code AS reason, o.detail, o.conversion_id,
               o.entry_id AS ledger_entry_id, d.status AS publisher_delivery, NULL::int AS http_status,
               NULL::text AS code, NULL::text AS field, NULL::text AS message
          FROM postbacks p
          LEFT JOIN postback_outcomes o ON o.event_id = p.event_id
          LEFT JOIN publisher_deliveries d ON d.entry_id = o.entry_id
         WHERE ${where('p')}
         ORDER BY p.received_at DESC, p.event_id DESC LIMIT $8)
       UNION ALL
       (SELECT 'refused', r.event_id, r.request_id, r.received_at, r.transaction_id, r.click_id, r.source_ip,
               NULL, NULL, NULL, NULL, NULL, NULL, NULL, r.http_status, r.code, r.field, r.message
          FROM refused_postbacks r
         WHERE ${where('r')}
         ORDER BY r.received_at DESC, r.event_id DESC LIMIT $8)
     ) x ORDER BY received_at DESC, event_id DESC LIMIT $8`,
    params,
  );
  const page = rows.slice(0, f.limit);
  const last = page[page.length - 1];
  return {
    items: page.map((r) => ({ ...r, received_at: r.received_at.toISOString() })),
    next_cursor: rows.length > f.limit && last ? encodeCursor(last) : null,
  };
}
