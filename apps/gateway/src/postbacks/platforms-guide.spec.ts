import { PRESET_NAMES, PRESETS, postbackUrlTemplate, withPreset } from '@app/domain';
import { docExample, docText } from '@app/testing/doc-example';
import { parsePostback } from './parse-postback';

const DOC = 'docs/partners/platforms.md';

/** The query as the controller hands it over: repeated names become lists. */
function query(url: string): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  for (const [k, v] of new URL(url).searchParams) {
    const prev = out[k];
    out[k] = prev === undefined ? v : Array.isArray(prev) ? [...prev, v] : [prev, v];
  }
  return out;
}

const orNull = (v: string | undefined) => (v === '-' || v === undefined ? null : v);

describe('platform guide (docs/partners/platforms.md): every URL and worked example is what we compute', () => {
  describe.each(PRESET_NAMES.map((n) => [n, PRESETS[n]!] as const))('%s', (name, preset) => {
    const c = withPreset(preset, {});

    it('the URL to give is what GET /v1/admin/partners/:id/postback-url answers', () => {
      const t = postbackUrlTemplate({
        baseUrl: 'https://gateway.example',
        partnerId: 'PARTNER',
        preset,
        keyMap: c.keyMap,
        authModes: ['token'],
        tokenParam: c.tokenParam ?? 'token',
        ipAllowlist: [],
      });
      expect(docExample(DOC, `preset-${name}-url`).url).toBe(t.url);
    });

    it('each worked example becomes what the page says', () => {
      const blocks = [
        ...docText(DOC).matchAll(new RegExp(`<!-- (preset-${name}-example-\\d+):start -->`, 'g')),
      ];
      expect(blocks.length).toBeGreaterThan(0);
      const dict = { aliases: c.keyMap, statusMap: c.statusMap, ignore: c.format.ignoreParams };
      for (const [, block] of blocks) {
        const ex = docExample(DOC, block!);
        const r = parsePostback(query(ex.postback!), dict, c.format);
        if (!r.ok) throw new Error(`${block}: ${r.field}: ${r.message}`);
        expect(r.value).toMatchObject({
          click_id: ex.click_id,
          transaction_id: ex.transaction_id,
          status: ex.status,
          payout_micros: orNull(ex.payout_micros),
          currency: orNull(ex.currency),
        });
      }
    });
  });
});
