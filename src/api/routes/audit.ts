import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { describeBreak } from '../../audit/report-text.js';
import { verifyRange } from '../../audit/verify.js';
import type { ConfigService } from '../../config/service.js';
import { errorSchema } from './schemas.js';

const place = z.coerce.number().int().min(1).max(Number.MAX_SAFE_INTEGER);

const report = z.object({
  intact: z.boolean(),
  from: z.number(),
  to: z.number(),
  headSeq: z.number().describe("The chain's last row"),
  rowsChecked: z.number(),
  legacyRows: z
    .number()
    .describe('Of the rows checked, those written before the chain began and sealed under it'),
  checkpointsChecked: z.number().describe('Checkpoints whose signature by a trusted key was checked'),
  unsignedCheckpoints: z.number(),
  uncheckedCheckpoints: z
    .number()
    .describe('Signed checkpoints not checked: this server has no public key to check them with'),
  began: z.string().nullable().describe('When the chain began on this database'),
  breaks: z.array(
    z.object({
      kind: z.enum([
        'edited',
        'missing',
        'inserted',
        'checkpoint-forged',
        'checkpoint-untrusted',
        'checkpoint-mismatch',
        'truncated',
      ]),
      seq: z.number().nullable(),
      toSeq: z.number().nullable(),
      id: z.string().nullable().describe("The row's id (a deleted row's, as the row after it recorded)"),
      text: z.string().describe('The same finding as a sentence'),
    }),
  ),
  moreBreaks: z.number(),
});

/** The audit log's check, as /config audit verify and `npm run audit:verify` do it. */
export function auditRoutes(app: FastifyInstance, deps: { config: ConfigService }): void {
  const api = app.withTypeProvider<ZodTypeProvider>();
  api.get(
    '/v1/audit/verify',
    {
      config: { access: 'read' },
      schema: {
        summary: 'Check that the audit log was not altered (hashes, links, gaps, signed checkpoints)',
        querystring: z.object({ from: place.optional(), to: place.optional() }),
        response: { 200: report, 400: errorSchema, 401: errorSchema, 503: errorSchema },
      },
    },
    async (req) => {
      const r = await deps.config.trail.verify(verifyRange(req.query.from, req.query.to));
      return {
        ...r,
        began: r.genesis?.at.toISOString() ?? null,
        breaks: r.breaks.map((b) => ({
          kind: b.kind,
          seq: b.seq ?? null,
          toSeq: b.toSeq ?? null,
          id: b.id ?? null,
          text: describeBreak(b),
        })),
      };
    },
  );
}
