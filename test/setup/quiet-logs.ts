/**
 * A passing run prints the runner's summary and little else; a failing test shows what it
 * logged, and the warnings Node raised meanwhile. In every test worker the logger's console
 * transport is swapped for one that keeps each test's lines (in the logger's own format, at its
 * own level) and prints them only when that test fails; lines logged outside a test (beforeAll,
 * afterAll) are printed when anything in the file failed. What the code logs, and at which level,
 * is unchanged: a test can still read it (test/helpers/logs.ts).
 */
import { Writable } from 'node:stream';
import { afterAll, afterEach, beforeEach, type RunnerTask } from 'vitest';
import winston from 'winston';
import { logger } from '../../src/base/logger.js';
import { endTest, fileOutput, keep, startFile, startTest } from './test-output.js';

// This file runs before every test file, and test files share a worker's modules (isolate: false
// in vitest.config.ts): the logger and process are set up once per worker.
const INSTALLED = Symbol.for('config-bot.test.quiet-logs');
const worker = globalThis as { [INSTALLED]?: true };
if (!worker[INSTALLED]) {
  worker[INSTALLED] = true;
  for (const t of logger.transports.filter((t) => t instanceof winston.transports.Console)) logger.remove(t);
  logger.add(
    new winston.transports.Stream({
      stream: new Writable({
        write(chunk: Buffer, _encoding, done) {
          keep(chunk.toString());
          done();
        },
      }),
    }),
  );
  // Workers run with --no-warnings (vitest.config.ts): a warning still reaches every listener, and
  // is printed with the test that caused it, if it fails.
  process.on('warning', (w) => keep(`(node) ${w.name}: ${w.message}\n`));
}
startFile();

function print(title: string, lines: readonly string[]): void {
  if (!lines.length) return;
  process.stderr.write(`\n----- ${title} -----\n${lines.join('')}----- end -----\n`);
}

const failed = (task: RunnerTask): boolean =>
  task.result?.state === 'fail' || ('tasks' in task && task.tasks.some(failed));

beforeEach(({ task, onTestFailed }) => {
  const lines = startTest();
  onTestFailed(() => print(`output of the failed test "${task.fullName}"`, lines));
});

// Registered first, so it runs after the test's own afterEach hooks, whose lines stay with the test.
afterEach(() => endTest());

// vitest wants an object pattern for the context, which this hook does not use.
// eslint-disable-next-line no-empty-pattern
afterAll(({}, file) => {
  if (failed(file)) print(`output of ${file.name} outside its tests`, fileOutput());
});
