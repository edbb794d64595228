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

  it('backs off a failed batch 0.5 s, 2 s, 5 s, then 10 s by default, and refuses tiers that are not milliseconds', () => {
    expect(loadEnv(ProcessorEnv, {}).DEPENDENCY_RETRY_DELAYS_MS).toBe('500,2000,5000,10000');
    expect(loadEnv(ProcessorEnv, { DEPENDENCY_RETRY_DELAYS_MS: '100,1000' }).DEPENDENCY_RETRY_DELAYS_MS).toBe(
      '100,1000',
    );
    for (const bad of ['5s', '500,,2000', '0,1000', '-1', '500, 2000'])
      expect(() => loadEnv(ProcessorEnv, { DEPENDENCY_RETRY_DELAYS_MS: bad })).toThrow(
        /DEPENDENCY_RETRY_DELAYS_MS/,
      );
  });

  it('keeps the ledger topic within 100 ms of the table by default (waiting at most 2 s), in transactions of at most 500 aiming at 300 ms, and refuses bad bounds by name', () => {
    const env = loadEnv(ProcessorEnv, {});
    expect([
      env.RELAY_MAX_BEHIND_MS,
      env.RELAY_MAX_WAIT_MS,
      env.DECISIONS_PER_TRANSACTION,
      env.DECISION_TRANSACTION_TARGET_MS,
    ]).toEqual([100, 2000, 500, 300]);
    expect(loadEnv(ProcessorEnv, { RELAY_MAX_BEHIND_MS: '0' }).RELAY_MAX_BEHIND_MS).toBe(0);
    expect(
      loadEnv(ProcessorEnv, { DECISION_TRANSACTION_TARGET_MS: '0' }).DECISION_TRANSACTION_TARGET_MS,
    ).toBe(0);
    for (const [name, bad] of [
      ['RELAY_MAX_BEHIND_MS', '-1'],
      ['RELAY_MAX_BEHIND_MS', '1s'],
      ['RELAY_MAX_WAIT_MS', '60001'],
      ['DECISIONS_PER_TRANSACTION', '0'],
      ['DECISION_TRANSACTION_TARGET_MS', '-5'],
      ['DECISION_TRANSACTION_TARGET_MS', '60001'],
    ])
      expect(() => loadEnv(ProcessorEnv, { [name!]: bad! })).toThrow(new RegExp(name!));
  });
});
