/** What the client hands to the application (what the API sends is in ../wire.ts). */
import type { FlagDefinition } from '../flags/model.js';
import type { Actor } from '../wire.js';

/** One applied flag change, as the `flag` event gives it. */
export interface FlagChange {
  name: string;
  version: number;
  /** `create`, `set`, `archive`, `rollback`, `kill`...; `resync` when found by comparing a fresh list. */
  action: string;
  /** The kill switch after the change (false for an archived flag too). */
  enabled: boolean;
  archived: boolean;
  /** Who made it; null when found by comparing a fresh list. */
  actor: Actor | null;
  /** The position in the change stream this change is at. */
  seq: number;
  flag: FlagDefinition;
  /** Undefined for a flag this client did not hold. */
  previous: FlagDefinition | undefined;
}

/** A value the client holds in memory. */
export interface Entry {
  value: unknown;
  version: number;
  layer: string;
  sensitive: boolean;
  masked: boolean;
}

/**
 * One applied change, as `subscribe` listeners and the `change` event receive it. Typed by key:
 * narrowing on `key` narrows `value` and `previous`. A value the token may not see is undefined.
 */
export type ConfigChange<Values, K extends keyof Values = keyof Values> = {
  [P in K]: {
    key: P;
    value: Values[P] | undefined;
    previous: Values[P] | undefined;
    version: number;
    /** The scope the change was made at (`global`, `env:<name>`, `guild:<id>`). */
    scope: string;
    /** The layer that now supplies the value. */
    layer: string;
    /** `set`, `rollback`, `reset`, ...; `resync` when found by comparing a fresh snapshot. */
    action: string;
    /** Who made it; null when found by comparing a fresh snapshot. */
    actor: Actor | null;
    /** The position in the change stream this change is at. */
    seq: number;
  };
}[K];

export type ChangeListener<Values, K extends keyof Values = keyof Values> = (
  change: ConfigChange<Values, K>,
) => void | Promise<void>;

/** Where the values in memory came from. */
export type ValueSource = 'api' | 'last-known-good';

/** The client's typed events; background work reports here and never throws. */
export interface ClientEvents<Values> {
  /** A failure the application should know about (a bad token, a listener that threw). */
  error: [error: Error];
  /** A transient problem the client is handling itself (API unreachable, a failed report). */
  warn: [message: string];
  /** The event stream is open (after a snapshot when one was needed). */
  connected: [info: { seq: number }];
  /** The event stream closed or could not be opened; the client reconnects by itself. */
  disconnected: [info: { reason: string; retryInMs: number }];
  change: [change: ConfigChange<Values>];
  /** A flag was created, changed, archived or killed (after it is in force for isEnabled). */
  flag: [change: FlagChange];
}

export interface ConfigClientOptions {
  /** Base URL of the API, e.g. `http://127.0.0.1:3000`. */
  url: string;
  /** An API token (`/config token create`); a read token is enough. */
  token: string;
  /** The environment to read for; default: the server's default environment. */
  env?: string;
  /** A Discord server id, to read its overrides too. */
  guild?: string;
  /** Only these keys (default: every key the token may read). */
  keys?: readonly string[];
  /**
   * Last-known-good file: written after each load and change, read at start when the API cannot
   * be reached. Without it, the application cannot start while the API is down.
   */
  cacheFile?: string;
  /** Shown in `GET /v1/instances`; default: the script's file name. */
  name?: string;
  /** The application's version, shown in `GET /v1/instances`. */
  version?: string;
  /** How often to report the applied position when nothing changes; default 5000 ms. */
  reportIntervalMs?: number;
  /** Reconnect delays: full jitter between 0 and min(maxMs, minMs * 2^attempt); default 500 ms / 30 s. */
  backoff?: { minMs?: number; maxMs?: number };
  /** A stream that sends nothing (not even the 15 s ping) for this long is reopened; default 45 s. */
  idleTimeoutMs?: number;
  /** Time allowed for a snapshot or a report request; default 10 s. */
  requestTimeoutMs?: number;
  /** The fetch to use (a proxy agent, tests); default: the global fetch. */
  fetch?: typeof fetch;
}
