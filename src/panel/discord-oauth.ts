/** The Discord application the panel logs in with (DISCORD_CLIENT_ID, DISCORD_CLIENT_SECRET). */
export interface OAuthSettings {
  clientId: string;
  clientSecret: string;
  /** Discord's web address (DISCORD_OAUTH_URL; https://discord.com, a loopback server in tests). */
  discordUrl: string;
  /** The servers whose members may use the bot (DISCORD_GUILD_ID, ALLOWED_GUILD_IDS), in order. */
  allowedGuildIds: readonly string[];
}

/** What Discord said about the user, once: the access token is used for these two reads and dropped. */
export interface DiscordLogin {
  user: { id: string; tag: string };
  /** The user's servers among the allowed ones, in the allowlist's order, with whether they are Administrator there. */
  guilds: { id: string; administrator: boolean }[];
}

/** A step of the OAuth2 exchange Discord refused or answered badly; the message is for the user. */
export class OAuthFailure extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'OAuthFailure';
  }
}

const SCOPES = 'identify guilds';
/** Discord's Administrator permission bit (as in a guild's `permissions` field of /users/@me/guilds). */
const ADMINISTRATOR = 1n << 3n;

/** Where the browser goes to log in with Discord (authorization code flow). */
export function authorizeUrl(o: OAuthSettings, redirectUri: string, state: string): string {
  const q = new URLSearchParams({
    response_type: 'code',
    client_id: o.clientId,
    scope: SCOPES,
    state,
    redirect_uri: redirectUri,
    prompt: 'none',
  });
  return `${o.discordUrl}/oauth2/authorize?${q.toString()}`;
}

/**
 * Exchanges the code for an access token, reads the user and their servers with it, and forgets
 * it: the panel keeps its own session, never Discord's token.
 */
export async function completeLogin(
  o: OAuthSettings,
  code: string,
  redirectUri: string,
): Promise<DiscordLogin> {
  const api = `${o.discordUrl}/api/v10`;
  const tokenRes = await call(`${api}/oauth2/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({
      grant_type: 'authorization_code',
      code,
      redirect_uri: redirectUri,
      client_id: o.clientId,
      client_secret: o.clientSecret,
    }).toString(),
  });
  if (!tokenRes.ok) {
    const why = (await tokenRes.json().catch(() => ({}))) as { error?: string };
    throw new OAuthFailure(
      `Discord refused the login (${typeof why.error === 'string' ? why.error : `HTTP ${tokenRes.status}`}). Try logging in again.`,
    );
  }
  const { access_token: token } = (await tokenRes.json()) as { access_token?: unknown };
  if (typeof token !== 'string')
    throw new OAuthFailure('Discord answered the login without a token. Try again.');
  const auth = { headers: { authorization: `Bearer ${token}` } };
  const [me, guilds] = await Promise.all([
    read<{ id: string; username: string; global_name?: string | null }>(`${api}/users/@me`, auth),
    read<{ id: string; permissions: string }[]>(`${api}/users/@me/guilds`, auth),
  ]);
  const mine = new Map(guilds.map((g) => [g.id, g]));
  return {
    user: { id: me.id, tag: me.username },
    guilds: o.allowedGuildIds.flatMap((id) => {
      const g = mine.get(id);
      return g ? [{ id, administrator: hasAdministrator(g.permissions) }] : [];
    }),
  };
}

function hasAdministrator(permissions: string): boolean {
  try {
    return (BigInt(permissions) & ADMINISTRATOR) !== 0n;
  } catch {
    return false;
  }
}

async function call(url: string, init: RequestInit): Promise<Response> {
  try {
    return await fetch(url, { ...init, signal: AbortSignal.timeout(10_000) });
  } catch {
    throw new OAuthFailure('Discord could not be reached to complete the login. Try again in a moment.');
  }
}

async function read<T>(url: string, init: RequestInit): Promise<T> {
  const res = await call(url, init);
  if (!res.ok)
    throw new OAuthFailure(`Discord did not tell who you are (HTTP ${res.status}). Try logging in again.`);
  return (await res.json()) as T;
}
