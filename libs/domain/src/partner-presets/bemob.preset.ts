import type { PartnerPreset } from './partner-preset';

// BeMob's postback `postback?cid=&payout=&txid=&status=`: `cid` is BeMob's click id, `txid` an
// optional transaction id, `status` the network's value, which BeMob itself passes on as
// new | confirm | decline | charge.
// https://docs.bemob.com/en/postback-settings-of-affiliate-network
// https://docs.bemob.com/en/monetizer-settings (cid, payout, txid, status)
// https://help.bemob.com/docs/using-postback-statuses
// https://docs.bemob.com/en/postbacks-for-selected-statuses (new, confirm, decline, charge)
// Traffic source postback token {externalId}: https://docs.bemob.com/en/postback-settings-of-traffic-source
export const bemob: PartnerPreset = {
  name: 'bemob',
  title: 'BeMob',
  kind: 'tracker',
  docs: [
    'https://docs.bemob.com/en/postback-settings-of-affiliate-network',
    'https://docs.bemob.com/en/monetizer-settings',
    'https://help.bemob.com/docs/using-postback-statuses',
    'https://docs.bemob.com/en/postbacks-for-selected-statuses',
    'https://docs.bemob.com/en/postback-settings-of-traffic-source',
  ],
  keyMap: {
    click_id: ['cid'],
    transaction_id: ['txid'],
    payout: ['payout'],
    status: ['status'],
  },
  statusMap: {
    new: 'pending',
    confirm: 'approved',
    decline: 'rejected',
    charge: 'reversed',
    lead: 'pending',
    reject: 'rejected',
  },
  format: {
    defaultStatus: 'approved',
    missingTransactionId: 'per_click',
  },
  macroSyntax: '{macro}',
  template: [
    { field: 'click_id', param: 'cid', macro: '{externalId}' },
    { field: 'payout', param: 'payout', macro: '{payout}' },
    { field: 'status', param: 'status', macro: '{status}' },
  ],
  clickIdHint:
    "BeMob sends back our click id as the traffic source's external id: pass {click_id} in the parameter the BeMob traffic source maps to External ID",
  caveats: [
    'charge (chargeback) reverses an approved conversion.',
    'Without txid, one conversion per click and goal.',
  ],
  examples: [
    {
      source: 'https://docs.bemob.com/en/monetizer-settings',
      url: 'http://yourdomain.com/postback?cid=7a3bb0c9f6d2e1a4b5c6d7&payout=2.5&txid=M-77',
      expect: {
        click_id: '7a3bb0c9f6d2e1a4b5c6d7',
        transaction_id: 'M-77',
        status: 'approved',
        payout_micros: '2500000',
        currency: null,
      },
    },
    {
      source: 'https://help.bemob.com/docs/using-postback-statuses',
      url: 'http://xxxxx.yourdomain.com/postback?cid=7a3bb0c9f6d2e1a4b5c6d7&payout=2.5&status=new',
      expect: {
        click_id: '7a3bb0c9f6d2e1a4b5c6d7',
        transaction_id: 'click:7a3bb0c9f6d2e1a4b5c6d7',
        status: 'pending',
        payout_micros: '2500000',
        currency: null,
      },
    },
  ],
};
