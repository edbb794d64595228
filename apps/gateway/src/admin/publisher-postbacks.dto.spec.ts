import { ApiError } from '../http/api-error';
import { BodyValidationPipe } from '../http/validation.pipe';
import { PublisherPostbackDto } from './publisher-postbacks.dto';

const pipe = new BodyValidationPipe();
const validate = (legacy_hash: unknown) =>
  pipe.transform(
    { url: 'https://wall.example/pb?c={click_id}&uid={uid}&p={payout}', legacy_hash },
    { type: 'body', metatype: PublisherPostbackDto },
  );
/** The 400 the admin API would answer: field and message; undefined when the body is accepted. */
const refusal = (legacy_hash: unknown) => {
  try {
    validate(legacy_hash);
    return undefined;
  } catch (e) {
    if (!(e instanceof ApiError)) throw e;
    return { status: e.status, field: e.field, message: e.message };
  }
};
const secret = 'wall-secret-0123';

describe('legacy hash settings (PUT /v1/admin/publishers/:id/postback)', () => {
  it.each([
    { algorithm: 'md5', param: 'hash', fields: ['click_id', 'payout'], secret },
    { algorithm: 'sha1', param: 'hash', fields: ['uid', 'reward'], separator: ':', secret },
    { algorithm: 'hmac-sha1', param: 'sig', fields: ['click_id'], separator: '|', secret },
    { algorithm: 'hmac-sha256', param: 'sig', fields: ['revenue_share'], secret },
    { algorithm: 'hmac-sha1-url', param: 'sig', secret },
    { algorithm: 'hmac-sha1-url', param: 'sig', fields: [], separator: '', secret },
  ])('accepts $algorithm with what it needs', (h) => {
    expect(refusal(h)).toBeUndefined();
  });

  it.each([
    [{ algorithm: 'sha512', param: 'h', fields: ['click_id'], secret }, 'algorithm must be one of md5, sha1'],
    [{ algorithm: 'sha1', param: 'h', secret }, 'fields is required for sha1'],
    [{ algorithm: 'md5', param: 'h', fields: [], secret }, 'fields is required for md5'],
    [{ algorithm: 'hmac-sha1', param: 'h', fields: ['clickid'], secret }, 'unknown macro "clickid"'],
    [
      { algorithm: 'hmac-sha1-url', param: 'sig', fields: ['click_id'], secret },
      'hmac-sha1-url signs the whole URL; give no fields',
    ],
    [
      { algorithm: 'hmac-sha1-url', param: 'sig', separator: ':', secret },
      'hmac-sha1-url signs the whole URL; give no separator',
    ],
    [{ algorithm: 'md5', param: 'h', fields: ['uid'], separator: '123456789', secret }, '0-8 characters'],
    [{ algorithm: 'md5', param: 'h', fields: ['uid'], separator: 7, secret }, '0-8 characters'],
    [{ algorithm: 'md5', param: 'h', fields: ['uid'], separator: '\n', secret }, 'control characters'],
  ])('refuses %j: 400 naming the field (%s)', (h, message) => {
    const r = refusal(h);
    expect(r).toMatchObject({ status: 400, field: expect.stringMatching(/^legacy_hash\./) });
    expect(r?.message).toContain(message);
  });
});
