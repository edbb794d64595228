import { ConfigError, EdgeEnv, loadEnv, newSecretKey } from '@app/config';

const problems = (env: Record<string, string>) => {
  try {
    loadEnv(EdgeEnv, env);
    return [];
  } catch (e) {
    return (e as ConfigError).problems;
  }
};

describe('EdgeEnv', () => {
  it('accepts the defaults (development key) and good values', () => {
    expect(problems({})).toEqual([]);
    expect(
      problems({
        SECRETS_KEY: newSecretKey('k2'),
        SECRETS_OLD_KEYS: `${newSecretKey('k1')},${newSecretKey('k0')}`,
        PUBLISHER_URL_ALLOW: '127.0.0.1, 10.0.0.0/8,::1,wall.internal',
        PUBLISHER_DNS_SERVERS: '127.0.0.1:5353,8.8.8.8,[::1]:53',
        NODE_ENV: 'production',
      }),
    ).toEqual([]);
  });

  it.each([
    [{ NODE_ENV: 'production' }, 'SECRETS_KEY=(unset): is required when NODE_ENV=production'],
    [{ SECRETS_KEY: 'k1:short' }, 'SECRETS_KEY="k1:short": key k1: decodes to'],
    [{ SECRETS_OLD_KEYS: 'nope' }, 'SECRETS_OLD_KEYS="nope": must be <key id>:<base64'],
    [{ PUBLISHER_URL_ALLOW: '10.0.0.0/99' }, 'PUBLISHER_URL_ALLOW="10.0.0.0/99"'],
    [{ PUBLISHER_URL_ALLOW: 'http://x' }, 'PUBLISHER_URL_ALLOW="http://x"'],
    [{ PUBLISHER_DNS_SERVERS: 'dns.example' }, 'PUBLISHER_DNS_SERVERS="dns.example"'],
  ])('refuses %j, naming the variable', (env, message) => {
    const p = problems(env);
    expect(p).toHaveLength(1);
    expect(p[0]).toContain(message);
  });
});
