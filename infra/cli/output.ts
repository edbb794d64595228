/**
 * How the CLIs write and end. Data goes to stdout, progress and errors to stderr. A process
 * never exits before stdout has drained (a pipe to a slow reader, `| head`, a file): the exit
 * code is set and the exit waits for the write callbacks. A reader that goes away (`| head`)
 * is not an error: the rest of the output is dropped quietly.
 */

let stdoutGone = false;
/** Writers waiting for stdout to drain: released when it does, or when the reader goes away. */
let waiting: (() => void)[] = [];
const release = () => {
  const w = waiting;
  waiting = [];
  w.forEach((f) => f());
};
process.stdout.on('drain', release);
process.stdout.on('close', () => {
  stdoutGone = true;
  release();
});

/** Data on stdout, one line. */
export function out(text: string): void {
  if (!stdoutGone) process.stdout.write(`${text}\n`);
}

/**
 * Data on stdout with back-pressure, for output too large to build in memory: resolves once the
 * chunk is buffered below the high-water mark (or the reader has gone away).
 */
export function write(chunk: string): Promise<void> {
  if (stdoutGone || process.stdout.write(chunk)) return Promise.resolve();
  return new Promise((resolve) => waiting.push(resolve));
}

/** Data as JSON on stdout. */
export function outJson(value: unknown): void {
  out(JSON.stringify(value, null, 2));
}

/** Progress on stderr (never on stdout: stdout is for data). */
export function progress(text: string): void {
  process.stderr.write(text);
}

function quietOnEpipe(stream: NodeJS.WriteStream, onGone: () => void): void {
  stream.on('error', (e: NodeJS.ErrnoException) => {
    if (e.code === 'EPIPE' || e.code === 'ERR_STREAM_DESTROYED') onGone();
    else throw e;
  });
}

quietOnEpipe(process.stdout, () => {
  stdoutGone = true;
  release();
});
quietOnEpipe(process.stderr, () => undefined);

const flushed = (stream: NodeJS.WriteStream) =>
  new Promise<void>((resolve) => {
    if (stream.destroyed || !stream.writable || (stream === process.stdout && stdoutGone)) resolve();
    else stream.write('', () => resolve());
  });

/** Ends the process with `code` once stdout and stderr have drained. */
export function finish(code: number): void {
  process.exitCode = code;
  void Promise.all([flushed(process.stdout), flushed(process.stderr)]).then(() => process.exit(code));
}

/**
 * Runs a CLI's main: its resolved number is the exit code. A rejection is an error the command
 * did not expect (Postgres or Kafka unreachable...): one line on stderr, exit 3.
 */
export function runMain(name: string, main: () => Promise<number>): void {
  main().then(finish, (e: unknown) => {
    process.stderr.write(`${name}: ${e instanceof Error ? e.message : String(e)}\n`);
    finish(3);
  });
}
