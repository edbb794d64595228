import { FreshRefresh } from './fresh-refresh';

/** A run that records when it started and finishes when the test says so. */
function controlledRuns() {
  const runs: { release: () => void; fail: (e: Error) => void; startedAfter: number }[] = [];
  let calls = 0;
  const refresher = new FreshRefresh(
    () =>
      new Promise<void>((resolve, reject) => {
        runs.push({ release: resolve, fail: reject, startedAfter: calls });
      }),
  );
  const call = () => {
    calls += 1;
    return refresher.refresh();
  };
  return { runs, call };
}

const settled = () => new Promise((r) => setImmediate(r));

describe('FreshRefresh', () => {
  it('a caller arriving while a run is in progress waits for a run that starts after its call', async () => {
    const { runs, call } = controlledRuns();
    const first = call();
    const second = call(); // the "writer": committed, then asked for a refresh
    let secondDone = false;
    void second.then(() => (secondDone = true));
    await settled();
    expect(runs).toHaveLength(1);
    runs[0]!.release();
    await first;
    await settled();
    expect(secondDone).toBe(false); // not satisfied by the run that started before its call
    expect(runs).toHaveLength(2);
    expect(runs[1]!.startedAfter).toBe(2);
    runs[1]!.release();
    await second;
  });

  it('callers arriving during one run share one queued run: one in progress, at most one queued', async () => {
    const { runs, call } = controlledRuns();
    const first = call();
    const waiting = Array.from({ length: 50 }, () => call());
    await settled();
    expect(runs).toHaveLength(1);
    runs[0]!.release();
    await first;
    await settled();
    expect(runs).toHaveLength(2);
    runs[1]!.release();
    await Promise.all(waiting);
    expect(runs).toHaveLength(2);
    // Idle again: the next caller starts a run of its own.
    const next = call();
    await settled();
    expect(runs).toHaveLength(3);
    runs[2]!.release();
    await next;
  });

  it('a failed run fails its own callers only; the queued run still runs', async () => {
    const { runs, call } = controlledRuns();
    const first = call();
    const second = call();
    await settled();
    runs[0]!.fail(new Error('db down'));
    await expect(first).rejects.toThrow('db down');
    await settled();
    expect(runs).toHaveLength(2);
    runs[1]!.release();
    await expect(second).resolves.toBeUndefined();
  });
});
