import type { EntityManager } from 'typeorm';
import type { PostbackReceived } from '@app/contracts';
import {
  type CapUsage,
  type ClickLookup,
  type DayRate,
  clickIdTime,
  conversionKey,
  type ConversionState,
  isWellFormedClickId,
  missingClick,
  type OfferFacts,
  type PostbackFacts,
  rateWanted,
} from '@app/domain';
import { findRates, rateKey } from '@app/exchange-rates';
import { lockConversions } from '@app/ledger';
import type { CatalogCache } from '@app/catalog';
import { loadMoneyRules, type MoneyRules } from '@app/ledger';
import type { ClickWatermark } from './click-watermark';
import { type ClickRow, clickFacts, offerFacts, postbackFacts } from './postback-facts';
import { type ClickOrigin, RoutingBatch, type TrafficRuleCache } from './routing-controls';

/** Everything a batch of postbacks is decided on, read in the batch's transaction, locked where it is written. */
export interface DecisionContext {
  facts: PostbackFacts[];
  lookups: ClickLookup[];
  origins: Map<string, ClickOrigin>;
  offers: (OfferFacts | undefined)[];
  keys: { conversionId: string; offerId: string; goal: string }[];
  /** The conversions these postbacks name that exist, read under their locks. */
  conversions: Map<string, ConversionState>;
  /** Cap usage per `offer|day`, rows locked. */
  usage: Map<string, CapUsage>;
  routing: RoutingBatch;
  /** Partner transactions with a postback already waiting in the retry queue. */
  blocked: Set<string>;
  /** Partners with their own late threshold or retry budget (over the processor's settings). */
  partnerPolicies?: ReadonlyMap<string, PartnerPolicy>;
  /** Payout rules of these offers and reward rules of their publishers (none: payout = revenue). */
  money?: MoneyRules;
  /** Per postback: the rate of its day it needs (`rateWanted`), null when none is stored; absent: none needed. */
  rates?: (DayRate | null | undefined)[];
}

/** A partner's own late threshold and retry budget (partners.late_after_seconds, retry_attempts). */
export interface PartnerPolicy {
  lateAfterMs?: number;
  maxAttempts?: number;
}

export interface LoaderDeps {
  catalog: CatalogCache;
  watermark: ClickWatermark;
  trafficRules: TrafficRuleCache;
  /** Click ids minted further ahead of `now` than this are forged. */
  maxSkewMs: number;
}

export const day = (d: Date) => d.toISOString().slice(0, 10);

/**
 * Clicks by id. The store is partitioned by month of clicked_at and an id carries its mint time
 * (its clicked_at): bounding clicked_at to the ids' times, a day either way, lets Postgres read
 * only the months that can hold them. The ids this misses are looked up again without the bound.
 */
const CLICKS_BY_ID = `SELECT * FROM clicks WHERE click_id = ANY($1) AND clicked_at BETWEEN $2 AND $3`;
const DAY_MS = 86_400_000;
function clickLookupArgs(ids: readonly string[]): [readonly string[], Date, Date] {
  const times = ids.map((id) => clickIdTime(id) ?? 0);
  return [ids, new Date(Math.min(...times) - DAY_MS), new Date(Math.max(...times) + DAY_MS)];
}
export const pairOf = (partnerId: string, transactionId: string) =>
  JSON.stringify([partnerId, transactionId]);

/**
 * Reads the state a batch is decided on. Locks, in this order (every writer's order): the
 * partner transactions (the ledger's lock, by transaction id, taken by the caller), the
 * conversions' rows under that same lock, then the offers' daily usage rows, then the capped
 * sources' rows.
 */
export async function loadDecisionContext(
  em: EntityManager,
  deps: LoaderDeps,
  work: readonly { event: PostbackReceived; parked: boolean }[],
  now: Date,
): Promise<DecisionContext> {
  const facts = work.map((w) => postbackFacts(w.event));

  // Clicks, and the watermark only if some click is missing. W vouches only for clicks
  // committed before W was read, so the missing ones are looked up again after reading it:
  // otherwise a click batch committed between the lookup and the read (W now past the click)
  // turned a stored click into a false unknown_click (found by the gateway-crash fault test).
  const ids = [...new Set(facts.map((f) => f.clickId).filter(isWellFormedClickId))];
  const clickRows = ids.length ? await em.query<ClickRow[]>(CLICKS_BY_ID, clickLookupArgs(ids)) : [];
  const found = new Set(clickRows.map((r) => r.click_id));
  const missing = ids.filter((id) => !found.has(id));
  let watermark: Date | undefined;
  if (missing.length) {
    watermark = await deps.watermark.current();
    clickRows.push(
      // Unbounded: a click whose clicked_at is far from its id's time is still found.
      ...(await em.query<ClickRow[]>(`SELECT * FROM clicks WHERE click_id = ANY($1)`, [missing])),
    );
  }
  const clicks = new Map(clickRows.map((r) => [r.click_id, clickFacts(r)]));
  const origins = new Map<string, ClickOrigin>(clickRows.map((r) => [r.click_id, r]));
  const lookups: ClickLookup[] = [];
  for (const f of facts) {
    const c = clicks.get(f.clickId);
    if (c) lookups.push({ kind: 'found', click: c });
    else if (!isWellFormedClickId(f.clickId)) lookups.push({ kind: 'malformed' });
    else {
      watermark ??= await deps.watermark.current();
      lookups.push(missingClick(f.clickId, now, deps.maxSkewMs, watermark));
    }
  }

  // Offers (cached catalog). An offer created moments ago may not be in this instance's cache
  // yet: refresh once rather than reject its first conversion as unknown_offer.
  const offerIdOf = (f: PostbackFacts, l: ClickLookup) =>
    f.offerId ?? (l.kind === 'found' ? l.click.offerId : undefined);
  const wanted = facts.map((f, i) => offerIdOf(f, lookups[i]!));
  if (wanted.some((id) => id !== undefined && !deps.catalog.offer(id))) await deps.catalog.refresh();
  const offers = wanted.map((id) => {
    const o = id ? deps.catalog.offer(id) : undefined;
    return o ? offerFacts(o) : undefined;
  });

  // The conversion keys, under the ledger's lock.
  const keys = facts.map((f, i) => conversionKey(f, lookups[i]!, offers[i]));
  const locked = await lockConversions(
    em,
    keys.map((k, i) => ({ conversionId: k.conversionId, transactionId: facts[i]!.transactionId })),
  );
  const conversions = new Map([...locked].map(([id, c]) => [id, c.state]));

  // Cap usage rows for every offer+day an approval may touch, locked in a fixed order.
  const usageKeys = new Map<string, { offerId: string; day: string }>();
  facts.forEach((f, i) => {
    const o = offers[i];
    if (o && (o.dailyCap !== null || o.payoutCapMicros !== null))
      usageKeys.set(`${o.id}|${day(f.receivedAt)}`, { offerId: o.id, day: day(f.receivedAt) });
  });
  const usage = new Map<string, CapUsage>();
  if (usageKeys.size) {
    const list = [...usageKeys.values()].sort((a, b) => (a.offerId + a.day < b.offerId + b.day ? -1 : 1));
    const cols = [list.map((u) => u.offerId), list.map((u) => u.day)];
    await em.query(
      `INSERT INTO offer_daily_usage (offer_id, day, conversions, payout_micros)
       SELECT o, d::date, 0, 0 FROM unnest($1::varchar[], $2::text[]) AS t(o, d) ON CONFLICT DO NOTHING`,
      cols,
    );
    const rows = await em.query<
      { offer_id: string; day: string; conversions: number; payout_micros: string }[]
    >(
      `SELECT offer_id, to_char(day, 'YYYY-MM-DD') AS day, conversions, payout_micros FROM offer_daily_usage
        WHERE (offer_id, day) IN (SELECT o, d::date FROM unnest($1::varchar[], $2::text[]) AS t(o, d))
        ORDER BY offer_id, day FOR UPDATE`,
      cols,
    );
    for (const r of rows)
      usage.set(`${r.offer_id}|${r.day}`, {
        conversions: r.conversions,
        payoutMicros: BigInt(r.payout_micros),
      });
  }

  // Routing controls, traffic quality and bursts for these clicks' sources.
  const routing = await RoutingBatch.load(
    em,
    deps.trafficRules,
    facts.map((f, i) => ({ lookup: lookups[i]!, receivedAt: f.receivedAt, offer: offers[i] })),
  );

  // Partner transactions with a postback already waiting: later ones queue behind it.
  const blocked = new Set<string>();
  const fresh = work.filter((w) => !w.parked);
  if (fresh.length) {
    const rows = await em.query<{ partner_id: string; transaction_id: string }[]>(
      `SELECT DISTINCT partner_id, transaction_id FROM parked_postbacks
        WHERE (partner_id, transaction_id) IN (SELECT * FROM unnest($1::varchar[], $2::varchar[]))`,
      [fresh.map((w) => w.event.payload.partner_id), fresh.map((w) => w.event.payload.transaction_id)],
    );
    for (const r of rows) blocked.add(pairOf(r.partner_id, r.transaction_id));
  }
  const money = await loadMoneyRules(
    em,
    keys.map((k) => k.offerId),
    lookups.map((l) => (l.kind === 'found' ? l.click.publisherId : null)),
  );
  return {
    facts,
    lookups,
    origins,
    offers,
    keys,
    conversions,
    usage,
    routing,
    blocked,
    partnerPolicies: await partnerPolicies(deps.catalog, facts),
    money,
    rates: await dayRates(em, facts, offers),
  };
}

/**
 * The exchange rates these postbacks need, read in the decision's transaction (no cache: a rate
 * imported a moment ago is found by the next try), in one query for the batch's distinct
 * (day, from, to).
 */
async function dayRates(
  em: EntityManager,
  facts: readonly PostbackFacts[],
  offers: readonly (OfferFacts | undefined)[],
): Promise<(DayRate | null | undefined)[] | undefined> {
  const wanted = facts.map((f, i) => rateWanted(f, offers[i]));
  if (wanted.every((w) => w === null)) return undefined;
  const found = await findRates(
    em,
    wanted.filter((w) => w !== null),
  );
  return wanted.map((w) => {
    if (!w) return undefined;
    const r = found.get(rateKey({ day: w.day, base: w.from, quote: w.to }));
    return r ? { ...w, rate: r.rate, inverted: r.inverted } : null;
  });
}

/** When each partner id missing from the catalog last made it refresh (ms). */
const refreshedFor = new Map<string, number>();
const REFRESH_UNKNOWN_EVERY_MS = 1000;

async function partnerPolicies(catalog: CatalogCache, facts: readonly PostbackFacts[], now = Date.now()) {
  const ids = [...new Set(facts.map((f) => f.partnerId))];
  // A partner created a moment ago may not be in this instance's cache yet: refresh, but at most
  // once a second per id the catalog does not hold (postbacks naming an unknown partner must not
  // cost a catalog reload on every batch).
  const unknown = ids.filter(
    (id) => !catalog.partner(id) && now - (refreshedFor.get(id) ?? 0) > REFRESH_UNKNOWN_EVERY_MS,
  );
  if (unknown.length) {
    if (refreshedFor.size > 10_000) refreshedFor.clear();
    for (const id of unknown) refreshedFor.set(id, now);
    await catalog.refresh();
  }
  const policies = new Map<string, PartnerPolicy>();
  for (const id of ids) {
    const p = catalog.partner(id);
    if (!p || (p.lateAfterSeconds === null && p.retryAttempts === null)) continue;
    policies.set(id, {
      ...(p.lateAfterSeconds !== null ? { lateAfterMs: p.lateAfterSeconds * 1000 } : {}),
      ...(p.retryAttempts !== null ? { maxAttempts: p.retryAttempts } : {}),
    });
  }
  return policies;
}
