import fc from 'fast-check';
import { decodeTime, monotonicFactory, ulid } from 'ulid';
import { clickIdTime, isWellFormedClickId } from './click-id';

const utf16 = fc.string({ unit: fc.integer({ min: 0, max: 0xffff }).map((c) => String.fromCharCode(c)) });
const MAX_TIME = 2 ** 48 - 1;

describe('click ids (ULID)', () => {
  it('accepts the canonical example and decodes its time', () => {
    expect(isWellFormedClickId('01ARZ3NDEKTSV4RRFFQ69G5FAV')).toBe(true);
    expect(clickIdTime('01ARZ3NDEKTSV4RRFFQ69G5FAV')).toBe(1469922850259);
  });

  it('is case-insensitive', () => {
    expect(isWellFormedClickId('01arz3ndektsv4rrffq69g5fav')).toBe(true);
    expect(clickIdTime('01arz3ndektsv4rrffq69g5fav')).toBe(1469922850259);
  });

  it('decodes the extremes', () => {
    expect(clickIdTime('00000000000000000000000000')).toBe(0);
    expect(clickIdTime('7ZZZZZZZZZZZZZZZZZZZZZZZZZ')).toBe(MAX_TIME);
  });

  it.each([
    ['', 'empty'],
    ['01ARZ3NDEKTSV4RRFFQ69G5FA', '25 chars'],
    ['01ARZ3NDEKTSV4RRFFQ69G5FAVX', '27 chars'],
    ['81ARZ3NDEKTSV4RRFFQ69G5FAV', 'first char 8 (overflows 128 bits)'],
    ['Z1ARZ3NDEKTSV4RRFFQ69G5FAV', 'first char Z'],
    ['01ARZ3NDEKTSV4RRFFQ69G5FAI', 'contains I'],
    ['01ARZ3NDEKTSV4RRFFQ69G5FAL', 'contains L'],
    ['01ARZ3NDEKTSV4RRFFQ69G5FAO', 'contains O'],
    ['01ARZ3NDEKTSV4RRFFQ69G5FAU', 'contains U'],
    ['01arz3ndektsv4rrffq69g5fau', 'contains u'],
    ['01ARZ3NDEKTSV4RRFFQ69G5FA-', 'contains -'],
    [' 01ARZ3NDEKTSV4RRFFQ69G5FAV', 'leading space'],
    ['01ARZ3NDEKTSV4RRFFQ69G5FAV\n', 'trailing newline'],
    ['01ARZ3NDEKTSV4RRFFQ69G5FAſ', 'long s (uppercases to S)'],
    ['01ARZ3NDEKTSV4RRFFQ69G5FA\u212A', 'Kelvin sign (lowercases to k)'],
    ['０1ARZ3NDEKTSV4RRFFQ69G5FAV', 'fullwidth zero'],
    ['01ARZ3ND-EKTS-V4RR-FFQ6-9G5F', 'hyphenated'],
    ['0190f1b0-7b7a-7c1e-9f3a-1234567890ab', 'UUID'],
  ])('rejects %j (%s)', (id) => {
    expect(isWellFormedClickId(id)).toBe(false);
    expect(clickIdTime(id)).toBeUndefined();
  });

  it('rejects non-strings at runtime instead of throwing', () => {
    expect(isWellFormedClickId(undefined as unknown as string)).toBe(false);
    expect(clickIdTime(123 as unknown as string)).toBeUndefined();
  });

  it('accepts every ulid() and decodes the time it was made with', () => {
    fc.assert(
      // min 1: the ulid package treats a seed of 0 as "no seed" and uses Date.now().
      fc.property(fc.integer({ min: 1, max: MAX_TIME }), (t) => {
        const id = ulid(t);
        return isWellFormedClickId(id) && clickIdTime(id) === t && clickIdTime(id.toLowerCase()) === t;
      }),
    );
  });

  it('agrees with ulid.decodeTime for fresh and monotonic ids', () => {
    const next = monotonicFactory();
    for (let i = 0; i < 200; i++) {
      for (const id of [ulid(), next()]) {
        expect(isWellFormedClickId(id)).toBe(true);
        expect(clickIdTime(id)).toBe(decodeTime(id));
      }
    }
  });

  it('never throws and is consistent on arbitrary strings', () => {
    fc.assert(
      fc.property(
        fc.oneof(utf16, fc.string({ unit: 'grapheme' }), fc.stringMatching(/^[0-9A-Za-z]{26}$/)),
        (s) => {
          const t = clickIdTime(s);
          return isWellFormedClickId(s) ? t !== undefined && t >= 0 && t <= MAX_TIME : t === undefined;
        },
      ),
    );
  });
});
