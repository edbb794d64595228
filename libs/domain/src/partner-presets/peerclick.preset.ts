import type { PartnerPreset } from './partner-preset';

// PeerClick's postback `pstb.peerclick.com/postback?cid=&payout=&status=&txid=&currency=`: `cid`
// is PeerClick's click id (required), the rest optional; `conversion_id` and `paramN` are free
// custom values.
// https://help-center.peerclick.com/en/articles/10512589
// https://help.peerclick.com/docs/postback-url-secure-postback-url
// Traffic source postback token {external_id}: https://help.peerclick.com/docs/traffic-source-postback-url
export const peerclick: PartnerPreset = {
  name: 'peerclick',
  title: 'PeerClick',
  kind: 'tracker',
  docs: [
    'https://help-center.peerclick.com/en/articles/10512589',
    'https://help.peerclick.com/docs/postback-url-secure-postback-url',
    'https://help.peerclick.com/docs/traffic-source-postback-url',
  ],
  keyMap: {
    click_id: ['cid'],
    transaction_id: ['txid'],
    payout: ['payout'],
    status: ['status'],
    currency: ['currency'],
  },
  statusMap: { lead: 'pending', sale: 'approved' },
  format: {
    defaultStatus: 'approved',
    missingTransactionId: 'per_click',
    // A free custom value in PeerClick; by default we would read it as a transaction id.
    ignoreParams: ['conversion_id'],
  },
  macroSyntax: '{macro}',
  template: [
    { field: 'click_id', param: 'cid', macro: '{external_id}' },
    { field: 'payout', param: 'payout', macro: '{payout}' },
  ],
  clickIdHint:
    "PeerClick sends back our click id as the traffic source's external id: pass {click_id} in the parameter the PeerClick traffic source maps to External ID",
  caveats: ['conversion_id is a custom value in PeerClick and is kept for audit only.'],
  examples: [
    {
      source: 'https://help-center.peerclick.com/en/articles/10512589',
      url: 'https://pstb.peerclick.com/postback?cid=0ce2b5e8ab3f4b1d9e7a&payout=1.25&status=pending&txid=P-1',
      expect: {
        click_id: '0ce2b5e8ab3f4b1d9e7a',
        transaction_id: 'P-1',
        status: 'pending',
        payout_micros: '1250000',
        currency: null,
      },
    },
    {
      source: 'https://help.peerclick.com/docs/postback-url-secure-postback-url',
      url: 'https://pstb.peerclick.com/postback?cid=0ce2b5e8ab3f4b1d9e7a&conversion_id=abc&currency=EUR',
      expect: {
        click_id: '0ce2b5e8ab3f4b1d9e7a',
        transaction_id: 'click:0ce2b5e8ab3f4b1d9e7a',
        status: 'approved',
        payout_micros: null,
        currency: 'EUR',
      },
    },
  ],
};
