import type { PostbackReceived } from './events';

/**
 * One message on `postbacks.dead` (key: `<partner_id>:<transaction_id>`): a postback whose click
 * never became visible within the retry budget. Its decision is already on the ledger (a hard
 * reject, `unknown_click`); this message keeps what the ledger does not: the original postback,
 * every attempt's error and the attempt count, for the operator who investigates (a click
 * pipeline that stalled, a partner sending click ids we never issued). Published at least once:
 * dedupe on `event_id`. `dead-letters exhausted replay` sends the postback to be decided again.
 */
export interface PostbackDeadV1 {
  schema_version: 1;
  event_id: string;
  partner_id: string;
  transaction_id: string;
  click_id: string;
  /** Retries made before giving up. */
  attempts: number;
  /** One item per attempt (the first try, each retry), oldest first. */
  errors: { at: string; reason: string }[];
  received_at: string;
  dead_at: string;
  /** The final decision, as on the ledger. */
  decision: { outcome: 'rejected'; reason_code: string; entry_id: string };
  /** The postback exactly as the gateway published it to `postbacks.received`. */
  postback: PostbackReceived;
}
