import type { DataSource, EntityManager } from 'typeorm';
import { entryIdOf, NO_MONEY } from '@app/domain';
import { appendEntries, lockConversions } from '@app/ledger';
import { createDataSource } from '@app/persistence';
import { decidedOutcomes, readOutcomesBack } from '@app/read-models';
import { createTestDatabase, type TestDatabase } from '@app/testing';
import type { OutcomeRow } from './postback-plan';
import { writeOutcomes } from './postback-writer';

/**
 * The outcomes' writer against real Postgres, as the apps' role: what it hands the projector in
 * memory is exactly what the projector reads back otherwise, and an outcome whose conversion it
 * does not know is left to be read back.
 */
describe('outcomes writer (real Postgres, application role)', () => {
  let db: TestDatabase;
  let app: DataSource;

  beforeAll(async () => {
    db = await createTestDatabase();
    app = createDataSource({ url: db.url, poolSize: 2, applicationName: 'outcomes-int' });
    await app.initialize();
    decidedOutcomes.wanted = () => true;
  });
  afterAll(async () => {
    decidedOutcomes.wanted = () => false;
    await app?.destroy();
    await db?.drop();
  });

  const outcome = (eventId: string, over: Partial<OutcomeRow>): OutcomeRow => ({
    event_id: eventId,
    partner_id: 'partner-a',
    click_id: 'click-1',
    transaction_id: `tx-${eventId}`,
    status: 'approved',
    conversion_id: null,
    offer_id: 'offer-1',
    publisher_id: 'pub-1',
    sub1: 'sub-\u{1F600}',
    placement: null,
    geo: 'DE',
    outcome: 'rejected',
    reason_bucket: 'hard',
    reason_code: 'unknown_offer',
    detail: 'x',
    entry_id: null,
    attempts: 1,
    late: false,
    postback_delay_ms: null,
    received_at: '2026-01-01T00:00:01.123Z',
    decided_at: '2026-01-01T00:00:02.000Z',
    ...over,
  });

  it('hands over exactly the rows read back, under their queue numbers; an unknown conversion is read back', async () => {
    const entryId = entryIdOf('cv-known', 'approved', 'ev-known');
    await app.transaction(async (em: EntityManager) => {
      await lockConversions(em, [{ conversionId: 'cv-known', transactionId: 'tx-ev-known' }]);
      await appendEntries(
        em,
        [
          {
            requested: 'approved',
            money: { ...NO_MONEY, payoutMicros: 2_000_000n },
            entry: {
              schema_version: 1,
              entry_id: entryId,
              entry_type: 'approved',
              conversion_id: 'cv-known',
              conversion_status: 'approved',
              click_id: 'click-1',
              transaction_id: 'tx-ev-known',
              offer_id: 'offer-1',
              publisher_id: 'pub-1',
              partner_id: 'partner-a',
              goal: 'default',
              amount_micros: '2000000',
              currency: 'EUR',
              reason_bucket: null,
              reason_code: null,
              sub1: null,
              sub2: null,
              sub3: null,
              sub4: null,
              sub5: null,
              placement: null,
              geo: 'DE',
              device: null,
              clicked_at: null,
              occurred_at: '2026-01-01T00:00:01.123Z',
              recorded_at: '2026-01-01T00:00:02.000Z',
              late: false,
              postback_delay_ms: null,
              source_event_id: 'ev-known',
              operator: null,
              note: null,
            },
          },
        ],
        new Map(),
      );
    });
    const rows = [
      outcome('ev-none', {}),
      outcome('ev-known', {
        conversion_id: 'cv-known',
        outcome: 'accepted',
        reason_bucket: null,
        reason_code: null,
        entry_id: entryId,
      }),
      outcome('ev-unknown', { conversion_id: 'cv-unknown', reason_code: 'blocked_geo' }),
    ];
    const currencies = new Map([['cv-known', 'EUR']]);
    await app.transaction((em) => writeOutcomes(em, rows, (id) => currencies.get(id)));
    const queued = await app.query<{ seq: string; event_id: string }[]>(
      `SELECT seq::text, event_id FROM projection_queue WHERE event_id IS NOT NULL ORDER BY event_id`,
    );
    expect(queued.map((q) => q.event_id)).toEqual(['ev-known', 'ev-none', 'ev-unknown']);
    const stored = await readOutcomesBack(
      app.manager,
      queued.map((q) => q.event_id),
    );
    const back = new Map(stored.map((o) => [o.event_id, o]));
    const handed = new Map(queued.map((q) => [q.event_id, decidedOutcomes.get(q.event_id, q.seq)]));
    expect(handed.get('ev-none')).toEqual(back.get('ev-none'));
    expect(handed.get('ev-known')).toEqual(back.get('ev-known'));
    expect(back.get('ev-known')!.currency).toBe('EUR');
    expect(back.get('ev-none')!.currency).toBe('');
    // Not known to the writer: left for the projector to read (the conversion may exist by then).
    expect(handed.get('ev-unknown')).toBeUndefined();
  });
});
