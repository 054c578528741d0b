import { execFile } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
/** What config-bot/client may load: Node, and the small packages it and the flag engine are built on. */
const PACKAGES = new Set(['eventsource-parser', 'write-file-atomic', 'zod', 'semver', 'murmurhash3js']);
/** Types only: the OpenFeature provider's SDK is an optional peer dependency, never loaded. */
const TYPE_ONLY = new Set(['@openfeature/server-sdk']);
/** Its own files, the pure flag engine (not its storage) and the text helpers the engine uses. */
const OWN = [/^src\/client\/[^/]+\.ts$/, /^src\/flags\/[^/]+\.ts$/, /^src\/text\.ts$/];

const IMPORT = /(?:^|\n)\s*(import|export)\s+(type\s+)?(?:[^'"]*?\s+from\s+)?'([^']+)'/g;

/** Every file the client's modules reach through relative imports, and each import that leaves them. */
async function reach(): Promise<{ files: string[]; outside: string[] }> {
  const start = (await readdir(path.join(ROOT, 'src/client'))).filter((f) => f.endsWith('.ts'));
  const queue = start.map((f) => `src/client/${f}`);
  const seen = new Set(queue);
  const outside: string[] = [];
  for (let i = 0; i < queue.length; i++) {
    const file = queue[i] as string;
    const text = await readFile(path.join(ROOT, file), 'utf8');
    for (const [, , typeOnly, spec] of text.matchAll(IMPORT)) {
      if (!spec) continue;
      if (spec.startsWith('node:') || PACKAGES.has(spec)) continue;
      if (TYPE_ONLY.has(spec) && typeOnly) continue;
      if (!spec.startsWith('.')) {
        outside.push(`${file}: ${spec}`);
        continue;
      }
      const target = path.posix.normalize(
        path.posix.join(path.posix.dirname(file), spec.replace(/\.js$/, '.ts')),
      );
      if (!OWN.some((own) => own.test(target))) outside.push(`${file}: ${spec}`);
      else if (!seen.has(target)) {
        seen.add(target);
        queue.push(target);
      }
    }
  }
  return { files: [...seen].sort(), outside };
}

describe('config-bot/client', () => {
  it('imports nothing of the bot (no database, no discord.js, no flag storage), so an application can load it alone', async () => {
    const { files, outside } = await reach();
    expect(outside).toEqual([]);
    expect(files).toContain('src/flags/evaluate.ts');
    expect(files.filter((f) => /^src\/(config|db|api|discord)\/|store/.test(f))).toEqual([]);
  });

  it('is noticed when a flag module reaches server code', async () => {
    // The check itself: the scope module the flag model used to import pulls errors.ts and a package.
    const text = await readFile(path.join(ROOT, 'src/config/scopes.ts'), 'utf8');
    const specs = [...text.matchAll(IMPORT)].map((m) => m[3]);
    expect(specs).toEqual(expect.arrayContaining(['fastest-levenshtein', '../errors.js']));
    expect(specs.filter((s) => s && !s.startsWith('.') && !PACKAGES.has(s))).not.toEqual([]);
  });

  it('builds (npm run build:client) to the client, the flag engine and text.js only, loading no SDK at run time', async () => {
    const out = await mkdtemp(path.join(tmpdir(), 'client-build-'));
    try {
      await promisify(execFile)(
        process.execPath,
        [
          path.join(ROOT, 'node_modules/typescript/bin/tsc'),
          '-p',
          'src/client/tsconfig.build.json',
          '--outDir',
          out,
        ],
        { cwd: ROOT },
      );
      const built = (await readdir(out, { recursive: true }))
        .map((f) => f.split(path.sep).join('/'))
        .filter((f) => f.endsWith('.js'));
      expect(built.filter((f) => !/^src\/(client|flags)\/[^/]+\.js$|^src\/text\.js$/.test(f))).toEqual([]);
      expect(built).toContain('src/flags/evaluate.js');
      for (const file of built)
        expect(await readFile(path.join(out, file), 'utf8'), file).not.toContain('@openfeature');
    } finally {
      await rm(out, { recursive: true, force: true });
    }
  }, 60_000);
});
