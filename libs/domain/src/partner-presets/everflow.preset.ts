import type { PartnerPreset } from './partner-preset';

// Everflow's advertiser (S2S) postback: `transaction_id` is Everflow's *click* id, the order id
// travels in `order_id`, the sale amount in `amount` (written with a decimal comma too: "12,34"
// is 12.34), and there is no status parameter.
// https://helpdesk.everflow.io/customer/understanding-tracking-with-server-to-server-postbacks
// https://helpdesk.everflow.io/customer/accessing-editing-s2s-postback-urls
// https://developers.everflow.io/sdk/conversion-tracking (order_id, event_id, verification_token)
// Partner postback macros ({sub1}, {transaction_id}, {payout_amount}):
// https://helpdesk.everflow.io/en/articles/6173403-a-guide-to-parameters-and-macros
export const everflow: PartnerPreset = {
  name: 'everflow',
  title: 'Everflow',
  kind: 'network',
  docs: [
    'https://helpdesk.everflow.io/customer/understanding-tracking-with-server-to-server-postbacks',
    'https://helpdesk.everflow.io/customer/accessing-editing-s2s-postback-urls',
    'https://developers.everflow.io/sdk/conversion-tracking',
    'https://helpdesk.everflow.io/en/articles/6173403-a-guide-to-parameters-and-macros',
  ],
  keyMap: {
    click_id: ['transaction_id'],
    transaction_id: ['order_id'],
    payout: ['amount'],
    event: ['event_id'],
  },
  statusMap: {},
  tokenParam: 'verification_token',
  format: {
    defaultStatus: 'approved',
    missingTransactionId: 'per_click',
    decimalComma: true,
    // Everflow's own offer id, never ours.
    ignoreParams: ['offer_id'],
  },
  macroSyntax: '{macro}',
  template: [
    { field: 'click_id', param: 'transaction_id', macro: '{sub1}' },
    { field: 'transaction_id', param: 'order_id', macro: '{transaction_id}' },
    { field: 'payout', param: 'amount', macro: '{payout_amount}' },
  ],
  clickIdHint:
    "put {click_id} in sub1 of the Everflow tracking link (the offer's landing_url): …&sub1={click_id}",
  caveats: [
    "Everflow's transaction_id is a click id: here it carries our click id, not an order id.",
    'Without order_id a postback stands for the click: one conversion per click and goal.',
    'No status parameter: every postback is an approval. Reversals are not sent by Everflow postbacks.',
  ],
  examples: [
    {
      source: 'https://helpdesk.everflow.io/customer/understanding-tracking-with-server-to-server-postbacks',
      url: 'https://www.tracking-domain.com/?nid=1234&transaction_id=0b4d7f5c2e8a4b6f9a1c3e5d7f9b1a2c&amount=12,34',
      expect: {
        click_id: '0b4d7f5c2e8a4b6f9a1c3e5d7f9b1a2c',
        transaction_id: 'click:0b4d7f5c2e8a4b6f9a1c3e5d7f9b1a2c',
        status: 'approved',
        payout_micros: '12340000',
        currency: null,
      },
    },
    {
      source: 'https://developers.everflow.io/sdk/conversion-tracking',
      url: 'https://www.tracking-domain.com/?nid=1234&transaction_id=0b4d7f5c2e8a4b6f9a1c3e5d7f9b1a2c&order_id=ORD-1001&amount=99.90&adv1=spring',
      expect: {
        click_id: '0b4d7f5c2e8a4b6f9a1c3e5d7f9b1a2c',
        transaction_id: 'ORD-1001',
        status: 'approved',
        payout_micros: '99900000',
        currency: null,
      },
    },
  ],
};
