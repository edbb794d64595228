import { clip, wellFormed, wellFormedDeep } from './text';

describe('wellFormed', () => {
  it('gives back clean text as it is', () => {
    for (const s of ['', 'abc', 'é😀 ok', '\uFFFD']) expect(wellFormed(s)).toBe(s);
  });

  it('mends lone surrogates and NUL into U+FFFD, and keeps pairs', () => {
    expect(wellFormed('a\uD800b')).toBe('a\uFFFDb');
    expect(wellFormed('\uDC00')).toBe('\uFFFD');
    expect(wellFormed('😀'.slice(0, 1))).toBe('\uFFFD');
    expect(wellFormed('x\u0000y\u0000')).toBe('x\uFFFDy\uFFFD');
    expect(wellFormed('😀\u0000\uD83D')).toBe('😀\uFFFD\uFFFD');
  });
});

describe('wellFormedDeep', () => {
  it('returns the very value when nothing in it needs mending', () => {
    const v = { a: 'x', n: 1, b: null, t: true, list: ['é', { k: '😀' }], nested: { deep: 'ok' } };
    expect(wellFormedDeep(v)).toBe(v);
  });

  it('mends every string, keys too, at any depth, and leaves the input as it was', () => {
    const v = {
      ok: 'fine',
      bad: 'a\uD800',
      ['k\u0000']: 'v',
      list: ['x', 'y\uDC00', { inner: '\u0000' }],
      n: 3,
      none: null,
    };
    const before = JSON.stringify(v);
    expect(wellFormedDeep(v)).toEqual({
      ok: 'fine',
      bad: 'a\uFFFD',
      ['k\uFFFD']: 'v',
      list: ['x', 'y\uFFFD', { inner: '\uFFFD' }],
      n: 3,
      none: null,
    });
    expect(JSON.stringify(v)).toBe(before);
  });

  it('mends a bad string deep in an array of clean ones', () => {
    const v = ['a', 'b', ['c', ['d\uD800']]];
    expect(wellFormedDeep(v)).toEqual(['a', 'b', ['c', ['d\uFFFD']]]);
  });

  it('leaves class instances and other values alone', () => {
    const d = new Date(0);
    expect(wellFormedDeep(d)).toBe(d);
    expect(wellFormedDeep(42)).toBe(42);
    expect(wellFormedDeep('\uD800')).toBe('\uFFFD');
  });
});

describe('clip', () => {
  it('cuts by code unit, never inside a surrogate pair', () => {
    expect(clip('abcdef', 3)).toBe('abc');
    expect(clip('ab😀', 3)).toBe('ab');
    expect(clip('ab😀', 4)).toBe('ab😀');
    expect(clip('a\uD800bc', 2)).toBe('a\uFFFD');
  });
});
