import { redactSecrets, roleAtLeast } from '@app/operators';

describe('redactSecrets', () => {
  it('replaces secret strings and lists wherever they sit, keeps everything else (dates too)', () => {
    const at = new Date('2026-11-01T00:00:00Z');
    expect(
      redactSecrets({
        id: 'p-1',
        auth: { mode: 'hmac', secret: 'x'.repeat(40), secrets: ['a', 'b'], token: 't', token_param: 'key' },
        legacy_hash: { secret: 's', fields: ['click_id'] },
        secrets_configured: 2,
        token_configured: true,
        held_at: at,
        list: [{ password: 'p' }],
      }),
    ).toEqual({
      id: 'p-1',
      auth: {
        mode: 'hmac',
        secret: '[redacted]',
        secrets: '[redacted]',
        token: '[redacted]',
        token_param: '[redacted]',
      },
      legacy_hash: { secret: '[redacted]', fields: ['click_id'] },
      secrets_configured: 2,
      token_configured: true,
      held_at: at,
      list: [{ password: '[redacted]' }],
    });
  });

  it('keeps hostile text storable in jsonb', () => {
    expect(redactSecrets({ name: 'a\u0000b', note: 'x\ud800y' })).toEqual({
      name: 'a\ufffdb',
      note: 'x\ufffdy',
    });
  });
});

describe('roles', () => {
  it('rank viewer < reviewer < admin', () => {
    expect(roleAtLeast('admin', 'reviewer')).toBe(true);
    expect(roleAtLeast('reviewer', 'reviewer')).toBe(true);
    expect(roleAtLeast('reviewer', 'admin')).toBe(false);
    expect(roleAtLeast('viewer', 'reviewer')).toBe(false);
  });
});
