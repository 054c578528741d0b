import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

/**
 * The shape of the code, checked like any behaviour: small files and classes, no import cycle
 * (type-only imports included), each layer importing only the layers under it, and the database
 * driver imported by src/storage alone. A failure names the file and what to do.
 */
const ROOT = fileURLToPath(new URL('..', import.meta.url));

/**
 * The layers, lowest first: a module may import its own folder and any layer listed before it;
 * folders on one line are peers that do not import each other. The configuration core
 * (registry, kinds, reader, rules...) sits under approvals and timed changes; the service and
 * its write path compose them, and what follows the configuration (the feed, flags, transfers,
 * jobs) sits above the service.
 */
const LAYERS: readonly (readonly string[])[] = [
  ['src/base'],
  ['src/storage'],
  ['src/audit'],
  ['src/changes/bus.ts'],
  ['src/config'],
  ['src/approvals'],
  ['src/timed'],
  ['src/config/config-writer.ts', 'src/config/parts.ts', 'src/config/service.ts'],
  ['src/changes'],
  ['src/flags', 'src/transfer', 'src/tokens', 'src/charts'],
  ['src/jobs'],
  ['src/api', 'src/discord', 'src/panel'],
  ['commands'],
  ['src/offline'],
  ['src/app'],
  ['src/index.ts'],
];

const MAX_FILE_LINES = 400;
const MAX_CLASS_LINES = 300;

function sources(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(path.join(ROOT, dir))) {
    const rel = path.join(dir, name);
    if (statSync(path.join(ROOT, rel)).isDirectory()) out.push(...sources(rel));
    else if (/\.tsx?$/.test(name) && !name.endsWith('.d.ts')) out.push(rel);
  }
  return out;
}

const files = [...sources('src'), ...sources('commands')];
const text = new Map(files.map((f) => [f, readFileSync(path.join(ROOT, f), 'utf8')]));

/** Every module a file imports or re-exports from (relative ones resolved to repository paths). */
function importsOf(file: string): string[] {
  const found: string[] = [];
  const re =
    /(?:^|\n)\s*(?:import|export)\s[^'"`;]*?from\s*['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)/g;
  for (const m of (text.get(file) ?? '').matchAll(re)) {
    const spec = m[1] ?? m[2] ?? '';
    if (!spec.startsWith('.')) {
      found.push(spec);
      continue;
    }
    const base = path.normalize(path.join(path.dirname(file), spec)).replace(/\.js$/, '');
    found.push([`${base}.ts`, `${base}.tsx`].find((f) => text.has(f)) ?? path.join(base, 'index.ts'));
  }
  return found;
}

const graph = new Map(files.map((f) => [f, importsOf(f).filter((i) => text.has(i))]));

/** The most specific entry of LAYERS a file falls under (a file named there wins over its folder). */
function placeOf(file: string): { layer: number; place: string } {
  let best = { layer: -1, place: '' };
  let matched = '';
  LAYERS.forEach((peers, layer) => {
    for (const p of peers) {
      if (!(file === p || file.startsWith(`${p}/`)) || p.length <= matched.length) continue;
      matched = p;
      // Files named together on one line are one place: they compose each other.
      best = { layer, place: p.endsWith('.ts') ? `files of layer ${layer}` : p };
    }
  });
  return best;
}

describe('the shape of the code', () => {
  it(`keeps every file in src/ and commands/ to ${MAX_FILE_LINES} lines`, () => {
    const long = files
      .map((f) => ({ f, lines: (text.get(f) ?? '').split('\n').length }))
      .filter(({ lines }) => lines > MAX_FILE_LINES)
      .map(({ f, lines }) => `${f}: ${lines} lines (split it by job)`);
    expect(long).toEqual([]);
  });

  it(`keeps every class to ${MAX_CLASS_LINES} lines`, () => {
    const long: string[] = [];
    for (const [f, src] of text) {
      const lines = src.split('\n');
      lines.forEach((line, i) => {
        const m = /^(?:export )?(?:abstract )?class (\w+)/.exec(line);
        if (!m) return;
        const end = lines.findIndex((l, j) => j > i && l === '}');
        if (end - i + 1 > MAX_CLASS_LINES) long.push(`${f}: class ${m[1]} is ${end - i + 1} lines`);
      });
    }
    expect(long).toEqual([]);
  });

  it('has no import cycle, type-only imports included', () => {
    const cycles: string[] = [];
    const state = new Map<string, 'open' | 'done'>();
    const stack: string[] = [];
    const visit = (f: string): void => {
      state.set(f, 'open');
      stack.push(f);
      for (const next of graph.get(f) ?? []) {
        if (state.get(next) === 'open') cycles.push([...stack.slice(stack.indexOf(next)), next].join(' -> '));
        else if (!state.has(next)) visit(next);
      }
      stack.pop();
      state.set(f, 'done');
    };
    for (const f of files) if (!state.has(f)) visit(f);
    expect(cycles).toEqual([]);
  });

  it('imports only from its own place or the layers under it', () => {
    const upward: string[] = [];
    for (const [f, deps] of graph) {
      const own = placeOf(f);
      for (const d of deps) {
        const theirs = placeOf(d);
        if (theirs.layer > own.layer || (theirs.layer === own.layer && theirs.place !== own.place))
          upward.push(`${f} imports ${d}`);
      }
    }
    expect(files.filter((f) => placeOf(f).layer < 0)).toEqual([]);
    expect(upward).toEqual([]);
  });

  it('imports the database driver from src/storage only', () => {
    const outside = files.flatMap((f) =>
      importsOf(f)
        .filter((i) => /^(mongoose|mongodb)(\/|$)/.test(i) && !f.startsWith('src/storage/'))
        .map((i) => `${f} imports ${i}`),
    );
    expect(outside).toEqual([]);
  });
});
