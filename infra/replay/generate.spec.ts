import { DEFAULT_OPTIONS, generateTraffic, serialize } from './generate';
import type { PostbackLine, TrafficLine } from './traffic-file';

const small = { ...DEFAULT_OPTIONS, clicks: 800, spanHours: 4 };
const postbacks = (lines: TrafficLine[]) => lines.filter((l): l is PostbackLine => l.kind === 'postback');

describe('generateTraffic', () => {
  it('is reproducible: the same seed and options give the same bytes', () => {
    expect(serialize(generateTraffic(small))).toBe(serialize(generateTraffic({ ...small })));
  });

  it('gives another file for another seed', () => {
    expect(serialize(generateTraffic({ ...small, seed: 2 }))).not.toBe(serialize(generateTraffic(small)));
  });

  it('writes the catalog first, then events in virtual-time order, each with its time', () => {
    const lines = generateTraffic(small);
    const firstEvent = lines.findIndex((l) => l.kind === 'click' || l.kind === 'postback');
    expect(lines.slice(0, firstEvent).map((l) => l.kind)).toEqual([
      'meta',
      ...Array<string>(5).fill('offer'),
      ...Array<string>(4).fill('publisher'),
      'partner',
      'partner',
      // A rate for every day of the span and a week after it, then the money rules.
      ...Array<string>(lines.filter((l) => l.kind === 'rate').length).fill('rate'),
      ...Array<string>(6).fill('payout_rule'),
      ...Array<string>(2).fill('reward_rule'),
    ]);
    expect(lines.filter((l) => l.kind === 'rate').length).toBeGreaterThanOrEqual(8);
    const times = lines.slice(firstEvent).map((l) => ('t' in l ? Date.parse(l.t) : NaN));
    expect(times.every((t, i) => Number.isFinite(t) && (i === 0 || t >= times[i - 1]!))).toBe(true);
  });

  it('names only clicks that come before their postbacks', () => {
    const seen = new Set<string>();
    for (const l of generateTraffic(small)) {
      if (l.kind === 'click') seen.add(l.id);
      if (l.kind === 'postback' && 'ref' in l.click) expect(seen.has(l.click.ref)).toBe(true);
    }
  });

  it('has every kind of the mix when the rates ask for it', () => {
    const lines = generateTraffic({
      ...small,
      unknownClickRate: 0.1,
      malformedClickRate: 0.1,
      badSignatureRate: 0.05,
      malformedRequestRate: 0.05,
      offerMismatchRate: 0.05,
      outOfOrderRate: 0.05,
    });
    const tags = new Set(postbacks(lines).flatMap((p) => p.tags));
    for (const tag of [
      'status_update',
      'reversal',
      'advertiser_reject',
      'out_of_order',
      'delayed',
      'duplicate',
      'concurrent_duplicate',
      'unknown_click',
      'malformed_click',
      'offer_mismatch',
      'fraud_burst',
      'cap_burst',
      'bad_signature',
      'malformed_request',
    ])
      expect(tags).toContain(tag);
  });
});
