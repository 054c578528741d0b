import type { FlagErrorResult } from '@config-bot/client';
import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { ConfigService } from '../../config/service.js';
import { ATTRIBUTE_NAME, type FlagContext } from '@config-bot/client/flags';
import type { FlagStore } from '../../flags/flags.js';
import { staleness } from '../../flags/lifecycle.js';
import { readTarget, tokenOf } from '../auth.js';
import { wireFlag, wireFlagSchema } from '../flag-wire.js';
import type { ApiMetrics } from '../metrics.js';
import type { ApiToken } from '../../tokens/tokens.js';
import { flagWriteRoutes } from './flag-writes.js';
import { errorSchema } from './schemas.js';

export interface FlagRoutesDeps {
  config: ConfigService;
  flags: FlagStore;
  /** The change-log position this process has applied (the flags listed include every change up to it). */
  position: () => number;
  metrics: ApiMetrics;
  /** Days a release flag may stay fully on or off, unchanged, before it is stale (FLAG_STALE_DAYS). */
  staleDays: number;
  /** How long a write may wait for the database before it is answered 503 (DB_TIMEOUT_MS). */
  writeTimeoutMs: number;
}

const READ_UNAVAILABLE =
  'Database unavailable: evaluation counts cannot be read right now. Try again in a moment.';
const REPORT_UNAVAILABLE = 'Database unavailable: the errors were not recorded. Try again in a moment.';

const nameParam = z.object({ name: z.string().min(1).max(100) });
const reasonCounts = z.record(z.string(), z.number());

const context = z.object({
  userId: z.string().max(100).optional(),
  guildId: z.string().max(100).optional(),
  roles: z.array(z.string().max(100)).max(250, 'at most 250 roles').optional(),
  environment: z
    .string()
    .min(1)
    .max(32)
    .optional()
    .describe('Default: the token’s environment, else this process’s'),
  attributes: z
    .record(
      z
        .string()
        .regex(
          ATTRIBUTE_NAME,
          'an attribute name is a letter or _, then letters, digits, _ . - (at most 64)',
        ),
      z.string().max(1000, 'an attribute value is at most 1000 characters'),
    )
    .refine((a) => Object.keys(a).length <= 100, 'at most 100 attributes')
    .optional(),
  now: z.iso
    .datetime({ offset: true, error: 'must be an ISO 8601 date-time with a zone, like 2026-05-01T09:00:00Z' })
    .optional()
    .describe('Evaluate as at this time (schedules); default now'),
});

const evaluation = z.object({
  name: z.string(),
  enabled: z.boolean(),
  variant: z.object({
    name: z.string(),
    enabled: z.boolean(),
    payload: z.object({ type: z.string(), value: z.string() }).optional(),
  }),
  reason: z.string(),
  message: z.string(),
  version: z.number(),
});

const errorReport = z.object({
  name: z.string(),
  counted: z.number(),
  errors: z.number().nullable().describe('Errors within the threshold’s window since the flag last changed'),
  threshold: z.object({ errors: z.number(), windowMs: z.number() }).nullable(),
  killed: z.boolean().describe('Whether this report switched the flag off'),
  version: z.number(),
});

const errors = {
  400: errorSchema,
  401: errorSchema,
  403: errorSchema,
  404: errorSchema,
  429: errorSchema,
  503: errorSchema,
};

/**
 * Feature flags for applications: definitions to evaluate locally, a server-side evaluation, error
 * reports; and, for write tokens, creating and changing flags (flag-writes.ts).
 */
export function flagRoutes(app: FastifyInstance, deps: FlagRoutesDeps): void {
  const { config, flags, metrics } = deps;
  const api = app.withTypeProvider<ZodTypeProvider>();
  // Flags are global: only the environment of a read is limited by the token, never the server.
  const environmentFor = (token: ApiToken, env: string | undefined) =>
    readTarget(token, { env }, config.environments, config.environment).environment;

  /** The flag, or its NOT FOUND error after counting the evaluation as of an unknown flag. */
  const requireCounted = (input: string, ctx: FlagContext) => {
    try {
      return flags.require(input);
    } catch (err) {
      // An application asking for a flag that does not exist is worth knowing (/flag list shows it).
      flags.set.isEnabled(input, ctx);
      throw err;
    }
  };

  flagWriteRoutes(app, { config, flags, metrics, writeTimeoutMs: deps.writeTimeoutMs });

  api.get(
    '/v1/flags',
    {
      config: { access: 'read' },
      schema: {
        summary: 'Every flag (archived ones too), to evaluate in the application',
        querystring: z.object({
          env: z
            .string()
            .min(1)
            .max(32)
            .optional()
            .describe('Environment (default: the token’s, else this process’s)'),
        }),
        response: {
          200: z.object({ seq: z.number(), environment: z.string(), flags: z.array(wireFlagSchema) }),
          ...errors,
        },
      },
    },
    async (req) => {
      const environment = environmentFor(tokenOf(req), req.query.env);
      // The position first: the flags read after it include at least every change up to it.
      const seq = deps.position();
      return {
        seq,
        environment,
        flags: flags
          .list({ archived: true })
          .map((s) => wireFlag(s.flag, s.version, s.updatedAt, s.updatedBy)),
      };
    },
  );

  api.get(
    '/v1/flags/:name',
    {
      config: { access: 'read' },
      schema: {
        summary: 'One flag, with its evaluations over the last 24 h and whether it is stale',
        params: nameParam,
        response: {
          200: z.object({
            flag: wireFlagSchema,
            evaluations24h: reasonCounts.describe('Evaluations by reason, every process and application'),
            lastEvaluatedAt: z.string().nullable(),
            stale: z.boolean(),
            staleWhy: z.string().nullable(),
          }),
          ...errors,
        },
      },
    },
    async (req) => {
      const held = flags.require(req.params.name);
      const name = held.flag.name;
      const [counts, last] = await config.health.guard(
        'read',
        () => Promise.all([flags.usage.last24h(), flags.usage.lastEvaluated()]),
        READ_UNAVAILABLE,
      );
      const stale = staleness(held, new Date(), deps.staleDays);
      return {
        flag: wireFlag(held.flag, held.version, held.updatedAt, held.updatedBy),
        evaluations24h: { ...counts.get(name) },
        lastEvaluatedAt: last.get(name)?.toISOString() ?? null,
        stale: stale.stale,
        staleWhy: stale.why ?? null,
      };
    },
  );

  api.post(
    '/v1/flags/:name/evaluate',
    {
      config: { access: 'read' },
      schema: {
        summary: 'Evaluate a flag on the server for a context, with the rule that decided (counted)',
        params: nameParam,
        body: z.object({ context: context.optional() }).nullish(),
        response: { 200: evaluation, ...errors },
      },
    },
    async (req) => {
      const c = req.body?.context ?? {};
      const environment = environmentFor(tokenOf(req), c.environment);
      const ctx: FlagContext = {
        ...(c.userId !== undefined ? { userId: c.userId } : {}),
        ...(c.guildId !== undefined ? { guildId: c.guildId } : {}),
        ...(c.roles ? { roles: c.roles } : {}),
        ...(c.attributes ? { attributes: c.attributes } : {}),
        environment,
        // One instant for the counted evaluation and its explanation, so both see the same schedule.
        now: c.now ? new Date(c.now) : new Date(),
      };
      const held = requireCounted(req.params.name, ctx);
      const name = held.flag.name;
      const variant = flags.set.variant(name, ctx);
      const why = flags.set.explain(name, ctx);
      return {
        name,
        enabled: variant.featureEnabled,
        variant: {
          name: variant.name,
          enabled: variant.enabled,
          ...(variant.payload ? { payload: variant.payload } : {}),
        },
        reason: why.reason,
        message: why.message,
        version: held.version,
      };
    },
  );

  api.post(
    '/v1/flags/:name/errors',
    {
      config: { access: 'read' },
      schema: {
        summary: 'Report errors attributed to a flag; past its errorThreshold the flag is switched off',
        params: nameParam,
        // No body at all is a report of one error.
        body: z
          .object({
            count: z
              .number()
              .int('must be a whole number')
              .min(1, 'must be from 1 to 10000')
              .max(10_000, 'must be from 1 to 10000')
              .optional()
              .describe('Default 1'),
          })
          .nullish(),
        response: { 200: errorReport, ...errors },
      },
    },
    async (req): Promise<FlagErrorResult> => {
      const held = flags.require(req.params.name);
      const report = await config.health.guard(
        'write',
        () => flags.errors.report(held.flag.name, req.body?.count ?? 1),
        REPORT_UNAVAILABLE,
      );
      metrics.errorReport(report.name, report.counted);
      return report;
    },
  );
}
