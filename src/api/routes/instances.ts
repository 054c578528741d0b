import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { InstanceStore } from '../../config/instances.js';
import { tokenOf } from '../auth.js';
import { errorSchema } from './schemas.js';

export interface InstanceRoutesDeps {
  instances: InstanceStore;
  /** The newest change-log position this process knows. */
  position: () => number;
}

const instance = z.object({
  id: z.string(),
  kind: z.enum(['bot', 'api', 'client']),
  name: z.string().nullable(),
  host: z.string().nullable(),
  pid: z.number().nullable(),
  version: z.string().nullable(),
  applied: z.number(),
  appliedAt: z.string().nullable(),
  lastSeen: z.string(),
  state: z.enum(['live', 'gone', 'stopped']),
});

const report = z.object({
  id: z
    .string()
    .regex(/^[A-Za-z0-9._:-]{1,100}$/, 'letters, digits and . _ : - only, at most 100')
    .describe('The instance’s own stable id for its lifetime'),
  name: z.string().max(100).optional(),
  host: z.string().max(255).optional(),
  pid: z.number().int().min(0).optional(),
  version: z.string().max(50).optional(),
  applied: z.number().int().min(0).describe('The last event id (change-log position) it applied'),
});

/** Which processes follow the configuration, and what each applied. */
export function instanceRoutes(app: FastifyInstance, deps: InstanceRoutesDeps): void {
  const api = app.withTypeProvider<ZodTypeProvider>();
  const errors = { 400: errorSchema, 401: errorSchema, 403: errorSchema, 429: errorSchema, 503: errorSchema };

  api.get(
    '/v1/instances',
    {
      config: { access: 'read' },
      schema: {
        summary: 'Every process following the configuration, with what it applied',
        response: { 200: z.object({ latest: z.number(), instances: z.array(instance) }), ...errors },
      },
    },
    async () => {
      const list = await deps.instances.list();
      return {
        latest: deps.position(),
        instances: list.map((i) => ({
          id: i.id,
          kind: i.kind,
          name: i.name ?? null,
          host: i.host ?? null,
          pid: i.pid ?? null,
          version: i.version ?? null,
          applied: i.applied,
          appliedAt: i.appliedAt?.toISOString() ?? null,
          lastSeen: i.lastSeen.toISOString(),
          state: i.state,
        })),
      };
    },
  );

  api.post(
    '/v1/instances/report',
    {
      config: { access: 'read' },
      schema: {
        summary: 'A client reports the change it has applied (at once after one, and every few seconds)',
        body: report,
        response: { 204: z.null(), ...errors },
      },
    },
    async (req, reply) => {
      const b = req.body;
      await deps.instances.report({
        // Under its token: no client can overwrite a bot process's row, or another token's clients'.
        id: `client:${tokenOf(req).id}:${b.id}`,
        kind: 'client',
        name: b.name,
        host: b.host ?? req.ip,
        pid: b.pid,
        version: b.version,
        applied: b.applied,
      });
      return reply.code(204).send(null);
    },
  );
}
