import type { ComponentChildren } from 'preact';
import type { PanelSessionDoc } from '../tokens/panel-logins.js';

/** The pages of the main navigation, in order. */
/** `admin`: shown only to sessions that may use it (the bot's admins, not self-service). */
const NAV: readonly { href: string; label: string; admin?: boolean }[] = [
  { href: '/panel', label: 'Settings' },
  { href: '/panel/flags', label: 'Flags' },
  { href: '/panel/audit', label: 'Audit' },
  { href: '/panel/requests', label: 'Requests' },
  { href: '/panel/dashboards', label: 'Dashboards' },
  { href: '/panel/snapshots', label: 'Snapshots' },
  { href: '/panel/export', label: 'Export' },
  { href: '/panel/processes', label: 'Processes' },
  { href: '/panel/tokens', label: 'Tokens', admin: true },
];

// htmx reads its settings from this tag: no inline style it would inject (the CSP forbids it),
// and nothing evaluated from attributes.
const HTMX_CONFIG = JSON.stringify({
  includeIndicatorStyles: false,
  allowEval: false,
  allowScriptTags: false,
  selfRequestsOnly: true,
});

export interface PageProps {
  title: string;
  session?: PanelSessionDoc | undefined;
  /** The navigation entry to mark as the current page. */
  current?: string;
  children?: ComponentChildren;
}

/** The shell of every page: head, skip link, navigation, who is logged in, and the content. */
export function Page({ title, session, current, children }: PageProps) {
  return (
    <html lang="en">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <meta name="color-scheme" content="light dark" />
        <meta name="htmx-config" content={HTMX_CONFIG} />
        <title>{`${title} · config-bot`}</title>
        <link rel="icon" href="data:," />
        <link rel="stylesheet" href="/panel/static/panel.css" />
        <script src="/panel/static/htmx.min.js" defer />
        <script src="/panel/static/sse.js" defer />
        <script src="/panel/static/panel.js" defer />
      </head>
      <body
        hx-headers={session ? JSON.stringify({ 'x-csrf-token': session.csrf }) : undefined}
        data-user-id={session?.user.id}
      >
        <a class="skip" href="#main">
          Skip to content
        </a>
        <header class="top">
          <a class="brand" href="/panel">
            config-bot
          </a>
          {session && (
            <nav aria-label="Main">
              <ul>
                {NAV.filter((n) => !n.admin || (session.access === 'write' && !session.ownScope)).map((n) => (
                  <li>
                    <a href={n.href} aria-current={n.href === current ? 'page' : undefined}>
                      {n.label}
                    </a>
                  </li>
                ))}
              </ul>
            </nav>
          )}
          {session && (
            <form class="who" method="post" action="/panel/logout">
              <span>
                {session.user.tag} <small>({session.access === 'write' ? 'admin' : 'read only'})</small>
              </span>
              <CsrfField session={session} />
              <button type="submit">Log out</button>
            </form>
          )}
        </header>
        <main id="main" tabindex={-1}>
          <h1>{title}</h1>
          {children}
        </main>
      </body>
    </html>
  );
}

/** The form field every state-changing form carries (checked by the panel's hook). */
export function CsrfField({ session }: { session: PanelSessionDoc }) {
  return <input type="hidden" name="_csrf" value={session.csrf} />;
}

/** An instant in the viewer's time zone (panel.js rewrites the text), UTC on hover and without script. */
export function Time({ at }: { at: Date | undefined }) {
  if (!at) return <span>never</span>;
  const iso = at.toISOString();
  const utc = `${iso.slice(0, 16).replace('T', ' ')} UTC`;
  return (
    <time datetime={iso} title={utc}>
      {utc}
    </time>
  );
}
