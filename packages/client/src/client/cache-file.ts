import {
  createCipheriv,
  createDecipheriv,
  createHmac,
  hkdfSync,
  randomBytes,
  timingSafeEqual,
} from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { DebouncedFile } from '../debounced-file.js';
import {
  parseContent,
  type CacheRequest,
  type FileContent,
  type Sealed,
  type StoredValue,
} from './cache-format.js';
import type { FlagsState } from './flags.js';
import type { Resolved } from './memory.js';
import type { Entry } from './types.js';

export type { CacheRequest } from './cache-format.js';

export interface CachedValues {
  seq: number;
  writtenAt: Date;
  request: CacheRequest;
  /** The API the file was written from (its base URL). */
  api: string;
  resolved: Resolved;
  /** Written under the token at hand (its token check matches). */
  sameToken: boolean;
  entries: Map<string, Entry>;
  /** Sensitive keys this token cannot open (a file written under another token): left masked. */
  unreadable: string[];
  /** Undefined in a file written before flags (or while the API had none). */
  flags: FlagsState | undefined;
}

export interface CacheState {
  seq: number;
  resolved: Resolved;
  entries: Iterable<[string, Entry]>;
  flags: FlagsState | undefined;
}

export interface CacheFileOptions {
  path: string;
  token: string;
  request: CacheRequest;
  /** The API's base URL, recorded so that a file of another API is not resumed from. */
  api: string;
}

/** Coalesces bursts of changes (a resync, a busy stream) into one write. */
const DEBOUNCE_MS = 250;
const SEAL_INFO = 'config-bot client last-known-good v1';
const CHECK_INFO = 'config-bot client last-known-good v1 token check';
/** What the token check authenticates: a constant, so only the key (the token) makes it differ. */
const CHECKED = 'config-bot client token check';

/**
 * The last-known-good file, so the application can start and serve while the API is unreachable.
 * Written atomically (a crash mid-write leaves the previous file whole), mode 0600, bursts of
 * changes coalesced into one write (DebouncedFile, shared with the server's own copy).
 *
 * Sensitive values are sealed with AES-256-GCM under a key derived (HKDF-SHA256) from the API
 * token. The token is what already lets this process read them from the API, so the file grants
 * nothing the token did not: without the token (a copied file, a backup, a log collector) they
 * stay unreadable, and no second secret has to be configured, rotated or kept next to the file.
 * A file written under another token simply leaves those values masked until the API answers;
 * its token check (an HMAC of a constant, never the token) tells such a file apart.
 */
export class CacheFile {
  readonly path: string;
  private readonly salt = randomBytes(16);
  private readonly sealKey: Buffer;
  private readonly tokenCheck: string;
  private readonly file: DebouncedFile;

  constructor(
    private readonly options: CacheFileOptions,
    onWriteError: (err: unknown) => void,
  ) {
    this.path = options.path;
    this.file = new DebouncedFile(options.path, { debounceMs: DEBOUNCE_MS, onError: onWriteError });
    this.sealKey = deriveKey(options.token, this.salt, SEAL_INFO);
    this.tokenCheck = checkToken(options.token, this.salt);
  }

  /**
   * The file's values, or undefined when there is none; throws one line when it exists but is
   * unusable (not JSON, a field missing or malformed).
   */
  async read(): Promise<CachedValues | undefined> {
    let text: string;
    try {
      text = await readFile(this.path, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw err;
    }
    const content = parseContent(text);
    const salt = Buffer.from(content.salt, 'base64');
    const key = deriveKey(this.options.token, salt, SEAL_INFO);
    const entries = new Map<string, Entry>();
    const unreadable: string[] = [];
    for (const [name, stored] of Object.entries(content.values)) {
      const base = { version: stored.version, layer: stored.layer, sensitive: stored.sensitive };
      if (stored.sealed) {
        const opened = open(key, name, stored.sealed);
        if (opened.ok) entries.set(name, { ...base, value: opened.value, masked: false });
        else {
          unreadable.push(name);
          entries.set(name, { ...base, value: undefined, masked: true });
        }
      } else if (stored.masked) entries.set(name, { ...base, value: undefined, masked: true });
      else entries.set(name, { ...base, value: stored.value, masked: false });
    }
    return {
      seq: content.seq,
      writtenAt: new Date(content.writtenAt),
      request: content.request,
      api: content.api,
      resolved: content.resolved,
      sameToken: sameCheck(content.tokenCheck, checkToken(this.options.token, salt)),
      entries,
      unreadable,
      flags: content.flags,
    };
  }

  /** Writes the file soon, coalescing bursts; `state` is read when the write happens (none: no write). */
  schedule(state: () => CacheState | undefined): void {
    this.file.schedule(() => {
      const now = state();
      return now && this.content(now);
    });
  }

  /** Writes a scheduled state now and waits for any write in progress (close). */
  flush(): Promise<void> {
    return this.file.flush();
  }

  private content(state: CacheState): string {
    const values: Record<string, StoredValue> = {};
    for (const [name, e] of state.entries) {
      const base = { version: e.version, layer: e.layer, sensitive: e.sensitive };
      if (e.masked) values[name] = { ...base, masked: true };
      else if (e.sensitive) values[name] = { ...base, sealed: seal(this.sealKey, name, e.value) };
      else values[name] = { ...base, value: e.value };
    }
    const content: FileContent = {
      format: 1,
      writtenAt: new Date().toISOString(),
      seq: state.seq,
      request: this.options.request,
      api: this.options.api,
      resolved: state.resolved,
      tokenCheck: this.tokenCheck,
      salt: this.salt.toString('base64'),
      values,
      ...(state.flags ? { flags: state.flags } : {}),
    };
    return `${JSON.stringify(content)}\n`;
  }
}

function deriveKey(token: string, salt: Buffer, info: string): Buffer {
  return Buffer.from(hkdfSync('sha256', token, salt, info, 32));
}

/** A key of its own (not the sealing key), so the check reveals nothing about sealed values. */
function checkToken(token: string, salt: Buffer): string {
  return createHmac('sha256', deriveKey(token, salt, CHECK_INFO))
    .update(CHECKED)
    .digest('base64');
}

function sameCheck(stored: string, expected: string): boolean {
  const a = Buffer.from(stored, 'base64');
  const b = Buffer.from(expected, 'base64');
  return a.length === b.length && timingSafeEqual(a, b);
}

/** The key name is authenticated data, so a sealed value cannot be moved to another key. */
function seal(key: Buffer, name: string, value: unknown): Sealed {
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', key, iv);
  cipher.setAAD(Buffer.from(name, 'utf8'));
  const data = Buffer.concat([cipher.update(JSON.stringify(value) ?? 'null', 'utf8'), cipher.final()]);
  return {
    iv: iv.toString('base64'),
    tag: cipher.getAuthTag().toString('base64'),
    data: data.toString('base64'),
  };
}

function open(key: Buffer, name: string, sealed: Sealed): { ok: true; value: unknown } | { ok: false } {
  try {
    const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(sealed.iv, 'base64'));
    decipher.setAAD(Buffer.from(name, 'utf8'));
    decipher.setAuthTag(Buffer.from(sealed.tag, 'base64'));
    const text = Buffer.concat([decipher.update(Buffer.from(sealed.data, 'base64')), decipher.final()]);
    return { ok: true, value: JSON.parse(text.toString('utf8')) as unknown };
  } catch {
    // Another token's key (or a damaged value): the authentication tag does not match.
    return { ok: false };
  }
}
