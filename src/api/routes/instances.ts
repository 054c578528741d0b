import type { InstanceReport } from '@config-bot/client';
import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { InstanceStore } from '../../changes/instances.js';
import type { ConfigService } from '../../config/service.js';
import { REASONS, type FlagCountsSnapshot } from '@config-bot/client/flags';
import type { FlagStore } from '../../flags/flags.js';
import { tokenOf } from '../auth.js';
import { ApiError } from '../errors.js';
import { errorSchema } from './schemas.js';

export interface InstanceRoutesDeps {
  instances: InstanceStore;
  config: ConfigService;
  /** Where reported flag evaluations are added. */
  flags: FlagStore;
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
  host: z
    .string()
    .max(255)
    .optional()
    .describe('Ignored: an instance is shown with the address it reports from'),
  pid: z.number().int().min(0).optional(),
  version: z.string().max(50).optional(),
  applied: z.number().int().min(0).describe('The last event id (change-log position) it applied'),
  evaluations: z
    .record(
      z.string(),
      z.record(
        z.string().max(50, 'a reason is at most 50 characters'),
        z.int('must be a whole number').min(0, 'must be 0 or more'),
      ),
    )
    .superRefine((e, ctx) => {
      const names = Object.keys(e);
      if (names.length > 1000)
        ctx.addIssue({ code: 'custom', message: 'at most 1000 flag names per report' });
      // Said without the name: a name too long to be a flag is too long to echo.
      if (names.some((n) => n.length < 1 || n.length > 100))
        ctx.addIssue({ code: 'custom', message: 'a flag name is 1 to 100 characters' });
    })
    .optional()
    .describe('Flag evaluations since the previous report, by flag name and reason (deltas)'),
});

// What a client sends (InstanceReport, declared with the wire types in @config-bot/client) fits this body.
const reportFits: InstanceReport extends z.input<typeof report> ? true : false = true;
void reportFits;

/**
 * The fastest a process can evaluate flags, per second: an evaluation takes about 170 ns on one
 * core, so a count above this over the time a report covers was made up, not counted.
 */
export const MAX_EVALUATIONS_PER_SECOND = 10_000_000;
/** What a first report may cover (a new instance reports right after it loads, then every few seconds). */
const FIRST_REPORT_COVERS_MS = 60_000;
/** Client instances one token may have live at once (each report with a new id is one). */
export const MAX_CLIENTS_PER_TOKEN = 200;

/** The counts of known reasons (FlagUsage.add ignores the others too). */
function knownReasons(evaluations: Record<string, Record<string, number>>): FlagCountsSnapshot {
  const out: FlagCountsSnapshot = {};
  for (const [name, byReason] of Object.entries(evaluations)) {
    const row: FlagCountsSnapshot[string] = {};
    for (const reason of REASONS) {
      const n = Object.hasOwn(byReason, reason) ? byReason[reason] : undefined;
      if (n) row[reason] = n;
    }
    if (Object.keys(row).length) out[name] = row;
  }
  return out;
}

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
      const token = tokenOf(req);
      // Under its token: no client can overwrite a bot process's row, or another token's clients'.
      const id = `client:${token.id}:${b.id}`;
      const now = new Date();
      const refuse = (message: string) =>
        new ApiError(400, 'INVALID_REPORT', `${message} Nothing was recorded.`);
      // Checked first, without the database: the common case is at or below this process's position.
      if (b.applied > deps.position()) {
        const head = await deps.config.health.guard('read', () => deps.config.changes.head());
        if (b.applied > head)
          throw refuse(`applied ${b.applied} is beyond the change log, whose newest position is ${head}.`);
      }
      const prev = await deps.config.health.guard('read', () => deps.instances.get(id));
      if (b.evaluations) {
        const covers = prev
          ? Math.max(1000, now.getTime() - prev.lastSeen.getTime())
          : FIRST_REPORT_COVERS_MS;
        const most = Math.ceil((covers / 1000) * MAX_EVALUATIONS_PER_SECOND);
        for (const [name, byReason] of Object.entries(b.evaluations)) {
          const total = Object.values(byReason).reduce((n, c) => n + c, 0);
          if (total > most)
            throw refuse(
              `${total} evaluations of flag ${name} is more than one process can make in the ${Math.round(covers / 1000)} s this report covers (at most ${most}).`,
            );
        }
      }
      if (!prev) {
        const live = await deps.config.health.guard('read', () =>
          deps.instances.liveWithPrefix(`client:${token.id}:`, now),
        );
        if (live >= MAX_CLIENTS_PER_TOKEN)
          throw new ApiError(
            429,
            'TOO_MANY_INSTANCES',
            `Token ${token.name} already has ${live} live client instances (at most ${MAX_CLIENTS_PER_TOKEN}): reuse an instance id for the life of a process. Nothing was recorded.`,
          );
      }
      await deps.config.health.guard('write', () =>
        deps.instances.report(
          {
            id,
            kind: 'client',
            name: b.name,
            // Where the report came from, not what it claims: status shows the address it reached us from.
            host: req.ip,
            pid: b.pid,
            version: b.version,
            applied: b.applied,
          },
          now,
          prev ?? null,
        ),
      );
      // After the report: if adding fails the client sends these counts again, and a report
      // repeated is harmless where counts added twice are not.
      if (b.evaluations) {
        const counts = knownReasons(b.evaluations);
        await deps.config.health.guard(
          'write',
          () => deps.flags.usage.add(counts),
          'Database unavailable: the evaluation counts were not recorded. Send them again in a moment.',
        );
      }
      return reply.code(204).send(null);
    },
  );
}
