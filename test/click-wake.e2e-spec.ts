import { clickEvent, poll, postbackEvent, produceEvents, seedOffer } from '@app/testing';
import { ADMIN_TOKEN, type RunningSystem, startSystem } from './support';

/**
 * A postback that arrives before its click (a partner faster than our click topic, a broker
 * failover delaying one partition) waits for a retry. It is decided when the click is stored, not
 * at its next retry step: here that step is ten minutes away, so only the wake can decide it
 * within the test.
 */
describe('a postback that raced its click', () => {
  let sys: RunningSystem;
  const P = 'partner-w';
  const topic = (t: string) => `${sys.prefix}${t}`;
  const outcomesOf = async (tx: string) =>
    (await sys.db.ds.query(
      `SELECT outcome, reason_code, attempts FROM postback_outcomes WHERE transaction_id = $1 ORDER BY event_id`,
      [tx],
    )) as { outcome: string; reason_code: string | null; attempts: number }[];
  const parkedOf = async (tx: string) =>
    (await sys.db.ds.query(
      `SELECT reason, due_at, click_id FROM parked_postbacks WHERE transaction_id = $1 ORDER BY seq`,
      [tx],
    )) as { reason: string; due_at: Date; click_id: string | null }[];

  beforeAll(async () => {
    sys = await startSystem('click-wake', {
      // A click missing for less than two minutes is not visible yet (never unknown_click), however
      // long the processor takes to get to these postbacks.
      env: { RETRY_DELAYS_MS: '600000', CLICK_WATERMARK_MARGIN_MS: '120000' },
    });
    await seedOffer(sys.db.ds, { id: 'o-wake', payout: '2000000' });
  });
  afterAll(async () => {
    await sys?.stop();
  });

  it('is decided when its click is stored, with the later status queued behind it; a postback waiting for another click stays parked', async () => {
    const click = clickEvent('o-wake', 'pub-1');
    const neverSent = clickEvent('o-wake', 'pub-1');
    const unrelated = clickEvent('o-wake', 'pub-1');
    await produceEvents(topic('postbacks.received'), [
      postbackEvent(P, click.id, 'tx-wake', 'approved'),
      postbackEvent(P, click.id, 'tx-wake', 'reversed'),
      postbackEvent(P, neverSent.id, 'tx-waiting', 'approved'),
    ]);
    await poll('all three parked', async () => {
      const [a, b] = [await outcomesOf('tx-wake'), await outcomesOf('tx-waiting')];
      return a.length === 2 && b.length === 1 ? true : undefined;
    });
    expect((await outcomesOf('tx-wake')).map((o) => o.outcome)).toEqual([
      'retry_scheduled',
      'retry_scheduled',
    ]);
    expect((await parkedOf('tx-wake')).map((p) => [p.reason, p.click_id])).toEqual([
      ['click_not_found_yet', click.id],
      ['queued_behind', click.id],
    ]);
    const [waiting] = await parkedOf('tx-waiting');
    expect(waiting).toMatchObject({ reason: 'click_not_found_yet', click_id: neverSent.id });
    // Its next retry is minutes away: nothing but the wake decides it within this test.
    expect(waiting!.due_at.getTime() - Date.now()).toBeGreaterThan(120_000);

    await produceEvents(topic('clicks.recorded'), [click, unrelated]);
    const done = await poll(
      'tx-wake decided',
      async () => {
        const o = await outcomesOf('tx-wake');
        return o.length === 2 && o.every((x) => x.outcome !== 'retry_scheduled') ? o : undefined;
      },
      60_000,
    );
    expect(done.map((o) => o.outcome)).toEqual(['accepted', 'accepted']);
    const entries = (await sys.db.ds.query(
      `SELECT entry_type FROM ledger_entries WHERE transaction_id = 'tx-wake' ORDER BY seq`,
    )) as { entry_type: string }[];
    expect(entries.map((e) => e.entry_type)).toEqual(['approved', 'reversed']);
    expect(await parkedOf('tx-wake')).toEqual([]);
    // The postback waiting for a click that was not stored keeps its retry time.
    expect(await parkedOf('tx-waiting')).toEqual([waiting]);

    const metrics = await (
      await fetch(`${sys.processorUrl}/metrics`, { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } })
    ).text();
    expect(metrics).toMatch(/^parked_postbacks_woken_total{app="processor"} 1$/m);
  });
});
