/**
 * Staging replay (docs/replay.md): generate a traffic file, replay it through the real gateway,
 * verify what the system decided against an independent reference. Exit 2 on a bad command line.
 */
import { describeFlags, type FlagSpec, type Flags, parseFlags, UsageError } from '../replay/args';
import { generateSpecs, runGenerate } from '../replay/generate.command';
import { replaySpecs, runReplay } from '../replay/replay.command';
import { runVerify, verifySpecs } from '../replay/verify.command';

interface Command {
  specs: Record<string, FlagSpec>;
  summary: string;
  /** Resolves to the process exit code. */
  run(flags: Flags): Promise<number> | number;
}

const COMMANDS: Record<string, Command> = {
  generate: {
    specs: generateSpecs,
    summary: 'write a reproducible NDJSON traffic file',
    run: (f) => (runGenerate(f), 0),
  },
  replay: { specs: replaySpecs(), summary: 'send a traffic file through the gateway', run: runReplay },
  verify: {
    specs: verifySpecs(),
    summary: "compare the system's decisions with the reference",
    run: runVerify,
  },
};

export function usage(name?: string): string {
  const list = name && COMMANDS[name] ? [name] : Object.keys(COMMANDS);
  return list
    .map(
      (n) => `usage: traffic ${n} [options]   ${COMMANDS[n]!.summary}\n${describeFlags(COMMANDS[n]!.specs)}`,
    )
    .join('\n\n');
}

export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  const command = name ? COMMANDS[name] : undefined;
  try {
    if (!command) throw new UsageError(name ? `unknown command ${name}` : 'a command is required');
    return await command.run(parseFlags(rest, command.specs));
  } catch (e) {
    if (!(e instanceof UsageError)) throw e;
    process.stderr.write(`traffic: ${e.message}\n\n${usage(command ? name : undefined)}\n`);
    return 2;
  }
}

if (require.main === module) {
  main(process.argv.slice(2)).then(
    // Exit only once stdout is flushed: `generate --out -` may be writing megabytes to a pipe.
    (code) => process.stdout.write('', () => process.exit(code)),
    (e: unknown) => {
      process.stderr.write(`traffic: ${e instanceof Error ? e.message : String(e)}\n`);
      process.exit(1);
    },
  );
}
