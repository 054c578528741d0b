import { connect as tcpConnect, createServer } from 'node:net';
import { describe, expect, it } from 'vitest';
import { isUnavailableError } from '../../src/storage/connection.js';

/** The error Node raises when writing to a socket the other side has just closed. */
async function writeAfterPeerClosed(): Promise<Error> {
  const server = createServer((c) => c.end());
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as { port: number };
  try {
    return await new Promise<Error>((resolve, reject) => {
      const sock = tcpConnect(port, '127.0.0.1');
      sock.on('error', () => undefined);
      sock.on('end', () =>
        setTimeout(
          () => sock.write('x', (err) => (err ? resolve(err) : reject(new Error('write succeeded')))),
          20,
        ),
      );
    });
  } finally {
    server.close();
  }
}

describe('isUnavailableError', () => {
  it('counts a socket the server closed (EPIPE, passed through by the driver) as unavailable', async () => {
    const err = await writeAfterPeerClosed();
    expect((err as NodeJS.ErrnoException).code).toBe('EPIPE');
    expect(isUnavailableError(err)).toBe(true);
  });

  it('does not count an ordinary error as unavailable', () => {
    expect(isUnavailableError(new Error('value rejected'))).toBe(false);
    expect(isUnavailableError(Object.assign(new Error('no such file'), { code: 'ENOENT' }))).toBe(false);
  });
});
