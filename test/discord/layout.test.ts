import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

// The shape of the Discord side: the production adapter (src/discord, commands/) and the offline
// Discord that drives it (src/offline), read from the source files themselves.

const AREAS = ['src/discord', 'src/offline', 'commands'];

function filesUnder(dir: string): string[] {
  return readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .filter((f) => f.endsWith('.ts'))
    .map((f) => path.join(dir, f));
}

/** Every module a file imports or re-exports, type-only ones included, resolved to a path. */
function importsOf(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  const specs = [...text.matchAll(/(?:^|\n)\s*(?:import|export)\b[^;]*?\bfrom\s+'([^']+)'/g)].map(
    (m) => m[1] ?? '',
  );
  return specs
    .filter((s) => s.startsWith('.'))
    .map((s) => path.normalize(path.join(path.dirname(file), s.replace(/\.js$/, '.ts'))));
}

describe('the Discord side of the code base', () => {
  const files = AREAS.flatMap(filesUnder);

  it('keeps the offline Discord in src/offline, and no production module imports it', () => {
    for (const moved of ['harness', 'payloads', 'console-session', 'command-line', 'uploads', 'offline'])
      expect(existsSync(`src/offline/${moved}.ts`), moved).toBe(true);
    const production = [...filesUnder('src'), ...filesUnder('commands')].filter(
      (f) => !f.startsWith(`src${path.sep}offline${path.sep}`),
    );
    const offenders = production.filter((f) =>
      importsOf(f).some((i) => i.startsWith(`src${path.sep}offline${path.sep}`)),
    );
    expect(offenders).toEqual([]);
  });

  it('has no import cycle in src/discord, src/offline and commands, type-only imports included', () => {
    const graph = new Map(files.map((f) => [f, importsOf(f).filter((i) => files.includes(i))]));
    const cycles: string[] = [];
    const state = new Map<string, 'open' | 'done'>();
    const visit = (f: string, trail: string[]) => {
      if (state.get(f) === 'done') return;
      if (state.get(f) === 'open') {
        cycles.push([...trail.slice(trail.indexOf(f)), f].join(' > '));
        return;
      }
      state.set(f, 'open');
      for (const next of graph.get(f) ?? []) visit(next, [...trail, f]);
      state.set(f, 'done');
    };
    for (const f of files) visit(f, []);
    expect(cycles).toEqual([]);
  });

  it('keeps every file under 400 lines', () => {
    const long = files
      .map((f) => ({ f, lines: readFileSync(f, 'utf8').split('\n').length }))
      .filter((x) => x.lines > 400);
    expect(long).toEqual([]);
  });

  it('gives every subcommand its own file, which declares its options, requirement and handler', async () => {
    const subcommandFiles = filesUnder('commands').filter((f) => path.basename(f) !== 'index.ts');
    expect(subcommandFiles.length).toBeGreaterThanOrEqual(40);
    for (const file of subcommandFiles) {
      const mod = (await import(path.resolve(file))) as Record<string, unknown>;
      const data = mod.data as { name?: string; toJSON?: () => unknown } | undefined;
      const requires = mod.requires as { access?: unknown; audit?: unknown } | undefined;
      expect(data?.name, file).toBe(path.basename(file, '.ts'));
      expect(requires?.access, file).toMatch(/^(read|write)$/);
      expect(typeof requires?.audit, file).toBe('string');
      expect(typeof mod.execute, file).toBe('function');
    }
  });
});
