import { createHash, createHmac } from 'node:crypto';
import { rfc3986 } from '../signature';
import { POSTBACK_MACROS, type MacroValues, type PostbackMacro } from './template';

export const LEGACY_HASH_ALGORITHMS = ['md5', 'hmac-sha256'] as const;
export type LegacyHashAlgorithm = (typeof LEGACY_HASH_ALGORITHMS)[number];

/** For walls that cannot read headers: a hash of some macro values, added as a query parameter. */
export interface LegacyHash {
  algorithm: LegacyHashAlgorithm;
  /** Query parameter name, e.g. `hash` or `sig`. */
  param: string;
  /** Macro names whose raw values are concatenated, in this order. */
  fields: PostbackMacro[];
  secret: string;
}

export function isMacroName(s: string): s is PostbackMacro {
  return (POSTBACK_MACROS as readonly string[]).includes(s);
}

/**
 * md5: lowercase hex md5(v1 + v2 + ... + secret); hmac-sha256: lowercase hex
 * HMAC-SHA256(secret, v1 + v2 + ...). Values are the raw (decoded) macro values.
 */
export function legacyHash(
  h: Pick<LegacyHash, 'algorithm' | 'fields' | 'secret'>,
  values: MacroValues,
): string {
  const joined = h.fields.map((f) => values[f]).join('');
  switch (h.algorithm) {
    case 'md5':
      return createHash('md5')
        .update(joined + h.secret, 'utf8')
        .digest('hex');
    case 'hmac-sha256':
      return createHmac('sha256', h.secret).update(joined, 'utf8').digest('hex');
  }
}

/** Appends `param=<hash>` to a rendered URL (before any fragment). */
export function appendQueryParam(url: string, name: string, value: string): string {
  const hash = url.indexOf('#');
  const base = hash < 0 ? url : url.slice(0, hash);
  const frag = hash < 0 ? '' : url.slice(hash);
  const sep = base.includes('?') ? (base.endsWith('?') || base.endsWith('&') ? '' : '&') : '?';
  return `${base}${sep}${rfc3986(name)}=${rfc3986(value)}${frag}`;
}
