import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { loadEnv } from '@app/config';
import { OutboundGuard, OutboundPolicy, type ResolvedAddress } from '@app/domain';
import { NotifierEnv } from '../notifier.env';
import { HttpSender, pinnedLookup } from './http-sender';

/** An in-process endpoint on loopback; `answer` decides per request. */
async function endpoint(
  answer: Parameters<typeof createServer>[1],
): Promise<{ server: Server; port: number }> {
  const server = createServer(answer);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { server, port: (server.address() as AddressInfo).port };
}

describe('HttpSender', () => {
  const servers: Server[] = [];
  let lookups: string[];
  const sender = (dns: Record<string, string[]>, env: Record<string, string> = {}) => {
    const parsed = OutboundPolicy.parse(['127.0.0.1']);
    if (!parsed.ok) throw new Error(parsed.message);
    const resolve = async (host: string): Promise<ResolvedAddress[]> => {
      lookups.push(host);
      return (dns[host] ?? []).map((address) => ({ address, family: 4 }));
    };
    return new HttpSender(
      loadEnv(NotifierEnv, { DELIVERY_TIMEOUT_MS: '2000', DELIVERY_MAX_ANSWER_BYTES: '1024', ...env }),
      new OutboundGuard(parsed.policy, resolve),
    );
  };
  beforeEach(() => {
    lookups = [];
  });
  afterAll(async () => {
    for (const s of servers) {
      s.closeAllConnections();
      await new Promise((r) => s.close(r));
    }
  });

  it('connects to the address it checked, under the URL host name', async () => {
    let host = '';
    const { server, port } = await endpoint((req, res) => {
      host = req.headers.host ?? '';
      res.end('ok');
    });
    servers.push(server);
    const s = sender({ 'wall.test': ['127.0.0.1'] });
    const a = await s.get(`http://wall.test:${port}/pb?x=1`, {});
    expect(a).toMatchObject({ status: 200, error: null });
    expect(host).toBe(`wall.test:${port}`);
    expect(lookups).toEqual(['wall.test']);
    s.onApplicationShutdown();
  });

  it('does not call an internal address, however the URL spells it', async () => {
    const s = sender({ 'inside.test': ['10.0.0.8'] });
    for (const [url, why] of [
      ['http://inside.test/pb', 'inside.test resolves to 10.0.0.8, an internal address (private)'],
      ['http://169.254.169.254/latest', 'cloud metadata'],
      ['http://[::ffff:127.0.0.2]/pb', 'loopback'],
    ] as const) {
      const a = await s.get(url, {});
      expect(a.status).toBeUndefined();
      expect(a.error).toContain(`not called: `);
      expect(a.error).toContain(why);
    }
    s.onApplicationShutdown();
  });

  it('reads an answer only up to its bound, and keeps the status', async () => {
    const { server, port } = await endpoint((_req, res) => {
      res.writeHead(404);
      res.write(Buffer.alloc(4096, 'x'));
    });
    servers.push(server);
    const s = sender({});
    const a = await s.get(`http://127.0.0.1:${port}/pb`, {});
    expect(a).toMatchObject({ status: 404, error: 'answer longer than 1024 bytes: not read further' });
    s.onApplicationShutdown();
  });

  it('gives up at the deadline when the answer never ends', async () => {
    const { server, port } = await endpoint((_req, res) => {
      res.writeHead(200);
      res.write('a');
    });
    servers.push(server);
    const s = sender({}, { DELIVERY_TIMEOUT_MS: '300' });
    const a = await s.get(`http://127.0.0.1:${port}/pb`, {});
    expect(a).toMatchObject({ status: undefined, error: 'timeout after 300 ms' });
    s.onApplicationShutdown();
  });

  it('answers both lookup styles Node uses (one address, or all of them)', () => {
    const lookup = pinnedLookup({ address: '127.0.0.1', family: 4 });
    const one = jest.fn();
    const all = jest.fn();
    lookup('x', { family: 0 }, one);
    lookup('x', { all: true } as never, all);
    expect(one).toHaveBeenCalledWith(null, '127.0.0.1', 4);
    expect(all).toHaveBeenCalledWith(null, [{ address: '127.0.0.1', family: 4 }]);
  });
});
