import { clickEvent, poll, postbackEvent, produceEvents, seedOffer } from '@app/testing';
import { type RunningSystem, startSystem } from './support';

/** Routing controls: per-source block / hold / reduced cap (automatic or by an operator), traffic-quality rules, compliance geos and bursts. */
describe('routing controls', () => {
  let sys: RunningSystem;
  const outcome = (tx: string) =>
    poll(`outcome of ${tx}`, async () => {
      const [o] = await sys.db.ds.query(
        `SELECT outcome, reason_code FROM postback_outcomes WHERE transaction_id = $1`,
        [tx],
      );
      return o && o.outcome !== 'retry_scheduled'
        ? (o as { outcome: string; reason_code: string | null })
        : undefined;
    });
  const clicksStored = (ids: string[]) =>
    poll('clicks stored', async () =>
      (await sys.db.ds.query(`SELECT count(*)::int AS n FROM clicks WHERE click_id = ANY($1)`, [ids]))[0]
        .n === ids.length
        ? true
        : undefined,
    );

  beforeAll(async () => {
    sys = await startSystem('routing');
    await seedOffer(sys.db.ds, { id: 'o-route', allowedGeos: ['US'] });
    const policy = await sys.admin('PUT', '/v1/admin/sources/policy', {
      min_decisions: 4,
      reject_rate: 0.75,
      action: 'block',
    });
    expect(policy.body).toMatchObject({
      min_decisions: 4,
      reject_rate: 0.75,
      action: 'block',
      daily_cap: null,
    });
  });
  afterAll(async () => {
    await sys?.stop();
  });

  it('blocks a source after too many rejects, leaves other sources alone, and unblocks on request', async () => {
    const bad = Array.from({ length: 4 }, () =>
      clickEvent('o-route', 'pub-r', new Date(), {
        sub1: 'bad-src',
        placement: `p-${Math.random()}`,
        geo: 'FR',
      }),
    );
    const later = clickEvent('o-route', 'pub-r', new Date(), {
      sub1: 'bad-src',
      placement: 'p-fresh',
      geo: 'US',
    });
    const other = clickEvent('o-route', 'pub-r', new Date(), {
      sub1: 'good-src',
      placement: 'p-other',
      geo: 'US',
    });
    await produceEvents(`${sys.prefix}clicks.recorded`, [...bad, later, other]);
    await clicksStored([...bad, later, other].map((c) => c.id));

    await produceEvents(
      `${sys.prefix}postbacks.received`,
      bad.map((c, i) => postbackEvent('pr', c.id, `r-bad-${i}`, 'approved')),
    );
    for (let i = 0; i < 4; i++) expect((await outcome(`r-bad-${i}`)).reason_code).toBe('blocked_geo');

    const blocks = await sys.admin('GET', '/v1/admin/sources/controls');
    expect(blocks.body).toEqual([
      expect.objectContaining({
        kind: 'sub1',
        publisher_id: 'pub-r',
        value: 'bad-src',
        action: 'block',
        origin: 'auto',
        decided: 4,
        rejected: 4,
      }),
    ]);

    await produceEvents(`${sys.prefix}postbacks.received`, [
      postbackEvent('pr', later.id, 'r-later', 'approved'),
      postbackEvent('pr', other.id, 'r-other', 'approved'),
    ]);
    expect(await outcome('r-later')).toEqual({ outcome: 'rejected', reason_code: 'blocked_source' });
    expect(await outcome('r-other')).toEqual({ outcome: 'accepted', reason_code: null });

    const list = await sys.admin('GET', '/v1/admin/sources');
    expect(list.body).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          kind: 'sub1',
          value: 'bad-src',
          control: 'block',
          decided: 5,
          rejected: 4,
        }),
      ]),
    );

    expect(
      (
        await sys.admin('POST', '/v1/admin/sources/unblock', {
          kind: 'sub1',
          publisher_id: 'pub-r',
          value: 'nope',
        })
      ).status,
    ).toBe(404);
    const un = await sys.admin('POST', '/v1/admin/sources/unblock', {
      kind: 'sub1',
      publisher_id: 'pub-r',
      value: 'bad-src',
    });
    expect(un.status).toBe(200);
    const again = clickEvent('o-route', 'pub-r', new Date(), {
      sub1: 'bad-src',
      placement: 'p-again',
      geo: 'US',
    });
    await produceEvents(`${sys.prefix}clicks.recorded`, [again]);
    await clicksStored([again.id]);
    await produceEvents(`${sys.prefix}postbacks.received`, [
      postbackEvent('pr', again.id, 'r-again', 'approved'),
    ]);
    expect(await outcome('r-again')).toEqual({ outcome: 'accepted', reason_code: null });
  });

  const click = async (offer: string, extra: Partial<ReturnType<typeof clickEvent>['payload']>) => {
    const c = clickEvent(offer, 'pub-q', new Date(Date.now() - 3_600_000), extra);
    await produceEvents(`${sys.prefix}clicks.recorded`, [c]);
    await clicksStored([c.id]);
    return c;
  };
  const convert = async (clickId: string, tx: string) => {
    await produceEvents(`${sys.prefix}postbacks.received`, [postbackEvent('pr', clickId, tx, 'approved')]);
    return outcome(tx);
  };

  it("applies an operator's stricter policy: hold for review, or a reduced daily cap", async () => {
    const hold = await sys.admin('PUT', '/v1/admin/sources/controls', {
      kind: 'sub1',
      publisher_id: 'pub-q',
      value: 'review-me',
      action: 'hold',
      note: 'new source, watch it',
    });
    expect(hold.body).toMatchObject({ action: 'hold', origin: 'operator', reason: 'new source, watch it' });
    const held = await click('o-route', { sub1: 'review-me', placement: 'p-h', geo: 'US' });
    expect(await convert(held.id, 'q-hold')).toEqual({ outcome: 'held', reason_code: 'fraud_suspected' });

    expect(
      (
        await sys.admin('PUT', '/v1/admin/sources/controls', {
          kind: 'sub1',
          publisher_id: 'pub-q',
          value: 'capped',
          action: 'cap',
        })
      ).body.error.field,
    ).toBe('daily_cap');
    await sys.admin('PUT', '/v1/admin/sources/controls', {
      kind: 'sub1',
      publisher_id: 'pub-q',
      value: 'capped',
      action: 'cap',
      daily_cap: 2,
    });
    const clicks = await Promise.all(
      [0, 1, 2].map((i) => click('o-route', { sub1: 'capped', placement: `p-c${i}`, geo: 'US' })),
    );
    await produceEvents(
      `${sys.prefix}postbacks.received`,
      clicks.map((c, i) => postbackEvent('pr', c.id, `q-cap-${i}`, 'approved')),
    );
    const results = await Promise.all([0, 1, 2].map((i) => outcome(`q-cap-${i}`)));
    expect(results.filter((r) => r.outcome === 'accepted')).toHaveLength(2);
    expect(results.filter((r) => r.reason_code === 'cap_exceeded')).toHaveLength(1);
    const [stats] = await sys.db.ds.query(
      `SELECT approved FROM source_daily_stats WHERE kind = 'sub1' AND publisher_id = 'pub-q' AND value = 'capped'`,
    );
    expect(stats.approved).toBe(2);
  });

  it('the automatic policy can hold a source instead of blocking it; bad policies are refused', async () => {
    for (const bad of [
      { min_decisions: 3, reject_rate: 2, action: 'hold' },
      { min_decisions: 3, reject_rate: 0.5, action: 'cap' },
      { min_decisions: -1, reject_rate: 0.5, action: 'block' },
      { min_decisions: 3, reject_rate: 0.5, action: 'shout' },
    ])
      expect((await sys.admin('PUT', '/v1/admin/sources/policy', bad)).status).toBe(400);
    await sys.admin('PUT', '/v1/admin/sources/policy', {
      min_decisions: 3,
      reject_rate: 0.6,
      action: 'hold',
    });
    for (let i = 0; i < 3; i++) {
      const c = await click('o-route', { sub1: 'auto-hold', placement: `p-a${i}`, geo: 'FR' });
      expect((await convert(c.id, `q-auto-${i}`)).reason_code).toBe('blocked_geo');
    }
    const controls = (await sys.admin('GET', '/v1/admin/sources/controls')).body as { value: string }[];
    expect(controls).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ value: 'auto-hold', action: 'hold', origin: 'auto' }),
      ]),
    );
    const next = await click('o-route', { sub1: 'auto-hold', placement: 'p-a-next', geo: 'US' });
    expect(await convert(next.id, 'q-auto-next')).toEqual({
      outcome: 'held',
      reason_code: 'fraud_suspected',
    });
  });

  it('rejects clicks matching traffic-quality rules (IP range, user agent) as traffic_quality', async () => {
    const add = (body: object) => sys.admin('POST', '/v1/admin/traffic-rules', body);
    const ipRule = await add({ kind: 'ip', value: '10.9.0.0/16', note: 'known farm' });
    expect(ipRule.status).toBe(201);
    expect((await add({ kind: 'user_agent', value: 'curl/' })).status).toBe(201);
    expect((await add({ kind: 'ip', value: '10.9.0.0/16' })).status).toBe(409);
    expect((await add({ kind: 'ip', value: '10.9.0.1/8' })).body.error.field).toBe('value');
    expect((await add({ kind: 'user_agent', value: 'ab' })).status).toBe(400);
    expect((await add({ kind: 'asn', value: '123' })).body.error.field).toBe('kind');

    const fromFarm = await click('o-route', { sub1: 'q1', placement: 'p-ip', geo: 'US', ip: '10.9.44.1' });
    const scripted = await click('o-route', {
      sub1: 'q2',
      placement: 'p-ua',
      geo: 'US',
      user_agent: 'curl/8.4.0',
    });
    const human = await click('o-route', {
      sub1: 'q3',
      placement: 'p-ok',
      geo: 'US',
      ip: '10.10.0.1',
      user_agent: 'Mozilla/5.0',
    });
    await new Promise((r) => setTimeout(r, 1100)); // the processor re-reads rules at most once a second
    expect(await convert(fromFarm.id, 'q-ip')).toEqual({
      outcome: 'rejected',
      reason_code: 'traffic_quality',
    });
    expect(await convert(scripted.id, 'q-ua')).toEqual({
      outcome: 'rejected',
      reason_code: 'traffic_quality',
    });
    expect(await convert(human.id, 'q-ok')).toEqual({ outcome: 'accepted', reason_code: null });

    expect((await sys.admin('GET', '/v1/admin/traffic-rules')).body).toHaveLength(2);
    expect((await sys.admin('DELETE', `/v1/admin/traffic-rules/${ipRule.body.id}`)).status).toBe(200);
    expect((await sys.admin('DELETE', `/v1/admin/traffic-rules/${ipRule.body.id}`)).status).toBe(404);
  });

  it("holds conversions from an offer's review geos (compliance_review) and bursts from one source", async () => {
    const offer = {
      id: 'o-watch',
      name: 'Watched offer',
      landing_url: 'https://adv.example/?c={click_id}',
      payout: '1.00',
      currency: 'USD',
      review_geos: ['DE'],
      burst_max_conversions: 3,
    };
    expect((await sys.admin('POST', '/v1/admin/offers', offer)).body.error.field).toBe(
      'burst_window_seconds',
    );
    const created = await sys.admin('POST', '/v1/admin/offers', { ...offer, burst_window_seconds: 3600 });
    expect(created.body).toMatchObject({
      review_geos: ['DE'],
      burst_max_conversions: 3,
      burst_window_seconds: 3600,
    });

    const de = await click('o-watch', { sub1: 'de-src', placement: 'p-de', geo: 'DE' });
    expect(await convert(de.id, 'w-de')).toEqual({ outcome: 'held', reason_code: 'compliance_review' });

    const results = [];
    for (let i = 0; i < 4; i++) {
      const c = await click('o-watch', { sub1: 'bursty', placement: `p-b${i}`, geo: 'US' });
      results.push(await convert(c.id, `w-burst-${i}`));
    }
    expect(results.map((r) => r.outcome)).toEqual(['accepted', 'accepted', 'accepted', 'held']);
    expect(results[3]!.reason_code).toBe('fraud_suspected');
  });
});
