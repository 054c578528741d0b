import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { ConfigService } from '../../config/service.js';
import { GLOBAL } from '../../config/scopes.js';
import { UserError } from '../../base/errors.js';
import type { FlagStore, FlagWrite } from '../../flags/flags.js';
import { slotOfFlag } from '../../flags/types.js';
import { approvalSchema } from '../approval.js';
import { withinDeadline } from '../deadline.js';
import { actorOf, checkScope, tokenOf } from '../auth.js';
import { recordDenied } from '../denied.js';
import { flagCreateBody, flagPatchBody, flagWrittenSchema, patched, wireFlag } from '../flag-wire.js';
import type { ApiMetrics } from '../metrics.js';
import type { ApiToken } from '../../tokens/tokens.js';
import { errorSchema } from './schemas.js';

export interface FlagWriteRoutesDeps {
  config: ConfigService;
  flags: FlagStore;
  metrics: ApiMetrics;
  /** How long a write may wait for the database before it is answered 503 (DB_TIMEOUT_MS). */
  writeTimeoutMs: number;
}

const nameParam = z.object({ name: z.string().min(1).max(100) });
// 202: the flag's impact needs approvals, so the change became a change request (sendError).
const errors = {
  202: approvalSchema,
  400: errorSchema,
  401: errorSchema,
  403: errorSchema,
  404: errorSchema,
  409: errorSchema,
  429: errorSchema,
  503: errorSchema,
};
/** What every write through the API is recorded with, as Discord records its channel. */
const ctx = { channelId: 'api' };

/**
 * Creating and changing flags over HTTP: the same store, checks, approvals (a flag whose impact
 * needs them becomes a change request: 202), audit and rate limit as /flag in Discord.
 */
export function flagWriteRoutes(app: FastifyInstance, deps: FlagWriteRoutesDeps): void {
  const { config, flags, metrics } = deps;
  const api = app.withTypeProvider<ZodTypeProvider>();

  /** Flags are global: a token limited to one environment or server may not change them. */
  const mayWrite = (token: ApiToken, name: string, action: 'create' | 'set') => {
    try {
      checkScope(token, GLOBAL, 'write');
    } catch (err) {
      recordDenied(config, token, { key: slotOfFlag(name), action, error: (err as Error).message });
      throw err;
    }
  };

  const answer = (done: FlagWrite, token: ApiToken) => {
    metrics.write(slotOfFlag(done.name), done.action);
    return {
      name: done.name,
      status: 'committed' as const,
      action: done.action,
      version: done.version,
      changes: done.changes,
      flag: wireFlag(done.flag, done.version, done.at, actorOf(token)),
      seq: done.seq ?? null,
    };
  };

  api.post(
    '/v1/flags',
    {
      config: { access: 'write', action: 'create' },
      schema: {
        summary: 'Create a flag (version 1); fields left out take their defaults (off, in no environment)',
        body: flagCreateBody,
        response: { 201: flagWrittenSchema, ...errors },
      },
    },
    async (req, reply) => {
      const token = tokenOf(req);
      const { reason, ...input } = req.body;
      mayWrite(token, input.name, 'create');
      const done = await withinDeadline(
        flags.create(input, actorOf(token), reason, ctx),
        deps.writeTimeoutMs,
        `the creation of flag ${input.name}`,
      );
      return reply.code(201).send(answer(done, token));
    },
  );

  api.patch(
    '/v1/flags/:name',
    {
      config: { access: 'write', action: 'set' },
      schema: {
        summary: 'Change fields of a flag: the fields given replace its own; null removes an optional one',
        params: nameParam,
        body: flagPatchBody,
        response: { 200: flagWrittenSchema, ...errors },
      },
    },
    async (req) => {
      const token = tokenOf(req);
      const { reason, ...patch } = req.body;
      // Not looked up here: the store refuses (and audits) an unknown or archived flag.
      const name = req.params.name.trim().toLowerCase();
      mayWrite(token, name, 'set');
      if (!Object.values(patch).some((v) => v !== undefined))
        throw new UserError(
          'INVALID_VALUE',
          'Nothing to change: give at least one field of the flag (rollout, variants, errorThreshold...).',
        );
      try {
        const done = await withinDeadline(
          flags.update(name, (f) => patched(f, patch), actorOf(token), reason, ctx),
          deps.writeTimeoutMs,
          `the change of flag ${name}`,
        );
        return answer(done, token);
      } catch (err) {
        if (!(err instanceof UserError) || err.code !== 'UNCHANGED') throw err;
        const held = flags.require(name);
        return {
          name,
          status: 'unchanged' as const,
          action: 'set',
          version: held.version,
          changes: [],
          flag: wireFlag(held.flag, held.version, held.updatedAt, held.updatedBy),
          seq: null,
          message: err.message,
        };
      }
    },
  );
}
