import { spawnSync } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import {
  type AppProcess,
  freePort,
  httpJson,
  poll,
  signedPostbackUrl,
  spawnApp,
  waitReady,
} from '@app/testing';
import { ledgerCli, type RunningSystem, startSystem } from './support';

/**
 * Payout and reward rules (issue 16) end to end: rules added through the admin API price the
 * approvals the real processor decides from signed postbacks sent to the real gateway; a newer
 * rule prices only what arrives after its start, and a reversal takes back exactly what its
 * approval gave; the double entry balances (API and CLI); the real notifier tells publishers.
 */
describe('payout and reward rules', () => {
  let sys: RunningSystem;
  let notifier: AppProcess;
  let server: Server;
  let port = 0;
  const calls: URL[] = [];
  const OFFER = 'o-money';
  const SHARE_PUB = 'pub-share';
  const FIXED_PUB = 'pub-fixed';
  const PARTNER = 'partner-money';
  const SECRET = 'partner-money-secret-0123456789abcdef';
  const rules: Record<string, string> = {};

  interface Entry {
    entry_id: string;
    entry_type: string;
    amount_micros: string;
    payout_micros: string;
    reward_amount: string | null;
    reward_currency: string | null;
    payout_rule_id: string | null;
  }

  const entryOf = (tx: string, type: string) =>
    poll(
      `${type} entry of ${tx}`,
      async () =>
        (
          (await sys.db.ds.query(
            `SELECT entry_id, entry_type, amount_micros::text, payout_micros::text, reward_amount::text,
                    reward_currency, payout_rule_id::text
               FROM ledger_entries WHERE transaction_id = $1 AND entry_type = $2`,
            [tx, type],
          )) as Entry[]
        )[0],
      60000,
    );
  const legsOf = async (entryId: string) =>
    (
      (await sys.db.ds.query(
        `SELECT account, amount_micros::text AS amount FROM ledger_postings WHERE entry_id = $1 ORDER BY posting_id`,
        [entryId],
      )) as { account: string; amount: string }[]
    ).map((l) => [l.account, l.amount]);

  /** A click minted by the gateway for the publisher, stored by the processor. */
  const click = async (publisher: string): Promise<string> => {
    const r = await httpJson(`${sys.gatewayUrl}/v1/clicks`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ offer_id: OFFER, publisher_id: publisher }),
    });
    expect(r.status).toBe(201);
    const id = r.body.click_id as string;
    await poll(
      'click stored',
      async () => (await sys.db.ds.query(`SELECT 1 FROM clicks WHERE click_id = $1`, [id]))[0],
    );
    return id;
  };
  /** A signed postback as the partner sends it; the offer's payout (2.00 USD) is the revenue. */
  const postback = async (clickId: string, tx: string, status: 'approved' | 'reversed') => {
    const s = signedPostbackUrl(sys.gatewayUrl, PARTNER, SECRET, {
      click_id: clickId,
      transaction_id: tx,
      status,
    });
    const r = await httpJson(s.url, { headers: s.headers });
    expect(r.status).toBe(200);
  };
  /** Waits, on the clock, until a rule's start has passed: what arrives from now on is priced by it. */
  const inForce = (rule: { effective_from: string }) =>
    poll(
      `rule in force from ${rule.effective_from}`,
      async () => Date.now() > Date.parse(rule.effective_from),
      60000,
      50,
    );
  /** GET /v1/admin/payout-rules with a query. */
  const payoutRules = async (query: string) =>
    (await sys.admin('GET', `/v1/admin/payout-rules?${query}`)).body as {
      items: { rule_id: string; in_force: boolean }[];
      applies: unknown[];
    };
  const addRule = async (path: string, body: Record<string, unknown>) => {
    const r = await sys.admin('POST', path, body);
    expect(r.status).toBe(201);
    return r.body as { rule_id: string; effective_from: string };
  };

  beforeAll(async () => {
    server = createServer((req, res) => {
      calls.push(new URL(req.url ?? '/', `http://127.0.0.1:${port}`));
      res.writeHead(200).end('ok');
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    port = (server.address() as AddressInfo).port;
    sys = await startSystem('money', { env: { PUBLISHER_URL_ALLOW: '127.0.0.1' } });
    const healthPort = await freePort();
    notifier = spawnApp('notifier', {
      DATABASE_URL: sys.db.url,
      KAFKA_BROKERS: process.env.KAFKA_BROKERS || '127.0.0.1:9092',
      TOPIC_PREFIX: sys.prefix,
      HEALTH_PORT: String(healthPort),
      LOG_LEVEL: 'log',
      DELIVERY_POLL_MS: '100',
      PUBLISHER_URL_ALLOW: '127.0.0.1',
    });
    await waitReady(notifier, `http://127.0.0.1:${healthPort}/health/ready`);
    for (const [path, body] of [
      ['/v1/admin/publishers', { id: SHARE_PUB, name: 'Share wall' }],
      ['/v1/admin/publishers', { id: FIXED_PUB, name: 'Fixed wall' }],
      [
        '/v1/admin/offers',
        {
          id: OFFER,
          name: 'Money',
          landing_url: 'https://adv.example/land?c={click_id}',
          payout: '2.00',
          currency: 'USD',
          goals: ['install', 'purchase'],
        },
      ],
      ['/v1/admin/partners', { id: PARTNER, name: 'Partner', auth: { mode: 'hmac', secret: SECRET } }],
    ] as const)
      expect((await sys.admin('POST', path, body)).status).toBe(201);
    for (const pub of [SHARE_PUB, FIXED_PUB])
      expect(
        (
          await sys.admin('PUT', `/v1/admin/publishers/${pub}/postback`, {
            url: `http://127.0.0.1:${port}/pb/${pub}?tx={transaction_id}&status={status}&payout={payout}&revenue={revenue}&reward={reward}`,
            secret: `${pub}-signing-secret-0123456789abcdef`,
          })
        ).status,
      ).toBe(200);
  });

  afterAll(async () => {
    await notifier?.stop('SIGKILL');
    await sys?.stop();
    server?.closeAllConnections();
    await new Promise((r) => server?.close(r));
  });

  it('refuses rules that do not fit with a 4xx naming the field', async () => {
    const cases: [string, Record<string, unknown>, number, string, string][] = [
      [
        '/v1/admin/payout-rules',
        { offer_id: 'nope', kind: 'share', share_percent: 70 },
        404,
        'unknown_offer',
        'offer_id',
      ],
      [
        '/v1/admin/payout-rules',
        { offer_id: OFFER, publisher_id: 'nope', kind: 'fixed', amount: '1' },
        404,
        'unknown_publisher',
        'publisher_id',
      ],
      [
        '/v1/admin/payout-rules',
        { offer_id: OFFER, goal: 'signup', kind: 'fixed', amount: '1' },
        400,
        'unknown_goal',
        'goal',
      ],
      [
        '/v1/admin/payout-rules',
        { offer_id: OFFER, kind: 'share', share_percent: '100.5' },
        400,
        'invalid_field',
        'share_percent',
      ],
      [
        '/v1/admin/payout-rules',
        { offer_id: OFFER, kind: 'share', amount: '1.50' },
        400,
        'invalid_field',
        'amount',
      ],
      [
        '/v1/admin/payout-rules',
        { offer_id: OFFER, kind: 'fixed', amount: '1e3' },
        400,
        'invalid_field',
        'amount',
      ],
      [
        '/v1/admin/reward-rules',
        { publisher_id: SHARE_PUB, currency_name: 'coins', units_per_unit: '0', rounding: 'floor' },
        400,
        'invalid_field',
        'units_per_unit',
      ],
      [
        '/v1/admin/reward-rules',
        { publisher_id: 'nope', currency_name: 'coins', units_per_unit: '1', rounding: 'floor' },
        404,
        'unknown_publisher',
        'publisher_id',
      ],
    ];
    for (const [path, body, status, code, field] of cases) {
      const r = await sys.admin('POST', path, body);
      expect({ body, status: r.status, code: r.body.error?.code, field: r.body.error?.field }).toEqual({
        body,
        status,
        code,
        field,
      });
    }
    // The CLI refuses the same way (exit 1, the option named), and nothing was stored.
    const cli = spawnSync(
      process.execPath,
      [
        join(__dirname, '..', 'dist', 'infra', 'cli', 'ledger.js'),
        ...['rules', 'payout', 'add', '--offer', 'nope', '--share', '70'],
      ],
      { env: { PATH: process.env.PATH ?? '', DATABASE_URL: sys.db.url, USER: 'test-ops' }, encoding: 'utf8' },
    );
    expect(cli.status).toBe(1);
    expect(cli.stderr).toMatch(/refused: .*no offer nope/);
    expect(await sys.db.ds.query(`SELECT count(*)::int AS n FROM payout_rules`)).toEqual([{ n: 0 }]);
    expect(await sys.db.ds.query(`SELECT count(*)::int AS n FROM reward_rules`)).toEqual([{ n: 0 }]);
  });

  it('prices approvals by the rules in force: 70 % for everyone, a fixed 1.50 override, 100 coins per unit', async () => {
    const share = await addRule('/v1/admin/payout-rules', {
      offer_id: OFFER,
      kind: 'share',
      share_percent: '70',
      note: 'rate card v1',
    });
    const fixed = await addRule('/v1/admin/payout-rules', {
      offer_id: OFFER,
      publisher_id: FIXED_PUB,
      kind: 'fixed',
      amount: '1.50',
    });
    const coins = await addRule('/v1/admin/reward-rules', {
      publisher_id: SHARE_PUB,
      currency_name: 'coins',
      units_per_unit: 100,
      rounding: 'floor',
      minimum: 1,
    });
    rules.share70 = share.rule_id;
    rules.fixed = fixed.rule_id;
    expect(share).toMatchObject({
      kind: 'share',
      share_percent: '70',
      share_bp: 7000,
      amount: null,
      currency: 'USD',
      goal: null,
      publisher_id: null,
      created_by: 'bootstrap-admin',
    });
    expect(fixed).toMatchObject({
      kind: 'fixed',
      amount: '1.5',
      amount_micros: '1500000',
      share_percent: null,
    });
    expect(coins).toMatchObject({
      currency_name: 'coins',
      units_per_unit: '100',
      units_per_unit_micros: '100000000',
    });
    // No start given: in force from the moment it was stored (the database's clock).
    expect(share.effective_from).toBe((share as unknown as { created_at: string }).created_at);
    const now = await payoutRules(`offer_id=${OFFER}`);
    expect(now.items.map((r) => r.in_force)).toEqual([true, true]);
    // Before its start a rule is listed but not in force.
    const earlier = await payoutRules(
      `offer_id=${OFFER}&at=${encodeURIComponent(new Date(Date.parse(share.effective_from) - 1000).toISOString())}`,
    );
    expect(earlier.items.map((r) => r.in_force)).toEqual([false, false]);
    expect(earlier.applies).toContainEqual({
      goal: 'install',
      publisher_id: null,
      rule_id: null,
      kind: null,
      share_percent: null,
      amount: null,
    });
    const audit = await sys.admin('GET', `/v1/admin/audit?subject=payout_rule:${share.rule_id}`);
    expect(audit.body.items[0]).toMatchObject({ action: 'payout_rule.create', after: { share_bp: 7000 } });

    await inForce(share);
    await inForce(fixed);
    await inForce(coins);
    expect(now.applies).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          goal: 'install',
          publisher_id: null,
          rule_id: share.rule_id,
          share_percent: '70',
        }),
        expect.objectContaining({
          goal: 'purchase',
          publisher_id: FIXED_PUB,
          rule_id: fixed.rule_id,
          amount: '1.5',
        }),
      ]),
    );
    const rewards = await sys.admin('GET', `/v1/admin/reward-rules?publisher_id=${SHARE_PUB}`);
    expect(rewards.body.items).toEqual([expect.objectContaining({ rule_id: coins.rule_id, in_force: true })]);

    await postback(await click(SHARE_PUB), 'tx-share-1', 'approved');
    await postback(await click(FIXED_PUB), 'tx-fixed-1', 'approved');
    const a = await entryOf('tx-share-1', 'approved');
    const b = await entryOf('tx-fixed-1', 'approved');
    expect(a).toMatchObject({
      amount_micros: '2000000',
      payout_micros: '1400000',
      reward_amount: '140',
      reward_currency: 'coins',
      payout_rule_id: share.rule_id,
    });
    expect(b).toMatchObject({
      amount_micros: '2000000',
      payout_micros: '1500000',
      reward_amount: null,
      payout_rule_id: fixed.rule_id,
    });
    expect(await legsOf(a.entry_id)).toEqual([
      [`advertiser_receivable:${PARTNER}`, '2000000'],
      [`publisher_payable:${SHARE_PUB}`, '-1400000'],
      ['platform_revenue', '-600000'],
    ]);
    expect(await legsOf(b.entry_id)).toEqual([
      [`advertiser_receivable:${PARTNER}`, '2000000'],
      [`publisher_payable:${FIXED_PUB}`, '-1500000'],
      ['platform_revenue', '-500000'],
    ]);
  });

  it('a newer rule prices what arrives after its start; a reversal takes back exactly what its approval gave', async () => {
    const start = new Date(Date.now() + 8000).toISOString();
    const half = await addRule('/v1/admin/payout-rules', {
      offer_id: OFFER,
      kind: 'share',
      share_percent: 50,
      effective_from: start,
      note: 'rate card v2',
    });
    expect(half.effective_from).toBe(start);
    // Rules are never edited: the same offer, goal, publisher and start again is a conflict.
    const again = await sys.admin('POST', '/v1/admin/payout-rules', {
      offer_id: OFFER,
      kind: 'fixed',
      amount: '1',
      effective_from: start,
    });
    expect(again).toMatchObject({ status: 409, body: { error: { code: 'rule_exists' } } });
    const inForceAt = async (t: string) =>
      (await payoutRules(`offer_id=${OFFER}&at=${encodeURIComponent(t)}`)).items
        .filter((r) => r.in_force)
        .map((r) => r.rule_id);
    expect(await inForceAt(new Date().toISOString())).toEqual([rules.share70, rules.fixed]);
    expect(await inForceAt(start)).toEqual([half.rule_id, rules.fixed]);

    await inForce(half);
    await postback(await click(SHARE_PUB), 'tx-share-2', 'approved');
    await postback(await click(FIXED_PUB), 'tx-fixed-2', 'approved');
    // The older approval, reversed after the rule changed.
    const clickOfFirst = (
      (await sys.db.ds.query(`SELECT click_id FROM ledger_entries WHERE transaction_id = 'tx-share-1'`)) as {
        click_id: string;
      }[]
    )[0]!.click_id;
    await postback(clickOfFirst, 'tx-share-1', 'reversed');

    expect(await entryOf('tx-share-2', 'approved')).toMatchObject({
      payout_micros: '1000000',
      reward_amount: '100',
      payout_rule_id: half.rule_id,
    });
    // The override still beats the newer rule for everyone.
    expect(await entryOf('tx-fixed-2', 'approved')).toMatchObject({
      payout_micros: '1500000',
      payout_rule_id: rules.fixed,
    });
    const reversal = await entryOf('tx-share-1', 'reversed');
    expect(reversal).toMatchObject({
      amount_micros: '2000000',
      payout_micros: '1400000',
      reward_amount: '140',
      reward_currency: 'coins',
      payout_rule_id: rules.share70,
    });
    expect(await legsOf(reversal.entry_id)).toEqual([
      [`advertiser_receivable:${PARTNER}`, '-2000000'],
      [`publisher_payable:${SHARE_PUB}`, '1400000'],
      ['platform_revenue', '600000'],
    ]);
    // The first approval was not repriced.
    expect(await entryOf('tx-share-1', 'approved')).toMatchObject({ payout_micros: '1400000' });
    // Nor can it be: a rule reaching back over written entries is refused, by the API and the CLI.
    const before = new Date(Date.now() - 3600_000).toISOString();
    const back = await sys.admin('POST', '/v1/admin/payout-rules', {
      offer_id: OFFER,
      kind: 'share',
      share_percent: 10,
      effective_from: before,
    });
    expect(back).toMatchObject({
      status: 409,
      body: { error: { code: 'rule_reaches_back', field: 'effective_from' } },
    });
    const cli = spawnSync(
      process.execPath,
      [
        join(__dirname, '..', 'dist', 'infra', 'cli', 'ledger.js'),
        ...['rules', 'reward', 'add', '--publisher', SHARE_PUB, '--currency-name', 'gems', '--per-unit', '5'],
        ...['--rounding', 'floor', '--from', before],
      ],
      { env: { PATH: process.env.PATH ?? '', DATABASE_URL: sys.db.url, USER: 'test-ops' }, encoding: 'utf8' },
    );
    expect(cli.status).toBe(1);
    expect(cli.stderr).toMatch(/would reach back over entry/);
  });

  it('the trial balance, through the API and the CLI, balances and the receivable is the net revenue', async () => {
    const [{ net }] = (await sys.db.ds.query(
      `SELECT sum(CASE WHEN entry_type = 'reversed' THEN -amount_micros ELSE amount_micros END)::text AS net
         FROM ledger_entries WHERE entry_type IN ('approved', 'released', 'reversed', 'adjusted')`,
    )) as [{ net: string }];
    expect(net).toBe('6000000'); // four approvals of 2.00, one reversed
    const api = await sys.admin('GET', '/v1/admin/trial-balance');
    expect(api.status).toBe(200);
    expect(api.body).toMatchObject({ balanced: true, entries_without_postings: 0 });
    const { accounts } = api.body as { accounts: { account: string; balance_micros: string }[] };
    const balance = (account: string) => accounts.find((a) => a.account === account)?.balance_micros;
    expect(balance(`advertiser_receivable:${PARTNER}`)).toBe(net);
    expect(balance(`publisher_payable:${SHARE_PUB}`)).toBe('-1000000'); // 1.40 + 1.00 - 1.40
    expect(balance(`publisher_payable:${FIXED_PUB}`)).toBe('-3000000');
    expect(balance('platform_revenue')).toBe('-2000000');
    expect(api.body.totals).toEqual([
      { currency: 'USD', debit_micros: '10000000', credit_micros: '10000000', difference_micros: '0' },
    ]);
    const cli = JSON.parse(ledgerCli(sys.db.url, ['trial-balance', '--format', 'json']));
    expect(cli).toEqual(api.body);
    expect(ledgerCli(sys.db.url, ['trial-balance'])).toContain('BALANCED');
    // The CLI adds rules the same way (audited as cli:<operator>) and lists them.
    const gems = JSON.parse(
      ledgerCli(sys.db.url, [
        ...['rules', 'reward', 'add', '--publisher', FIXED_PUB, '--currency-name', 'gems'],
        ...['--per-unit', '2.5', '--rounding', 'round', '--from', '2030-01-01T00:00:00Z', '--json'],
      ]),
    ) as { rule_id: string };
    expect(gems).toMatchObject({
      units_per_unit: '2.5',
      units_per_unit_micros: '2500000',
      effective_from: '2030-01-01T00:00:00.000Z',
      created_by: 'cli:test-ops',
    });
    const gemsListed = JSON.parse(
      ledgerCli(sys.db.url, ['rules', 'reward', 'list', '--publisher', FIXED_PUB, '--json']),
    ) as { items: unknown[] };
    expect(gemsListed.items).toEqual([expect.objectContaining({ rule_id: gems.rule_id, in_force: false })]);
    const audit = await sys.admin('GET', `/v1/admin/audit?subject=reward_rule:${gems.rule_id}`);
    expect(audit.body.items[0]).toMatchObject({ operator: 'cli:test-ops', action: 'reward_rule.create' });
    const listed = ledgerCli(sys.db.url, ['rules', 'payout', 'list', '--offer', OFFER]);
    expect(listed).toMatch(/rate card v2/);
    expect(listed).toContain('50 %');
  });

  it("tells each publisher its own payout and its user's reward ({payout}, {reward})", async () => {
    const seen = await poll(
      'five publisher postbacks',
      async () => (calls.length >= 5 ? calls : undefined),
      60000,
    );
    const of = (tx: string, status: string) =>
      Object.fromEntries(
        seen.find((u) => u.searchParams.get('tx') === tx && u.searchParams.get('status') === status)!
          .searchParams,
      );
    // {payout} is the publisher's own payout (the ledger entry's payout_micros), not the revenue;
    // a reversal tells what it takes back.
    expect(of('tx-share-1', 'approved')).toMatchObject({ revenue: '2', payout: '1.4', reward: '140' });
    expect(of('tx-fixed-1', 'approved')).toMatchObject({ revenue: '2', payout: '1.5', reward: '' });
    expect(of('tx-share-2', 'approved')).toMatchObject({ revenue: '2', payout: '1', reward: '100' });
    expect(of('tx-share-1', 'reversed')).toMatchObject({ revenue: '2', payout: '1.4', reward: '140' });
  });
});
