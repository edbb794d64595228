import { createHash, createHmac } from 'node:crypto';
import { rfc3986 } from '../signature';
import { POSTBACK_MACROS, type MacroValues, type PostbackMacro } from './template';

export const LEGACY_HASH_ALGORITHMS = ['md5', 'sha1', 'hmac-sha256', 'hmac-sha1', 'hmac-sha1-url'] as const;
export type LegacyHashAlgorithm = (typeof LEGACY_HASH_ALGORITHMS)[number];

/** The algorithms that sign the whole URL: they take no fields and no separator. */
export const URL_HASH_ALGORITHMS: readonly LegacyHashAlgorithm[] = ['hmac-sha1-url'];

export const LEGACY_HASH_SEPARATOR_MAX = 8;

/** For walls that cannot read headers: a hash of some macro values (or of the URL), added as a query parameter. */
export interface LegacyHash {
  algorithm: LegacyHashAlgorithm;
  /** Query parameter name, e.g. `hash` or `sig`. */
  param: string;
  /** Macro names whose raw values are joined, in this order (none for hmac-sha1-url). */
  fields: PostbackMacro[];
  /** Joins the values (and, for md5 and sha1, the secret): `a:b:c:secret`. Default empty. */
  separator?: string;
  secret: string;
}

export function isMacroName(s: string): s is PostbackMacro {
  return (POSTBACK_MACROS as readonly string[]).includes(s);
}

export function isUrlHash(algorithm: LegacyHashAlgorithm): boolean {
  return URL_HASH_ALGORITHMS.includes(algorithm);
}

/**
 * Lowercase hex, over the raw (decoded) macro values joined by the separator:
 * md5 / sha1: digest(v1 + sep + v2 + ... + sep + secret); hmac-sha256 / hmac-sha1:
 * HMAC(secret, v1 + sep + v2 + ...); hmac-sha1-url: HMAC-SHA1(secret, url), the URL as called
 * but for this parameter (required for that algorithm).
 */
export function legacyHash(
  h: Pick<LegacyHash, 'algorithm' | 'fields' | 'secret' | 'separator'>,
  values: MacroValues,
  url?: string,
): string {
  const sep = h.separator ?? '';
  const joined = h.fields.map((f) => values[f]).join(sep);
  switch (h.algorithm) {
    case 'md5':
    case 'sha1':
      return createHash(h.algorithm)
        .update([...h.fields.map((f) => values[f]), h.secret].join(sep), 'utf8')
        .digest('hex');
    case 'hmac-sha256':
      return createHmac('sha256', h.secret).update(joined, 'utf8').digest('hex');
    case 'hmac-sha1':
      return createHmac('sha1', h.secret).update(joined, 'utf8').digest('hex');
    case 'hmac-sha1-url':
      if (url === undefined) throw new Error('hmac-sha1-url signs the URL: give it');
      return createHmac('sha1', h.secret).update(url, 'utf8').digest('hex');
  }
}

/**
 * The URL as the publisher's server sees it (WHATWG-normalized: lower-case host, `/` path when
 * none, default port dropped; without a fragment, which is never sent): what a URL hash covers.
 */
export function urlAsSent(url: string): string {
  const u = new URL(url);
  u.hash = '';
  return u.href;
}

/** Appends `param=<hash>` to a rendered URL (before any fragment). */
export function appendQueryParam(url: string, name: string, value: string): string {
  const hash = url.indexOf('#');
  const base = hash < 0 ? url : url.slice(0, hash);
  const frag = hash < 0 ? '' : url.slice(hash);
  const sep = base.includes('?') ? (base.endsWith('?') || base.endsWith('&') ? '' : '&') : '?';
  return `${base}${sep}${rfc3986(name)}=${rfc3986(value)}${frag}`;
}
