/**
 * `@config-bot/client`: what an application imports to read its configuration and flags over the
 * HTTP API. It imports nothing of the server (no database, no discord.js): docs/client.md.
 */
export { ConfigClient, createConfigClient, type ClientStatus } from './client/client.js';
export { ConfigClientFatalError, ConfigClientUnavailableError } from './client/http.js';
export { ConfigBotProvider, toFlagContext, type ConfigBotProviderOptions } from './client/openfeature.js';
export type {
  ChangeListener,
  ClientEvents,
  ConfigChange,
  ConfigClientOptions,
  FlagChange,
  ValueSource,
} from './client/types.js';
export type { Explanation, FlagCountsSnapshot, FlagVariant, Reason } from './flags/evaluate.js';
export type {
  Condition,
  FlagContext,
  FlagDefinition,
  FlagImpact,
  FlagInput,
  FlagTargets,
  FlagType,
  Operator,
  Variant,
  VariantPayload,
} from './flags/model.js';
export type * from './wire.js';
