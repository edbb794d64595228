import { type KeyDictionary, mapStatus, normalizePostbackParams, type RawParams } from '../key-dictionary';
import { parseMicros } from '../money';
import { applyPartnerFormat, checkPartnerFormat } from '../partner-format';
import {
  type PartnerPreset,
  PRESET_NAMES,
  PRESETS,
  presetByName,
  postbackUrlTemplate,
  withPreset,
} from './index';

/** The query of a URL as the gateway receives it: repeated names become lists. */
function queryOf(url: string): RawParams {
  const out: RawParams = {};
  for (const [k, v] of new URL(url).searchParams) {
    const prev = out[k];
    out[k] = prev === undefined ? v : Array.isArray(prev) ? [...prev, v] : [prev, v];
  }
  return out;
}

const dictOf = (p: PartnerPreset): KeyDictionary => {
  const c = withPreset(p, {});
  return { aliases: c.keyMap, statusMap: c.statusMap, ignore: c.format.ignoreParams };
};

/** What the gateway reads from a postback: dictionary, format, status codes, money. */
function canonical(p: PartnerPreset, url: string) {
  const c = withPreset(p, {});
  const dict = dictOf(p);
  const raw = queryOf(url);
  const n = normalizePostbackParams(raw, dict);
  if (!n.ok) throw new Error(`${n.field}: ${n.message}`);
  const f = applyPartnerFormat(n.fields, raw, c.format);
  if (!f.ok) throw new Error(`${f.field}: ${f.message}`);
  const payout = f.fields.payout === undefined ? null : parseMicros(f.fields.payout);
  if (payout && !payout.ok) throw new Error(`payout: ${payout.reason}`);
  return {
    click_id: f.fields.click_id,
    transaction_id: f.fields.transaction_id,
    status: f.status ?? (f.fields.status === undefined ? undefined : mapStatus(f.fields.status, dict)),
    payout_micros: payout ? payout.micros.toString() : null,
    currency: f.fields.currency?.toUpperCase() ?? null,
    event: f.fields.event ?? null,
  };
}

const REQUIRED = [
  'everflow',
  'tune',
  'cake',
  'affise',
  'trackier',
  'scaleo',
  'keitaro',
  'binom',
  'voluum',
  'redtrack',
  'bemob',
  'peerclick',
  'prosper202',
  'orbitra',
  'indoleads',
];

describe('platform presets', () => {
  it('cover every platform the issue names', () => {
    expect([...PRESET_NAMES].sort()).toEqual([...REQUIRED].sort());
    expect(presetByName('nope')).toBeUndefined();
    expect(presetByName('__proto__')).toBeUndefined();
  });

  describe.each(PRESET_NAMES.map((n) => [n, PRESETS[n]!] as const))('%s', (_name, preset) => {
    it('cites its documentation and is a valid configuration', () => {
      expect(preset.docs.length).toBeGreaterThan(0);
      for (const d of preset.docs) expect(d).toMatch(/^https?:\/\//);
      expect(checkPartnerFormat(preset.format)).toBeUndefined();
      for (const s of Object.values(preset.statusMap))
        expect(['pending', 'approved', 'rejected', 'reversed']).toContain(s);
      expect(preset.examples.length).toBeGreaterThan(0);
    });

    it.each(preset.examples.map((e) => [e.url, e] as const))(
      'normalises the documentation example %s',
      (url, example) => {
        const got = canonical(preset, url);
        const { event, ...rest } = example.expect;
        expect(got).toMatchObject(rest);
        if (event !== undefined) expect(got.event).toBe(event);
      },
    );

    it('reads back every parameter of the URL it hands out as the field it stands for', () => {
      const dict = dictOf(preset);
      for (const t of preset.template) {
        const n = normalizePostbackParams({ [t.param]: 'x1' }, dict);
        expect(n.ok && n.fields[t.field]).toBe('x1');
      }
    });
  });

  it('everflow: a decimal comma, and no status or order id, is one approval per click', () => {
    const everflow = presetByName('everflow')!;
    expect(canonical(everflow, 'https://t.example/?transaction_id=abc&amount=0,5&offer_id=77')).toMatchObject(
      { click_id: 'abc', transaction_id: 'click:abc', status: 'approved', payout_micros: '500000' },
    );
  });

  it("tune: TUNE's offer_id is ignored, not read as ours", () => {
    const r = normalizePostbackParams({ transaction_id: 'c', offer_id: '26' }, dictOf(presetByName('tune')!));
    expect(r).toMatchObject({ ok: true, fields: { click_id: 'c' }, extra: { offer_id: '26' } });
  });

  it('affise: 5 is a hold (pending), not a reversal', () => {
    expect(canonical(presetByName('affise')!, 'https://a.example/p?clickid=c&status=5').status).toBe(
      'pending',
    );
  });
});

describe('withPreset', () => {
  const everflow = presetByName('everflow')!;

  it('lets explicit key_map, status_map, format and token_param override the preset', () => {
    const c = withPreset(everflow, {
      keyMap: { click_id: ['ef_click'] },
      statusMap: { x: 'rejected' },
      format: { decimalComma: false },
      tokenParam: 'key',
    });
    expect(c.keyMap.click_id).toEqual(['ef_click']);
    expect(c.keyMap.transaction_id).toEqual(['order_id']);
    expect(c.statusMap).toEqual({ x: 'rejected' });
    expect(c.format).toMatchObject({ decimalComma: false, defaultStatus: 'approved' });
    expect(c.tokenParam).toBe('key');
  });

  it('never ignores a name the partner claims', () => {
    const c = withPreset(everflow, { keyMap: { offer_id: ['offer_id'] } });
    expect(c.format.ignoreParams).toBeUndefined();
  });

  it('without a preset is just the explicit configuration', () => {
    expect(withPreset(undefined, { keyMap: { click_id: ['sid'] } })).toEqual({
      keyMap: { click_id: ['sid'] },
      statusMap: {},
      format: {},
    });
  });
});

describe('postbackUrlTemplate', () => {
  const base = {
    baseUrl: 'https://pb.example.com/',
    partnerId: 'p1',
    keyMap: {},
    tokenParam: 'token',
    ipAllowlist: [] as string[],
  };

  it('speaks the platform macro syntax, with the token parameter to fill in', () => {
    const everflow = presetByName('everflow')!;
    const t = postbackUrlTemplate({
      ...base,
      preset: everflow,
      keyMap: withPreset(everflow, {}).keyMap,
      authModes: ['token'],
      tokenParam: 'verification_token',
    });
    expect(t.url).toBe(
      'https://pb.example.com/v1/postbacks/p1?transaction_id={sub1}&order_id={transaction_id}&amount={payout_amount}&verification_token=REPLACE_TOKEN',
    );
    expect(t.auth).toMatchObject({ modes: ['token'], token_param: 'verification_token' });
    expect(t.macro_syntax).toBe('{macro}');
  });

  it('cake: hash macros', () => {
    const t = postbackUrlTemplate({
      ...base,
      preset: presetByName('cake')!,
      authModes: ['ip'],
      ipAllowlist: ['203.0.113.0/24'],
    });
    expect(t.url).toBe('https://pb.example.com/v1/postbacks/p1?r=#s2#&t=#leadid#&p=#price#');
    expect(t.auth.instructions.join(' ')).toContain('203.0.113.0/24');
  });

  it("uses the partner's own name where its key_map renamed a preset parameter", () => {
    const keitaro = presetByName('keitaro')!;
    const t = postbackUrlTemplate({
      ...base,
      preset: keitaro,
      keyMap: withPreset(keitaro, { keyMap: { click_id: ['sub_id'] } }).keyMap,
      authModes: ['ip'],
    });
    expect(t.url).toContain('?sub_id={external_id}&status={status}');
  });

  it('without a preset: canonical names and REPLACE placeholders; HMAC says how to sign', () => {
    const t = postbackUrlTemplate({ ...base, authModes: ['hmac'] });
    expect(t.url).toBe(
      'https://pb.example.com/v1/postbacks/p1?click_id=REPLACE_CLICK_ID&transaction_id=REPLACE_TRANSACTION_ID&status=REPLACE_STATUS&payout=REPLACE_PAYOUT&currency=REPLACE_CURRENCY',
    );
    expect(t.auth.instructions[0]).toContain('HMAC-SHA256');
    expect(t.preset).toBeNull();
  });
});
