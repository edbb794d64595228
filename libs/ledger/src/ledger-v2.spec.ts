import {
  assertValidLedgerEntryV2,
  decodeAnyLedgerEntry,
  decodeLedgerEntry,
  type LedgerEntryV1,
} from '@app/contracts';
import fc from 'fast-check';
import { ledgerEntryV2, ledgerEntryV2Json, type LedgerV2Row } from './ledger-v2';

const v1: LedgerEntryV1 = {
  schema_version: 1,
  entry_id: 'e1',
  entry_type: 'approved',
  conversion_id: 'cv1',
  conversion_status: 'approved',
  click_id: 'c1',
  transaction_id: 't1',
  offer_id: 'o1',
  publisher_id: 'p1',
  partner_id: 'pa',
  goal: 'default',
  amount_micros: '2000000',
  currency: 'USD',
  reason_bucket: null,
  reason_code: null,
  sub1: null,
  sub2: null,
  sub3: null,
  sub4: null,
  sub5: null,
  placement: null,
  geo: 'US',
  device: null,
  clicked_at: null,
  occurred_at: '2026-12-01T00:00:00.000Z',
  recorded_at: '2026-12-01T00:00:01.000Z',
  late: false,
  postback_delay_ms: null,
  source_event_id: 's1',
  operator: null,
  note: null,
};

describe('ledger entry version 2', () => {
  const v2 = ledgerEntryV2({
    payload: v1,
    payout_micros: '1400000',
    reward_amount: '140',
    reward_currency: 'coins',
    payout_rule_id: '7',
    reward_rule_id: '3',
    user_id: 'u-1',
    original_amount_micros: '1840000',
    original_currency: 'EUR',
    fx_rate: '1.086956521739',
    fx_date: new Date('2026-12-01T00:00:00Z'),
    postings: [
      { posting_id: 'e1:1', account: 'advertiser_receivable:pa', currency: 'USD', amount_micros: '2000000' },
      { posting_id: 'e1:2', account: 'publisher_payable:p1', currency: 'USD', amount_micros: '-1400000' },
      { posting_id: 'e1:3', account: 'platform_revenue', currency: 'USD', amount_micros: '-600000' },
    ],
  });

  it('keeps every v1 field and adds the money, origin and postings; it passes its schema', () => {
    expect(v2).toMatchObject({ ...v1, schema_version: 2 });
    expect(v2).toMatchObject({
      revenue_micros: '2000000',
      payout_micros: '1400000',
      margin_micros: '600000',
      fx_date: '2026-12-01',
    });
    const d = decodeAnyLedgerEntry(JSON.stringify(v2));
    expect(d).toMatchObject({ ok: true, event: { schema_version: 2 } });
  });

  it('a strict v1 decoder refuses v2 (hence its own topic), and the either-version decoder reads both', () => {
    expect(decodeLedgerEntry(JSON.stringify(v2)).ok).toBe(false);
    expect(decodeAnyLedgerEntry(JSON.stringify(v1))).toMatchObject({
      ok: true,
      event: { schema_version: 1 },
    });
    expect(decodeAnyLedgerEntry(JSON.stringify({ ...v1, schema_version: 3 }))).toMatchObject({ ok: false });
    expect(decodeAnyLedgerEntry(JSON.stringify({ ...v2, postings: [{ posting_id: 'x' }] }))).toMatchObject({
      ok: false,
    });
  });

  it('an entry written before the money model (no payout column) says payout 0 and margin = revenue', () => {
    const old = ledgerEntryV2({
      payload: v1,
      payout_micros: null,
      reward_amount: null,
      reward_currency: null,
      payout_rule_id: null,
      reward_rule_id: null,
      postings: null,
    });
    expect([old.payout_micros, old.margin_micros, old.postings, old.user_id]).toEqual([
      '0',
      '2000000',
      [],
      null,
    ]);
  });

  it("the writer's fast JSON is exactly JSON.stringify of the v2 entry, and valid v2, for any entry", () => {
    const text = fc.oneof(
      fc.constant(null),
      fc.string({ maxLength: 40 }),
      fc.string({ unit: 'grapheme', maxLength: 20 }),
    );
    const micros = fc.bigInt({ min: 0n, max: 999_999_999_000_000n });
    const row = fc.record({
      entry: fc.record({
        entry_type: fc.constantFrom(
          'pending',
          'approved',
          'rejected',
          'held',
          'released',
          'reversed',
          'adjusted',
        ),
        amount: micros,
        sub1: text,
        placement: text,
        note: text,
        operator: text,
        late: fc.boolean(),
        delay: fc.oneof(fc.constant(null), fc.nat()),
        publisher: fc.oneof(fc.constant(null), fc.constantFrom('p1', 'pub-\u00e9')),
      }),
      payout: fc.oneof(fc.constant(null), micros),
      reward: fc.oneof(fc.constant(null), fc.bigInt({ min: 0n, max: 10n ** 15n })),
      rule: fc.oneof(fc.constant(null), fc.constantFrom('1', '42')),
      user: fc.oneof(fc.constant(null), fc.string({ unit: 'grapheme', minLength: 1, maxLength: 30 })),
      fx: fc.boolean(),
    });
    fc.assert(
      fc.property(row, (g) => {
        const payload: LedgerEntryV1 = {
          ...v1,
          entry_type: g.entry.entry_type as LedgerEntryV1['entry_type'],
          amount_micros: g.entry.amount.toString(),
          publisher_id: g.entry.publisher,
          sub1: g.entry.sub1,
          placement: g.entry.placement,
          note: g.entry.note,
          operator: g.entry.operator,
          late: g.entry.late,
          postback_delay_ms: g.entry.delay,
        };
        const r: LedgerV2Row = {
          payload,
          payout_micros: g.payout === null ? null : g.payout.toString(),
          reward_amount: g.reward === null ? null : g.reward.toString(),
          reward_currency: g.reward === null ? null : 'coins',
          payout_rule_id: g.rule,
          reward_rule_id: g.rule,
          user_id: g.user,
          original_amount_micros: g.fx ? '1851852' : null,
          original_currency: g.fx ? 'EUR' : null,
          fx_rate: g.fx ? '1.08' : null,
          fx_date: g.fx ? '2026-12-01' : null,
          postings: [
            {
              posting_id: `${payload.entry_id}:1`,
              account: 'platform_revenue',
              currency: 'USD',
              amount_micros: '-1',
            },
          ],
        };
        const fast = ledgerEntryV2Json(JSON.stringify(payload), r);
        expect(fast).toBe(JSON.stringify(ledgerEntryV2(r)));
        expect(() => assertValidLedgerEntryV2(JSON.parse(fast))).not.toThrow();
      }),
      { numRuns: 500 },
    );
  });

  it('a v1 JSON written with another key order still gives the same v2 (the slow path)', () => {
    const r: LedgerV2Row = {
      payload: v1,
      payout_micros: '1',
      reward_amount: null,
      reward_currency: null,
      payout_rule_id: null,
      reward_rule_id: null,
      postings: null,
    };
    const { schema_version: _s, ...rest } = v1;
    const reordered = JSON.stringify({ ...rest, schema_version: 1 });
    expect(JSON.parse(ledgerEntryV2Json(reordered, r))).toEqual(ledgerEntryV2(r));
  });
});
