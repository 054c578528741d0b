/**
 * What the running test has printed, kept until it is known whether the test failed (see
 * quiet-logs.ts). Lines printed outside any test (beforeAll, afterAll) belong to the file.
 */
let outside: string[] = [];
let current: string[] = outside;

/**
 * Starts a test file's output. Test files share a worker and its modules (vitest.config.ts,
 * `isolate: false`), so each one starts its own.
 */
export function startFile(): void {
  outside = [];
  current = outside;
}

/** Keeps `text` (ending in a newline) with the running test's output. */
export function keep(text: string): void {
  current.push(text);
}

/** Starts a test's own output; returns it. */
export function startTest(): string[] {
  current = [];
  return current;
}

/** Back to the file's output, once a test and its hooks are over. */
export function endTest(): void {
  current = outside;
}

/** What was printed outside any test. */
export function fileOutput(): readonly string[] {
  return outside;
}
