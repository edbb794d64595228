import { ConfigError, loadEnv } from '@app/config';
import { ProcessorEnv } from './processor.env';

describe('processor env', () => {
  it('decides every postback partition in parallel with a pool that has room for each', () => {
    const env = loadEnv(ProcessorEnv, {});
    expect(env.PARTITIONS_CONCURRENCY).toBe(6);
    // Each decision may hold two connections; the loops need theirs too.
    expect(env.DB_POOL_SIZE).toBeGreaterThanOrEqual(2 * env.PARTITIONS_CONCURRENCY + 4);
  });

  it('takes DB_POOL_SIZE from the environment and refuses a bad one by name', () => {
    expect(loadEnv(ProcessorEnv, { DB_POOL_SIZE: '12' }).DB_POOL_SIZE).toBe(12);
    expect(() => loadEnv(ProcessorEnv, { DB_POOL_SIZE: '0' })).toThrow(ConfigError);
    expect(() => loadEnv(ProcessorEnv, { DB_POOL_SIZE: '0' })).toThrow(/DB_POOL_SIZE/);
  });
});
