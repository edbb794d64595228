import type { ClickRecorded } from './events';
import { decodeEvent } from './schemas';

/** click.recorded v1 with the wall's optional user id: still version 1, absent as before. */
describe('click.recorded schema: user_id', () => {
  const click = (payload: Partial<ClickRecorded['payload']> = {}): ClickRecorded => ({
    id: '01JEX0000000000000000000AB',
    type: 'click.recorded',
    schema_version: 1,
    occurred_at: '2026-12-05T10:00:00.000Z',
    recorded_at: '2026-12-05T10:00:00.000Z',
    key: '01JEX0000000000000000000AB',
    correlation_id: '01JEX0000000000000000000AB',
    payload: {
      click_id: '01JEX0000000000000000000AB',
      offer_id: 'o',
      publisher_id: 'p',
      sub1: null,
      sub2: null,
      sub3: null,
      sub4: null,
      sub5: null,
      placement: null,
      geo: null,
      device: null,
      ip: null,
      user_agent: null,
      clicked_at: '2026-12-05T10:00:00.000Z',
      ...payload,
    },
  });
  const decoded = (c: ClickRecorded) => decodeEvent(JSON.stringify(c), 'click.recorded').ok;

  it('accepts a click without it (as published before), with null, and with 1 to 128 printable characters', () => {
    expect(decoded(click())).toBe(true);
    expect(decoded(click({ user_id: null }))).toBe(true);
    expect(decoded(click({ user_id: 'u' }))).toBe(true);
    expect(decoded(click({ user_id: 'wall user 8cc877ee-af19 ✓' }))).toBe(true);
    expect(decoded(click({ user_id: 'x'.repeat(128) }))).toBe(true);
  });

  it('refuses an empty one, one longer than 128 characters, and control characters', () => {
    expect(decoded(click({ user_id: '' }))).toBe(false);
    expect(decoded(click({ user_id: 'x'.repeat(129) }))).toBe(false);
    expect(decoded(click({ user_id: 'a\nb' }))).toBe(false);
    expect(decoded(click({ user_id: 'a\u0085b' }))).toBe(false);
  });
});
