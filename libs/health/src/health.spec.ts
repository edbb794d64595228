import { runChecks } from '@app/health';

describe('runChecks', () => {
  it('is ready only when every check passes', async () => {
    const r = await runChecks([
      { name: 'a', check: async () => ({ ok: true }) },
      { name: 'b', check: async () => ({ ok: false, detail: 'broker down' }) },
    ]);
    expect(r.status).toBe('not_ready');
    expect(r.checks.b).toEqual({ ok: false, detail: 'broker down' });
    expect(r.checks.a).toEqual({ ok: true });
  });

  it('turns a throwing or hanging check into a failed check with a reason', async () => {
    const r = await runChecks(
      [
        { name: 'throws', check: () => Promise.reject(new Error('boom')) },
        { name: 'hangs', check: () => new Promise(() => undefined) },
      ],
      50,
    );
    expect(r.checks.throws).toEqual({ ok: false, detail: 'boom' });
    expect(r.checks.hangs?.detail).toMatch(/no answer within 50 ms/);
  });
});
