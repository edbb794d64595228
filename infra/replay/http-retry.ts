/** One HTTP answer, read whole. Status 0: the request never got an answer (network error). */
export interface Answer {
  status: number;
  body: string;
  retryAfterS: number | undefined;
  error?: string;
}

export interface RetryStats {
  retried503: number;
  retried429: number;
  networkErrors: number;
}

export async function send(url: string, init: RequestInit): Promise<Answer> {
  try {
    const r = await fetch(url, { ...init, signal: AbortSignal.timeout(30_000) });
    const ra = Number(r.headers.get('retry-after'));
    return {
      status: r.status,
      body: await r.text(),
      retryAfterS: Number.isFinite(ra) && ra > 0 ? ra : undefined,
    };
  } catch (e) {
    return { status: 0, body: '', retryAfterS: undefined, error: e instanceof Error ? e.message : String(e) };
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Sends like a partner does: 503, 429 and network errors are retried with backoff (Retry-After
 * when given), for as long as `giveUpAfterMs`; any other answer is final. `build` runs again
 * per attempt (a fresh signature timestamp). The last answer is returned, never swallowed.
 * `transport` defaults to fetch; a load-heavy caller may pass a cheaper one.
 */
export async function sendWithRetry(
  build: () => { url: string; init: RequestInit },
  stats: RetryStats,
  giveUpAfterMs: number,
  transport: (url: string, init: RequestInit) => Promise<Answer> = send,
): Promise<Answer & { attempts: number }> {
  const deadline = Date.now() + giveUpAfterMs;
  let backoff = 100;
  for (let attempts = 1; ; attempts++) {
    const { url, init } = build();
    const a = await transport(url, init);
    if (a.status !== 503 && a.status !== 429 && a.status !== 0) return { ...a, attempts };
    if (a.status === 503) stats.retried503++;
    else if (a.status === 429) stats.retried429++;
    else stats.networkErrors++;
    if (Date.now() > deadline)
      return { ...a, attempts, error: a.error ?? `gave up after ${attempts} attempts` };
    await sleep(a.retryAfterS !== undefined ? a.retryAfterS * 1000 : backoff * (0.5 + Math.random()));
    backoff = Math.min(backoff * 2, 5000);
  }
}
