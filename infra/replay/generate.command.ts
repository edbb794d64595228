import { writeFileSync } from 'node:fs';
import type { FlagSpec, Flags } from './args';
import { DEFAULT_OPTIONS, type GenerateOptions, generateTraffic, serialize } from './generate';

const HELP: Record<keyof GenerateOptions, string> = {
  seed: 'PRNG seed: the same seed and options give the same bytes',
  start: 'virtual time of the first click window (UTC)',
  spanHours: 'hours of clicks (callbacks may trail after)',
  clicks: 'number of clicks',
  conversionRate: 'share of clicks that convert',
  duplicateRate: 'share of postbacks repeated 1-5 times',
  concurrentShare: 'share of repeats sent at the same moment',
  delayedRate: 'share of conversions reported hours late',
  maxDelayHours: 'longest delay of a late callback',
  statusUpdateRate: 'share of conversions reported pending, then approved',
  outOfOrderRate: 'share of conversions whose approval arrives before its pending',
  reversalRate: 'share of approvals reversed later',
  advertiserRejectRate: 'share of conversions the advertiser rejects',
  unknownClickRate: 'postbacks with a well-formed click_id never minted (per conversion)',
  malformedClickRate: 'postbacks with a malformed click_id (per conversion)',
  offerMismatchRate: "share of conversions naming another offer than the click's",
  badSignatureRate: 'share of postbacks also sent signed with a wrong secret (401)',
  malformedRequestRate: 'share of conversions with an extra malformed request (400)',
  explicitPayoutRate: 'share of conversions with their own payout and currency',
  postRate: 'share of postbacks sent as JSON POST (the rest GET)',
  fraudBursts: 'bursts of too-fast conversions (held as fraud_suspected)',
  capBursts: "bursts of approvals over o-cap's daily cap",
};

const kindOf = (key: keyof GenerateOptions): FlagSpec['kind'] => {
  if (key === 'start') return 'time';
  if (key === 'seed' || key === 'clicks' || key === 'fraudBursts' || key === 'capBursts') return 'int';
  if (key === 'spanHours' || key === 'maxDelayHours') return 'number';
  return 'rate';
};

export const generateSpecs: Record<string, FlagSpec> = {
  out: { kind: 'string', help: 'file to write ("-": standard output)' },
  ...Object.fromEntries(
    (Object.keys(DEFAULT_OPTIONS) as (keyof GenerateOptions)[]).map((k) => [
      k,
      { kind: kindOf(k), help: HELP[k], default: DEFAULT_OPTIONS[k] },
    ]),
  ),
};

export function runGenerate(flags: Flags): void {
  const { out, ...rest } = flags;
  const lines = generateTraffic(rest as unknown as GenerateOptions);
  const text = serialize(lines);
  if (out === '-') process.stdout.write(text);
  else writeFileSync(String(out), text);
  const count = (kind: string) => lines.filter((l) => l.kind === kind).length;
  process.stderr.write(
    `[traffic] ${out === '-' ? 'stdout' : String(out)}: ${count('click')} clicks, ${count('postback')} postbacks, ` +
      `${count('offer')} offers, ${count('publisher')} publishers, ${count('partner')} partners\n`,
  );
}
