import type { ClickRecorded } from './events';
import { assertValidEvent, decodeEvent, ISO_INSTANT } from './schemas';

const click = (
  payload: Partial<ClickRecorded['payload']> = {},
  envelope: Partial<ClickRecorded> = {},
): ClickRecorded => ({
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
  ...envelope,
});

/** click.recorded v1 with the wall's optional user id: still version 1, absent as before. */
describe('click.recorded schema: user_id', () => {
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

/** assertValidEvent (before publishing) checks date-times as Date#toISOString writes them. */
describe('assertValidEvent: date-times', () => {
  const at = (occurred_at: string) => click({}, { occurred_at });

  it('takes what toISOString writes, at its bounds too', () => {
    for (const d of [
      new Date(0),
      new Date('2026-02-28T23:59:59.999Z'),
      new Date('9999-12-31T23:59:59.999Z'),
    ]) {
      expect(ISO_INSTANT.test(d.toISOString())).toBe(true);
      expect(() => assertValidEvent(at(d.toISOString()))).not.toThrow();
    }
  });

  it.each([
    '2026-12-05T10:00:00Z',
    '2026-12-05T10:00:00.000+00:00',
    '2026-13-05T10:00:00.000Z',
    '2026-12-32T10:00:00.000Z',
    '2026-12-05T24:00:00.000Z',
    '2026-12-05T10:60:00.000Z',
    '2026-12-05 10:00:00.000Z',
    '+010000-01-01T00:00:00.000Z',
    'not a date',
  ])('refuses %j before it is published (consumers would take some of them: not our shape)', (bad) => {
    expect(() => assertValidEvent(at(bad))).toThrow(
      /refusing to publish invalid click.recorded: \/occurred_at/,
    );
  });
});
