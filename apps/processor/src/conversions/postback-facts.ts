import type { PostbackReceived } from '@app/contracts';
import { type ClickFacts, type PostbackFacts, postbackFactsOf } from '@app/domain';

// Shared with the gateway's dry run (admin/postback-dry-run.ts).
export { offerFacts } from '@app/catalog';

/** A `clicks` row as the decider reads it. */
export interface ClickRow {
  click_id: string;
  offer_id: string;
  publisher_id: string;
  sub1: string | null;
  sub2: string | null;
  sub3: string | null;
  sub4: string | null;
  sub5: string | null;
  placement: string | null;
  geo: string | null;
  device: string | null;
  clicked_at: Date;
  ip: string | null;
  user_agent: string | null;
  user_id: string | null;
}

export function postbackFacts(e: PostbackReceived): PostbackFacts {
  return postbackFactsOf(e.id, e.payload, new Date(e.payload.received_at));
}

export function clickFacts(r: ClickRow): ClickFacts {
  return {
    clickId: r.click_id,
    offerId: r.offer_id,
    publisherId: r.publisher_id,
    sub1: r.sub1,
    sub2: r.sub2,
    sub3: r.sub3,
    sub4: r.sub4,
    sub5: r.sub5,
    placement: r.placement,
    geo: r.geo,
    device: r.device,
    clickedAt: r.clicked_at,
    userId: r.user_id ?? null,
  };
}
