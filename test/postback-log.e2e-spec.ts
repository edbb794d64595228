import { httpJson, poll, signedPostbackUrl } from '@app/testing';
import { type RunningSystem, seedCatalog, startSystem } from './support';

const TABLES = [
  'postbacks',
  'postback_outcomes',
  'ledger_entries',
  'conversions',
  'refused_postbacks',
] as const;

/**
 * The postback log and the dry run (issue 15, point 4), through the real gateway, processor,
 * Kafka and Postgres: what a partner sent, refused ones included, each with the request id its
 * answer carried; and a dry run that shows the decision while recording nothing.
 */
describe('postback log and dry run', () => {
  let sys: RunningSystem;
  let ids: Awaited<ReturnType<typeof seedCatalog>>;

  beforeAll(async () => {
    sys = await startSystem('pblog');
    ids = await seedCatalog(sys, 'log');
  });
  afterAll(async () => {
    await sys?.stop();
  });

  const storedClick = async (): Promise<string> => {
    const r = await httpJson(`${sys.gatewayUrl}/v1/clicks`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ offer_id: ids.offer, publisher_id: ids.publisher }),
    });
    expect(r.status).toBe(201);
    const id = r.body.click_id as string;
    await poll('click stored', async () =>
      (await sys.db.ds.query(`SELECT 1 FROM clicks WHERE click_id = $1`, [id])).length ? true : undefined,
    );
    return id;
  };
  const log = (query: string) => sys.admin('GET', `/v1/admin/partners/${ids.partner}/postbacks?${query}`);
  const counts = async () => {
    const out: Record<string, number> = {};
    for (const t of TABLES)
      out[t] = ((await sys.db.ds.query(`SELECT count(*)::int AS n FROM ${t}`)) as { n: number }[])[0]!.n;
    return out;
  };

  it('lists an accepted postback with its outcome, ledger entry and the request id of its answer', async () => {
    const click = await storedClick();
    const s = signedPostbackUrl(sys.gatewayUrl, ids.partner, ids.secret, {
      click_id: click,
      transaction_id: 'tx-accepted-1',
      status: 'approved',
    });
    const r = await httpJson(s.url, { headers: { ...s.headers, 'x-request-id': 'support-case.42_a-1' } });
    expect(r.status).toBe(200);
    expect(r.headers.get('x-request-id')).toBe('support-case.42_a-1');
    const item = await poll('accepted postback decided in the log', async () => {
      const l = await log('transaction_id=tx-accepted-1');
      const it = (l.body.items as Record<string, unknown>[])[0];
      return it?.outcome ? it : undefined;
    });
    const [entry] = (await sys.db.ds.query(`SELECT entry_id FROM ledger_entries WHERE transaction_id = $1`, [
      'tx-accepted-1',
    ])) as { entry_id: string }[];
    expect(item).toMatchObject({
      kind: 'accepted',
      event_id: r.body.id,
      request_id: 'support-case.42_a-1',
      transaction_id: 'tx-accepted-1',
      click_id: click,
      status: 'approved',
      outcome: 'accepted',
      ledger_entry_id: entry!.entry_id,
    });
  });

  it('finds a refused postback (bad signature) by its transaction id, with the request id of its answer', async () => {
    const s = signedPostbackUrl(sys.gatewayUrl, ids.partner, 'not-the-secret-0123456789abcdef-0123', {
      click_id: await storedClick(),
      transaction_id: 'tx-refused-1',
      status: 'approved',
    });
    // A malformed incoming id is not echoed: the gateway mints its own.
    const r = await httpJson(s.url, { headers: { ...s.headers, 'x-request-id': 'has spaces and is bad' } });
    expect(r.status).toBe(401);
    const requestId = r.headers.get('x-request-id');
    expect(requestId).toMatch(/^[0-9A-HJKMNP-TV-Z]{26}$/);
    expect(r.body.error.request_id).toBe(requestId);
    const l = await poll('refused postback in the log', async () => {
      const res = await log('transaction_id=tx-refused-1');
      return (res.body.items as unknown[]).length ? res.body : undefined;
    });
    expect(l.items).toEqual([
      expect.objectContaining({
        kind: 'refused',
        request_id: requestId,
        transaction_id: 'tx-refused-1',
        http_status: 401,
        code: r.body.error.code,
        outcome: null,
        ledger_entry_id: null,
      }),
    ]);
  });

  it('pages the log with a cursor, newest first', async () => {
    const first = await log('limit=1');
    expect(first.status).toBe(200);
    expect(first.body.items).toHaveLength(1);
    expect(first.body.next_cursor).toEqual(expect.any(String));
    const second = await log(`limit=1&cursor=${encodeURIComponent(first.body.next_cursor as string)}`);
    expect(second.body.items).toHaveLength(1);
    expect(second.body.items[0].received_at <= first.body.items[0].received_at).toBe(true);
    expect(second.body.items[0].event_id).not.toBe(first.body.items[0].event_id);
  });

  it('a dry run shows the normalisation, the auth result and the decision, and leaves every table unchanged', async () => {
    const click = await storedClick();
    // Everything earlier is stored and decided: nothing else moves the counts.
    await poll('earlier postbacks settled', async () => {
      const l = await log('limit=10');
      const items = l.body.items as { kind: string; outcome: string | null }[];
      return items.length >= 2 && items.every((i) => i.kind === 'refused' || i.outcome) ? true : undefined;
    });
    const before = await counts();
    const s = signedPostbackUrl(sys.gatewayUrl, ids.partner, ids.secret, {
      click_id: click,
      transaction_id: 'tx-dry-1',
      status: 'approved',
    });
    const dry = await sys.admin('POST', `/v1/admin/partners/${ids.partner}/postbacks/test`, {
      url: s.url,
      headers: s.headers,
    });
    expect(dry.status).toBe(200);
    expect(dry.body).toMatchObject({
      recorded: false,
      auth: { ok: true, passed: ['hmac'] },
      normalized: { ok: true, postback: { click_id: click, transaction_id: 'tx-dry-1', status: 'approved' } },
      decision: { click: 'found', result: { kind: 'entry', outcome: 'accepted' } },
    });
    const bad = await sys.admin('POST', `/v1/admin/partners/${ids.partner}/postbacks/test`, {
      url: s.url,
      headers: { ...s.headers, 'x-postback-signature': 'v1=00' },
    });
    expect(bad.status).toBe(200);
    expect(bad.body.auth).toMatchObject({ ok: false, failed: { check: 'hmac', status: 401 } });
    // Nothing recorded: no event reached the processor, no row changed.
    expect(await counts()).toEqual(before);
    expect((await log('transaction_id=tx-dry-1')).body.items).toEqual([]);
  });
});
