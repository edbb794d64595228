import { type EntryMoney, NO_MONEY } from '../payouts/payout-rules';
import type { ConversionState, EntryFacts } from './conversion.types';

/** The money an entry leaves on its conversion (none known for entries written before payout rules). */
function carried(m: EntryMoney | undefined): Partial<ConversionState> {
  if (!m) return { payoutMicros: undefined, rewardAmount: undefined, rewardCurrency: undefined };
  return {
    payoutMicros: m.payoutMicros,
    rewardAmount: m.rewardAmount,
    rewardCurrency: m.rewardCurrency,
    payoutRuleId: m.payoutRuleId,
    rewardRuleId: m.rewardRuleId,
  };
}

/**
 * A conversion's state after one more ledger entry: the one definition of what each entry type
 * does to a conversion. Deciding uses it for the state it writes, the ledger writer for the
 * `conversions` row, and a rebuild folds a conversion's entries through it; so the three can
 * never disagree. Pure: no clock, no I/O.
 */
export function evolve(state: ConversionState | undefined, e: EntryFacts): ConversionState {
  const base: ConversionState = state ?? {
    conversionId: e.conversionId,
    partnerId: e.partnerId,
    status: 'pending',
    amountMicros: 0n,
    currency: e.currency,
    requested: e.requested ?? 'pending',
    reason: null,
    firstReceivedAt: e.occurredAt,
    entries: 0,
  };
  const next: ConversionState = {
    ...base,
    currency: e.currency,
    requested: e.requested ?? base.requested,
    firstReceivedAt: base.firstReceivedAt ?? e.occurredAt,
    entries: (base.entries ?? 0) + 1,
  };
  switch (e.entryType) {
    case 'pending':
      return { ...next, status: 'pending', amountMicros: 0n, reason: null, ...carried(e.money && NO_MONEY) };
    case 'approved':
    case 'released':
      return { ...next, status: 'approved', amountMicros: e.amountMicros, reason: null, ...carried(e.money) };
    case 'held':
      return { ...next, status: 'held', amountMicros: e.amountMicros, reason: e.reason, ...carried(e.money) };
    case 'rejected':
      return {
        ...next,
        status: 'rejected',
        amountMicros: 0n,
        reason: e.reason,
        ...carried(e.money && NO_MONEY),
      };
    case 'reversed':
      return { ...next, status: 'reversed', amountMicros: 0n, reason: null, ...carried(e.money && NO_MONEY) };
    case 'adjusted':
      // A dispute's adjustment is money of its own (its entry's amount); the conversion keeps
      // its status and the amount its approval carries, which a reversal takes back.
      return next;
  }
}

/** A conversion rebuilt from its entries, oldest first; undefined for none. */
export function fold(entries: readonly EntryFacts[]): ConversionState | undefined {
  return entries.reduce<ConversionState | undefined>((s, e) => evolve(s, e), undefined);
}
