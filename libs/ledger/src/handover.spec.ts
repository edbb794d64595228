import { Handover } from './handover';

/** The in-memory handover (relay messages, projector rows): bounded in count and age, and only while a reader wants them. */
describe('Handover', () => {
  const m = (i: number, seq = String(i)) => ({ id: `e${i}`, seq, value: `v-${i}` });
  const cache = () => {
    const c = new Handover<string>();
    c.wanted = () => true;
    return c;
  };

  it('gives a value back only for the sequence number it was kept under', () => {
    const c = cache();
    c.keep([m(1, '10')]);
    expect(c.get('e1', '10')).toBe('v-1');
    expect(c.get('e1', '11')).toBeUndefined();
    c.forget(['e1']);
    expect(c.get('e1', '10')).toBeUndefined();
  });

  it('keeps an id inserted again (after a rollback) under its new number, and ages it from then', () => {
    const c = cache();
    c.keep([m(1, '10'), m(2, '20')], 0);
    c.keep([m(1, '11')], 50_000);
    expect(c.get('e1', '10')).toBeUndefined();
    expect(c.get('e1', '11')).toBeDefined();
    c.keep([], Handover.TTL_MS + 1);
    expect(c.get('e2', '20')).toBeUndefined();
    expect(c.get('e1', '11')).toBeDefined();
  });

  it('keeps nothing, and drops what it held, while no reader wants them', () => {
    const c = cache();
    c.keep([m(1)]);
    c.wanted = () => false;
    c.keep([m(2)]);
    expect(c.size).toBe(0);
  });

  it('when full keeps the oldest (readers go in sequence order) and drops what outlived its time', () => {
    const c = cache();
    const t0 = 1_000_000;
    c.keep(
      Array.from({ length: Handover.MAX + 5 }, (_, i) => m(i)),
      t0,
    );
    expect(c.size).toBe(Handover.MAX);
    expect(c.get('e0', '0')).toBeDefined();
    expect(c.get(`e${Handover.MAX}`, String(Handover.MAX))).toBeUndefined();
    c.keep([m(-1)], t0 + Handover.TTL_MS + 1);
    expect(c.size).toBe(1);
    expect(c.get('e-1', '-1')).toBeDefined();
  });
});
