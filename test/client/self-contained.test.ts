import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it, onTestFinished } from 'vitest';

const PACKAGE = fileURLToPath(new URL('../../packages/client/', import.meta.url));

const IMPORT = /(?:^|\n)\s*(?:import|export)\s+(type\s+)?(?:[^'"]*?\s+from\s+)?'([^']+)'/g;

interface Imports {
  /** Relative imports that leave the folder (`file: spec`). */
  outside: string[];
  /** Packages imported for their code. */
  packages: Set<string>;
  /** Packages imported for their types only. */
  typeOnly: Set<string>;
}

/** What the TypeScript files under `src` import, apart from Node's own modules. */
async function importsUnder(src: string): Promise<Imports> {
  const found: Imports = { outside: [], packages: new Set(), typeOnly: new Set() };
  const files = (await readdir(src, { recursive: true })).filter((f) => f.endsWith('.ts'));
  for (const file of files) {
    const text = await readFile(path.join(src, file), 'utf8');
    for (const [, typeOnly, spec] of text.matchAll(IMPORT)) {
      if (!spec || spec.startsWith('node:')) continue;
      if (spec.startsWith('.')) {
        const target = path.relative(src, path.resolve(src, path.dirname(file), spec));
        if (target.startsWith('..')) found.outside.push(`${file}: ${spec}`);
        continue;
      }
      const name = spec.startsWith('@')
        ? spec.split('/').slice(0, 2).join('/')
        : (spec.split('/')[0] ?? spec);
      (typeOnly ? found.typeOnly : found.packages).add(name);
    }
  }
  for (const name of found.packages) found.typeOnly.delete(name);
  return found;
}

describe('@config-bot/client', () => {
  it('imports nothing of the server, and of packages only what it declares (zod bundled)', async () => {
    const pkg = JSON.parse(await readFile(path.join(PACKAGE, 'package.json'), 'utf8')) as {
      dependencies: Record<string, string>;
      peerDependenciesMeta: Record<string, { optional: boolean }>;
    };
    const { outside, packages, typeOnly } = await importsUnder(path.join(PACKAGE, 'src'));
    expect(outside).toEqual([]);
    // Every dependency is used, and nothing else is loaded but zod, whose parts the build inlines.
    expect([...packages].sort()).toEqual([...Object.keys(pkg.dependencies), 'zod'].sort());
    // The OpenFeature provider only implements the SDK's interfaces: an optional peer, never loaded.
    expect([...typeOnly]).toEqual(['@openfeature/server-sdk']);
    expect(pkg.peerDependenciesMeta['@openfeature/server-sdk']).toEqual({ optional: true });
  });

  it('is noticed when a module reaches server code', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'client-imports-'));
    onTestFinished(() => rm(dir, { recursive: true, force: true }));
    await mkdir(path.join(dir, 'src/flags'), { recursive: true });
    await writeFile(
      path.join(dir, 'src/flags/model.ts'),
      "import { Schema } from 'mongoose';\nimport type { Actor } from '../../../src/storage/config-models.js';\n",
    );
    const found = await importsUnder(path.join(dir, 'src'));
    expect(found.outside).toEqual(['flags/model.ts: ../../../src/storage/config-models.js']);
    expect([...found.packages]).toEqual(['mongoose']);
  });
});
