// @ts-check
/**
 * Builds what the package ships (`npm run build`, and `npm pack` through `prepack`):
 *
 * - `dist/index.js`, the client, one file with the parts of zod it uses inlined. zod installs in
 *   8.2 MB (every version, locale and format it publishes), more than the whole client may weigh
 *   (5 MB installed, docs/client.md); the flag schema uses about 200 kB of it. The small runtime
 *   libraries stay dependencies, installed and shared as usual.
 * - `dist/lib/`, the flag engine, the text helpers and the debounced file writer, one file per
 *   module, for the server: these import zod as a package (an optional peer dependency, which the
 *   server has), so that the server's routes and the flag schema they compose are one zod.
 * - `dist/types/`, declarations by tsc. What an application imports declares plain interfaces
 *   only: nothing in the client's declarations refers to zod.
 */
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import process from 'node:process';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const here = path.dirname(fileURLToPath(import.meta.url));
const require = createRequire(import.meta.url);
const pkg = JSON.parse(readFileSync(path.join(here, 'package.json'), 'utf8'));
const external = [...Object.keys(pkg.dependencies), ...Object.keys(pkg.peerDependencies)];
const zodLicense = readFileSync(
  path.join(path.dirname(require.resolve('zod/package.json')), 'LICENSE'),
  'utf8',
);

rmSync(path.join(here, 'dist'), { recursive: true, force: true });
execFileSync(process.execPath, [require.resolve('typescript/bin/tsc'), '-p', 'tsconfig.build.json'], {
  cwd: here,
  stdio: 'inherit',
});

const common = /** @type {const} */ ({
  platform: 'node',
  format: 'esm',
  target: 'node20',
  logLevel: 'warning',
});

await build({
  ...common,
  entryPoints: [path.join(here, 'src/index.ts')],
  outfile: path.join(here, 'dist/index.js'),
  bundle: true,
  external: external.filter((name) => name !== 'zod'),
  banner: { js: `/*! Includes zod (https://zod.dev):\n${zodLicense.trim()}\n*/` },
});

const shared = [
  ...readdirSync(path.join(here, 'src/flags')).map((f) => path.join(here, 'src/flags', f)),
  path.join(here, 'src/text.ts'),
  path.join(here, 'src/debounced-file.ts'),
];
await build({
  ...common,
  entryPoints: shared,
  outdir: path.join(here, 'dist/lib'),
  outbase: path.join(here, 'src'),
});
