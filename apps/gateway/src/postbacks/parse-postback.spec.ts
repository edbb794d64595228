import fc from 'fast-check';
import { assertValidEvent, type PostbackReceived } from '@app/contracts';
import { wellFormedDeep } from '@app/domain';
import { parsePostback } from './parse-postback';

/** Column bounds of `postbacks` / `postback_outcomes` (Foundation and Processing migrations). */
const BOUNDS = {
  click_id: 128,
  transaction_id: 128,
  offer_id: 64,
  event: 64,
  reason: 512,
  currency: 3,
} as const;
const MAX_MICROS = 10n ** 15n;

// Any text: lone surrogates, emoji, NUL, control characters, long runs.
const text = fc.string({ unit: 'binary', maxLength: 600 });
const printable = fc.stringMatching(/^[\x21-\x7e]{1,140}$/);
const amount = fc.oneof(
  fc.bigInt({ min: 0n, max: 10n ** 22n }).map(String),
  fc.bigInt({ min: 0n, max: 10n ** 10n }).map(String),
  fc
    .tuple(fc.bigInt({ min: 0n, max: 10n ** 16n }), fc.integer({ min: 0, max: 9_999_999 }))
    .map(([i, f]) => `${i}.${f}`),
  text,
);
// Mostly plausible values, sometimes anything: enough are accepted to say something about them.
const mostly = <T>(plausible: fc.Arbitrary<T>) =>
  fc.oneof({ arbitrary: plausible, weight: 6 }, { arbitrary: text as fc.Arbitrary<T | string>, weight: 1 });
const params = fc.record(
  {
    click_id: mostly(printable),
    transaction_id: mostly(printable),
    status: mostly(fc.constantFrom('pending', 'approved', 'rejected', 'reversed')),
    payout: amount,
    currency: mostly(fc.constantFrom('USD', 'usd', 'EuR', 'XXX', 'ABC')),
    offer_id: mostly(fc.stringMatching(/^[A-Za-z0-9._:-]{1,70}$/)),
    event: mostly(fc.stringMatching(/^[A-Za-z0-9._:-]{1,70}$/)),
    reason: text,
  },
  { requiredKeys: ['click_id', 'transaction_id', 'status'] },
);
const extras = fc.dictionary(fc.string({ unit: 'binary', minLength: 1, maxLength: 150 }), text, {
  maxKeys: 60,
});

describe('parsePostback: the gateway accepts nothing the processor would refuse', () => {
  it('every accepted postback is a schema-valid event whose strings are well-formed and whose values fit the ledger', () => {
    let accepted = 0;
    fc.assert(
      fc.property(params, extras, (p, x) => {
        const r = parsePostback({ ...x, ...p });
        if (!r.ok) return;
        accepted++;
        const v = r.value;
        // As the publisher sends it (wellFormedDeep) and the schema checks it.
        const event = wellFormedDeep({
          id: '01ARZ3NDEKTSV4RRFFQ69G5FAV',
          type: 'postback.received',
          schema_version: 1,
          occurred_at: '2026-01-01T00:00:00.000Z',
          recorded_at: '2026-01-01T00:00:00.000Z',
          key: `partner-1:${v.transaction_id}`,
          correlation_id: '01ARZ3NDEKTSV4RRFFQ69G5FAV',
          payload: {
            partner_id: 'partner-1',
            ...v,
            source_ip: '127.0.0.1',
            received_at: '2026-01-01T00:00:00.000Z',
          },
        }) as PostbackReceived;
        expect(() => assertValidEvent(event)).not.toThrow();
        const pl = event.payload;
        for (const [k, max] of Object.entries(BOUNDS)) {
          const s = pl[k as keyof typeof BOUNDS];
          if (s !== null) expect(s.length).toBeLessThanOrEqual(max);
        }
        if (pl.payout_micros !== null) expect(BigInt(pl.payout_micros)).toBeLessThan(MAX_MICROS);
        const strings = [
          pl.click_id,
          pl.transaction_id,
          pl.reason ?? '',
          ...Object.keys(pl.extra),
          ...Object.values(pl.extra),
        ];
        for (const s of strings) {
          expect(s.isWellFormed()).toBe(true);
          expect(s).not.toContain('\u0000');
        }
        for (const s of Object.values(pl.extra)) expect(s.length).toBeLessThanOrEqual(256);
      }),
      { numRuns: 3000 },
    );
    // The property speaks of accepted postbacks: make sure many were.
    expect(accepted).toBeGreaterThan(150);
  });

  it('cuts a passthrough value by code point: 255 characters and an emoji keep the 255, never half the emoji', () => {
    const r = parsePostback({
      click_id: 'c',
      transaction_id: 't',
      status: 'approved',
      note: `${'a'.repeat(255)}\u{1F600}`,
    });
    expect(r.ok && r.value.extra.note).toBe('a'.repeat(255));
  });

  it('refuses a payout the ledger cannot hold, naming the field', () => {
    expect(
      parsePostback({ click_id: 'c', transaction_id: 't', status: 'approved', payout: '10000000000000' }),
    ).toMatchObject({
      ok: false,
      field: 'payout',
    });
  });
});
