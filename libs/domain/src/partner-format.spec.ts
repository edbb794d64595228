import { normalizePostbackParams } from './key-dictionary';
import {
  applyPartnerFormat,
  checkPartnerFormat,
  type PartnerFormat,
  transactionIdForClick,
} from './partner-format';

const apply = (fields: Record<string, string>, format: PartnerFormat, raw: Record<string, string> = fields) =>
  applyPartnerFormat(fields, raw, format);

describe('applyPartnerFormat', () => {
  it('changes nothing without a format', () => {
    expect(apply({ click_id: 'c', payout: '1,5' }, {})).toEqual({
      ok: true,
      fields: { click_id: 'c', payout: '1,5' },
      applied: [],
    });
  });

  it('reads a decimal comma only when the partner writes amounts that way', () => {
    expect(apply({ payout: '12,34' }, { decimalComma: true })).toMatchObject({
      ok: true,
      fields: { payout: '12.34' },
    });
    expect(apply({ payout: '12.34' }, { decimalComma: true })).toMatchObject({ fields: { payout: '12.34' } });
    for (const bad of ['1.234,56', '1,2,3', ',5', '5,'])
      expect(apply({ payout: bad }, { decimalComma: true })).toMatchObject({ ok: false, field: 'payout' });
  });

  it('a negative amount is a reversal of the transaction, kept without its sign', () => {
    expect(
      apply(
        { transaction_id: 't1', status: 'approved', payout: '-2,50' },
        { decimalComma: true, reversal: { negativeAmount: true } },
      ),
    ).toEqual({
      ok: true,
      fields: { transaction_id: 't1', status: 'approved', payout: '2.50' },
      status: 'reversed',
      applied: ['negative_amount'],
    });
    // Not configured: the sign stays and money parsing refuses it.
    expect(apply({ payout: '-1' }, {})).toMatchObject({ fields: { payout: '-1' } });
  });

  it('an id prefix marks a reversal of the original transaction id', () => {
    expect(apply({ transaction_id: 'r-123' }, { reversal: { idPrefix: 'r-' } })).toMatchObject({
      fields: { transaction_id: '123' },
      status: 'reversed',
    });
    expect(apply({ transaction_id: 'x-123' }, { reversal: { idPrefix: 'r-' } })).not.toHaveProperty('status');
    expect(apply({ transaction_id: 'r-' }, { reversal: { idPrefix: 'r-' } })).toMatchObject({
      ok: false,
      field: 'transaction_id',
    });
  });

  it('a flag parameter marks a reversal, in any case', () => {
    const f: PartnerFormat = { reversal: { flagParam: 'is_chargeback' } };
    expect(apply({ transaction_id: 't' }, f, { IS_CHARGEBACK: 'True' })).toMatchObject({
      status: 'reversed',
    });
    expect(apply({ transaction_id: 't' }, f, { is_chargeback: '0' })).not.toHaveProperty('status');
    expect(
      apply({ transaction_id: 't' }, { reversal: { flagParam: 'cb', flagValues: ['Y'] } }, { cb: 'y' }),
    ).toMatchObject({ status: 'reversed' });
  });

  it('no transaction id: one conversion per click, or refused', () => {
    expect(apply({ click_id: 'c1' }, { missingTransactionId: 'per_click' })).toMatchObject({
      fields: { transaction_id: 'click:c1' },
      applied: ['per_click'],
    });
    expect(apply({ click_id: 'c1' }, {})).toMatchObject({ fields: { click_id: 'c1' } });
    expect(apply({ click_id: 'c1' }, {})).not.toHaveProperty('fields.transaction_id');
    const long = 'x'.repeat(128);
    const id = transactionIdForClick(long);
    expect(id.length).toBeLessThanOrEqual(128);
    expect(id).toBe(transactionIdForClick(long));
    expect(id).not.toBe(transactionIdForClick(`${long}y`));
  });

  it('the default status applies only when none is sent; a reversal marker wins over the status', () => {
    expect(apply({}, { defaultStatus: 'pending' })).toMatchObject({ status: 'pending' });
    expect(apply({ status: 'approved' }, { defaultStatus: 'pending' })).not.toHaveProperty('status');
    expect(
      apply({ payout: '-1' }, { defaultStatus: 'approved', reversal: { negativeAmount: true } }),
    ).toMatchObject({ status: 'reversed' });
  });
});

describe('checkPartnerFormat', () => {
  it('names the first bad field', () => {
    expect(checkPartnerFormat({ defaultStatus: 'paid' as never })?.[0]).toBe('default_status');
    expect(checkPartnerFormat({ missingTransactionId: 'guess' as never })?.[0]).toBe(
      'missing_transaction_id',
    );
    expect(checkPartnerFormat({ reversal: { idPrefix: 'r -' } })?.[0]).toBe('reversal.id_prefix');
    expect(checkPartnerFormat({ reversal: { flagParam: 'a b' } })?.[0]).toBe('reversal.flag_param');
    expect(checkPartnerFormat({ reversal: { flagValues: [] } })?.[0]).toBe('reversal.flag_values');
    expect(checkPartnerFormat({ ignoreParams: [''] })?.[0]).toBe('ignore_params');
    expect(checkPartnerFormat({ defaultStatus: 'approved', reversal: { idPrefix: 'r-' } })).toBeUndefined();
  });
});

describe('key dictionary: ignored names', () => {
  it('keeps an ignored name for audit, even one a default alias claims', () => {
    expect(normalizePostbackParams({ cid: '12', subid: 'c' }, { ignore: ['CID'] })).toEqual({
      ok: true,
      fields: { click_id: 'c' },
      extra: { cid: '12' },
    });
  });

  it('a name the partner claims as an alias is read, not ignored', () => {
    expect(
      normalizePostbackParams({ cid: 'c' }, { aliases: { click_id: ['cid'] }, ignore: ['cid'] }),
    ).toMatchObject({ fields: { click_id: 'c' } });
  });
});
