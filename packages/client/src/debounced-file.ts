import writeFileAtomic from 'write-file-atomic';

export interface DebouncedFileOptions {
  /** How long to wait for more changes before writing, so a burst makes one write. */
  debounceMs: number;
  /** A write that failed (the file keeps its previous content); the next one tries again. */
  onError(err: unknown): void;
}

/**
 * A file rewritten soon after each change, for copies of state that a process starts from when
 * its source is unreachable: the client's last-known-good file and the server's last-known-good
 * copy. Bursts of changes coalesce into one write, the content is taken when the write happens
 * (so it is the latest), writes never overlap, and each is atomic (write-file-atomic: a crash
 * mid-write leaves the previous file whole) with mode 0600, since these files hold configuration.
 */
export class DebouncedFile {
  private timer: NodeJS.Timeout | undefined;
  private pending: (() => string | undefined) | undefined;
  private writing: Promise<void> = Promise.resolve();

  constructor(
    readonly path: string,
    private readonly options: DebouncedFileOptions,
  ) {}

  /** Writes soon; `content` is called when the write happens (undefined: nothing to write). */
  schedule(content: () => string | undefined): void {
    this.pending = content;
    if (this.timer) return;
    this.timer = setTimeout(() => void this.flush(), this.options.debounceMs);
    // A pending write never keeps a process alive: whoever stops it calls flush().
    this.timer.unref();
  }

  /** Writes what is scheduled now and waits for any write in progress (close, shutdown, tests). */
  async flush(): Promise<void> {
    clearTimeout(this.timer);
    this.timer = undefined;
    const content = this.pending;
    this.pending = undefined;
    if (content) this.writing = this.writing.then(() => this.write(content));
    await this.writing;
  }

  private async write(content: () => string | undefined): Promise<void> {
    try {
      const text = content();
      if (text !== undefined) await writeFileAtomic(this.path, text, { mode: 0o600 });
    } catch (err) {
      this.options.onError(err);
    }
  }
}
