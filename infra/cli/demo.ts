/**
 * The demo `npm start` runs against the live system: it sets up an offer, a publisher and a
 * partner through the admin API (once), records a click, sends the partner's signed postback,
 * and reads both back from Postgres once the processor stored them.
 */
import { Client } from 'pg';
import { canonicalQuery, signatureHeader } from '@app/domain';
import { table } from './table';
import { appDatabaseUrl } from '@app/config';

const gateway = `http://127.0.0.1:${process.env.PORT || 3000}`;
const db = appDatabaseUrl();
const token = process.env.ADMIN_TOKEN || '';
const say = (s: string) => console.log(`[demo] ${s}`);
const SECRET = 'demo-partner-secret-0123456789abcdef';

async function poll<T>(what: string, fn: () => Promise<T | undefined>, timeoutMs = 30000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`${what} did not appear within ${timeoutMs / 1000} s`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

async function admin(path: string, body: unknown): Promise<void> {
  const r = await fetch(`${gateway}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: JSON.stringify(body),
  });
  if (r.status !== 201 && r.status !== 409) throw new Error(`POST ${path}: ${r.status} ${await r.text()}`);
  say(`POST ${path} -> ${r.status === 201 ? '201 created' : '409 already there'}`);
}

async function main(): Promise<void> {
  await admin('/v1/admin/publishers', { id: 'demo-pub', name: 'Demo publisher' });
  await admin('/v1/admin/offers', {
    id: 'demo-offer',
    name: 'Demo offer',
    landing_url: 'https://advertiser.example/land?click={click_id}&pub={pub}',
    payout: '1.25',
    currency: 'USD',
    allowed_geos: ['US', 'DE'],
  });
  await admin('/v1/admin/partners', {
    id: 'demo-partner',
    name: 'Demo partner',
    auth: { mode: 'hmac', secret: SECRET },
  });

  let r = await fetch(`${gateway}/c/demo-offer?pub=demo-pub&sub1=demo-source&placement=wall-top&geo=US`, {
    redirect: 'manual',
  });
  const location = r.headers.get('location') ?? '';
  const clickId = /click=([0-9A-Z]{26})/.exec(location)?.[1];
  if (r.status !== 302 || !clickId) throw new Error(`click refused: ${r.status} ${await r.text()}`);
  say(`GET /c/demo-offer?pub=demo-pub&sub1=demo-source&placement=wall-top&geo=US -> 302 ${location}`);

  const tx = `demo-tx-${Date.now()}`;
  const ts = Math.floor(Date.now() / 1000);
  const query = canonicalQuery([
    ['clickid', clickId],
    ['txid', tx],
    ['status', '1'],
    ['payout', '1.25'],
    ['currency', 'USD'],
  ]);
  r = await fetch(`${gateway}/v1/postbacks/demo-partner?${query}`, {
    headers: {
      'x-postback-timestamp': String(ts),
      'x-postback-signature': signatureHeader(SECRET, ts, query),
    },
  });
  say(`GET /v1/postbacks/demo-partner?${query} (signed) -> ${r.status} ${await r.text()}`);
  r = await fetch(`${gateway}/v1/postbacks/demo-partner?${query}`);
  say(`the same postback unsigned -> ${r.status} ${await r.text()}`);

  const pg = new Client({ connectionString: db });
  await pg.connect();
  try {
    const c = await poll(
      'the click in Postgres',
      async () =>
        (await pg.query('SELECT * FROM clicks WHERE click_id = $1', [clickId])).rows[0] as object | undefined,
    );
    say(`clicks row: ${JSON.stringify(c)}`);
    const p = await poll(
      'the postback in Postgres',
      async () =>
        (await pg.query('SELECT * FROM postbacks WHERE transaction_id = $1', [tx])).rows[0] as
          object | undefined,
    );
    say(`postbacks row: ${JSON.stringify(p)}`);
    const e = await poll(
      'the ledger entry',
      async () =>
        (await pg.query('SELECT payload FROM ledger_entries WHERE transaction_id = $1', [tx])).rows[0] as
          { payload: object } | undefined,
    );
    say(`ledger entry (also on the conversions.ledger topic): ${JSON.stringify(e.payload)}`);
    // The same postback again is a duplicate: counted, never paid twice.
    await fetch(`${gateway}/v1/postbacks/demo-partner?${query}`, {
      headers: {
        'x-postback-timestamp': String(ts),
        'x-postback-signature': signatureHeader(SECRET, ts, query),
      },
    });
    // Wait until the repeat is decided and projected, then show the reconciliation report.
    await poll('the duplicate decided and projected', async () => {
      const r = await pg.query(
        `SELECT (SELECT count(*)::int FROM postback_outcomes WHERE transaction_id = $1 AND outcome <> 'retry_scheduled') AS n,
                (SELECT count(*)::int FROM projection_queue) AS queued`,
        [tx],
      );
      const row = r.rows[0] as { n: number; queued: number };
      return row.n === 2 && row.queued === 0 ? true : undefined;
    });
    const today = new Date().toISOString().slice(0, 10);
    const report = (await (
      await fetch(`${gateway}/v1/reports/reconciliation?from=${today}&to=${today}&group_by=partner,offer`, {
        headers: { authorization: `Bearer ${token}` },
      })
    ).json()) as { rows: Record<string, string | number | null>[] };
    say(
      `GET /v1/reports/reconciliation?from=${today}&to=${today}&group_by=partner,offer (all traffic today):`,
    );
    console.log(
      table(
        ['partner', 'offer', 'cur', 'postbacks', 'accepted', 'duplicates', 'rejected', 'payout (micros)'],
        report.rows.map((r) => [
          String(r.partner_id ?? '-'),
          String(r.offer_id ?? '-'),
          String(r.currency),
          String(r.postbacks),
          String(r.accepted),
          String(r.duplicates),
          String(r.rejected_postbacks),
          String(r.effective_payout_micros),
        ]),
      ),
    );
  } finally {
    await pg.end();
  }
  say('the click and the postback went gateway -> Kafka -> processor -> Postgres and the ledger topic');
}

main().catch((e: Error) => {
  console.error(`[demo] failed: ${e.message}`);
  process.exit(1);
});
