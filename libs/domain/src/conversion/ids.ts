import { createHash } from 'node:crypto';

const hashId = (prefix: string, parts: readonly string[]): string =>
  // Length-prefixed parts: ("a|b","c") and ("a","b|c") never collide.
  `${prefix}_${createHash('sha256')
    .update(parts.map((p) => `${p.length}:${p}`).join('|'))
    .digest('base64url')
    .slice(0, 26)}`;

/** One conversion per offer + transaction + goal: the dedupe key, as a stable id. */
export function conversionIdOf(offerId: string, transactionId: string, goal: string): string {
  return hashId('cv', [offerId, transactionId, goal]);
}

/** Re-processing the same input yields the same entry id. */
export function entryIdOf(conversionId: string, entryType: string, sourceId: string): string {
  return hashId('le', [conversionId, entryType, sourceId]);
}
