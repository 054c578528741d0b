/**
 * `config-bot/client`: what an application imports to read its configuration over the HTTP API.
 * Self-contained: no database, no discord.js, nothing else from this repository (docs/client.md).
 */
export { ConfigClient, createConfigClient, type ClientStatus } from './client.js';
export { ConfigClientFatalError, ConfigClientUnavailableError } from './http.js';
export { ConfigBotProvider, toFlagContext, type ConfigBotProviderOptions } from './openfeature.js';
export type { Explanation, FlagCountsSnapshot, FlagVariant, Reason } from '../flags/evaluate.js';
export type { FlagContext, FlagDefinition } from '../flags/model.js';
export type {
  Actor,
  ChangeListener,
  ClientEvents,
  ConfigChange,
  ConfigClientOptions,
  FlagChange,
  FlagErrorResult,
  ValueSource,
  WireFlag,
} from './types.js';
