import type { PartnerPreset } from './partner-preset';

// Prosper202's global postback `tracking202/static/gpb.php?amount=&subid=`: `subid` (or `sid`)
// is its click id, `amount` the payout, newer versions add `t202txid`; `cid` is its campaign id.
// There is no status and usually no transaction id.
// https://github.com/tracking202/prosper202/blob/master/tracking202/static/gpb.php
// https://prosper202.readme.io/docs/subids
export const prosper202: PartnerPreset = {
  name: 'prosper202',
  title: 'Prosper202',
  kind: 'tracker',
  docs: [
    'https://github.com/tracking202/prosper202/blob/master/tracking202/static/gpb.php',
    'https://prosper202.readme.io/docs/subids',
  ],
  keyMap: {
    click_id: ['subid', 'sid'],
    transaction_id: ['t202txid'],
    payout: ['amount'],
  },
  statusMap: {},
  format: {
    defaultStatus: 'approved',
    missingTransactionId: 'per_click',
    // Prosper202's campaign id; by default cid would be read as a click id.
    ignoreParams: ['cid'],
  },
  macroSyntax: '[[macro]]',
  template: [
    { field: 'click_id', param: 'subid', macro: null },
    { field: 'payout', param: 'amount', macro: null },
  ],
  clickIdHint:
    'pass {click_id} in a tracking parameter of the Prosper202 link (c1..c4) and return that token as subid',
  caveats: [
    'No status parameter: every postback is an approval.',
    'One conversion per click and goal unless t202txid is sent.',
    'cid in a Prosper202 postback is its campaign id and is ignored.',
  ],
  examples: [
    {
      source: 'https://github.com/tracking202/prosper202/blob/master/tracking202/static/gpb.php',
      url: 'http://track.example.com/tracking202/static/gpb.php?amount=4.25&subid=1503353',
      expect: {
        click_id: '1503353',
        transaction_id: 'click:1503353',
        status: 'approved',
        payout_micros: '4250000',
        currency: null,
      },
    },
    {
      source: 'https://github.com/tracking202/prosper202/blob/master/tracking202/static/gpb.php',
      url: 'http://track.example.com/tracking202/static/gpb.php?amount=4.25&cid=12&subid=1503353',
      expect: {
        click_id: '1503353',
        transaction_id: 'click:1503353',
        status: 'approved',
        payout_micros: '4250000',
        currency: null,
      },
    },
  ],
};
