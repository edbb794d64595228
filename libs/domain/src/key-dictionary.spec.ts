import fc from 'fast-check';
import {
  CANONICAL_FIELDS,
  CanonicalField,
  DEFAULT_ALIASES,
  DEFAULT_STATUS_MAP,
  KeyDictionary,
  mapStatus,
  normalizePostbackParams,
  NormalizeResult,
  RawParams,
} from './key-dictionary';

const utf16 = fc.string({ unit: fc.integer({ min: 0, max: 0xffff }).map((c) => String.fromCharCode(c)) });

function ok(r: NormalizeResult) {
  if (!r.ok) throw new Error(`expected ok, got ${r.code}: ${r.message}`);
  return r;
}
function err(r: NormalizeResult) {
  if (r.ok) throw new Error(`expected an error, got ${JSON.stringify(r.fields)}`);
  return r;
}

describe('DEFAULT_ALIASES', () => {
  const required: Record<CanonicalField, string[]> = {
    click_id: ['clickid', 'click_id', 'cid', 'subid', 'sub_id', 'aff_sub', 'aff_click_id', 'clickId'],
    transaction_id: [
      'txid',
      'tid',
      'transaction_id',
      'transactionId',
      'order_id',
      'conversion_id',
      'trans_id',
    ],
    payout: ['payout', 'revenue', 'amount', 'sum'],
    event: ['event', 'goal', 'goal_id', 'event_id', 'goal_name'],
    status: ['status', 'state', 'conversion_status'],
    offer_id: ['offer_id', 'offer', 'offerid'],
    currency: ['currency', 'cur', 'currency_code'],
    reason: ['reason', 'reject_reason', 'comment'],
  };

  it.each(CANONICAL_FIELDS.map((f) => [f]))('covers every required alias of %s', (field) => {
    expect(DEFAULT_ALIASES[field]).toEqual(expect.arrayContaining(required[field]));
  });

  it('never assigns one alias to two fields (case-insensitively)', () => {
    const owner = new Map<string, CanonicalField>();
    for (const field of CANONICAL_FIELDS) {
      for (const a of DEFAULT_ALIASES[field]) {
        const prev = owner.get(a.toLowerCase());
        expect(prev === undefined || prev === field).toBe(true);
        owner.set(a.toLowerCase(), field);
      }
    }
  });

  it.each(CANONICAL_FIELDS.flatMap((f) => DEFAULT_ALIASES[f].map((a) => [a, f] as const)))(
    'maps %s to %s',
    (alias, field) => {
      expect(ok(normalizePostbackParams({ [alias]: 'v' })).fields).toEqual({ [field]: 'v' });
    },
  );
});

describe('normalizePostbackParams', () => {
  it('normalises a typical partner postback', () => {
    const r = ok(
      normalizePostbackParams({
        clickid: '01ARZ3NDEKTSV4RRFFQ69G5FAV',
        txid: ' tx-1 ',
        state: 'approved',
        revenue: '1.25',
        cur: 'USD',
        goal: 'install',
        offer: '42',
        comment: 'ok',
        utm_source: 'abc',
      }),
    );
    expect(r.fields).toEqual({
      click_id: '01ARZ3NDEKTSV4RRFFQ69G5FAV',
      transaction_id: 'tx-1',
      status: 'approved',
      payout: '1.25',
      currency: 'USD',
      event: 'install',
      offer_id: '42',
      reason: 'ok',
    });
    expect(r.extra).toEqual({ utm_source: 'abc' });
  });

  it('returns nothing for an empty query', () => {
    expect(normalizePostbackParams({})).toEqual({ ok: true, fields: {}, extra: {} });
  });

  it('skips undefined and empty values (unfilled macros)', () => {
    const r = ok(
      normalizePostbackParams({ click_id: 'a', payout: '', reason: '   ', status: undefined, tid: [] }),
    );
    expect(r.fields).toEqual({ click_id: 'a' });
  });

  it('collapses identical repeats of a parameter', () => {
    expect(ok(normalizePostbackParams({ click_id: ['a', 'a', ' a '] })).fields).toEqual({ click_id: 'a' });
  });

  it('refuses a repeated parameter with differing values and names it', () => {
    const e = err(normalizePostbackParams({ clickid: ['a', 'b'] }));
    expect(e).toMatchObject({ code: 'duplicate_parameter', field: 'clickid' });
    expect(e.message).toContain('clickid');
  });

  it('accepts two aliases of one field when they agree', () => {
    expect(ok(normalizePostbackParams({ clickid: 'a', subid: 'a' })).fields).toEqual({ click_id: 'a' });
  });

  it('refuses two aliases of one field that disagree', () => {
    const e = err(normalizePostbackParams({ clickid: 'a', subid: 'b' }));
    expect(e).toMatchObject({ code: 'conflicting_alias', field: 'click_id' });
    expect(e.message).toContain('clickid');
    expect(e.message).toContain('subid');
  });

  it('treats case variants of one name as aliases (conflict when they disagree)', () => {
    expect(err(normalizePostbackParams({ clickid: 'a', CLICKID: 'b' })).code).toBe('conflicting_alias');
  });

  it('matches names case-insensitively when no exact match exists', () => {
    expect(ok(normalizePostbackParams({ ClickID: 'a', PAYOUT: '1', Status: 'approved' })).fields).toEqual({
      click_id: 'a',
      payout: '1',
      status: 'approved',
    });
  });

  it('prefers an exact match over a case-insensitive one', () => {
    // Partner says "CID" is their transaction id; lowercase "cid" is still the default click id alias.
    const dict: KeyDictionary = { aliases: { transaction_id: ['CID'] } };
    expect(ok(normalizePostbackParams({ cid: 'click', CID: 'tx' }, dict)).fields).toEqual({
      click_id: 'click',
      transaction_id: 'tx',
    });
  });

  it('tries partner aliases before the defaults', () => {
    // "goal" is a default event alias; this partner uses it for status.
    const dict: KeyDictionary = { aliases: { status: ['goal'], click_id: ['s2'] } };
    expect(ok(normalizePostbackParams({ goal: 'approved', s2: 'c1' }, dict)).fields).toEqual({
      status: 'approved',
      click_id: 'c1',
    });
    // Defaults for other names keep working.
    expect(ok(normalizePostbackParams({ event: 'install', clickid: 'x' }, dict)).fields).toEqual({
      event: 'install',
      click_id: 'x',
    });
  });

  it('ignores junk in a partner dictionary instead of throwing', () => {
    const dict = { aliases: { click_id: [42, '', null, 'zz'] } } as unknown as KeyDictionary;
    expect(ok(normalizePostbackParams({ zz: 'a' }, dict)).fields).toEqual({ click_id: 'a' });
    const dict2 = { aliases: { click_id: 'zz' } } as unknown as KeyDictionary;
    expect(ok(normalizePostbackParams({ zz: 'a' }, dict2)).extra).toEqual({ zz: 'a' });
  });

  it('trims values', () => {
    expect(ok(normalizePostbackParams({ payout: ' \t1.25\n ' })).fields.payout).toBe('1.25');
  });

  it('accepts a value of exactly 512 characters', () => {
    expect(ok(normalizePostbackParams({ reason: 'x'.repeat(512) })).fields.reason).toHaveLength(512);
  });

  it('refuses a value longer than 512 characters and names the field', () => {
    const e = err(normalizePostbackParams({ comment: 'x'.repeat(513) }));
    expect(e).toMatchObject({ code: 'invalid_value', field: 'reason' });
    expect(e.message).toContain('512');
  });

  it.each(['\u0000', '\u0001', '\u0008', '\u001b', '\u001f', '\u007f', '\n', '\r', '\t'])(
    'refuses an inner control character %j',
    (c) => {
      const e = err(normalizePostbackParams({ txid: `a${c}b` }));
      expect(e).toMatchObject({ code: 'invalid_value', field: 'transaction_id' });
    },
  );

  it('refuses NUL at the edge (trim does not remove it)', () => {
    expect(err(normalizePostbackParams({ txid: 'a\u0000' })).code).toBe('invalid_value');
  });

  it('accepts non-ASCII printable text', () => {
    expect(ok(normalizePostbackParams({ reason: 'Отклонено — дубль 🙂' })).fields.reason).toBe(
      'Отклонено — дубль 🙂',
    );
  });

  it('does not echo values in error messages', () => {
    const secretish = 'VALUE-THAT-SHOULD-NOT-LEAK';
    for (const raw of [
      { clickid: [secretish, 'b'] },
      { clickid: secretish, subid: 'b' },
      { clickid: `${secretish}\u0001` },
    ]) {
      expect(err(normalizePostbackParams(raw)).message).not.toContain(secretish);
    }
  });

  describe('extra', () => {
    it('keeps unknown parameters uninterpreted, trimmed', () => {
      expect(ok(normalizePostbackParams({ sub2: ' x ', aff_id: '7' })).extra).toEqual({
        sub2: 'x',
        aff_id: '7',
      });
    });

    it('caps extra at 50 keys', () => {
      const raw: RawParams = {};
      for (let i = 0; i < 80; i++) raw[`p${i}`] = String(i);
      const extra = ok(normalizePostbackParams(raw)).extra;
      expect(Object.keys(extra)).toHaveLength(50);
      expect(extra.p0).toBe('0');
    });

    it('truncates extra values to 256 characters', () => {
      expect(ok(normalizePostbackParams({ note: 'y'.repeat(1000) })).extra.note).toHaveLength(256);
    });

    it('neutralises control characters in extra instead of failing', () => {
      expect(ok(normalizePostbackParams({ note: 'a\u0000b' })).extra.note).toBe('a\uFFFDb');
    });

    it('keeps the first value of a repeated unknown parameter', () => {
      expect(ok(normalizePostbackParams({ sub3: ['a', 'b'] })).extra).toEqual({ sub3: 'a' });
    });

    it('drops unknown keys that are empty, too long or carry control characters', () => {
      const r = ok(normalizePostbackParams({ '': 'a', ['k'.repeat(129)]: 'b', 'k\u0001': 'c', ok: 'd' }));
      expect(r.extra).toEqual({ ok: 'd' });
    });

    it('stores "__proto__" as plain data', () => {
      const raw = JSON.parse('{"__proto__":"x","click_id":"c"}') as RawParams;
      const r = ok(normalizePostbackParams(raw));
      expect(Object.getPrototypeOf(r.extra)).toBe(Object.prototype);
      expect(Object.prototype.hasOwnProperty.call(r.extra, '__proto__')).toBe(true);
      expect(r.fields).toEqual({ click_id: 'c' });
    });
  });

  it('never throws on arbitrary input', () => {
    const names = fc.oneof(
      utf16,
      fc.constantFrom(
        ...CANONICAL_FIELDS.flatMap((f) => DEFAULT_ALIASES[f]),
        '__proto__',
        'constructor',
        'toString',
      ),
    );
    const values = fc.oneof(utf16, fc.array(utf16, { maxLength: 3 }), fc.constant(undefined));
    fc.assert(
      fc.property(fc.dictionary(names, values, { maxKeys: 12 }), (raw) => {
        const r = normalizePostbackParams(raw);
        if (!r.ok) return typeof r.message === 'string' && r.message.length > 0;
        return (
          Object.keys(r.fields).every((k) => (CANONICAL_FIELDS as readonly string[]).includes(k)) &&
          Object.values(r.fields).every(
            (v) => v !== undefined && v.length > 0 && v.length <= 512 && v === v.trim(),
          ) &&
          Object.keys(r.extra).length <= 50 &&
          Object.values(r.extra).every((v) => v.length <= 256)
        );
      }),
    );
  });

  it('is insensitive to the order in which agreeing aliases arrive', () => {
    fc.assert(
      fc.property(
        fc.subarray([...DEFAULT_ALIASES.click_id], { minLength: 1 }),
        fc.stringMatching(/^[A-Z0-9]{1,26}$/),
        (names, v) => {
          const raw = Object.fromEntries(names.map((n) => [n, v]));
          const reversed = Object.fromEntries([...names].reverse().map((n) => [n, v]));
          const a = ok(normalizePostbackParams(raw));
          const b = ok(normalizePostbackParams(reversed));
          return a.fields.click_id === v && b.fields.click_id === v;
        },
      ),
    );
  });
});

describe('mapStatus', () => {
  it.each([
    ['1', 'approved'],
    ['2', 'pending'],
    ['3', 'rejected'],
    ['5', 'reversed'],
    ['approve', 'approved'],
    ['approved', 'approved'],
    ['APPROVED', 'approved'],
    [' Confirmed ', 'approved'],
    ['success', 'approved'],
    ['hold', 'pending'],
    ['pending', 'pending'],
    ['declined', 'rejected'],
    ['rejected', 'rejected'],
    ['reject', 'rejected'],
    ['reversed', 'reversed'],
    ['chargeback', 'reversed'],
    ['refund', 'reversed'],
  ])('maps %j to %s by default', (v, s) => {
    expect(mapStatus(v)).toBe(s);
  });

  it.each(['', '  ', '4', '0', 'unknown', 'toString', 'constructor', '__proto__', 'hasOwnProperty'])(
    'returns undefined for %j',
    (v) => {
      expect(mapStatus(v)).toBeUndefined();
    },
  );

  it('lets partner entries win over defaults, case-insensitively', () => {
    const dict: KeyDictionary = { statusMap: { '1': 'pending', PAID: 'approved', '0': 'rejected' } };
    expect(mapStatus('1', dict)).toBe('pending');
    expect(mapStatus('paid', dict)).toBe('approved');
    expect(mapStatus('0', dict)).toBe('rejected');
    expect(mapStatus('3', dict)).toBe('rejected'); // default still applies where the partner is silent
  });

  it('does not fall back to the default when a partner entry holds an unusable value', () => {
    const dict = { statusMap: { '1': 'paid' } } as unknown as KeyDictionary;
    expect(mapStatus('1', dict)).toBeUndefined();
  });

  it('only ever returns a ledger status or undefined', () => {
    const statuses = new Set(Object.values(DEFAULT_STATUS_MAP));
    fc.assert(
      fc.property(utf16, (v) => {
        const s = mapStatus(v);
        return s === undefined || statuses.has(s);
      }),
    );
  });
});
