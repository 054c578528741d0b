import { Writable } from 'node:stream';
import winston from 'winston';
import { logger } from '../../src/base/logger.js';

/** Captures what the real logger writes (every level), for assertions on log output. */
export function captureLogs(): { lines: string[]; stop(): void } {
  const lines: string[] = [];
  const transport = new winston.transports.Stream({
    level: 'debug',
    format: winston.format.json(),
    stream: new Writable({
      write(chunk: Buffer, _enc, cb) {
        lines.push(chunk.toString());
        cb();
      },
    }),
  });
  logger.add(transport);
  return { lines, stop: () => void logger.remove(transport) };
}
