import type { PartnerPreset } from './partner-preset';

// Scaleo's advertiser postbacks `/track/conv` and `/track/conv-change`: `click_id`, `token` (the
// advertiser security token), `goal_id`, `conv_status` pending | approved | rejected | hold,
// `adv_order_id`; `revenue` is the network's revenue, `payout` the affiliate's and `amount` the
// sale amount.
// http://help.scaleo.io/article/484-ultimate-postbacks-add-change-conversion
// https://docs.scaleo.io/brand-api/api-reference/manager-tracking-conversions/create-conversion-by-click-id
// Affiliate postback macros ({aff_click_id}, {payout}): https://help.scaleo.io/article/384-affiliate-parameters
export const scaleo: PartnerPreset = {
  name: 'scaleo',
  title: 'Scaleo',
  kind: 'network',
  docs: [
    'http://help.scaleo.io/article/484-ultimate-postbacks-add-change-conversion',
    'https://docs.scaleo.io/brand-api/api-reference/manager-tracking-conversions/create-conversion-by-click-id',
    'https://help.scaleo.io/article/384-affiliate-parameters',
  ],
  keyMap: {
    click_id: ['click_id'],
    transaction_id: ['adv_order_id'],
    payout: ['revenue'],
    status: ['conv_status'],
  },
  statusMap: {
    pending: 'pending',
    approved: 'approved',
    rejected: 'rejected',
    hold: 'pending',
    trash: 'rejected',
  },
  tokenParam: 'token',
  format: {
    defaultStatus: 'approved',
    missingTransactionId: 'per_click',
    // The affiliate's payout and the sale amount are not what we earn.
    ignoreParams: ['payout', 'amount'],
  },
  macroSyntax: '{macro}',
  template: [
    { field: 'click_id', param: 'click_id', macro: '{aff_click_id}' },
    { field: 'payout', param: 'revenue', macro: '{payout}' },
  ],
  clickIdHint:
    "put {click_id} in aff_click_id of the Scaleo tracking link (the offer's landing_url): …&aff_click_id={click_id}",
  caveats: [
    'A status change (conv-change) names the conversion by click_id and goal_id, as the first postback did.',
    'payout and amount are kept for audit; the payout is revenue.',
  ],
  examples: [
    {
      source: 'http://help.scaleo.io/article/484-ultimate-postbacks-add-change-conversion',
      url: 'https://workspace.scaletrk.com/track/conv?click_id=974efaa86716e372442ab44c8a3f563b&token=344387eb&goal_id=1673&conv_status=pending&aff_param1=AP12&firstname=John&lastname=Smith&sub_id1=SID1',
      expect: {
        click_id: '974efaa86716e372442ab44c8a3f563b',
        transaction_id: 'click:974efaa86716e372442ab44c8a3f563b',
        status: 'pending',
        payout_micros: null,
        currency: null,
        event: '1673',
      },
    },
    {
      source: 'http://help.scaleo.io/article/484-ultimate-postbacks-add-change-conversion',
      url: 'https://workspace.scaletrk.com/track/conv-change?click_id=974efaa86716e372442ab44c8a3f563b&token=344387eb&goal_id=1673&conv_status=approved',
      expect: {
        click_id: '974efaa86716e372442ab44c8a3f563b',
        transaction_id: 'click:974efaa86716e372442ab44c8a3f563b',
        status: 'approved',
        payout_micros: null,
        currency: null,
        event: '1673',
      },
    },
  ],
};
