/**
 * Makes a closed reader end the output quietly: `npm run -s console -- ... | head -1` closes the
 * pipe after one line, and the next write fails with EPIPE, which Node raises as an unhandled
 * 'error' event (a crash with a stack). Instead, `stdoutClosed()` turns true and `onClosed` runs,
 * so the caller stops producing output; a closed stderr just drops log lines.
 */
export function quietOnClosedPipes(onClosed: () => void): { stdoutClosed(): boolean } {
  let closed = false;
  process.stdout.on('error', () => {
    if (closed) return;
    closed = true;
    onClosed();
  });
  // The logger writes here; nothing is left to tell once the reader of stderr has gone.
  process.stderr.on('error', () => undefined);
  return { stdoutClosed: () => closed || process.stdout.destroyed };
}
