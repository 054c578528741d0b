/**
 * What the HTTP API sends and receives (docs/api.md), declared once: the server types its answers
 * with these, and the client reads them (client/read-wire.ts checks every field before trusting
 * it, since the other end may be another release).
 */
import type { FlagDefinition } from './flags/model.js';

/** Who made a change. */
export interface Actor {
  id: string;
  tag?: string;
}

/**
 * A value as the API shows it to one token: a sensitive value the token may not see, or one the
 * server cannot decrypt, is `null` with `masked: true` (and `undecryptable: true` for the latter);
 * an unset value is `null` without `masked`.
 */
export interface WireValue {
  value: unknown;
  masked?: true;
  undecryptable?: true;
}

/** A key's resolved value, as `GET /v1/config` and change events carry it. */
export interface WireResolved extends WireValue {
  version: number;
  /** Where the value in force comes from: `global`, `env:<name>`, `guild:<id>`, `process`, `default`. */
  layer: string;
  sensitive: boolean;
}

/** `GET /v1/config?env=&guild=` */
export interface WireSnapshot {
  seq: number;
  environment: string;
  guild: string | null;
  values: Record<string, WireResolved>;
}

/**
 * The data of an `event: change` on `/v1/events`: the value this stream's environment and server
 * resolve to once the change applies (`value`, `layer`, `layerVersion`), and the change itself.
 */
export interface WireChange extends WireResolved {
  seq: number;
  key: string;
  /** Where the change was made. */
  scope: string;
  action: string;
  actor: Actor | null;
  /** ISO 8601. */
  at: string;
  /** The value the change wrote at its scope. */
  change: WireValue | { value: null; unset: true };
  /** The version of the layer now supplying the value (`version` is the change's own). */
  layerVersion?: number;
}

/** The data of an `event: checkpoint` or `event: resync`: only the position moves. */
export interface WirePosition {
  seq: number;
}

/**
 * A flag as `GET /v1/flags` and `event: flag` carry it: its definition (every default filled in)
 * and the version it is at. Archived flags are included (they evaluate as off).
 */
export type WireFlag = FlagDefinition & {
  version: number;
  /** ISO 8601. */
  updatedAt: string;
  updatedBy: Actor;
};

/** `GET /v1/flags?env=&guild=` */
export interface WireFlags {
  seq: number;
  /** The environment the server evaluates for: a context without one uses it (or the client's `env`). */
  environment: string;
  flags: WireFlag[];
}

/** The data of an `event: flag` on `/v1/events`. */
export interface WireFlagEvent {
  seq: number;
  name: string;
  version: number;
  action: string;
  actor: Actor | null;
  /** ISO 8601. */
  at: string;
  flag: WireFlag;
}

/** `POST /v1/flags/:name/errors` */
export interface FlagErrorResult {
  name: string;
  counted: number;
  /** Errors counted within the window since the flag last changed (null without a threshold). */
  errors: number | null;
  threshold: { errors: number; windowMs: number } | null;
  /** Whether this report switched the flag off. */
  killed: boolean;
  version: number;
}

/** The body of `POST /v1/instances/report`: which change an instance has applied. */
export interface InstanceReport {
  id: string;
  name?: string;
  host?: string;
  pid?: number;
  version?: string;
  /** The last event id (change-log position) applied. */
  applied: number;
  /** Flag evaluations per flag per reason since the previous report (left out when none). */
  evaluations?: Record<string, Record<string, number>>;
}
