import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';

/**
 * The staging-replay traffic file: NDJSON, one line per object. First the catalog (meta, offers,
 * publishers, partners), then events in virtual-time order. Every event has its virtual time
 * `t` (ISO 8601 UTC) and an `id` unique in the file, which the replay's results refer to.
 */
export interface MetaLine {
  kind: 'meta';
  version: 1;
  seed: number;
  start: string;
  span_hours: number;
  /** The generator's options, so a file says how it was made. */
  options: Record<string, number | string>;
}

export interface OfferLine {
  kind: 'offer';
  id: string;
  payout: string;
  currency: string;
  allowed_geos: string[] | null;
  daily_cap: number | null;
  attribution_window_hours: number;
  min_conversion_seconds: number | null;
  goals: string[];
}

export interface PublisherLine {
  kind: 'publisher';
  id: string;
}

export interface PartnerLine {
  kind: 'partner';
  id: string;
  secret: string;
}

/** An exchange rate of a UTC day (1 base = rate quote), imported before the traffic. */
export interface RateLine {
  kind: 'rate';
  day: string;
  base: string;
  quote: string;
  rate: string;
}

/** What a publisher earns on an offer from a time on: a share of revenue or a fixed amount. */
export interface PayoutRuleLine {
  kind: 'payout_rule';
  offer_id: string;
  /** An override for one publisher; null: every publisher. */
  publisher_id: string | null;
  share_percent?: string;
  amount?: string;
  effective_from: string;
}

/** A publisher app's user reward from a time on. */
export interface RewardRuleLine {
  kind: 'reward_rule';
  publisher_id: string;
  currency_name: string;
  units_per_unit: string;
  rounding: 'floor' | 'round' | 'ceil';
  minimum: number;
  effective_from: string;
}

export interface ClickLine {
  kind: 'click';
  id: string;
  t: string;
  offer_id: string;
  publisher_id: string;
  sub1: string;
  placement: string;
  geo: string;
  device: string;
}

/** Why a postback line exists; the verifier never reads these, people do. */
export type PostbackTag =
  | 'conversion'
  | 'status_update'
  | 'reversal'
  | 'advertiser_reject'
  | 'out_of_order'
  | 'delayed'
  | 'duplicate'
  | 'concurrent_duplicate'
  | 'unknown_click'
  | 'malformed_click'
  | 'offer_mismatch'
  | 'fraud_burst'
  | 'cap_burst'
  | 'bad_signature'
  | 'malformed_request';

export interface PostbackLine {
  kind: 'postback';
  id: string;
  t: string;
  partner_id: string;
  /** The click it names: a click line of this file, or a raw click_id (never minted or malformed). */
  click: { ref: string } | { raw: string };
  /** Canonical parameters other than click_id, as the partner sends them (may be invalid on purpose). */
  params: Record<string, string>;
  method: 'GET' | 'POST';
  /** `bad`: signed with a wrong secret. */
  signing: 'valid' | 'bad';
  /** Lines of one group are sent at the same moment (concurrent duplicates). */
  group?: string;
  tags: PostbackTag[];
}

export type CatalogLine =
  MetaLine | OfferLine | PublisherLine | PartnerLine | RateLine | PayoutRuleLine | RewardRuleLine;
export type EventLine = ClickLine | PostbackLine;
export type TrafficLine = CatalogLine | EventLine;

export interface Traffic {
  meta: MetaLine;
  offers: OfferLine[];
  publishers: PublisherLine[];
  partners: PartnerLine[];
  rates: RateLine[];
  payoutRules: PayoutRuleLine[];
  rewardRules: RewardRuleLine[];
  events: EventLine[];
}

/**
 * A replay runs under a namespace so the same file can be replayed into one staging system again
 * and again: catalog ids and transaction ids are prefixed, click ids are minted fresh.
 */
export const namespaced = (ns: string, id: string): string => (ns ? `${ns}.${id}` : id);
export const stripNamespace = (ns: string, id: string): string =>
  ns && id.startsWith(`${ns}.`) ? id.slice(ns.length + 1) : id;

export async function* readNdjson<T>(path: string): AsyncGenerator<T> {
  const lines = createInterface({ input: createReadStream(path), crlfDelay: Infinity });
  let n = 0;
  for await (const line of lines) {
    n++;
    if (line.trim() === '') continue;
    try {
      yield JSON.parse(line) as T;
    } catch {
      throw new Error(`${path}:${n}: not a JSON line`);
    }
  }
}

export async function readTraffic(path: string): Promise<Traffic> {
  const out: Partial<Traffic> & Omit<Traffic, 'meta'> = {
    offers: [],
    publishers: [],
    partners: [],
    rates: [],
    payoutRules: [],
    rewardRules: [],
    events: [],
  };
  for await (const line of readNdjson<TrafficLine>(path)) {
    switch (line.kind) {
      case 'meta':
        out.meta = line;
        break;
      case 'offer':
        out.offers.push(line);
        break;
      case 'publisher':
        out.publishers.push(line);
        break;
      case 'partner':
        out.partners.push(line);
        break;
      case 'rate':
        out.rates.push(line);
        break;
      case 'payout_rule':
        out.payoutRules.push(line);
        break;
      case 'reward_rule':
        out.rewardRules.push(line);
        break;
      case 'click':
      case 'postback':
        out.events.push(line);
        break;
    }
  }
  if (!out.meta) throw new Error(`${path}: no meta line: not a traffic file`);
  return out as Traffic;
}
