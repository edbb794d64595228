import type { PartnerPreset } from './partner-preset';

// RedTrack's postback `postback?clickid=&sum=&type=&status=`: `clickid` is RedTrack's click id,
// `sum` the payout, `type` the conversion type (event), `status` approved | pending | declined
// (absent: "other"), and `rdtk_event_id` the id RedTrack dedupes repeated events by; there is
// no transaction id otherwise.
// https://help.redtrack.io/knowledgebase/kb/basic-setup-9785/tracking-conversions/tracking-event-types
// https://docs.redtrack.io/knowledgebase/tracking-event-types/
// https://help.redtrack.io/knowledgebase/kb/basic-setup-9785/supported-dynamic-parameters/%d1%81lick-id-parameter/
// Partner postback macro {ref_id}:
// https://help.redtrack.io/knowledgebase/kb/basic-setup-9785/publisher-management/publisher-panel-settings-for-publisher/
export const redtrack: PartnerPreset = {
  name: 'redtrack',
  title: 'RedTrack',
  kind: 'tracker',
  docs: [
    'https://help.redtrack.io/knowledgebase/kb/basic-setup-9785/tracking-conversions/tracking-event-types',
    'https://docs.redtrack.io/knowledgebase/tracking-event-types/',
    'https://help.redtrack.io/knowledgebase/kb/basic-setup-9785/supported-dynamic-parameters/%d1%81lick-id-parameter/',
    'https://help.redtrack.io/knowledgebase/kb/basic-setup-9785/publisher-management/publisher-panel-settings-for-publisher/',
  ],
  keyMap: {
    click_id: ['clickid'],
    transaction_id: ['rdtk_event_id'],
    payout: ['sum'],
    event: ['type'],
  },
  statusMap: { approved: 'approved', pending: 'pending', declined: 'rejected', other: 'approved' },
  format: {
    defaultStatus: 'approved',
    missingTransactionId: 'per_click',
  },
  macroSyntax: '{macro}',
  template: [
    { field: 'click_id', param: 'clickid', macro: '{ref_id}' },
    { field: 'payout', param: 'sum', macro: '{payout}' },
  ],
  clickIdHint:
    "pass {click_id} in the ref_id parameter of the RedTrack campaign link (the offer's landing_url)",
  caveats: [
    "type is RedTrack's conversion type, case-sensitive: it must be one of the offer's goals (or the offer has the single goal default).",
    'Without rdtk_event_id, one conversion per click and goal: a later status changes it.',
  ],
  examples: [
    {
      source:
        'https://help.redtrack.io/knowledgebase/kb/basic-setup-9785/tracking-conversions/tracking-event-types',
      url: 'https://my.postback.com/postback?clickid=6888c6c36a77d44662342c40&type=Upsell',
      expect: {
        click_id: '6888c6c36a77d44662342c40',
        transaction_id: 'click:6888c6c36a77d44662342c40',
        status: 'approved',
        payout_micros: null,
        currency: null,
        event: 'Upsell',
      },
    },
    {
      source: 'https://docs.redtrack.io/knowledgebase/tracking-event-types/',
      url: 'https://my.postback.com/postback?clickid=6888c6c36a77d44662342c40&sum=3&status=pending',
      expect: {
        click_id: '6888c6c36a77d44662342c40',
        transaction_id: 'click:6888c6c36a77d44662342c40',
        status: 'pending',
        payout_micros: '3000000',
        currency: null,
      },
    },
  ],
};
