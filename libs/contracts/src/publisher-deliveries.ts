import type { LedgerEntryV1 } from './ledger';

/**
 * One message on `publisher.deliveries.dead` (key: publisher_id): a postback to a publisher that
 * was retried for the whole retry window without a 2xx. The delivery row stays in Postgres with
 * status `dead` until an operator replays it; a replay of a delivery that was meanwhile sent is
 * a no-op, so a repeated message is harmless.
 */
export interface PublisherDeliveryDeadV1 {
  schema_version: 1;
  entry_id: string;
  publisher_id: string;
  conversion_id: string;
  entry_type: LedgerEntryV1['entry_type'];
  attempts: number;
  first_attempt_at: string | null;
  dead_at: string;
  last_status_code: number | null;
  last_error: string | null;
  entry: LedgerEntryV1;
}
