import { ApiError } from '../http/api-error';
import type { CreatePartnerDto, UpdatePartnerDto } from './admin.dto';
import {
  createFormatColumns,
  formatView,
  publicBaseUrl,
  toFormat,
  updateFormatColumns,
} from './partner-formats';

const create = (extra: Partial<CreatePartnerDto>): CreatePartnerDto =>
  ({ id: 'p1', name: 'P', auth: { mode: 'token', token: 'tok-0123456789' }, ...extra }) as CreatePartnerDto;

describe('partner formats in the admin API', () => {
  it('a preset fills key_map, status_map, format and the token parameter', () => {
    const c = createFormatColumns(create({ preset: 'affise' }), undefined, undefined);
    expect(c).toMatchObject({
      preset: 'affise',
      keyMap: { transaction_id: ['action_id'], payout: ['sum'] },
      statusMap: { '5': 'pending' },
      format: { defaultStatus: 'approved', missingTransactionId: 'per_click' },
      tokenParam: 'secure',
      lateAfterSeconds: null,
      retryAttempts: null,
    });
  });

  it('explicit key_map, status_map, format and token_param win over the preset', () => {
    const dto = create({
      preset: 'everflow',
      auth: { mode: 'token', token: 'tok-0123456789', token_param: 'key' },
      format: { decimal_comma: false, reversal: { flag_param: 'cb', flag_values: ['Y'] } },
      late_after_seconds: 7200,
      retry_attempts: 0,
    });
    const c = createFormatColumns(dto, { click_id: ['ef_id'] }, { void: 'rejected' });
    expect(c.keyMap).toMatchObject({ click_id: ['ef_id'], transaction_id: ['order_id'] });
    expect(c.statusMap).toEqual({ void: 'rejected' });
    expect(c.format).toMatchObject({
      decimalComma: false,
      defaultStatus: 'approved',
      reversal: { flagParam: 'cb', flagValues: ['y'] },
    });
    expect(c.tokenParam).toBe('key');
    expect(c).toMatchObject({ lateAfterSeconds: 7200, retryAttempts: 0 });
  });

  it('without a preset nothing is invented', () => {
    expect(createFormatColumns(create({}), undefined, undefined)).toEqual({
      preset: null,
      keyMap: null,
      statusMap: null,
      format: null,
      lateAfterSeconds: null,
      retryAttempts: null,
    });
  });

  it('a PATCH with a preset applies it again; without, format replaces the stored one', () => {
    expect(updateFormatColumns({ preset: 'binom' } as UpdatePartnerDto, undefined, undefined)).toMatchObject({
      preset: 'binom',
      keyMap: { click_id: ['cnv_id'] },
    });
    expect(
      updateFormatColumns(
        { format: { default_status: 'pending' } } as UpdatePartnerDto,
        undefined,
        undefined,
      ),
    ).toEqual({ format: { defaultStatus: 'pending' } });
    expect(
      updateFormatColumns(
        { format: null, late_after_seconds: null } as UpdatePartnerDto,
        undefined,
        undefined,
      ),
    ).toEqual({
      format: null,
      lateAfterSeconds: null,
    });
  });

  it('shows a format in the snake_case it accepts', () => {
    const f = toFormat({ missing_transaction_id: 'per_click', reversal: { negative_amount: true } });
    expect(formatView(f ?? null)).toEqual({
      default_status: null,
      missing_transaction_id: 'per_click',
      decimal_comma: false,
      reversal: { negative_amount: true, id_prefix: null, flag_param: null, flag_values: null },
      ignore_params: [],
    });
    expect(formatView(null)).toBeNull();
  });

  it('base_url: the request, or a clean override', () => {
    const req = { protocol: 'http', host: '127.0.0.1:3000' };
    expect(publicBaseUrl(req)).toBe('http://127.0.0.1:3000');
    expect(publicBaseUrl(req, 'https://pb.example.com/in/')).toBe('https://pb.example.com/in');
    for (const bad of ['ftp://x', 'not a url', 'https://u:p@x.example', 'https://x.example/?a=1'])
      expect(() => publicBaseUrl(req, bad)).toThrow(ApiError);
  });
});
