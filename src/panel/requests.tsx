import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { editedChange } from '../approvals/request-edit.js';
import type { ChangeRequest } from '../approvals/requests.js';
import { UserError } from '../base/errors.js';
import type { RequestContext } from '../config/types.js';
import type { Actor, AuditAction } from '../storage/config-models.js';
import type { PanelSessionDoc } from '../tokens/panel-logins.js';
import { statusOf } from './errors.js';
import { Page } from './layout.js';
import { ErrorText } from './next-step.js';
import { sendHtml, wantsFragment } from './render.js';
import { RequestCard, writeBlocked, type CardContext } from './request-card.js';
import type { PanelDeps } from './types.js';

// Change requests in the panel: open and closed ones, each with its diff, impact and log, and the
// steps Discord offers (approve, reject with a reason, edit and withdraw by the requester), taken
// through the same ChangeRequests calls, so they are audited (channel `panel`), checked and
// applied as Discord's are. Those calls tell the process's RequestKeeper, which edits the
// request's post in the approval channel as it does after a button press; a step taken in
// Discord is in the database, so the panel shows it on its next load.

type Filter = 'open' | 'closed' | 'all';
const FILTERS: readonly { value: Filter; label: string }[] = [
  { value: 'open', label: 'Open' },
  { value: 'closed', label: 'Closed' },
  { value: 'all', label: 'All' },
];

/** What a step's success says at the top of the request, by `?done=`. */
const DONE = {
  approve: (r: ChangeRequest) =>
    r.status === 'applied'
      ? `You approved ${r.id}: it had the approvals it needs and was applied.`
      : r.status === 'pending'
        ? `You approved ${r.id}: ${r.approvals.length} of ${r.required} approvals so far.`
        : `You approved ${r.id}.`,
  reject: (r: ChangeRequest) => `You rejected ${r.id}.`,
  withdraw: (r: ChangeRequest) => `You withdrew ${r.id}.`,
  edit: (r: ChangeRequest) => `You edited ${r.id}: its approvals start over.`,
} as const;
type Step = keyof typeof DONE;

const ID = /^(CR-)?[A-Z0-9]{5}$/i;

/** How a step answers: a whole page (plain forms) or the request's card (htmx). */
interface View {
  session: PanelSessionDoc;
  fragment: boolean;
  open: boolean;
}

function cardContext(deps: PanelDeps, session: PanelSessionDoc): CardContext {
  return {
    session,
    definition: (key) => (deps.config.keys().includes(key) ? deps.config.definition(key) : undefined),
    now: Date.now(),
  };
}

function ListPage({
  filter,
  open,
  closed,
  ctx,
}: {
  filter: Filter;
  open: ChangeRequest[];
  closed: ChangeRequest[];
  ctx: CardContext;
}) {
  return (
    <Page title="Change requests" session={ctx.session} current="/panel/requests">
      <p class="hint">
        A change of a key whose impact level needs approvals (APPROVALS_REQUIRED) is held here until admins
        other than the requester approve it. The approval channel in Discord shows the same requests; a step
        taken there shows here on the next load.
      </p>
      <nav aria-label="Which requests" class="rq-filter">
        <ul>
          {FILTERS.map((f) => (
            <li>
              <a
                href={`/panel/requests?show=${f.value}`}
                aria-current={f.value === filter ? 'page' : undefined}
              >
                {f.label}
              </a>
            </li>
          ))}
        </ul>
      </nav>
      {filter !== 'closed' && (
        <section aria-labelledby="open-h">
          <h2 id="open-h">Open ({open.length})</h2>
          {open.length === 0 && <p>No change request is waiting for approval.</p>}
          {open.map((r) => (
            <RequestCard r={r} ctx={ctx} open={false} />
          ))}
        </section>
      )}
      {filter !== 'open' && (
        <section aria-labelledby="closed-h">
          <h2 id="closed-h">Closed (latest {closed.length})</h2>
          {closed.length === 0 && <p>No closed change requests yet.</p>}
          {closed.map((r) => (
            <RequestCard r={r} ctx={ctx} open={false} />
          ))}
        </section>
      )}
    </Page>
  );
}

function OnePage({
  r,
  ctx,
  error,
  notice,
}: {
  r: ChangeRequest;
  ctx: CardContext;
  error?: UserError | undefined;
  notice?: string | undefined;
}) {
  return (
    <Page title={`Change request ${r.id}`} session={ctx.session} current="/panel/requests">
      <p>
        <a href="/panel/requests">All change requests</a>
      </p>
      <RequestCard
        r={r}
        ctx={ctx}
        open={true}
        notice={notice}
        error={error ? <ErrorText err={error} /> : undefined}
      />
    </Page>
  );
}

/** The request named in the path, or a 404 page saying so. */
function idOf(req: FastifyRequest<{ Params: { id: string } }>): string {
  const id = req.params.id;
  if (!ID.test(id))
    throw new UserError(
      'UNKNOWN_KEY',
      `No change request ${id.slice(0, 20)}.`,
      { key: 'request:?' },
      undefined,
      {
        to: 'list-requests',
      },
    );
  return id.toUpperCase().startsWith('CR-') ? id.toUpperCase() : `CR-${id.toUpperCase()}`;
}

export function requestRoutes(app: FastifyInstance, deps: PanelDeps): void {
  const { config } = deps;

  app.get<{ Querystring: { show?: string } }>(
    '/panel/requests',
    { config: { access: 'public', panel: 'read' } },
    async (req, reply) => {
      const session = req.panelSession as PanelSessionDoc;
      const show = req.query.show;
      const filter: Filter = show === 'closed' || show === 'all' ? show : 'open';
      const [pending, applying, recent] = await Promise.all([
        config.requests.list('pending', 100),
        config.requests.list('applying', 100),
        filter === 'open' ? [] : config.requests.list(undefined, 50),
      ]);
      const open = [...applying, ...pending];
      const closed = recent.filter((r) => r.status !== 'pending' && r.status !== 'applying').slice(0, 25);
      return sendHtml(
        reply,
        <ListPage filter={filter} open={open} closed={closed} ctx={cardContext(deps, session)} />,
      );
    },
  );

  app.get<{ Params: { id: string }; Querystring: { done?: string } }>(
    '/panel/requests/:id',
    { config: { access: 'public', panel: 'read' } },
    async (req, reply) => {
      const session = req.panelSession as PanelSessionDoc;
      const r = await config.requests.get(idOf(req));
      const done = req.query.done;
      const notice = done && Object.hasOwn(DONE, done) ? DONE[done as Step](r) : undefined;
      return sendHtml(reply, <OnePage r={r} ctx={cardContext(deps, session)} notice={notice} />);
    },
  );

  // The card alone, for the live refresh of a page (src/panel/static/panel.js) when its key changes.
  app.get<{ Params: { id: string }; Querystring: { open?: string } }>(
    '/panel/requests/:id/card',
    { config: { access: 'public', panel: 'read' } },
    async (req, reply) => {
      const session = req.panelSession as PanelSessionDoc;
      const r = await config.requests.get(idOf(req));
      return sendHtml(
        reply,
        <RequestCard r={r} ctx={cardContext(deps, session)} open={req.query.open === '1'} />,
        {
          fragment: true,
        },
      );
    },
  );

  /** One step on a request: checked, counted, taken, then back to the request (or the request with why not). */
  const step = (
    name: Step,
    action: AuditAction,
    run: (id: string, actor: Actor, ctx: RequestContext, body: Record<string, unknown>) => Promise<unknown>,
  ) =>
    app.post<{ Params: { id: string }; Body: Record<string, unknown>; Querystring: { open?: string } }>(
      `/panel/requests/:id/${name}`,
      { config: { access: 'public', panel: 'write' } },
      async (req, reply) => {
        const session = req.panelSession as PanelSessionDoc;
        const id = idOf(req);
        const actor = { id: session.user.id, tag: session.user.tag };
        const ctx: RequestContext = {
          ...(session.guildId ? { guildId: session.guildId } : {}),
          channelId: 'panel',
        };
        const attempt = { key: `request:${id}`.slice(0, 64), action };
        const view: View = { session, fragment: wantsFragment(req.headers), open: req.query.open === '1' };
        try {
          // The guard checked write access (again with Discord when the bot runs); a self-service
          // login still may not decide requests, as in Discord.
          const blocked = writeBlocked(session);
          if (blocked) throw new UserError('PERMISSION_DENIED', blocked, attempt);
          const ticket = await deps.limits.checkAttempt(session.user.id, attempt);
          try {
            await run(id, actor, ctx, req.body ?? {});
          } finally {
            await ticket.settle();
          }
        } catch (err) {
          if (!(err instanceof UserError)) throw err;
          return refused(reply, err, id, view, actor, ctx);
        }
        if (!view.fragment) return reply.redirect(`/panel/requests/${id}?done=${name}`, 303);
        const r = await config.requests.get(id);
        return sendHtml(
          reply,
          <RequestCard r={r} ctx={cardContext(deps, session)} open={view.open} notice={DONE[name](r)} />,
          { fragment: true },
        );
      },
    );

  /** A refused step: audited unless the service audited it, shown next to the request. */
  async function refused(
    reply: FastifyReply,
    err: UserError,
    id: string,
    view: View,
    actor: Actor,
    ctx: RequestContext,
  ) {
    if ((err.code === 'PERMISSION_DENIED' || err.code === 'RATE_LIMITED') && err.context.audited !== true)
      await config.audit.record({
        key: String(err.context.key ?? `request:${id}`).slice(0, 64),
        action: (err.context.action as AuditAction | undefined) ?? 'view',
        status: 'denied',
        actor,
        error: err.message.slice(0, 200),
        ...ctx,
      });
    const r = await config.requests.get(id).catch(() => undefined);
    if (!r) throw err;
    const shown = cardContext(deps, view.session);
    const status = statusOf(err);
    if (view.fragment)
      return sendHtml(
        reply,
        <RequestCard r={r} ctx={shown} open={view.open} error={<ErrorText err={err} />} />,
        {
          status,
          fragment: true,
        },
      );
    return sendHtml(reply, <OnePage r={r} ctx={shown} error={err} />, { status });
  }

  step('approve', 'request-approve', (id, actor, ctx) => config.requests.approve(id, actor, ctx));

  step('reject', 'request-reject', (id, actor, ctx, body) =>
    config.requests.reject(id, actor, typeof body.reason === 'string' ? body.reason : '', ctx),
  );

  step('withdraw', 'request-withdraw', (id, actor, ctx) => config.requests.withdraw(id, actor, ctx));

  step('edit', 'request-edit', async (id, actor, ctx, body) => {
    const before = await config.requests.get(id);
    const value = typeof body.value === 'string' ? body.value : '';
    const { changes } = editedChange((key) => config.definition(key), before, value);
    return config.requests.edit(before.id, actor, changes, ctx);
  });
}
