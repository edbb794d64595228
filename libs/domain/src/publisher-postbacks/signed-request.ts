import { canonicalQuery, signPayload } from '../signature';
import { appendQueryParam, isUrlHash, type LegacyHash, legacyHash, urlAsSent } from './legacy-hash';
import { macroValues, type PublisherPostbackFacts, publisherStatus, renderTemplate } from './template';

export const IDEMPOTENCY_KEY_HEADER = 'idempotency-key';

/** A publisher's postback configuration, as the notifier reads it. */
export interface PublisherPostbackConfig {
  /** Used for every status without its own template. */
  url: string | null;
  approvedUrl: string | null;
  reversedUrl: string | null;
  /** One secret, or two during a rotation: each signs, and the header carries every signature. */
  secrets: readonly string[];
  legacyHash: LegacyHash | null;
}

/** The template for an entry, or undefined when the publisher gets no postback for it. */
export function templateFor(c: PublisherPostbackConfig, entryType: string): string | undefined {
  const status = publisherStatus(entryType);
  if (status === 'approved') return c.approvedUrl ?? c.url ?? undefined;
  if (status === 'reversed') return c.reversedUrl ?? c.url ?? undefined;
  return undefined;
}

/** The GET payload the signature covers: the URL's query parameters, canonical as partners sign to us. */
export function signingPayload(url: string): string {
  return canonicalQuery([...new URL(url).searchParams]);
}

/** `v1=<hex>` per secret, comma-separated: a publisher verifying with either secret finds its match. */
export function publisherSignatureHeader(secrets: readonly string[], ts: number, payload: string): string {
  return secrets.map((s) => `v1=${signPayload(s, ts, payload)}`).join(',');
}

export interface OutgoingPostback {
  url: string;
  headers: Record<string, string>;
}

/**
 * The HTTP call for one ledger entry: the rendered URL (plus the legacy hash parameter when
 * configured, last), signed like partners sign to us, with the entry id as the idempotency key.
 */
export function buildPostback(
  c: PublisherPostbackConfig,
  facts: PublisherPostbackFacts,
  nowSeconds: number,
): OutgoingPostback | undefined {
  const template = templateFor(c, facts.entry_type);
  if (!template) return undefined;
  const values = macroValues(facts);
  let url = renderTemplate(template, values);
  if (c.legacyHash) {
    // A URL hash covers the URL exactly as the publisher's server will see it.
    if (isUrlHash(c.legacyHash.algorithm)) url = urlAsSent(url);
    url = appendQueryParam(url, c.legacyHash.param, legacyHash(c.legacyHash, values, url));
  }
  const headers: Record<string, string> = {
    'x-postback-timestamp': String(nowSeconds),
    [IDEMPOTENCY_KEY_HEADER]: facts.entry_id,
  };
  if (c.secrets.length > 0)
    headers['x-postback-signature'] = publisherSignatureHeader(c.secrets, nowSeconds, signingPayload(url));
  return { url, headers };
}
