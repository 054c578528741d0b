import { describe, expect, it } from 'vitest';
import { ENVIRONMENT_NAME, FlagSet, type FlagInput } from '@config-bot/client/flags';
import { convertContext, convertFeature, specFiles, type SpecCase } from '../helpers/unleash-spec.js';

/**
 * Unleash's client specification (github.com/Unleash/client-specification at 931b695, Apache-2.0,
 * test/fixtures/unleash-spec): every feature our flags can express is converted and every case on
 * it must give the expected answer. What cannot be expressed yet is counted per file, so that
 * each capability issue #27 adds shows here as cases moving from `notYet` to `answered`.
 */

/** Per file: cases answered (and right), and cases on features our model cannot express yet. */
const EXPECTED: Record<string, { answered: number; notYet: number }> = {
  '01-simple-examples.json': { answered: 5, notYet: 0 },
  '02-user-with-id-strategy.json': { answered: 4, notYet: 1 },
  '03-gradual-rollout-user-id-strategy.json': { answered: 3, notYet: 3 },
  '04-gradual-rollout-session-id-strategy.json': { answered: 3, notYet: 3 },
  '05-gradual-rollout-random-strategy.json': { answered: 3, notYet: 1 },
  '06-remote-address-strategy.json': { answered: 6, notYet: 0 },
  '07-multiple-strategies.json': { answered: 0, notYet: 6 },
  '08-variants.json': { answered: 2, notYet: 15 },
  '09-strategy-constraints.json': { answered: 16, notYet: 1 },
  '10-flexible-rollout-strategy.json': { answered: 8, notYet: 2 },
  '11-strategy-constraints-edge-cases.json': { answered: 6, notYet: 0 },
  '12-custom-stickiness.json': { answered: 4, notYet: 5 },
  '13-constraint-operators.json': { answered: 46, notYet: 0 },
  '14-constraint-semver-operators.json': { answered: 25, notYet: 0 },
  '15-global-constraints.json': { answered: 0, notYet: 6 },
  '16-strategy-variants.json': { answered: 1, notYet: 10 },
  '17-dependent-features.json': { answered: 0, notYet: 39 },
  '18-utf8-flag-names.json': { answered: 2, notYet: 0 },
  '19-delta-api-hydration.json': { answered: 1, notYet: 0 },
  '20-delta-api-events.json': { answered: 2, notYet: 1 },
  '21-regex-constraint-operators.json': { answered: 37, notYet: 0 },
  '22-cidr-constraint-operators.json': { answered: 12, notYet: 0 },
};

const SET_ENVIRONMENT = 'spec';

function run(file: ReturnType<typeof specFiles>[number]) {
  const cases = [...file.tests, ...file.variantTests];
  const environments = [
    ...new Set([SET_ENVIRONMENT, ...cases.map((c) => c.context.environment ?? SET_ENVIRONMENT)]),
  ];
  for (const e of environments) expect(e, 'an environment our flags can name').toMatch(ENVIRONMENT_NAME);
  const slug = new Map(file.features.map((f, i) => [f.name, `spec-${i + 1}`]));
  const converted = new Map(
    file.features.map((f) => [f.name, convertFeature(f, slug.get(f.name) ?? '', environments)]),
  );
  const flags = [...converted.values()].flatMap((c) => ('flag' in c ? [c.flag as FlagInput] : []));
  const set = new FlagSet(flags, { environment: SET_ENVIRONMENT });
  const wrong: string[] = [];
  const notYet: string[] = [];
  let answered = 0;
  const check = (c: SpecCase, variant: boolean) => {
    const conv = converted.get(c.toggleName);
    if (conv && 'notYet' in conv) return void notYet.push(`${c.description}: ${conv.notYet}`);
    if (conv?.unleashDefaultStickiness && c.context.userId === undefined)
      return void notYet.push(`${c.description}: Unleash's default stickiness without a userId`);
    const ctx = convertContext(c.context);
    const name = slug.get(c.toggleName) ?? 'no-such-flag';
    answered++;
    if (!variant) {
      const ours = set.isEnabled(name, ctx);
      if (ours !== c.expectedResult) wrong.push(`${c.description}: ours ${ours}`);
      return;
    }
    const v = set.variant(name, ctx);
    const expected = c.expectedResult as Exclude<SpecCase['expectedResult'], boolean>;
    const ours = {
      name: v.name,
      enabled: v.enabled,
      ...(expected.feature_enabled !== undefined ? { feature_enabled: v.featureEnabled } : {}),
      ...(expected.payload !== undefined ? { payload: v.payload } : {}),
    };
    if (JSON.stringify(ours) !== JSON.stringify({ ...ours, ...expected }))
      wrong.push(`${c.description}: ours ${JSON.stringify(ours)}, expected ${JSON.stringify(expected)}`);
  };
  for (const c of file.tests) check(c, false);
  for (const c of file.variantTests) check(c, true);
  return { wrong, notYet, answered, rejected: set.rejected };
}

describe("Unleash's client specification", () => {
  const files = specFiles();

  it('is all there: 22 files, 279 cases, 186 of them answered today', () => {
    expect(files).toHaveLength(22);
    expect(files.reduce((n, f) => n + f.tests.length + f.variantTests.length, 0)).toBe(279);
    const sum = (k: 'answered' | 'notYet') => Object.values(EXPECTED).reduce((n, e) => n + e[k], 0);
    expect([sum('answered'), sum('notYet')]).toEqual([186, 93]);
  });

  for (const file of files) {
    it(`${file.name}: every case our flags can express gives Unleash's answer`, () => {
      const r = run(file);
      expect(r.wrong).toEqual([]);
      expect(r.rejected).toEqual([]);
      expect({ answered: r.answered, notYet: r.notYet.length }).toEqual(EXPECTED[file.name]);
    });
  }
});
