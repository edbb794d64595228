import type { PartnerPreset } from './partner-preset';

// Keitaro's incoming postback: `subid` (its click id), `tid` (a transaction id, for rebills),
// `payout` or `revenue`, `status` lead | sale | rejected | rebill, *sale when absent*, `currency`
// in any case (usd, eur).
// https://docs.keitaro.io/en/conversions/postback.html
// S2S postback placeholders ({external_id}, {status}, {revenue}, {tid}):
// https://docs.keitaro.io/en/campaigns-and-streams/s2s-postback-placeholders.html
export const keitaro: PartnerPreset = {
  name: 'keitaro',
  title: 'Keitaro',
  kind: 'tracker',
  docs: [
    'https://docs.keitaro.io/en/conversions/postback.html',
    'https://docs.keitaro.io/en/campaigns-and-streams/s2s-postback-placeholders.html',
  ],
  keyMap: {
    click_id: ['subid'],
    transaction_id: ['tid'],
    payout: ['payout', 'revenue'],
  },
  statusMap: { lead: 'pending', sale: 'approved', rejected: 'rejected', rebill: 'approved' },
  format: {
    defaultStatus: 'approved',
    missingTransactionId: 'per_click',
  },
  macroSyntax: '{macro}',
  template: [
    { field: 'click_id', param: 'subid', macro: '{external_id}' },
    { field: 'status', param: 'status', macro: '{status}' },
    { field: 'payout', param: 'payout', macro: '{revenue}' },
    { field: 'transaction_id', param: 'tid', macro: '{tid}' },
  ],
  clickIdHint:
    "Keitaro sends back our click id as the traffic source's external id: pass {click_id} in the parameter the Keitaro traffic source maps to External ID",
  caveats: [
    "Keitaro's sale -> rejected (a cancelled sale) is refused here as an invalid status change: send reversed (or map a code to reversed) to take back an approved conversion.",
    'sale_status=, lead_status=, rejected_status= in the URL are not read: put the codes in status_map.',
    'A postback without tid is the conversion of its click; a tid makes a separate one (a rebill).',
  ],
  examples: [
    {
      source: 'https://docs.keitaro.io/en/conversions/postback.html',
      url: 'https://example.com/key/postback?subid=21nke8a1f0k7q&status=lead&payout=10&currency=EUR',
      expect: {
        click_id: '21nke8a1f0k7q',
        transaction_id: 'click:21nke8a1f0k7q',
        status: 'pending',
        payout_micros: '10000000',
        currency: 'EUR',
      },
    },
    {
      source: 'https://docs.keitaro.io/en/conversions/postback.html',
      url: 'https://example.com/key/postback?subid=21nke8a1f0k7q&payout=10&currency=eur',
      expect: {
        click_id: '21nke8a1f0k7q',
        transaction_id: 'click:21nke8a1f0k7q',
        status: 'approved',
        payout_micros: '10000000',
        currency: 'EUR',
      },
    },
  ],
};
