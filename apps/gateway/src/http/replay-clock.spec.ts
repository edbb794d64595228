import { GatewayEnv } from '../gateway.env';
import { ApiError } from './api-error';
import { ReplayClock } from './replay-clock';

const TOKEN = 'replay-token-0123456789';
const clock = (token: string) => new ReplayClock(Object.assign(new GatewayEnv(), { REPLAY_TOKEN: token }));
const refusal = (fn: () => unknown) => {
  try {
    fn();
  } catch (e) {
    return e instanceof ApiError ? { status: e.status, code: e.code } : e;
  }
  return undefined;
};

describe('ReplayClock', () => {
  it('leaves normal traffic on the wall clock', () => {
    expect(clock('').eventTime({})).toBeUndefined();
    expect(clock(TOKEN).eventTime({ 'x-replay-token': TOKEN })).toBeUndefined();
  });

  it('stamps the virtual time when the replay token matches', () => {
    const at = clock(TOKEN).eventTime({
      'x-replay-time': '2026-01-01T05:06:07.089Z',
      'x-replay-token': TOKEN,
    });
    expect(at?.toISOString()).toBe('2026-01-01T05:06:07.089Z');
    // The last day of a month, a leap day, and a fraction of fewer digits all stand as written.
    for (const [given, meant] of [
      ['2028-02-29T23:59:59Z', '2028-02-29T23:59:59.000Z'],
      ['2026-12-31T00:00:00.5Z', '2026-12-31T00:00:00.500Z'],
    ])
      expect(clock(TOKEN).eventTime({ 'x-replay-time': given, 'x-replay-token': TOKEN })?.toISOString()).toBe(
        meant,
      );
  });

  it('refuses a replay time when replays are off, the token is wrong or missing, or the time is bad', () => {
    const t = '2026-01-01T00:00:00Z';
    expect(refusal(() => clock('').eventTime({ 'x-replay-time': t, 'x-replay-token': TOKEN }))).toEqual({
      status: 400,
      code: 'replay_disabled',
    });
    for (const token of [undefined, 'wrong', `${TOKEN}x`]) {
      expect(refusal(() => clock(TOKEN).eventTime({ 'x-replay-time': t, 'x-replay-token': token }))).toEqual({
        status: 400,
        code: 'replay_not_allowed',
      });
    }
    for (const bad of [
      'yesterday',
      '2026-01-01',
      '2026-13-01T00:00:00Z',
      '2026-01-01T00:00:00+01:00',
      '2026-02-30T00:00:00.000Z',
      '2026-02-29T00:00:00Z',
      '2026-04-31T12:00:00Z',
      '2026-01-01T24:00:00Z',
      '2026-01-00T00:00:00Z',
    ]) {
      expect(
        refusal(() => clock(TOKEN).eventTime({ 'x-replay-time': bad, 'x-replay-token': TOKEN })),
      ).toEqual({ status: 400, code: 'invalid_replay_time' });
    }
  });
});
