import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { APIEmbed } from 'discord-api-types/v10';
import { discordLength, MESSAGE_LIMITS, type MessageBody } from '../../src/discord/limits.js';
import { fitMessage } from '../../src/discord/fit.js';
import { messageProblems } from '../../src/offline/limits.js';

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;
const FAMILY = '👨‍👩‍👧‍👦'; // one grapheme: 7 code points, 11 UTF-16 units
const field = (name: string, value: string) => ({ name, value });
const fields = (n: number, size: number) =>
  Array.from({ length: n }, (_, i) => field(`f${i}`, 'v'.repeat(size)));
const button = (id: string, label = id) => ({ type: 2, style: 1, custom_id: id, label });
const row = (...ids: string[]) => ({ type: 1, components: ids.map((id) => button(id)) });
const body = (b: Record<string, unknown>) => b as MessageBody;

describe('messageProblems: what Discord refuses', () => {
  it.each([
    ['content over 2000', { content: 'x'.repeat(2001) }, 'content: Must be 2000 or fewer'],
    [
      'more than 10 embeds',
      { embeds: Array.from({ length: 11 }, () => ({ title: 't' })) },
      'embeds: Must be 10 or fewer',
    ],
    ['a title over 256', { embeds: [{ title: 't'.repeat(257) }] }, 'embeds[0].title: Must be 256'],
    [
      'a description over 4096',
      { embeds: [{ description: 'd'.repeat(4097) }] },
      'embeds[0].description: Must be 4096',
    ],
    ['more than 25 fields', { embeds: [{ fields: fields(26, 1) }] }, 'embeds[0].fields: Must be 25 or fewer'],
    [
      'a field name over 256',
      { embeds: [{ fields: [field('n'.repeat(257), 'v')] }] },
      'fields[0].name: Must be 256',
    ],
    [
      'a field value over 1024',
      { embeds: [{ fields: [field('n', 'v'.repeat(1025))] }] },
      'fields[0].value: Must be 1024',
    ],
    [
      'an empty field name',
      { embeds: [{ fields: [field('', 'v')] }] },
      'fields[0].name: This field is required',
    ],
    [
      'a blank field value',
      { embeds: [{ fields: [field('n', '  \n ')] }] },
      'fields[0].value: This field is required',
    ],
    [
      'a footer over 2048',
      { embeds: [{ footer: { text: 'f'.repeat(2049) } }] },
      'embeds[0].footer.text: Must be 2048',
    ],
    [
      'an author name over 256',
      { embeds: [{ author: { name: 'a'.repeat(257) } }] },
      'embeds[0].author.name: Must be 256',
    ],
    [
      'over 6000 characters across the embeds',
      { embeds: [{ description: 'd'.repeat(4000) }, { description: 'd'.repeat(2001) }] },
      'embeds: Embed size exceeds maximum size of 6000 (this is 6001)',
    ],
    [
      'more than 5 action rows',
      { components: ['a', 'b', 'c', 'd', 'e', 'f'].map((id) => row(id)) },
      'components: Must be 5 or fewer',
    ],
    [
      '6 buttons in a row',
      { components: [row('a', 'b', 'c', 'd', 'e', 'f')] },
      'components[0].components: Must be between 1 and 5',
    ],
    [
      'a custom id over 100',
      { components: [row('i'.repeat(101))] },
      'components[0].components[0].custom_id: Must be 100',
    ],
    [
      'a duplicate custom id',
      { components: [row('a'), row('b', 'a')] },
      'components[1].components[1].custom_id: Component custom id cannot be duplicated',
    ],
    [
      'a button label over 80',
      { components: [{ type: 1, components: [button('a', 'l'.repeat(81))] }] },
      'label: Must be 80',
    ],
    [
      'more than 25 choices',
      { choices: Array.from({ length: 26 }, (_, i) => ({ name: `c${i}`, value: `c${i}` })) },
      'choices: Must be 25 or fewer',
    ],
    [
      'a choice name over 100',
      { choices: [{ name: 'n'.repeat(101), value: 'v' }] },
      'choices[0].name: Must be 100',
    ],
    [
      'an empty choice name',
      { choices: [{ name: '', value: 'v' }] },
      'choices[0].name: This field is required',
    ],
    [
      'a string choice value over 100',
      { choices: [{ name: 'n', value: 'v'.repeat(101) }] },
      'choices[0].value: Must be 100',
    ],
  ])('refuses %s', (_, b, problem) => {
    expect(messageProblems(body(b)).join('\n')).toContain(problem);
  });

  it('accepts a message exactly at the limits', () => {
    const atLimits = body({
      content: 'c'.repeat(2000),
      embeds: [
        {
          title: 't'.repeat(256),
          description: 'd'.repeat(4096),
          fields: fields(1, 1024),
          footer: { text: 'f'.repeat(620) },
        },
      ],
      components: [
        row('a', 'b', 'c', 'd', 'e'),
        row('f'),
        row('g'),
        row('h'),
        { type: 1, components: [button('i'.repeat(100), 'l'.repeat(80))] },
      ],
      choices: Array.from({ length: 25 }, (_, i) => ({
        name: `${i}`.padEnd(100, 'n'),
        value: `${i}`.padEnd(100, 'v'),
      })),
    });
    expect(messageProblems(atLimits)).toEqual([]);
  });

  it("counts code points as Discord's API does, not JavaScript's UTF-16 length", () => {
    const emoji = '😀'.repeat(1024); // 2048 UTF-16 units, 1024 characters for Discord
    expect(emoji.length).toBe(2048);
    expect(discordLength(emoji)).toBe(1024);
    expect(messageProblems(body({ embeds: [{ fields: [field('n', emoji)] }] }))).toEqual([]);
    expect(messageProblems(body({ embeds: [{ fields: [field('n', `${emoji}😀`)] }] }))).toHaveLength(1);
    expect(messageProblems(body({ content: 'é'.repeat(2000) }))).toEqual([]);
  });

  it('ignores leading and trailing whitespace, which Discord trims', () => {
    expect(
      messageProblems(body({ embeds: [{ fields: [field('n', ` ${'v'.repeat(1024)}\n\n `)] }] })),
    ).toEqual([]);
  });
});

/** Every limit of the result holds, its text is well-formed UTF-16, and the input was not touched. */
function expectFits(input: MessageBody): MessageBody {
  const before = structuredClone(input);
  const fitted = fitMessage(input);
  expect(messageProblems(fitted)).toEqual([]);
  expect(JSON.stringify(fitted)).not.toMatch(LONE_SURROGATE);
  expect(input).toEqual(before);
  return fitted;
}

describe('fitMessage', () => {
  it('leaves a message that fits unchanged', () => {
    const ok = body({
      content: 'hi',
      embeds: [{ title: 'T', fields: fields(3, 10) }],
      components: [row('a')],
    });
    expect(fitMessage(ok)).toEqual(ok);
  });

  it('keeps the first fields of 25 fields of 1024 characters and says how many were not shown', () => {
    const fitted = expectFits(body({ embeds: [{ title: 'History', fields: fields(25, 1024) }] }));
    const out = fitted.embeds?.[0]?.fields ?? [];
    const shown = out.slice(0, -1);
    expect(shown).toEqual(fields(25, 1024).slice(0, shown.length));
    expect(out.at(-1)).toEqual({
      name: 'Not shown',
      value: `${25 - shown.length} more fields did not fit in this message.`,
    });
  });

  it('drops fields before touching a 4096-character description', () => {
    const description = 'd'.repeat(4096);
    const fitted = expectFits(body({ embeds: [{ description, fields: fields(25, 1024) }] }));
    expect(fitted.embeds?.[0]?.description).toBe(description);
    expect(fitted.embeds?.[0]?.fields?.at(-1)?.name).toBe('Not shown');
  });

  it('keeps 24 of more than 25 short fields and counts the rest', () => {
    const fitted = expectFits(body({ embeds: [{ fields: fields(40, 5) }] }));
    expect(fitted.embeds?.[0]?.fields).toHaveLength(25);
    expect(fitted.embeds?.[0]?.fields?.at(-1)?.value).toBe('16 more fields did not fit in this message.');
  });

  it('shortens the longest texts when ten embeds of 4096 characters cannot fit otherwise', () => {
    const embeds: APIEmbed[] = Array.from({ length: 10 }, (_, i) => ({
      title: `E${i}`,
      description: 'x'.repeat(4096),
    }));
    const fitted = expectFits(body({ embeds }));
    expect(fitted.embeds?.map((e) => e.title)).toEqual(embeds.map((e) => e.title));
    const kept = fitted.embeds?.map((e) => e.description?.length ?? 0) ?? [];
    expect(fitted.embeds?.every((e) => e.description?.endsWith('…'))).toBe(true);
    expect(Math.max(...kept) - Math.min(...kept)).toBeLessThanOrEqual(1);
  });

  it('cuts text over a limit with … between characters: emoji and ZWJ sequences stay whole', () => {
    const fitted = expectFits(
      body({ content: FAMILY.repeat(400), embeds: [{ description: '😀'.repeat(5000) }] }),
    );
    expect(fitted.content?.endsWith('…')).toBe(true);
    expect(fitted.content?.slice(0, -1)).toMatch(new RegExp(`^(${FAMILY})+$`, 'u'));
    expect(discordLength(fitted.content ?? '')).toBeLessThanOrEqual(MESSAGE_LIMITS.content);
    expect(discordLength(fitted.embeds?.[0]?.description ?? '')).toBe(MESSAGE_LIMITS.embedDescription);
  });

  it('does not leave a backslash that would escape the …', () => {
    const fitted = expectFits(body({ content: `${'a'.repeat(1998)}\\*bold*` }));
    expect(fitted.content).toBe(`${'a'.repeat(1998)}…`);
  });

  it('fills empty field names and values, which Discord refuses, with a zero-width space', () => {
    const fitted = expectFits(body({ embeds: [{ fields: [field('', ' ')] }] }));
    expect(fitted.embeds?.[0]?.fields).toEqual([field('\u200b', '\u200b')]);
  });

  it('cuts button labels to 80 characters', () => {
    const fitted = expectFits(
      body({ components: [{ type: 1, components: [button('a', 'l'.repeat(200))] }] }),
    );
    expect(JSON.stringify(fitted)).toContain(`"label":"${'l'.repeat(79)}…"`);
  });

  it('keeps 25 choices, cuts long names, names unnamed ones by value, and drops values too long to send', () => {
    const choices = [
      { name: 'v'.repeat(150), value: 'long name' },
      { name: '', value: 'unnamed' },
      { name: 'too long a value', value: 'x'.repeat(101) },
      ...Array.from({ length: 30 }, (_, i) => ({ name: `c${i}`, value: i })),
    ];
    const fitted = expectFits(body({ choices }));
    expect(fitted.choices).toHaveLength(25);
    expect(fitted.choices?.[0]?.name).toBe(`${'v'.repeat(99)}…`);
    expect(fitted.choices?.[1]).toEqual({ name: 'unnamed', value: 'unnamed' });
    expect(fitted.choices?.some((c) => c.name === 'too long a value')).toBe(false);
  });

  it.each([
    ['duplicate custom ids', { components: [row('a'), row('a')] }, /Duplicate custom_id a/],
    ['a custom id over 100', { components: [row('i'.repeat(101))] }, /custom_id/],
    [
      '6 action rows',
      { components: ['a', 'b', 'c', 'd', 'e', 'f'].map((id) => row(id)) },
      /at most 5 action rows/,
    ],
    ['6 buttons in a row', { components: [row('a', 'b', 'c', 'd', 'e', 'f')] }, /at most 5/],
    ['11 embeds', { embeds: Array.from({ length: 11 }, () => ({ title: 't' })) }, /at most 10 embeds/],
  ])('throws on %s: a bug in the code, not data to cut', (_, b, message) => {
    expect(() => fitMessage(body(b))).toThrow(message);
  });

  it('makes any mix of long, multi-byte and blank texts fit', () => {
    const text = fc.oneof(
      fc.string({ unit: 'grapheme', maxLength: 3000 }),
      fc.constantFrom('', '   ', FAMILY.repeat(700), '\\'.repeat(5000), 'é'.repeat(4097), '😀'.repeat(2100)),
    );
    const embed = fc.record({
      title: text,
      description: text,
      footer: fc.record({ text }),
      author: fc.record({ name: text }),
      fields: fc.array(fc.record({ name: text, value: text }), { maxLength: 40 }),
    });
    fc.assert(
      fc.property(fc.record({ content: text, embeds: fc.array(embed, { maxLength: 10 }) }), (b) => {
        expect(messageProblems(fitMessage(body(b)))).toEqual([]);
      }),
      { numRuns: 60 },
    );
  });
});
