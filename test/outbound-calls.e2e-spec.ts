import { createSocket, type Socket } from 'node:dgram';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  type AppProcess,
  clickEvent,
  freePort,
  poll,
  postbackEvent,
  produceEvents,
  seedOffer,
  spawnApp,
  waitReady,
} from '@app/testing';
import { type RunningSystem, startSystem } from './support';

/**
 * A DNS server for the test's own names: each name answers the next address of its list (the last
 * one sticks), so a test can make a name change between two lookups. Unknown names: NXDOMAIN.
 */
class DnsStub {
  private socket!: Socket;
  port = 0;
  private readonly names = new Map<string, string[]>();
  readonly asked: string[] = [];

  set(name: string, ...addresses: string[]): void {
    this.names.set(name.toLowerCase(), addresses);
  }

  async start(): Promise<void> {
    this.socket = createSocket('udp4');
    this.socket.on('message', (msg, from) => this.socket.send(this.answer(msg), from.port, from.address));
    await new Promise<void>((r) => this.socket.bind(0, '127.0.0.1', r));
    this.port = this.socket.address().port;
  }

  private answer(q: Buffer): Buffer {
    let at = 12;
    const labels: string[] = [];
    while (q[at]! > 0) {
      labels.push(q.subarray(at + 1, at + 1 + q[at]!).toString('ascii'));
      at += q[at]! + 1;
    }
    const qtype = q.readUInt16BE(at + 1);
    const question = q.subarray(12, at + 5);
    const name = labels.join('.').toLowerCase();
    const list = this.names.get(name);
    let rdata: Buffer[] = [];
    if (list && qtype === 1) {
      this.asked.push(name);
      const address = list.length > 1 ? list.shift()! : list[0]!;
      rdata = [Buffer.from(address.split('.').map(Number))];
    }
    const head = Buffer.alloc(12);
    head.writeUInt16BE(q.readUInt16BE(0), 0);
    head.writeUInt16BE(list ? 0x8180 : 0x8183, 2);
    head.writeUInt16BE(1, 4);
    head.writeUInt16BE(rdata.length, 6);
    const answers = rdata.map((d) => {
      const rr = Buffer.alloc(12);
      rr.writeUInt16BE(0xc00c, 0);
      rr.writeUInt16BE(1, 2);
      rr.writeUInt16BE(1, 4);
      rr.writeUInt32BE(0, 6);
      rr.writeUInt16BE(d.length, 10);
      return Buffer.concat([rr, d]);
    });
    return Buffer.concat([head, question, ...answers]);
  }

  stop(): Promise<void> {
    return new Promise((r) => this.socket.close(() => r()));
  }
}

type Mode = 'ok' | 'never' | 'not-found' | 'endless-body';

/** Publishers' endpoints: /pb/<publisher>, each answering as its mode says. */
class Publishers {
  server!: Server;
  port = 0;
  readonly modes = new Map<string, Mode>();
  readonly calls: { publisher: string; at: number }[] = [];
  readonly open = new Map<string, Set<ServerResponse>>();
  maxOpen = new Map<string, number>();

  constructor(private readonly host: string) {}

  async start(port = 0): Promise<void> {
    this.server = createServer((req, res) => this.handle(req, res));
    await new Promise<void>((r) => this.server.listen(port, this.host, r));
    this.port = (this.server.address() as AddressInfo).port;
  }

  url(publisher: string, host = this.host): string {
    return `http://${host}:${this.port}/pb/${publisher}?click={click_id}&status={status}`;
  }

  count(publisher: string): number {
    return this.calls.filter((c) => c.publisher === publisher).length;
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    const publisher = (req.url ?? '').split('/')[2]?.split('?')[0] ?? '';
    this.calls.push({ publisher, at: Date.now() });
    switch (this.modes.get(publisher) ?? 'ok') {
      case 'ok':
        res.writeHead(200).end('ok');
        return;
      case 'not-found':
        res.writeHead(404).end('no such click');
        return;
      case 'never': {
        const open = this.open.get(publisher) ?? new Set();
        open.add(res);
        this.open.set(publisher, open);
        this.maxOpen.set(publisher, Math.max(this.maxOpen.get(publisher) ?? 0, open.size));
        res.on('close', () => open.delete(res));
        return;
      }
      case 'endless-body': {
        res.writeHead(200, { 'content-type': 'text/plain' });
        const chunk = Buffer.alloc(16 * 1024, 'x');
        const more = () => {
          while (!res.destroyed && res.write(chunk));
          if (!res.destroyed) res.once('drain', more);
        };
        more();
        return;
      }
    }
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise((r) => this.server.close(r));
  }
}

/**
 * Outbound calls end to end: publisher URLs that are or resolve to internal addresses refused when
 * configured and again at call time (DNS can change; the connection goes to the address checked),
 * one slow publisher not delaying another, answers read up to a bound, and a publisher answering
 * 404 to everything paused and alerted on instead of giving up silently.
 */
describe('outbound calls to publishers', () => {
  let sys: RunningSystem;
  let notifier: AppProcess;
  const dns = new DnsStub();
  const publishers = new Publishers('127.0.0.1');
  // 127.0.0.2 is loopback too, and not allowlisted: nothing may ever reach it.
  const trap = new Publishers('127.0.0.2');
  const P = 'partner-out';

  const deliveries = async (publisher: string) =>
    (await sys.db.ds.query(
      `SELECT entry_id, status, attempts, last_error FROM publisher_deliveries WHERE publisher_id = $1 ORDER BY seq`,
      [publisher],
    )) as { entry_id: string; status: string; attempts: number; last_error: string | null }[];
  const configure = (publisher: string, body: Record<string, unknown>) =>
    sys.admin('PUT', `/v1/admin/publishers/${publisher}/postback`, {
      secret: `${publisher}-signing-secret-0123456789abcdef`,
      ...body,
    });
  /** Approved conversions of these publishers, decided by the real processor. */
  const approvals = async (publisher: string, n: number) => {
    const clicks = Array.from({ length: n }, () => clickEvent('o-out', publisher));
    await produceEvents(`${sys.prefix}clicks.recorded`, clicks);
    await poll('clicks stored', async () => {
      const [r] = await sys.db.ds.query(`SELECT count(*)::int AS n FROM clicks WHERE click_id = ANY($1)`, [
        clicks.map((c) => c.id),
      ]);
      return r.n === n ? true : undefined;
    });
    await produceEvents(
      `${sys.prefix}postbacks.received`,
      clicks.map((c) => postbackEvent(P, c.id, `tx-${c.id}`, 'approved')),
    );
  };

  beforeAll(async () => {
    await dns.start();
    await publishers.start();
    await trap.start(publishers.port);
    const outbound = { PUBLISHER_URL_ALLOW: '127.0.0.1', PUBLISHER_DNS_SERVERS: `127.0.0.1:${dns.port}` };
    sys = await startSystem('outbound', { env: { ...outbound, ALERT_EVAL_MS: '1000' } });
    const healthPort = await freePort();
    notifier = spawnApp('notifier', {
      DATABASE_URL: sys.db.url,
      KAFKA_BROKERS: process.env.KAFKA_BROKERS || '127.0.0.1:9092',
      TOPIC_PREFIX: sys.prefix,
      HEALTH_PORT: String(healthPort),
      LOG_LEVEL: 'log',
      ...outbound,
      DELIVERY_CONCURRENCY: '4',
      PUBLISHER_CONCURRENCY: '2',
      DELIVERY_TIMEOUT_MS: '15000',
      DELIVERY_LEASE_MARGIN_MS: '2000',
      DELIVERY_BACKOFF_BASE_MS: '200',
      DELIVERY_BACKOFF_MAX_MS: '600',
      DELIVERY_POLL_MS: '100',
      DELIVERY_MAX_ANSWER_BYTES: '65536',
      PUBLISHER_PAUSE_AFTER_FAILURES: '3',
      PUBLISHER_PAUSE_AFTER_MS: '0',
    });
    await waitReady(notifier, `http://127.0.0.1:${healthPort}/health/ready`);
    await seedOffer(sys.db.ds, { id: 'o-out', payout: '1500000' });
    for (const id of ['pub-cfg', 'pub-flip', 'pub-rebind', 'pub-slow', 'pub-fast', 'pub-big', 'pub-404'])
      expect((await sys.admin('POST', '/v1/admin/publishers', { id, name: id })).status).toBe(201);
  });

  afterAll(async () => {
    await notifier?.stop('SIGKILL');
    await sys?.stop();
    await Promise.all([publishers.stop(), trap.stop(), dns.stop()]);
  });

  it('refuses internal addresses when a postback URL is configured, naming the field and why', async () => {
    dns.set('wall.internal.test', '10.1.2.3');
    dns.set('wall.public.test', '203.0.113.10');
    const refused: [Record<string, string>, string, string][] = [
      [{ url: trap.url('pub-cfg') }, 'url', '127.0.0.2 is an internal address (loopback)'],
      [{ url: 'http://169.254.169.254/latest/meta-data?c={click_id}' }, 'url', 'cloud metadata'],
      [{ url: 'http://[::ffff:10.0.0.1]/pb?c={click_id}' }, 'url', 'private'],
      [{ url: 'http://[::1]:8080/pb' }, 'url', 'loopback'],
      [{ url: 'http://[fd00::1]/pb' }, 'url', 'unique-local'],
      [{ url: 'http://[fe80::1]/pb' }, 'url', 'link-local'],
      // 127.0.0.1 written as a number is read as 127.0.0.1 (allowlisted): 127.0.0.2 is not.
      [{ url: 'http://2130706434/pb' }, 'url', '127.0.0.2 is an internal address (loopback)'],
      [{ url: 'http://localhost:3000/pb' }, 'url', 'localhost is a loopback name'],
      [{ url: 'https://wall.internal.test/pb' }, 'url', 'wall.internal.test resolves to 10.1.2.3'],
      [
        { approved_url: publishers.url('pub-cfg'), reversed_url: 'http://192.168.1.10/chargeback' },
        'reversed_url',
        'private',
      ],
    ];
    for (const [body, field, why] of refused) {
      const r = await configure('pub-cfg', body);
      expect({ body, status: r.status, field: r.body?.error?.field, code: r.body?.error?.code }).toEqual({
        body,
        status: 400,
        field,
        code: 'internal_address',
      });
      expect(r.body.error.message).toContain(why);
    }
    // The allowlisted 127.0.0.1, public names, and names that do not resolve yet (checked at call time) pass.
    expect((await configure('pub-cfg', { url: publishers.url('pub-cfg') })).status).toBe(200);
    expect((await configure('pub-cfg', { url: 'https://wall.public.test/pb?c={click_id}' })).status).toBe(
      200,
    );
    expect((await configure('pub-cfg', { url: 'https://not-yet.test/pb?c={click_id}' })).status).toBe(200);
  });

  it('checks again at call time: a name that now resolves to loopback is never called', async () => {
    dns.set('flip.test', '203.0.113.10');
    expect((await configure('pub-flip', { url: trap.url('pub-flip', 'flip.test') })).status).toBe(200);
    dns.set('flip.test', '127.0.0.2');
    await approvals('pub-flip', 2);
    const failed = await poll('pub-flip attempts refused', async () => {
      const d = await deliveries('pub-flip');
      return d.length === 2 && d.every((x) => x.attempts >= 1 && x.last_error) ? d : undefined;
    });
    expect(failed[0]!.last_error).toContain(
      'not called: flip.test resolves to 127.0.0.2, an internal address (loopback)',
    );
    // Failures like any other: the endpoint is paused once they repeat.
    const state = await poll('pub-flip paused', async () => {
      const r = await sys.admin('GET', '/v1/admin/publishers/pub-flip/postback');
      return r.body?.state?.delivery_state === 'paused' ? r.body.state : undefined;
    });
    expect(state.paused_reason).toContain('flip.test resolves to 127.0.0.2');
    expect(trap.calls).toEqual([]);
  });

  it('connects to the address it checked, not to a second answer of the DNS', async () => {
    dns.set('rebind.test', '127.0.0.1');
    expect(
      (
        await configure('pub-rebind', {
          url: publishers.url('pub-rebind').replace('127.0.0.1', 'rebind.test'),
        })
      ).status,
    ).toBe(200);
    // The notifier's lookup gets 127.0.0.1 (allowed); any later lookup would get the trap's address.
    dns.set('rebind.test', '127.0.0.1', '127.0.0.2');
    await approvals('pub-rebind', 1);
    await poll('pub-rebind delivered', async () =>
      (await deliveries('pub-rebind'))[0]?.status === 'delivered' ? true : undefined,
    );
    expect(publishers.count('pub-rebind')).toBe(1);
    expect(trap.calls).toEqual([]);
  });

  it('does not let a publisher that never answers delay another', async () => {
    publishers.modes.set('pub-slow', 'never');
    expect((await configure('pub-slow', { url: publishers.url('pub-slow') })).status).toBe(200);
    expect((await configure('pub-fast', { url: publishers.url('pub-fast') })).status).toBe(200);
    // The slow publisher's conversions come first and outnumber the notifier's 4 slots.
    await approvals('pub-slow', 6);
    await poll('slow publisher holding calls', async () =>
      (publishers.open.get('pub-slow')?.size ?? 0) > 0 ? true : undefined,
    );
    await approvals('pub-fast', 4);
    await poll('every pub-fast delivery delivered', async () => {
      const d = await deliveries('pub-fast');
      return d.length === 4 && d.every((x) => x.status === 'delivered') ? true : undefined;
    });
    // Delivered while the slow publisher's first calls were still hanging (15 s timeout), and it
    // never held more than its own 2 slots.
    const [slowAttempts] = await sys.db.ds.query(
      `SELECT count(*)::int AS n FROM publisher_delivery_attempts WHERE publisher_id = 'pub-slow'`,
    );
    expect(slowAttempts.n).toBe(0);
    expect(publishers.open.get('pub-slow')?.size).toBeGreaterThan(0);
    expect(publishers.maxOpen.get('pub-slow')).toBeLessThanOrEqual(2);
    for (const r of publishers.open.get('pub-slow') ?? []) r.destroy();
  });

  it('reads an answer only up to its bound', async () => {
    publishers.modes.set('pub-big', 'endless-body');
    expect((await configure('pub-big', { url: publishers.url('pub-big') })).status).toBe(200);
    await approvals('pub-big', 1);
    const [d] = await poll('pub-big delivered', async () => {
      const x = await deliveries('pub-big');
      return x[0]?.status === 'delivered' ? x : undefined;
    });
    expect(d!.last_error).toBe('answer longer than 65536 bytes: not read further');
  });

  it('pauses and alerts on a publisher answering 404 to everything, instead of ending each delivery silently', async () => {
    publishers.modes.set('pub-404', 'not-found');
    expect((await configure('pub-404', { url: publishers.url('pub-404') })).status).toBe(200);
    await approvals('pub-404', 6);
    const state = await poll('pub-404 paused', async () => {
      const r = await sys.admin('GET', '/v1/admin/publishers/pub-404/postback');
      return r.body?.state?.delivery_state === 'paused' ? r.body.state : undefined;
    });
    expect(state.paused_reason).toMatch(/^3 failed attempts in a row since .*; last: HTTP 404$/);
    const d = await deliveries('pub-404');
    // Each 404 still ends its own delivery (not retried); the ones after the pause wait for an operator.
    expect(d.filter((x) => x.status === 'rejected_by_publisher').length).toBeGreaterThanOrEqual(3);
    expect(d.filter((x) => x.status === 'pending').length).toBeGreaterThanOrEqual(1);
    const alert = await poll('publisher_paused alert', async () => {
      const r = await sys.admin('GET', '/v1/admin/alerts');
      return (r.body?.alerts as { rule: string; subject: string }[] | undefined)?.find(
        (a) => a.rule === 'publisher_paused' && a.subject === 'pub-404',
      );
    });
    expect(alert).toMatchObject({ severity: 'critical' });
  });
});
