import { UserError, type NextStep } from '../base/errors.js';
import { errorDetail, logger } from '../base/logger.js';
import type { Actor } from '../storage/config-models.js';
import type { DbConnection } from '../storage/connection.js';
import {
  RequestRecords,
  type PlannedChange,
  type RequestChange,
  type RequestDoc,
  type RequestStatus,
  type StoredRequest,
} from '../storage/requests.js';
import type { AuditRow } from '../config/audit-log.js';
import type { ImpactLevel } from '../config/registry.js';
import type { Scope } from '../config/scopes.js';
import type { RequestContext } from '../config/types.js';

export type ChangeRequest = StoredRequest<ImpactLevel>;

/** What the requests need from the configuration service. */
export interface RequestDeps {
  /** Seals sensitive values at rest (the service's codec), and opens them. */
  encode(key: string, value: unknown): unknown;
  decode(key: string, stored: unknown): unknown;
  /** The slot's version this process holds now. */
  heldVersion(key: string, scope: Scope): number;
  /** The value at the slot as people see it (masked when sensitive), for a rebase's new "before". */
  shown(key: string, scope: Scope): string;
  /** Writes one approved change (with expectedVersion = its base version); returns the version written. */
  apply(
    change: PlannedChange,
    request: ChangeRequest,
    approvers: Actor[],
  ): Promise<{ version: number; outcome?: string }>;
  audit(row: AuditRow): Promise<void>;
  /** The impact preview of a change as it would apply now (undefined when there is none to give). */
  preview?(change: PlannedChange): Promise<string[] | undefined>;
}

export type RequestListener = (request: ChangeRequest, what: string) => void;

type RefusalCode = 'PERMISSION_DENIED' | 'UNCHANGED' | 'CONFLICT' | 'INVALID_VALUE' | 'TOO_LONG';

/**
 * What every step of a change request goes through: its records (values sealed at rest), the
 * audit row of the step, and the listeners told of it.
 */
export class RequestBook {
  readonly records: RequestRecords<ImpactLevel>;
  private readonly listeners = new Set<RequestListener>();

  constructor(
    conn: DbConnection,
    readonly deps: RequestDeps,
  ) {
    this.records = new RequestRecords<ImpactLevel>(conn);
  }

  subscribe(listener: RequestListener): () => void {
    this.listeners.add(listener);
    return () => void this.listeners.delete(listener);
  }

  async get(input: string): Promise<ChangeRequest> {
    const id = normaliseId(input);
    const doc = await this.records.find(id);
    if (!doc)
      throw new UserError(
        'UNKNOWN_KEY',
        `No change request ${input.slice(0, 20)}.`,
        { key: `request:${id.slice(0, 20)}` },
        undefined,
        { to: 'list-requests' },
      );
    return this.open(doc);
  }

  async list(status: RequestStatus | undefined, limit: number): Promise<ChangeRequest[]> {
    return (await this.records.list(status, limit)).map((d) => this.open(d));
  }

  /**
   * Closes a request with `status` and logs `text`, unless another step closed it first
   * (undefined then).
   */
  async transition(
    req: ChangeRequest,
    status: RequestStatus,
    actor: Actor,
    text: string,
    extra: Partial<RequestDoc<ImpactLevel>> = {},
  ): Promise<ChangeRequest | undefined> {
    const at = new Date();
    if (!(await this.records.close(req.id, status, at, { decidedBy: actor, ...extra }, { at, actor, text })))
      return undefined;
    const after = await this.get(req.id);
    this.tell(after, status);
    return after;
  }

  /** Closes a pending request as a person's step (audited), or refuses: it closed meanwhile. */
  async close(
    req: ChangeRequest,
    actor: Actor,
    status: RequestStatus,
    text: string,
    action: string,
    ctx: RequestContext,
    extra: Partial<RequestDoc<ImpactLevel>> = {},
  ): Promise<ChangeRequest> {
    const done = await this.transition(req, status, actor, text, extra);
    if (!done) {
      const now = await this.get(req.id);
      return this.refuse(
        now,
        actor,
        action,
        ctx,
        'CONFLICT',
        `${req.id} is ${now.status} now; nothing was changed.`,
      );
    }
    await this.audited(req, actor, action, 'success', ctx, extra.rejectReason);
    return done;
  }

  /**
   * The next revision of a request (an edit, a key that moved): new changes, a preview computed
   * again for a single change, and approvals that start over (they belong to a revision). False
   * when the request moved meanwhile.
   */
  async revise(req: ChangeRequest, changes: RequestChange[], actor: Actor, text: string): Promise<boolean> {
    const only = changes.length === 1 ? changes[0] : undefined;
    const preview =
      only && this.deps.preview ? await this.deps.preview(only).catch(() => undefined) : undefined;
    return this.records.revise(
      req.id,
      req.rev,
      changes.map((c) => this.sealChange(c)),
      preview,
      { at: new Date(), actor, text },
    );
  }

  /** Audits a refused step and throws its message. */
  async refuse(
    req: ChangeRequest,
    actor: Actor,
    action: string,
    ctx: RequestContext,
    code: RefusalCode,
    message: string,
    next?: NextStep,
  ): Promise<never> {
    await this.audited(
      req,
      actor,
      action,
      code === 'PERMISSION_DENIED' ? 'denied' : 'failed',
      ctx,
      undefined,
      message,
    );
    // `audited`: the refusal has its row already (the dispatcher writes none of its own).
    throw new UserError(code, message, { key: `request:${req.id}`, action, audited: true }, undefined, next);
  }

  async audited(
    req: ChangeRequest,
    actor: Actor,
    action: string,
    status: 'success' | 'failed' | 'denied',
    ctx: RequestContext = {},
    reason?: string,
    error?: string,
  ): Promise<void> {
    await this.deps.audit({
      key: req.changes.length === 1 ? (req.changes[0]?.key ?? req.id) : `request:${req.id}`,
      action: action as AuditRow['action'],
      status,
      actor,
      reason: reason ?? `${req.id}${req.reason ? `: ${req.reason}` : ''}`,
      ...(error ? { error } : {}),
      ...ctx,
    });
  }

  tell(req: ChangeRequest, what: string): void {
    for (const fn of [...this.listeners]) {
      try {
        fn(req, what);
      } catch (err) {
        logger.error(`A change request listener failed on ${req.id}`, errorDetail(err));
      }
    }
  }

  seal(req: ChangeRequest): RequestDoc<ImpactLevel> {
    const { id, ...rest } = req;
    return { _id: id, ...rest, changes: req.changes.map((c) => this.sealChange(c)) };
  }

  sealChange(c: RequestChange): RequestChange {
    return c.value === undefined ? c : { ...c, value: this.deps.encode(c.key, c.value) };
  }

  open(doc: RequestDoc<ImpactLevel>): ChangeRequest {
    const { _id, ...rest } = doc;
    return {
      id: _id,
      ...rest,
      changes: doc.changes.map((c) => ({
        ...c,
        ...(c.value === undefined ? {} : { value: this.deps.decode(c.key, c.value) }),
        ...(c.runAt ? { runAt: new Date(c.runAt) } : {}),
      })),
      approvals: doc.approvals.map((a) => ({ ...a, at: new Date(a.at) })),
      log: doc.log.map((l) => ({ ...l, at: new Date(l.at) })),
    };
  }
}

function normaliseId(input: string): string {
  const t = input.trim().toUpperCase();
  return t.startsWith('CR-') ? t : `CR-${t}`;
}
