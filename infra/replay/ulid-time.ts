import type { Prng } from './prng';

// ULIDs: 26 Crockford base32 characters, the first 10 a 48-bit millisecond time.
const CROCKFORD = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';

/** A ULID for a virtual time, its random part from the seed: well-formed, never minted. */
export function ulidAt(ms: number, rng: Prng): string {
  let time = '';
  for (let i = 0, m = ms; i < 10; i++, m = Math.floor(m / 32)) time = CROCKFORD[m % 32]! + time;
  return time + rng.string(CROCKFORD, 16);
}

/** The millisecond time a ULID carries. */
export function ulidTime(id: string): number {
  return [...id.slice(0, 10).toUpperCase()].reduce((ms, c) => ms * 32 + CROCKFORD.indexOf(c), 0);
}

export const randomChars = (rng: Prng, n: number) => rng.string(CROCKFORD.toLowerCase(), n);
export const secretChars = (rng: Prng, n: number) => rng.string(CROCKFORD, n);
