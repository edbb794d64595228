import type { EventEnvelope } from './envelope';

/** A partner's postback status, after its key dictionary mapped it (part of the contract). */
export const POSTBACK_STATUSES = ['pending', 'approved', 'rejected', 'reversed'] as const;
export type PostbackStatus = (typeof POSTBACK_STATUSES)[number];

export interface ClickRecordedV1 {
  click_id: string;
  offer_id: string;
  publisher_id: string;
  sub1: string | null;
  sub2: string | null;
  sub3: string | null;
  sub4: string | null;
  sub5: string | null;
  placement: string | null;
  /** ISO 3166-1 alpha-2, upper case, or null when unknown. */
  geo: string | null;
  /** mobile | tablet | desktop | other, or null when unknown. */
  device: string | null;
  ip: string | null;
  user_agent: string | null;
  clicked_at: string;
  /**
   * The wall's user id (the publisher app's own id for its user, `uid` on the click), 1-128
   * printable characters. Absent when none was sent (and on clicks recorded before it existed).
   */
  user_id?: string | null;
}

export interface PostbackReceivedV1 {
  partner_id: string;
  click_id: string;
  transaction_id: string;
  status: PostbackStatus;
  /** Absent: the click's offer applies. */
  offer_id: string | null;
  /** Integer micros as a decimal string; absent: the offer's payout applies. */
  payout_micros: string | null;
  currency: string | null;
  /** Goal; absent: the offer's default goal. */
  event: string | null;
  reason: string | null;
  source_ip: string;
  received_at: string;
  /** Parameters the partner sent that are not canonical, kept for audit only. */
  extra: Record<string, string>;
  /**
   * Only on an operator's replay (`dead-letters exhausted replay`): the event id of the
   * postback it replays. The gateway never sets it.
   */
  replay_of?: string | null;
  /** The gateway's request id (`x-request-id` of its answer); absent on replays and older events. */
  request_id?: string;
}

export interface PostbackRefusedV1 {
  partner_id: string;
  http_status: number;
  code: string;
  field: string | null;
  message: string;
  source_ip: string;
  received_at: string;
  /** The gateway's request id (`x-request-id` of its answer); absent on older events. */
  request_id?: string;
  /** The transaction id the partner sent, when its parameters could be read (at most 128 characters). */
  transaction_id?: string | null;
  /** The click id the partner sent, when its parameters could be read (at most 128 characters). */
  click_id?: string | null;
}

export type ClickRecorded = EventEnvelope<'click.recorded', ClickRecordedV1>;
export type PostbackReceived = EventEnvelope<'postback.received', PostbackReceivedV1>;
export type PostbackRefused = EventEnvelope<'postback.refused', PostbackRefusedV1>;

export type InboundEvent = ClickRecorded | PostbackReceived | PostbackRefused;
export type InboundEventType = InboundEvent['type'];

export const SCHEMA_VERSIONS: Readonly<Record<InboundEventType, number>> = {
  'click.recorded': 1,
  'postback.received': 1,
  'postback.refused': 1,
};
