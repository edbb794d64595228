import { spawnSync } from 'node:child_process';

export const PROMTOOL_MISSING =
  'promtool is not on PATH. Install it: `sudo apt-get install prometheus` (Debian/Ubuntu; bash .ci/run does it), ' +
  'or put the promtool binary of a Prometheus release (https://prometheus.io/download/) on PATH.';

/**
 * Runs Prometheus' promtool in `cwd` and returns its output; throws with that output when it
 * does not pass, and with how to install it when it is missing (a test never skips for it).
 */
export function promtool(cwd: string, ...args: string[]): string {
  const r = spawnSync('promtool', args, { cwd, encoding: 'utf8', timeout: 60_000 });
  if (r.error) {
    if ((r.error as NodeJS.ErrnoException).code === 'ENOENT') throw new Error(PROMTOOL_MISSING);
    throw r.error;
  }
  const output = `${r.stdout}${r.stderr}`.trim();
  if (r.status !== 0) throw new Error(`promtool ${args.join(' ')} failed (exit ${r.status}):\n${output}`);
  return output;
}
