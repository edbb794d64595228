/**
 * The `ledger` command line: every subcommand's words, positional arguments and options, parsed
 * and checked before anything connects (a bad command line never touches Postgres or Kafka), and
 * the help texts. The handlers live in the `*.command.ts` files; `ledger.ts` wires them up.
 */
import { UsageError } from '../replay/args';

export { UsageError };

export interface OptionSpec {
  /** The value's placeholder; absent for a switch (`--yes`). */
  arg?: string;
  help: string;
  required?: boolean;
  /** May be given more than once (`--event A --event B`). */
  repeat?: boolean;
}

export interface CommandSpec {
  /** The words after `ledger`: `['report', 'reconciliation']`. */
  path: string[];
  summary: string;
  /** Required positional arguments, by name: `['<conversion_id>']`. */
  args?: string[];
  options: Record<string, OptionSpec>;
  /** How `--json` applies: `format` sets `--format json`; `flag` asks the handler for JSON; absent: no data printed. */
  json?: 'format' | 'flag';
  /** More lines for `--help`. */
  details?: string;
  /** Checks the values a parser alone cannot (kinds, ranges); throws UsageError. */
  check?(parsed: ParsedCommand): void;
}

export interface ParsedCommand {
  spec: CommandSpec;
  args: string[];
  /** Each option's value (the last one given); switches read 'true'. */
  opts: Map<string, string>;
  /** Every value of a repeatable option. */
  lists: Map<string, string[]>;
  /** Data as JSON on stdout (`--json`, or `--format json`). */
  json: boolean;
  /** The option arguments as given, for commands that parse their own (traffic). */
  raw: string[];
}

export type CommandLine = { help: string } | ParsedCommand;

export interface Program {
  /** What the usage lines call it: `ledger`, or an old entry point's name (`dead-letters`). */
  name: string;
  /** For an old entry point: the group its words fall under (`dead-letters`). */
  group?: string;
}

export const LEDGER: Program = { name: 'ledger' };

export const EXIT_CODES = `exit codes:
  0  ok
  1  a check failed, a decision was refused, or the thing named does not exist
  2  bad usage: unknown command or option, missing or bad value, or a change without --yes
  3  the work could not be done: Postgres or Kafka unreachable, an unexpected error`;

const HELP_OPTION = '  -h, --help                 this help';

const isHelp = (a: string) => a === '-h' || a === '--help';

/** `ledger report reconciliation` (or `dead-letters exhausted replay` for an old entry point). */
export function commandName(program: Program, path: string[]): string {
  return [program.name, ...(program.group ? path.slice(1) : path)].join(' ');
}

export function synopsis(program: Program, spec: CommandSpec): string {
  const opts = Object.entries(spec.options).map(([k, o]) => {
    const s = `--${k}${o.arg ? ` ${o.arg}` : ''}`;
    return o.required ? s : `[${s}]${o.repeat ? '...' : ''}`;
  });
  const full = [
    commandName(program, spec.path),
    ...(spec.args ?? []),
    ...opts,
    ...(spec.json ? ['[--json]'] : []),
  ];
  if (full.join(' ').length <= 120) return full.join(' ');
  // Too long for one line: the required ones, then [options] (`--help` lists them).
  return [
    commandName(program, spec.path),
    ...(spec.args ?? []),
    ...opts.filter((o) => !o.startsWith('[')),
    '[options]',
  ].join(' ');
}

export function commandHelp(program: Program, spec: CommandSpec): string {
  const width = Math.max(
    24,
    ...Object.entries(spec.options).map(([k, o]) => k.length + (o.arg?.length ?? 0) + 4),
  );
  const lines = [`usage: ${synopsis(program, spec)}`, '', spec.summary];
  if (spec.details) lines.push('', spec.details);
  lines.push('', 'options:');
  for (const [k, o] of Object.entries(spec.options)) {
    const name = `--${k}${o.arg ? ` ${o.arg}` : ''}`;
    lines.push(`  ${name.padEnd(width)} ${o.help}${o.required ? ' (required)' : ''}`);
  }
  if (spec.json)
    lines.push(
      `  ${'--json'.padEnd(width)} machine-readable output on stdout${spec.json === 'format' ? ' (same as --format json)' : ''}`,
    );
  lines.push(HELP_OPTION, '', EXIT_CODES);
  return `${lines.join('\n')}\n`;
}

function listHelp(program: Program, specs: CommandSpec[], heading: string): string {
  const rows = specs.map(
    (s) => [[commandName(program, s.path), ...(s.args ?? [])].join(' '), s.summary] as const,
  );
  const width = Math.max(...rows.map(([n]) => n.length));
  return `${heading}\n\ncommands:\n${rows.map(([n, s]) => `  ${n.padEnd(width)}  ${s}`).join('\n')}\n`;
}

export function topHelp(program: Program, specs: CommandSpec[]): string {
  return (
    listHelp(
      program,
      specs,
      `usage: ${program.name} <command> [<subcommand>] [arguments] [options]\n\n` +
        'The operator command line of the conversion ledger (docs/cli.md). Reads DATABASE_URL,\n' +
        'KAFKA_BROKERS and TOPIC_PREFIX. Data goes to stdout, progress and errors to stderr.',
    ) +
    `\noptions:\n${HELP_OPTION}\n  --json                     machine-readable output, on every command that prints data\n` +
    `\n'${program.name} <command> --help' shows a command's arguments and options.\n\n${EXIT_CODES}\n`
  );
}

/** A usage error about a command group (`ledger report bogus`): its help lists the subcommands. */
const groupUsage = (group: string, message: string) => Object.assign(new UsageError(message), { group });

const resolveAlias = (word: string, aliases: Record<string, string>) => aliases[word] ?? word;

/**
 * Reads a command line. Returns the help to print when one was asked for; throws UsageError
 * (one line, naming the command) on an unknown command, an unknown option, a missing value or
 * argument.
 */
export function parseCommandLine(
  argv: string[],
  specs: CommandSpec[],
  program: Program = LEDGER,
  aliases: Record<string, string> = {},
): CommandLine {
  const words: string[] = [];
  if (program.group) words.push(program.group);
  let i = 0;
  while (i < argv.length && !argv[i]!.startsWith('-')) words.push(argv[i++]!);
  if (words[0] !== undefined) words[0] = resolveAlias(words[0], aliases);
  const helpAsked = argv.some(isHelp);
  // The longest command whose words open the line.
  const spec = specs
    .filter((s) => s.path.every((w, k) => words[k] === w))
    .sort((a, b) => b.path.length - a.path.length)[0];
  if (!spec) {
    const group = words[0];
    const inGroup = specs.filter((s) => s.path[0] === group);
    if (!group || inGroup.length === 0) {
      if (helpAsked) return { help: topHelp(program, specs) };
      if (!group) throw new UsageError('a command is required');
      throw new UsageError(`unknown command '${group}'`);
    }
    if (helpAsked)
      return { help: listHelp(program, inGroup, `usage: ${commandName(program, [group])} <subcommand> ...`) };
    const sub = words[1];
    const subs = [...new Set(inGroup.map((s) => s.path[1]))].join(', ');
    throw groupUsage(
      group,
      sub === undefined
        ? `${commandName(program, [group])}: a subcommand is required (${subs})`
        : `${commandName(program, [group])}: unknown subcommand '${sub}' (${subs})`,
    );
  }
  if (helpAsked) return { help: commandHelp(program, spec) };
  try {
    return parseOptions(argv.slice(i), words.slice(spec.path.length), spec, program);
  } catch (e) {
    // The caller prints the usage of the command the line was for.
    if (e instanceof UsageError) Object.assign(e, { spec });
    throw e;
  }
}

function parseOptions(argv: string[], args: string[], spec: CommandSpec, program: Program): ParsedCommand {
  const name = commandName(program, spec.path);
  const raw = argv;
  const opts = new Map<string, string>();
  const lists = new Map<string, string[]>();
  let json = false;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (!a.startsWith('-') || a === '-') {
      args.push(a);
      continue;
    }
    if (!a.startsWith('--')) throw new UsageError(`${name}: unknown option ${a}`);
    const eq = a.indexOf('=');
    const key = a.slice(2, eq > 0 ? eq : undefined);
    if (key === 'json' && spec.json && eq < 0) {
      json = true;
      continue;
    }
    const o = spec.options[key];
    if (!o) throw new UsageError(`${name}: unknown option --${key}`);
    let value: string | undefined;
    if (!o.arg) {
      if (eq > 0) throw new UsageError(`${name}: --${key} takes no value`);
      value = 'true';
    } else {
      value = eq > 0 ? a.slice(eq + 1) : argv[++i];
      if (value === undefined || (eq < 0 && value.startsWith('--')) || value === '')
        throw new UsageError(`${name}: --${key} needs a value (${o.arg})`);
    }
    opts.set(key, value);
    lists.set(key, [...(lists.get(key) ?? []), value]);
  }
  const want = spec.args ?? [];
  if (args.length < want.length) throw new UsageError(`${name}: give ${want.slice(args.length).join(' ')}`);
  if (args.length > want.length) throw new UsageError(`${name}: unexpected argument '${args[want.length]}'`);
  for (const [k, o] of Object.entries(spec.options)) {
    if (o.required && !opts.has(k)) throw new UsageError(`${name}: --${k} is required`);
    if (!o.repeat && (lists.get(k)?.length ?? 0) > 1) throw new UsageError(`${name}: --${k} given twice`);
  }
  if (spec.json === 'format') {
    if (json && opts.has('format') && opts.get('format') !== 'json')
      throw new UsageError(`${name}: --json and --format ${opts.get('format')} disagree`);
    if (json) opts.set('format', 'json');
    json = opts.get('format') === 'json';
  }
  const parsed: ParsedCommand = { spec, args, opts, lists, json, raw: raw.filter((a) => a !== '--json') };
  try {
    spec.check?.(parsed);
  } catch (e) {
    if (e instanceof UsageError && !e.message.startsWith(name)) throw new UsageError(`${name}: ${e.message}`);
    throw e;
  }
  return parsed;
}
