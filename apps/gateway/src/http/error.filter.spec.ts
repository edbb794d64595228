import { QueryFailedError } from 'typeorm';
import { KafkaUnavailableError } from '@app/kafka';
import { ApiError } from './api-error';
import { isDatabaseUnreachable, toApiError } from './error.filter';

describe('toApiError', () => {
  const netError = (code: string) => Object.assign(new Error(`connect ${code} 127.0.0.1:5433`), { code });

  it('answers 503 with Retry-After when a database cannot be reached or goes away mid-query', () => {
    const cases: unknown[] = [
      netError('ECONNREFUSED'),
      netError('ETIMEDOUT'),
      new Error('Connection terminated unexpectedly'),
      new QueryFailedError(
        'SELECT 1',
        [],
        Object.assign(new Error('terminating connection due to administrator command'), { code: '57P01' }),
      ),
      new QueryFailedError(
        'SELECT 1',
        [],
        Object.assign(new Error('the database system is starting up'), { code: '57P03' }),
      ),
      Object.assign(new Error('connection failure'), { code: '08006' }),
    ];
    for (const c of cases) {
      expect(isDatabaseUnreachable(c)).toBe(true);
      const e = toApiError(c);
      expect(e).toMatchObject({ status: 503, code: 'unavailable' });
    }
  });

  it('keeps our own bugs and the database refusing a statement at 500', () => {
    for (const c of [
      new Error('boom'),
      new QueryFailedError('INSERT', [], Object.assign(new Error('duplicate key'), { code: '23505' })),
      new QueryFailedError('SELECT', [], Object.assign(new Error('syntax error'), { code: '42601' })),
    ]) {
      expect(isDatabaseUnreachable(c)).toBe(false);
      expect(toApiError(c)).toMatchObject({ status: 500, code: 'internal' });
    }
  });

  it('still answers Kafka being down with 503, and passes our own errors through', () => {
    expect(toApiError(new KafkaUnavailableError('down'))).toMatchObject({ status: 503 });
    const mine = new ApiError(404, 'not_found', 'no such offer');
    expect(toApiError(mine)).toBe(mine);
  });
});
