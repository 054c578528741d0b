import type { ChangeRequest, ChangeRequests } from '../../approvals/requests.js';
import type { Notifier } from '../../jobs/notifier.js';
import { requestMessage } from './render.js';

/**
 * Shows each change request in the approval channel: posted once however many bot processes
 * see it (the first to claim the post posts), then the same message edited at every later step
 * (approved, approvals cleared, rejected, withdrawn, expired, applied, failed), its buttons gone
 * once the request is closed. Always renders the request as stored now, one step at a time per
 * request, so a late edit never replaces a newer one. Throws what the database or Discord
 * threw; the RequestKeeper that calls it logs and carries on.
 */
export class RequestBoard {
  /** The show in progress per request: the next one waits for it. */
  private readonly queue = new Map<string, Promise<void>>();

  constructor(
    private readonly requests: ChangeRequests,
    private readonly notifier: Notifier,
    private readonly channelId: string,
  ) {}

  /** Posts the request, or brings its post up to date. */
  show(request: Pick<ChangeRequest, 'id'>): Promise<void> {
    const previous = this.queue.get(request.id) ?? Promise.resolve();
    const next = previous
      .catch(() => undefined)
      .then(() => this.showNow(request.id))
      .finally(() => {
        if (this.queue.get(request.id) === next) this.queue.delete(request.id);
      });
    this.queue.set(request.id, next);
    return next;
  }

  private async showNow(id: string): Promise<void> {
    const r = await this.requests.get(id);
    if (!r.post?.messageId) {
      if (!(await this.requests.claimPost(r.id, this.channelId))) return;
      const messageId = await this.notifier.send(this.channelId, requestMessage(r));
      await this.requests.posted(r.id, { channelId: this.channelId, messageId, shown: r.log.length });
      // Steps taken while it was being posted (an approval a moment after the request).
      const now = await this.requests.get(id);
      if (now.log.length > r.log.length) await this.edit(now);
      return;
    }
    if ((r.post.shown ?? 0) >= r.log.length) return;
    await this.edit(r);
  }

  private async edit(r: ChangeRequest): Promise<void> {
    if (!r.post?.messageId) return;
    await this.notifier.edit(r.post.channelId, r.post.messageId, requestMessage(r));
    await this.requests.markShown(r.id, r.log.length);
  }
}
