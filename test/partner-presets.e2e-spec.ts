import { ulidFactory } from '@app/domain';
import { httpJson, poll } from '@app/testing';
import { type RunningSystem, startSystem } from './support';

/**
 * Issue 15: every common postback format integrates by configuration. For each platform preset,
 * a partner is created through the admin API with `preset`, the platform's own documented
 * postbacks are sent as it sends them (status changes included where it has them), and the
 * ledger is read back from Postgres.
 */
const TOKEN = 'tok-presets-0123456789';
const REPLAY_TOKEN = 'replay-token-presets-0123';
const OFFER = 'offer-presets';
const PUBLISHER = 'pub-presets';

interface Entry {
  entry_type: string;
  transaction_id: string;
  amount_micros: string;
  currency: string;
  partner_id: string;
  late: boolean;
  reason_code: string | null;
}

/** One platform: its native postbacks (`$C` is the click id) and the ledger they must leave. */
interface Case {
  preset: string;
  postbacks: string[];
  /** [entry_type, transaction_id ($C: the click id), amount_micros] in ledger order. */
  ledger: [string, string, string][];
}

const CASES: Case[] = [
  {
    preset: 'everflow',
    postbacks: ['nid=1234&transaction_id=$C&amount=12,34&adv1=spring'],
    ledger: [['approved', 'click:$C', '12340000']],
  },
  {
    preset: 'tune',
    postbacks: [
      'offer_id=26&transaction_id=$C&adv_sub=tune-$C&amount=3.10&status=pending',
      'offer_id=26&transaction_id=$C&adv_sub=tune-$C&amount=3.10&status=approved',
    ],
    ledger: [
      ['pending', 'tune-$C', '0'],
      ['approved', 'tune-$C', '3100000'],
    ],
  },
  {
    preset: 'cake',
    postbacks: ['o=100&e=1&f=pb&r=$C&t=cake-$C&p=3.50'],
    ledger: [['approved', 'cake-$C', '3500000']],
  },
  {
    preset: 'affise',
    postbacks: [
      'clickid=$C&action_id=aff-$C&status=2&sum=2.5',
      'clickid=$C&action_id=aff-$C&status=1&sum=2.5',
    ],
    ledger: [
      ['pending', 'aff-$C', '0'],
      ['approved', 'aff-$C', '2500000'],
    ],
  },
  {
    preset: 'trackier',
    postbacks: [
      'click_id=$C&txn_id=trk-$C&revenue=2.00&sale_amount=40&status=pending',
      'click_id=$C&txn_id=trk-$C&revenue=2.00&status=approved',
      'click_id=$C&txn_id=trk-$C&status=cancelled',
    ],
    ledger: [
      ['pending', 'trk-$C', '0'],
      ['approved', 'trk-$C', '2000000'],
      ['reversed', 'trk-$C', '2000000'],
    ],
  },
  {
    preset: 'scaleo',
    postbacks: [
      'click_id=$C&goal_id=1673&conv_status=pending&revenue=1.10&aff_param1=AP12',
      'click_id=$C&goal_id=1673&conv_status=approved&revenue=1.10',
    ],
    ledger: [
      ['pending', 'click:$C', '0'],
      ['approved', 'click:$C', '1100000'],
    ],
  },
  {
    preset: 'keitaro',
    postbacks: ['subid=$C&status=lead&payout=10&currency=usd', 'subid=$C&status=sale&payout=10&currency=usd'],
    ledger: [
      ['pending', 'click:$C', '0'],
      ['approved', 'click:$C', '10000000'],
    ],
  },
  {
    preset: 'binom',
    postbacks: [
      'cnv_id=$C&payout=5&cnv_status=Hold',
      'cnv_id=$C&payout=5&cnv_status=approve&cnv_currency=USD',
    ],
    ledger: [
      ['pending', 'click:$C', '0'],
      ['approved', 'click:$C', '5000000'],
    ],
  },
  {
    preset: 'voluum',
    postbacks: ['cid=$C&payout=1.5&txid=vol-$C&currency=USD'],
    ledger: [['approved', 'vol-$C', '1500000']],
  },
  {
    preset: 'redtrack',
    postbacks: ['clickid=$C&sum=3&status=pending', 'clickid=$C&sum=3&status=approved'],
    ledger: [
      ['pending', 'click:$C', '0'],
      ['approved', 'click:$C', '3000000'],
    ],
  },
  {
    preset: 'bemob',
    postbacks: ['cid=$C&payout=2.5&status=new', 'cid=$C&payout=2.5&status=confirm', 'cid=$C&status=charge'],
    ledger: [
      ['pending', 'click:$C', '0'],
      ['approved', 'click:$C', '2500000'],
      ['reversed', 'click:$C', '2500000'],
    ],
  },
  {
    preset: 'peerclick',
    postbacks: [
      'cid=$C&payout=1.25&status=pending&txid=pc-$C&conversion_id=custom',
      'cid=$C&payout=1.25&status=approved&txid=pc-$C',
    ],
    ledger: [
      ['pending', 'pc-$C', '0'],
      ['approved', 'pc-$C', '1250000'],
    ],
  },
  {
    preset: 'prosper202',
    postbacks: ['amount=4.25&cid=12&subid=$C'],
    ledger: [['approved', 'click:$C', '4250000']],
  },
  {
    preset: 'orbitra',
    postbacks: ['subid=$C&status=lead', 'subid=$C&status=sale&payout=30'],
    ledger: [
      ['pending', 'click:$C', '0'],
      ['approved', 'click:$C', '30000000'],
    ],
  },
  {
    preset: 'indoleads',
    postbacks: [
      'click_id=$C&rate=2.5&currency=USD&txn_id=ind-$C',
      'click_id=$C&rate=2.5&currency=USD&txn_id=ind-$C&status=approved',
    ],
    ledger: [
      ['pending', 'ind-$C', '0'],
      ['approved', 'ind-$C', '2500000'],
    ],
  },
];

describe('partner presets: native postbacks into the ledger', () => {
  let sys: RunningSystem;

  beforeAll(async () => {
    sys = await startSystem('presets', { env: { REPLAY_TOKEN } });
    for (const r of [
      await sys.admin('POST', '/v1/admin/publishers', { id: PUBLISHER, name: 'Publisher' }),
      await sys.admin('POST', '/v1/admin/offers', {
        id: OFFER,
        name: 'Offer',
        landing_url: 'https://adv.example/land?c={click_id}',
        payout: '1.25',
        currency: 'USD',
      }),
    ])
      if (r.status !== 201) throw new Error(`seeding failed: ${r.status} ${JSON.stringify(r.body)}`);
  });
  afterAll(async () => {
    await sys?.stop();
  });

  const click = async (): Promise<string> => {
    const r = await httpJson(`${sys.gatewayUrl}/v1/clicks`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ offer_id: OFFER, publisher_id: PUBLISHER }),
    });
    expect(r.status).toBe(201);
    return r.body.click_id as string;
  };

  const createPartner = async (id: string, body: Record<string, unknown>) => {
    const r = await sys.admin('POST', '/v1/admin/partners', {
      id,
      name: id,
      auth: { mode: 'token', token: TOKEN },
      ...body,
    });
    expect({ id, status: r.status, body: r.body }).toMatchObject({ status: 201 });
    return r.body as { auth: { token_param: string } } & Record<string, unknown>;
  };

  const send = async (
    partner: string,
    tokenParam: string,
    query: string,
    headers: Record<string, string> = {},
  ) => httpJson(`${sys.gatewayUrl}/v1/postbacks/${partner}?${query}&${tokenParam}=${TOKEN}`, { headers });

  const entriesOf = (clickId: string): Promise<Entry[]> =>
    sys.db.ds.query(
      `SELECT entry_type, transaction_id, amount_micros, currency, partner_id, late, reason_code
         FROM ledger_entries WHERE click_id = $1 ORDER BY seq`,
      [clickId],
    );

  const ledgerOf = (clickId: string, n: number) =>
    poll(`${n} ledger entries for ${clickId}`, async () => {
      const rows = await entriesOf(clickId);
      return rows.length >= n ? rows : undefined;
    });

  /** The decision of a postback the processor took, waited for (duplicates write no entry). */
  const outcomesOf = (partner: string, n: number) =>
    poll(`${n} outcomes of ${partner}`, async () => {
      const rows: { outcome: string; transaction_id: string }[] = await sys.db.ds.query(
        `SELECT outcome, transaction_id FROM postback_outcomes WHERE partner_id = $1 ORDER BY decided_at, event_id`,
        [partner],
      );
      return rows.length >= n ? rows : undefined;
    });

  it.each(CASES.map((c) => [c.preset, c] as const))(
    '%s: the documented postbacks land in the ledger as the platform meant',
    async (preset, c) => {
      const partner = await createPartner(`pn-${preset}`, { preset });
      const tokenParam = partner.auth.token_param;
      const clickId = await click();
      // Sent one at a time, each decided before the next: a status change follows its first report.
      for (const [i, q] of c.postbacks.entries()) {
        const r = await send(`pn-${preset}`, tokenParam, q.replaceAll('$C', clickId));
        expect({ preset, status: r.status, body: r.body }).toMatchObject({ status: 200 });
        await outcomesOf(`pn-${preset}`, i + 1);
      }
      const rows = await ledgerOf(clickId, c.ledger.length);
      expect(rows.map((r) => [r.entry_type, r.transaction_id, r.amount_micros])).toEqual(
        c.ledger.map(([t, tx, amount]) => [t, tx.replaceAll('$C', clickId), amount]),
      );
      for (const r of rows) expect(r).toMatchObject({ currency: 'USD', partner_id: `pn-${preset}` });
    },
  );

  it('a preset fills the token parameter, and the partner shows what it was made from', async () => {
    const r = await sys.admin('GET', '/v1/admin/partners/pn-everflow');
    expect(r.body).toMatchObject({
      preset: 'everflow',
      auth: { token_param: 'verification_token' },
      key_map: { click_id: ['transaction_id'], transaction_id: ['order_id'] },
      format: { default_status: 'approved', missing_transaction_id: 'per_click', decimal_comma: true },
    });
    const bad = await sys.admin('POST', '/v1/admin/partners', {
      id: 'pn-bad',
      name: 'bad',
      preset: 'nope',
      auth: { mode: 'token', token: TOKEN },
    });
    expect(bad).toMatchObject({ status: 400, body: { error: { field: 'preset' } } });
  });

  it('no transaction id: the same click and goal again is a duplicate, never a second conversion', async () => {
    const clickId = await click();
    for (const n of [1, 2]) {
      expect((await send('pn-prosper202', 'token', `amount=4.25&subid=${clickId}`)).status).toBe(200);
      await poll('decided', async () => {
        const rows: { n: number }[] = await sys.db.ds.query(
          `SELECT count(*)::int AS n FROM postback_outcomes WHERE click_id = $1`,
          [clickId],
        );
        return rows[0]!.n >= n || undefined;
      });
    }
    const outcomes: { outcome: string }[] = await sys.db.ds.query(
      `SELECT outcome FROM postback_outcomes WHERE click_id = $1 ORDER BY decided_at`,
      [clickId],
    );
    expect(outcomes.map((o) => o.outcome)).toEqual(['accepted', 'duplicate']);
    expect((await entriesOf(clickId)).map((e) => e.entry_type)).toEqual(['approved']);
  });

  it('GET /v1/admin/partners/:id/postback-url: the platform macros and the token to fill in', async () => {
    const everflow = await sys.admin('GET', '/v1/admin/partners/pn-everflow/postback-url');
    expect(everflow).toMatchObject({
      status: 200,
      body: {
        preset: 'everflow',
        url: `${sys.gatewayUrl}/v1/postbacks/pn-everflow?transaction_id={sub1}&order_id={transaction_id}&amount={payout_amount}&verification_token=REPLACE_TOKEN`,
        auth: { modes: ['token'], token_param: 'verification_token' },
      },
    });
    const cake = await sys.admin(
      'GET',
      '/v1/admin/partners/pn-cake/postback-url?base_url=https://postbacks.example.com',
    );
    expect(cake.body.url).toBe(
      'https://postbacks.example.com/v1/postbacks/pn-cake?r=#s2#&t=#leadid#&p=#price#&token=REPLACE_TOKEN',
    );
    await createPartner('pn-hmac', {
      auth: { mode: 'hmac', secret: 'secret-presets-0123456789abcdef0123456789' },
    });
    const hmac = await sys.admin('GET', '/v1/admin/partners/pn-hmac/postback-url');
    expect(hmac.body.preset).toBeNull();
    expect(hmac.body.url).toContain('click_id=REPLACE_CLICK_ID&transaction_id=REPLACE_TRANSACTION_ID');
    expect((hmac.body.auth.instructions as string[]).join(' ')).toContain('HMAC-SHA256');
    expect((await sys.admin('GET', '/v1/admin/partners/nope/postback-url')).status).toBe(404);
  });

  it('reversals by a negative amount, an id prefix or a flag reverse the original transaction', async () => {
    await createPartner('pn-custom', {
      key_map: { click_id: ['sid'] },
      format: {
        default_status: 'approved',
        decimal_comma: true,
        reversal: { negative_amount: true, id_prefix: 'r-', flag_param: 'is_chargeback' },
      },
    });
    const marks = ['tx=T&amount=-2,50', 'tx=r-T', 'tx=T&is_chargeback=1'];
    for (const mark of marks) {
      const clickId = await click();
      const tx = `cus-${clickId}`;
      const first = await send('pn-custom', 'token', `sid=${clickId}&transaction_id=${tx}&payout=2,50`);
      expect(first.status).toBe(200);
      await ledgerOf(clickId, 1);
      const q = mark.replace('tx=r-T', `transaction_id=r-${tx}`).replace('tx=T', `transaction_id=${tx}`);
      expect((await send('pn-custom', 'token', `sid=${clickId}&${q}`)).status).toBe(200);
      const rows = await ledgerOf(clickId, 2);
      expect(rows.map((r) => [r.entry_type, r.transaction_id, r.amount_micros])).toEqual([
        ['approved', tx, '2500000'],
        ['reversed', tx, '2500000'],
      ]);
    }
  });

  it("a partner's own late threshold flags a postback the processor's default would not", async () => {
    const fiveMinutesOn = () => new Date(Date.now() + 5 * 60_000).toISOString();
    const replay = () => ({ 'x-replay-time': fiveMinutesOn(), 'x-replay-token': REPLAY_TOKEN });
    await createPartner('pn-late', { preset: 'voluum', late_after_seconds: 60 });
    const slow = await click();
    expect((await send('pn-late', 'token', `cid=${slow}`, replay())).status).toBe(200);
    const fast = await click();
    expect((await send('pn-voluum', 'token', `cid=${fast}`, replay())).status).toBe(200);
    expect((await ledgerOf(slow, 1))[0]).toMatchObject({ entry_type: 'approved', late: true });
    expect((await ledgerOf(fast, 1))[0]).toMatchObject({ entry_type: 'approved', late: false });
  });

  it("a partner's own retry budget: none left means its unknown click is decided at once", async () => {
    await createPartner('pn-noretry', { preset: 'voluum', retry_attempts: 0 });
    // Well-formed and newer than the click store's watermark: "not visible yet", normally retried.
    const mint = ulidFactory();
    const notYet = mint(Date.now() + 20_000);
    const retried = mint(Date.now() + 20_000);
    expect((await send('pn-noretry', 'token', `cid=${notYet}`)).status).toBe(200);
    expect((await send('pn-voluum', 'token', `cid=${retried}`)).status).toBe(200);
    expect((await ledgerOf(notYet, 1))[0]).toMatchObject({
      entry_type: 'rejected',
      reason_code: 'unknown_click',
    });
    const parked = await poll('the default budget to park it', async () => {
      const rows: { n: number }[] = await sys.db.ds.query(
        `SELECT count(*)::int AS n FROM postback_outcomes WHERE click_id = $1 AND outcome = 'retry_scheduled'`,
        [retried],
      );
      return rows[0]!.n > 0 || undefined;
    });
    expect(parked).toBe(true);
  });
});
