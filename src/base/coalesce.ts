/**
 * Wraps `run` so that calls never overlap: a call made while it runs asks for one more run when
 * it ends (however many calls came meanwhile) and resolves with that one. For work that reads the
 * latest state each time (catching up a log, draining a stream, reporting a position), where
 * running twice at once would repeat work and running later would miss nothing.
 */
export function coalesced(
  run: () => Promise<void>,
  stopped: () => boolean = () => false,
): () => Promise<void> {
  let running: Promise<void> | undefined;
  let again = false;
  return () => {
    if (running) {
      again = true;
      return running;
    }
    running = (async () => {
      do {
        again = false;
        await run();
      } while (again && !stopped());
    })().finally(() => (running = undefined));
    return running;
  };
}
