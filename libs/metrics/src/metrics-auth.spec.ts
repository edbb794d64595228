import { UnauthorizedException } from '@nestjs/common';
import { CommonEnv } from '@app/config';
import { MetricsAuth } from './metrics-auth';

const withToken = (token: string) => Object.assign(new CommonEnv(), { METRICS_TOKEN: token });

describe('MetricsAuth', () => {
  it('is open when METRICS_TOKEN is empty', () => {
    expect(() => new MetricsAuth(withToken('')).check(undefined)).not.toThrow();
  });

  it('wants the bearer token when METRICS_TOKEN is set', () => {
    const auth = new MetricsAuth(withToken('metrics-token-0123456789'));
    expect(() => auth.check('Bearer metrics-token-0123456789')).not.toThrow();
    for (const bad of [
      undefined,
      '',
      'Bearer',
      'Bearer wrong',
      'metrics-token-0123456789',
      'Basic bWV0cmljcw==',
    ])
      expect(() => auth.check(bad)).toThrow(UnauthorizedException);
  });
});
