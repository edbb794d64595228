import { isIP } from 'node:net';
import { ipAddressBits, parseCidrList } from '../ip-allowlist';

/**
 * Where the notifier may send a publisher's postback. A publisher controls its URL, so the URL
 * must not reach our own network: loopback, private, link-local, unique-local, cloud metadata
 * and other special-purpose addresses are refused (IPv4, IPv6, and IPv4 inside IPv6: mapped,
 * NAT64, 6to4), unless the operator's allowlist names the address, its range or the host name.
 */

/** First match wins: the specific ranges (metadata) come before the ranges holding them. */
const BLOCKED: ReadonlyArray<readonly [string, string]> = [
  ['169.254.169.254/32', 'cloud metadata'],
  ['100.100.100.200/32', 'cloud metadata'],
  ['192.0.0.192/32', 'cloud metadata'],
  ['fd00:ec2::254/128', 'cloud metadata'],
  ['0.0.0.0/8', 'unspecified'],
  ['10.0.0.0/8', 'private'],
  ['100.64.0.0/10', 'shared (carrier-grade NAT)'],
  ['127.0.0.0/8', 'loopback'],
  ['169.254.0.0/16', 'link-local'],
  ['172.16.0.0/12', 'private'],
  ['192.0.0.0/24', 'special-purpose'],
  ['192.168.0.0/16', 'private'],
  ['198.18.0.0/15', 'benchmarking'],
  ['224.0.0.0/4', 'multicast'],
  ['240.0.0.0/4', 'reserved'],
  ['::/128', 'unspecified'],
  ['::1/128', 'loopback'],
  ['::/96', 'IPv4-compatible (deprecated)'],
  ['64:ff9b:1::/48', 'local NAT64'],
  ['100::/64', 'discard-only'],
  ['2001::/32', 'Teredo tunnel'],
  ['fc00::/7', 'unique-local'],
  ['fe80::/10', 'link-local'],
  ['fec0::/10', 'site-local (deprecated)'],
  ['ff00::/8', 'multicast'],
];

const RULES = BLOCKED.map(([cidr, reason]) => {
  const parsed = parseCidrList([cidr]);
  if (!parsed.ok) throw new Error(`blocked range ${cidr}: ${parsed.message}`);
  return { match: parsed.matcher, reason };
});

const NAT64 = parseCidrList(['64:ff9b::/96']);
const SIX_TO_FOUR = parseCidrList(['2002::/16']);

const v4Text = (v: bigint) => [24n, 16n, 8n, 0n].map((s) => ((v >> s) & 0xffn).toString()).join('.');

/** Why an address is internal (e.g. "loopback"), or undefined for a public address. */
export function internalAddressReason(ip: string): string | undefined {
  const bits = ipAddressBits(ip);
  if (!bits) return 'not an IP address';
  for (const r of RULES) if (r.match(ip)) return r.reason;
  if (bits.family === 6) {
    // IPv4 carried inside IPv6 is judged as that IPv4 address.
    let inner: bigint | undefined;
    if (NAT64.ok && NAT64.matcher(ip)) inner = bits.value & 0xffffffffn;
    else if (SIX_TO_FOUR.ok && SIX_TO_FOUR.matcher(ip)) inner = (bits.value >> 80n) & 0xffffffffn;
    if (inner !== undefined) {
      const why = internalAddressReason(v4Text(inner));
      return why && `${why} (IPv4 ${v4Text(inner)} inside IPv6)`;
    }
  }
  return undefined;
}

export interface ResolvedAddress {
  address: string;
  family: 4 | 6;
}

export type OutboundCheck =
  | { ok: true; addresses: ResolvedAddress[] }
  | { ok: false; message: string; address?: string; unresolved?: true };

export type OutboundPolicyResult =
  { ok: true; policy: OutboundPolicy } | { ok: false; entry: string; message: string };

/** A URL's host as the resolver and the allowlist see it: lower case, IPv6 without brackets. */
export function urlHost(url: string): string | undefined {
  try {
    const host = new URL(url).hostname.toLowerCase();
    return host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host;
  } catch {
    return undefined;
  }
}

export class OutboundPolicy {
  private constructor(
    private readonly allowedNames: ReadonlySet<string>,
    private readonly allowedAddress: (ip: string) => boolean,
  ) {}

  /** PUBLISHER_URL_ALLOW entries: addresses, CIDR ranges or host names. */
  static parse(entries: readonly string[]): OutboundPolicyResult {
    const names = new Set<string>();
    const cidrs: string[] = [];
    for (const raw of entries) {
      const e = raw.trim().toLowerCase();
      if (e === '') continue;
      if (e.includes('/') || isIP(e) !== 0) cidrs.push(e);
      else names.add(e.replace(/\.$/, ''));
    }
    const parsed = parseCidrList(cidrs);
    if (!parsed.ok) return { ok: false, entry: parsed.entry, message: parsed.message };
    return { ok: true, policy: new OutboundPolicy(names, parsed.matcher) };
  }

  /** The host needs no resolving: an IP address, or a name the allowlist names. */
  settledWithoutDns(host: string): OutboundCheck | undefined {
    if (isIP(host) !== 0) return this.checkAddresses(host, [{ address: host, family: isIP(host) as 4 | 6 }]);
    if (this.allowedNames.has(host.replace(/\.$/, ''))) return undefined;
    if (host === 'localhost' || host.endsWith('.localhost') || host.endsWith('.localhost.'))
      return { ok: false, message: `${host} is a loopback name` };
    return undefined;
  }

  /**
   * Every address a host resolves to must be public (or allowlisted): a name that resolves to one
   * public and one internal address is refused, since either may be the one connected to.
   */
  checkAddresses(host: string, addresses: readonly ResolvedAddress[]): OutboundCheck {
    if (addresses.length === 0)
      return { ok: false, message: `${host} does not resolve to any address`, unresolved: true };
    if (this.allowedNames.has(host.replace(/\.$/, ''))) return { ok: true, addresses: [...addresses] };
    for (const a of addresses) {
      if (this.allowedAddress(a.address)) continue;
      const why = internalAddressReason(a.address);
      if (why)
        return {
          ok: false,
          address: a.address,
          message:
            a.address === host
              ? `${host} is an internal address (${why})`
              : `${host} resolves to ${a.address}, an internal address (${why})`,
        };
    }
    return { ok: true, addresses: [...addresses] };
  }
}
