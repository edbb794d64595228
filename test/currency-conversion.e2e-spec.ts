import { httpJson, poll, postbackEvent, produceEvents, readTopic } from '@app/testing';
import { type RunningSystem, seedCatalog, startSystem } from './support';

/**
 * Postback amounts in another currency than the offer's (issue 16), and the wall's user id, end to
 * end: clicks through the gateway (with `uid`), postbacks on real Kafka, rates imported through the
 * admin API, decisions by the processor into Postgres. Each postback's UTC day is the day of its
 * `received_at`, which the test sets, so a run across midnight cannot change a day.
 */
describe('currency conversion and the wall user id', () => {
  let sys: RunningSystem;
  let ids: Awaited<ReturnType<typeof seedCatalog>>;
  /** A partner with a long retry budget (the last delay repeats), for the test that waits for a rate. */
  const PATIENT = 'partner-patient';
  const at = new Date();
  const DAY = at.toISOString().slice(0, 10);
  const topic = (t: string) => `${sys.prefix}${t}`;

  beforeAll(async () => {
    sys = await startSystem('fx', { env: { RETRY_DELAYS_MS: '300,600,900' } });
    ids = await seedCatalog(sys, 'fx'); // offer-fx: 1.25 USD
    const patient = await sys.admin('POST', '/v1/admin/partners', {
      id: PATIENT,
      name: 'Patient',
      auth: { mode: 'hmac', secret: 'patient-secret-0123456789abcdef-0123456789' },
      retry_attempts: 50,
    });
    expect(patient.status).toBe(201);
  }, 120_000);
  afterAll(async () => {
    await sys?.stop();
  });

  const importRates = async (rows: { base: string; quote: string; rate: string }[]) => {
    const r = await sys.admin(
      'POST',
      '/v1/admin/exchange-rates',
      rows.map((x) => ({ date: DAY, ...x, source: 'ecb' })),
    );
    expect(r.status).toBe(200);
  };

  /** A click recorded by the gateway and stored by the processor; its id. */
  const storedClick = async (uid?: string): Promise<string> => {
    const r = await httpJson(`${sys.gatewayUrl}/v1/clicks`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ offer_id: ids.offer, publisher_id: ids.publisher, ...(uid ? { uid } : {}) }),
    });
    expect(r.status).toBe(201);
    const id = r.body.click_id as string;
    await poll('click stored', async () =>
      (await sys.db.ds.query(`SELECT 1 FROM clicks WHERE click_id = $1`, [id])).length ? true : undefined,
    );
    return id;
  };

  const approve = (partner: string, click: string, tx: string, payoutMicros: string, currency: string) =>
    produceEvents(topic('postbacks.received'), [
      postbackEvent(partner, click, tx, 'approved', { payout_micros: payoutMicros, currency }, at),
    ]);

  const outcomeOf = async (tx: string) =>
    (
      await sys.db.ds.query<
        { outcome: string; reason_code: string | null; detail: string | null; attempts: number }[]
      >(`SELECT outcome, reason_code, detail, attempts FROM postback_outcomes WHERE transaction_id = $1`, [
        tx,
      ])
    )[0];
  const decided = (tx: string, timeoutMs = 30_000) =>
    poll(
      `final outcome of ${tx}`,
      async () => {
        const o = await outcomeOf(tx);
        return o && o.outcome !== 'retry_scheduled' ? o : undefined;
      },
      timeoutMs,
    );
  const entriesOf = (tx: string) =>
    sys.db.ds.query<Record<string, unknown>[]>(
      `SELECT entry_type, amount_micros, currency, reason_code, user_id, original_amount_micros, original_currency,
              fx_rate::text AS fx_rate, to_char(fx_date, 'YYYY-MM-DD') AS fx_date
         FROM ledger_entries WHERE transaction_id = $1 ORDER BY seq`,
      [tx],
    );

  it('a bad uid is a 400 naming it, by API and by link; a good one is stored with the click', async () => {
    for (const uid of ['', 'x'.repeat(129), 'a\nb', 42]) {
      const r = await httpJson(`${sys.gatewayUrl}/v1/clicks`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ offer_id: ids.offer, publisher_id: ids.publisher, uid }),
      });
      expect({ uid, status: r.status, error: r.body.error }).toEqual({
        uid,
        status: 400,
        error: expect.objectContaining({
          field: 'uid',
          message: 'uid must be 1-128 printable characters',
        }) as object,
      });
    }
    const link = (uid: string) =>
      fetch(`${sys.gatewayUrl}/c/${ids.offer}?pub=${ids.publisher}&uid=${encodeURIComponent(uid)}`, {
        redirect: 'manual',
      });
    const bad = await link('a\tb');
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { error: { field: string } }).error.field).toBe('uid');
    const good = await link('wall user ✓ 42');
    expect(good.status).toBe(302);
    const clickId = new URL(good.headers.get('location')!).searchParams.get('c')!;
    const row = await poll(
      'click stored',
      async () =>
        (
          await sys.db.ds.query<{ user_id: string | null }[]>(
            `SELECT user_id FROM clicks WHERE click_id = $1`,
            [clickId],
          )
        )[0],
    );
    expect(row.user_id).toBe('wall user ✓ 42');
  });

  it("EUR on a USD offer with that day's rate: converted, and the entry records the amount, currency, rate and day it came from, and the user", async () => {
    await importRates([{ base: 'EUR', quote: 'USD', rate: '1.08' }]);
    const click = await storedClick('wall-user-1');
    await approve(ids.partner, click, 'fx-direct', '3000000', 'EUR');
    expect(await decided('fx-direct')).toMatchObject({ outcome: 'accepted', reason_code: null });
    expect(await entriesOf('fx-direct')).toEqual([
      {
        entry_type: 'approved',
        amount_micros: '3240000',
        currency: 'USD',
        reason_code: null,
        user_id: 'wall-user-1',
        original_amount_micros: '3000000',
        original_currency: 'EUR',
        fx_rate: '1.080000000000',
        fx_date: DAY,
      },
    ]);
    // Version 1 of the entry, as published, is unchanged: none of these are in its payload.
    const [row] = await sys.db.ds.query<{ payload: Record<string, unknown> }[]>(
      `SELECT payload FROM ledger_entries WHERE transaction_id = 'fx-direct'`,
    );
    const payload = row!.payload;
    expect(payload).toMatchObject({ amount_micros: '3240000', currency: 'USD' });
    for (const k of ['user_id', 'original_amount_micros', 'original_currency', 'fx_rate', 'fx_date'])
      expect(payload).not.toHaveProperty(k);
    // The money is posted in the offer's currency, converted, and balances.
    const postings = await sys.db.ds.query<{ currency: string; sum: string; debit: string }[]>(
      `SELECT p.currency, sum(p.amount_micros)::text AS sum, max(p.amount_micros)::text AS debit
         FROM ledger_postings p JOIN ledger_entries e USING (entry_id) WHERE e.transaction_id = 'fx-direct'
        GROUP BY p.currency`,
    );
    expect(postings).toEqual([{ currency: 'USD', sum: '0', debit: '3240000' }]);
    const [conversion] = await sys.db.ds.query(
      `SELECT status, amount_micros, currency FROM conversions WHERE transaction_id = 'fx-direct'`,
    );
    expect(conversion).toEqual({ status: 'approved', amount_micros: '3240000', currency: 'USD' });
    // Version 2 of the entry, on its own topic, carries where the amount came from and the user.
    const [v2] = (await readTopic(topic('conversions.ledger.v2'), 1, 20000)) as Record<string, unknown>[];
    expect(v2).toMatchObject({
      schema_version: 2,
      transaction_id: 'fx-direct',
      amount_micros: '3240000',
      revenue_micros: '3240000',
      user_id: 'wall-user-1',
      original_amount_micros: '3000000',
      original_currency: 'EUR',
      fx_rate: '1.08',
      fx_date: DAY,
    });
  });

  it("a converted amount above the offer's hold threshold is held; its release by an operator keeps the wall's user", async () => {
    const offer = await sys.admin('POST', '/v1/admin/offers', {
      id: 'offer-fx-hold',
      name: 'Held above 3 USD',
      landing_url: 'https://adv.example/land?c={click_id}',
      payout: '1.25',
      currency: 'USD',
      hold_payout_above: '3.00',
    });
    expect(offer.status).toBe(201);
    const r = await httpJson(`${sys.gatewayUrl}/v1/clicks`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ offer_id: 'offer-fx-hold', publisher_id: ids.publisher, uid: 'wall-user-3' }),
    });
    expect(r.status).toBe(201);
    const click = r.body.click_id as string;
    await poll('click stored', async () =>
      (await sys.db.ds.query(`SELECT 1 FROM clicks WHERE click_id = $1`, [click])).length ? true : undefined,
    );
    // 2.80 EUR is under the threshold; at 1.08 (imported above) it is 3.024 USD, over it.
    await approve(ids.partner, click, 'fx-held', '2800000', 'EUR');
    expect(await decided('fx-held')).toMatchObject({
      outcome: 'held',
      reason_code: 'payout_above_threshold',
    });
    const [conversion] = await sys.db.ds.query<{ conversion_id: string }[]>(
      `SELECT conversion_id FROM conversions WHERE transaction_id = 'fx-held'`,
    );
    const id = conversion!.conversion_id;
    await poll('in the review queue', async () =>
      (await sys.db.ds.query(`SELECT 1 FROM review_queue WHERE conversion_id = $1`, [id])).length
        ? true
        : undefined,
    );
    const released = await sys.admin('POST', `/v1/admin/reviews/${id}/approve`, { note: 'checked' });
    expect(released.status).toBe(200);
    expect(await entriesOf('fx-held')).toEqual([
      {
        entry_type: 'held',
        amount_micros: '3024000',
        currency: 'USD',
        reason_code: 'payout_above_threshold',
        user_id: 'wall-user-3',
        original_amount_micros: '2800000',
        original_currency: 'EUR',
        fx_rate: '1.080000000000',
        fx_date: DAY,
      },
      {
        entry_type: 'released',
        amount_micros: '3024000',
        currency: 'USD',
        reason_code: null,
        user_id: 'wall-user-3',
        original_amount_micros: null,
        original_currency: null,
        fx_rate: null,
        fx_date: null,
      },
    ]);
  });

  it('only the reverse pair stored: the amount is divided by it, and the rate recorded is its reciprocal', async () => {
    await importRates([{ base: 'USD', quote: 'JPY', rate: '150' }]);
    const click = await storedClick();
    await approve(ids.partner, click, 'fx-reverse', '1000000000', 'JPY'); // 1000 JPY
    expect(await decided('fx-reverse')).toMatchObject({ outcome: 'accepted' });
    expect(await entriesOf('fx-reverse')).toEqual([
      {
        entry_type: 'approved',
        amount_micros: '6666667', // 1000 / 150 = 6.6666666... USD, half even to micros
        currency: 'USD',
        reason_code: null,
        user_id: null,
        original_amount_micros: '1000000000',
        original_currency: 'JPY',
        fx_rate: '0.006666666667',
        fx_date: DAY,
      },
    ]);
  });

  it('no rate for the day: waits in the retry queue, and is decided by a retry once the rate is imported', async () => {
    const click = await storedClick('wall-user-2');
    await approve(PATIENT, click, 'fx-wait', '2000000', 'CHF');
    const waiting = await poll('waiting for its rate', async () => {
      const o = await outcomeOf('fx-wait');
      return o?.outcome === 'retry_scheduled' ? o : undefined;
    });
    expect(waiting.reason_code).toBe('exchange_rate_missing');
    expect(waiting.detail).toMatch(new RegExp(`^no rate for ${DAY} CHF/USD yet: attempt \\d+ of 50 at `));
    const [parked] = await sys.db.ds.query<{ reason: string }[]>(
      `SELECT reason FROM parked_postbacks WHERE transaction_id = 'fx-wait'`,
    );
    expect(parked).toEqual({ reason: 'exchange_rate_missing' });
    expect(await entriesOf('fx-wait')).toEqual([]);

    await importRates([{ base: 'CHF', quote: 'USD', rate: '1.1' }]);
    const done = await decided('fx-wait', 60_000);
    expect(done).toMatchObject({ outcome: 'accepted', reason_code: null });
    expect(done.attempts).toBeGreaterThanOrEqual(1);
    expect(await entriesOf('fx-wait')).toEqual([
      {
        entry_type: 'approved',
        amount_micros: '2200000',
        currency: 'USD',
        reason_code: null,
        user_id: 'wall-user-2',
        original_amount_micros: '2000000',
        original_currency: 'CHF',
        fx_rate: '1.100000000000',
        fx_date: DAY,
      },
    ]);
    expect(await sys.db.ds.query(`SELECT 1 FROM parked_postbacks WHERE transaction_id = 'fx-wait'`)).toEqual(
      [],
    );
  });

  it('no rate before the retry budget runs out: a hard currency_mismatch saying which rate was missing', async () => {
    const click = await storedClick();
    await approve(ids.partner, click, 'fx-never', '2000000', 'SEK');
    const o = await decided('fx-never');
    expect(o).toEqual({
      outcome: 'rejected',
      reason_code: 'currency_mismatch',
      detail: `retry_exhausted: no rate for ${DAY} SEK/USD after 3 retries`,
      attempts: 3,
    });
    expect(await entriesOf('fx-never')).toEqual([
      {
        entry_type: 'rejected',
        amount_micros: '0',
        currency: 'USD',
        reason_code: 'currency_mismatch',
        user_id: null,
        original_amount_micros: null,
        original_currency: null,
        fx_rate: null,
        fx_date: null,
      },
    ]);
    expect(await sys.db.ds.query(`SELECT 1 FROM parked_postbacks WHERE transaction_id = 'fx-never'`)).toEqual(
      [],
    );
  });
});
