import type { PartnerPreset } from './partner-preset';

// CAKE's server postback `p.ashx?o=&e=&f=pb&r=&t=&p=`: `r` the request (session) id that ties
// the conversion to the click, `t` the advertiser's transaction id, `p` the price (revenue),
// `e` the event, `o` CAKE's offer; no status.
// https://support.getcake.com/support/solutions/articles/13000103758-how-to-integrate-with-cake
// https://support.getcake.com/support/solutions/articles/5000546124-conversion-pixel-variables
// https://support.getcake.com/support/solutions/articles/5000546059-how-to-implement-server-to-server-tracking-using-a-postback-url
// Affiliate pixel tokens (#s2#, #leadid#, #price#):
// https://support.getcake.com/support/solutions/articles/5000546376-affiliate-pixels-and-tracking
export const cake: PartnerPreset = {
  name: 'cake',
  title: 'CAKE',
  kind: 'network',
  docs: [
    'https://support.getcake.com/support/solutions/articles/13000103758-how-to-integrate-with-cake',
    'https://support.getcake.com/support/solutions/articles/5000546124-conversion-pixel-variables',
    'https://support.getcake.com/support/solutions/articles/5000546059-how-to-implement-server-to-server-tracking-using-a-postback-url',
    'https://support.getcake.com/support/solutions/articles/5000546376-affiliate-pixels-and-tracking',
  ],
  keyMap: {
    click_id: ['r', 'reqid'],
    transaction_id: ['t'],
    payout: ['p'],
    event: ['e'],
  },
  statusMap: {},
  format: {
    defaultStatus: 'approved',
    missingTransactionId: 'per_click',
  },
  macroSyntax: '#macro#',
  template: [
    { field: 'click_id', param: 'r', macro: '#s2#' },
    { field: 'transaction_id', param: 't', macro: '#leadid#' },
    { field: 'payout', param: 'p', macro: '#price#' },
  ],
  clickIdHint:
    "put {click_id} in s2 of the CAKE tracking link (the offer's landing_url): …&s2={click_id}; CAKE returns it as #s2#",
  caveats: [
    'No status parameter: every postback is an approval.',
    "e is CAKE's event id: it must be one of the offer's goals (or the offer has the single goal default).",
  ],
  examples: [
    {
      source: 'https://support.getcake.com/support/solutions/articles/13000103758-how-to-integrate-with-cake',
      url: 'https://demo.cakemarketing.com/p.ashx?o=100&e=1&f=pb&r=34588',
      expect: {
        click_id: '34588',
        transaction_id: 'click:34588',
        status: 'approved',
        payout_micros: null,
        currency: null,
        event: '1',
      },
    },
    {
      source: 'https://support.getcake.com/support/solutions/articles/5000546124-conversion-pixel-variables',
      url: 'https://demo.cakemarketing.com/p.ashx?o=100&e=1&f=pb&r=34588&t=ORD-5521&p=3.50',
      expect: {
        click_id: '34588',
        transaction_id: 'ORD-5521',
        status: 'approved',
        payout_micros: '3500000',
        currency: null,
        event: '1',
      },
    },
  ],
};
