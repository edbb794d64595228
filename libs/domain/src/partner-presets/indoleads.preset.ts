import type { PartnerPreset } from './partner-preset';

// Indoleads' advertiser postback `acquisition?click_id=&security_token=&rate=&currency=&txn_id=`:
// `rate` (or `revenue`) the commission, `sale_amount` the order amount, `txn_id` the order id
// (optional, against duplicates), `status` pending (the default) | approved | declined.
// https://indoleads.atlassian.net/wiki/pages/viewpage.action?pageId=523717
// https://indoleads.atlassian.net/wiki/pages/diffpages.action?originalId=13106504&pageId=406814727
// https://indoleads.com/knowledge-base/server-to-server-postback-guide/
// Publisher postback macros ({p1}, {conversion_id}, {payout}, {currency}):
// https://indoleads.atlassian.net/wiki/pages/diffpages.action?originalId=338755611&pageId=439091204
export const indoleads: PartnerPreset = {
  name: 'indoleads',
  title: 'Indoleads',
  kind: 'network',
  docs: [
    'https://indoleads.atlassian.net/wiki/pages/viewpage.action?pageId=523717',
    'https://indoleads.atlassian.net/wiki/pages/diffpages.action?originalId=13106504&pageId=406814727',
    'https://indoleads.com/knowledge-base/server-to-server-postback-guide/',
    'https://indoleads.atlassian.net/wiki/pages/diffpages.action?originalId=338755611&pageId=439091204',
  ],
  keyMap: {
    click_id: ['click_id'],
    transaction_id: ['txn_id'],
    payout: ['rate', 'revenue'],
    currency: ['currency'],
    status: ['status'],
  },
  statusMap: { pending: 'pending', approved: 'approved', declined: 'rejected' },
  tokenParam: 'security_token',
  format: {
    defaultStatus: 'pending',
    missingTransactionId: 'per_click',
  },
  macroSyntax: '{macro}',
  template: [
    { field: 'click_id', param: 'click_id', macro: '{p1}' },
    { field: 'transaction_id', param: 'txn_id', macro: '{conversion_id}' },
    { field: 'payout', param: 'rate', macro: '{payout}' },
    { field: 'currency', param: 'currency', macro: '{currency}' },
  ],
  clickIdHint:
    "put {click_id} in p1 of the Indoleads tracking link (the offer's landing_url): …&p1={click_id}",
  caveats: [
    'A postback without status is pending, as on Indoleads: send status=approved to approve it.',
    'sale_amount is kept for audit; the payout is rate (or revenue).',
  ],
  examples: [
    {
      source: 'https://indoleads.atlassian.net/wiki/pages/viewpage.action?pageId=523717',
      url: 'https://app.indoleads.com/acquisition?click_id=5e055584-5570-436a-bd04-3707e7aacf4d&security_token=38fa07d1-b423-4093-bc6e-bca4b057ff06&rate=2.5&currency=USD&txn_id=CJE45543457',
      expect: {
        click_id: '5e055584-5570-436a-bd04-3707e7aacf4d',
        transaction_id: 'CJE45543457',
        status: 'pending',
        payout_micros: '2500000',
        currency: 'USD',
      },
    },
    {
      source:
        'https://indoleads.atlassian.net/wiki/pages/diffpages.action?originalId=13106504&pageId=406814727',
      url: 'https://app.indoleads.com/acquisition?click_id=5e055584-5570-436a-bd04-3707e7aacf4d&security_token=38fa07d1-b423-4093-bc6e-bca4b057ff06&txn_id=CJE45543457&status=approved',
      expect: {
        click_id: '5e055584-5570-436a-bd04-3707e7aacf4d',
        transaction_id: 'CJE45543457',
        status: 'approved',
        payout_micros: null,
        currency: null,
      },
    },
  ],
};
