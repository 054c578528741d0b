import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { spawnTs } from '../helpers/process.js';
import { clientApi, type ClientApi } from './real-api.js';

describe('ConfigClient.close()', () => {
  let api: ClientApi;
  let dir: string;

  beforeEach(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'config-client-'));
    api = await clientApi('client_close');
  });

  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('leaves nothing running: the process exits by itself, the stream is closed, the file written', async () => {
    const cacheFile = path.join(dir, 'config.json');
    const child = spawnTs('test/client/fixtures/close-child.ts', [api.relay.url, api.token, cacheFile]);
    expect(await child.nextLine(20_000, 'ready')).toBe('ready 100');
    const seq = await api.set('MAX_BATCH_SIZE', 42);
    expect(await child.nextLine(10_000, 'changed')).toBe('changed 42');
    // Nothing of the client's is left: no socket (TCPSocketWrap), no timer (Timeout), no request.
    expect(await child.nextLine(10_000, 'closed')).toBe('closed []');
    expect(await child.nextLine(10_000, 'timers'), child.stderr()).toBe('timers 0');
    await child.closed();
    expect(child.proc.exitCode).toBe(0);
    await expect.poll(() => api.relay.openStreams, { timeout: 10_000 }).toBe(0);
    const content = JSON.parse(await readFile(cacheFile, 'utf8')) as { seq: number };
    expect(content.seq).toBe(seq);
  });
});
