import { isIPv4, isIPv6 } from 'net';

// Addresses are handled as bigints: IPv4 in 32 bits, IPv6 in 128 bits. IPv4-mapped IPv6 (::ffff:a.b.c.d)
// is folded to IPv4 on both sides, so either spelling of a rule matches either spelling of a peer.

export type CidrListResult =
  { ok: true; matcher: (ip: string) => boolean } | { ok: false; entry: string; message: string };

type Family = 4 | 6;
interface Addr {
  family: Family;
  value: bigint;
}
interface Rule {
  family: Family;
  network: bigint;
  mask: bigint;
}

const BITS: Record<Family, number> = { 4: 32, 6: 128 };
const MAX_ADDRESS_LENGTH = 64;
/** Answers a matcher remembers before it starts over: a flood from many addresses costs bounded memory. */
const MATCHER_MEMORY = 4096;

function parseIPv4(s: string): bigint {
  return s.split('.').reduce((acc, octet) => (acc << 8n) | BigInt(Number(octet)), 0n);
}

function parseIPv6(s: string): bigint {
  let text = s;
  // A dotted IPv4 tail ("::ffff:1.2.3.4") stands for the last two groups.
  const lastColon = text.lastIndexOf(':');
  const tail = text.slice(lastColon + 1);
  if (tail.includes('.')) {
    const v4 = Number(parseIPv4(tail));
    text = `${text.slice(0, lastColon + 1)}${(v4 >>> 16).toString(16)}:${(v4 & 0xffff).toString(16)}`;
  }
  const [head = '', rest] = text.split('::');
  const toGroups = (part: string): number[] =>
    part === '' ? [] : part.split(':').map((g) => parseInt(g, 16));
  const headGroups = toGroups(head);
  const restGroups = rest === undefined ? [] : toGroups(rest);
  const zeros = rest === undefined ? 0 : 8 - headGroups.length - restGroups.length;
  const groups = [...headGroups, ...new Array<number>(zeros).fill(0), ...restGroups];
  return groups.reduce((acc, g) => (acc << 16n) | BigInt(g), 0n);
}

/** Parses a bare address; IPv4-mapped IPv6 comes back as IPv4. Zone ids and anything odd are refused. */
function parseAddress(raw: string): Addr | undefined {
  if (typeof raw !== 'string' || raw.length > MAX_ADDRESS_LENGTH) return undefined;
  const s = raw.trim();
  if (isIPv4(s)) return { family: 4, value: parseIPv4(s) };
  if (!isIPv6(s) || s.includes('%')) return undefined;
  const v6 = parseIPv6(s);
  if (v6 >> 32n === 0xffffn) return { family: 4, value: v6 & 0xffffffffn };
  return { family: 6, value: v6 };
}

/** An address as its family and bits (IPv4-mapped IPv6 folded to IPv4); undefined for anything else. */
export function ipAddressBits(ip: string): { family: 4 | 6; value: bigint } | undefined {
  return parseAddress(ip);
}

function maskFor(family: Family, prefix: number): bigint {
  const bits = BigInt(BITS[family]);
  const all = (1n << bits) - 1n;
  return (all << (bits - BigInt(prefix))) & all;
}

function parseRule(entry: string): Rule | string {
  const s = entry.trim();
  if (s === '') return 'empty entry';
  const slash = s.indexOf('/');
  const addrText = slash === -1 ? s : s.slice(0, slash);
  const prefixText = slash === -1 ? undefined : s.slice(slash + 1);

  const isV4Text = isIPv4(addrText);
  if (!isV4Text && !(isIPv6(addrText) && !addrText.includes('%'))) {
    return `"${addrText}" is not an IPv4 or IPv6 address`;
  }
  const writtenBits = isV4Text ? 32 : 128;
  let prefix = writtenBits;
  if (prefixText !== undefined) {
    if (!/^\d{1,3}$/.test(prefixText) || Number(prefixText) > writtenBits) {
      return `prefix length must be an integer from 0 to ${writtenBits}`;
    }
    prefix = Number(prefixText);
  }

  let family: Family = isV4Text ? 4 : 6;
  let value = isV4Text ? parseIPv4(addrText) : parseIPv6(addrText);
  // "::ffff:1.2.3.0/120" is the IPv4 rule 1.2.3.0/24.
  if (family === 6 && prefix >= 96 && value >> 32n === 0xffffn) {
    family = 4;
    value &= 0xffffffffn;
    prefix -= 96;
  }
  const mask = maskFor(family, prefix);
  if ((value & mask) !== value) {
    return `host bits are set; the network address for /${prefixText ?? ''} is ${formatNetwork(family, value & mask, writtenBits === 128 && family === 4)}`;
  }
  return { family, network: value, mask };
}

function formatNetwork(family: Family, value: bigint, mapped: boolean): string {
  if (family === 4) {
    const v4 = [24n, 16n, 8n, 0n].map((sh) => ((value >> sh) & 0xffn).toString()).join('.');
    return mapped ? `::ffff:${v4}` : v4;
  }
  const groups: string[] = [];
  for (let sh = 112n; sh >= 0n; sh -= 16n) groups.push(((value >> sh) & 0xffffn).toString(16));
  return groups.join(':');
}

/**
 * Parses allowlist entries (IPv4/IPv6 addresses or CIDRs). Entries with host bits set ("10.0.0.1/8") are
 * refused as likely typos. The matcher never throws and is false for anything that is not an address.
 */
export function parseCidrList(list: readonly string[]): CidrListResult {
  const rules: Rule[] = [];
  for (const entry of Array.isArray(list) ? list : []) {
    if (typeof entry !== 'string')
      return { ok: false, entry: String(entry), message: 'entry is not a string' };
    const r = parseRule(entry);
    if (typeof r === 'string') return { ok: false, entry, message: r };
    rules.push(r);
  }
  // Every postback asks about its peer (trusted proxy? allowed?), and peers repeat: an empty list
  // answers without parsing, and recent answers are remembered (bounded; the answer for a given
  // string never changes).
  if (rules.length === 0) return { ok: true, matcher: () => false };
  const known = new Map<string, boolean>();
  const matcher = (ip: string): boolean => {
    if (typeof ip !== 'string') return false;
    const hit = known.get(ip);
    if (hit !== undefined) return hit;
    const a = parseAddress(ip);
    const yes =
      a !== undefined && rules.some((r) => r.family === a.family && (a.value & r.mask) === r.network);
    if (known.size >= MATCHER_MEMORY) known.clear();
    known.set(ip, yes);
    return yes;
  };
  return { ok: true, matcher };
}

// X-Forwarded-For entries may carry a port ("1.2.3.4:5678", "[2001:db8::1]:443"); strip it.
function stripPort(entry: string): string {
  const bracketed = /^\[([^\]]+)\](?::\d+)?$/.exec(entry);
  if (bracketed) return bracketed[1] ?? entry;
  const v4port = /^(\d{1,3}(?:\.\d{1,3}){3}):\d+$/.exec(entry);
  if (v4port) return v4port[1] ?? entry;
  return entry;
}

const MAX_FORWARDED_HOPS = 32;

/**
 * The client address for allowlisting. X-Forwarded-For is only believed when the direct peer is a trusted
 * proxy; it is then walked from the right, skipping trusted proxies, and the first untrusted hop wins.
 * A malformed hop stops the walk at the last trusted address seen, so junk cannot smuggle an address in.
 */
export function clientIp(
  remoteAddress: string,
  forwardedFor: string | undefined,
  trustedProxies: (ip: string) => boolean,
): string {
  const isTrusted = (ip: string): boolean => {
    try {
      return trustedProxies(ip) === true;
    } catch {
      return false;
    }
  };
  if (typeof remoteAddress !== 'string' || !isTrusted(remoteAddress)) return remoteAddress;
  if (typeof forwardedFor !== 'string' || forwardedFor.trim() === '') return remoteAddress;

  const hops = forwardedFor.split(',').map((h) => stripPort(h.trim()));
  let current = remoteAddress;
  for (let i = hops.length - 1, seen = 0; i >= 0 && seen < MAX_FORWARDED_HOPS; i--, seen++) {
    const hop = hops[i] ?? '';
    if (!parseAddress(hop)) return current;
    current = hop;
    if (!isTrusted(hop)) return hop;
  }
  // Every hop was a trusted proxy (or the hop limit was hit): the furthest one is the best we know.
  return current;
}
