import type { PartnerPreset } from './partner-preset';

// TUNE (HasOffers) server postback `aff_lsr`: `transaction_id` is TUNE's session (click) id,
// `offer_id` TUNE's own offer, `adv_sub` the advertiser's order id, `amount` the sale amount,
// `security_token` the advertiser security token; status approved | pending | rejected.
// https://support.tune.com/hc/en-us/articles/4413247665431-Receiving-Conversions-via-Postback-URL
// https://support.tune.com/hc/en-us/articles/4413247716631-Passing-a-Postback-ID-to-an-Advertiser
// Postback parameters (adv_sub, amount, goal_id, security_token, status values), as TUNE's
// postback connector documents them:
// https://docs.tealium.com/server-side-connectors/tune-postback-tracking-connector
export const tune: PartnerPreset = {
  name: 'tune',
  title: 'TUNE (HasOffers)',
  kind: 'network',
  docs: [
    'https://support.tune.com/hc/en-us/articles/4413247665431-Receiving-Conversions-via-Postback-URL',
    'https://support.tune.com/hc/en-us/articles/4413247716631-Passing-a-Postback-ID-to-an-Advertiser',
    'https://docs.tealium.com/server-side-connectors/tune-postback-tracking-connector',
  ],
  keyMap: {
    click_id: ['transaction_id'],
    transaction_id: ['adv_sub'],
    payout: ['amount'],
    event: ['goal_id'],
  },
  statusMap: { approved: 'approved', pending: 'pending', rejected: 'rejected' },
  tokenParam: 'security_token',
  format: {
    defaultStatus: 'approved',
    missingTransactionId: 'per_click',
    ignoreParams: ['offer_id'],
  },
  macroSyntax: '{macro}',
  template: [
    { field: 'click_id', param: 'transaction_id', macro: '{aff_sub}' },
    { field: 'transaction_id', param: 'adv_sub', macro: '{transaction_id}' },
    { field: 'payout', param: 'amount', macro: '{payout}' },
  ],
  clickIdHint:
    "put {click_id} in aff_sub of the TUNE tracking link (the offer's landing_url): …&aff_sub={click_id}",
  caveats: [
    "TUNE's transaction_id is its click (session) id: here it carries our click id.",
    "offer_id in a TUNE postback is TUNE's offer and is ignored; the click's offer applies.",
  ],
  examples: [
    {
      source:
        'https://support.tune.com/hc/en-us/articles/4413247665431-Receiving-Conversions-via-Postback-URL',
      url: 'http://examplenetwork.go2cloud.org/aff_lsr?offer_id=26&transaction_id=1027c887059b47bc69c699f45466b9',
      expect: {
        click_id: '1027c887059b47bc69c699f45466b9',
        transaction_id: 'click:1027c887059b47bc69c699f45466b9',
        status: 'approved',
        payout_micros: null,
        currency: null,
      },
    },
    {
      source: 'https://docs.tealium.com/server-side-connectors/tune-postback-tracking-connector',
      url: 'http://examplenetwork.go2cloud.org/aff_lsr?offer_id=26&transaction_id=1027c887059b47bc69c699f45466b9&adv_sub=SALE-77&amount=19.99&status=pending',
      expect: {
        click_id: '1027c887059b47bc69c699f45466b9',
        transaction_id: 'SALE-77',
        status: 'pending',
        payout_micros: '19990000',
        currency: null,
      },
    },
  ],
};
