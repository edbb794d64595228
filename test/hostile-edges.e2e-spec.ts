import { httpJson, poll, readTopic, signedPostbackUrl } from '@app/testing';
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
