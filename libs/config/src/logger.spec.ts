import { CommonEnv, appLogger, loadEnv, logFormat, requestContext } from '@app/config';

/** What a logger wrote to stdout while `fn` ran, one entry per line. */
function written(fn: () => void): string[] {
  const out: string[] = [];
  const spy = jest.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
    out.push(String(chunk));
    return true;
  });
  try {
    fn();
  } finally {
    spy.mockRestore();
  }
  return out.join('').split('\n').filter(Boolean);
}

describe('app logger', () => {
  it('writes json when stdout is not a terminal, text when it is, and LOG_FORMAT wins over both', () => {
    const unset = loadEnv(CommonEnv, {});
    expect(unset.LOG_FORMAT).toBeUndefined();
    expect(logFormat(unset, { isTTY: undefined })).toBe('json');
    expect(logFormat(unset, { isTTY: true })).toBe('text');
    expect(logFormat(loadEnv(CommonEnv, { LOG_FORMAT: 'text' }), { isTTY: undefined })).toBe('text');
    expect(logFormat(loadEnv(CommonEnv, { LOG_FORMAT: 'json' }), { isTTY: true })).toBe('json');
    expect(() => loadEnv(CommonEnv, { LOG_FORMAT: 'yaml' })).toThrow(/LOG_FORMAT/);
  });

  it('adds the request id being served to every json line, and nothing outside a request', () => {
    const log = appLogger(loadEnv(CommonEnv, { LOG_FORMAT: 'json' }), 'test');
    const lines = written(() => {
      log.log('outside', 'Boot');
      requestContext.run({ requestId: 'req-1' }, () => {
        log.log('plain', 'Postbacks');
        log.warn({ msg: 'an event', n: 1 }, 'Postbacks');
      });
    }).map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines).toEqual([
      expect.not.objectContaining({ request_id: expect.anything() }),
      expect.objectContaining({ message: 'plain', context: 'Postbacks', request_id: 'req-1' }),
      expect.objectContaining({ level: 'warn', message: { msg: 'an event', n: 1 }, request_id: 'req-1' }),
    ]);
  });

  it('names the request in text lines too', () => {
    const log = appLogger(loadEnv(CommonEnv, { LOG_FORMAT: 'text' }), 'test');
    const lines = written(() => {
      requestContext.run({ requestId: 'req-2' }, () => log.log({ msg: 'an event' }, 'Postbacks'));
      log.log('outside', 'Boot');
    });
    expect(lines[0]).toContain('[request req-2]');
    expect(lines[0]).toContain('an event');
    expect(lines[1]).not.toContain('[request');
  });
});
