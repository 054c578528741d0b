import { readdir, readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';

/** What config-bot/client may import: itself, Node, and the two small packages it is built on. */
const ALLOWED = new Set(['eventsource-parser', 'write-file-atomic']);

describe('config-bot/client', () => {
  it('imports nothing of the bot (no database, no discord.js), so an application can load it alone', async () => {
    const dir = new URL('../../src/client/', import.meta.url);
    const outside: string[] = [];
    for (const file of (await readdir(dir)).filter((f) => f.endsWith('.ts'))) {
      const text = await readFile(new URL(file, dir), 'utf8');
      for (const [, spec] of text.matchAll(/from '([^']+)'/g))
        if (spec && !spec.startsWith('./') && !spec.startsWith('node:') && !ALLOWED.has(spec))
          outside.push(`${file}: ${spec}`);
    }
    expect(outside).toEqual([]);
  });
});
