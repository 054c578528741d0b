import type { VNode } from 'preact';
import { render } from 'preact-render-to-string';
import type { FastifyReply } from 'fastify';

/**
 * Sends a page or a fragment. Everything inserted into JSX is escaped by the renderer, so a value
 * or reason holding markup is shown as text; no page builds HTML by concatenating strings.
 */
export function sendHtml(
  reply: FastifyReply,
  node: VNode,
  opts: { status?: number; fragment?: boolean } = {},
) {
  const html = render(node);
  return reply
    .code(opts.status ?? 200)
    .type('text/html; charset=utf-8')
    .header('cache-control', 'no-store')
    .send(opts.fragment ? html : `<!doctype html>${html}`);
}

/** Whether htmx made the request (it then wants a fragment, not a whole page). */
export function wantsFragment(headers: Record<string, string | string[] | undefined>): boolean {
  return headers['hx-request'] === 'true';
}
