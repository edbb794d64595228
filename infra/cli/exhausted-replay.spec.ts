import { assertValidEvent } from '@app/contracts';
import { postbackEvent } from '@app/testing';
import { eventFromInbox, replayEventId, replayOf } from './exhausted-replay';

describe('exhausted postback replay', () => {
  const original = postbackEvent('partner-p', '01JX00000000000000000000AB', 'tx-1', 'pending', {
    offer_id: 'o-1',
  });

  it('derives the replay id from the original: same every time, a different valid ULID with the same time', () => {
    const id = replayEventId(original.id);
    expect(replayEventId(original.id)).toBe(id);
    expect(id).not.toBe(original.id);
    expect(id).toMatch(/^[0-7][0-9A-HJKMNP-TV-Z]{25}$/);
    expect(id.slice(0, 10)).toBe(original.id.slice(0, 10));
    expect(replayEventId(replayEventId(original.id))).not.toBe(id);
  });

  it('keeps the payload, key and received_at, marks the replay, and passes the published schema', () => {
    const r = replayOf(original, new Date('2026-11-25T10:00:00Z'));
    expect(r).toMatchObject({
      id: replayEventId(original.id),
      key: original.key,
      recorded_at: '2026-11-25T10:00:00.000Z',
      payload: { ...original.payload, replay_of: original.id },
    });
    expect(() => assertValidEvent(r)).not.toThrow();
  });

  it('rebuilds a postback from the inbox row it was stored as', () => {
    const p = original.payload;
    const e = eventFromInbox({
      event_id: original.id,
      partner_id: p.partner_id,
      click_id: p.click_id,
      transaction_id: p.transaction_id,
      status: p.status,
      offer_id: p.offer_id,
      payout_micros: '1500000',
      currency: 'USD',
      event: null,
      reason: null,
      source_ip: p.source_ip,
      received_at: new Date(p.received_at),
      extra: { aff_sub: 'x' },
    });
    expect(e).toMatchObject({
      id: original.id,
      key: 'partner-p:tx-1',
      payload: { status: 'pending', payout_micros: '1500000' },
    });
    expect(() => assertValidEvent(replayOf(e, new Date()))).not.toThrow();
  });
});
