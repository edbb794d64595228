/* eslint-disable @typescript-eslint/no-unsafe-call -- page functions use untyped browser globals; API bodies are any */
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from 'pg';
import { type BrowserContext, chromium, type Page } from 'playwright-core';
import type { ClickRecorded, PostbackReceived } from '@app/contracts';
import { divideHalfEven } from '@app/domain';
import {
  clickEvent,
  findChromium,
  httpJson,
  poll,
  postbackEvent,
  produceEvents,
  readTopic,
  seedOffer,
} from '@app/testing';
import { ADMIN_TOKEN, operatorToken, type RunningSystem, startSystem } from './support';

/**
 * Issue 7's dashboard in a real headless Chromium against the real gateway and processor: a
 * known week of traffic (approvals, a duplicate a day, blocked-geo rejects, an unknown click,
 * a held conversion), then the page must show the report's numbers, refuse a wrong token
 * without showing data, and release the held conversion onto the ledger.
 *
 * DASHBOARD_SCREENSHOTS=1 also saves a PNG of each view to docs/dashboard/.
 */

// Browser globals, for the functions that run inside the page (this file is compiled without the DOM lib).
declare const document: any;
declare const window: any;
declare const localStorage: any;
declare const sessionStorage: any;

const SHOTS = process.env.DASHBOARD_SCREENSHOTS ? join(__dirname, '..', 'docs', 'dashboard') : undefined;
const DAY_MS = 86_400_000;
const OFFERS = {
  main: { id: 'dash-main', payout: 2_000_000n, currency: 'USD', geos: ['US', 'DE'] },
  eur: { id: 'dash-eur', payout: 1_500_000n, currency: 'EUR', geos: null },
  hold: { id: 'dash-hold', payout: 5_000_000n, currency: 'USD', geos: null, minSeconds: 3600 },
};
/** The reviewer's operator token is named this: the name written on the ledger entry. */
const OPERATOR = 'ops-tester';

/** The payout rule of the main offer (a share) and the reward rule of pub-1, in force from a moment before `now`. */
const SHARE_BP = 7000n;
const COINS_PER_UNIT = 100n;
const paid = (micros: bigint, priced: boolean) => (priced ? (micros * SHARE_BP) / 10_000n : micros);
const coins = (payoutMicros: bigint) => (payoutMicros * COINS_PER_UNIT) / 1_000_000n;

/**
 * Seven days of traffic from two partners, and what the reconciliation must say about it.
 * Postbacks that arrive from `pricedFrom` on (today's) are priced by the rules; earlier ones
 * were not (payout = revenue, no reward).
 */
function buildTraffic(now: Date, pricedFrom: Date) {
  const clicks: ClickRecorded[] = [];
  const postbacks: PostbackReceived[] = [];
  // Sent once the others are decided: statuses of one conversion decided in the same batch
  // measure no postback delay (the conversion's first receipt is taken from the last of them).
  const later: PostbackReceived[] = [];
  const want = {
    postbacks: 0,
    usdPostbacks: 0,
    usdMicros: 0n,
    eurMicros: 0n,
    duplicates: 0,
    rejected: 0,
    usdPayoutMicros: 0n,
    eurPayoutMicros: 0n,
    usdCoins: 0n,
    eurCoins: 0n,
  };
  const priced = (at: Date) => at.getTime() >= pricedFrom.getTime();
  let tx = 0;
  const convert = (
    partner: string,
    offer: { id: string },
    at: Date,
    clickAgeMs: number,
    click: Partial<ClickRecorded['payload']>,
    repeat = 0,
  ) => {
    const c = clickEvent(offer.id, click.publisher_id ?? 'pub-1', new Date(at.getTime() - clickAgeMs), click);
    clicks.push(c);
    const id = `dash-tx-${++tx}`;
    for (let i = 0; i <= repeat; i++) postbacks.push(postbackEvent(partner, c.id, id, 'approved', {}, at));
    return id;
  };
  for (let k = 0; k < 7; k++) {
    const at = new Date(now.getTime() - k * DAY_MS);
    const nA = 2 + (k % 3);
    const nB = 1 + ((k + 1) % 2);
    for (let i = 0; i < nA; i++)
      convert(
        'dash-net-a',
        OFFERS.main,
        at,
        10 * 60_000,
        {
          publisher_id: i % 2 ? 'pub-2' : 'pub-1',
          sub1: i % 2 ? 's2' : 's1',
          placement: 'wall',
          geo: 'US',
          // One repeat a day: counted as a duplicate, never paid.
        },
        i === 0 ? 1 : 0,
      );
    for (let i = 0; i < nB; i++)
      convert('dash-net-b', OFFERS.main, at, 5 * 60_000, {
        publisher_id: 'pub-2',
        sub1: 's3',
        placement: 'offerwall',
        geo: 'DE',
      });
    if (k % 3 === 1) {
      // Pending, then approved two hours later: a postback delay, paid once.
      const c = clickEvent(OFFERS.main.id, 'pub-1', new Date(at.getTime() - 15 * 60_000), {
        sub1: 's1',
        placement: 'wall',
        geo: 'US',
      });
      clicks.push(c);
      const id = `dash-tx-${++tx}`;
      postbacks.push(postbackEvent('dash-net-a', c.id, id, 'pending', {}, at));
      later.push(
        postbackEvent('dash-net-a', c.id, id, 'approved', {}, new Date(at.getTime() + 2 * 3_600_000)),
      );
      want.usdMicros += OFFERS.main.payout;
      const approvedAt = new Date(at.getTime() + 2 * 3_600_000);
      want.usdPayoutMicros += paid(OFFERS.main.payout, priced(approvedAt));
      if (priced(approvedAt)) want.usdCoins += coins(paid(OFFERS.main.payout, true));
      want.usdPostbacks += 2;
    }
    if (k % 2 === 0)
      convert('dash-net-b', OFFERS.main, at, 5 * 60_000, { publisher_id: 'pub-2', sub1: 's3', geo: 'FR' });
    want.usdMicros += BigInt(nA + nB) * OFFERS.main.payout;
    want.usdPayoutMicros += BigInt(nA + nB) * paid(OFFERS.main.payout, priced(at));
    // Partner a's even conversions are pub-1's, the app with coins.
    if (priced(at)) want.usdCoins += BigInt(Math.ceil(nA / 2)) * coins(paid(OFFERS.main.payout, true));
    want.usdPostbacks += nA + 1 + nB + (k % 2 === 0 ? 1 : 0);
    want.duplicates += 1;
    want.rejected += k % 2 === 0 ? 1 : 0;
  }
  for (let i = 0; i < 2; i++)
    convert('dash-net-a', OFFERS.eur, now, 20 * 60_000, { publisher_id: 'pub-1', sub1: 's1', geo: 'DE' });
  want.eurMicros = 2n * OFFERS.eur.payout;
  // No payout rule for the EUR offer: the publisher gets the revenue, its users coins on it.
  want.eurPayoutMicros = want.eurMicros;
  want.eurCoins = priced(now) ? 2n * coins(OFFERS.eur.payout) : 0n;
  // A conversion 60 s after its click on an offer that asks for at least an hour: held.
  const heldTx = convert('dash-net-a', OFFERS.hold, now, 60_000, { publisher_id: 'pub-1', sub1: 's1' });
  want.usdPostbacks += 1;
  // A click id the system never minted: rejected unknown_click at once.
  postbacks.push(postbackEvent('dash-net-b', 'junk-click-id', `dash-tx-${++tx}`, 'approved', {}, now));
  want.rejected += 1;
  want.postbacks = postbacks.length + later.length;
  return { clicks, postbacks, later, heldTx, want };
}

const decimal = (micros: bigint) => {
  const s = micros.toString().padStart(7, '0');
  const frac = s.slice(-6).replace(/0+$/, '').padEnd(2, '0');
  return `${s.slice(0, -6).replace(/\B(?=(\d{3})+(?!\d))/g, ',')}.${frac}`;
};

describe('dashboard (headless Chromium)', () => {
  let sys: RunningSystem;
  let traffic: ReturnType<typeof buildTraffic>;
  let context: BrowserContext;
  let page: Page;
  let profile: string;
  let chromiumPath: string;
  const tokens = { reviewer: '', viewer: '' };
  // Set once the money rules are in force (beforeAll): today's traffic is priced by them.
  let now: Date;
  let today: string;
  let weekAgo: string;
  const api = (path: string) =>
    httpJson(`${sys.gatewayUrl}${path}`, { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });
  const viewReady = (view: string) =>
    page.waitForSelector(`section[data-view="${view}"][data-state="ready"]`, { timeout: 20000 });
  const open = async (view: string) => {
    await page.click(`#tabs a[data-tab="${view}"]`);
    await viewReady(view);
  };
  /** Signs out if signed in, then in with `token`; resolves once the page says who is signed in. */
  const signIn = async (token: string) => {
    if (await page.isVisible('#sign-out')) await page.click('#sign-out');
    await page.fill('#token', token);
    await page.click('#login-form button[type="submit"]');
    await page.waitForFunction(() => !!document.getElementById('whoami')?.textContent);
  };
  const shot = async (name: string) => {
    if (!SHOTS) return;
    mkdirSync(SHOTS, { recursive: true });
    await page.screenshot({ path: join(SHOTS, `${name}.png`), fullPage: true });
  };

  beforeAll(async () => {
    // Before anything starts: no browser fails at once, saying how to get one.
    chromiumPath = findChromium();
    sys = await startSystem('dashboard', { env: { SOURCE_MIN_DECISIONS: '0' } });
    tokens.reviewer = operatorToken(sys, OPERATOR, 'reviewer');
    tokens.viewer = operatorToken(sys, 'ops-viewer', 'viewer');
    for (const o of Object.values(OFFERS))
      await seedOffer(sys.db.ds, {
        id: o.id,
        payout: o.payout.toString(),
        currency: o.currency,
        allowedGeos: o.geos,
        minConversionSeconds: 'minSeconds' in o ? o.minSeconds : null,
      });
    // Money rules as the apps insert them (never dated in the past): from a moment ahead, then wait.
    const app = new Client({ connectionString: sys.db.url });
    await app.connect();
    try {
      await app.query(
        `INSERT INTO payout_rules (offer_id, kind, share_bp, effective_from, created_by)
         VALUES ($1, 'share', $2, now() + interval '1 second', 'dashboard-test')`,
        [OFFERS.main.id, Number(SHARE_BP)],
      );
      await app.query(
        `INSERT INTO reward_rules (publisher_id, currency_name, units_per_unit_micros, rounding, effective_from, created_by)
         VALUES ('pub-1', 'coins', $1, 'floor', now() + interval '1 second', 'dashboard-test')`,
        [(COINS_PER_UNIT * 1_000_000n).toString()],
      );
      const [{ from }] = (
        await app.query(
          `SELECT greatest((SELECT max(effective_from) FROM payout_rules), (SELECT max(effective_from) FROM reward_rules)) AS "from"`,
        )
      ).rows;
      await poll('the money rules are in force', async () =>
        (await app.query(`SELECT now() >= $1::timestamptz AS ok`, [from])).rows[0].ok ? true : undefined,
      );
      now = new Date();
      today = now.toISOString().slice(0, 10);
      weekAgo = new Date(now.getTime() - 6 * DAY_MS).toISOString().slice(0, 10);
      traffic = buildTraffic(now, from as Date);
    } finally {
      await app.end();
    }
    await produceEvents(`${sys.prefix}clicks.recorded`, traffic.clicks);
    await poll('clicks stored', async () =>
      (await sys.db.ds.query(`SELECT count(*)::int AS n FROM clicks`))[0].n === traffic.clicks.length
        ? true
        : undefined,
    );
    const settled = (n: number) =>
      poll(
        `${n} postbacks decided and projected`,
        async () => {
          const [r] = await sys.db.ds.query(
            `SELECT (SELECT count(*)::int FROM postback_outcomes WHERE outcome <> 'retry_scheduled') AS decided,
                    (SELECT count(*)::int FROM projection_queue) AS queued,
                    (SELECT count(*)::int FROM ledger_outbox) AS outbox`,
          );
          return r.decided === n && r.queued === 0 && r.outbox === 0 ? true : undefined;
        },
        60000,
      );
    await produceEvents(`${sys.prefix}postbacks.received`, traffic.postbacks);
    await settled(traffic.postbacks.length);
    await produceEvents(`${sys.prefix}postbacks.received`, traffic.later);
    await settled(traffic.want.postbacks);

    profile = mkdtempSync(join(tmpdir(), 'dashboard-chromium-'));
    context = await chromium.launchPersistentContext(profile, {
      executablePath: chromiumPath,
      headless: true,
      viewport: { width: 1360, height: 900 },
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
    });
    page = context.pages()[0] ?? (await context.newPage());
  }, 150000);

  afterAll(async () => {
    await context?.close().catch(() => undefined);
    if (profile) rmSync(profile, { recursive: true, force: true });
    await sys?.stop();
  });

  it('the report API agrees with the traffic (the page is checked against these numbers)', async () => {
    const r = await api(`/v1/reports/reconciliation?from=${weekAgo}&to=${today}&group_by=offer`);
    expect(r.status).toBe(200);
    const usd = r.body.totals.find((t: any) => t.currency === 'USD');
    expect(usd.postbacks).toBe(traffic.want.usdPostbacks);
    expect(usd.effective_payout_micros).toBe(traffic.want.usdMicros.toString());
    expect(r.body.totals.reduce((n: number, t: any) => n + t.postbacks, 0)).toBe(traffic.want.postbacks);
    // The money: today's main-offer approvals at the 70 % share, earlier ones at the revenue.
    const { want } = traffic;
    expect(want.usdPayoutMicros).toBeLessThan(want.usdMicros);
    expect(want.usdCoins).toBeGreaterThan(0n);
    expect(usd).toMatchObject({
      revenue_micros: want.usdMicros.toString(),
      payout_micros: want.usdPayoutMicros.toString(),
      margin_micros: (want.usdMicros - want.usdPayoutMicros).toString(),
      rewards: { coins: { issued: want.usdCoins.toString(), reversed: '0', net: want.usdCoins.toString() } },
    });
    const eur = r.body.totals.find((t: any) => t.currency === 'EUR');
    expect(eur).toMatchObject({
      revenue_micros: want.eurMicros.toString(),
      payout_micros: want.eurPayoutMicros.toString(),
      margin_micros: '0',
      rewards: { coins: { net: want.eurCoins.toString() } },
    });
    // The drill-down filters added for the page.
    const pub = await api(
      `/v1/reports/reconciliation?from=${weekAgo}&to=${today}&group_by=source&offer_id=dash-main&publisher_id=pub-2&placement=offerwall&geo=DE`,
    );
    expect(pub.body.rows.map((x: any) => x.source)).toEqual(['s3']);
    expect((await api(`/v1/reports/latency?from=${today}&to=${today}&source=s1`)).status).toBe(400);
  });

  it('serves the page publicly; a wrong token shows a clear message and no data', async () => {
    const html = await fetch(`${sys.gatewayUrl}/dashboard`);
    expect(html.status).toBe(200);
    expect(html.headers.get('content-security-policy')).toContain("script-src 'self'");
    expect((await fetch(`${sys.gatewayUrl}/dashboard/chart.umd.min.js`)).status).toBe(200);

    await page.goto(`${sys.gatewayUrl}/dashboard`);
    await page.fill('#token', 'not-the-admin-token-at-all');
    await page.click('#login-form button[type="submit"]');
    await page.waitForFunction(() =>
      document.getElementById('login-error')?.textContent?.includes('refused'),
    );
    expect(await page.textContent('#login-error')).toContain('unknown or revoked operator token');
    expect(await page.isVisible('#app')).toBe(false);
    expect(await page.isVisible('#range')).toBe(false);
    expect(await page.locator('main tbody tr').count()).toBe(0);
    expect(await page.evaluate(() => sessionStorage.getItem('ledger.adminToken'))).toBeNull();
    await shot('sign-in');
  });

  it('acceptance view: totals and both charts for the last 7 days', async () => {
    await page.fill('#token', ADMIN_TOKEN);
    await page.click('#login-form button[type="submit"]');
    await viewReady('acceptance');
    expect(await page.isVisible('#login')).toBe(false);
    expect(await page.textContent('#whoami')).toBe('bootstrap-admin (admin)');
    // Kept for this tab only.
    expect(await page.evaluate(() => sessionStorage.getItem('ledger.adminToken'))).toBe(ADMIN_TOKEN);
    expect(await page.evaluate(() => localStorage.getItem('ledger.adminToken'))).toBeNull();
    expect(await page.inputValue('#from')).toBe(weekAgo);
    expect(await page.inputValue('#to')).toBe(today);
    const cards = await page.locator('#acc-cards').innerText();
    expect(cards).toContain(String(traffic.want.postbacks));
    expect(cards).toContain(decimal(traffic.want.usdMicros));
    expect(cards).toContain(decimal(traffic.want.eurMicros));
    const card = (label: string) =>
      page.locator('#acc-cards .card', { has: page.locator('.label', { hasText: label }) }).locator('.value');
    expect(await card('payout USD').innerText()).toBe(decimal(traffic.want.usdPayoutMicros));
    expect(await card('margin USD').innerText()).toBe(
      decimal(traffic.want.usdMicros - traffic.want.usdPayoutMicros),
    );
    expect(await card('margin EUR').innerText()).toBe('0.00');
    // Coins of both money currencies add up: they are one virtual currency.
    expect(await card('rewards coins').innerText()).toBe(
      (traffic.want.usdCoins + traffic.want.eurCoins).toLocaleString('en-US'),
    );
    const charts = await page.evaluate(() => {
      const C = (window as any).Chart;
      const line = C.getChart('acc-line');
      const bars = C.getChart('acc-reasons');
      return {
        partners: line.data.datasets.map((d: any) => d.label),
        days: line.data.labels.length,
        reasons: bars.data.datasets.map((d: any) => d.label),
      };
    });
    expect(charts.partners).toEqual(['dash-net-a', 'dash-net-b']);
    expect(charts.days).toBe(7);
    expect(charts.reasons).toEqual(['hard:blocked_geo', 'hard:unknown_click']);
    await shot('acceptance');
  });

  it('reconciliation view: totals per currency as decimals, drill-down from offer to publisher', async () => {
    await open('reconciliation');
    const usdTotal = page.locator('#recon-table tfoot tr', { hasText: 'USD' });
    const cells = await usdTotal.locator('td').allInnerTexts();
    expect(cells[2]).toBe(String(traffic.want.usdPostbacks));
    const heads = await page.locator('#recon-table thead th').allInnerTexts();
    const col = (label: string) => cells[heads.indexOf(label)];
    const { want } = traffic;
    expect(col('cur')).toBe('USD');
    expect(col('revenue')).toBe(decimal(want.usdMicros));
    expect(col('payout')).toBe(decimal(want.usdPayoutMicros));
    expect(col('margin')).toBe(decimal(want.usdMicros - want.usdPayoutMicros));
    const approved = (
      await api(`/v1/reports/reconciliation?from=${weekAgo}&to=${today}&group_by=offer`)
    ).body.totals.find((t: any) => t.currency === 'USD');
    expect(col('payout / appr.')).toBe(decimal(BigInt(approved.payout_per_approved_micros)));
    // Net payout per approved conversion (approvals and releases), half even to the micro.
    expect(BigInt(approved.payout_per_approved_micros)).toBe(
      divideHalfEven(want.usdPayoutMicros, BigInt(approved.approved + approved.released)),
    );
    expect(col('rewards')).toBe(`${want.usdCoins.toLocaleString('en-US')} coins`);
    const eurTotal = await page
      .locator('#recon-table tfoot tr', { hasText: 'EUR' })
      .locator('td')
      .allInnerTexts();
    expect(eurTotal[heads.indexOf('margin')]).toBe('0.00');
    expect(eurTotal[heads.indexOf('rewards')]).toBe(`${want.eurCoins.toLocaleString('en-US')} coins`);
    await shot('reconciliation');

    await page.click('#recon-table tbody tr:has-text("dash-main")');
    await page.waitForFunction(() =>
      document.getElementById('recon-crumbs')?.textContent?.includes('dash-main'),
    );
    await viewReady('reconciliation');
    const pubs = await page.locator('#recon-table tbody tr td:first-child').allInnerTexts();
    expect(pubs).toEqual(['pub-1', 'pub-2']);
    await page.click('#recon-table tbody tr:has-text("pub-2")');
    await page.waitForFunction(() => document.getElementById('recon-crumbs')?.textContent?.includes('pub-2'));
    await viewReady('reconciliation');
    expect(await page.locator('#recon-table tbody tr td:first-child').allInnerTexts()).toEqual(['s2', 's3']);
    await shot('reconciliation-drill');
  });

  it('latency view: histograms with p50/p90/p99', async () => {
    await open('latency');
    const r = await api(`/v1/reports/latency?from=${weekAgo}&to=${today}&group_by=`);
    const c2c = r.body.rows.find((x: any) => x.metric === 'click_to_conversion');
    const box = page.locator('figure[data-metric="click_to_conversion"]');
    const text = await box.innerText();
    expect(text).toContain('p50');
    expect(text).toContain('p99');
    expect(text).toContain(String(c2c.count));
    const bars = await page.evaluate(() =>
      (window as any).Chart.getChart('lat-click_to_conversion').data.datasets[0].data.reduce(
        (a: number, b: number) => a + b,
        0,
      ),
    );
    expect(bars).toBe(c2c.count);
    // Two pending postbacks were approved two hours later.
    const delay = r.body.rows.find((x: any) => x.metric === 'postback_delay');
    expect(delay.count).toBe(2);
    const delayText = await page.locator('figure[data-metric="postback_delay"]').innerText();
    expect(delayText).toContain('2.0 h');
    await shot('latency');
  });

  it('review queue: the held conversion with its evidence; approving it writes a released entry', async () => {
    // A viewer sees the queue but has nothing to decide with.
    await signIn(tokens.viewer);
    await open('reviews');
    const item = page.locator(`article.review[data-transaction-id="${traffic.heldTx}"]`);
    expect(await item.innerText()).toContain('fraud_suspected');
    expect(await item.locator('button').count()).toBe(0);
    expect(await page.textContent('#reviews-who')).toContain('ops-viewer is a viewer');

    // The reviewer decides; the name on the ledger entry is the token's.
    await signIn(tokens.reviewer);
    await open('reviews');
    expect(await item.innerText()).toContain('5.00 USD');
    expect(await page.textContent('#reviews-who')).toContain(OPERATOR);
    await shot('reviews');

    await item.locator('button', { hasText: 'Approve' }).click();
    // No note yet: asked for, nothing sent.
    expect(await item.locator('.result').innerText()).toContain('note is required');
    await item.locator('textarea').fill('checked the device logs');
    await item.locator('button', { hasText: 'Approve' }).click();
    await page.waitForFunction(
      (tx) =>
        document
          .querySelector(`article.review[data-transaction-id="${tx}"] .result`)
          ?.textContent?.includes('ledger entry'),
      traffic.heldTx,
    );
    const result = await item.locator('.result').innerText();
    expect(result).toContain(`released by ${OPERATOR}`);
    const entryId = /ledger entry (\S+)/.exec(result)![1]!;
    await shot('reviews-approved');

    const [row] = await sys.db.ds.query(
      `SELECT entry_id, payload->>'operator' AS operator, payload->>'note' AS note, amount_micros::text AS amount
         FROM ledger_entries WHERE entry_type = 'released'`,
    );
    expect(row).toEqual({
      entry_id: entryId,
      operator: OPERATOR,
      note: 'checked the device logs',
      amount: '5000000',
    });
    const entries = (await sys.db.ds.query(`SELECT count(*)::int AS n FROM ledger_entries`))[0].n as number;
    const onTopic = (await readTopic(`${sys.prefix}conversions.ledger`, entries)) as any[];
    expect(onTopic.find((e) => e.entry_id === entryId)).toMatchObject({
      entry_type: 'released',
      operator: OPERATOR,
    });

    // A reload keeps the tab signed in; deciding again is refused and says why.
    await page.reload();
    await viewReady('reviews');
    expect(await page.textContent('#whoami')).toBe(`${OPERATOR} (reviewer)`);
    const again = await page.evaluate(
      async (id) => {
        const r = await fetch(`/v1/admin/reviews/${id}/reject`, {
          method: 'POST',
          headers: {
            authorization: `Bearer ${sessionStorage.getItem('ledger.adminToken')}`,
            'content-type': 'application/json',
          },
          body: JSON.stringify({ note: 'y' }),
        });
        return r.status;
      },
      onTopic.find((e) => e.entry_id === entryId).conversion_id,
    );
    expect(again).toBe(409);
  });

  it('audit log view: who changed what, with before and after', async () => {
    await open('audit');
    const row = page.locator('#audit-table tbody tr[data-action="review.approve"]');
    const text = await row.innerText();
    expect(text).toContain(`${OPERATOR} (reviewer)`);
    expect(text).toMatch(/conversion:cv_/);
    // Before: the held item; after: the released entry.
    expect(text).toMatch(/entry_type: – → "?released"?/);
    const r = await api('/v1/admin/audit?action=review.approve');
    expect(r.body.items).toHaveLength(1);
    expect(r.body.items[0]).toMatchObject({ operator: OPERATOR, role: 'reviewer' });
    await shot('audit');
    // Back to the admin for the views that follow.
    await signIn(ADMIN_TOKEN);
  });

  it('alerts view lists what GET /v1/admin/alerts says is firing', async () => {
    await open('alerts');
    const r = await api('/v1/admin/alerts');
    expect(r.status).toBe(200);
    const note = await page.textContent('#alerts-note');
    expect(note).toBe(r.body.count ? `${r.body.count} active alert(s)` : 'No active alerts.');
    expect(await page.textContent('#alerts-table thead')).toContain('severity');
    await shot('alerts');
  });

  it('launch gates view: each partner against its criteria, as the launch-check API says', async () => {
    await sys.admin('POST', '/v1/admin/partners', {
      id: 'dash-net-a',
      name: 'A',
      auth: { mode: 'token', token: 'tok-0123456789abcdef' },
    });
    await open('launch');
    const from = await page.inputValue('#from');
    const to = await page.inputValue('#to');
    const check = await api(`/v1/admin/launch-check?from=${from}&to=${to}&partner_id=dash-net-a`);
    expect(check.status).toBe(200);
    const row = await page.textContent('#launch-table tbody tr:has(td:text-is("dash-net-a"))');
    expect(row).toContain(check.body.pass ? 'PASS' : 'FAIL');
    for (const r of check.body.results as { detail: string }[]) expect(row).toContain(r.detail);
    await shot('launch-gates');
  });

  it('consumer lag view: the processor group per partition, from the Kafka admin API', async () => {
    // Everything is processed; the last commits may still be on their way.
    const group = await poll('the processor group has no lag', async () => {
      const r = await api('/v1/admin/consumer-lag');
      expect(r.status).toBe(200);
      const g = r.body.groups.find((x: any) => x.group_id === `${sys.prefix}ledger-processor`);
      return g?.lag === 0 && g.partitions.length > 0 ? g : undefined;
    });
    expect(group.partitions.map((p: any) => p.topic)).toEqual(
      expect.arrayContaining([`${sys.prefix}clicks.recorded`, `${sys.prefix}postbacks.received`]),
    );
    for (const p of group.partitions) expect(p.lag).toBe(p.log_end_offset - (p.committed_offset ?? 0));

    await open('lag');
    const rows = page.locator(`#lag-table tbody tr[data-group="${sys.prefix}ledger-processor"]`);
    expect(await rows.count()).toBe(group.partitions.length);
    expect(await page.locator('#lag-cards').innerText()).toContain(sys.prefix);
    await shot('consumer-lag');
  });

  it('sign out forgets the token and clears the data', async () => {
    await page.click('#sign-out');
    expect(await page.isVisible('#login')).toBe(true);
    expect(await page.evaluate(() => sessionStorage.getItem('ledger.adminToken'))).toBeNull();
    expect(await page.evaluate(() => localStorage.getItem('ledger.adminToken'))).toBeNull();
    expect(await page.locator('main tbody tr').count()).toBe(0);
  });
});
