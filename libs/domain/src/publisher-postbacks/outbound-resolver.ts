import { lookup, Resolver } from 'node:dns/promises';
import { type OutboundCheck, OutboundPolicy, type ResolvedAddress, urlHost } from './outbound-address';

/** Resolves a host name to every address it has (the one I/O of the outbound policy). */
export type HostLookup = (host: string) => Promise<ResolvedAddress[]>;

function withTimeout<T>(p: Promise<T>, ms: number, host: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(Object.assign(new Error(`${host}: DNS timeout`), { code: 'ETIMEOUT' })),
      ms,
    );
  });
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
}

/**
 * The system resolver (getaddrinfo: /etc/hosts included), or the given DNS servers (`ip` or
 * `ip:port`), bounded by `timeoutMs`. Answers are kept `cacheMs` (0: not kept).
 */
export function hostLookup(opts: { servers: string[]; timeoutMs: number; cacheMs?: number }): HostLookup {
  let resolve: HostLookup;
  if (opts.servers.length === 0) {
    resolve = async (host) =>
      (await withTimeout(lookup(host, { all: true, verbatim: true }), opts.timeoutMs, host)).map((a) => ({
        address: a.address,
        family: a.family === 6 ? 6 : 4,
      }));
  } else {
    const r = new Resolver({ timeout: opts.timeoutMs, tries: 1 });
    r.setServers(opts.servers);
    resolve = async (host) => {
      const [v4, v6] = await Promise.allSettled([r.resolve4(host), r.resolve6(host)]);
      const out: ResolvedAddress[] = [
        ...(v4.status === 'fulfilled' ? v4.value.map((address) => ({ address, family: 4 as const })) : []),
        ...(v6.status === 'fulfilled' ? v6.value.map((address) => ({ address, family: 6 as const })) : []),
      ];
      const failed = [v4, v6].find(
        (x): x is PromiseRejectedResult =>
          x.status === 'rejected' && (x.reason as { code?: string }).code !== 'ENODATA',
      );
      if (out.length === 0 && failed) throw failed.reason;
      return out;
    };
  }
  const cacheMs = opts.cacheMs ?? 0;
  if (cacheMs <= 0) return resolve;
  const cache = new Map<string, { at: number; addresses: ResolvedAddress[] }>();
  return async (host) => {
    const now = Date.now();
    const hit = cache.get(host);
    if (hit && now - hit.at < cacheMs) return hit.addresses;
    const addresses = await resolve(host);
    if (cache.size > 10_000) cache.clear();
    cache.set(host, { at: now, addresses });
    return addresses;
  };
}

/** The URL's host checked against the policy, resolving it when it is a name. */
export async function checkOutboundUrl(
  url: string,
  policy: OutboundPolicy,
  resolve: HostLookup,
): Promise<OutboundCheck> {
  const host = urlHost(url);
  if (!host) return { ok: false, message: 'not a valid URL' };
  const settled = policy.settledWithoutDns(host);
  if (settled) return settled;
  let addresses: ResolvedAddress[];
  try {
    addresses = await resolve(host);
  } catch (e) {
    const code = (e as { code?: unknown }).code;
    return {
      ok: false,
      unresolved: true,
      message: `${host} did not resolve (${typeof code === 'string' ? code : (e as Error).message})`,
    };
  }
  return policy.checkAddresses(host, addresses);
}

/** The outbound policy and the resolver, as the gateway (when URLs are configured) and the notifier (per call) use them. */
export class OutboundGuard {
  constructor(
    readonly policy: OutboundPolicy,
    readonly resolve: HostLookup,
  ) {}

  /** From PUBLISHER_URL_ALLOW, PUBLISHER_DNS_SERVERS and PUBLISHER_DNS_TIMEOUT_MS; throws naming a bad entry. */
  static fromEnv(
    env: { PUBLISHER_URL_ALLOW: string; PUBLISHER_DNS_SERVERS: string; PUBLISHER_DNS_TIMEOUT_MS: number },
    cacheMs = 0,
  ): OutboundGuard {
    const list = (s: string) =>
      s
        .split(',')
        .map((e) => e.trim())
        .filter(Boolean);
    const parsed = OutboundPolicy.parse(list(env.PUBLISHER_URL_ALLOW));
    if (!parsed.ok) throw new Error(`PUBLISHER_URL_ALLOW: ${parsed.entry}: ${parsed.message}`);
    return new OutboundGuard(
      parsed.policy,
      hostLookup({
        servers: list(env.PUBLISHER_DNS_SERVERS),
        timeoutMs: env.PUBLISHER_DNS_TIMEOUT_MS,
        cacheMs,
      }),
    );
  }

  check(url: string): Promise<OutboundCheck> {
    return checkOutboundUrl(url, this.policy, this.resolve);
  }
}
