import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type * as Esbuild from 'esbuild';
import type { TestProject } from 'vitest/node';

declare module 'vitest' {
  export interface ProvidedContext {
    /** This run's build of the sources (test/helpers/scripts.ts), or '' when there is none. */
    scriptBuild: string;
  }
}

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
/** What is transpiled, into a folder under node_modules/, so dependencies resolve as from the sources. */
const TREES = ['src', 'scripts', 'commands', 'examples', 'test'];
const CLIENT = 'packages/client';
const BUILDS = path.join(ROOT, 'node_modules/.cache/config-bot-test-build');

/**
 * The sources transpiled once for the whole run, for the OS processes the tests start: the
 * esbuild that tsx itself uses, with the options tsx gives it (no source maps), reading
 * tsconfig.json as tsx does. A process started from it skips tsx's loader, about 1 s of CPU each
 * on a 2-core machine. Test fixtures run from it; entry points where a test asks (`via: 'build'`
 * in test/helpers/scripts.ts), the others through tsx as `npm run` starts them. Rebuilt when watch
 * mode re-runs tests.
 */
export default async function setup(project: TestProject): Promise<() => void> {
  clearAbandoned();
  const dir = path.join(BUILDS, `run-${process.pid}`);
  const make = async () => project.provide('scriptBuild', await transpile(dir));
  await make();
  project.onTestsRerun(make);
  return () => rmSync(dir, { recursive: true, force: true });
}

async function transpile(dir: string): Promise<string> {
  rmSync(dir, { recursive: true, force: true });
  const tsxRequire = createRequire(createRequire(import.meta.url).resolve('tsx'));
  const esbuild = tsxRequire('esbuild') as typeof Esbuild;
  // Test files themselves never run as processes: only the fixtures and helpers beside them.
  const files = TREES.flatMap((tree) => filesOf(tree)).filter((f) => !f.endsWith('.test.ts'));
  const client = filesOf(`${CLIENT}/src`);
  const common: Esbuild.BuildOptions = {
    format: 'esm',
    platform: 'node',
    // What tsx passes to esbuild's transform (its own defaults), besides the tsconfig it finds.
    target: `node${process.versions.node}`,
    keepNames: true,
    // Faster to write; a process's stack trace then names the transpiled file, at about the same line.
    sourcemap: false,
    bundle: false,
    logLevel: 'silent',
  };
  try {
    await esbuild.build({
      ...common,
      entryPoints: files.filter(isTs).map((f) => path.join(ROOT, f)),
      outdir: dir,
      outbase: ROOT,
    });
    // The workspace package, where a process importing @config-bot/client finds it first, with
    // its exports pointing at its transpiled sources (as its config-bot-source condition does).
    const clientDir = path.join(dir, 'node_modules/@config-bot/client');
    await esbuild.build({
      ...common,
      entryPoints: client.filter(isTs).map((f) => path.join(ROOT, f)),
      outdir: clientDir,
      outbase: path.join(ROOT, CLIENT),
    });
    writeFileSync(path.join(clientDir, 'package.json'), JSON.stringify(clientPackage(), null, 2));
  } catch (err) {
    // Tests still run, each process through tsx, which then reports the same problem where it matters.
    process.stderr.write(
      `[script build] none this run, processes start through tsx: ${(err as Error).message.split('\n')[0]}\n`,
    );
    rmSync(dir, { recursive: true, force: true });
    return '';
  }
  // What the code reads next to itself: package.json (the version), the panel's static files.
  cpSync(path.join(ROOT, 'package.json'), path.join(dir, 'package.json'));
  for (const f of files.filter((f) => !isTs(f))) {
    mkdirSync(path.dirname(path.join(dir, f)), { recursive: true });
    cpSync(path.join(ROOT, f), path.join(dir, f));
  }
  return dir;
}

const isTs = (f: string) => /\.(ts|tsx|mts)$/.test(f) && !f.endsWith('.d.ts');

/** Every file under `tree` (relative to the root), leaving out dependencies and builds. */
function filesOf(tree: string): string[] {
  if (!existsSync(path.join(ROOT, tree))) return [];
  return readdirSync(path.join(ROOT, tree), { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => path.relative(ROOT, path.join(e.parentPath, e.name)))
    .filter((f) => !/(^|\/)(node_modules|dist)\//.test(f));
}

/** The client's package.json with each export's source (config-bot-source) as its transpiled file. */
function clientPackage(): object {
  const pkg = JSON.parse(readFileSync(path.join(ROOT, CLIENT, 'package.json'), 'utf8')) as {
    name: string;
    version: string;
    exports: Record<string, string | Record<string, string>>;
  };
  const exports = Object.fromEntries(
    Object.entries(pkg.exports).map(([key, target]) => {
      const source = typeof target === 'string' ? target : (target['config-bot-source'] ?? target.default);
      return [key, source?.replace(/\.(ts|tsx|mts)$/, '.js')];
    }),
  );
  return { name: pkg.name, version: pkg.version, type: 'module', exports };
}

/** Builds of runs that ended without removing theirs (killed): their process is gone. */
function clearAbandoned(): void {
  if (!existsSync(BUILDS)) return;
  for (const name of readdirSync(BUILDS)) {
    const pid = Number(/^run-(\d+)$/.exec(name)?.[1]);
    if (pid && !alive(pid)) rmSync(path.join(BUILDS, name), { recursive: true, force: true });
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
