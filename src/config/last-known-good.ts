import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { DebouncedFile } from '@config-bot/client/debounced-file';
import { errorDetail, logger } from '../base/logger.js';
import { dataDirFix } from '../base/local-files.js';
import type { CacheEntry } from './cache.js';
import type { ValueCodec } from '../storage/codec.js';

interface StoredEntry {
  /** The value as the database stores it: a sensitive one stays encrypted here too. */
  value: unknown;
  version: number;
  updatedBy: CacheEntry['updatedBy'];
  updatedAt: string;
  unset?: boolean;
}

interface FileContent {
  format: 1;
  database: string;
  writtenAt: string;
  values: Record<string, StoredEntry>;
}

export interface LastKnownCopy {
  writtenAt: Date;
  entries: Map<string, CacheEntry>;
}

/** Coalesces bursts (a catch-up of many versions, seeding) into one write. */
const DEBOUNCE_MS = 200;

/**
 * A copy of every current value on local disk, so a process can start (and serve reads and run
 * its jobs) while the database is unreachable, as client SDKs keep a backup of the last values
 * they fetched. Written atomically (a crash mid-write leaves the previous copy whole) at start and
 * after every change this process learns of; values of sensitive keys stay encrypted.
 */
export class LastKnownGood {
  private readonly writer: DebouncedFile;

  constructor(
    readonly file: string,
    private readonly database: string,
    private readonly codec: ValueCodec,
  ) {
    this.writer = new DebouncedFile(file, {
      debounceMs: DEBOUNCE_MS,
      // The previous copy stays whole (each write is atomic); the next change tries again.
      onError: (err) => {
        logger.error(
          `Could not write the last-known-good copy ${file}: ${dataDirFix(err, path.dirname(file))}; the previous copy is kept`,
        );
        logger.debug('Last-known-good write failure', errorDetail(err));
      },
    });
  }

  /** The copy on disk, or undefined when there is none (or it is unreadable, which is logged). */
  async read(): Promise<LastKnownCopy | undefined> {
    let text: string;
    try {
      text = await readFile(this.file, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT')
        logger.error(`Could not read the last-known-good copy ${this.file}`, errorDetail(err));
      return undefined;
    }
    let content: FileContent;
    try {
      content = JSON.parse(text) as FileContent;
      if (content.format !== 1 || typeof content.values !== 'object') throw new Error('unknown format');
    } catch (err) {
      logger.error(`The last-known-good copy ${this.file} is unreadable; ignoring it`, errorDetail(err));
      return undefined;
    }
    const entries = new Map<string, CacheEntry>();
    for (const [key, e] of Object.entries(content.values)) {
      entries.set(key, {
        value: this.codec.decode(key, e.value),
        version: e.version,
        updatedBy: e.updatedBy,
        updatedAt: new Date(e.updatedAt),
        ...(e.unset ? { unset: true } : {}),
      });
    }
    return { writtenAt: new Date(content.writtenAt), entries };
  }

  /** Writes the copy soon (coalescing bursts); `entries` is read when the write happens. */
  schedule(entries: () => Iterable<[string, CacheEntry]>): void {
    this.writer.schedule(() => this.content(entries()));
  }

  /** Writes a scheduled copy now, and waits for any write in progress (shutdown, tests). */
  flush(): Promise<void> {
    return this.writer.flush();
  }

  private content(entries: Iterable<[string, CacheEntry]>): string {
    const values: Record<string, StoredEntry> = {};
    for (const [key, e] of entries) {
      values[key] = {
        value: this.codec.encode(key, e.value),
        version: e.version,
        updatedBy: e.updatedBy,
        updatedAt: new Date(e.updatedAt).toISOString(),
        ...(e.unset ? { unset: true } : {}),
      };
    }
    const content: FileContent = {
      format: 1,
      database: this.database,
      writtenAt: new Date().toISOString(),
      values,
    };
    return `${JSON.stringify(content)}\n`;
  }
}
