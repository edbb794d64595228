import { RenderedMessages } from './outbox';

/** The relay's in-memory messages: bounded in count and age, and only while a relay wants them. */
describe('RenderedMessages', () => {
  const m = (i: number, seq = String(i)) => ({ entryId: `e${i}`, seq, v1: `v1-${i}`, v2: `v2-${i}` });
  const cache = () => {
    const c = new RenderedMessages();
    c.wanted = () => true;
    return c;
  };

  it('gives a message back only for the sequence number it was kept under', () => {
    const c = cache();
    c.keep([m(1, '10')]);
    expect(c.get('e1', '10')).toEqual({
      seq: '10',
      v1: 'v1-1',
      v2: 'v2-1',
      at: expect.any(Number) as number,
    });
    expect(c.get('e1', '11')).toBeUndefined();
    c.forget(['e1']);
    expect(c.get('e1', '10')).toBeUndefined();
  });

  it('keeps an entry inserted again (after a rollback) under its new number, and ages it from then', () => {
    const c = cache();
    c.keep([m(1, '10'), m(2, '20')], 0);
    c.keep([m(1, '11')], 50_000);
    expect(c.get('e1', '10')).toBeUndefined();
    expect(c.get('e1', '11')).toBeDefined();
    c.keep([], RenderedMessages.TTL_MS + 1);
    expect(c.get('e2', '20')).toBeUndefined();
    expect(c.get('e1', '11')).toBeDefined();
  });

  it('keeps nothing, and drops what it held, while no relay wants them', () => {
    const c = cache();
    c.keep([m(1)]);
    c.wanted = () => false;
    c.keep([m(2)]);
    expect(c.size).toBe(0);
  });

  it('when full keeps the oldest (the relay reads in sequence order) and drops what outlived its time', () => {
    const c = cache();
    const t0 = 1_000_000;
    c.keep(
      Array.from({ length: RenderedMessages.MAX + 5 }, (_, i) => m(i)),
      t0,
    );
    expect(c.size).toBe(RenderedMessages.MAX);
    expect(c.get('e0', '0')).toBeDefined();
    expect(c.get(`e${RenderedMessages.MAX}`, String(RenderedMessages.MAX))).toBeUndefined();
    c.keep([m(-1)], t0 + RenderedMessages.TTL_MS + 1);
    expect(c.size).toBe(1);
    expect(c.get('e-1', '-1')).toBeDefined();
  });
});
