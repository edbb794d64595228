import { TransactionSizer } from './transaction-sizer';

describe('TransactionSizer', () => {
  it('starts at the most, and stays there while transactions are quick', () => {
    const s = new TransactionSizer(500, 300);
    expect(s.next()).toBe(500);
    s.took(500, 100);
    expect(s.next()).toBe(500);
  });

  it('shrinks toward what fits the target when transactions are slow, and grows back', () => {
    const s = new TransactionSizer(500, 300);
    // 500 in 1,000 ms: 150 would take 300 ms. Halfway each time: 325, 238, 194...
    for (let i = 0; i < 12; i++) s.took(s.next(), s.next() * 2);
    expect(s.next()).toBeGreaterThanOrEqual(150);
    expect(s.next()).toBeLessThanOrEqual(152);
    // Quick again: back up to the most.
    for (let i = 0; i < 12; i++) s.took(s.next(), s.next() / 10);
    expect(s.next()).toBe(500);
  });

  it('never goes under its least (or over its most), nor moves on nonsense', () => {
    const s = new TransactionSizer(500, 300, 50);
    for (let i = 0; i < 20; i++) s.took(s.next(), 60_000);
    expect(s.next()).toBe(50);
    s.took(0, 10);
    s.took(10, Number.NaN);
    s.took(10, -1);
    expect(s.next()).toBe(50);
    expect(new TransactionSizer(20, 300, 50).next()).toBe(20);
  });

  it('with a target of 0, always the most', () => {
    const s = new TransactionSizer(500, 0);
    s.took(500, 10_000);
    expect(s.next()).toBe(500);
  });

  it('a short tail of a batch (under the least) leaves the size as it is', () => {
    const s = new TransactionSizer(500, 300, 50);
    s.took(500, 1000);
    const shrunk = s.next();
    s.took(7, 1);
    s.took(49, 5000);
    expect(s.next()).toBe(shrunk);
    s.took(50, 10);
    expect(s.next()).toBe(500);
  });
});
