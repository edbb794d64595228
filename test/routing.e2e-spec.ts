import { clickEvent, poll, postbackEvent, produceEvents, seedOffer } from '@app/testing';
import { type RunningSystem, startSystem } from './support';

/** Routing controls: a source whose rejection rate crosses the threshold is blocked until unblocked. */
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
    sys = await startSystem('routing', {
      env: { SOURCE_MIN_DECISIONS: '4', SOURCE_BLOCK_REJECT_RATE: '0.75' },
    });
    await seedOffer(sys.db.ds, { id: 'o-route', allowedGeos: ['US'] });
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

    const blocks = await sys.admin('GET', '/v1/admin/sources/blocks');
    expect(blocks.body).toEqual([
      expect.objectContaining({
        kind: 'sub1',
        publisher_id: 'pub-r',
        value: 'bad-src',
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
        expect.objectContaining({ kind: 'sub1', value: 'bad-src', blocked: true, decided: 5, rejected: 4 }),
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
});
