import { execFile, spawn } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it, onTestFinished } from 'vitest';
import { clientApi } from './real-api.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const PACKAGE = path.join(ROOT, 'packages/client');
/** The budget for what an application installs with the client. */
const MAX_INSTALLED_BYTES = 5 * 1024 * 1024;
const run = promisify(execFile);

interface Lock {
  packages: Record<string, { dependencies?: Record<string, string> } & Record<string, unknown>>;
}

/**
 * An application's lockfile for the tarball: the package and what it depends on, at the versions
 * this repository's lockfile pins. npm then installs offline from its cache, where `npm ci` left
 * those versions (without a lockfile it would ask the registry which versions exist).
 */
async function applicationLock(tarball: string): Promise<Lock> {
  const repo = JSON.parse(await readFile(path.join(ROOT, 'package-lock.json'), 'utf8')) as Lock;
  const pkg = JSON.parse(await readFile(path.join(PACKAGE, 'package.json'), 'utf8')) as {
    version: string;
    dependencies: Record<string, string>;
  };
  const packages: Lock['packages'] = {
    '': { name: 'application', dependencies: { '@config-bot/client': `file:${tarball}` } },
    'node_modules/@config-bot/client': {
      version: pkg.version,
      resolved: `file:${tarball}`,
      dependencies: pkg.dependencies,
    },
  };
  const queue = Object.keys(pkg.dependencies);
  for (let name = queue.shift(); name !== undefined; name = queue.shift()) {
    const entry = repo.packages[`node_modules/${name}`];
    if (!entry) throw new Error(`${name} is not in package-lock.json`);
    packages[`node_modules/${name}`] = entry;
    queue.push(...Object.keys(entry.dependencies ?? {}).filter((d) => !packages[`node_modules/${d}`]));
  }
  return { name: 'application', lockfileVersion: 3, requires: true, packages } as Lock;
}

/** Bytes of every file under `dir` (what the install put on disk, not counting block rounding). */
async function bytesUnder(dir: string): Promise<number> {
  let total = 0;
  for (const entry of await readdir(dir, { recursive: true, withFileTypes: true }))
    if (entry.isFile()) total += (await stat(path.join(entry.parentPath, entry.name))).size;
  return total;
}

/** Every package a declaration file reaches by import, following its relative imports. */
async function declaredImports(entry: string): Promise<string[]> {
  const outside = new Set<string>();
  const queue = [entry];
  const seen = new Set(queue);
  for (let file = queue.shift(); file !== undefined; file = queue.shift()) {
    const text = await readFile(file, 'utf8');
    for (const [, spec] of text.matchAll(/(?:from\s+|import\()['"]([^'"]+)['"]/g)) {
      if (!spec?.startsWith('.')) {
        outside.add(spec ?? '');
        continue;
      }
      const target = path.resolve(path.dirname(file), spec.replace(/\.js$/, '.d.ts'));
      if (!seen.has(target)) {
        seen.add(target);
        queue.push(target);
      }
    }
  }
  return [...outside].sort();
}

const FOLLOWER = `
import { ConfigClient } from '@config-bot/client';

const [url, token] = process.argv.slice(2);
const client = new ConfigClient({ url, token, keys: ['MAX_BATCH_SIZE'], name: 'packed-follower' });
await client.ready();
console.log(\`ready \${client.get('MAX_BATCH_SIZE')}\`);
client.on('change', async (change) => {
  console.log(\`changed \${change.value}\`);
  await client.close();
});
`;

describe('@config-bot/client as an application installs it', () => {
  it(
    'packs, installs alone from the tarball within 5 MB, and follows a real API from its own process',
    { timeout: 120_000 },
    async () => {
      const dir = await mkdtemp(path.join(tmpdir(), 'config-bot-client-package-'));
      onTestFinished(() => rm(dir, { recursive: true, force: true }));

      // `npm pack` builds the package first (prepack) and packs what `files` lists.
      const { stdout } = await run('npm', ['pack', '--json', '--pack-destination', dir], { cwd: PACKAGE });
      const [packed] = JSON.parse(stdout) as [{ filename: string; files: { path: string }[] }];
      const files = packed.files.map((f) => f.path);
      expect(files.filter((f) => !/^(package\.json|dist\/.+\.(js|d\.ts))$/.test(f))).toEqual([]);
      expect(files).toEqual(expect.arrayContaining(['dist/index.js', 'dist/types/index.d.ts']));

      const app = path.join(dir, 'application');
      const tarball = path.join(dir, packed.filename);
      await run('mkdir', [app]);
      await writeFile(
        path.join(app, 'package.json'),
        JSON.stringify({
          name: 'application',
          private: true,
          type: 'module',
          dependencies: { '@config-bot/client': `file:${tarball}` },
        }),
      );
      await writeFile(path.join(app, 'package-lock.json'), JSON.stringify(await applicationLock(tarball)));
      await run('npm', ['install', '--offline', '--no-audit', '--no-fund'], { cwd: app });

      // Only the client and the small libraries it imports: no zod (its parts are bundled), no bot.
      const modules = path.join(app, 'node_modules');
      expect((await readdir(modules)).filter((name) => !name.startsWith('.')).sort()).toEqual([
        '@config-bot',
        'eventsource-parser',
        'ip-address',
        'murmurhash3js',
        're2js',
        'semver',
        'signal-exit',
        'write-file-atomic',
      ]);
      expect(await bytesUnder(modules)).toBeLessThanOrEqual(MAX_INSTALLED_BYTES);
      const installed = path.join(modules, '@config-bot/client');
      expect(await declaredImports(path.join(installed, 'dist/types/index.d.ts'))).toEqual([
        '@openfeature/server-sdk',
        'node:events',
      ]);
      const bundle = await readFile(path.join(installed, 'dist/index.js'), 'utf8');
      expect(bundle).not.toMatch(/from ["']zod/);
      expect(bundle).toContain('Copyright (c) 2025 Colin McDonnell');

      // An application process of its own, importing the installed package (not this repository's sources).
      const api = await clientApi('client_package');
      await writeFile(path.join(app, 'follow.mjs'), FOLLOWER);
      const child = spawn(process.execPath, ['follow.mjs', api.relay.url, api.token], {
        cwd: app,
        // Without the workspace's source condition the tests' own processes get.
        env: { ...process.env, NODE_OPTIONS: '' },
      });
      onTestFinished(() => void (child.exitCode === null && child.kill('SIGKILL')));
      let stderr = '';
      child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      const lines = createInterface({ input: child.stdout })[Symbol.asyncIterator]();
      const line = async (): Promise<string> => {
        const { value, done } = await lines.next();
        if (done) throw new Error(`the application exited: ${stderr}`);
        return value as string;
      };
      expect(await line()).toBe('ready 100');
      await api.set('MAX_BATCH_SIZE', 250);
      expect(await line()).toBe('changed 250');
      const exited = await new Promise<number | null>((resolve) =>
        child.exitCode !== null ? resolve(child.exitCode) : child.once('exit', resolve),
      );
      expect(exited, stderr).toBe(0);
    },
  );
});
