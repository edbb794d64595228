import {
  ConfigError,
  DEV_SECRETS_KEY,
  newSecretKey,
  parseSecretKey,
  SecretBox,
  SecretBoxError,
  sealedKeyId,
  secretBoxFromEnv,
  secretsEnvProblems,
} from '@app/config';

const key = (id: string) => parseSecretKey(newSecretKey(id)) as { id: string; key: Buffer };

describe('SecretBox', () => {
  const k1 = key('k1');
  const k2 = key('k2');

  it('seals with AES-256-GCM under the current key, naming it, and opens again', () => {
    const box = new SecretBox(k1);
    const sealed = box.seal('whsec_partner_secret_0123456789abcdef', 'partners.hmac_secrets:p-1');
    expect(sealed).toMatch(/^enc:v1:k1:[A-Za-z0-9_-]+$/);
    expect(sealed).not.toContain('whsec');
    expect(sealedKeyId(sealed)).toBe('k1');
    expect(box.open(sealed, 'partners.hmac_secrets:p-1')).toBe('whsec_partner_secret_0123456789abcdef');
    // A fresh IV each time: the same secret never seals to the same text.
    expect(box.seal('x', 'c')).not.toBe(box.seal('x', 'c'));
  });

  it('refuses a value moved to another row, altered, or not sealed at all', () => {
    const box = new SecretBox(k1);
    const sealed = box.seal('secret', 'partners.hmac_secrets:p-1');
    expect(() => box.open(sealed, 'partners.hmac_secrets:p-2')).toThrow(SecretBoxError);
    const flipped = sealed.slice(0, -2) + (sealed.endsWith('A') ? 'B' : 'A') + sealed.slice(-1);
    expect(() => box.open(flipped, 'partners.hmac_secrets:p-1')).toThrow(SecretBoxError);
    expect(() => box.open('plain-text-secret', 'partners.hmac_secrets:p-1')).toThrow(
      /not an encrypted secret/,
    );
  });

  it('rotates: a new key seals, old keys still open, an unknown key is named', () => {
    const old = new SecretBox(k1);
    const sealedOld = old.seal('s', 'c');
    const rotated = new SecretBox(k2, [k1]);
    expect(rotated.open(sealedOld, 'c')).toBe('s');
    expect(rotated.isCurrent(sealedOld)).toBe(false);
    const sealedNew = rotated.seal('s', 'c');
    expect(sealedKeyId(sealedNew)).toBe('k2');
    expect(rotated.isCurrent(sealedNew)).toBe(true);
    expect(() => new SecretBox(k2).open(sealedOld, 'c')).toThrow(/key "k1", which is not configured/);
  });

  it('reads SECRETS_KEY / SECRETS_OLD_KEYS; the public dev key only outside production', () => {
    const current = newSecretKey('k2026');
    const old = newSecretKey('k2025');
    const box = secretBoxFromEnv({ SECRETS_KEY: current, SECRETS_OLD_KEYS: old });
    expect(box.current.id).toBe('k2026');
    expect(box.keyIds.sort()).toEqual(['dev', 'k2025', 'k2026']);
    expect(secretBoxFromEnv({}).current.id).toBe(DEV_SECRETS_KEY.id);
    expect(secretBoxFromEnv({ SECRETS_KEY: current, NODE_ENV: 'production' }).keyIds).toEqual(['k2026']);
    expect(() => secretBoxFromEnv({ NODE_ENV: 'production' })).toThrow(ConfigError);
    const devLine = `dev:${DEV_SECRETS_KEY.key.toString('base64')}`;
    expect(secretsEnvProblems({ SECRETS_KEY: devLine, NODE_ENV: 'production' })).toEqual([
      { variable: 'SECRETS_KEY', message: 'the development key is refused when NODE_ENV=production' },
    ]);
    expect(secretsEnvProblems({ SECRETS_KEY: 'k1:c2hvcnQ=' })[0]?.message).toMatch(/decodes to 5 bytes/);
    expect(secretsEnvProblems({ SECRETS_KEY: 'no-id-here' })[0]?.message).toMatch(/<key id>:<base64/);
    expect(secretsEnvProblems({ SECRETS_KEY: current, SECRETS_OLD_KEYS: current })[0]?.message).toMatch(
      /repeats the key id/,
    );
  });
});
