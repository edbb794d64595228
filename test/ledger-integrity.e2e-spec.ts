import fc from 'fast-check';
import { Kafka, logLevel } from 'kafkajs';
import { ulid } from 'ulid';
import { createDataSource } from '@app/persistence';
import { checkConversionsAgainstLedger } from '@app/ledger';
import { httpJson, poll, postbackEvent, produceEvents, signedPostbackUrl, TEST_BROKERS } from '@app/testing';
import { type RunningSystem, startSystem } from './support';

/**
 * The ledger's promises tried as an outside partner would break them (ledger integrity issue):
 * two partners racing on one conversion, another partner's reversal, a conversion in two
 * currencies, values that used to answer 200 and end in nothing, and the apps' own database
 * role turning the guards off. Real gateway, processor, Kafka and Postgres.
 */
describe('ledger integrity', () => {
  let sys: RunningSystem;
  const partners = { a: 'partner-a', b: 'partner-b', c: 'partner-c' } as const;
  const secret = (p: string) => `${p}-secret-0123456789abcdef-0123456789`;

  beforeAll(async () => {
    sys = await startSystem('integrity');
    const created = [
      sys.admin('POST', '/v1/admin/publishers', { id: 'pub-1', name: 'Publisher' }),
      sys.admin('POST', '/v1/admin/offers', {
        id: 'offer-open',
        name: 'Any partner',
        landing_url: 'https://adv.example/?c={click_id}',
        payout: '2.00',
        currency: 'USD',
      }),
      sys.admin('POST', '/v1/admin/offers', {
        id: 'offer-named',
        name: 'Partner A only',
        landing_url: 'https://adv.example/?c={click_id}',
        payout: '2.00',
        currency: 'USD',
        partner_ids: [partners.a],
        max_payout: '50',
      }),
      ...Object.values(partners).map((id) =>
        sys.admin('POST', '/v1/admin/partners', { id, name: id, auth: { mode: 'hmac', secret: secret(id) } }),
      ),
    ];
    for (const r of await Promise.all(created))
      if (r.status !== 201) throw new Error(`seeding failed: ${r.status} ${JSON.stringify(r.body)}`);
  });
  afterAll(async () => {
    await sys?.stop();
  });

  /** A stored click on an offer (the processor has projected it). */
  const storedClick = async (offer: string, extra: Record<string, string> = {}): Promise<string> => {
    const r = await httpJson(`${sys.gatewayUrl}/v1/clicks`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ offer_id: offer, publisher_id: 'pub-1', geo: 'US', ...extra }),
    });
    expect(r.status).toBe(201);
    const id = r.body.click_id as string;
    await poll('click stored', async () =>
      (await sys.db.ds.query(`SELECT 1 FROM clicks WHERE click_id = $1`, [id])).length ? true : undefined,
    );
    return id;
  };
  const send = (partner: string, params: Record<string, string>) => {
    const s = signedPostbackUrl(sys.gatewayUrl, partner, secret(partner), params);
    return httpJson(s.url, { headers: s.headers });
  };
  const outcomes = (tx: string) =>
    sys.db.ds.query<
      {
        partner_id: string;
        status: string;
        outcome: string;
        reason_code: string | null;
        detail: string | null;
      }[]
    >(
      `SELECT partner_id, status, outcome, reason_code, detail FROM postback_outcomes WHERE transaction_id = $1
        ORDER BY received_at, event_id`,
      [tx],
    );
  const decided = (tx: string, n: number) =>
    poll(`${n} final outcomes of ${tx}`, async () => {
      const o = await outcomes(tx);
      return o.length === n && o.every((x) => x.outcome !== 'retry_scheduled') ? o : undefined;
    });
  const entries = (tx: string) =>
    sys.db.ds.query<
      {
        entry_type: string;
        amount_micros: string;
        currency: string;
        partner_id: string;
        reason_code: string | null;
      }[]
    >(
      `SELECT entry_type, amount_micros, currency, partner_id, reason_code FROM ledger_entries WHERE transaction_id = $1
        ORDER BY seq`,
      [tx],
    );

  it('two partners reporting one offer + transaction at the same moment: one approval, 60 times out of 60', async () => {
    const click = await storedClick('offer-open');
    const tries = Array.from({ length: 60 }, (_, i) => `race-${i}`);
    // Both partners' postbacks of a try leave together; the tries overlap too.
    const answers = await Promise.all(
      tries.flatMap((tx) =>
        [partners.a, partners.b].map((p) =>
          send(p, { click_id: click, transaction_id: tx, status: 'approved', offer_id: 'offer-open' }),
        ),
      ),
    );
    expect(answers.map((a) => a.status)).toEqual(answers.map(() => 200));
    for (const tx of tries) {
      const o = await decided(tx, 2);
      expect(o.map((x) => x.outcome).sort()).toEqual(['accepted', 'rejected']);
      const refused = o.find((x) => x.outcome === 'rejected')!;
      expect(refused.reason_code).toBe('partner_not_allowed');
      const e = await entries(tx);
      expect(e).toHaveLength(1);
      expect(e[0]).toMatchObject({ entry_type: 'approved', amount_micros: '2000000' });
      expect(refused.partner_id).not.toBe(e[0]!.partner_id);
    }
    const [twice] = await sys.db.ds.query<{ n: number }[]>(
      `SELECT count(*)::int AS n FROM (SELECT conversion_id FROM ledger_entries WHERE entry_type IN ('approved', 'released')
        GROUP BY conversion_id HAVING count(*) > 1) x`,
    );
    expect(twice!.n).toBe(0);
  });

  it('one transaction id on two offers at the same moment: two conversions, each approved once (the shared lock only orders them)', async () => {
    const second = await sys.admin('POST', '/v1/admin/offers', {
      id: 'offer-open-2',
      name: 'Any partner, too',
      landing_url: 'https://adv.example/?c={click_id}',
      payout: '3.00',
      currency: 'USD',
    });
    expect(second.status).toBe(201);
    const [c1, c2] = await Promise.all([storedClick('offer-open'), storedClick('offer-open-2')]);
    const tries = Array.from({ length: 30 }, (_, i) => `shared-${i}`);
    const answers = await Promise.all(
      tries.flatMap((tx) => [
        send(partners.a, { click_id: c1, transaction_id: tx, status: 'approved', offer_id: 'offer-open' }),
        send(partners.b, { click_id: c2, transaction_id: tx, status: 'approved', offer_id: 'offer-open-2' }),
      ]),
    );
    expect(answers.map((a) => a.status)).toEqual(answers.map(() => 200));
    for (const tx of tries) {
      expect((await decided(tx, 2)).map((x) => x.outcome)).toEqual(['accepted', 'accepted']);
      const e = await entries(tx);
      expect(e.map((x) => `${x.partner_id}:${x.entry_type}:${x.amount_micros}`).sort()).toEqual([
        `${partners.a}:approved:2000000`,
        `${partners.b}:approved:3000000`,
      ]);
    }
  });

  it("another partner's reversal (or any status) of a conversion never changes it; its owner's does", async () => {
    const click = await storedClick('offer-open');
    expect(
      (await send(partners.a, { click_id: click, transaction_id: 'cross-1', status: 'approved' })).status,
    ).toBe(200);
    await decided('cross-1', 1);
    for (const status of ['reversed', 'rejected', 'pending'])
      expect(
        (
          await send(partners.b, {
            click_id: click,
            transaction_id: 'cross-1',
            status,
            offer_id: 'offer-open',
          })
        ).status,
      ).toBe(200);
    const o = await decided('cross-1', 4);
    expect(o.filter((x) => x.partner_id === partners.b).map((x) => [x.outcome, x.reason_code])).toEqual([
      ['rejected', 'partner_not_allowed'],
      ['rejected', 'partner_not_allowed'],
      ['rejected', 'partner_not_allowed'],
    ]);
    expect((await entries('cross-1')).map((e) => e.entry_type)).toEqual(['approved']);
    expect(
      (await send(partners.a, { click_id: click, transaction_id: 'cross-1', status: 'reversed' })).status,
    ).toBe(200);
    await decided('cross-1', 5);
    expect((await entries('cross-1')).map((e) => [e.entry_type, e.partner_id])).toEqual([
      ['approved', partners.a],
      ['reversed', partners.a],
    ]);
  });

  it('a partner not named on the offer is refused partner_not_allowed and creates no conversion', async () => {
    const click = await storedClick('offer-named');
    expect(
      (await send(partners.b, { click_id: click, transaction_id: 'named-1', status: 'approved' })).status,
    ).toBe(200);
    expect(await decided('named-1', 1)).toEqual([
      expect.objectContaining({ outcome: 'rejected', reason_code: 'partner_not_allowed' }),
    ]);
    // The allowed partner's postback for the same transaction is not blocked by the refusal.
    expect(
      (await send(partners.a, { click_id: click, transaction_id: 'named-1', status: 'approved' })).status,
    ).toBe(200);
    await decided('named-1', 2);
    expect((await entries('named-1')).map((e) => [e.entry_type, e.partner_id])).toEqual([
      ['approved', partners.a],
    ]);
  });

  it('one currency per conversion, for life: EUR on a USD offer is converted or waits for its rate, never mixed', async () => {
    const click = await storedClick('offer-open');
    // The story that left "approved 2.00 USD" and "reversed 2.00 EUR" on one conversion. A pending
    // takes no amount, so its currency converts nothing; every entry is in the offer's currency.
    for (const [status, currency] of [
      ['pending', 'eur'],
      ['approved', undefined],
      ['reversed', 'EUR'],
    ] as const)
      expect(
        (
          await send(partners.a, {
            click_id: click,
            transaction_id: 'cur-1',
            status,
            ...(currency ? { currency } : {}),
          })
        ).status,
      ).toBe(200);
    const o = await decided('cur-1', 3);
    expect(o.map((x) => x.outcome)).toEqual(['accepted', 'accepted', 'accepted']);
    expect((await entries('cur-1')).map((e) => [e.entry_type, e.amount_micros, e.currency])).toEqual([
      ['pending', '0', 'USD'],
      ['approved', '2000000', 'USD'],
      ['reversed', '2000000', 'USD'],
    ]);

    // An approval paying in EUR on a USD conversion, with no EUR rate for its day: it waits for the
    // rate, the conversion unchanged; then it is converted into USD at the rate of its day.
    expect(
      (await send(partners.a, { click_id: click, transaction_id: 'cur-2', status: 'pending' })).status,
    ).toBe(200);
    await decided('cur-2', 1);
    expect(
      (
        await send(partners.a, {
          click_id: click,
          transaction_id: 'cur-2',
          status: 'approved',
          payout: '3',
          currency: 'EUR',
        })
      ).status,
    ).toBe(200);
    const later = await poll('waiting for a rate', async () => {
      const x = await outcomes('cur-2');
      return x.length === 2 && x[1]!.outcome === 'retry_scheduled' ? x : undefined;
    });
    expect(later[1]).toMatchObject({ reason_code: 'exchange_rate_missing' });
    expect((await entries('cur-2')).map((e) => [e.entry_type, e.currency])).toEqual([['pending', 'USD']]);
    const [waiting] = await sys.db.ds.query<{ day: string }[]>(
      `SELECT to_char(received_at AT TIME ZONE 'UTC', 'YYYY-MM-DD') AS day FROM postback_outcomes
        WHERE transaction_id = 'cur-2' AND outcome = 'retry_scheduled'`,
    );
    const rate = { date: waiting!.day, base: 'EUR', quote: 'USD', rate: '1.1', source: 'test' };
    expect((await sys.admin('POST', '/v1/admin/exchange-rates', [rate])).status).toBe(200);
    await decided('cur-2', 2);
    expect((await entries('cur-2')).map((e) => [e.entry_type, e.amount_micros, e.currency])).toEqual([
      ['pending', '0', 'USD'],
      ['approved', '3300000', 'USD'],
    ]);
  });

  it('a payout the ledger cannot hold is a clear 400 at the gateway; above the offer maximum it is refused', async () => {
    const click = await storedClick('offer-named');
    const huge = await send(partners.a, {
      click_id: click,
      transaction_id: 'huge-1',
      status: 'approved',
      payout: '10000000000000',
    });
    expect(huge.status).toBe(400);
    expect(huge.body.error).toMatchObject({ field: 'payout' });
    expect(await outcomes('huge-1')).toEqual([]);
    expect(
      (
        await send(partners.a, {
          click_id: click,
          transaction_id: 'max-1',
          status: 'approved',
          payout: '50.01',
        })
      ).status,
    ).toBe(200);
    expect(await decided('max-1', 1)).toEqual([
      expect.objectContaining({ outcome: 'rejected', reason_code: 'payout_above_max' }),
    ]);
  });

  it('a passthrough value cut inside an emoji is stored well-formed and decided once', async () => {
    const click = await storedClick('offer-open');
    const value = `${'a'.repeat(255)}\u{1F600}`;
    const r = await send(partners.a, {
      click_id: click,
      transaction_id: 'emoji-1',
      status: 'approved',
      aff_note: value,
    });
    expect(r.status).toBe(200);
    expect(await decided('emoji-1', 1)).toEqual([expect.objectContaining({ outcome: 'accepted' })]);
    const [p] = await sys.db.ds.query<{ extra: Record<string, string> }[]>(
      `SELECT extra FROM postbacks WHERE transaction_id = 'emoji-1'`,
    );
    expect(p!.extra.aff_note).toBe('a'.repeat(255));
    // A lone surrogate sent as a JSON escape becomes U+FFFD, and the click is still recorded.
    const lone = await httpJson(`${sys.gatewayUrl}/v1/clicks`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{"offer_id":"offer-open","publisher_id":"pub-1","sub1":"x\\ud83d"}',
    });
    expect(lone.status).toBe(201);
    await poll('lone-surrogate click stored', async () => {
      const [c] = await sys.db.ds.query<{ sub1: string }[]>(`SELECT sub1 FROM clicks WHERE click_id = $1`, [
        lone.body.click_id,
      ]);
      return c?.sub1 === 'x\uFFFD' ? true : undefined;
    });
  });

  it('a well-formed click id minted in the future is unknown_click at once, not parked for the retry budget', async () => {
    const forged = ulid(Date.now() + 24 * 3_600_000);
    expect(
      (await send(partners.a, { click_id: forged, transaction_id: 'forged-1', status: 'approved' })).status,
    ).toBe(200);
    // decided() accepts only final outcomes: a parked postback would wait out the retry budget (minutes).
    expect(await decided('forged-1', 1)).toEqual([
      expect.objectContaining({
        outcome: 'rejected',
        reason_code: 'unknown_click',
        detail: expect.stringMatching(/future/),
      }),
    ]);
    const [parked] = await sys.db.ds.query<{ n: number }[]>(
      `SELECT count(*)::int AS n FROM parked_postbacks`,
    );
    expect(parked!.n).toBe(0);
  });

  it('an accepted event the processor cannot store still ends in exactly one outcome (invalid_payload)', async () => {
    // What a gateway of another version, or a bug, could put on the topic: it passes the schema
    // but Postgres refuses it (bigint overflow), or it fails the schema outright.
    const overflow = postbackEvent(partners.a, '01ARZ3NDEKTSV4RRFFQ69G5FAV', 'poison-1', 'approved', {
      payout_micros: '99999999999999999999',
    });
    await produceEvents(`${sys.prefix}postbacks.received`, [overflow], TEST_BROKERS);
    const broken = postbackEvent(partners.a, 'x', 'poison-2', 'approved');
    const producer = new Kafka({
      clientId: 'integrity-e2e',
      brokers: TEST_BROKERS,
      logLevel: logLevel.NOTHING,
    }).producer();
    await producer.connect();
    await producer.send({
      topic: `${sys.prefix}postbacks.received`,
      acks: -1,
      messages: [
        { key: broken.key, value: JSON.stringify({ ...broken, payload: { ...broken.payload, status: 42 } }) },
      ],
    });
    await producer.disconnect();
    for (const tx of ['poison-1', 'poison-2'])
      expect(await decided(tx, 1)).toEqual([
        expect.objectContaining({ outcome: 'rejected', reason_code: 'invalid_payload' }),
      ]);
    expect(await entries('poison-1')).toEqual([]);
  });

  it('property: every postback the gateway answers 2xx ends in exactly one final outcome', async () => {
    const click = await storedClick('offer-open');
    // An approval paying in another currency waits for its day's rate (issue 16): the rates of the
    // days these postbacks can arrive on are there, so each is decided.
    const days = [-1, 0, 1].map((d) => new Date(Date.now() + d * 86_400_000).toISOString().slice(0, 10));
    const rates = await sys.admin(
      'POST',
      '/v1/admin/exchange-rates',
      days.flatMap((date) => [
        { date, base: 'EUR', quote: 'USD', rate: '1.1', source: 'test' },
        { date, base: 'USD', quote: 'JPY', rate: '150', source: 'test' },
      ]),
    );
    expect(rates.status).toBe(200);
    // Hostile and careless values in every field (lone surrogates, emoji, NUL, huge numbers,
    // other currencies, junk statuses), generated with a fixed seed so a failure replays.
    const text = fc.string({ unit: 'binary', maxLength: 300 });
    const mostly = (plausible: fc.Arbitrary<string>) =>
      fc.oneof({ arbitrary: plausible, weight: 5 }, { arbitrary: text, weight: 1 });
    const samples = fc.sample(
      fc.record(
        {
          click_id: fc.oneof(fc.constant(click), fc.stringMatching(/^[\x21-\x7e]{1,30}$/), text),
          status: mostly(fc.constantFrom('pending', 'approved', 'rejected', 'reversed')),
          payout: fc.oneof(fc.bigInt({ min: 0n, max: 10n ** 20n }).map(String), fc.constant('12.5'), text),
          currency: mostly(fc.constantFrom('USD', 'usd', 'EUR', 'JPY')),
          event: mostly(fc.constantFrom('install', 'purchase')),
          reason: text,
          sub_note: text,
        },
        { requiredKeys: ['click_id', 'status'] },
      ),
      { seed: 20261205, numRuns: 150 },
    );
    const answered = await Promise.all(
      samples.map(async (params, i) => {
        const tx = `prop-${i}`;
        const r = await send(partners.c, { ...params, transaction_id: tx });
        expect([200, 400]).toContain(r.status);
        return r.status === 200 ? tx : undefined;
      }),
    );
    const accepted = answered.filter((tx): tx is string => tx !== undefined);
    expect(accepted.length).toBeGreaterThan(20);
    for (const tx of accepted) expect(await decided(tx, 1)).toHaveLength(1);
  });

  it("the apps' database role cannot turn the ledger's guards off", async () => {
    const app = createDataSource({ url: sys.db.url, poolSize: 1, applicationName: 'integrity-e2e' });
    await app.initialize();
    try {
      const [who] = await app.query<{ super: boolean; owner: string }[]>(
        `SELECT rolsuper AS super, (SELECT tableowner FROM pg_tables WHERE tablename = 'ledger_entries') AS owner
           FROM pg_roles WHERE rolname = current_user`,
      );
      expect(who).toEqual({ super: false, owner: expect.not.stringMatching(/^ledger_app$/) });
      for (const sql of [
        `ALTER TABLE ledger_entries DISABLE TRIGGER ALL`,
        `ALTER TABLE ledger_entries DISABLE TRIGGER ledger_entries_no_update_delete`,
        `TRUNCATE ledger_entries`,
        `UPDATE ledger_entries SET amount_micros = amount_micros * 2`,
        `DELETE FROM ledger_entries`,
        `DROP INDEX ledger_one_approval`,
      ])
        await expect(app.query(sql)).rejects.toThrow(/permission denied|must be owner/);
    } finally {
      await app.destroy();
    }
  });

  it('every conversion equals the fold of its ledger entries', async () => {
    expect(await checkConversionsAgainstLedger(sys.db.ds.manager)).toEqual([]);
  });
});
