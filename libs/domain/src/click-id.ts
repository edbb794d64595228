// Click ids are ULIDs: 26 Crockford base32 characters, the first 10 encoding a 48-bit millisecond timestamp.
// A first character above 7 would overflow 128 bits, so it is malformed.

const CROCKFORD = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';
const CLICK_ID = /^[0-7][0-9A-HJKMNP-TV-Z]{25}$/i;
const TIME_CHARS = 10;

export function isWellFormedClickId(id: string): boolean {
  return typeof id === 'string' && CLICK_ID.test(id);
}

/** Milliseconds since the epoch encoded in a click id, or undefined when the id is malformed. */
export function clickIdTime(id: string): number | undefined {
  if (!isWellFormedClickId(id)) return undefined;
  let ms = 0;
  for (const ch of id.slice(0, TIME_CHARS).toUpperCase()) {
    // At most 2^48 - 1: stays well inside Number.MAX_SAFE_INTEGER.
    ms = ms * 32 + CROCKFORD.indexOf(ch);
  }
  return ms;
}
