import { PRESET_NAMES, PRESETS, withPreset } from '@app/domain';
import { parsePostback } from './parse-postback';

/** The query as the controller hands it over: repeated names become lists. */
function query(url: string): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  for (const [k, v] of new URL(url).searchParams) {
    const prev = out[k];
    out[k] = prev === undefined ? v : Array.isArray(prev) ? [...prev, v] : [prev, v];
  }
  return out;
}

describe('parsePostback with a platform preset (as partner-auth compiles it)', () => {
  describe.each(PRESET_NAMES.map((n) => [n, PRESETS[n]!] as const))('%s', (_name, preset) => {
    const c = withPreset(preset, {});
    const dict = { aliases: c.keyMap, statusMap: c.statusMap, ignore: c.format.ignoreParams };
    it.each(preset.examples.map((e) => [e.url, e.expect] as const))('accepts %s', (url, expected) => {
      const r = parsePostback(query(url), dict, c.format);
      if (!r.ok) throw new Error(`${r.field}: ${r.message}`);
      expect(r.value).toMatchObject({ ...expected, offer_id: null });
    });
  });

  it('without a format, a missing status or transaction id is still refused', () => {
    expect(parsePostback({ click_id: 'c', transaction_id: 't' })).toMatchObject({
      ok: false,
      field: 'status',
    });
    expect(parsePostback({ click_id: 'c', status: 'approved' })).toMatchObject({
      ok: false,
      field: 'transaction_id',
    });
    expect(
      parsePostback({ click_id: 'c', transaction_id: 't', status: 'approved', payout: '1,5' }),
    ).toMatchObject({
      ok: false,
      field: 'payout',
    });
  });

  it('reversal markers and a decimal comma, on a custom partner', () => {
    const format = {
      decimalComma: true,
      reversal: { negativeAmount: true, idPrefix: 'r-', flagParam: 'is_chargeback' },
    };
    const base = { click_id: 'c', transaction_id: 't1', status: 'approved' };
    expect(parsePostback({ ...base, payout: '-2,50' }, undefined, format)).toMatchObject({
      ok: true,
      value: { status: 'reversed', transaction_id: 't1', payout_micros: '2500000' },
    });
    expect(parsePostback({ ...base, transaction_id: 'r-t1' }, undefined, format)).toMatchObject({
      value: { status: 'reversed', transaction_id: 't1' },
    });
    expect(parsePostback({ ...base, is_chargeback: '1' }, undefined, format)).toMatchObject({
      value: { status: 'reversed', extra: { is_chargeback: '1' } },
    });
    expect(parsePostback({ ...base, currency: 'eUr' }, undefined, format)).toMatchObject({
      value: { currency: 'EUR', status: 'approved' },
    });
  });
});
