import fc from 'fast-check';
import { decodeTime } from 'ulid';
import { clickIdTime, isWellFormedClickId, ulidFactory } from '@app/domain';

describe('ulidFactory', () => {
  it('mints well-formed ULIDs whose time decodes back (also by the ulid package)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 2 ** 48 - 1 }), (ms) => {
        const id = ulidFactory()(ms);
        expect(isWellFormedClickId(id)).toBe(true);
        expect(clickIdTime(id)).toBe(ms);
        expect(decodeTime(id)).toBe(ms);
      }),
      { numRuns: 500, seed: 5 },
    );
  });

  it('is strictly increasing within one millisecond and across a clock step back', () => {
    const next = ulidFactory();
    const ids = [next(1000), next(1000), next(1000), next(999), next(1001)];
    expect([...ids].sort()).toEqual(ids);
    expect(new Set(ids).size).toBe(ids.length);
  });

  it('does not repeat across many ids', () => {
    const next = ulidFactory();
    const n = 50_000;
    const seen = new Set<string>();
    for (let i = 0; i < n; i++) seen.add(next());
    expect(seen.size).toBe(n);
  });
});
