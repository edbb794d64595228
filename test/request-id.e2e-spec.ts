import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  type AppProcess,
  freePort,
  httpJson,
  poll,
  signedPostbackUrl,
  spawnApp,
  waitReady,
} from '@app/testing';
import { type RunningSystem, seedCatalog, startSystem } from './support';

interface LogLine {
  level: string;
  context?: string;
  message: unknown;
  request_id?: string;
}

/** The lines of an app's output that are JSON objects (Node's own warnings are not). */
const jsonLines = (app: AppProcess): LogLine[] =>
  app
    .logs()
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as LogLine);

const event = (l: LogLine) => (typeof l.message === 'object' ? (l.message as Record<string, unknown>) : {});

/**
 * One request id from the partner's HTTP request to the publisher's postback (issue 19):
 * the gateway's answer and its log lines, postbacks.request_id, the processor's decision line and
 * the notifier's delivery line, with the apps on their default log format (json: stdout is a pipe).
 */
describe('request id end to end', () => {
  let sys: RunningSystem;
  let notifier: AppProcess;
  let receiver: Server;
  const calls: string[] = [];
  let ids: Awaited<ReturnType<typeof seedCatalog>>;

  beforeAll(async () => {
    receiver = createServer((req, res) => {
      calls.push(req.url ?? '');
      res.end('ok');
    });
    await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r));
    const receiverPort = (receiver.address() as AddressInfo).port;
    sys = await startSystem('reqid', { env: { LOG_LEVEL: 'debug', PUBLISHER_URL_ALLOW: '127.0.0.1' } });
    const healthPort = await freePort();
    notifier = spawnApp('notifier', {
      DATABASE_URL: sys.db.url,
      KAFKA_BROKERS: process.env.KAFKA_BROKERS || '127.0.0.1:9092',
      TOPIC_PREFIX: sys.prefix,
      HEALTH_PORT: String(healthPort),
      LOG_LEVEL: 'debug',
      DELIVERY_POLL_MS: '100',
      PUBLISHER_URL_ALLOW: '127.0.0.1',
    });
    await waitReady(notifier, `http://127.0.0.1:${healthPort}/health/ready`);
    ids = await seedCatalog(sys, 'rid');
    const put = await sys.admin('PUT', `/v1/admin/publishers/${ids.publisher}/postback`, {
      url: `http://127.0.0.1:${receiverPort}/pb?click={click_id}&status={status}`,
      secret: 'publisher-rid-secret-0123456789abcdef',
    });
    expect(put.status).toBe(200);
  });

  afterAll(async () => {
    await notifier?.stop();
    await sys?.stop();
    await new Promise((r) => receiver?.close(r));
  });

  it('every answer carries x-request-id: the caller’s when well-formed, else a minted one', async () => {
    for (const path of ['/health/live', '/no-such-route', '/docs/openapi.json']) {
      const mine = await fetch(`${sys.gatewayUrl}${path}`, {
        headers: { 'x-request-id': `rid-${path.length}` },
      });
      expect(mine.headers.get('x-request-id')).toBe(`rid-${path.length}`);
      const minted = await fetch(`${sys.gatewayUrl}${path}`);
      expect(minted.headers.get('x-request-id')).toMatch(/^[0-9A-HJKMNP-TV-Z]{26}$/);
    }
  });

  it('follows one postback by its request id: gateway, postbacks.request_id, decision, publisher delivery', async () => {
    const requestId = 'trace-e2e.rid_1';
    const click = await httpJson(`${sys.gatewayUrl}/v1/clicks`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ offer_id: ids.offer, publisher_id: ids.publisher }),
    });
    expect(click.status).toBe(201);
    const clickId = click.body.click_id as string;
    await poll('click stored', async () =>
      (await sys.db.ds.query(`SELECT 1 FROM clicks WHERE click_id = $1`, [clickId])).length
        ? true
        : undefined,
    );
    const s = signedPostbackUrl(sys.gatewayUrl, ids.partner, ids.secret, {
      click_id: clickId,
      transaction_id: 'tx-rid-1',
      status: 'approved',
    });
    const r = await httpJson(s.url, { headers: { ...s.headers, 'x-request-id': requestId } });
    expect(r.status).toBe(200);
    expect(r.headers.get('x-request-id')).toBe(requestId);
    const eventId = r.body.id as string;

    const [stored] = await poll('postback stored', async () => {
      const rows = (await sys.db.ds.query(`SELECT request_id FROM postbacks WHERE event_id = $1`, [
        eventId,
      ])) as { request_id: string }[];
      return rows.length ? rows : undefined;
    });
    expect(stored!.request_id).toBe(requestId);
    await poll('publisher called', async () => calls.some((c) => c.includes(clickId)) || undefined);

    const find = (app: AppProcess, msg: string) =>
      poll(`${app.name} logged "${msg}" with the request id`, async () =>
        jsonLines(app).find((l) => event(l).msg === msg && event(l).request_id === requestId),
      );
    // The gateway's line was written while serving the request: the logger adds its id too.
    const accepted = await find(sys.gateway, 'postback accepted');
    expect(accepted.request_id).toBe(requestId);
    expect(event(accepted).correlation_id).toBe(eventId);
    const decided = await find(sys.processor, 'postback decided');
    expect(event(decided)).toMatchObject({ correlation_id: eventId, outcome: 'accepted' });
    const [entry] = (await sys.db.ds.query(`SELECT entry_id FROM ledger_entries WHERE source_event_id = $1`, [
      eventId,
    ])) as { entry_id: string }[];
    expect(event(decided).entry_id).toBe(entry!.entry_id);
    const delivered = await find(notifier, 'publisher postback attempted');
    expect(event(delivered)).toMatchObject({
      correlation_id: eventId,
      entry_id: entry!.entry_id,
      publisher_id: ids.publisher,
      outcome: 'delivered',
    });
  });

  it('logs json by default when stdout is not a terminal', () => {
    for (const app of [sys.gateway, sys.processor, notifier]) {
      const lines = jsonLines(app);
      expect(lines.length).toBeGreaterThan(0);
      // Nest's own start-up lines are json too, not only our event objects.
      expect(lines.some((l) => typeof l.message === 'string')).toBe(true);
      expect(app.logs()).not.toMatch(/\[Nest\] \d+ +- /);
    }
  });
});
