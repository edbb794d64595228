import type { EntryType } from '../conversion/conversion.types';

/**
 * One leg of a ledger entry's double entry: `amountMicros` > 0 is a debit, < 0 a credit. The
 * legs of one entry sum to zero per currency (the database refuses anything else).
 */
export interface Posting {
  postingId: string;
  entryId: string;
  account: string;
  currency: string;
  amountMicros: bigint;
}

/** What the advertiser (through the partner reporting it) owes us. */
export const advertiserReceivable = (partnerId: string) => `advertiser_receivable:${partnerId}`;
/** What we owe the publisher. */
export const publisherPayable = (publisherId: string) => `publisher_payable:${publisherId}`;
/** What we keep. */
export const PLATFORM_REVENUE = 'platform_revenue';

export interface PostingInput {
  entryId: string;
  entryType: EntryType;
  partnerId: string;
  publisherId: string | null;
  currency: string;
  /** The entry's revenue, signed as `amount_micros` is (a reversal's is what it takes back). */
  amountMicros: bigint;
  payoutMicros: bigint;
}

/**
 * The postings of one entry (MONEY.md): an approval or release debits the advertiser's
 * receivable by the revenue and credits the publisher's payable by the payout and platform
 * revenue by the margin; a reversal posts the mirror image; an adjustment posts its difference
 * the same way (signed); pending, held and rejected entries post nothing. Legs of zero are left
 * out. Ids are the entry's id and the leg's number, so a replay writes the same postings.
 */
export function postingsFor(e: PostingInput): Posting[] {
  let sign: bigint;
  switch (e.entryType) {
    case 'approved':
    case 'released':
    case 'adjusted':
      sign = 1n;
      break;
    case 'reversed':
      sign = -1n;
      break;
    case 'pending':
    case 'held':
    case 'rejected':
      return [];
  }
  const payout = e.publisherId === null ? 0n : e.payoutMicros;
  const legs: [string, bigint][] = [
    [advertiserReceivable(e.partnerId), sign * e.amountMicros],
    [e.publisherId === null ? '' : publisherPayable(e.publisherId), -sign * payout],
    [PLATFORM_REVENUE, -sign * (e.amountMicros - payout)],
  ];
  return legs
    .filter(([account, amount]) => account !== '' && amount !== 0n)
    .map(([account, amountMicros], i) => ({
      postingId: `${e.entryId}:${i + 1}`,
      entryId: e.entryId,
      account,
      currency: e.currency,
      amountMicros,
    }));
}
