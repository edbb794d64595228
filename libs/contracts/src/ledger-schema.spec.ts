import type { LedgerEntryV1 } from './ledger';
import { assertValidLedgerEntry } from './schemas';

describe('ledger entry schema', () => {
  const entry: LedgerEntryV1 = {
    schema_version: 1,
    entry_id: 'le_x',
    entry_type: 'adjusted',
    conversion_id: 'cv_x',
    conversion_status: 'approved',
    click_id: 'c',
    transaction_id: 't',
    offer_id: 'o',
    publisher_id: null,
    partner_id: 'p',
    goal: 'default',
    amount_micros: '-1250000',
    currency: 'USD',
    reason_bucket: null,
    reason_code: null,
    sub1: null,
    sub2: null,
    sub3: null,
    sub4: null,
    sub5: null,
    placement: null,
    geo: null,
    device: null,
    clicked_at: null,
    occurred_at: '2026-11-24T10:00:00.000Z',
    recorded_at: '2026-11-24T10:00:00.000Z',
    late: false,
    postback_delay_ms: null,
    source_event_id: 'x',
    operator: 'alice',
    note: 'dispute 1 item 2',
  };

  it('lets only an adjustment take money back with a negative amount', () => {
    expect(() => assertValidLedgerEntry(entry)).not.toThrow();
    for (const t of ['approved', 'reversed', 'released'] as const)
      expect(() => assertValidLedgerEntry({ ...entry, entry_type: t })).toThrow(/amount_micros/);
    expect(() => assertValidLedgerEntry({ ...entry, amount_micros: '-0' })).toThrow();
  });
});
