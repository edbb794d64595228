import { KeyedBuckets } from './address-limits';

describe('KeyedBuckets', () => {
  it('takes tokens up to the burst, then says when the next one comes', () => {
    const b = new KeyedBuckets(1, 2);
    expect(b.take('a', 0)).toEqual({ ok: true });
    expect(b.take('a', 0)).toEqual({ ok: true });
    expect(b.take('a', 0)).toEqual({ ok: false, retryAfterSeconds: 1 });
    expect(b.take('a', 1000)).toEqual({ ok: true });
  });

  it('answers has() without storing a key it was only asked about', () => {
    const b = new KeyedBuckets(1, 1);
    for (let i = 0; i < 1000; i++) expect(b.has(`asked-${i}`, 0)).toEqual({ ok: true });
    expect(b.size).toBe(0);
    b.take('refused', 0);
    expect(b.has('refused', 0)).toEqual({ ok: false, retryAfterSeconds: 1 });
    expect(b.has('refused', 500)).toEqual({ ok: false, retryAfterSeconds: 1 });
    expect(b.has('refused', 1000)).toEqual({ ok: true });
    expect(b.size).toBe(1);
  });

  it('has() neither spends a token nor refills the bucket', () => {
    const b = new KeyedBuckets(1, 2);
    b.take('a', 0);
    b.take('a', 0);
    for (let i = 0; i < 5; i++) expect(b.has('a', 400).ok).toBe(false);
    // Refilled by time alone: 1 token at 1 s, as if has() had never been called.
    expect(b.take('a', 1000)).toEqual({ ok: true });
    expect(b.take('a', 1000).ok).toBe(false);
  });

  it('keeps at most maxKeys, dropping the least recently taken', () => {
    const b = new KeyedBuckets(1, 1, 3);
    for (const k of ['a', 'b', 'c']) b.take(k, 0);
    b.take('a', 0); // a is now the most recent
    b.take('d', 0); // b goes
    expect(b.size).toBe(3);
    expect(b.has('b', 0)).toEqual({ ok: true });
    expect(b.has('a', 0).ok).toBe(false);
  });
});
