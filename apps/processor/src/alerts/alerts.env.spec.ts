import { ConfigError, loadEnv } from '@app/config';
import { ProcessorEnv } from '../processor.env';

describe('alert env', () => {
  it('has documented defaults and no webhook', () => {
    const env = loadEnv(ProcessorEnv, {});
    expect(env.ALERT_EVAL_MS).toBe(15000);
    expect(env.ALERT_SOFT_REJECT_RATE).toBe(0.2);
    expect(env.ALERT_WEBHOOK_URL).toBe('');
  });

  it('reads rates and counts', () => {
    const env = loadEnv(ProcessorEnv, {
      ALERT_LATE_RATE: '0.25',
      ALERT_LATE_MIN_ENTRIES: '4',
      ALERT_EVAL_MS: '0',
    });
    expect(env.ALERT_LATE_RATE).toBe(0.25);
    expect(env.ALERT_LATE_MIN_ENTRIES).toBe(4);
    expect(env.ALERT_EVAL_MS).toBe(0);
  });

  it('refuses a webhook URL without a secret, a bad URL and a rate above 1', () => {
    expect(() => loadEnv(ProcessorEnv, { ALERT_WEBHOOK_URL: 'https://ops.example/hook' })).toThrow(
      /ALERT_WEBHOOK_SECRET/,
    );
    expect(() =>
      loadEnv(ProcessorEnv, { ALERT_WEBHOOK_URL: 'ftp://x', ALERT_WEBHOOK_SECRET: '0123456789abcdef' }),
    ).toThrow(/ALERT_WEBHOOK_URL/);
    expect(() => loadEnv(ProcessorEnv, { ALERT_SOFT_REJECT_RATE: '1.5' })).toThrow(ConfigError);
    expect(() => loadEnv(ProcessorEnv, { ALERT_LATE_RATE: 'high' })).toThrow(/ALERT_LATE_RATE/);
  });
});
