import { checkOutboundUrl, internalAddressReason, OutboundPolicy, type ResolvedAddress } from '@app/domain';

const policy = (allow: string[] = []) => {
  const p = OutboundPolicy.parse(allow);
  if (!p.ok) throw new Error(p.message);
  return p.policy;
};
const resolving =
  (answers: Record<string, string[]>) =>
  async (host: string): Promise<ResolvedAddress[]> => {
    const a = answers[host];
    if (!a) throw Object.assign(new Error('not found'), { code: 'ENOTFOUND' });
    return a.map((address) => ({ address, family: address.includes(':') ? 6 : 4 }));
  };

describe('internal addresses', () => {
  it.each([
    ['127.0.0.1', 'loopback'],
    ['127.9.9.9', 'loopback'],
    ['10.1.2.3', 'private'],
    ['172.16.0.1', 'private'],
    ['172.31.255.255', 'private'],
    ['192.168.1.1', 'private'],
    ['169.254.169.254', 'cloud metadata'],
    ['169.254.1.1', 'link-local'],
    ['100.64.0.1', 'shared (carrier-grade NAT)'],
    ['100.100.100.200', 'cloud metadata'],
    ['0.0.0.0', 'unspecified'],
    ['224.0.0.1', 'multicast'],
    ['255.255.255.255', 'reserved'],
    ['::1', 'loopback'],
    ['::', 'unspecified'],
    ['fe80::1', 'link-local'],
    ['fd00::1', 'unique-local'],
    ['fc12:3456::1', 'unique-local'],
    ['fd00:ec2::254', 'cloud metadata'],
    ['::ffff:127.0.0.1', 'loopback'],
    ['::ffff:7f00:1', 'loopback'],
    ['::ffff:169.254.169.254', 'cloud metadata'],
    ['::ffff:10.0.0.1', 'private'],
    ['::127.0.0.1', 'IPv4-compatible (deprecated)'],
    ['64:ff9b::7f00:1', 'loopback (IPv4 127.0.0.1 inside IPv6)'],
    ['2002:a9fe:a9fe::1', 'cloud metadata (IPv4 169.254.169.254 inside IPv6)'],
    ['ff02::1', 'multicast'],
  ])('%s is internal (%s)', (ip, why) => {
    expect(internalAddressReason(ip)).toBe(why);
  });

  it.each([
    '8.8.8.8',
    '1.1.1.1',
    '172.32.0.1',
    '192.169.0.1',
    '2606:4700:4700::1111',
    '::ffff:8.8.8.8',
    '64:ff9b::808:808',
  ])('%s is public', (ip) => {
    expect(internalAddressReason(ip)).toBeUndefined();
  });
});

describe('checkOutboundUrl', () => {
  const dns = resolving({
    'wall.example': ['93.184.216.34'],
    'sneaky.example': ['93.184.216.34', '10.0.0.7'],
    'meta.example': ['169.254.169.254'],
    'v6.example': ['2606:4700::1'],
    'mapped.example': ['::ffff:127.0.0.1'],
  });

  it('lets public hosts and addresses through, with the addresses to connect to', async () => {
    expect(await checkOutboundUrl('https://wall.example/pb?x=1', policy(), dns)).toEqual({
      ok: true,
      addresses: [{ address: '93.184.216.34', family: 4 }],
    });
    expect((await checkOutboundUrl('http://[2606:4700::1]:8080/pb', policy(), dns)).ok).toBe(true);
    expect((await checkOutboundUrl('https://v6.example/', policy(), dns)).ok).toBe(true);
  });

  it.each([
    ['http://127.0.0.1:8080/pb', '127.0.0.1 is an internal address (loopback)'],
    ['http://2130706433/pb', '127.0.0.1 is an internal address (loopback)'],
    ['http://0x7f.1/pb', '127.0.0.1 is an internal address (loopback)'],
    ['http://[::1]/pb', '::1 is an internal address (loopback)'],
    ['http://[::ffff:169.254.169.254]/latest/meta-data', 'cloud metadata'],
    ['http://localhost:3000/', 'localhost is a loopback name'],
    ['http://api.localhost/', 'api.localhost is a loopback name'],
    [
      'https://meta.example/',
      'meta.example resolves to 169.254.169.254, an internal address (cloud metadata)',
    ],
    ['https://sneaky.example/', 'sneaky.example resolves to 10.0.0.7, an internal address (private)'],
    ['https://mapped.example/', 'loopback'],
  ])('refuses %s', async (url, message) => {
    const c = await checkOutboundUrl(url, policy(), dns);
    expect(c.ok).toBe(false);
    expect(!c.ok && c.message).toContain(message);
  });

  it('says when a host does not resolve (the caller decides what that means)', async () => {
    const c = await checkOutboundUrl('https://nowhere.example/', policy(), dns);
    expect(c).toMatchObject({ ok: false, unresolved: true });
  });

  it('lets what the allowlist names through: an address, a range, a host name', async () => {
    expect((await checkOutboundUrl('http://127.0.0.1:9/', policy(['127.0.0.1']), dns)).ok).toBe(true);
    expect((await checkOutboundUrl('http://127.0.0.2:9/', policy(['127.0.0.1']), dns)).ok).toBe(false);
    expect((await checkOutboundUrl('https://sneaky.example/', policy(['10.0.0.0/8']), dns)).ok).toBe(true);
    const named = resolving({ localhost: ['127.0.0.1', '::1'] });
    expect(await checkOutboundUrl('http://localhost:1/', policy(['localhost']), named)).toEqual({
      ok: true,
      addresses: [
        { address: '127.0.0.1', family: 4 },
        { address: '::1', family: 6 },
      ],
    });
    expect(OutboundPolicy.parse(['10.0.0.1/8'])).toMatchObject({ ok: false, entry: '10.0.0.1/8' });
  });
});
