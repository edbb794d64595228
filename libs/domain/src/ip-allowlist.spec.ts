import fc from 'fast-check';
import { BlockList } from 'net';
import { CidrListResult, clientIp, parseCidrList } from './ip-allowlist';

const utf16 = fc.string({ unit: fc.integer({ min: 0, max: 0xffff }).map((c) => String.fromCharCode(c)) });

function matcher(list: string[]): (ip: string) => boolean {
  const r = parseCidrList(list);
  if (!r.ok) throw new Error(`expected ok, got ${r.entry}: ${r.message}`);
  return r.matcher;
}
function refused(list: string[]) {
  const r: CidrListResult = parseCidrList(list);
  if (r.ok) throw new Error('expected a refusal');
  return r;
}

describe('parseCidrList', () => {
  it('matches nothing when empty', () => {
    const m = matcher([]);
    expect(m('1.2.3.4')).toBe(false);
    expect(m('::1')).toBe(false);
  });

  describe('IPv4', () => {
    const m = matcher(['10.0.0.0/8', '192.168.1.0/24', '203.0.113.7', '198.51.100.8/32', '100.64.0.0/10']);

    it.each([
      '10.0.0.0',
      '10.255.255.255',
      '10.1.2.3',
      '192.168.1.0',
      '192.168.1.255',
      '203.0.113.7',
      '198.51.100.8',
      '100.127.255.255',
    ])('allows %s', (ip) => expect(m(ip)).toBe(true));

    it.each([
      '11.0.0.0',
      '9.255.255.255',
      '192.168.2.1',
      '203.0.113.8',
      '198.51.100.9',
      '100.128.0.0',
      '8.8.8.8',
    ])('refuses %s', (ip) => expect(m(ip)).toBe(false));

    it('treats /0 as everything IPv4 and nothing IPv6', () => {
      const all = matcher(['0.0.0.0/0']);
      expect(all('1.2.3.4')).toBe(true);
      expect(all('255.255.255.255')).toBe(true);
      expect(all('2001:db8::1')).toBe(false);
    });
  });

  describe('IPv6', () => {
    const m = matcher(['2001:db8::/32', '2a00:1450:4001:81c::200e', 'fe80::/10', '::1']);

    it.each([
      '2001:db8::',
      '2001:db8::1',
      '2001:0db8:ffff:ffff:ffff:ffff:ffff:ffff',
      '2001:DB8::ABCD',
      '2a00:1450:4001:81c:0:0:0:200e',
      'fe80::1',
      'febf::1',
      '::1',
      '0:0:0:0:0:0:0:1',
    ])('allows %s', (ip) => expect(m(ip)).toBe(true));

    it.each(['2001:db9::', '2001:db7:ffff::', '2a00:1450:4001:81c::200f', 'fec0::1', '::2', '::'])(
      'refuses %s',
      (ip) => expect(m(ip)).toBe(false),
    );

    it.each([
      ['1::', '1:0:0:0:0:0:0:0'],
      ['::', '0:0:0:0:0:0:0:0'],
      ['1::8', '1:0:0:0:0:0:0:8'],
      ['::1:2:3:4:5:6:7', '0:1:2:3:4:5:6:7'],
      ['1:2:3:4:5:6:7::', '1:2:3:4:5:6:7:0'],
      ['a:b::c:d', 'a:b:0:0:0:0:c:d'],
      ['1:2:3:4:5:6:1.2.3.4', '1:2:3:4:5:6:102:304'],
      ['64:ff9b::192.0.2.33', '64:ff9b:0:0:0:0:c000:221'],
    ])('reads %s as %s', (short, full) => {
      expect(matcher([short])(full)).toBe(true);
      expect(matcher([full])(short)).toBe(true);
      const last = full.split(':').slice(0, 7).join(':');
      expect(matcher([short])(`${last}:ffff`)).toBe(full.endsWith(':ffff'));
    });

    it('handles /128 and /0', () => {
      expect(matcher(['2001:db8::5/128'])('2001:db8::5')).toBe(true);
      expect(matcher(['2001:db8::5/128'])('2001:db8::6')).toBe(false);
      expect(matcher(['::/0'])('2001:db8::6')).toBe(true);
      expect(matcher(['::/0'])('1.2.3.4')).toBe(false);
    });
  });

  describe('IPv4-mapped IPv6', () => {
    it('matches an IPv4 rule', () => {
      const m = matcher(['1.2.3.0/24']);
      expect(m('::ffff:1.2.3.4')).toBe(true);
      expect(m('::FFFF:1.2.3.4')).toBe(true);
      expect(m('::ffff:102:304')).toBe(true);
      expect(m('0:0:0:0:0:ffff:1.2.3.4')).toBe(true);
      expect(m('::ffff:1.2.4.4')).toBe(false);
    });

    it('lets a mapped rule match plain IPv4 peers', () => {
      const m = matcher(['::ffff:1.2.3.4', '::ffff:10.0.0.0/104']);
      expect(m('1.2.3.4')).toBe(true);
      expect(m('10.9.9.9')).toBe(true);
      expect(m('11.0.0.0')).toBe(false);
      expect(m('::ffff:1.2.3.4')).toBe(true);
    });

    it('does not confuse IPv4-compatible (::1.2.3.4) with mapped addresses', () => {
      const m = matcher(['1.2.3.4']);
      expect(m('::1.2.3.4')).toBe(false);
      expect(matcher(['::1.2.3.4'])('::102:304')).toBe(true);
    });
  });

  it('tolerates whitespace around entries and peers', () => {
    const m = matcher([' 10.0.0.0/8 ', '\t2001:db8::/32']);
    expect(m(' 10.0.0.1 ')).toBe(true);
    expect(m('2001:db8::1')).toBe(true);
  });

  it.each([
    ['', /empty/],
    ['   ', /empty/],
    ['10.0.0.1/8', /host bits.*10\.0\.0\.0/],
    ['2001:db8::1/32', /host bits/],
    ['::ffff:1.2.3.4/120', /host bits.*::ffff:1\.2\.3\.0/],
    ['10.0.0.0/33', /0 to 32/],
    ['2001:db8::/129', /0 to 128/],
    ['10.0.0.0/-1', /0 to 32/],
    ['10.0.0.0/8.5', /0 to 32/],
    ['10.0.0.0/', /0 to 32/],
    ['10.0.0.0/ 8', /0 to 32/],
    ['10.0.0.0/0008', /0 to 32/],
    ['10.0.0.0/8/8', /0 to 32/],
    ['256.0.0.0', /not an IPv4 or IPv6/],
    ['10.0.0', /not an IPv4 or IPv6/],
    ['010.0.0.1', /not an IPv4 or IPv6/],
    ['0x0a.0.0.1', /not an IPv4 or IPv6/],
    ['10.0.0.0-10.0.0.255', /not an IPv4 or IPv6/],
    ['fe80::1%eth0', /not an IPv4 or IPv6/],
    ['2001:db8:::1', /not an IPv4 or IPv6/],
    ['example.com', /not an IPv4 or IPv6/],
    ['*', /not an IPv4 or IPv6/],
  ])('refuses %j', (entry, why) => {
    const r = refused(['127.0.0.1', entry]);
    expect(r.entry).toBe(entry);
    expect(r.message).toMatch(why);
  });

  it('refuses non-string entries instead of throwing', () => {
    expect(parseCidrList([42 as unknown as string]).ok).toBe(false);
  });

  it.each(['', 'abc', '1.2.3.4:80', '[::1]', 'fe80::1%eth0', '1.2.3.4/32', '01.2.3.4', '1.2.3.4 5'])(
    'matcher is false for the non-address %j',
    (ip) => expect(matcher(['0.0.0.0/0', '::/0'])(ip)).toBe(false),
  );

  it('matcher never throws on arbitrary strings', () => {
    const m = matcher(['0.0.0.0/0', '::/0']);
    fc.assert(fc.property(utf16, (s) => typeof m(s) === 'boolean'));
  });

  it('parseCidrList never throws on arbitrary entries', () => {
    fc.assert(
      fc.property(
        fc.array(fc.oneof(utf16, fc.stringMatching(/^[0-9a-f:.]{0,20}\/\d{1,3}$/)), { maxLength: 4 }),
        (l) => {
          const r = parseCidrList(l);
          return r.ok ? typeof r.matcher('1.2.3.4') === 'boolean' : r.message.length > 0;
        },
      ),
    );
  });

  it('answers a repeated address as it did the first time, past its memory bound too', () => {
    const m = matcher(['10.0.0.0/8', '2001:db8::/32']);
    const addresses = Array.from({ length: 10_000 }, (_, i) =>
      i % 2 ? `10.${(i >> 8) & 255}.${i & 255}.1` : `11.${(i >> 8) & 255}.${i & 255}.1`,
    );
    const first = addresses.map((a) => m(a));
    expect(first.filter(Boolean)).toHaveLength(5_000);
    // Asked again (some from memory, some parsed anew after it started over): the same answers.
    expect(addresses.map((a) => m(a))).toEqual(first);
    expect([m('2001:db8::1'), m('2001:db8::1'), m(' 10.1.2.3 '), m(' 10.1.2.3 ')]).toEqual([
      true,
      true,
      true,
      true,
    ]);
    expect([m('bogus'), m('bogus'), m(undefined as unknown as string)]).toEqual([false, false, false]);
  });

  describe('agrees with net.BlockList', () => {
    it('for IPv4 subnets', () => {
      fc.assert(
        fc.property(
          fc.ipV4(),
          fc.integer({ min: 0, max: 32 }),
          fc.ipV4(),
          fc.nat(255),
          (base, prefix, other, low) => {
            const n = base.split('.').reduce((a, o) => a * 256 + Number(o), 0);
            const mask = prefix === 0 ? 0 : (0xffffffff << (32 - prefix)) >>> 0;
            const net = (n & mask) >>> 0;
            const dotted = (x: number) => [24, 16, 8, 0].map((s) => (x >>> s) & 255).join('.');
            const near = dotted((net | (low & ~mask)) >>> 0);
            const bl = new BlockList();
            bl.addSubnet(dotted(net), prefix, 'ipv4');
            const m = matcher([`${dotted(net)}/${prefix}`]);
            return [other, near, base].every(
              (ip) => m(ip) === bl.check(ip, 'ipv4') && m(`::ffff:${ip}`) === m(ip),
            );
          },
        ),
      );
    });

    it('for IPv6 subnets', () => {
      const mappedSpace = new BlockList();
      mappedSpace.addSubnet('::ffff:0:0', 96, 'ipv6');
      const group = fc.integer({ min: 0, max: 0xffff });
      const groups = fc.array(group, { minLength: 8, maxLength: 8 });
      fc.assert(
        fc.property(
          groups,
          fc.integer({ min: 0, max: 128 }),
          groups,
          fc.ipV6(),
          (base, prefix, low, other) => {
            // Mask group by group, independently of the implementation's bigint math.
            const net = base.map((g, i) => {
              const bits = Math.max(0, Math.min(16, prefix - i * 16));
              return g & ((0xffff << (16 - bits)) & 0xffff);
            });
            const near = net.map((g, i) => {
              const bits = Math.max(0, Math.min(16, prefix - i * 16));
              return g | ((low[i] ?? 0) & (0xffff >> bits));
            });
            const text = (gs: number[]) => gs.map((g) => g.toString(16)).join(':');
            const isMapped = (gs: number[]) => gs.slice(0, 5).every((g) => g === 0) && gs[5] === 0xffff;
            if (isMapped(net) || isMapped(near)) return true; // mapped space is folded to IPv4 on purpose
            const bl = new BlockList();
            bl.addSubnet(text(net), prefix, 'ipv6');
            const m = matcher([`${text(net)}/${prefix}`]);
            const peers = [text(near), text(base), other].filter((p) => !mappedSpace.check(p, 'ipv6'));
            return peers.every((ip) => m(ip) === bl.check(ip, 'ipv6'));
          },
        ),
      );
    });
  });
});

describe('clientIp', () => {
  const proxies = matcher(['10.0.0.0/8', '2001:db8:ffff::/48']);

  it('returns the peer when it is not a trusted proxy, whatever X-Forwarded-For says', () => {
    expect(clientIp('203.0.113.9', '1.1.1.1', proxies)).toBe('203.0.113.9');
    expect(clientIp('203.0.113.9', '10.0.0.1', proxies)).toBe('203.0.113.9');
  });

  it('returns the peer when a trusted proxy sent no X-Forwarded-For', () => {
    expect(clientIp('10.0.0.1', undefined, proxies)).toBe('10.0.0.1');
    expect(clientIp('10.0.0.1', '', proxies)).toBe('10.0.0.1');
    expect(clientIp('10.0.0.1', '  ', proxies)).toBe('10.0.0.1');
  });

  it('takes the rightmost untrusted hop', () => {
    expect(clientIp('10.0.0.1', '198.51.100.1', proxies)).toBe('198.51.100.1');
    expect(clientIp('10.0.0.1', '6.6.6.6, 198.51.100.1, 10.0.0.2', proxies)).toBe('198.51.100.1');
    expect(clientIp('10.0.0.1', '198.51.100.1,10.0.0.3,10.0.0.2', proxies)).toBe('198.51.100.1');
  });

  it('ignores spoofed entries left of the first untrusted hop', () => {
    expect(clientIp('10.0.0.1', '203.0.113.7, 198.51.100.1', proxies)).toBe('198.51.100.1');
  });

  it('returns the furthest hop when every hop is a trusted proxy', () => {
    expect(clientIp('10.0.0.1', '10.0.0.3, 10.0.0.2', proxies)).toBe('10.0.0.3');
  });

  it('stops at a malformed hop and returns the last trusted address', () => {
    expect(clientIp('10.0.0.1', '198.51.100.1, unknown', proxies)).toBe('10.0.0.1');
    expect(clientIp('10.0.0.1', '198.51.100.1, garbage, 10.0.0.2', proxies)).toBe('10.0.0.2');
    expect(clientIp('10.0.0.1', '198.51.100.1,,10.0.0.2', proxies)).toBe('10.0.0.2');
  });

  it('strips ports from hops', () => {
    expect(clientIp('10.0.0.1', '198.51.100.1:5555', proxies)).toBe('198.51.100.1');
    expect(clientIp('10.0.0.1', '[2001:db8::1]:443', proxies)).toBe('2001:db8::1');
    expect(clientIp('10.0.0.1', '[2001:db8::2]', proxies)).toBe('2001:db8::2');
  });

  it('handles IPv6 and mapped peers', () => {
    expect(clientIp('2001:db8:ffff::1', '2001:db8::9', proxies)).toBe('2001:db8::9');
    expect(clientIp('::ffff:10.0.0.1', '198.51.100.1', proxies)).toBe('198.51.100.1');
  });

  it('treats a throwing trust predicate as untrusted', () => {
    const boom = () => {
      throw new Error('boom');
    };
    expect(clientIp('10.0.0.1', '198.51.100.1', boom)).toBe('10.0.0.1');
  });

  it('never throws and only returns the peer or an address from the header', () => {
    fc.assert(
      fc.property(
        fc.oneof(fc.ipV4(), utf16),
        fc.option(
          fc.oneof(
            utf16,
            fc.array(fc.ipV4()).map((a) => a.join(', ')),
          ),
          { nil: undefined },
        ),
        (peer, xff) => {
          const got = clientIp(peer, xff, () => true);
          return got === peer || (xff ?? '').includes(got);
        },
      ),
    );
  });
});
