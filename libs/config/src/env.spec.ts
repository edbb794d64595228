import { CommonEnv, ConfigError, loadEnv, portField } from '@app/config';

class AppEnv extends CommonEnv {
  @portField()
  PORT = 3000;
}

describe('loadEnv', () => {
  it('applies defaults when nothing is set', () => {
    const c = loadEnv(AppEnv, {});
    expect(c.PORT).toBe(3000);
    expect(c.KAFKA_BROKERS).toBe('127.0.0.1:9092');
    expect(c.DATABASE_URL).toMatch(/^postgres:\/\//);
  });

  it('converts and accepts good values', () => {
    const c = loadEnv(AppEnv, { PORT: '8080', KAFKA_BROKERS: 'a:1,b:2', DB_POOL_SIZE: '4' });
    expect(c.PORT).toBe(8080);
    expect(c.DB_POOL_SIZE).toBe(4);
    expect(c.KAFKA_BROKERS).toBe('a:1,b:2');
  });

  it.each([
    ['PORT', 'eighty'],
    ['PORT', '70000'],
    ['DATABASE_URL', 'mysql://x'],
    ['KAFKA_BROKERS', 'localhost'],
    ['LOG_LEVEL', 'chatty'],
    ['TOPIC_PREFIX', 'a b'],
  ])('refuses %s=%s and names the variable', (name, value) => {
    let err: unknown;
    try {
      loadEnv(AppEnv, { [name]: value });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as ConfigError).message).toContain(`${name}=`);
    expect((err as ConfigError).problems).toHaveLength(1);
  });

  it('reports every bad variable at once', () => {
    expect(() => loadEnv(AppEnv, { PORT: 'x', KAFKA_BROKERS: 'y' })).toThrow(
      /PORT=.*\n.*KAFKA_BROKERS=|KAFKA_BROKERS=.*\n.*PORT=/s,
    );
  });
});
