export interface HealthCheckResult {
  ok: boolean;
  /** Why it is not ok, or a short fact when it is. */
  detail?: string;
}

/** One dependency readiness depends on (Kafka, Postgres, a consumer group...). */
export interface HealthIndicator {
  readonly name: string;
  check(): Promise<HealthCheckResult>;
}

export const HEALTH_INDICATORS = Symbol('HEALTH_INDICATORS');

export interface ReadinessReport {
  status: 'ready' | 'not_ready';
  checks: Record<string, HealthCheckResult>;
}

export async function runChecks(
  indicators: readonly HealthIndicator[],
  timeoutMs = 3000,
): Promise<ReadinessReport> {
  const results = await Promise.all(
    indicators.map(async (ind): Promise<[string, HealthCheckResult]> => {
      let timer: NodeJS.Timeout | undefined;
      try {
        const timeout = new Promise<HealthCheckResult>((resolve) => {
          timer = setTimeout(
            () => resolve({ ok: false, detail: `no answer within ${timeoutMs} ms` }),
            timeoutMs,
          );
        });
        return [ind.name, await Promise.race([ind.check(), timeout])];
      } catch (e) {
        return [ind.name, { ok: false, detail: e instanceof Error ? e.message : String(e) }];
      } finally {
        clearTimeout(timer);
      }
    }),
  );
  const checks = Object.fromEntries(results);
  return { status: results.every(([, r]) => r.ok) ? 'ready' : 'not_ready', checks };
}
