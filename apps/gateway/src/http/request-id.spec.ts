import type { IncomingMessage } from 'node:http';
import { requestIdOf } from './request-id';

const withHeader = (v: string | string[] | undefined) =>
  ({ headers: v === undefined ? {} : { 'x-request-id': v } }) as unknown as IncomingMessage;
const ULID = /^[0-7][0-9A-HJKMNP-TV-Z]{25}$/;

describe('request id', () => {
  it("keeps the caller's well-formed id", () => {
    expect(requestIdOf(withHeader('case-42.a_B'))).toBe('case-42.a_B');
    expect(requestIdOf(withHeader('x'.repeat(64)))).toBe('x'.repeat(64));
  });

  it('mints a ULID for a missing, long, repeated or malformed one', () => {
    for (const v of [undefined, '', 'x'.repeat(65), 'has space', 'é', 'a\nb', ['a', 'b']])
      expect(requestIdOf(withHeader(v))).toMatch(ULID);
  });
});
