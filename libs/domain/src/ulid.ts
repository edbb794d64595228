import { randomFillSync } from 'node:crypto';

const ALPHABET = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';
const POOL = Buffer.alloc(4096);
let poolPos = POOL.length;

/** 10 random bytes from a pooled buffer: one syscall per ~400 ids instead of one per character. */
function random80(): Buffer {
  if (poolPos + 10 > POOL.length) {
    randomFillSync(POOL);
    poolPos = 0;
  }
  const b = POOL.subarray(poolPos, poolPos + 10);
  poolPos += 10;
  return b;
}

function encodeTime(ms: number): string {
  let out = '';
  for (let i = 0; i < 10; i++) {
    out = ALPHABET[ms % 32]! + out;
    ms = Math.floor(ms / 32);
  }
  return out;
}

function encodeRandom(r: Uint8Array): string {
  // 80 bits -> 16 base32 characters, 5 bits each, most significant first.
  let out = '';
  let acc = 0;
  let bits = 0;
  for (const byte of r) {
    acc = (acc << 8) | byte;
    bits += 8;
    while (bits >= 5) {
      bits -= 5;
      out += ALPHABET[(acc >> bits) & 31]!;
    }
    acc &= (1 << bits) - 1;
  }
  return out;
}

/**
 * A monotonic ULID factory: ids minted in the same millisecond increment the random part, so
 * they still sort in mint order. Same format as the `ulid` package (26 Crockford base32 chars).
 */
export function ulidFactory(): (now?: number) => string {
  let lastTime = -1;
  const last = new Uint8Array(10);
  return (now = Date.now()) => {
    if (now <= lastTime) {
      // Increment the 80-bit random part as a big-endian counter.
      for (let i = 9; i >= 0; i--) {
        if (last[i] === 255) last[i] = 0;
        else {
          last[i]! += 1;
          break;
        }
      }
      return encodeTime(lastTime) + encodeRandom(last);
    }
    lastTime = now;
    last.set(random80());
    return encodeTime(now) + encodeRandom(last);
  };
}
