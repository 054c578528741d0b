import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { cronExpression, duration, jsonObject, text, url } from '../../src/config/kinds.js';
import { registry, type RegisteredKey } from '../../src/config/registry.js';
import { parseValue, resolveKey } from '../../src/config/validate.js';
import { CommandLineError, parseCommandLine } from '../../src/offline/command-line.js';
import { UserError } from '../../src/base/errors.js';
import { hostileString } from './hostile.js';

const RUNS = 2000;

const extraKinds: RegisteredKey[] = [
  ['DURATION', duration()],
  ['CRON', cronExpression()],
  ['URL', url()],
  ['JSON', jsonObject(z.object({ n: z.number() }))],
  ['TEXT', text({ max: 100 })],
].map(
  ([key, kind]) =>
    ({
      ...(kind as object),
      key,
      category: 'system',
      description: 'x',
      default: null,
      sensitive: false,
      requiresRestart: false,
    }) as RegisteredKey,
);
const allDefs = [...registry.values(), ...extraKinds];

/** Either a valid value that survives a format/parse round trip, or a UserError with a specific message. */
function checkParse(def: RegisteredKey, input: string): void {
  let parsed;
  try {
    parsed = parseValue(def, input);
  } catch (err) {
    expect(err).toBeInstanceOf(UserError);
    const e = err as UserError;
    expect(['INVALID_VALUE', 'TOO_LONG']).toContain(e.code);
    expect(e.message.length).toBeGreaterThan(20);
    expect(e.message.length).toBeLessThan(600);
    if (e.code === 'INVALID_VALUE') expect(e.message).toContain(`Invalid value for ${def.key}: `);
    return;
  }
  expect(parseValue(def, def.format(parsed.value as never)).value).toEqual(parsed.value);
}

describe('value parsers under hostile input', () => {
  it.each(allDefs.map((d) => [d.key, d] as const))(
    '%s never crashes, never accepts garbage silently',
    (_key, def) => {
      fc.assert(
        fc.property(hostileString(), (input) => checkParse(def, input)),
        { numRuns: RUNS },
      );
    },
  );

  it('MAX_BATCH_SIZE accepts exactly the whole numbers 1-1000, nothing else', () => {
    fc.assert(
      fc.property(hostileString(), (input) => {
        const valid = /^\s*\+?0*(\d{1,4})\s*$/.exec(input);
        const n = valid ? Number(valid[1]) : NaN;
        const accepted = (() => {
          try {
            return parseValue(registry.get('MAX_BATCH_SIZE') as RegisteredKey, input).value;
          } catch {
            return undefined;
          }
        })();
        if (accepted !== undefined) expect(accepted).toBe(n);
        if (Number.isInteger(n) && n >= 1 && n <= 1000) expect(accepted).toBe(n);
      }),
      { numRuns: RUNS },
    );
  });
});

describe('key names under hostile input', () => {
  it('resolve only to registered keys, otherwise a specific UserError', () => {
    fc.assert(
      fc.property(hostileString(), (input) => {
        try {
          const def = resolveKey(registry, input);
          expect(def.key).toBe(input.trim().toUpperCase());
        } catch (err) {
          expect(err).toBeInstanceOf(UserError);
          expect(['INVALID_KEY', 'UNKNOWN_KEY']).toContain((err as UserError).code);
          expect((err as UserError).message).toMatch(/not a valid setting name|Unknown setting/);
          expect((err as UserError).message.length).toBeLessThan(400);
        }
      }),
      { numRuns: RUNS },
    );
  });
});

describe("the console's command-line parser", () => {
  it('never throws anything but CommandLineError', () => {
    fc.assert(
      fc.property(
        fc.oneof(
          hostileString(),
          hostileString().map((s) => `/config set setting:${s}`),
        ),
        (line) => {
          try {
            parseCommandLine(line);
          } catch (err) {
            expect(err).toBeInstanceOf(CommandLineError);
            expect((err as Error).message.length).toBeGreaterThan(5);
          }
        },
      ),
      { numRuns: RUNS },
    );
  });

  it('round-trips any option value when quoted', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 200 }), (value) => {
        const quoted = `"${value.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
        const line = parseCommandLine(`/config set setting:MAX_BATCH_SIZE value:${quoted}`);
        expect(line.options.value).toBe(value);
        expect(line.subcommand).toBe('set');
      }),
      { numRuns: RUNS },
    );
  });
});
