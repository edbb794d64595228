import { LabelBounder, methodLabel, NONE_LABEL, OTHER_LABEL, statusClass, UNKNOWN_LABEL } from '@app/metrics';

describe('LabelBounder', () => {
  it('keeps id-shaped values up to the bound, then folds every new one into _other', () => {
    const b = new LabelBounder(3);
    expect(['p1', 'p2', 'p3'].map((v) => b.bound(v))).toEqual(['p1', 'p2', 'p3']);
    expect(b.bound('p4')).toBe(OTHER_LABEL);
    // Values already admitted keep their own series.
    expect(b.bound('p2')).toBe('p2');
  });

  it('never admits values that are not id-shaped (click ids in URLs, free text, huge strings)', () => {
    const b = new LabelBounder(100);
    expect(b.bound('a b')).toBe(OTHER_LABEL);
    expect(b.bound('x'.repeat(65))).toBe(OTHER_LABEL);
    expect(b.bound('<script>')).toBe(OTHER_LABEL);
    expect(b.bound('')).toBe(NONE_LABEL);
    expect(b.bound(null)).toBe(NONE_LABEL);
  });

  it('stays bounded under a flood of distinct values', () => {
    const b = new LabelBounder(10);
    const labels = new Set<string>();
    for (let i = 0; i < 10_000; i++) labels.add(b.bound(`forged-${i}`));
    expect(labels.size).toBe(11);
  });

  it('labels ids the catalog does not know as _unknown without spending the bound', () => {
    const b = new LabelBounder(1);
    const known = (v: string) => v === 'partner-a';
    expect(b.boundKnown('made-up', known)).toBe(UNKNOWN_LABEL);
    expect(b.boundKnown('partner-a', known)).toBe('partner-a');
  });

  it('bounds methods and status classes', () => {
    expect(methodLabel('GET')).toBe('GET');
    expect(methodLabel('BREW')).toBe(OTHER_LABEL);
    expect(statusClass(204)).toBe('2xx');
    expect(statusClass(503)).toBe('5xx');
    expect(statusClass(999)).toBe(OTHER_LABEL);
  });
});
