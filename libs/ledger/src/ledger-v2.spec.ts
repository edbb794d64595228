import { decodeAnyLedgerEntry, decodeLedgerEntry, type LedgerEntryV1 } from '@app/contracts';
import { ledgerEntryV2 } from './ledger-v2';

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
});
