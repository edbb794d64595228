import type { PartnerPreset } from './partner-preset';

// Binom's postback `click.php?cnv_id=&payout=&cnv_status=`: `cnv_id` is Binom's click id,
// `cnv_status` any text, `cnv_currency`; there is no transaction id (one conversion per click).
// https://docs.binom.org/postback-url.php
// https://docs.binom.org/payout-tracking-v2.php (statuses such as Hold)
// Traffic source postback tokens ({externalid}, {payout}, {cnv_status}, {cnv_currency}):
// https://docs.binom.org/conv-to-source-v2.php
export const binom: PartnerPreset = {
  name: 'binom',
  title: 'Binom',
  kind: 'tracker',
  docs: [
    'https://docs.binom.org/postback-url.php',
    'https://docs.binom.org/payout-tracking-v2.php',
    'https://docs.binom.org/conv-to-source-v2.php',
  ],
  keyMap: {
    click_id: ['cnv_id'],
    status: ['cnv_status'],
    currency: ['cnv_currency'],
    payout: ['payout'],
  },
  statusMap: {
    lead: 'pending',
    hold: 'pending',
    sale: 'approved',
    approve: 'approved',
    reject: 'rejected',
    trash: 'rejected',
  },
  format: {
    defaultStatus: 'approved',
    missingTransactionId: 'per_click',
  },
  macroSyntax: '{macro}',
  template: [
    { field: 'click_id', param: 'cnv_id', macro: '{externalid}' },
    { field: 'payout', param: 'payout', macro: '{payout}' },
    { field: 'status', param: 'cnv_status', macro: '{cnv_status}' },
    { field: 'currency', param: 'cnv_currency', macro: '{cnv_currency}' },
  ],
  clickIdHint:
    "Binom sends back our click id as the traffic source's external id: pass {click_id} in the parameter the Binom traffic source maps to External ID",
  caveats: [
    'cnv_status is free text in Binom: codes other than lead, hold, sale, approve(d), reject(ed), trash need status_map.',
    'No transaction id: one conversion per click and goal; a later cnv_status changes it.',
  ],
  examples: [
    {
      source: 'https://docs.binom.org/postback-url.php',
      url: 'https://binom.example.com/click.php?cnv_id=81e60haa86o0b7&payout=5&cnv_status=Hold',
      expect: {
        click_id: '81e60haa86o0b7',
        transaction_id: 'click:81e60haa86o0b7',
        status: 'pending',
        payout_micros: '5000000',
        currency: null,
      },
    },
    {
      source: 'https://docs.binom.org/postback-url.php',
      url: 'https://binom.example.com/click.php?cnv_id=81e60haa86o0b7&payout=5&cnv_status=approve&cnv_currency=USD',
      expect: {
        click_id: '81e60haa86o0b7',
        transaction_id: 'click:81e60haa86o0b7',
        status: 'approved',
        payout_micros: '5000000',
        currency: 'USD',
      },
    },
  ],
};
