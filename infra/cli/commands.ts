/**
 * Every `ledger` subcommand: its words, arguments and options (docs/cli.md lists the same).
 * Pure data and checks: parsing a command line connects to nothing.
 */
import { parseColumnMap } from '@app/disputes';
import { parseSignedMicros, RATE_CURRENCY } from '@app/domain';
import { isIsoDay } from '@app/exchange-rates';
import { reportQueryProblem } from '@app/read-models';
import { type FlagSpec, parseFlags } from '../replay/args';
import { generateSpecs } from '../replay/generate.command';
import { replaySpecs } from '../replay/replay.command';
import { verifySpecs } from '../replay/verify.command';
import { type CommandSpec, type OptionSpec, type ParsedCommand, UsageError } from './command-line';
import { atOption, payoutInput, rewardInput } from './rules.command';

/** Old names of command groups, still understood. */
export const ALIASES: Record<string, string> = {
  disputes: 'dispute',
  'publisher-deliveries': 'deliveries',
};

const DAY = 'YYYY-MM-DD';
const operator: OptionSpec = { arg: 'NAME', help: 'who decides, for the audit log (default: $USER)' };

const days = (p: ParsedCommand) => {
  const problem = reportQueryProblem({
    from: p.opts.get('from'),
    to: p.opts.get('to'),
    groupBy: p.opts.get('group-by')?.split(',').filter(Boolean),
  });
  if (problem)
    throw new UsageError(problem.replace(/^(from|to|group_by)/, (m) => `--${m.replace('_', '-')}`));
};

const formats =
  (...allowed: string[]) =>
  (p: ParsedCommand) => {
    const f = p.opts.get('format');
    if (f !== undefined && !allowed.includes(f))
      throw new UsageError(`--format must be ${allowed.slice(0, -1).join(', ')} or ${allowed.at(-1)}`);
  };

const all =
  (...checks: ((p: ParsedCommand) => void)[]) =>
  (p: ParsedCommand) =>
    checks.forEach((c) => c(p));

function report(kind: string, summary: string, groupBy: string, fmts: string[]): CommandSpec {
  const money = kind === 'reconciliation';
  return {
    path: ['report', kind],
    summary,
    options: {
      from: { arg: DAY, help: 'first UTC day', required: true },
      to: { arg: DAY, help: 'last UTC day', required: true },
      'group-by': { arg: 'a,b', help: `dimensions (default ${groupBy})` },
      partner: { arg: 'P', help: 'one partner only' },
      offer: { arg: 'O', help: 'one offer only' },
      ...(money
        ? { currency: { arg: 'XXX', help: "every amount in this currency, at each day's exchange rate" } }
        : {}),
      format: { arg: fmts.join('|'), help: 'output format (default table)' },
    },
    json: 'format',
    check: all(days, formats(...fmts), (p) => {
      const c = p.opts.get('currency');
      if (c !== undefined && !RATE_CURRENCY.test(c))
        throw new UsageError('--currency must be a 3-letter upper-case code');
    }),
  };
}

/** `traffic <name>`: the staging replay's own flags (infra/replay/args.ts), checked by its parser. */
function traffic(name: string, summary: string, specs: Record<string, FlagSpec>, json: boolean): CommandSpec {
  const kebab = (camel: string) => camel.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
  return {
    path: ['traffic', name],
    summary,
    options: Object.fromEntries(
      Object.entries(specs).map(([k, s]) => [
        kebab(k),
        {
          arg: `<${s.kind}>`,
          help: `${s.help}${s.default === undefined ? '' : ` (default ${s.default})`}`,
          required: s.default === undefined,
        },
      ]),
    ),
    ...(json ? { json: 'flag' as const } : {}),
    check: (p) => void parseFlags(p.raw, specs),
  };
}

export const COMMANDS: CommandSpec[] = [
  report(
    'reconciliation',
    'postbacks, acceptance, duplicates, rejections and payout per day and dimension',
    'day,offer,publisher',
    ['table', 'csv', 'json'],
  ),
  report('soft-rejects', 'the reconciliation report grouped for soft rejects', 'day,partner,placement', [
    'table',
    'csv',
    'json',
  ]),
  report('latency', 'click-to-postback and decision latency percentiles', 'offer,publisher', [
    'table',
    'json',
  ]),
  {
    path: ['review', 'list'],
    summary: 'conversions held for manual review',
    options: {
      partner: { arg: 'P', help: 'one partner only' },
      offer: { arg: 'O', help: 'one offer only' },
      reason: { arg: 'R', help: 'one hold reason only' },
      limit: { arg: 'N', help: 'at most N (1..1000, default 100)' },
    },
    json: 'flag',
    check: (p) => {
      const limit = Number(p.opts.get('limit') ?? 100);
      if (!Number.isInteger(limit) || limit < 1 || limit > 1000)
        throw new UsageError('--limit must be 1..1000');
    },
  },
  {
    path: ['review', 'show'],
    args: ['<conversion_id>'],
    summary: "a conversion's hold and ledger entries (JSON)",
    options: {},
    json: 'flag',
  },
  ...(['approve', 'reject'] as const).map((d): CommandSpec => ({
    path: ['review', d],
    args: ['<conversion_id>'],
    summary: `${d} a held conversion (a ledger entry naming the operator); exit 1 when it is not held`,
    options: {
      note: { arg: '"..."', help: 'why, for the ledger and the audit log', required: true },
      operator,
    },
    json: 'flag',
  })),
  {
    path: ['projections', 'rebuild'],
    summary: 'drop every read model and replay it from the ledger; row counts and hashes before and after',
    options: {},
    json: 'flag',
    details: 'Progress goes to stderr. Exit 1 when conversions differ from the fold of their ledger entries.',
  },
  {
    path: ['projections', 'check'],
    summary: 'the rebuild in a rolled-back transaction; exit 1 if the read models or conversions differ',
    options: {},
    json: 'flag',
  },
  {
    path: ['trial-balance'],
    summary:
      'debits and credits per account and currency (docs/ledger.md#double-entry); exit 1 on any imbalance',
    options: { format: { arg: 'table|json', help: 'output format (default table)' } },
    json: 'format',
    check: formats('table', 'json'),
  },
  {
    path: ['launch-check'],
    summary: 'the launch criteria (docs/launch-gates.md) with measured values; exit 1 when any fails',
    options: {
      from: { arg: DAY, help: 'first UTC day', required: true },
      to: { arg: DAY, help: 'last UTC day', required: true },
      partner: { arg: 'P', help: 'one partner only' },
      offer: { arg: 'O', help: 'one offer only' },
      format: { arg: 'table|json', help: 'output format (default table)' },
    },
    json: 'format',
    check: all(days, formats('table', 'json')),
  },
  {
    path: ['dispute', 'import'],
    summary: "diff a counterparty's CSV file against the ledger (streamed: any size)",
    options: {
      file: { arg: 'F.csv', help: 'their file', required: true },
      partner: { arg: 'P', help: 'the file is from this partner' },
      publisher: { arg: 'U', help: 'the file is from this publisher' },
      delimiter: { arg: 'C', help: "column delimiter (default ','; '\\t' for tabs)" },
      columns: { arg: 'ours=theirs,...', help: 'their column names' },
      from: { arg: DAY, help: 'compare from this UTC day' },
      to: { arg: DAY, help: 'compare up to this UTC day' },
      operator,
      out: { arg: 'diff.csv|diff.ndjson', help: 'also write every difference to this file' },
    },
    json: 'flag',
    details: 'Progress (rows read) goes to stderr.',
    check: (p) => {
      if (p.opts.has('partner') === p.opts.has('publisher'))
        throw new UsageError('give --partner or --publisher');
      const columns = parseColumnMap(p.opts.get('columns'));
      if (typeof columns === 'string') throw new UsageError(columns.replace(/^columns/, '--columns'));
      for (const k of ['from', 'to'] as const)
        if (p.opts.has(k) && reportQueryProblem({ from: p.opts.get(k), to: p.opts.get(k) }))
          throw new UsageError(`--${k} must be a UTC day as YYYY-MM-DD`);
    },
  },
  {
    path: ['dispute', 'show'],
    args: ['<id>'],
    summary: "a dispute's differences and their resolutions",
    options: {
      kind: { arg: 'K', help: 'one kind of difference only' },
      open: { help: 'unresolved ones only' },
      format: { arg: 'table|csv|json', help: 'output format (default table)' },
    },
    json: 'format',
    check: formats('table', 'csv', 'json'),
  },
  {
    path: ['dispute', 'resolve'],
    args: ['<id>', '<item>'],
    summary: 'resolve one difference: an adjusting ledger entry, or a dismissal',
    options: {
      adjust: { arg: 'AMOUNT', help: 'signed amount of the adjusting entry, e.g. -1.25' },
      dismiss: { help: 'no entry: the difference is theirs to fix' },
      note: { arg: '"..."', help: 'why', required: true },
      operator,
    },
    json: 'flag',
    check: (p) => {
      if (!/^\d+$/.test(p.args[1]!)) throw new UsageError('<item> must be an item number');
      if (p.opts.has('adjust') === p.opts.has('dismiss'))
        throw new UsageError('give --adjust AMOUNT or --dismiss');
      if (p.opts.has('adjust') && !parseSignedMicros(p.opts.get('adjust')!))
        throw new UsageError('--adjust needs a non-zero signed decimal like -1.25');
    },
  },
  {
    path: ['rates', 'import'],
    args: ['<file.csv>'],
    summary: 'import exchange rates (CSV: date,base,quote,rate,source); exit 1 when a stored rate differs',
    options: {
      replace: { help: 'overwrite stored rates that differ (entries already converted keep theirs)' },
      'dry-run': { help: 'say what would change; write nothing' },
      operator,
    },
    json: 'flag',
    details:
      'All or nothing: new rates are inserted, identical ones left alone; a rate that differs from\n' +
      'the stored one refuses the whole file (each listed on stderr) unless --replace. A bad line\n' +
      'refuses the file too, naming the line and field. At most 100,000 rates (16 MiB) per file.',
  },
  {
    path: ['rates', 'list'],
    summary: 'stored exchange rates, newest day first',
    options: {
      base: { arg: 'CUR', help: 'one base currency only' },
      quote: { arg: 'CUR', help: 'one quote currency only' },
      from: { arg: DAY, help: 'first UTC day' },
      to: { arg: DAY, help: 'last UTC day' },
      limit: { arg: 'N', help: 'at most N (1..100000, default 1000)' },
    },
    json: 'flag',
    check: (p) => {
      for (const k of ['base', 'quote'] as const)
        if (p.opts.has(k) && !RATE_CURRENCY.test(p.opts.get(k)!))
          throw new UsageError(`--${k} must be a 3-letter upper-case currency code like USD`);
      for (const k of ['from', 'to'] as const)
        if (p.opts.has(k) && !isIsoDay(p.opts.get(k)!))
          throw new UsageError(`--${k} must be a UTC day as YYYY-MM-DD`);
      if (p.opts.has('limit') && !/^[1-9]\d{0,4}$|^100000$/.test(p.opts.get('limit')!))
        throw new UsageError('--limit must be 1..100000');
    },
  },
  {
    path: ['rules', 'payout', 'add'],
    summary:
      "add a payout rule from a time on: a share of the revenue or a fixed amount in the offer's currency",
    options: {
      offer: { arg: 'O', help: 'the offer', required: true },
      goal: { arg: 'G', help: "one of the offer's goals (default: every goal)" },
      publisher: { arg: 'P', help: 'an override for this publisher (default: every publisher)' },
      share: { arg: 'PERCENT', help: 'the publisher gets this share of the revenue, 0..100 (e.g. 70)' },
      amount: { arg: 'AMOUNT', help: "or this fixed amount in the offer's currency (e.g. 1.50)" },
      from: { arg: 'TIME', help: 'ISO 8601 with its zone (default: now); never before a written entry' },
      note: { arg: '"..."', help: 'why, kept with the rule' },
      operator,
    },
    json: 'flag',
    details:
      'Rules are never edited: a change is a new rule from a later time, so entries already written\n' +
      'keep their payout. Exit 1 when the offer, goal or publisher is unknown, the start is in the\n' +
      'past, or the same offer, goal and publisher already have a rule at that start.',
    check: (p) => void payoutInput(p.opts),
  },
  {
    path: ['rules', 'payout', 'list'],
    summary:
      'payout rules, newest start first, marking the one in force; with --offer, the rule per goal and publisher',
    options: {
      offer: { arg: 'O', help: 'one offer only' },
      publisher: { arg: 'P', help: "rules that can apply to this publisher (its overrides and everyone's)" },
      at: { arg: 'TIME', help: 'in force at this time (ISO 8601; default now)' },
    },
    json: 'flag',
    check: (p) => void atOption(p.opts),
  },
  {
    path: ['rules', 'reward', 'add'],
    summary: "add a reward rule from a time on: a publisher app's virtual currency per unit of payout",
    options: {
      publisher: { arg: 'P', help: 'the publisher app', required: true },
      'currency-name': { arg: 'NAME', help: 'its virtual currency (e.g. coins)', required: true },
      'per-unit': { arg: 'N', help: 'reward units per 1 unit of payout (e.g. 100)', required: true },
      rounding: { arg: 'floor|round|ceil', help: 'to whole units (round: half to even)', required: true },
      minimum: { arg: 'N', help: 'the least reward for any payout above 0 (default 0)' },
      from: { arg: 'TIME', help: 'ISO 8601 with its zone (default: now); never before a written entry' },
      note: { arg: '"..."', help: 'why, kept with the rule' },
      operator,
    },
    json: 'flag',
    check: (p) => void rewardInput(p.opts),
  },
  {
    path: ['rules', 'reward', 'list'],
    summary: 'reward rules, newest start first, marking the one in force',
    options: {
      publisher: { arg: 'P', help: 'one publisher only' },
      at: { arg: 'TIME', help: 'in force at this time (ISO 8601; default now)' },
    },
    json: 'flag',
    check: (p) => void atOption(p.opts),
  },
  {
    path: ['tokens', 'create'],
    summary: 'a named operator token, printed once (only its SHA-256 is stored)',
    options: {
      name: { arg: 'N', help: 'the operator', required: true },
      role: { arg: 'viewer|reviewer|admin', help: 'what it may do', required: true },
    },
    json: 'flag',
  },
  {
    path: ['tokens', 'list'],
    summary: 'active tokens and their last use',
    options: { all: { help: 'revoked ones too' } },
    json: 'flag',
  },
  {
    path: ['tokens', 'revoke'],
    summary: 'refuse a token from the next request on; exit 1 when no active token has the name',
    options: { name: { arg: 'N', help: 'the operator', required: true } },
    json: 'flag',
  },
  {
    path: ['secrets', 'status'],
    summary: 'stored secrets by the key that sealed them; exit 1 if a key is missing',
    options: {},
    json: 'flag',
  },
  {
    path: ['secrets', 'reencrypt'],
    summary: 'seal every stored secret with SECRETS_KEY (after a rotation)',
    options: {},
    json: 'flag',
  },
  {
    path: ['secrets', 'new-key'],
    summary: 'a fresh SECRETS_KEY value (<id>:<base64 of 32 random bytes>); needs no database',
    options: { id: { arg: 'ID', help: 'key id (default k<today>)' } },
    json: 'flag',
  },
  {
    path: ['dead-letters', 'list'],
    summary: 'every dead letter: when, source topic, partition and offset, error',
    options: {},
    json: 'flag',
  },
  {
    path: ['dead-letters', 'replay'],
    summary: 'send the dead letters not replayed yet back to their source topics',
    options: { yes: { help: 'do it (without it: exit 2)' } },
    json: 'flag',
  },
  {
    path: ['dead-letters', 'exhausted'],
    summary: 'postbacks whose retry budget ran out (postbacks.dead): attempts and errors',
    options: {},
    json: 'flag',
  },
  {
    path: ['dead-letters', 'exhausted', 'replay'],
    summary: 'decide exhausted postbacks again, with the later statuses they took down',
    options: {
      event: { arg: '<id>', help: 'only this exhausted postback', repeat: true },
      yes: { help: 'send them (without it: the plan, exit 2)' },
    },
    json: 'flag',
  },
  {
    path: ['deliveries', 'list'],
    summary: "publisher postbacks (the notifier's deliveries)",
    options: {
      publisher: { arg: 'P', help: 'one publisher only' },
      status: { arg: 'S', help: 'dead, pending, ...' },
      limit: { arg: 'N', help: 'at most N (default 100)' },
    },
    json: 'flag',
    check: (p) => {
      if (p.opts.has('limit') && !/^[1-9]\d{0,5}$/.test(p.opts.get('limit')!))
        throw new UsageError('--limit must be a positive integer');
    },
  },
  {
    path: ['deliveries', 'state'],
    args: ['<publisher>'],
    summary: "a publisher endpoint's state (paused, failures); exit 1 when it has no postback",
    options: {},
    json: 'flag',
  },
  {
    path: ['deliveries', 'replay'],
    summary: 'send dead deliveries again, each with a fresh retry window',
    options: {
      yes: { help: 'do it (without it: exit 2)' },
      publisher: { arg: 'P', help: 'one publisher only' },
      entry: { arg: 'E[,E...]', help: 'these ledger entries only' },
    },
    json: 'flag',
  },
  {
    path: ['deliveries', 'resume'],
    args: ['<publisher>'],
    summary: 'resume a paused endpoint: its waiting deliveries go out now',
    options: {},
    json: 'flag',
  },
  traffic('generate', 'write a reproducible NDJSON traffic file (--out -: to stdout)', generateSpecs, false),
  traffic('replay', 'send a traffic file through the gateway (progress on stderr)', replaySpecs(), false),
  traffic(
    'verify',
    "compare the system's decisions with the reference; exit 1 on a difference",
    verifySpecs(),
    true,
  ),
  {
    path: ['topics', 'provision'],
    summary: 'create missing Kafka topics, grow partitions, set retention (docs/topics.md)',
    options: {},
    json: 'flag',
  },
];
