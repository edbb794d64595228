import { computeReference, type ObservedOutcome } from './reference';
import type { ClickLine, OfferLine, PostbackLine, Traffic } from './traffic-file';

const T0 = Date.parse('2026-01-05T10:00:00Z');
const at = (min: number) => new Date(T0 + min * 60_000).toISOString();
const OPTS = { lateAfterMs: 3_600_000, sourceMinDecisions: 50, sourceBlockRate: 0.5 };

const offer = (id: string, extra: Partial<OfferLine> = {}): OfferLine => ({
  kind: 'offer',
  id,
  payout: '3.00',
  currency: 'USD',
  allowed_geos: null,
  daily_cap: null,
  attribution_window_hours: 2,
  min_conversion_seconds: 60,
  goals: ['default'],
  ...extra,
});
const click = (id: string, offerId: string, min = 0): ClickLine => ({
  kind: 'click',
  id,
  t: at(min),
  offer_id: offerId,
  publisher_id: 'pub',
  sub1: 's',
  placement: 'wall',
  geo: 'US',
  device: 'mobile',
});
const pb = (id: string, ref: string, tx: string, status: string, min: number, extra = {}): PostbackLine => ({
  kind: 'postback',
  id,
  t: at(min),
  partner_id: 'net',
  click: { ref },
  params: { transaction_id: tx, status, ...extra },
  method: 'GET',
  signing: 'valid',
  tags: [],
});
const traffic = (offers: OfferLine[], events: Traffic['events']): Traffic => ({
  meta: { kind: 'meta', version: 1, seed: 1, start: at(0), span_hours: 1, options: {} },
  offers,
  publishers: [],
  partners: [],
  rates: [],
  payoutRules: [],
  rewardRules: [],
  events,
});
const none: ObservedOutcome = () => undefined;
const brief = (t: Traffic, observed = none) =>
  computeReference(t, OPTS, observed).postbacks.map(
    (e) => `${e.id}:${e.http}:${e.outcome ?? '-'}:${e.reason ?? '-'}${e.late ? ':late' : ''}`,
  );

describe('reference model', () => {
  it('follows the partner state machine: duplicates, transitions, reversals, invalid changes', () => {
    const t = traffic(
      [offer('o')],
      [
        click('c1', 'o'),
        pb('p1', 'c1', 'tx1', 'pending', 5),
        pb('p2', 'c1', 'tx1', 'pending', 6),
        pb('p3', 'c1', 'tx1', 'approved', 30),
        pb('p4', 'c1', 'tx1', 'reversed', 40),
        pb('p5', 'c1', 'tx1', 'approved', 50),
        pb('p6', 'c1', 'tx2', 'reversed', 50),
      ],
    );
    expect(brief(t)).toEqual([
      'p1:200:accepted:-',
      'p2:200:duplicate:duplicate',
      'p3:200:accepted:-',
      'p4:200:accepted:-',
      'p5:200:rejected:invalid_transition',
      'p6:200:rejected:invalid_transition',
    ]);
  });

  it('holds too-fast conversions, expires old clicks, flags late ones, refuses bad requests', () => {
    const t = traffic(
      [offer('o'), offer('long', { attribution_window_hours: 168, min_conversion_seconds: null })],
      [
        click('c1', 'o'),
        click('c2', 'long'),
        pb('fast', 'c1', 'tx1', 'approved', 0.5),
        pb('expired', 'c1', 'tx2', 'approved', 121),
        pb('late', 'c2', 'tx3', 'approved', 90),
        pb('mismatch', 'c2', 'tx4', 'approved', 5, { offer_id: 'o' }),
        pb('bad', 'c2', 'tx5', 'approved', 5, { payout: '1e3' }),
      ],
    );
    expect(brief(t)).toEqual([
      'fast:200:held:fraud_suspected',
      'expired:200:rejected:click_expired',
      'late:200:accepted:-:late',
      'mismatch:200:rejected:offer_mismatch',
      'bad:400:-:-',
    ]);
  });

  describe('daily caps (the order of approvals is not fixed by the rules)', () => {
    const capped = offer('cap', { daily_cap: 2, min_conversion_seconds: null });
    const burst = traffic(
      [capped],
      [1, 2, 3].flatMap((i) => [click(`c${i}`, 'cap'), pb(`p${i}`, `c${i}`, `tx${i}`, 'approved', 10 + i)]),
    );

    it('decides in file order when nothing was observed', () => {
      expect(brief(burst)).toEqual([
        'p1:200:accepted:-',
        'p2:200:accepted:-',
        'p3:200:rejected:cap_exceeded',
      ]);
    });

    it("takes the system's choice of which approval was refused, when some order allows it", () => {
      const observed: ObservedOutcome = (id) =>
        id === 'p1' ? { outcome: 'rejected', reason: 'cap_exceeded' } : { outcome: 'accepted', reason: null };
      const ref = computeReference(burst, OPTS, observed);
      expect(ref.postbacks.map((e) => e.reason ?? e.outcome)).toEqual([
        'cap_exceeded',
        'accepted',
        'accepted',
      ]);
      expect(ref.capViolations).toEqual([]);
    });

    it('flags choices no order allows: over the cap, or refused while there was room', () => {
      const all: ObservedOutcome = () => ({ outcome: 'accepted', reason: null });
      expect(computeReference(burst, OPTS, all).capViolations).toEqual([
        'p3: approved over the daily cap of cap on 2026-01-05',
      ]);
      const twoRefused: ObservedOutcome = (id) =>
        id === 'p3' ? { outcome: 'accepted', reason: null } : { outcome: 'rejected', reason: 'cap_exceeded' };
      expect(computeReference(burst, OPTS, twoRefused).capViolations).toHaveLength(2);
    });
  });
});
