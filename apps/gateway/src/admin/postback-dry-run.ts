import type { DataSource, EntityManager } from 'typeorm';
import { type CatalogCache, offerFacts } from '@app/catalog';
import {
  type CapUsage,
  type ClickFacts,
  type ClickLookup,
  conversionKey,
  decide,
  rateWanted,
  DEFAULT_CLICK_ID_MAX_SKEW_MS,
  isWellFormedClickId,
  missingClick,
  postbackFactsOf,
  SIGNATURE_PARAM,
  TIMESTAMP_PARAM,
} from '@app/domain';
import { findRates, rateKey } from '@app/exchange-rates';
import { type ConversionRow, stateOf } from '@app/ledger';
import { ApiError } from '../http/api-error';
import type { PartnerAuthenticator } from '../postbacks/partner-auth';
import { parsePostback } from '../postbacks/parse-postback';
import { queryPairs, toParams } from '../postbacks/postback-receiver';

export interface DryRunRequest {
  url?: string;
  method?: 'GET' | 'POST';
  query?: Record<string, string | string[]>;
  body?: string;
  headers?: Record<string, string>;
  source_ip?: string;
}

/** Same as the processor's default budget (RETRY_DELAYS_MS has 5 delays) unless the partner has its own. */
const DEFAULT_MAX_ATTEMPTS = 5;
/** The processor's CLICK_WATERMARK_MARGIN_MS default. */
const WATERMARK_MARGIN_MS = 10_000;

/** The auth check an error code belongs to (partner-auth.ts's codes). */
function checkOf(code: string): string {
  if (code === 'unknown_partner' || code === 'partner_paused') return 'partner';
  if (code === 'ip_not_allowed') return 'ip';
  if (code === 'missing_token' || code === 'bad_token') return 'token';
  if (code === 'rate_limited') return 'rate';
  if (code === 'unavailable') return 'credentials';
  return 'hmac';
}

/** bigint as a decimal string, for JSON. */
const jsonSafe = (v: unknown): unknown =>
  JSON.parse(JSON.stringify(v, (_k, x: unknown) => (typeof x === 'bigint' ? x.toString() : x)));

function requestOf(partnerId: string, r: DryRunRequest) {
  let path = `/v1/postbacks/${partnerId}`;
  let pairs: Array<[string, string]> = [];
  if (r.url !== undefined) {
    let u: URL;
    try {
      u = new URL(r.url, 'http://dry-run.invalid');
    } catch {
      throw ApiError.badField('url', 'url must be a postback URL');
    }
    path = u.pathname;
    pairs = queryPairs(`${u.pathname}${u.search}`);
  }
  for (const [k, v] of Object.entries(r.query ?? {}))
    for (const x of Array.isArray(v) ? v : [v]) pairs.push([k, x]);
  const method = r.method ?? (r.body !== undefined ? 'POST' : 'GET');
  const headers: Record<string, string> = {};
  for (const [k, v] of Object.entries(r.headers ?? {})) headers[k.toLowerCase()] = v;
  let bodyParams: Record<string, unknown> = {};
  const raw = method === 'POST' ? r.body : undefined;
  if (raw !== undefined && raw.trim() !== '') {
    const json = (headers['content-type'] ?? '').includes('json') || raw.trimStart().startsWith('{');
    try {
      bodyParams = json
        ? (JSON.parse(raw) as Record<string, unknown>)
        : Object.fromEntries(new URLSearchParams(raw));
    } catch {
      throw ApiError.badField('body', 'body must be a JSON object or a form');
    }
    if (bodyParams === null || typeof bodyParams !== 'object' || Array.isArray(bodyParams))
      throw ApiError.badField('body', 'body must be a JSON object or a form');
  }
  return { path, pairs, method, headers, bodyParams, rawBody: raw };
}

/**
 * A postback tried without being recorded: the gateway's normalisation and auth, then the
 * processor's pure `decide` on the click, offer, conversion and cap usage read in a READ ONLY
 * transaction (no locks, no writes). Routing controls (blocked sources, traffic rules, bursts)
 * and the retry queue are not consulted; the partner's rate limit does count it.
 */
export async function dryRunPostback(
  ds: DataSource,
  catalog: CatalogCache,
  auth: PartnerAuthenticator,
  partnerId: string,
  r: DryRunRequest,
  callerAddress: string,
) {
  const partner = auth.partner(partnerId);
  if (!partner) throw new ApiError(404, 'not_found', `partner ${partnerId} not found`);
  const req = requestOf(partnerId, r);
  const modes = partner.entity.authModes;
  let authResult: Record<string, unknown>;
  let drop: string[];
  try {
    const who = auth.authenticate({
      partnerId,
      method: req.method,
      path: req.path,
      remoteAddress: r.source_ip ?? callerAddress,
      headers: req.headers,
      query: req.pairs,
      bodyParams: req.bodyParams,
      rawBody: req.rawBody,
    });
    drop = who.credentialParams;
    authResult = { ok: true, modes, passed: modes, client_ip: who.clientIp };
  } catch (e) {
    if (!(e instanceof ApiError)) throw e;
    drop = [
      ...(modes.includes('token') ? [partner.entity.tokenParam] : []),
      ...(modes.includes('hmac') ? [TIMESTAMP_PARAM, SIGNATURE_PARAM] : []),
    ];
    authResult = {
      ok: false,
      modes,
      failed: { check: checkOf(e.code), status: e.status, code: e.code, message: e.message },
    };
  }
  let parsed;
  try {
    parsed = parsePostback(toParams(req.pairs, req.bodyParams, drop), partner.dict, partner.format);
  } catch (e) {
    if (!(e instanceof ApiError)) throw e;
    parsed = { ok: false as const, field: e.field ?? '', code: e.code, message: e.message };
  }
  if (!parsed.ok)
    return {
      recorded: false,
      auth: authResult,
      normalized: { ok: false, field: parsed.field, code: parsed.code, message: parsed.message },
      decision: null,
    };
  const p = parsed.value;
  const now = new Date();
  const facts = postbackFactsOf('dry-run', { partner_id: partnerId, ...p }, now);
  const decision = await ds.transaction(async (em) => {
    await em.query('SET TRANSACTION READ ONLY');
    const click = await lookupClick(em, p.click_id, now);
    const offerId = p.offer_id ?? (click.kind === 'found' ? click.click.offerId : undefined);
    const offerEntity = offerId === undefined ? undefined : catalog.offer(offerId);
    const offer = offerEntity ? offerFacts(offerEntity) : undefined;
    const key = conversionKey(facts, click, offer);
    const rows = await em.query<ConversionRow[]>(
      `SELECT conversion_id, offer_id, transaction_id, goal, partner_id, click_id, publisher_id, status, requested,
              amount_micros, currency, reason_code, sub1, sub2, sub3, sub4, sub5, placement, geo, device, clicked_at,
              first_received_at, entries, payout_micros, reward_amount, reward_currency, payout_rule_id, reward_rule_id
         FROM conversions WHERE conversion_id = $1`,
      [key.conversionId],
    );
    const usage = offer ? await usageOf(em, offer.id, now) : { conversions: 0, payoutMicros: 0n };
    const conversion = rows[0] ? stateOf(rows[0]) : undefined;
    // The rate of its day, as the processor would read it (a foreign-currency payout).
    const wanted = rateWanted(facts, offer);
    const found = wanted
      ? (await findRates(em, [wanted])).get(rateKey({ day: wanted.day, base: wanted.from, quote: wanted.to }))
      : undefined;
    const rate = wanted
      ? found
        ? { ...wanted, rate: found.rate, inverted: found.inverted }
        : null
      : undefined;
    return {
      click: click.kind,
      conversion_id: key.conversionId,
      conversion_before: conversion ?? null,
      result: decide({
        postback: facts,
        click,
        offer,
        conversion,
        usage,
        attempt: 0,
        maxAttempts: partner.entity.retryAttempts ?? DEFAULT_MAX_ATTEMPTS,
        rate,
      }),
    };
  });
  return {
    recorded: false,
    auth: authResult,
    normalized: { ok: true, postback: p },
    decision: jsonSafe(decision),
    not_evaluated: [
      'routing controls (blocked sources, hold and cap policies)',
      'traffic rules',
      'bursts',
      'retry queue',
    ],
  };
}

async function lookupClick(em: EntityManager, clickId: string, now: Date): Promise<ClickLookup> {
  if (!isWellFormedClickId(clickId)) return { kind: 'malformed' };
  const rows = await em.query<ClickFacts[]>(
    `SELECT click_id AS "clickId", offer_id AS "offerId", publisher_id AS "publisherId", sub1, sub2, sub3, sub4,
            sub5, placement, geo, device, clicked_at AS "clickedAt"
       FROM clicks WHERE click_id = $1`,
    [clickId],
  );
  if (rows[0]) return { kind: 'found', click: rows[0] };
  // The click store's slowest partition (approximately the processor's watermark).
  const [w] = await em.query<{ watermark: Date | null }[]>(
    `SELECT min(watermark) AS watermark FROM projection_checkpoints WHERE projection = 'click-store'`,
  );
  const vouched = new Date(w?.watermark ? w.watermark.getTime() - WATERMARK_MARGIN_MS : 0);
  return missingClick(clickId, now, DEFAULT_CLICK_ID_MAX_SKEW_MS, vouched);
}

async function usageOf(em: EntityManager, offerId: string, now: Date): Promise<CapUsage> {
  const [u] = await em.query<{ conversions: number; payout_micros: string }[]>(
    `SELECT conversions, payout_micros FROM offer_daily_usage WHERE offer_id = $1 AND day = $2::date`,
    [offerId, now.toISOString().slice(0, 10)],
  );
  return u
    ? { conversions: u.conversions, payoutMicros: BigInt(u.payout_micros) }
    : { conversions: 0, payoutMicros: 0n };
}
