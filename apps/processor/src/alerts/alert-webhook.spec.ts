import { verifySignature } from '@app/domain';
import { backoffMs, classifyStatus, webhookHeaders } from './alert-webhook';

describe('alert webhook', () => {
  it('signs `<ts>.<body>` the way partner postbacks are verified', () => {
    const body = JSON.stringify({ event: 'firing', alert: { key: 'dead_letters:dead.letters' } });
    const h = webhookHeaders('webhook-secret-0123456789', body, 'k@1:firing', 1_795_545_600);
    expect(h['X-Signature-Timestamp']).toBe('1795545600');
    expect(h['Idempotency-Key']).toBe('k@1:firing');
    const check = verifySignature({
      secrets: ['webhook-secret-0123456789'],
      timestamp: h['X-Signature-Timestamp'],
      signature: h['X-Signature'],
      payload: body,
      nowSeconds: 1_795_545_610,
      toleranceSeconds: 300,
    });
    expect(check).toEqual({ ok: true });
    expect(
      verifySignature({
        secrets: ['webhook-secret-0123456789'],
        timestamp: h['X-Signature-Timestamp'],
        signature: h['X-Signature'],
        payload: `${body} `,
        nowSeconds: 1_795_545_610,
        toleranceSeconds: 300,
      }).ok,
    ).toBe(false);
  });

  it('retries network-shaped failures only', () => {
    expect(classifyStatus(204).kind).toBe('delivered');
    expect(classifyStatus(500).kind).toBe('retry');
    expect(classifyStatus(503).kind).toBe('retry');
    expect(classifyStatus(429).kind).toBe('retry');
    expect(classifyStatus(408).kind).toBe('retry');
    expect(classifyStatus(400).kind).toBe('refused');
    expect(classifyStatus(401).kind).toBe('refused');
    expect(classifyStatus(302).kind).toBe('refused');
  });

  it('backs off exponentially within ±20%, capped at 10 minutes', () => {
    expect(backoffMs(1, 1000, () => 0.5)).toBe(1000);
    expect(backoffMs(2, 1000, () => 0.5)).toBe(2000);
    expect(backoffMs(5, 1000, () => 0.5)).toBe(16000);
    expect(backoffMs(3, 1000, () => 0)).toBe(3200);
    expect(backoffMs(3, 1000, () => 1)).toBe(4800);
    expect(backoffMs(40, 1000, () => 0.5)).toBe(600_000);
  });
});
