import { classifyDependencyFailure, SoftFailureLog } from './soft-failures';

describe('classifyDependencyFailure', () => {
  it.each([
    [
      'a statement timeout',
      { driverError: { code: '57014' }, message: 'canceling statement due to statement timeout' },
    ],
    ['a lock timeout', { code: '55P03', message: 'canceling statement due to lock timeout' }],
    [
      'a Kafka request timeout',
      Object.assign(new Error('Request Produce timed out'), { name: 'KafkaJSRequestTimeoutError' }),
    ],
    ['a pool connect timeout', new Error('timeout exceeded when trying to connect')],
    ['a socket timeout', Object.assign(new Error('connect ETIMEDOUT'), { code: 'ETIMEDOUT' })],
  ])('%s is a timeout', (_what, e) => {
    expect(classifyDependencyFailure(e)).toBe('timeout');
  });

  it.each([
    [
      'a refused connection',
      Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' }),
    ],
    [
      'a server shutting down',
      { driverError: { code: '57P01' }, message: 'terminating connection due to administrator command' },
    ],
    ['a dropped connection', new Error('Connection terminated unexpectedly')],
    [
      'a Kafka outage',
      Object.assign(new Error('Kafka unreachable: connection refused'), { name: 'KafkaUnavailableError' }),
    ],
    ['something thrown that is not an error', 'boom'],
    ['nothing at all', null],
  ])('%s is an unavailable dependency', (_what, e) => {
    expect(classifyDependencyFailure(e)).toBe('dependency_unavailable');
  });
});

describe('SoftFailureLog', () => {
  const failure = (at: string) => ({ at, reason: 'dependency_unavailable' as const, detail: 'down' });

  it('keeps every failed try of a postback, oldest first, until it is forgotten', () => {
    const log = new SoftFailureLog();
    log.record(['a', 'b'], failure('t1'));
    log.record(['a'], failure('t2'));
    expect(log.of('a').map((f) => f.at)).toEqual(['t1', 't2']);
    expect(log.of('b').map((f) => f.at)).toEqual(['t1']);
    expect(log.of('c')).toEqual([]);
    log.forget(['a', 'c']);
    expect(log.of('a')).toEqual([]);
    expect(log.size).toBe(1);
  });

  it('is bounded: the oldest postbacks go first', () => {
    const log = new SoftFailureLog();
    log.limit = 3;
    log.record(['a', 'b'], failure('t1'));
    log.record(['c', 'd', 'e'], failure('t2'));
    expect(log.size).toBe(3);
    expect(log.of('a')).toEqual([]);
    expect(log.of('b')).toEqual([]);
    expect(log.of('e')).toHaveLength(1);
  });
});
