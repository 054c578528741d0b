import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';

/**
 * Where the console keeps the files replies carry (an export, a history chart, a snapshot): a
 * folder created at the first file. A name already taken gets a number (`chart-2.png`): a file
 * written earlier is never replaced.
 */
export class SavedFiles {
  readonly dir: string;

  constructor(dir: string) {
    this.dir = path.resolve(dir);
  }

  /** Writes one file (readable by its owner only: an export names every setting); returns its path. */
  save(name: string, data: Uint8Array): string {
    mkdirSync(this.dir, { recursive: true, mode: 0o700 });
    // The name comes from a reply: only its last part, so it cannot point outside the folder.
    const safe = path.basename(name).replace(/[^\w.-]/g, '_') || 'file';
    const ext = path.extname(safe);
    const stem = safe.slice(0, safe.length - ext.length);
    for (let n = 1; ; n++) {
      const file = path.join(this.dir, n === 1 ? safe : `${stem}-${n}${ext}`);
      try {
        writeFileSync(file, data, { flag: 'wx', mode: 0o600 });
        return file;
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      }
    }
  }
}
