import type { PartnerPreset } from './partner-preset';

// Voluum's postback `postback?cid=&payout=&txid=&currency=&et=`: `cid` is Voluum's click id (the
// only required one), `txid` an optional transaction id, `et` the custom conversion (event)
// type; there is no status.
// https://doc.voluum.com/en/tracking_conversions_postback.html
// https://doc.voluum.com/en/submitting_postback_url.html
// Traffic source postback token {externalid}: https://doc.voluum.com/en/traffic_source_postback_url.html
export const voluum: PartnerPreset = {
  name: 'voluum',
  title: 'Voluum',
  kind: 'tracker',
  docs: [
    'https://doc.voluum.com/en/tracking_conversions_postback.html',
    'https://doc.voluum.com/en/submitting_postback_url.html',
    'https://doc.voluum.com/en/traffic_source_postback_url.html',
  ],
  keyMap: {
    click_id: ['cid'],
    transaction_id: ['txid'],
    payout: ['payout'],
    event: ['et'],
  },
  statusMap: {},
  format: {
    defaultStatus: 'approved',
    missingTransactionId: 'per_click',
  },
  macroSyntax: '{macro}',
  template: [
    { field: 'click_id', param: 'cid', macro: '{externalid}' },
    { field: 'payout', param: 'payout', macro: '{payout}' },
  ],
  clickIdHint:
    "Voluum sends back our click id as the traffic source's external id: pass {click_id} in the parameter the Voluum traffic source maps to External ID",
  caveats: [
    'No status parameter: every postback is an approval.',
    'Without txid, one conversion per click and goal.',
  ],
  examples: [
    {
      source: 'https://doc.voluum.com/en/tracking_conversions_postback.html',
      url: 'https://your_Voluum_domain_name.com/postback?cid=c384EFV6JHQODRN70575OK6UG5',
      expect: {
        click_id: 'c384EFV6JHQODRN70575OK6UG5',
        transaction_id: 'click:c384EFV6JHQODRN70575OK6UG5',
        status: 'approved',
        payout_micros: null,
        currency: null,
      },
    },
    {
      source: 'https://doc.voluum.com/en/tracking_conversions_postback.html',
      url: 'https://track.radantus.com/postback?cid=c384EFV6JHQODRN70575OK6UG5&payout=1.5&txid=TX-9&currency=usd',
      expect: {
        click_id: 'c384EFV6JHQODRN70575OK6UG5',
        transaction_id: 'TX-9',
        status: 'approved',
        payout_micros: '1500000',
        currency: 'USD',
      },
    },
  ],
};
