import type { PartnerPreset } from './partner-preset';

// Trackier's advertiser postback: `click_id`, `txn_id` (the advertiser's order or lead id),
// `revenue` (dynamic payout), `sale_amount` (sale value, kept for audit), `goal_value`,
// `currency`, `status` approved | pending | rejected | cancelled.
// https://help.trackier.com/en/articles/8107277-key-parameters-for-setting-up-advertiser-postback
// Publisher postback macros ({p1}, {txn_id}, {payout}):
// https://help.trackier.com/support/solutions/articles/31000154963-publisher-tracking-link-macro-and-postback-parameter-
export const trackier: PartnerPreset = {
  name: 'trackier',
  title: 'Trackier',
  kind: 'network',
  docs: [
    'https://help.trackier.com/en/articles/8107277-key-parameters-for-setting-up-advertiser-postback',
    'https://help.trackier.com/support/solutions/articles/31000155578-parameters-for-advertiser-postback',
    'https://help.trackier.com/support/solutions/articles/31000154963-publisher-tracking-link-macro-and-postback-parameter-',
  ],
  keyMap: {
    click_id: ['click_id'],
    transaction_id: ['txn_id'],
    payout: ['revenue'],
    event: ['goal_value'],
  },
  // A cancellation comes after the approval: our reversal.
  statusMap: { approved: 'approved', pending: 'pending', rejected: 'rejected', cancelled: 'reversed' },
  format: {
    defaultStatus: 'approved',
    missingTransactionId: 'per_click',
    // goal_id is Trackier's internal goal id; the goal travels in goal_value.
    ignoreParams: ['goal_id'],
  },
  macroSyntax: '{macro}',
  template: [
    { field: 'click_id', param: 'click_id', macro: '{p1}' },
    { field: 'transaction_id', param: 'txn_id', macro: '{txn_id}' },
    { field: 'payout', param: 'revenue', macro: '{payout}' },
  ],
  clickIdHint:
    "put {click_id} in p1 of the Trackier tracking link (the offer's landing_url): …&p1={click_id}",
  caveats: [
    'cancelled reverses an approved conversion; a pending one is cancelled with rejected.',
    'sale_amount is kept for audit; the payout is revenue.',
  ],
  examples: [
    {
      source:
        'https://help.trackier.com/support/solutions/articles/31000155578-parameters-for-advertiser-postback',
      url: 'https://demo.vnative.co/acquisition?click_id=6571a3f1e4b0c2d9a8f7e6d5&txn_id=ORD-1&revenue=2.00&sale_amount=40&currency=USD&status=pending',
      expect: {
        click_id: '6571a3f1e4b0c2d9a8f7e6d5',
        transaction_id: 'ORD-1',
        status: 'pending',
        payout_micros: '2000000',
        currency: 'USD',
      },
    },
    {
      source:
        'https://help.trackier.com/en/articles/8107277-key-parameters-for-setting-up-advertiser-postback',
      url: 'https://demo.vnative.co/acquisition?click_id=6571a3f1e4b0c2d9a8f7e6d5&txn_id=ORD-1&status=approved',
      expect: {
        click_id: '6571a3f1e4b0c2d9a8f7e6d5',
        transaction_id: 'ORD-1',
        status: 'approved',
        payout_micros: null,
        currency: null,
      },
    },
  ],
};
