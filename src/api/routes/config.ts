import type { WireSnapshot } from '@config-bot/client';
import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { Actor } from '../../storage/config-models.js';
import type { Scope } from '../../config/scopes.js';
import type { ConfigService } from '../../config/service.js';
import type { WriteSuccess } from '../../config/types.js';
import { UserError } from '../../base/errors.js';
import { actorOf, checkScope, readTarget, tokenOf } from '../auth.js';
import type { ApiToken } from '../../tokens/tokens.js';
import { recordDenied } from '../denied.js';
import { snapshotOf, valueView, wireValue } from '../values.js';
import type { ApiMetrics } from '../metrics.js';
import { approvalSchema } from '../approval.js';
import { withinDeadline } from '../deadline.js';
import { errorSchema } from './schemas.js';

export interface ConfigRoutesDeps {
  config: ConfigService;
  /** The change-log position this process has applied (snapshots include every change up to it). */
  position: () => number;
  metrics: ApiMetrics;
  /** How long a write may wait for the database before it is answered 503 (DB_TIMEOUT_MS). */
  writeTimeoutMs: number;
}

const target = z.object({
  env: z
    .string()
    .min(1)
    .max(32)
    .optional()
    .describe('Environment (default: the token’s, else this process’s)'),
  guild: z
    .string()
    .regex(/^\d{15,21}$/, 'a Discord server id is 15 to 21 digits')
    .optional()
    .describe('Discord server id'),
});
const keyParam = z.object({ key: z.string().min(1).max(64) });
const reason = z.string().max(500).optional();
const scopeText = z.string().max(80).optional().describe('global, env:<name> or guild:<id> (default global)');
const actor = z.object({ id: z.string(), tag: z.string() });

/** The one masking rule (see wireValue): `null` with `masked: true`, and `undecryptable: true` when this process cannot open it. */
const masking = {
  masked: z.literal(true).optional().describe('A sensitive value this token may not see: value is null'),
  undecryptable: z
    .literal(true)
    .optional()
    .describe('A secret the serving process cannot decrypt (it lacks the key): value is null'),
};
const valueSchema = z.object({
  value: z.unknown(),
  ...masking,
  version: z.number(),
  layer: z.string(),
  sensitive: z.boolean(),
});
const snapshot = z.object({
  seq: z.number(),
  environment: z.string(),
  guild: z.string().nullable(),
  values: z.record(z.string(), valueSchema),
});
const oneKey = valueSchema.extend({
  key: z.string(),
  description: z.string(),
  type: z.string(),
  category: z.string(),
  requiresRestart: z.boolean(),
  updatedAt: z.string().nullable(),
  updatedBy: actor.nullable(),
  layers: z.array(
    z.object({
      scope: z.string(),
      display: z.string().nullable(),
      masked: z.literal(true).optional(),
      version: z.number(),
      supplies: z.boolean(),
    }),
  ),
});
const history = z.object({
  key: z.string(),
  scope: z.string(),
  versions: z.array(
    z.object({
      version: z.number(),
      value: z.unknown(),
      ...masking,
      action: z.string(),
      actor,
      reason: z.string().optional(),
      restoredFrom: z.number().optional(),
      createdAt: z.string(),
    }),
  ),
  nextBefore: z.number().nullable(),
});
const written = z.object({
  key: z.string(),
  scope: z.string(),
  status: z.enum(['committed', 'unchanged']),
  version: z.number(),
  value: z.unknown(),
  ...masking,
  warnings: z.array(z.string()),
  seq: z.number().nullable(),
  message: z.string().optional(),
});

const errors = {
  400: errorSchema,
  401: errorSchema,
  403: errorSchema,
  404: errorSchema,
  429: errorSchema,
  503: errorSchema,
};
const writeErrors = { ...errors, 202: approvalSchema, 409: errorSchema };

/** Reads and writes of configuration values; the same service, checks and audit as Discord. */
export function configRoutes(app: FastifyInstance, deps: ConfigRoutesDeps): void {
  const { config, metrics } = deps;
  const api = app.withTypeProvider<ZodTypeProvider>();
  const where = (token: ApiToken, q: z.infer<typeof target>) =>
    readTarget(token, q, config.environments, config.environment);

  api.get(
    '/v1/config',
    {
      config: { access: 'read' },
      schema: {
        summary: 'Every key resolved for an environment and server',
        querystring: target,
        response: { 200: snapshot, ...errors },
      },
    },
    async (req): Promise<WireSnapshot> => {
      const token = tokenOf(req);
      const at = where(token, req.query);
      // The position first: the values read after it include at least every change up to it.
      const seq = deps.position();
      metrics.snapshot();
      return {
        seq,
        environment: at.environment,
        guild: at.guildId ?? null,
        values: snapshotOf(config, token, at),
      };
    },
  );

  api.get(
    '/v1/config/:key',
    {
      config: { access: 'read' },
      schema: {
        summary: 'One key resolved, with the layers it resolves through',
        params: keyParam,
        querystring: target,
        response: { 200: oneKey, ...errors },
      },
    },
    async (req) => {
      const token = tokenOf(req);
      const at = where(token, req.query);
      const r = config.resolve(req.params.key, { environment: at.environment, guildId: at.guildId ?? null });
      metrics.read(r.def.key);
      return {
        key: r.def.key,
        ...valueView(r, token),
        description: r.def.description,
        type: r.def.type,
        category: r.def.category,
        requiresRestart: r.def.requiresRestart,
        updatedAt: r.updatedAt?.toISOString() ?? null,
        updatedBy: r.updatedBy ?? null,
        layers: r.layers.map((l) => ({
          scope: l.scope,
          // Text as /config view shows it; a sensitive layer's is never text (the one masking rule).
          ...(r.def.sensitive && l.display !== undefined && l.scope !== 'default'
            ? { display: null, masked: true as const }
            : { display: l.display ?? null }),
          version: l.version,
          supplies: l.supplies,
        })),
      };
    },
  );

  api.get(
    '/v1/config/:key/history',
    {
      config: { access: 'read' },
      schema: {
        summary: 'Versions of a key at a scope, newest first (sensitive values masked)',
        params: keyParam,
        querystring: z.object({
          scope: scopeText,
          limit: z.coerce.number().int().min(1).max(100).default(20),
          before: z.coerce.number().int().min(1).optional().describe('Versions below this one'),
        }),
        response: { 200: history, ...errors },
      },
    },
    async (req) => {
      const token = tokenOf(req);
      const def = config.definition(req.params.key);
      const scope = config.scopeOf(def, req.query.scope);
      checkScope(token, scope, 'read');
      const rows = await config.history(def.key, {
        scope,
        unmasked: true,
        limit: req.query.limit,
        ...(req.query.before !== undefined ? { before: req.query.before } : {}),
      });
      const last = rows.at(-1);
      return {
        key: def.key,
        scope,
        versions: rows.map((r) => ({
          version: r.version,
          ...wireValue(def, r.value, token),
          action: r.action,
          actor: r.actor,
          ...(r.reason ? { reason: r.reason } : {}),
          ...(r.restoredFrom !== undefined ? { restoredFrom: r.restoredFrom } : {}),
          createdAt: r.createdAt.toISOString(),
        })),
        nextBefore: last && last.version > 1 && rows.length === req.query.limit ? last.version : null,
      };
    },
  );

  /** Runs a write for a token at a scope it covers; an unchanged value answers 200 "unchanged". */
  const write = async (
    action: 'set' | 'rollback' | 'reset',
    token: ApiToken,
    input: string,
    typedScope: string | undefined,
    run: (actor: Actor, scope: Scope) => Promise<WriteSuccess>,
  ) => {
    const def = config.definition(input);
    const scope = config.scopeOf(def, typedScope);
    try {
      checkScope(token, scope, 'write');
    } catch (err) {
      recordDenied(config, token, { key: def.key, action, scope, error: (err as Error).message });
      throw err;
    }
    try {
      const done = await withinDeadline(
        run(actorOf(token), scope),
        deps.writeTimeoutMs,
        `the ${action} of ${def.key}${scope === 'global' ? '' : ` at ${scope}`}`,
      );
      metrics.write(def.key, done.action);
      return {
        key: def.key,
        scope,
        status: 'committed' as const,
        version: done.version,
        ...wireValue(def, done.value, token),
        warnings: done.warnings,
        seq: done.seq ?? null,
      };
    } catch (err) {
      if (!(err instanceof UserError) || err.code !== 'UNCHANGED') throw err;
      // What the scope holds; at global, not the resolved value (that may be this process's env override).
      const held = scope === 'global' ? config.getAll()[def.key] : config.describe(def.key, { scope }).value;
      return {
        key: def.key,
        scope,
        status: 'unchanged' as const,
        version: config.cachedVersion(def.key, scope),
        ...wireValue(def, held, token),
        warnings: [],
        seq: null,
        message: err.message,
      };
    }
  };
  const ctx = { channelId: 'api' };

  api.put(
    '/v1/config/:key',
    {
      config: { access: 'write', action: 'set' },
      schema: {
        summary: 'Set a key at a scope',
        params: keyParam,
        body: z.object({
          value: z.unknown().refine((v) => v !== undefined, 'value is required'),
          scope: scopeText,
          reason,
        }),
        response: { 200: written, ...writeErrors },
      },
    },
    async (req) => {
      const { value, scope, reason: why } = req.body;
      if (value === null) {
        // null is "no value": it unsets a key that may be unset (as /config reset does), at any scope.
        const def = config.definition(req.params.key);
        if (def.default !== null)
          throw new UserError(
            'INVALID_VALUE',
            `${def.key} needs a value (${def.type}); null only unsets keys that may be unset. To go back to the default, POST /v1/config/${def.key}/reset.`,
            { key: def.key },
          );
        return write('reset', tokenOf(req), req.params.key, scope, (actor, at) =>
          config.reset(req.params.key, actor, why, ctx, { scope: at }),
        );
      }
      return write('set', tokenOf(req), req.params.key, scope, (actor, at) =>
        config.set(
          req.params.key,
          typeof value === 'string' ? value : JSON.stringify(value),
          actor,
          why,
          ctx,
          { scope: at },
        ),
      );
    },
  );

  api.post(
    '/v1/config/:key/rollback',
    {
      config: { access: 'write', action: 'rollback' },
      schema: {
        summary: 'Restore the value of an earlier version, as a new version',
        params: keyParam,
        body: z.object({ version: z.number().int().min(1), scope: scopeText, reason }),
        response: { 200: written, ...writeErrors },
      },
    },
    async (req) => {
      const { version, scope, reason: why } = req.body;
      return write('rollback', tokenOf(req), req.params.key, scope, (actor, at) =>
        config.rollback(req.params.key, version, actor, why, ctx, { scope: at }),
      );
    },
  );

  api.post(
    '/v1/config/:key/reset',
    {
      config: { access: 'write', action: 'reset' },
      schema: {
        summary: 'Back to the default (global), or remove an override (other scopes)',
        params: keyParam,
        body: z.object({ scope: scopeText, reason }).default({}),
        response: { 200: written, ...writeErrors },
      },
    },
    async (req) => {
      const { scope, reason: why } = req.body;
      return write('reset', tokenOf(req), req.params.key, scope, (actor, at) =>
        config.reset(req.params.key, actor, why, ctx, { scope: at }),
      );
    },
  );
}
