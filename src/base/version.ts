import { readFileSync } from 'node:fs';

let cached: string | undefined;

/** This package's version (from package.json, found from src/ or from the build in dist/src/). */
export function appVersion(): string {
  if (cached) return cached;
  for (const rel of ['../package.json', '../../package.json']) {
    try {
      const pkg = JSON.parse(readFileSync(new URL(rel, import.meta.url), 'utf8')) as {
        name?: string;
        version?: string;
      };
      if (pkg.name === 'config-bot' && pkg.version) return (cached = pkg.version);
    } catch {
      // Not at this depth: the other one is.
    }
  }
  return (cached = 'unknown');
}
