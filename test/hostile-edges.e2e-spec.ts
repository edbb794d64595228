import { request } from 'node:http';
import { canonicalQuery, requestSignatureHeader, signatureHeader } from '@app/domain';
import { httpJson, poll, readTopic, signedPostbackUrl } from '@app/testing';
import { docExample } from '@app/testing/doc-example';
import { type RunningSystem, seedCatalog, startSystem } from './support';

const percentile = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)] ?? 0;
};

/** Runs `n` tasks with at most `width` at a time. */
async function pool<T>(n: number, width: number, task: (i: number) => Promise<T>): Promise<T[]> {
  const out: T[] = new Array<T>(n);
  let next = 0;
  await Promise.all(
    Array.from({ length: width }, async () => {
      while (next < n) {
        const i = next++;
        out[i] = await task(i);
      }
    }),
  );
  return out;
}

/**
 * Anonymous floods against the real gateway (hostile edges issue): one address flooding clicks
 * or refused postbacks is answered 429 with Retry-After before any work, while a partner's valid
 * signed postbacks keep being accepted; refusals are sampled, not one Kafka event each.
 */
describe('hostile edges: floods from one address', () => {
  let sys: RunningSystem;
  let ids: Awaited<ReturnType<typeof seedCatalog>>;
  const CLICK_RATE = 20;
  const REFUSAL_RATE = 5;
  const SAMPLES = 2;

  beforeAll(async () => {
    sys = await startSystem('hostile-edges', {
      env: {
        CLICK_RATE_PER_ADDRESS: String(CLICK_RATE),
        REFUSAL_RATE_PER_ADDRESS: String(REFUSAL_RATE),
        REFUSAL_SAMPLES_PER_SECOND: String(SAMPLES),
      },
    });
    ids = await seedCatalog(sys);
  });
  afterAll(async () => {
    await sys?.stop();
  });

  const signed = (tx: string, click = '01ARZ3NDEKTSV4RRFFQ69G5FAV') => {
    const s = signedPostbackUrl(sys.gatewayUrl, ids.partner, ids.secret, {
      click_id: click,
      transaction_id: tx,
      status: 'approved',
    });
    return httpJson(s.url, { headers: s.headers });
  };

  it('5,000 clicks from one address: 429 with Retry-After past its rate, while valid postbacks keep being accepted', async () => {
    const started = Date.now();
    let flooding = true;
    const latencies: number[] = [];
    const postbacks: number[] = [];
    const partner = (async () => {
      // The partner keeps sending while the flood lasts (and at least 100 postbacks).
      for (let i = 0; flooding || i < 100; i++) {
        const t0 = performance.now();
        postbacks.push((await signed(`flood-pb-${i}`)).status);
        latencies.push(performance.now() - t0);
      }
    })();
    const clicks = await pool(5000, 64, async () => {
      const r = await fetch(`${sys.gatewayUrl}/v1/clicks`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ offer_id: ids.offer, publisher_id: ids.publisher }),
      });
      const body = (await r.json()) as { click_id?: string; error?: { code: string } };
      return {
        status: r.status,
        retryAfter: r.headers.get('retry-after'),
        clickId: body.click_id,
        code: body.error?.code,
      };
    });
    flooding = false;
    await partner;
    const elapsedS = (Date.now() - started) / 1000;

    const created = clicks.filter((c) => c.status === 201);
    const limited = clicks.filter((c) => c.status === 429);
    expect(created.length + limited.length).toBe(5000);
    // A token bucket never lets more through than its burst plus its rate over the time that passed.
    expect(created.length).toBeLessThanOrEqual(2 * CLICK_RATE + Math.ceil(CLICK_RATE * elapsedS));
    expect(limited.length).toBeGreaterThan(0);
    expect(limited.every((c) => c.code === 'rate_limited' && Number(c.retryAfter) >= 1)).toBe(true);
    expect(postbacks.length).toBeGreaterThanOrEqual(100);
    expect(postbacks.every((s) => s === 200)).toBe(true);
    console.log(
      `click flood: 5000 clicks in ${elapsedS.toFixed(1)} s, ${created.length} recorded, ${limited.length} answered 429; ` +
        `${postbacks.length} signed postbacks all 200, p50 ${percentile(latencies, 50).toFixed(1)} ms, p99 ${percentile(latencies, 99).toFixed(1)} ms`,
    );
    // Every click answered 201 is stored: the limit refuses, it never loses.
    await poll('recorded clicks stored', async () => {
      const [r] = await sys.db.ds.query<{ n: number }[]>(
        `SELECT count(*)::int AS n FROM clicks WHERE click_id = ANY($1)`,
        [created.map((c) => c.clickId)],
      );
      return r!.n === created.length ? true : undefined;
    });
  });

  it('a large body is answered before it is read, unless it is a CSV upload from an operator', async () => {
    // Announce 60 MiB, send 1 KiB, and wait for the answer: it can only come if the gateway
    // answers without waiting for the rest.
    const early = (path: string, headers: Record<string, string>) =>
      new Promise<{ status: number; body: string }>((resolve, reject) => {
        const url = new URL(path, sys.gatewayUrl);
        const req = request(
          {
            host: url.hostname,
            port: url.port,
            path: url.pathname,
            method: 'POST',
            headers: { 'content-length': String(60 * 1024 * 1024), ...headers },
          },
          (res) => {
            let body = '';
            res.on('data', (c: Buffer) => (body += c.toString()));
            res.on('end', () => {
              resolve({ status: res.statusCode ?? 0, body });
              req.destroy();
            });
          },
        );
        req.on('error', (e) => (e.message.includes('socket hang up') ? undefined : reject(e)));
        req.write('x'.repeat(1024));
      });
    const csv = { 'content-type': 'text/csv' };
    const elsewhere = await early(`/v1/postbacks/${ids.partner}`, csv);
    expect(elsewhere.status).toBe(415);
    const anonymous = await early('/v1/admin/disputes', csv);
    expect(anonymous.status).toBe(401);
    expect(JSON.parse(anonymous.body).error.code).toBe('unauthorized');
    const json = await early(`/v1/postbacks/${ids.partner}`, { 'content-type': 'application/json' });
    expect(json.status).toBe(413);
    expect((await httpJson(`${sys.gatewayUrl}/health/ready`)).status).toBe(200);
  });

  it('an address whose postbacks keep being refused is answered 429 before any work; refusals are sampled', async () => {
    const started = Date.now();
    const answers = await pool(1000, 16, async (i) => {
      const s = signedPostbackUrl(
        sys.gatewayUrl,
        i % 2 ? ids.partner : 'nobody-at-all',
        'not-the-secret-0123456789',
        {
          click_id: 'x',
          transaction_id: `bad-${i}`,
          status: 'approved',
        },
      );
      const r = await httpJson(s.url, { headers: s.headers });
      return { status: r.status, retryAfter: r.headers.get('retry-after') };
    });
    const elapsedS = (Date.now() - started) / 1000;
    const refused = answers.filter((a) => a.status === 401 || a.status === 403);
    const limited = answers.filter((a) => a.status === 429);
    expect(refused.length + limited.length).toBe(1000);
    expect(refused.length).toBeLessThanOrEqual(5 * REFUSAL_RATE + Math.ceil(REFUSAL_RATE * elapsedS) + 16);
    expect(limited.every((a) => Number(a.retryAfter) >= 1)).toBe(true);
    // Sampled per partner (the known one, and `_unknown` for every other id), never one event each.
    const events = await readTopic(`${sys.prefix}postbacks.refused`, 10_000, 3000);
    expect(events.length).toBeGreaterThan(0);
    expect(events.length).toBeLessThanOrEqual(2 * (SAMPLES + Math.ceil(SAMPLES * (elapsedS + 1))) + 10);
    // The address's budget refills: the partner's next valid postback is accepted.
    await poll('a valid postback accepted again', async () =>
      (await signed('after-refusals')).status === 200 ? true : undefined,
    );
  });
});

/**
 * Signatures that cover the whole request, run with the partner guide's own worked examples
 * (docs/partners/postbacks.md), re-signed at the current time: what the guide tells partners
 * to send is accepted, an extended or replayed request changes nothing.
 */
describe('hostile edges: signatures cover the whole request', () => {
  let sys: RunningSystem;
  const guide = (name: string) => docExample('docs/partners/postbacks.md', name);
  const v2 = guide('signing-example-v2');
  const secret = v2.secret!;
  const partner = v2.path!.split('/').pop()!; // network-1, as in the guide
  const now = () => Math.floor(Date.now() / 1000);

  beforeAll(async () => {
    sys = await startSystem('signatures');
    const r = await sys.admin('POST', '/v1/admin/partners', {
      id: partner,
      name: 'Guide partner',
      auth: { mode: 'hmac', secret },
    });
    expect(r.status).toBe(201);
  });
  afterAll(async () => {
    await sys?.stop();
  });

  const post = (query: string, body: string, signature: string, ts: number) =>
    httpJson(`${sys.gatewayUrl}/v1/postbacks/${partner}${query ? `?${query}` : ''}`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'x-postback-timestamp': String(ts),
        'x-postback-signature': signature,
      },
      body,
    });

  it("the guide's GET example (its secret and parameters, signed now) is accepted", async () => {
    const ex = guide('signing-example');
    const params = ex.params!.split(', ').map((p): [string, string] => {
      const i = p.indexOf('=');
      return [p.slice(0, i), p.slice(i + 1)];
    });
    const ts = now();
    const q = canonicalQuery(params);
    const r = await httpJson(`${sys.gatewayUrl}/v1/postbacks/${partner}?${q}`, {
      headers: {
        'x-postback-timestamp': String(ts),
        'x-postback-signature': signatureHeader(ex.secret!, ts, q),
      },
    });
    expect(r.status).toBe(200);
  });

  it("the guide's v1 POST (body only, empty query) still works; with query parameters added it is refused", async () => {
    const ex = guide('signing-example-post');
    const ts = now();
    const sig = signatureHeader(ex.secret!, ts, ex.body!);
    expect((await post('', ex.body!, sig, ts)).status).toBe(200);
    // The captured request, extended as an attacker would: refused, nothing recorded from it.
    const extended = await post('event=purchase&payout=5000', ex.body!, sig, ts);
    expect(extended.status).toBe(401);
    expect(extended.body.error.message).toMatch(/v1 signature of a POST covers its body only/);
    // ts and sig in a POST's query are refused too.
    const inQuery = await post(`ts=${ts}&sig=${sig.slice(3)}`, ex.body!, '', ts);
    expect(inQuery.status).toBe(401);
  });

  it("the guide's v2 POST is accepted; extended or altered it is refused; replayed it pays nothing", async () => {
    const ts = now();
    const query = v2.query!.split('&').map((kv): [string, string] => kv.split('=') as [string, string]);
    const req = { method: 'POST', path: v2.path!, query, body: v2.body! };
    const sig = requestSignatureHeader(secret, ts, req);
    const first = await post(v2.query!, v2.body!, sig, ts);
    expect(first.status).toBe(200);
    for (const [query2, body2] of [
      [`${v2.query!}&payout=5000`, v2.body!],
      ['event=install', v2.body!],
      [v2.query!, v2.body!.replace('2.50', '50.00')],
    ] as const)
      expect((await post(query2, body2, sig, ts)).status).toBe(401);
    // The exact request again, twice: accepted as the same postback, counted as duplicates.
    for (let i = 0; i < 2; i++) expect((await post(v2.query!, v2.body!, sig, ts)).status).toBe(200);
    const tx = (JSON.parse(v2.body!) as { transaction_id: string }).transaction_id;
    // The v1 POST above, this one and its two replays: four outcomes, none paid (the guide's click
    // id is not one of ours: an unknown_click rejection), and the replays wrote nothing.
    const outcomes = await poll('all four decided', async () => {
      const o = await sys.db.ds.query<{ outcome: string }[]>(
        `SELECT outcome FROM postback_outcomes WHERE transaction_id = $1 AND outcome <> 'retry_scheduled' ORDER BY outcome`,
        [tx],
      );
      return o.length === 4 ? o.map((x) => x.outcome) : undefined;
    });
    expect(outcomes).toHaveLength(4);
    expect(outcomes.filter((o) => o === 'accepted')).toHaveLength(0);
    // One entry per conversion (the v1 body names no goal, the v2 query names one): no
    // conversion got a second entry from a replay.
    const [entries] = await sys.db.ds.query<{ n: number; conversions: number }[]>(
      `SELECT count(*)::int AS n, count(DISTINCT conversion_id)::int AS conversions FROM ledger_entries WHERE transaction_id = $1`,
      [tx],
    );
    expect(entries!.n).toBe(entries!.conversions);
    const [o] = await sys.db.ds.query<{ n: number }[]>(
      `SELECT count(*)::int AS n FROM postbacks WHERE extra ? 'payout' OR payout_micros = 5000000000`,
    );
    expect(o!.n).toBe(0);
  });
});
