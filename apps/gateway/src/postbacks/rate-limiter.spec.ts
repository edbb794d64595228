import { TokenBucket } from './rate-limiter';

describe('TokenBucket', () => {
  it('allows a burst of one second, then refills at the rate', () => {
    const b = new TokenBucket(10, 0);
    let allowed = 0;
    for (let i = 0; i < 25; i++) if (b.take(0)) allowed++;
    expect(allowed).toBe(10);
    expect(b.take(50)).toBe(false); // half a token
    expect(b.take(100)).toBe(true); // 0.5 + 0.5 = 1
    expect(b.take(100)).toBe(false);
  });

  it('never stores more than one second of tokens', () => {
    const b = new TokenBucket(5, 0);
    let allowed = 0;
    for (let i = 0; i < 20; i++) if (b.take(60_000)) allowed++;
    expect(allowed).toBe(5);
  });
});
