import { medianPair, verdict } from './targets';

describe('medianPair', () => {
  const pairs = [
    { ref: 100, ours: 80 },
    { ref: 100, ours: 60 },
    { ref: 50, ours: 45 },
  ];
  const r = (p: { ref: number; ours: number }) => p.ours / p.ref;

  it('takes the pair with the median ratio, and reports every ratio in run order', () => {
    expect(medianPair(pairs, r, { min: 0.85 })).toEqual({
      pair: pairs[0],
      ratio: 0.8,
      ratios: [0.8, 0.6, 0.9],
    });
  });

  it('with an even count, takes the middle that favours us less', () => {
    const four = [...pairs, { ref: 100, ours: 70 }];
    expect(medianPair(four, r, { min: 0.85 })?.ratio).toBe(0.7);
    expect(medianPair(four, r, { max: 1 })?.ratio).toBe(0.8);
  });

  it('leaves pairs without a ratio out of the median (listing them as NaN), and has no answer when none has one', () => {
    const one = medianPair([{ ref: 0, ours: 1 }, pairs[1]!], (p) => (p.ref > 0 ? r(p) : NaN), { min: 1 });
    expect(one?.ratio).toBe(0.6);
    // Still listed in run order, without a ratio.
    expect(one?.ratios).toEqual([NaN, 0.6]);
    expect(medianPair([{ ref: 0, ours: 1 }], () => NaN, { min: 1 })).toBeUndefined();
  });

  it('is judged like any target', () => {
    const m = medianPair(pairs, r, { min: 0.85 })!;
    expect(verdict({ name: 'x', ours: '', reference: '', ratio: m.ratio, bound: { min: 0.85 } })).toBe(
      'missed',
    );
    expect(verdict({ name: 'x', ours: '', reference: '', ratio: m.ratio, bound: { min: 0.8 } })).toBe('met');
  });
});
