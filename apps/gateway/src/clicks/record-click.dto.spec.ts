import { plainToInstance } from 'class-transformer';
import { validateSync } from 'class-validator';
import { RecordClickDto } from './record-click.dto';

/** The click's optional `uid` (the wall's user id): 1-128 printable characters, else a 400 naming it. */
describe('RecordClickDto: uid', () => {
  const errorsOf = (uid: unknown) =>
    validateSync(plainToInstance(RecordClickDto, { offer_id: 'o-1', publisher_id: 'p-1', uid })).map((e) => ({
      field: e.property,
      messages: Object.values(e.constraints ?? {}),
    }));

  it.each([
    ['absent', undefined],
    ['one character', 'u'],
    ['a UUID', '8cc877ee-af19-488d-b28d-216fb866b996'],
    ['spaces and non-ASCII letters', 'Jöran 42 ✓'],
    ['128 characters', 'x'.repeat(128)],
    ['128 astral characters (counted as characters, not UTF-16 units)', '😀'.repeat(128)],
  ])('accepts %s', (_name, uid) => expect(errorsOf(uid)).toEqual([]));

  it.each([
    ['empty', ''],
    ['129 characters', 'x'.repeat(129)],
    ['a newline', 'a\nb'],
    ['a NUL', 'a\u0000b'],
    ['a lone surrogate', 'a\ud83d'],
    ['a zero-width format character', 'a\u200bb'],
    ['a line separator', 'a\u2028b'],
    ['a number', 42],
    ['a list (a repeated query parameter)', ['a', 'b']],
  ])('refuses %s, naming uid', (_name, uid) =>
    expect(errorsOf(uid)).toEqual([
      {
        field: 'uid',
        messages: expect.arrayContaining(['uid must be 1-128 printable characters']) as string[],
      },
    ]),
  );
});
