import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { cronExpression, duration, jsonObject, oneOf, url } from '../../src/config/kinds.js';
import {
  buildRegistry,
  registry,
  type KeyDefinition,
  type RegisteredKey,
} from '../../src/config/registry.js';
import { normaliseKey, parseValue, resolveKey, revalidate } from '../../src/config/validate.js';
import { UserError } from '../../src/base/errors.js';

const def = (k: string) => registry.get(k) as RegisteredKey;

/** The error message for an input, or fails the test if the input was accepted. */
function errorOf(key: string, input: string): string {
  try {
    parseValue(def(key), input);
  } catch (err) {
    expect(err).toBeInstanceOf(UserError);
    return (err as UserError).message;
  }
  throw new Error(`${key}=${JSON.stringify(input)} was accepted`);
}

describe('DAILY_EXPORT_TIME', () => {
  it.each(['18:00', '06:00', '22:00', '20:30'])('accepts %s without warnings', (v) => {
    expect(parseValue(def('DAILY_EXPORT_TIME'), v)).toEqual({ value: v, warnings: [] });
  });
  it.each(['09:00', '12:30', '17:59'])('accepts %s with a business-hours warning', (v) => {
    const { warnings } = parseValue(def('DAILY_EXPORT_TIME'), v);
    expect(warnings.join(' ')).toMatch(/business hours.*18:00-22:00/);
  });
  it.each(['6:00', '18:0', '1800', '18:00:00', '24:00', '18:60', 'ab:cd', '', ' 18 : 00'])(
    'refuses %j with the format message',
    (v) => expect(errorOf('DAILY_EXPORT_TIME', v)).toContain('Invalid format. Use HH:MM (e.g., 18:00)'),
  );
  it.each(['05:59', '00:00', '22:01', '23:00'])('refuses %s as outside 06:00-22:00', (v) => {
    expect(errorOf('DAILY_EXPORT_TIME', v)).toContain('between 06:00 and 22:00');
  });
});

describe('AI_CONFIDENCE_THRESHOLD', () => {
  it.each([
    ['0.85', 0.85],
    ['0.5', 0.5],
    ['.7', 0.7],
    ['0.95', 0.95],
  ])('accepts %s', (v, n) =>
    expect(parseValue(def('AI_CONFIDENCE_THRESHOLD'), v)).toEqual({ value: n, warnings: [] }),
  );
  it('warns above 0.95 about manual review', () => {
    expect(parseValue(def('AI_CONFIDENCE_THRESHOLD'), '0.99').warnings.join()).toMatch(/manual review/);
  });
  it('refuses below 0.5 as unreliable, showing the range it really allows', () => {
    const message = errorOf('AI_CONFIDENCE_THRESHOLD', '0.49');
    expect(message).toMatch(/at least 0\.5 \(below that .*unreliable predictions\); got 0\.49/);
    expect(message).toMatch(/Allowed: number 0\.5-1\.$/);
  });
  it.each(['1.01', '-0.1', '2'])('refuses %s as out of 0.5-1, echoing what was typed', (v) =>
    expect(errorOf('AI_CONFIDENCE_THRESHOLD', v)).toMatch(new RegExp(`0\\.5.*got ${v.replace('.', '\\.')}`)),
  );
  it.each(['abc', '0.8x', 'NaN', 'Infinity', '1e-1', '0,8'])('refuses %j as not a number', (v) =>
    expect(errorOf('AI_CONFIDENCE_THRESHOLD', v)).toMatch(/not a number/),
  );
});

describe('MAX_BATCH_SIZE', () => {
  it.each([
    ['100', 100],
    ['1000', 1000],
    [' 12 ', 12],
    ['10', 10],
  ])('accepts %j', (v, n) =>
    expect(parseValue(def('MAX_BATCH_SIZE'), v)).toEqual({ value: n, warnings: [] }),
  );
  it('warns below 10', () =>
    expect(parseValue(def('MAX_BATCH_SIZE'), '5').warnings.join()).toMatch(/small batch/));
  it('refuses above 1000 because of memory', () =>
    expect(errorOf('MAX_BATCH_SIZE', '1001')).toMatch(/at most 1000.*memory/));
  it.each(['0', '-5'])('refuses %s as not positive', (v) =>
    expect(errorOf('MAX_BATCH_SIZE', v)).toMatch(/at least 1/),
  );
  it.each(['12abc', '1.5', '1 2', '1e3', '0x10', '', '12.0', '١٢'])('refuses %j as not a whole number', (v) =>
    expect(errorOf('MAX_BATCH_SIZE', v)).toMatch(/not a whole number/),
  );
});

describe('IMMEDIATE_EXPORT_BUFFER', () => {
  it('accepts 0 and 120', () => {
    expect(parseValue(def('IMMEDIATE_EXPORT_BUFFER'), '0').value).toBe(0);
    expect(parseValue(def('IMMEDIATE_EXPORT_BUFFER'), '120').value).toBe(120);
  });
  it('refuses 121 and -1', () => {
    expect(errorOf('IMMEDIATE_EXPORT_BUFFER', '121')).toMatch(/at most 120/);
    expect(errorOf('IMMEDIATE_EXPORT_BUFFER', '-1')).toMatch(/at least 0/);
  });
});

describe('LOG_LEVEL, MAINTENANCE_MODE, SCHEDULE_TIMEZONE', () => {
  it('accepts log levels case-insensitively and refuses others', () => {
    expect(parseValue(def('LOG_LEVEL'), 'DEBUG').value).toBe('debug');
    expect(errorOf('LOG_LEVEL', 'verbose')).toMatch(/Use one of: error, warn, info, debug/);
  });
  it.each([
    ['true', true],
    ['ON', true],
    ['yes', true],
    ['1', true],
    ['false', false],
    ['off', false],
    ['No', false],
    ['0', false],
  ])('reads %s as %s', (v, b) => expect(parseValue(def('MAINTENANCE_MODE'), v).value).toBe(b));
  it('refuses maybe as a boolean', () =>
    expect(errorOf('MAINTENANCE_MODE', 'maybe')).toMatch(/not a boolean/));
  it.each([
    ['europe/paris', 'Europe/Paris'],
    ['Europe/Kyiv', 'Europe/Kyiv'],
    ['europe/kyiv', 'Europe/Kyiv'],
    ['Asia/Kolkata', 'Asia/Kolkata'],
    ['Europe/Kiev', 'Europe/Kiev'],
    ['America/Argentina/Buenos_Aires', 'America/Argentina/Buenos_Aires'],
    ['utc', 'UTC'],
    ['Etc/GMT+5', 'Etc/GMT+5'],
  ])('stores %s as the IANA name typed, in its canonical case (%s)', (typed, stored) =>
    expect(parseValue(def('SCHEDULE_TIMEZONE'), typed).value).toBe(stored),
  );
  it.each(['EST', 'CET', 'PST8PDT', 'est'])('refuses the abbreviation %s, pointing to a location', (v) =>
    expect(errorOf('SCHEDULE_TIMEZONE', v)).toMatch(/abbreviation or legacy alias.*America\/New_York/),
  );
  it.each(['Mars/Olympus', 'Europe/Pariss', '../../etc', 'PST'])('refuses %s as a time zone', (v) =>
    expect(errorOf('SCHEDULE_TIMEZONE', v)).toMatch(/time zone/),
  );
});

describe('key names', () => {
  it('normalises case and whitespace', () =>
    expect(resolveKey(registry, ' max_batch_size ').key).toBe('MAX_BATCH_SIZE'));
  it.each(['$where', 'a.b', '__proto__', 'MAX BATCH', '1ABC', '', 'A'.repeat(65), 'key\u0000'])(
    'refuses %j as an invalid name',
    (k) => expect(() => normaliseKey(k)).toThrow(/not a valid setting name/),
  );
  it('refuses an unknown key with a did-you-mean suggestion', () => {
    expect(() => resolveKey(registry, 'MAX_BATCH_SIZ')).toThrow(
      /Unknown setting MAX_BATCH_SIZ\. Did you mean MAX_BATCH_SIZE\?/,
    );
    expect(() => resolveKey(registry, 'constructor')).toThrow(/Unknown setting CONSTRUCTOR/);
  });
  it('refuses a registry declaration that is not UPPER_SNAKE', () => {
    expect(() => buildRegistry({ 'bad-name': def('MAX_BATCH_SIZE') as KeyDefinition })).toThrow(
      /UPPER_SNAKE/,
    );
  });
});

describe('kinds for keys teams add', () => {
  const mk = <T>(kind: ReturnType<typeof duration> | object, dflt: T) =>
    ({
      ...kind,
      key: 'X',
      category: 'system',
      description: 'x',
      default: dflt,
      sensitive: false,
      requiresRestart: false,
    }) as RegisteredKey;

  it('parses durations to milliseconds and formats them back', () => {
    const d = mk(duration(), 0);
    expect(parseValue(d, '90s').value).toBe(90_000);
    expect(parseValue(d, '5m').value).toBe(300_000);
    expect(parseValue(d, '2h').value).toBe(7_200_000);
    expect(parseValue(d, '1d').value).toBe(86_400_000);
    expect(d.format(90_000)).toBe('90s');
    expect(() => parseValue(d, '5 minutes')).toThrow(/not a duration/);
  });
  it('validates cron expressions', () => {
    const c = mk(cronExpression(), '0 18 * * *');
    expect(parseValue(c, '0  18 * * 1-5').value).toBe('0 18 * * 1-5');
    expect(() => parseValue(c, '61 * * * *')).toThrow(/not a valid cron expression/);
    expect(() => parseValue(c, 'every day')).toThrow(/not a valid cron expression/);
  });
  it('checks enums and URLs', () => {
    expect(parseValue(mk(oneOf(['a', 'b']), 'a'), 'B').value).toBe('b');
    expect(parseValue(mk(url(), 'https://x.io/'), 'https://example.com/hook').value).toBe(
      'https://example.com/hook',
    );
    expect(() => parseValue(mk(url(), 'https://x.io/'), 'javascript:alert(1)')).toThrow(
      /must use https: or http:/,
    );
    expect(() => parseValue(mk(url(), 'https://x.io/'), 'not a url')).toThrow(/not a URL/);
  });
  it('checks JSON objects against a zod schema, naming the bad field', () => {
    const j = mk(jsonObject(z.object({ retries: z.number().int().min(0), name: z.string() })), {
      retries: 1,
      name: 'a',
    });
    expect(parseValue(j, '{"retries":3,"name":"x"}').value).toEqual({ retries: 3, name: 'x' });
    expect(() => parseValue(j, '{"retries":-1,"name":"x"}')).toThrow(/retries:/);
    expect(() => parseValue(j, '{oops')).toThrow(/Not valid JSON/);
  });
  it('refuses values over 1000 characters', () => {
    expect(() => parseValue(def('LOG_LEVEL'), 'x'.repeat(1001))).toThrow(/too long.*at most 1000/);
  });
  it('shows the allowed range a key-specific rule really allows', () => {
    expect(def('DAILY_EXPORT_TIME').type).toBe('time HH:MM (24-hour) from 06:00 to 22:00');
    expect(errorOf('DAILY_EXPORT_TIME', '23:00')).toMatch(
      /Allowed: time HH:MM \(24-hour\) from 06:00 to 22:00/,
    );
  });
  it('reads an unset optional value (EXPORT_WEBHOOK_URL) as null and takes https URLs, plain http only to this machine', () => {
    const hook = def('EXPORT_WEBHOOK_URL');
    expect(revalidate(hook, null).value).toBeNull();
    expect(parseValue(hook, 'https://hooks.example.com/x').value).toBe('https://hooks.example.com/x');
    expect(parseValue(hook, 'http://127.0.0.1:8080/hook').value).toBe('http://127.0.0.1:8080/hook');
    expect(parseValue(hook, 'http://localhost/hook').value).toBe('http://localhost/hook');
    expect(errorOf('EXPORT_WEBHOOK_URL', 'http://hooks.example.com/x')).toMatch(
      /must use https: \(http: only on localhost\)/,
    );
    expect(errorOf('EXPORT_WEBHOOK_URL', 'http://localhost.example.com/x')).toMatch(/must use https:/);
    expect(hook.type).toBe('URL (https, or http on localhost), or unset');
  });
  it('never repeats a refused value of a sensitive key in its error', () => {
    const message = errorOf('EXPORT_WEBHOOK_URL', 'not-a-url-but-a-secret-token');
    expect(message).not.toContain('secret-token');
    expect(message).toMatch(/•••••• is not a URL|"••••••" is not a URL/);
  });
  it("re-validates stored values against today's rules", () => {
    expect(revalidate(def('MAX_BATCH_SIZE'), 500).value).toBe(500);
    expect(() => revalidate(def('MAX_BATCH_SIZE'), 5000)).toThrow(/at most 1000/);
  });
});
