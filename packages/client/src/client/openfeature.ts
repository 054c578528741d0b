/**
 * An OpenFeature server provider over a ConfigClient. Only types come from the SDK (an optional
 * peer dependency), so an application that does not use OpenFeature never loads it.
 */
import type {
  AnyProviderEvent,
  ErrorCode,
  EvaluationContext,
  EvaluationContextValue,
  EventContext,
  EventHandler,
  FlagMetadata,
  JsonValue,
  Logger,
  Paradigm,
  Provider,
  ProviderEventEmitter,
  ProviderEvents,
  ResolutionDetails,
  ResolutionReason,
} from '@openfeature/server-sdk';
import type { Explanation } from '../flags/evaluate.js';
import type { FlagContext } from '../flags/model.js';
import type { Reason } from '../flags/reasons.js';
import type { ConfigClient } from './client.js';
import { ConfigClientFatalError } from './http.js';

// The SDK's enums, as the strings they stand for (a type-only import has no values).
const EVENT = {
  ready: 'PROVIDER_READY' as ProviderEvents.Ready,
  error: 'PROVIDER_ERROR' as ProviderEvents.Error,
  stale: 'PROVIDER_STALE' as ProviderEvents.Stale,
  changed: 'PROVIDER_CONFIGURATION_CHANGED' as ProviderEvents.ConfigurationChanged,
};
const CODE = {
  notFound: 'FLAG_NOT_FOUND' as ErrorCode.FLAG_NOT_FOUND,
  typeMismatch: 'TYPE_MISMATCH' as ErrorCode.TYPE_MISMATCH,
  notReady: 'PROVIDER_NOT_READY' as ErrorCode.PROVIDER_NOT_READY,
  parse: 'PARSE_ERROR' as ErrorCode.PARSE_ERROR,
  invalidContext: 'INVALID_CONTEXT' as ErrorCode.INVALID_CONTEXT,
  general: 'GENERAL' as ErrorCode.GENERAL,
};

/**
 * OpenFeature reasons for ours. `rollout_in`/`rollout_out` are SPLIT for a partial rollout, and
 * STATIC (no rule) or TARGETING_MATCH (after conditions or targets) at 0% or 100% (flagReason).
 */
const REASON: Record<Reason, ResolutionReason> = {
  unknown_flag: 'ERROR',
  archived: 'DISABLED',
  disabled: 'DISABLED',
  environment: 'DISABLED',
  before_start: 'TARGETING_MATCH',
  after_end: 'TARGETING_MATCH',
  excluded: 'TARGETING_MATCH',
  prerequisite_cycle: 'ERROR',
  prerequisite_off: 'TARGETING_MATCH',
  included: 'TARGETING_MATCH',
  condition_failed: 'TARGETING_MATCH',
  missing_stickiness: 'DEFAULT',
  rollout_in: 'SPLIT',
  rollout_out: 'SPLIT',
  error: 'ERROR',
};

export interface ConfigBotProviderOptions {
  /** Close the client when OpenFeature closes the provider; default false (the provider only detaches). */
  closeClient?: boolean;
}

type Client = ConfigClient<object>;
type Kind = 'string' | 'number' | 'object';

/**
 * OpenFeature server provider for config-bot: boolean evaluations are our flags, evaluated
 * locally by the client (`isEnabled`, counted); string, number and object evaluations read
 * configuration keys from the client's memory (reason STATIC). Nothing does I/O per evaluation.
 *
 * Configuration values are those of the client's environment and guild: a context naming another
 * `environment` or `guildId` gets INVALID_CONTEXT and the default (use a client for that target).
 * Flags honour the context's environment and guild, as `isEnabled` does.
 */
export class ConfigBotProvider<Values extends object = Record<string, unknown>> implements Provider {
  readonly metadata = { name: 'config-bot' } as const;
  readonly runsOn: Paradigm = 'server';
  readonly events = new ProviderEventHandlers();
  private readonly client: Client;
  private readonly detach: (() => void)[] = [];
  /** What the provider last told the SDK: events only on transitions. */
  private state: 'ready' | 'stale' | 'error' | undefined;

  constructor(
    client: ConfigClient<Values>,
    private readonly options: ConfigBotProviderOptions = {},
  ) {
    // Any typed client will do: the provider reads keys by name, untyped.
    this.client = client as unknown as Client;
  }

  /** Resolves once the client has values (from the API or its last-known-good file); rejects as ready() does. */
  async initialize(): Promise<void> {
    this.listen();
    await this.client.ready();
    this.state = 'ready';
    // Started from the last-known-good file: stale until the stream opens (after the SDK's READY).
    if (this.client.status().source === 'last-known-good')
      setImmediate(() => {
        if (this.detach.length && !this.client.status().connected) this.tell('stale', EVENT.stale);
      }).unref();
  }

  async onClose(): Promise<void> {
    for (const off of this.detach.splice(0)) off();
    if (this.options.closeClient) await this.client.close();
  }

  async resolveBooleanEvaluation(
    flagKey: string,
    defaultValue: boolean,
    context: EvaluationContext,
  ): Promise<ResolutionDetails<boolean>> {
    const notReady = this.notReady(defaultValue);
    if (notReady) return notReady;
    const held = this.client.flag(flagKey);
    if (!held) {
      const config = this.client.read(flagKey);
      if (config.found && typeof config.value === 'boolean')
        return this.configValue(flagKey, defaultValue, context, 'boolean');
      return failure(defaultValue, CODE.notFound, `No flag or boolean configuration key is named ${flagKey}`);
    }
    const ctx = toFlagContext(context);
    // variant() is the counted evaluation; explain (not counted) gives the rule that decided.
    const variant = this.client.variant(flagKey, ctx);
    const why = this.client.explainFlag(flagKey, ctx);
    const flagMetadata: FlagMetadata = { version: held.version, reason: why.reason, message: why.message };
    if (why.reason === 'unknown_flag')
      return failure(
        defaultValue,
        CODE.parse,
        `Flag ${flagKey} has a definition the client cannot evaluate`,
        flagMetadata,
      );
    if (why.reason === 'prerequisite_cycle' || why.reason === 'error')
      return failure(
        defaultValue,
        why.reason === 'error' ? CODE.invalidContext : CODE.general,
        why.message,
        flagMetadata,
      );
    return {
      value: variant.featureEnabled,
      reason: flagReason(why, held),
      ...(variant.enabled ? { variant: variant.name } : {}),
      flagMetadata,
    };
  }

  async resolveStringEvaluation(flagKey: string, defaultValue: string, context: EvaluationContext) {
    return this.configValue(flagKey, defaultValue, context, 'string');
  }

  async resolveNumberEvaluation(flagKey: string, defaultValue: number, context: EvaluationContext) {
    return this.configValue(flagKey, defaultValue, context, 'number');
  }

  async resolveObjectEvaluation<T extends JsonValue>(
    flagKey: string,
    defaultValue: T,
    context: EvaluationContext,
  ): Promise<ResolutionDetails<T>> {
    return this.configValue(flagKey, defaultValue, context, 'object');
  }

  /** A configuration key's value for the client's environment and guild (STATIC); null is DEFAULT. */
  private configValue<T>(
    key: string,
    defaultValue: T,
    context: EvaluationContext,
    kind: Kind | 'boolean',
  ): ResolutionDetails<T> {
    const notReady = this.notReady(defaultValue);
    if (notReady) return notReady;
    const status = this.client.status();
    const env = typeof context.environment === 'string' ? context.environment : undefined;
    const guild = typeof context.guildId === 'string' ? context.guildId : undefined;
    if ((env !== undefined && env !== status.environment) || (guild !== undefined && guild !== status.guild))
      return failure(
        defaultValue,
        CODE.invalidContext,
        `This client reads configuration for environment ${status.environment ?? '?'} and guild ${status.guild ?? '(none)'}, not ${env ?? status.environment ?? '?'} and ${guild ?? status.guild ?? '(none)'}: use a client for that target`,
      );
    const found = this.client.read(key);
    if (!found.found)
      return failure(
        defaultValue,
        CODE.notFound,
        `No configuration key ${key} (or it is masked for this token)`,
      );
    if (found.value === null) return { value: defaultValue, reason: 'DEFAULT' };
    if (!isKind(found.value, kind))
      return failure(
        defaultValue,
        CODE.typeMismatch,
        `${key} holds ${describe(found.value)}, not ${kind === 'object' ? 'an object' : `a ${kind}`}`,
      );
    return { value: found.value as T, reason: 'STATIC' };
  }

  private notReady<T>(defaultValue: T): ResolutionDetails<T> | undefined {
    if (this.client.status().ready) return undefined;
    return failure(defaultValue, CODE.notReady, 'The configuration client has not loaded its values yet');
  }

  /** Follows the client: changes become CONFIGURATION_CHANGED, outages STALE, refusals ERROR. */
  private listen(): void {
    if (this.detach.length) return;
    const client = this.client;
    const changed = (change: { key: string }): void =>
      this.events.emit(EVENT.changed, { flagsChanged: [change.key] });
    const flag = (change: { name: string }): void =>
      this.events.emit(EVENT.changed, { flagsChanged: [change.name] });
    const lost = (): void => this.tell('stale', EVENT.stale);
    const back = (): void => this.tell('ready', EVENT.ready);
    const failed = (err: Error): void => {
      // Only a refusal stops the client; a listener that threw is the application's own error.
      if (err instanceof ConfigClientFatalError) this.tell('error', EVENT.error, err.message);
      // Listening must not swallow what the client would otherwise print (it has no other listener).
      if (client.listenerCount('error') === 1) process.emitWarning(err.message, 'ConfigClientError');
    };
    client.on('change', changed);
    client.on('flag', flag);
    client.on('disconnected', lost);
    client.on('connected', back);
    client.on('error', failed);
    this.detach.push(() => {
      client.off('change', changed);
      client.off('flag', flag);
      client.off('disconnected', lost);
      client.off('connected', back);
      client.off('error', failed);
    });
  }

  private tell(state: 'ready' | 'stale' | 'error', event: AnyProviderEvent, message?: string): void {
    if (this.state === state || this.state === undefined) return;
    this.state = state;
    this.events.emit(event, message ? { message } : {});
  }
}

/** The OpenFeature reason for how a flag decided. */
function flagReason(why: Explanation, held: { conditions: unknown[]; include: Targets }): ResolutionReason {
  if (why.reason !== 'rollout_in' && why.reason !== 'rollout_out') return REASON[why.reason] ?? 'UNKNOWN';
  const pct = why.rollout?.percentage ?? 100;
  if (pct > 0 && pct < 100) return 'SPLIT';
  const targeted =
    held.conditions.length > 0 ||
    held.include.users.length + held.include.roles.length + held.include.guilds.length > 0;
  return targeted ? 'TARGETING_MATCH' : 'STATIC';
}

interface Targets {
  users: string[];
  roles: string[];
  guilds: string[];
}

/**
 * An OpenFeature context as ours: `targetingKey` (else `userId`) is the user, `guildId`, `roles`
 * and `environment` are ours, every other string, number or boolean is an attribute (as text).
 */
export function toFlagContext(context: EvaluationContext): FlagContext {
  const ctx: FlagContext = {};
  const attributes: Record<string, string> = {};
  for (const [name, value] of Object.entries(context)) {
    if (name === 'targetingKey' || name === 'userId') continue;
    if (name === 'guildId' && typeof value === 'string') ctx.guildId = value;
    else if (name === 'environment' && typeof value === 'string') ctx.environment = value;
    else if (name === 'roles' && Array.isArray(value))
      ctx.roles = value.filter((r): r is string => typeof r === 'string');
    else {
      const text = attributeText(value);
      if (text !== undefined) attributes[name] = text;
    }
  }
  const user = context.targetingKey ?? context.userId;
  if (typeof user === 'string' && user) ctx.userId = user;
  if (Object.keys(attributes).length) ctx.attributes = attributes;
  return ctx;
}

function attributeText(value: EvaluationContextValue | undefined): string | undefined {
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  if (value instanceof Date) return value.toISOString();
  return undefined;
}

function failure<T>(
  value: T,
  errorCode: ErrorCode,
  errorMessage: string,
  flagMetadata?: FlagMetadata,
): ResolutionDetails<T> {
  return { value, reason: 'ERROR', errorCode, errorMessage, ...(flagMetadata ? { flagMetadata } : {}) };
}

function isKind(value: unknown, kind: Kind | 'boolean'): boolean {
  if (kind === 'object') return typeof value === 'object' && value !== null;
  return typeof value === kind;
}

function describe(value: unknown): string {
  if (Array.isArray(value)) return 'a list';
  return typeof value === 'object' ? 'an object' : `a ${typeof value}`;
}

/** The provider's events, for the SDK (which keeps the provider's status from them). */
class ProviderEventHandlers implements ProviderEventEmitter<AnyProviderEvent> {
  private readonly handlers = new Map<AnyProviderEvent, Set<EventHandler>>();
  private logger: Logger | undefined;

  emit(eventType: AnyProviderEvent, context?: EventContext): void {
    for (const handler of this.getHandlers(eventType)) {
      try {
        const result = handler(context as Parameters<EventHandler>[0]);
        if (result instanceof Promise) result.catch((err: unknown) => this.logger?.error(err));
      } catch (err) {
        // A handler of the application's must not stop the others, nor the client's work.
        this.logger?.error(err);
      }
    }
  }

  addHandler(eventType: AnyProviderEvent, handler: EventHandler): void {
    const set = this.handlers.get(eventType) ?? new Set();
    set.add(handler);
    this.handlers.set(eventType, set);
  }

  removeHandler(eventType: AnyProviderEvent, handler: EventHandler): void {
    this.handlers.get(eventType)?.delete(handler);
  }

  removeAllHandlers(eventType?: AnyProviderEvent): void {
    if (eventType === undefined) this.handlers.clear();
    else this.handlers.delete(eventType);
  }

  getHandlers(eventType: AnyProviderEvent): EventHandler[] {
    return [...(this.handlers.get(eventType) ?? [])];
  }

  setLogger(logger: Logger): this {
    this.logger = logger;
    return this;
  }
}
