import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { signingPayload, verifySignature } from '@app/domain';
import {
  type AppProcess,
  clickEvent,
  freePort,
  poll,
  postbackEvent,
  produceEvents,
  readTopic,
  seedOffer,
  spawnApp,
  waitReady,
} from '@app/testing';
import { ADMIN_TOKEN, type RunningSystem, startSystem } from './support';

/**
 * Publisher postbacks end to end: ledger entries decided by the real processor, delivered by the
 * real notifier to a local receiver that fails, times out and recovers on cue, and dedupes by
 * Idempotency-Key as a publisher should.
 */
type Mode = 'ok' | 'fail500' | 'accept-slow' | 'reject400';

interface Seen {
  publisher: string;
  key: string;
  status: string;
  at: number;
  signatureOk: boolean;
  hashOk: boolean;
}

class Receiver {
  server!: Server;
  port = 0;
  modes = new Map<string, Mode>();
  /** Requests answered 500 before the mode switches to ok (per publisher). */
  failFirst = new Map<string, number>();
  readonly requests: Seen[] = [];
  /** First acceptance per Idempotency-Key, in order: what the publisher acted on. */
  readonly accepted = new Map<string, Seen>();
  readonly acceptedOrder: Seen[] = [];
  duplicates = 0;
  /** Calls answered late (accept-slow) still open. */
  readonly held = new Set<ServerResponse>();

  constructor(
    private readonly secrets: Record<string, string>,
    private readonly hashSecrets: Record<string, string>,
  ) {}

  async start(): Promise<void> {
    this.server = createServer((req, res) => this.handle(req, res));
    await new Promise<void>((r) => this.server.listen(0, '127.0.0.1', r));
    this.port = (this.server.address() as AddressInfo).port;
  }

  url(publisher: string): string {
    return `http://127.0.0.1:${this.port}/pb/${publisher}`;
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    const url = new URL(req.url ?? '/', `http://127.0.0.1:${this.port}`);
    const publisher = url.pathname.split('/')[2] ?? '';
    const key = String(req.headers['idempotency-key'] ?? '');
    const ts = String(req.headers['x-postback-timestamp'] ?? '');
    const check = verifySignature({
      secrets: [this.secrets[publisher] ?? ''],
      timestamp: ts,
      signature: req.headers['x-postback-signature'] as string | undefined,
      payload: signingPayload(url.toString()),
      nowSeconds: Date.now() / 1000,
      toleranceSeconds: 60,
    });
    const hashSecret = this.hashSecrets[publisher];
    const hashOk =
      hashSecret === undefined ||
      url.searchParams.get('h') ===
        createHash('md5')
          .update(`${url.searchParams.get('click')}${url.searchParams.get('amount')}${hashSecret}`)
          .digest('hex');
    const seen: Seen = {
      publisher,
      key,
      status: url.searchParams.get('status') ?? '',
      at: Date.now(),
      signatureOk: check.ok,
      hashOk,
    };
    this.requests.push(seen);
    let mode = this.modes.get(publisher) ?? 'ok';
    const left = this.failFirst.get(publisher) ?? 0;
    if (left > 0) {
      this.failFirst.set(publisher, left - 1);
      mode = 'fail500';
    }
    const accept = () => {
      if (this.accepted.has(key)) this.duplicates++;
      else {
        this.accepted.set(key, seen);
        this.acceptedOrder.push(seen);
      }
    };
    switch (mode) {
      case 'ok':
        accept();
        res.writeHead(200).end('ok');
        return;
      case 'fail500':
        res.writeHead(500).end('down');
        return;
      case 'reject400':
        res.writeHead(400).end('unknown click');
        return;
      case 'accept-slow':
        // The publisher acts on it, but answers after our timeout: we must send it again, and
        // the publisher dedupes by Idempotency-Key.
        accept();
        this.held.add(res);
        setTimeout(() => {
          this.held.delete(res);
          if (!res.destroyed) res.writeHead(200).end('late');
        }, 3000);
        return;
    }
  }

  count(publisher: string): number {
    return this.requests.filter((r) => r.publisher === publisher).length;
  }

  async stop(): Promise<void> {
    for (const r of this.held) r.destroy();
    this.server.closeAllConnections();
    await new Promise((r) => this.server.close(r));
  }
}

describe('publisher postbacks', () => {
  let sys: RunningSystem;
  let notifier: AppProcess;
  let notifierUrl: string;
  let notifierEnv: Record<string, string>;
  const SECRET_OLD = 'pub-main-old-secret-0123456789abcdef';
  const SECRET_NEW = 'pub-main-new-secret-0123456789abcdef';
  const HASH_SECRET = 'wall-md5-secret';
  const secrets: Record<string, string> = {
    'pub-main': SECRET_NEW,
    'pub-rej': 'pub-rej-secret-0123456789abcdef0123',
    'pub-down': 'pub-down-secret-0123456789abcdef012',
    'pub-dead': 'pub-dead-secret-0123456789abcdef012',
  };
  const receiver = new Receiver(secrets, { 'pub-main': HASH_SECRET });
  const P = 'partner-pp';
  const topic = (t: string) => `${sys.prefix}${t}`;

  const startNotifier = async () => {
    notifier = spawnApp('notifier', notifierEnv);
    await waitReady(notifier, `${notifierUrl}/health/ready`);
  };

  const ledger = async (publisher: string) =>
    (await sys.db.ds.query(
      `SELECT entry_id, entry_type, conversion_id FROM ledger_entries
        WHERE publisher_id = $1 AND entry_type IN ('approved', 'released', 'reversed') ORDER BY seq`,
      [publisher],
    )) as { entry_id: string; entry_type: string; conversion_id: string }[];

  const deliveries = async (publisher: string) =>
    (await sys.db.ds.query(
      `SELECT entry_id, status, attempts FROM publisher_deliveries WHERE publisher_id = $1`,
      [publisher],
    )) as { entry_id: string; status: string; attempts: number }[];

  beforeAll(async () => {
    await receiver.start();
    // The receiver listens on loopback: the operator allowlist lets the gateway and notifier reach it.
    sys = await startSystem('pubpb', {
      env: {
        RETRY_DELAYS_MS: '800,1500,2500',
        CLICK_WATERMARK_MARGIN_MS: '3000',
        PUBLISHER_URL_ALLOW: '127.0.0.1',
      },
    });
    const healthPort = await freePort();
    notifierUrl = `http://127.0.0.1:${healthPort}`;
    notifierEnv = {
      DATABASE_URL: sys.db.url,
      KAFKA_BROKERS: process.env.KAFKA_BROKERS || '127.0.0.1:9092',
      TOPIC_PREFIX: sys.prefix,
      HEALTH_PORT: String(healthPort),
      LOG_LEVEL: 'log',
      DELIVERY_TIMEOUT_MS: '800',
      DELIVERY_LEASE_MARGIN_MS: '700',
      DELIVERY_BACKOFF_BASE_MS: '150',
      DELIVERY_BACKOFF_MAX_MS: '800',
      DELIVERY_MAX_AGE_MS: '120000',
      DELIVERY_POLL_MS: '100',
      PUBLISHER_PAUSE_AFTER_FAILURES: '4',
      PUBLISHER_PAUSE_AFTER_MS: '4000',
      METRICS_REFRESH_MS: '300',
      PUBLISHER_URL_ALLOW: '127.0.0.1',
    };
    await startNotifier();
    await seedOffer(sys.db.ds, { id: 'o-main', payout: '2500000' });
    await seedOffer(sys.db.ds, { id: 'o-hold', minConversionSeconds: 3600 });
    for (const id of ['pub-main', 'pub-rej', 'pub-down', 'pub-dead'])
      expect((await sys.admin('POST', '/v1/admin/publishers', { id, name: id })).status).toBe(201);
  });

  afterAll(async () => {
    await notifier?.stop('SIGKILL');
    await sys?.stop();
    await receiver.stop();
  });

  it('refuses a template with an unknown macro, naming it, and keeps secrets write-only', async () => {
    const bad = await sys.admin('PUT', '/v1/admin/publishers/pub-main/postback', {
      url: `${receiver.url('pub-main')}?click={click_id}&x={clickid}`,
      secret: SECRET_NEW,
    });
    expect(bad.status).toBe(400);
    expect(bad.body.error.field).toBe('url');
    expect(bad.body.error.message).toContain('{clickid}');
    const ftp = await sys.admin('PUT', '/v1/admin/publishers/pub-main/postback', {
      url: 'ftp://wall.example/pb',
      secret: SECRET_NEW,
    });
    expect(ftp.status).toBe(400);

    const put = await sys.admin('PUT', '/v1/admin/publishers/pub-main/postback', {
      url: `${receiver.url('pub-main')}?click={click_id}&tx={transaction_id}&status={status}&amount={payout}&cur={currency}&s1={sub1}&ev={event}`,
      // A rotation: both secrets sign; the publisher verifies with the new one only.
      secrets: [SECRET_OLD, SECRET_NEW],
      legacy_hash: { algorithm: 'md5', param: 'h', fields: ['click_id', 'payout'], secret: HASH_SECRET },
    });
    expect(put.status).toBe(200);
    expect(put.body.secrets_configured).toBe(2);
    expect(JSON.stringify(put.body)).not.toContain(SECRET_NEW);
    expect(JSON.stringify(put.body)).not.toContain(HASH_SECRET);
    const docs = (await (
      await fetch(`${sys.gatewayUrl}/docs/admin/openapi.json`, {
        headers: { authorization: `Bearer ${ADMIN_TOKEN}` },
      })
    ).json()) as { paths: object };
    expect(Object.keys(docs.paths)).toEqual(
      expect.arrayContaining([
        '/v1/admin/publishers/{id}/postback',
        '/v1/admin/publishers/{id}/postback/resume',
        '/v1/admin/publishers/{id}/postback/deliveries/replay',
      ]),
    );
    for (const id of ['pub-rej', 'pub-down']) {
      const r = await sys.admin('PUT', `/v1/admin/publishers/${id}/postback`, {
        approved_url: `${receiver.url(id)}?click={click_id}&status={status}`,
        secret: secrets[id],
      });
      expect(r.status).toBe(200);
    }
  });

  it('delivers every approval, release and reversal once (as the receiver dedupes), in order, signed, through failures, timeouts and a kill -9', async () => {
    // pub-main: three 500s, then calls the receiver acts on but answers too late (timeouts).
    receiver.failFirst.set('pub-main', 3);
    receiver.modes.set('pub-main', 'accept-slow');
    receiver.modes.set('pub-rej', 'reject400');
    receiver.modes.set('pub-down', 'fail500');

    const mainClicks = Array.from({ length: 10 }, () => clickEvent('o-main', 'pub-main'));
    const holdClick = clickEvent('o-hold', 'pub-main');
    const rejClicks = Array.from({ length: 2 }, () => clickEvent('o-main', 'pub-rej'));
    const downClicks = Array.from({ length: 3 }, () => clickEvent('o-main', 'pub-down'));
    const all = [...mainClicks, holdClick, ...rejClicks, ...downClicks];
    await produceEvents(topic('clicks.recorded'), all);
    await poll('clicks stored', async () => {
      const [r] = await sys.db.ds.query(`SELECT count(*)::int AS n FROM clicks WHERE click_id = ANY($1)`, [
        all.map((c) => c.id),
      ]);
      return r.n === all.length ? true : undefined;
    });
    // Approvals and, for half of the main conversions, a reversal right behind them: both wait
    // while the receiver fails, and the reversal must still arrive second.
    await produceEvents(topic('postbacks.received'), [
      ...mainClicks.map((c, i) => postbackEvent(P, c.id, `tx-main-${i}`, 'approved')),
      ...mainClicks.slice(0, 5).map((c, i) => postbackEvent(P, c.id, `tx-main-${i}`, 'reversed')),
      postbackEvent(P, holdClick.id, 'tx-hold', 'approved'),
      ...rejClicks.map((c, i) => postbackEvent(P, c.id, `tx-rej-${i}`, 'approved')),
      ...downClicks.map((c, i) => postbackEvent(P, c.id, `tx-down-${i}`, 'approved')),
    ]);

    // The held conversion is released by an operator: a `released` entry, told as approved.
    const [held] = await poll('held entry', async () => {
      const rows = await sys.db.ds.query(
        `SELECT conversion_id FROM ledger_entries WHERE transaction_id = 'tx-hold' AND entry_type = 'held'`,
      );
      return rows.length ? rows : undefined;
    });
    const released = await sys.admin('POST', `/v1/admin/reviews/${held.conversion_id}/approve`, {
      note: 'checked',
    });
    expect(released.status).toBe(200);

    // Timeouts: the receiver acts on calls but answers after the notifier gave up; then the
    // notifier is killed while calls are in flight, and restarted.
    await poll(
      'a timeout recorded',
      async () =>
        (
          await sys.db.ds.query(
            `SELECT 1 FROM publisher_delivery_attempts WHERE publisher_id = 'pub-main' AND error LIKE 'timeout%'`,
          )
        )[0],
    );
    await poll('calls in flight', async () => (receiver.held.size >= 1 ? true : undefined), 30000, 20);
    expect(receiver.count('pub-main')).toBeGreaterThanOrEqual(6);
    await notifier.stop('SIGKILL');
    receiver.modes.set('pub-main', 'ok');
    await startNotifier();

    const expected = await poll('16 ledger entries for pub-main', async () => {
      const e = await ledger('pub-main');
      return e.length === 16 ? e : undefined;
    });
    await poll(
      'every pub-main delivery delivered',
      async () => {
        const d = await deliveries('pub-main');
        return d.length === 16 && d.every((x) => x.status === 'delivered') ? true : undefined;
      },
      60000,
    );
    const expectedIds = expected.map((e) => e.entry_id).sort();
    const acceptedMain = receiver.acceptedOrder.filter((s) => s.publisher === 'pub-main');
    expect(acceptedMain.map((s) => s.key).sort()).toEqual(expectedIds);
    expect(acceptedMain.filter((s) => s.status === 'approved')).toHaveLength(11);
    expect(acceptedMain.filter((s) => s.status === 'reversed')).toHaveLength(5);
    // At least once on the wire: the timeouts and the kill made the receiver see repeats.
    expect(receiver.duplicates).toBeGreaterThan(0);

    // Order per conversion: the approval was accepted before the reversal.
    const byEntry = new Map(expected.map((e) => [e.entry_id, e]));
    const position = new Map(acceptedMain.map((s, i) => [s.key, i]));
    for (const rev of expected.filter((e) => e.entry_type === 'reversed')) {
      const approval = expected.find(
        (e) => e.conversion_id === rev.conversion_id && e.entry_type === 'approved',
      )!;
      expect(position.get(approval.entry_id)!).toBeLessThan(position.get(rev.entry_id)!);
      expect(byEntry.get(rev.entry_id)).toBeDefined();
    }
    // Signed with both secrets (the receiver knows only the new one), legacy hash right.
    const mainRequests = receiver.requests.filter((r) => r.publisher === 'pub-main');
    expect(mainRequests.every((r) => r.signatureOk && r.hashOk)).toBe(true);

    // Every attempt is in the delivery log, with answer and latency.
    // Every attempt that finished is in the delivery log (one killed mid-request has none).
    const [log] = await sys.db.ds.query(
      `SELECT count(DISTINCT entry_id) FILTER (WHERE outcome = 'delivered')::int AS delivered,
              count(*) FILTER (WHERE status_code = 500)::int AS failed,
              count(*) FILTER (WHERE error LIKE 'timeout%')::int AS timeouts,
              bool_and(latency_ms >= 0) AS latencies
         FROM publisher_delivery_attempts WHERE publisher_id = 'pub-main'`,
    );
    expect(log).toMatchObject({ delivered: 16, latencies: true });
    expect(log.failed).toBeGreaterThanOrEqual(1);
    expect(log.timeouts).toBeGreaterThanOrEqual(1);

    // 4xx: rejected by the publisher, never retried.
    await poll('pub-rej rejected', async () => {
      const d = await deliveries('pub-rej');
      return d.length === 2 && d.every((x) => x.status === 'rejected_by_publisher') ? d : undefined;
    });
    await new Promise((r) => setTimeout(r, 1000));
    expect(receiver.count('pub-rej')).toBe(2);
    expect((await deliveries('pub-rej')).every((d) => d.attempts === 1)).toBe(true);
  });

  it('pauses an endpoint that keeps failing, visibly, and resumes it by operator action', async () => {
    const state = await poll(
      'pub-down paused',
      async () => {
        const r = await sys.admin('GET', '/v1/admin/publishers/pub-down/postback');
        return r.body?.state?.delivery_state === 'paused' ? r.body.state : undefined;
      },
      30000,
    );
    expect(state.paused_reason).toContain('HTTP 500');
    expect(state.deliveries.pending).toBe(3);
    const metrics = await poll('paused metric', async () => {
      const text = await (await fetch(`${notifierUrl}/metrics`)).text();
      return /publisher_postback_endpoint_paused\{[^}]*publisher_id="pub-down"[^}]*\} 1/.test(text)
        ? text
        : undefined;
    });
    expect(metrics).toContain('publisher_postback_attempts_total');
    // Paused: no more calls.
    const before = receiver.count('pub-down');
    await new Promise((r) => setTimeout(r, 1500));
    expect(receiver.count('pub-down')).toBe(before);

    receiver.modes.set('pub-down', 'ok');
    const resumed = await sys.admin('POST', '/v1/admin/publishers/pub-down/postback/resume');
    expect(resumed.status).toBe(200);
    expect(resumed.body.deliveries_due_now).toBe(3);
    await poll('pub-down delivered', async () => {
      const d = await deliveries('pub-down');
      return d.length === 3 && d.every((x) => x.status === 'delivered') ? true : undefined;
    });
    const keys = receiver.acceptedOrder.filter((s) => s.publisher === 'pub-down').map((s) => s.key);
    expect(keys.sort()).toEqual((await ledger('pub-down')).map((e) => e.entry_id).sort());
    expect((await sys.admin('GET', '/v1/admin/publishers/pub-down/postback')).body.state.delivery_state).toBe(
      'active',
    );
  });
  it('dead-letters a delivery spent after its retry window, and an operator replays it', async () => {
    // A notifier with a 2 s retry window (and no pausing in the way).
    await notifier.stop('SIGTERM');
    notifierEnv = { ...notifierEnv, DELIVERY_MAX_AGE_MS: '2000', PUBLISHER_PAUSE_AFTER_FAILURES: '100000' };
    await startNotifier();
    receiver.modes.set('pub-dead', 'fail500');
    expect(
      (
        await sys.admin('PUT', '/v1/admin/publishers/pub-dead/postback', {
          url: `${receiver.url('pub-dead')}?click={click_id}&status={status}`,
          secret: secrets['pub-dead'],
        })
      ).status,
    ).toBe(200);
    const c = clickEvent('o-main', 'pub-dead');
    await produceEvents(topic('clicks.recorded'), [c]);
    await poll(
      'click stored',
      async () => (await sys.db.ds.query(`SELECT 1 FROM clicks WHERE click_id = $1`, [c.id]))[0],
    );
    await produceEvents(topic('postbacks.received'), [postbackEvent(P, c.id, 'tx-dead', 'approved')]);
    const [dead] = await poll('delivery dead', async () => {
      const d = await deliveries('pub-dead');
      return d.length === 1 && d[0]!.status === 'dead' ? d : undefined;
    });
    expect(dead!.attempts).toBeGreaterThan(1);
    const [message] = (await readTopic(topic('publisher.deliveries.dead'), 1, 15000)) as any[];
    expect(message.entry_id).toBe(dead!.entry_id);
    expect(message.publisher_id).toBe('pub-dead');
    expect(message.last_error).toBe('HTTP 500');

    // The operator's CLI lists it; the fix is in; the admin API replays it.
    const cli = execFileSync(
      process.execPath,
      [join(__dirname, '..', 'dist', 'infra', 'cli', 'publisher-deliveries.js'), 'list', '--status', 'dead'],
      {
        env: { PATH: process.env.PATH ?? '', DATABASE_URL: sys.db.url },
      },
    ).toString();
    expect(cli).toContain(dead!.entry_id);
    receiver.modes.set('pub-dead', 'ok');
    const replay = await sys.admin('POST', '/v1/admin/publishers/pub-dead/postback/deliveries/replay', {});
    expect(replay.body).toEqual({ replayed: 1, entry_ids: [dead!.entry_id] });
    await poll('replayed delivery delivered', async () =>
      (await deliveries('pub-dead'))[0]?.status === 'delivered' ? true : undefined,
    );
    expect(receiver.accepted.get(dead!.entry_id)?.publisher).toBe('pub-dead');
  });
});
