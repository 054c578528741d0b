import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { FlagImpact, FlagInput, FlagType } from '@config-bot/client/flags';
import { staleness } from '../flags/lifecycle.js';
import type { StoredFlag } from '../flags/types.js';
import type { PanelSessionDoc } from '../tokens/panel-logins.js';
import { statusOf } from './errors.js';
import { one, proposeSection, SECTIONS, switched, type FormBody, type Section } from './flags-edit.js';
import { CreateFlagPage, environmentColumns, FlagListPage } from './flags-list.js';
import {
  evaluateFor,
  PLAYGROUND_FIELDS,
  PlaygroundAnswer,
  playgroundContext,
  type PlaygroundInput,
} from './flags-playground.js';
import type { SectionProps } from './flags-sections.js';
import { hourlyCounts, type UsageRange } from './flags-usage.js';
import { ConfirmOffPage, FlagPage, OutcomeNotice, type Playground } from './flags-view.js';
import { flagWrite, panelContext, type FlagOutcome } from './flags-write.js';
import { FieldAlert } from './flags-list.js';
import { expected, flagLifecycleRoutes, onInProduction } from './flags-lifecycle.js';
import { Page } from './layout.js';
import { sendHtml, wantsFragment } from './render.js';
import type { PanelDeps } from './types.js';

type Query = Record<string, string | undefined>;
const text = (q: Query, k: string, max = 2000) => (typeof q[k] === 'string' ? q[k].slice(0, max) : '');

/** The HTTP status of what a write did. */
function statusOfOutcome(o: FlagOutcome): number {
  if (o.kind === 'refused') return statusOf(o.error);
  return o.kind === 'request' ? 202 : 200;
}

/**
 * The flags pages: the list (state per environment, stale and never-evaluated marks), a flag's
 * page (every field editable, on and off, a playground, evaluations over time), and creation.
 * Writes go through the FlagStore as /flag's do: same validation, approvals and audit (channel
 * `panel`), same write limits.
 */
export function flagRoutes(app: FastifyInstance, deps: PanelDeps): void {
  const { config, flags } = deps;
  const staleDays = deps.flagStaleDays ?? 30;
  const sessionOf = (req: FastifyRequest) => req.panelSession as PanelSessionDoc;

  app.get<{ Querystring: Query }>(
    '/panel/flags',
    { config: { access: 'public', panel: 'read' } },
    async (req, reply) => {
      const q = text(req.query, 'q', 100).trim().toLowerCase();
      const type = text(req.query, 'type', 20);
      const onlyStale = text(req.query, 'stale') === '1';
      const [recent, seen] = await Promise.all([flags.usage.last24h(), flags.usage.lastEvaluated()]);
      const now = new Date();
      const rows = flags
        .list()
        .filter((s) => !type || s.flag.type === type)
        .filter((s) => !q || s.flag.name.includes(q) || s.flag.description.toLowerCase().includes(q))
        .map((s) => ({ s, stale: staleness(s, now, staleDays), never: !seen.has(s.flag.name) }))
        .filter((r) => !onlyStale || r.stale.stale);
      const unknown = [...recent.keys()].filter((n) => !flags.get(n)).sort();
      const envs = environmentColumns(
        config.environments,
        rows.map((r) => r.s.flag),
      );
      return sendHtml(
        reply,
        <FlagListPage
          session={sessionOf(req)}
          rows={rows}
          envs={envs}
          unknown={unknown}
          staleDays={staleDays}
          filter={{ q, type, stale: onlyStale }}
        />,
      );
    },
  );

  app.get('/panel/new-flag', { config: { access: 'public', panel: 'write' } }, async (req, reply) =>
    sendHtml(reply, <CreateFlagPage session={sessionOf(req)} values={{}} issues={[]} />),
  );

  app.post<{ Body: FormBody }>(
    '/panel/flags',
    { config: { access: 'public', panel: 'write', panelAction: 'create' } },
    async (req, reply) => {
      const session = sessionOf(req);
      const body = req.body ?? {};
      const name = one(body, 'name').toLowerCase();
      const input: FlagInput = {
        name,
        description: one(body, 'description'),
        type: one(body, 'type') as FlagType,
        owner: one(body, 'owner') || session.user.tag,
        impact: (one(body, 'impact') || 'low') as FlagImpact,
      };
      const outcome = await flagWrite(
        deps,
        session,
        { name, action: 'create' },
        () => flags.create(input, session.user, one(body, 'reason') || undefined, panelContext(session)),
        () => input,
      );
      if (outcome.kind === 'done') return reply.redirect(`/panel/flags/${outcome.write.name}`, 303);
      if (outcome.kind === 'refused') {
        const values = Object.fromEntries(
          ['name', 'description', 'type', 'owner', 'impact', 'reason'].map((k) => [k, one(body, k)]),
        );
        // A name that is not one, or is taken, is said next to the name.
        const { error } = outcome;
        const aboutName = !outcome.issues.length && ['INVALID_KEY', 'CONFLICT'].includes(error.code);
        const issues = aboutName ? [{ field: 'name', message: error.message }] : outcome.issues;
        return sendHtml(
          reply,
          <CreateFlagPage
            session={session}
            values={values}
            issues={issues}
            error={issues.length ? undefined : error.message}
          />,
          { status: statusOfOutcome(outcome) },
        );
      }
      return sendHtml(
        reply,
        <Page title="Create a flag" session={session} current="/panel/flags">
          <OutcomeNotice outcome={outcome} />
          <p>
            <a href="/panel/flags">All flags</a>
          </p>
        </Page>,
        { status: statusOfOutcome(outcome) },
      );
    },
  );

  /** The flag page, with the playground's answer and a write's outcome when there are. */
  const flagPage = async (
    req: FastifyRequest,
    reply: FastifyReply,
    held: StoredFlag,
    extra: { outcome?: FlagOutcome; refused?: SectionProps['refused']; playground?: Playground } = {},
  ) => {
    const name = held.flag.name;
    const range: UsageRange = (req.query as Query).usage === '7d' ? '7d' : '24h';
    const [hours, seen, versions] = await Promise.all([
      hourlyCounts(config.conn, name, range),
      flags.usage.lastEvaluated(),
      flags.history(name, { limit: 5 }),
    ]);
    const session = sessionOf(req);
    return sendHtml(
      reply,
      <FlagPage
        held={held}
        session={session}
        stale={staleness(held, new Date(), staleDays)}
        usage={{ name, range, hours, here: flags.set.counts()[name] ?? {}, lastEvaluated: seen.get(name) }}
        versions={versions}
        playground={extra.playground ?? playgroundOf(req.query as Query, held, session)}
        outcome={extra.outcome}
        refused={extra.refused}
        environments={config.environments}
        others={flags.list().map((s) => s.flag.name)}
        timeZone={String(config.get('SCHEDULE_TIMEZONE'))}
        here={config.environment}
      />,
      { status: extra.outcome ? statusOfOutcome(extra.outcome) : 200 },
    );
  };

  /** The playground's form from the query, evaluated when it was sent (`try`). */
  const playgroundOf = (q: Query, held: StoredFlag, session?: PanelSessionDoc): Playground => {
    const input = Object.fromEntries(
      PLAYGROUND_FIELDS.map((k) => [k, text(q, k).trim()]),
    ) as unknown as PlaygroundInput;
    // Before it is used: the viewer's own server, as /flag evaluate uses the server it runs in.
    if (text(q, 'try') !== '1') return { input: { ...input, server: session?.guildId ?? '' }, issues: [] };
    const { context, issues } = playgroundContext(input, config.environment);
    if (issues.length) return { input, issues };
    return { input, issues, result: evaluateFor(flags.set, held.flag.name, context) };
  };

  flagLifecycleRoutes(app, deps, flagPage);

  app.get<{ Params: { name: string }; Querystring: Query }>(
    '/panel/flags/:name',
    { config: { access: 'public', panel: 'read' } },
    async (req, reply) => flagPage(req, reply, flags.require(req.params.name)),
  );

  // The playground's answer alone, for htmx; a plain request gets the whole page.
  app.get<{ Params: { name: string }; Querystring: Query }>(
    '/panel/flags/:name/evaluate',
    { config: { access: 'public', panel: 'read' } },
    async (req, reply) => {
      const held = flags.require(req.params.name);
      if (!wantsFragment(req.headers)) return flagPage(req, reply, held);
      const p = playgroundOf({ ...req.query, try: '1' }, held);
      return sendHtml(
        reply,
        p.result ? (
          <PlaygroundAnswer result={p.result} />
        ) : (
          <>
            <FieldAlert issues={p.issues} field="attributes" />
            <FieldAlert issues={p.issues} field="at" />
          </>
        ),
        { fragment: true },
      );
    },
  );

  app.post<{ Params: { name: string; section: string }; Body: FormBody }>(
    '/panel/flags/:name/edit/:section',
    { config: { access: 'public', panel: 'write' } },
    async (req, reply) => {
      const section = req.params.section as Section;
      const name = req.params.name.trim().toLowerCase();
      if (!SECTIONS.includes(section)) return reply.callNotFound();
      const session = sessionOf(req);
      const body = req.body ?? {};
      const ctx = {
        now: new Date(),
        timeZone: String(config.get('SCHEDULE_TIMEZONE')),
        prerequisitesOf: (n: string) => flags.get(n)?.flag.prerequisites,
      };
      let proposed: FlagInput | undefined;
      const outcome = await flagWrite(
        deps,
        session,
        { name, action: 'set' },
        () =>
          flags.update(
            name,
            (f) => (proposed = proposeSection(section, f, body, ctx)),
            session.user,
            one(body, 'reason') || undefined,
            panelContext(session),
            expected(body),
          ),
        () => proposed,
      );
      const refused =
        outcome.kind === 'refused'
          ? {
              section,
              body,
              issues: outcome.issues,
              ...(outcome.issues.length ? {} : { error: outcome.error.message }),
            }
          : undefined;
      return flagPage(req, reply, flags.require(name), { outcome, refused });
    },
  );

  app.post<{ Params: { name: string }; Body: FormBody }>(
    '/panel/flags/:name/switch',
    { config: { access: 'public', panel: 'write' } },
    async (req, reply) => {
      const session = sessionOf(req);
      const body = req.body ?? {};
      const name = req.params.name.trim().toLowerCase();
      const to = one(body, 'to') === 'on' ? 'on' : 'off';
      const env = one(body, 'env').toLowerCase() || undefined;
      const held = flags.require(name);
      const f = held.flag;
      const inProduction = env ? env === 'production' && f.environments.includes(env) : onInProduction(held);
      // Off in production asks first, as /flag off does.
      if (to === 'off' && inProduction && one(body, 'confirm') !== '1' && !f.archived)
        return sendHtml(reply, <ConfirmOffPage session={session} f={f} version={held.version} env={env} />);
      let warnings: string[] = [];
      const outcome = await flagWrite(
        deps,
        session,
        { name, action: 'set' },
        () =>
          flags.update(
            name,
            (cur) => {
              const s = switched(cur, to, env, config.environment);
              warnings = s.warnings;
              return s.flag;
            },
            session.user,
            one(body, 'reason') || undefined,
            panelContext(session),
            expected(body),
          ),
        () => undefined,
        () => warnings,
      );
      return flagPage(req, reply, flags.require(name), { outcome });
    },
  );
}
