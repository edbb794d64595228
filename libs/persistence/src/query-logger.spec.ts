import { Logger } from '@nestjs/common';
import { QueryLogger } from './query-logger';

describe('QueryLogger', () => {
  afterEach(() => jest.restoreAllMocks());

  it('logs a failed query without its parameters (they can hold partner secrets)', () => {
    const error = jest.spyOn(Logger.prototype, 'error').mockImplementation(() => undefined);
    new QueryLogger().logQueryError(
      new Error('duplicate key value violates unique constraint "partners_pkey"'),
      'INSERT INTO "partners"("id", "hmac_secrets", "token")\n  VALUES ($1, $2, $3)',
      ['p1', ['hmac-secret-0123456789'], 'legacy-token-xyz'],
    );
    expect(error).toHaveBeenCalledTimes(1);
    const line = String(error.mock.calls[0]![0]);
    expect(line).toContain('duplicate key value');
    expect(line).toContain('INSERT INTO "partners"("id", "hmac_secrets", "token") VALUES ($1, $2, $3)');
    expect(line).toContain('3 parameter(s), never logged');
    expect(line).not.toContain('hmac-secret');
    expect(line).not.toContain('legacy-token');
  });

  it('logs nothing for ordinary queries', () => {
    const spies = (['log', 'warn', 'error', 'debug'] as const).map((m) =>
      jest.spyOn(Logger.prototype, m).mockImplementation(() => undefined),
    );
    const l = new QueryLogger();
    l.logQuery();
    l.logQuerySlow();
    l.log('info', 'x');
    for (const s of spies) expect(s).not.toHaveBeenCalled();
  });
});
