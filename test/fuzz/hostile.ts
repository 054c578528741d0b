import fc from 'fast-check';

/** Inputs people (and attackers) actually type, mixed with random text of every shape. */
export const HOSTILE = [
  '{"$ne":null}',
  '{"$gt":""}',
  '$gt',
  '$where',
  '__proto__',
  'constructor',
  'prototype',
  'a.b',
  'toString',
  '\u0000',
  'abc\u0000def',
  '\u200b',
  '1\u200b2',
  '\ufeff100',
  'x'.repeat(10_000),
  '🔥🔥🔥',
  '１２３',
  '**bold** __u__ `code`',
  '@everyone',
  '<@123456789012345678>',
  '<@&123456789012345678>',
  '"quoted"',
  "'; DROP TABLE users; --",
  '../../etc/passwd',
  'NaN',
  'Infinity',
  '-0',
  '1e3',
  '0x10',
  ' ',
  '',
];

export const hostileString = (): fc.Arbitrary<string> =>
  fc.oneof(
    fc.constantFrom(...HOSTILE),
    fc.string({ maxLength: 50 }),
    fc.string({ unit: 'grapheme', maxLength: 30 }),
    fc.string({ unit: 'binary', maxLength: 30 }),
    fc.string({ maxLength: 2000 }),
    fc.integer().map(String),
    fc.double().map(String),
    fc.json(),
  );
