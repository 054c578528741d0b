import { createHash } from 'node:crypto';
import type { Runtime } from '../../src/app/runtime.js';
import { SESSION_COOKIE } from '../../src/panel/guard.js';
import { PanelSessionRecords } from '../../src/storage/panel-sessions.js';
import { PanelLogins, type PanelIdentity, type PanelSessionDoc } from '../../src/tokens/panel-logins.js';

/** The Discord server panel identities come from (the offline bot's home server). */
export const PANEL_GUILD = '900000000000000001';

/** A running panel: the API's address and the runtime whose database holds its logins. */
export interface PanelServer {
  url: string;
  runtime: Pick<Runtime, 'config'>;
}

export type PanelKind = 'admin' | 'member' | 'selfservice' | 'local';

/** Who logs in, by kind: an admin (write), a member (read), a self-service admin (write to its own guild scope), the local admin. */
export function panelIdentity(kind: PanelKind = 'admin', over: Partial<PanelIdentity> = {}): PanelIdentity {
  const base: Record<PanelKind, PanelIdentity> = {
    admin: {
      user: { id: '100000000000000001', tag: 'admin' },
      guildId: PANEL_GUILD,
      access: 'write',
      ownScope: null,
      via: 'link',
    },
    member: {
      user: { id: '100000000000000002', tag: 'member' },
      guildId: PANEL_GUILD,
      access: 'read',
      ownScope: null,
      via: 'link',
    },
    selfservice: {
      user: { id: '100000000000000006', tag: 'guild_admin' },
      guildId: '900000000000000002',
      access: 'write',
      ownScope: 'guild:900000000000000002',
      via: 'link',
    },
    local: {
      user: { id: 'local-admin', tag: 'local-admin' },
      guildId: null,
      access: 'write',
      ownScope: null,
      via: 'local',
    },
  };
  return { ...base[kind], ...over };
}

/** A one-time login link for `identity` on `server`, made as /config panel makes it. */
export async function panelLink(
  server: PanelServer,
  identity: PanelIdentity = panelIdentity(),
): Promise<string> {
  // Session times do not matter for making a link; the server's own PanelLogins applies them.
  const logins = new PanelLogins(server.runtime.config.conn, { idleMs: 60_000, maxMs: 3_600_000 });
  return (await logins.createLink(identity, server.url)).url;
}

export interface PanelFetchInit extends RequestInit {
  /** A form (urlencoded body; the query of a GET); `_csrf` is added for a state change unless `csrf` is false. */
  form?: Record<string, string>;
  /** Send the session's form token (as `x-csrf-token`, or `_csrf` in `form`) on a state change; default true. */
  csrf?: boolean;
  /** The Origin header of a state change: default the panel's own; null sends none. */
  origin?: string | null;
  /** Send the session cookie; default true. */
  cookie?: boolean;
}

export interface PanelClient {
  /** The session cookie's value (the session id). */
  cookie: string;
  /** The session's form token. */
  csrf: string;
  session: PanelSessionDoc;
  /** The Set-Cookie header the login answered with. */
  setCookie: string;
  /**
   * fetch on the panel as this browser: the session cookie, and for anything but GET/HEAD the
   * panel's Origin and the form token. Redirects are not followed.
   */
  fetch(path: string, init?: PanelFetchInit): Promise<Response>;
  /** GET a page and its text (throws on a status other than `status`, default 200). */
  page(path: string, status?: number): Promise<string>;
}

const sha256 = (text: string): string => createHash('sha256').update(text).digest('hex');

/** The session cookie's value in a Set-Cookie header, or undefined. */
export function sessionCookieOf(res: Response): string | undefined {
  for (const c of res.headers.getSetCookie()) {
    const m = new RegExp(`^${SESSION_COOKIE}=([^;]*)`).exec(c);
    if (m?.[1]) return m[1];
  }
  return undefined;
}

/** POSTs a login link as the login page's button does (same origin); the raw answer. */
export function redeemLink(link: string, origin = new URL(link).origin): Promise<Response> {
  return fetch(link, { method: 'POST', redirect: 'manual', headers: { origin } });
}

/** fetch on a panel with a given session cookie (or none), with PanelFetchInit's conveniences. */
export function panelFetch(
  baseUrl: string,
  auth: { cookie?: string | undefined; csrf?: string | undefined },
  path: string,
  init: PanelFetchInit = {},
): Promise<Response> {
  const { form, csrf = true, origin, cookie = true, ...rest } = init;
  const method = (rest.method ?? (form ? 'POST' : 'GET')).toUpperCase();
  const changes = method !== 'GET' && method !== 'HEAD';
  const headers = new Headers(rest.headers);
  if (cookie && auth.cookie) headers.set('cookie', `${SESSION_COOKIE}=${auth.cookie}`);
  if (changes) {
    const o = origin === undefined ? new URL(baseUrl).origin : origin;
    if (o !== null && !headers.has('origin')) headers.set('origin', o);
  }
  let body = rest.body;
  let url = `${baseUrl.replace(/\/+$/, '')}${path}`;
  if (form && !changes) {
    // A GET form sends its fields in the query, as a browser does.
    url += `${path.includes('?') ? '&' : '?'}${new URLSearchParams(form).toString()}`;
  } else if (form) {
    const fields = new URLSearchParams(form);
    if (csrf && auth.csrf && !fields.has('_csrf')) fields.set('_csrf', auth.csrf);
    body = fields.toString();
    headers.set('content-type', 'application/x-www-form-urlencoded');
  } else if (changes && csrf && auth.csrf && !headers.has('x-csrf-token')) {
    headers.set('x-csrf-token', auth.csrf);
  }
  return fetch(url, {
    redirect: 'manual',
    ...rest,
    method,
    headers,
    ...(body !== undefined ? { body } : {}),
  });
}

/**
 * Logs in to the panel of `server` as `identity` (default: an admin) with a one-time link,
 * redeemed by a real POST from the panel's origin, as a browser's button does.
 */
export async function loginPanel(
  server: PanelServer,
  identity: PanelIdentity = panelIdentity(),
): Promise<PanelClient> {
  const link = await panelLink(server, identity);
  return loginWithLink(server, link);
}

/** Redeems `link` (made for `server`) and returns the logged-in client. */
export async function loginWithLink(server: PanelServer, link: string): Promise<PanelClient> {
  const res = await redeemLink(link, new URL(server.url).origin);
  const cookie = sessionCookieOf(res);
  if (res.status !== 303 || !cookie) throw new Error(`Panel login failed: ${res.status} ${await res.text()}`);
  const session = await new PanelSessionRecords(server.runtime.config.conn).findSession(sha256(cookie));
  if (!session) throw new Error('Panel login made no session');
  const auth = { cookie, csrf: session.csrf };
  const client: PanelClient = {
    cookie,
    csrf: session.csrf,
    session,
    setCookie: res.headers.getSetCookie().find((c) => c.startsWith(`${SESSION_COOKIE}=`)) ?? '',
    fetch: (path, init) => panelFetch(server.url, auth, path, init),
    async page(path, status = 200) {
      const r = await panelFetch(server.url, auth, path);
      const text = await r.text();
      if (r.status !== status) throw new Error(`GET ${path}: ${r.status}, wanted ${status}: ${text}`);
      return text;
    },
  };
  return client;
}
