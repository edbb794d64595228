import type { PartnerPreset } from './partner-preset';

// Affise's advertiser postback: `clickid`/`click_id`, `action_id` (the advertiser's conversion id),
// `sum`, `goal`, `status` 1 approved | 2 pending | 3 declined | 5 hold, `secure` the advertiser's
// hash password, `comment`.
// https://help-center.affise.com/en/articles/6475468-affise-postback-url-parameters
// https://affise.zendesk.com/hc/en-us/articles/115002634845-Affise-Affise (example and macros)
// https://help-center.affise.com/en/articles/6564528-cross-postback-link-macros
export const affise: PartnerPreset = {
  name: 'affise',
  title: 'Affise',
  kind: 'network',
  docs: [
    'https://help-center.affise.com/en/articles/6475468-affise-postback-url-parameters',
    'https://affise.zendesk.com/hc/en-us/articles/115002634845-Affise-Affise',
    'https://help-center.affise.com/en/articles/6564528-cross-postback-link-macros',
  ],
  keyMap: {
    click_id: ['clickid', 'click_id'],
    transaction_id: ['action_id'],
    payout: ['sum'],
    event: ['goal'],
    reason: ['comment'],
  },
  // 5 is Affise's hold: still waiting for the advertiser, not a reversal.
  statusMap: { '1': 'approved', '2': 'pending', '3': 'rejected', '5': 'pending' },
  tokenParam: 'secure',
  format: {
    defaultStatus: 'approved',
    missingTransactionId: 'per_click',
  },
  macroSyntax: '{macro}',
  template: [
    { field: 'click_id', param: 'clickid', macro: '{sub1}' },
    { field: 'transaction_id', param: 'action_id', macro: '{transactionid}' },
    { field: 'payout', param: 'sum', macro: '{sum}' },
    { field: 'status', param: 'status', macro: '{status}' },
    { field: 'event', param: 'goal', macro: '{goal}' },
    { field: 'currency', param: 'currency', macro: '{currency}' },
  ],
  clickIdHint:
    "put {click_id} in sub1 of the Affise tracking link (the offer's landing_url): …&sub1={click_id}",
  caveats: [
    'Status 5 (hold) is pending here; only 1 approves.',
    "goal is Affise's goal value: it must be one of the offer's goals (or the offer has the single goal default).",
  ],
  examples: [
    {
      source: 'https://affise.zendesk.com/hc/en-us/articles/115002634845-Affise-Affise',
      url: 'http://offers.admin.affise.com/postback?clickid=5e0ae21e8a4d9c0001c3e3b1&action_id=A-1001&status=2',
      expect: {
        click_id: '5e0ae21e8a4d9c0001c3e3b1',
        transaction_id: 'A-1001',
        status: 'pending',
        payout_micros: null,
        currency: null,
      },
    },
    {
      source: 'https://help-center.affise.com/en/articles/6475468-affise-postback-url-parameters',
      url: 'http://offers.admin.affise.com/postback?clickid=5e0ae21e8a4d9c0001c3e3b1&action_id=A-1001&status=1&sum=2.5&currency=usd',
      expect: {
        click_id: '5e0ae21e8a4d9c0001c3e3b1',
        transaction_id: 'A-1001',
        status: 'approved',
        payout_micros: '2500000',
        currency: 'USD',
      },
    },
  ],
};
