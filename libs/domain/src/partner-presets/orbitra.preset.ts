import type { PartnerPreset } from './partner-preset';

// Orbitra's incoming postback `<key>/postback?subid=&status=&payout=&currency=&tid=`: `subid` is
// its click id (required), `status` lead | sale | rejected | trash or custom ones, `tid` a
// transaction id for repeated conversions on one click.
// https://github.com/fenjo26/Orbitra.link/wiki/Postbacks-and-conversions
// https://github.com/fenjo26/Orbitra.link/wiki/Guide-postbacks
export const orbitra: PartnerPreset = {
  name: 'orbitra',
  title: 'Orbitra',
  kind: 'tracker',
  docs: [
    'https://github.com/fenjo26/Orbitra.link/wiki/Postbacks-and-conversions',
    'https://github.com/fenjo26/Orbitra.link/wiki/Guide-postbacks',
  ],
  keyMap: {
    click_id: ['subid'],
    transaction_id: ['tid'],
    payout: ['payout'],
    status: ['status'],
    currency: ['currency'],
  },
  statusMap: { lead: 'pending', sale: 'approved', rejected: 'rejected', trash: 'rejected' },
  format: {
    // The docs make status optional without naming a default; as Keitaro, whose shape it
    // follows, an absent status is a sale.
    defaultStatus: 'approved',
    missingTransactionId: 'per_click',
  },
  macroSyntax: '{macro}',
  template: [
    { field: 'click_id', param: 'subid', macro: null },
    { field: 'status', param: 'status', macro: null },
    { field: 'payout', param: 'payout', macro: null },
    { field: 'transaction_id', param: 'tid', macro: null },
  ],
  clickIdHint: "pass {click_id} in the parameter Orbitra keeps as the traffic source's click id",
  caveats: [
    'Custom statuses (registration, deposit...) need status_map entries.',
    '<type>_status= mappings in the URL are not read: put the codes in status_map.',
  ],
  examples: [
    {
      source: 'https://github.com/fenjo26/Orbitra.link/wiki/Guide-postbacks',
      url: 'https://track.example.com/a7f3c91e/postback?subid=0bc4ba11-688d-4de0-98b4-8b0d6e81cef&status=sale&payout=30',
      expect: {
        click_id: '0bc4ba11-688d-4de0-98b4-8b0d6e81cef',
        transaction_id: 'click:0bc4ba11-688d-4de0-98b4-8b0d6e81cef',
        status: 'approved',
        payout_micros: '30000000',
        currency: null,
      },
    },
    {
      source: 'https://github.com/fenjo26/Orbitra.link/wiki/Postbacks-and-conversions',
      url: 'https://track.example.com/a7f3c91e/postback?subid=0bc4ba11-688d-4de0-98b4-8b0d6e81cef&status=lead',
      expect: {
        click_id: '0bc4ba11-688d-4de0-98b4-8b0d6e81cef',
        transaction_id: 'click:0bc4ba11-688d-4de0-98b4-8b0d6e81cef',
        status: 'pending',
        payout_micros: null,
        currency: null,
      },
    },
  ],
};
