import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DebouncedFile } from '@config-bot/client/debounced-file';

/** The writer the client's last-known-good file and the server's last-known-good copy share. */
describe('DebouncedFile', () => {
  let dir: string;
  let errors: unknown[];

  beforeEach(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'debounced-file-'));
    errors = [];
  });

  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  const writer = (name: string): DebouncedFile =>
    new DebouncedFile(path.join(dir, name), { debounceMs: 60_000, onError: (err) => errors.push(err) });

  it('makes one write of the latest content for a burst, readable by its owner only', async () => {
    const file = writer('state.json');
    const asked: string[] = [];
    for (const content of ['a', 'b', 'c'])
      file.schedule(() => {
        asked.push(content);
        return content;
      });
    await file.flush();
    expect(asked).toEqual(['c']);
    expect(await readFile(file.path, 'utf8')).toBe('c');
    expect((await stat(file.path)).mode & 0o777).toBe(0o600);
    await file.flush(); // nothing scheduled: nothing written again
    expect(asked).toEqual(['c']);
  });

  it('writes nothing when the content is not there yet', async () => {
    const file = writer('empty.json');
    file.schedule(() => undefined);
    await file.flush();
    await expect(stat(file.path)).rejects.toThrow(/ENOENT/);
  });

  it('reports a write that failed and writes again at the next change', async () => {
    const file = new DebouncedFile(path.join(dir, 'missing-dir', 'state.json'), {
      debounceMs: 60_000,
      onError: (err) => errors.push(err),
    });
    file.schedule(() => 'lost');
    await file.flush();
    expect(errors).toHaveLength(1);
    expect(String(errors[0])).toMatch(/ENOENT/);

    const ok = writer('state.json');
    ok.schedule(() => {
      throw new Error('cannot serialize');
    });
    await ok.flush();
    expect(String(errors[1])).toBe('Error: cannot serialize');
    ok.schedule(() => 'kept');
    await ok.flush();
    expect(await readFile(ok.path, 'utf8')).toBe('kept');
  });
});
