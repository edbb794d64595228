import { createHash } from 'node:crypto';
import {
  type AppProcess,
  adminClient,
  clickEvent,
  freePort,
  httpJson,
  poll,
  postbackEvent,
  produceEvents,
  seedOffer,
  signedPostbackUrl,
  spawnApp,
  TEST_BROKERS,
  waitReady,
} from '@app/testing';
import {
  ADMIN_TOKEN,
  ledgerCli,
  operatorToken,
  type RunningSystem,
  seedCatalog,
  startSystem,
} from './support';

const METRICS_TOKEN = 'metrics-scrape-token-0123456789';

/**
 * Operators end to end: named tokens with roles made by the CLI and enforced on the admin API,
 * the operator on ledger entries and admin changes taken from the token, the audit log with
 * before and after, /metrics and /docs behind a token, and partner secrets sealed at rest that
 * keep verifying signatures across a key rotation.
 */
describe('operators', () => {
  let sys: RunningSystem;
  let ids: Awaited<ReturnType<typeof seedCatalog>>;
  const tokens: Record<string, string> = {};
  const as = (name: string) => adminClient(sys.gatewayUrl, tokens[name]!);

  beforeAll(async () => {
    sys = await startSystem('ops', { env: { METRICS_TOKEN } });
    ids = await seedCatalog(sys);
    tokens.vera = operatorToken(sys, 'vera', 'viewer');
    tokens.rita = operatorToken(sys, 'rita', 'reviewer');
    tokens.adam = operatorToken(sys, 'adam', 'admin');
  });
  afterAll(async () => {
    await sys?.stop();
  });

  it('makes tokens with the CLI: shown once, stored as SHA-256 only, listed without them', async () => {
    for (const t of Object.values(tokens)) expect(t).toMatch(/^lop_[A-Za-z0-9_-]{43}$/);
    const stored = (await sys.db.ds.query(
      `SELECT name, role, token_sha256 FROM operator_tokens ORDER BY name`,
    )) as { name: string; role: string; token_sha256: string }[];
    expect(stored.map((r) => [r.name, r.role])).toEqual([
      ['adam', 'admin'],
      ['rita', 'reviewer'],
      ['vera', 'viewer'],
    ]);
    for (const r of stored)
      expect(r.token_sha256).toBe(createHash('sha256').update(tokens[r.name]!).digest('hex'));
    const list = ledgerCli(sys.db.url, ['tokens', 'list']);
    expect(list).toMatch(/rita\s+reviewer/);
    for (const t of Object.values(tokens)) expect(list).not.toContain(t);
    // One active token per name; an unknown role is refused by name.
    expect(() => ledgerCli(sys.db.url, ['tokens', 'create', '--name', 'rita', '--role', 'viewer'])).toThrow(
      /active token named rita exists/,
    );
    expect(() => ledgerCli(sys.db.url, ['tokens', 'create', '--name', 'x', '--role', 'root'])).toThrow(
      /viewer, reviewer, admin/,
    );
  });

  it('enforces roles on every admin route: viewer reads, reviewer decides, admin changes', async () => {
    expect((await as('vera')('GET', '/v1/admin/offers')).status).toBe(200);
    expect((await as('vera')('GET', '/v1/reports/reconciliation?from=2026-01-01&to=2026-01-02')).status).toBe(
      200,
    );
    const denied = await as('vera')('POST', '/v1/admin/offers/offer-a/pause');
    expect(denied).toMatchObject({ status: 403, body: { error: { code: 'forbidden' } } });
    expect(denied.body.error.message).toContain('needs the admin role');
    expect(
      (await as('vera')('POST', `/v1/admin/reviews/cv_${'A'.repeat(26)}/approve`, { note: 'x' })).status,
    ).toBe(403);
    // A reviewer passes the guard on decisions (here: no such conversion), not on catalog changes.
    expect(
      (await as('rita')('POST', `/v1/admin/reviews/cv_${'A'.repeat(26)}/approve`, { note: 'x' })).status,
    ).toBe(404);
    expect((await as('rita')('PATCH', '/v1/admin/offers/offer-a', { name: 'x' })).status).toBe(403);
    expect((await as('rita')('PUT', '/v1/admin/sources/policy', {})).status).toBe(403);
    expect((await as('adam')('PATCH', '/v1/admin/offers/offer-a', { payout: '2.5' })).status).toBe(200);
    expect((await as('adam')('GET', '/v1/admin/whoami')).body).toEqual({ name: 'adam', role: 'admin' });
    // Unknown, missing and malformed tokens: 401.
    expect((await adminClient(sys.gatewayUrl, 'lop_not-a-token')('GET', '/v1/admin/offers')).status).toBe(
      401,
    );
    expect((await httpJson(`${sys.gatewayUrl}/v1/admin/offers`)).status).toBe(401);
    // ADMIN_TOKEN keeps working, as the bootstrap admin.
    expect((await sys.admin('GET', '/v1/admin/whoami')).body).toEqual({
      name: 'bootstrap-admin',
      role: 'admin',
    });
  });

  it('writes the decision under the token: a viewer cannot approve (403), a reviewer can, a body cannot name someone else', async () => {
    await seedOffer(sys.db.ds, { id: 'o-hold', minConversionSeconds: 3600 });
    const click = clickEvent('o-hold', ids.publisher);
    await produceEvents(`${sys.prefix}clicks.recorded`, [click], TEST_BROKERS);
    await poll(
      'click stored',
      async () => (await sys.db.ds.query(`SELECT 1 FROM clicks WHERE click_id = $1`, [click.id]))[0],
    );
    await produceEvents(`${sys.prefix}postbacks.received`, [
      postbackEvent(ids.partner, click.id, 'tx-held', 'approved'),
    ]);
    const held = await poll('held conversion', async () => {
      const r = await as('vera')('GET', '/v1/admin/reviews');
      const items = (r.body?.items ?? []) as { transaction_id: string; conversion_id: string }[];
      return items.find((i) => i.transaction_id === 'tx-held');
    });
    const path = `/v1/admin/reviews/${held.conversion_id}/approve`;
    expect((await as('vera')('POST', path, { note: 'looks fine' })).status).toBe(403);
    const named = await as('rita')('POST', path, { operator: 'somebody-else', note: 'looks fine' });
    expect(named).toMatchObject({ status: 400, body: { error: { field: 'operator' } } });
    expect(named.body.error.message).toContain('taken from your operator token');
    const ok = await as('rita')('POST', path, { note: 'checked the install log' });
    expect(ok.status).toBe(200);
    expect(ok.body.entry).toMatchObject({
      entry_type: 'released',
      operator: 'rita',
      note: 'checked the install log',
    });
    const [row] = await sys.db.ds.query(
      `SELECT payload->>'operator' AS operator FROM ledger_entries WHERE conversion_id = $1 AND entry_type = 'released'`,
      [held.conversion_id],
    );
    expect(row.operator).toBe('rita');
  });

  it('records every admin change in the audit log (who, when, what, before and after), paged, append-only', async () => {
    const page1 = await as('vera')('GET', '/v1/admin/audit?limit=2');
    expect(page1.status).toBe(200);
    expect(page1.body.items).toHaveLength(2);
    const page2 = await as('vera')('GET', `/v1/admin/audit?limit=2&before_id=${page1.body.next_before_id}`);
    expect(Number(page2.body.items[0].id)).toBeLessThan(Number(page1.body.items[1].id));

    const all = (await as('vera')('GET', '/v1/admin/audit?limit=500')).body.items as any[];
    const review = all.find((a) => a.action === 'review.approve');
    expect(review).toMatchObject({
      operator: 'rita',
      role: 'reviewer',
      request: { note: 'checked the install log' },
    });
    expect(review.before).toMatchObject({
      status: 'held',
      transaction_id: 'tx-held',
      reason_code: 'fraud_suspected',
    });
    expect(review.before.held_at).toMatch(/^\d{4}-\d\d-\d\dT/);
    expect(review.after).toMatchObject({
      status: 'approved',
      transaction_id: 'tx-held',
      reason_code: null,
      entry_type: 'released',
      operator: 'rita',
    });
    expect(Date.parse(review.at)).toBeGreaterThan(Date.now() - 120_000);

    const payout = all.find((a) => a.action === 'offer.update' && a.subject === 'offer:offer-a');
    expect(payout).toMatchObject({
      operator: 'adam',
      role: 'admin',
      request: { payout: '2.5' },
      before: { payout: '1.25' },
      after: { payout: '2.5' },
    });
    const created = all.find((a) => a.action === 'partner.create');
    expect(created).toMatchObject({ operator: 'bootstrap-admin', before: null, after: { id: 'partner-a' } });
    expect(created.request.auth.secret).toBe('[redacted]');
    expect(JSON.stringify(all)).not.toContain(ids.secret);
    // The CLI's token changes are there too.
    expect(all.filter((a) => a.action === 'token.create').map((a) => a.subject)).toEqual(
      expect.arrayContaining(['token:vera', 'token:rita', 'token:adam']),
    );
    // Filters.
    const mine = (await as('vera')('GET', '/v1/admin/audit?operator=adam')).body.items as any[];
    expect(mine.length).toBeGreaterThan(0);
    expect(mine.every((a) => a.operator === 'adam')).toBe(true);

    // The apps' role may append and read, never rewrite history.
    const { Client } = await import('pg');
    const app = new Client({ connectionString: sys.db.url });
    await app.connect();
    try {
      await expect(app.query(`UPDATE admin_audit_log SET operator = 'nobody'`)).rejects.toThrow(
        /permission denied/,
      );
      await expect(app.query(`DELETE FROM admin_audit_log`)).rejects.toThrow(/permission denied/);
    } finally {
      await app.end();
    }
  });

  it('keeps /metrics and /docs/admin behind a token (any role; METRICS_TOKEN for scrapes)', async () => {
    expect((await fetch(`${sys.gatewayUrl}/metrics`)).status).toBe(401);
    const viewer = await fetch(`${sys.gatewayUrl}/metrics`, {
      headers: { authorization: `Bearer ${tokens.vera}` },
    });
    expect(viewer.status).toBe(200);
    expect(await viewer.text()).toContain('http_request_duration_seconds');
    expect(
      (await fetch(`${sys.gatewayUrl}/metrics`, { headers: { authorization: `Bearer ${METRICS_TOKEN}` } }))
        .status,
    ).toBe(200);
    // The metrics token opens nothing else.
    expect(
      (
        await fetch(`${sys.gatewayUrl}/v1/admin/offers`, {
          headers: { authorization: `Bearer ${METRICS_TOKEN}` },
        })
      ).status,
    ).toBe(401);
    const docs = await fetch(`${sys.gatewayUrl}/docs/admin`);
    expect(docs.status).toBe(401);
    expect(docs.headers.get('www-authenticate')).toMatch(/^Basic /);
    expect((await fetch(`${sys.gatewayUrl}/docs/admin/openapi.json`)).status).toBe(401);
    const basic = `Basic ${Buffer.from(`vera:${tokens.vera}`).toString('base64')}`;
    expect(
      (await fetch(`${sys.gatewayUrl}/docs/admin`, { headers: { authorization: basic } })).status,
    ).toBeLessThan(400);
    const spec = await httpJson(`${sys.gatewayUrl}/docs/admin/openapi.json`, {
      headers: { authorization: `Bearer ${tokens.vera}` },
    });
    expect(Object.keys(spec.body.paths)).toEqual(
      expect.arrayContaining(['/v1/admin/audit', '/v1/admin/whoami']),
    );
  });

  it('refuses a revoked token from the next request on', async () => {
    expect((await as('vera')('GET', '/v1/admin/offers')).status).toBe(200);
    expect(ledgerCli(sys.db.url, ['tokens', 'revoke', '--name', 'vera'])).toContain('revoked vera');
    expect((await as('vera')('GET', '/v1/admin/offers')).status).toBe(401);
    expect(ledgerCli(sys.db.url, ['tokens', 'list', '--all'])).toMatch(/vera\s+viewer/);
    // The name is free again.
    tokens.vera = operatorToken(sys, 'vera', 'viewer');
    expect((await as('vera')('GET', '/v1/admin/offers')).status).toBe(200);
  });
});

describe('partner secrets at rest', () => {
  let sys: RunningSystem;
  const extra: AppProcess[] = [];
  const K1 = `k1:${Buffer.alloc(32, 1).toString('base64')}`;
  const K2 = `k2:${Buffer.alloc(32, 2).toString('base64')}`;
  const K3 = `k3:${Buffer.alloc(32, 3).toString('base64')}`;
  const SECRET = 'rotation-partner-secret-0123456789abcdef';

  /** Another gateway on the same database and topics, with its own key ring. */
  const gateway = async (keys: Record<string, string>) => {
    const port = await freePort();
    const g = spawnApp('gateway', {
      DATABASE_URL: sys.db.url,
      KAFKA_BROKERS: TEST_BROKERS.join(','),
      TOPIC_PREFIX: sys.prefix,
      ADMIN_TOKEN,
      CATALOG_REFRESH_MS: '200',
      PORT: String(port),
      ...keys,
    });
    extra.push(g);
    const url = `http://127.0.0.1:${port}`;
    await waitReady(g, `${url}/health/ready`);
    return url;
  };
  let tx = 0;
  const signed = async (gatewayUrl: string) => {
    const s = signedPostbackUrl(gatewayUrl, 'p-rot', SECRET, {
      click_id: '01JD7Q3W5T9YV6KX2M8N4R1B0C',
      transaction_id: `tx-rot-${++tx}`,
      status: 'approved',
      payout: '1.00',
      currency: 'USD',
    });
    return httpJson(s.url, { headers: s.headers });
  };
  const stored = async () =>
    (
      (await sys.db.ds.query(`SELECT hmac_secrets FROM partners WHERE id = 'p-rot'`)) as {
        hmac_secrets: string[];
      }[]
    )[0]!.hmac_secrets;

  beforeAll(async () => {
    sys = await startSystem('secrets', { env: { SECRETS_KEY: K1 } });
  });
  afterAll(async () => {
    await Promise.all(extra.map((g) => g.stop()));
    await sys?.stop();
  });

  it('refuses HMAC secrets under 32 characters', async () => {
    const r = await sys.admin('POST', '/v1/admin/partners', {
      id: 'p-short',
      name: 'short',
      auth: { mode: 'hmac', secret: 'a'.repeat(31) },
    });
    expect(r).toMatchObject({ status: 400, body: { error: { field: 'auth.secret' } } });
    expect(r.body.error.message).toContain('32');
  });

  it('stores them sealed, and they keep verifying signatures through a key rotation', async () => {
    expect(
      (
        await sys.admin('POST', '/v1/admin/partners', {
          id: 'p-rot',
          name: 'rot',
          auth: { mode: 'hmac', secret: SECRET },
        })
      ).status,
    ).toBe(201);
    const [sealed] = await stored();
    expect(sealed).toMatch(/^enc:v1:k1:/);
    expect(sealed).not.toContain(SECRET);
    expect((await signed(sys.gatewayUrl)).status).toBe(200);

    // 1. A new key seals; the old one still opens what it sealed.
    const rotated = await gateway({ SECRETS_KEY: K2, SECRETS_OLD_KEYS: K1 });
    expect((await signed(rotated)).status).toBe(200);
    // 2. Everything moves to the new key.
    const out = ledgerCli(sys.db.url, ['secrets', 'reencrypt'], { SECRETS_KEY: K2, SECRETS_OLD_KEYS: K1 });
    expect(out).toContain('now sealed with key k2');
    expect((await stored())[0]).toMatch(/^enc:v1:k2:/);
    expect(ledgerCli(sys.db.url, ['secrets', 'status'], { SECRETS_KEY: K2 })).toMatch(/k2\s+1\s+current key/);
    // 3. The old key can go.
    const newOnly = await gateway({ SECRETS_KEY: K2 });
    expect((await signed(newOnly)).status).toBe(200);
    expect((await signed(newOnly)).status).toBe(200);

    // Without the key that sealed them, nothing is verified: 503 (retry later), never a pass.
    const wrong = await gateway({ SECRETS_KEY: K3 });
    const r = await signed(wrong);
    expect(r).toMatchObject({ status: 503, body: { error: { code: 'unavailable' } } });
    let status = '';
    try {
      ledgerCli(sys.db.url, ['secrets', 'status'], { SECRETS_KEY: K3 });
    } catch (e) {
      status = String((e as { stdout?: Buffer }).stdout);
    }
    expect(status).toMatch(/k2\s+1\s+KEY MISSING/);
    const audit = (await sys.admin('GET', '/v1/admin/audit?action=secrets.reencrypt')).body.items;
    expect(audit[0]).toMatchObject({ operator: 'cli:test-ops', before: { k1: 1 } });
  });

  it('refuses to start in production without a key of its own', async () => {
    const port = await freePort();
    const g = spawnApp('gateway', {
      DATABASE_URL: sys.db.url,
      KAFKA_BROKERS: TEST_BROKERS.join(','),
      NODE_ENV: 'production',
      PORT: String(port),
    });
    extra.push(g);
    const code = await new Promise<number | null>((resolve) => g.proc.once('exit', resolve));
    expect(code).toBe(2);
    expect(g.logs()).toContain('SECRETS_KEY');
  });

  // Last: the partners it makes would change the sealed-value counts the rotation test reads.
  it('accepts shorter secrets, never under 8, only where SECRET_MIN_LENGTH is lowered', async () => {
    const url = await gateway({ SECRETS_KEY: K1, SECRET_MIN_LENGTH: '20' });
    const create = (id: string, secret: string) =>
      httpJson(`${url}/v1/admin/partners`, {
        method: 'POST',
        headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' },
        body: JSON.stringify({ id, name: id, auth: { mode: 'hmac', secret } }),
      });
    expect(await create('p-len20', 'b'.repeat(20))).toMatchObject({ status: 201 });
    const short = await create('p-len19', 'b'.repeat(19));
    expect(short).toMatchObject({ status: 400, body: { error: { field: 'auth.secret' } } });
    expect(short.body.error.message).toContain('at least 20');
    const rotation = await httpJson(`${url}/v1/admin/partners`, {
      method: 'POST',
      headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' },
      body: JSON.stringify({
        id: 'p-len19s',
        name: 'x',
        auth: { mode: 'hmac', secrets: ['c'.repeat(40), 'c'.repeat(19)] },
      }),
    });
    expect(rotation).toMatchObject({ status: 400, body: { error: { field: 'auth.secrets' } } });
    const made = (await sys.db.ds.query(`SELECT id FROM partners WHERE id LIKE 'p-len%'`)) as {
      id: string;
    }[];
    expect(made.map((r) => r.id)).toEqual(['p-len20']);
    // The floor holds whatever the setting says.
    const port = await freePort();
    const g = spawnApp('gateway', {
      DATABASE_URL: sys.db.url,
      KAFKA_BROKERS: TEST_BROKERS.join(','),
      SECRET_MIN_LENGTH: '7',
      PORT: String(port),
    });
    extra.push(g);
    expect(await new Promise<number | null>((resolve) => g.proc.once('exit', resolve))).toBe(2);
    expect(g.logs()).toContain('SECRET_MIN_LENGTH');
  });
});
