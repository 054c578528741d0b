import { DiscordAPIError, HTTPError, RateLimitError } from 'discord.js';

const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ENOTFOUND',
  'EAI_AGAIN',
  'ETIMEDOUT',
  'ECONNRESET',
  'ENETUNREACH',
  'EHOSTUNREACH',
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_SOCKET',
]);

/** The OS or undici code of a failed request (fetch wraps it in `cause`), if any. */
function networkCode(err: unknown): string | undefined {
  for (let e: unknown = err, depth = 0; e instanceof Error && depth < 4; e = e.cause, depth++) {
    const code = (e as NodeJS.ErrnoException).code;
    if (typeof code === 'string' && NETWORK_CODES.has(code)) return code;
    if (e.name === 'AbortError' || e.name === 'TimeoutError') return 'timed out';
  }
  return undefined;
}

/**
 * Whether a failed call may succeed if sent again later: Discord answered 5xx, or did not answer
 * (a timeout, a dropped or refused connection). A 4xx is Discord's refusal and stays one.
 */
export function isTransientDiscordError(err: unknown): boolean {
  return (err instanceof HTTPError && err.status >= 500) || networkCode(err) !== undefined;
}

/**
 * One plain line for an operator about a failed call to Discord's API (deploying commands,
 * logging in): what went wrong and what to fix. `what` names the call, `api` where it went.
 */
export function describeDiscordFailure(err: unknown, what: string, api: string): string {
  const code = networkCode(err);
  if (code)
    return `Could not reach Discord's API at ${api} (${code}) to ${what}: check the network connection or DISCORD_API_URL.`;
  if (err instanceof DiscordAPIError) {
    if (err.status === 401)
      return `Discord refused DISCORD_TOKEN (401 Unauthorized) when trying to ${what}: it is wrong or was reset. Copy a new one from the Developer Portal > your application > Bot.`;
    if (err.status === 403)
      return `Discord refused to ${what} (403 ${err.message}): invite the bot to the server with the applications.commands scope, or check DISCORD_GUILD_ID.`;
    if (err.status === 404)
      return `Discord does not know the application or server (404 ${err.message}) when trying to ${what}: check DISCORD_CLIENT_ID and DISCORD_GUILD_ID.`;
    return `Discord refused to ${what} (${err.status} ${err.message}).`;
  }
  if (err instanceof HTTPError)
    return `Discord answered ${err.status} (${err.message}) when trying to ${what}; try again later.`;
  if (err instanceof RateLimitError)
    return `Discord rate-limited the request to ${what}; try again in ${Math.ceil(err.timeToReset / 1000)} s.`;
  // discord.js raises this on login when Discord answers 401 to the token.
  if (err instanceof Error && /invalid token/i.test(err.message))
    return `Discord refused DISCORD_TOKEN when trying to ${what}: it is wrong or was reset. Copy a new one from the Developer Portal > your application > Bot.`;
  return `Could not ${what}: ${err instanceof Error ? err.message : String(err)}`;
}

/** discord.js's default API base, for messages when DISCORD_API_URL is unset. */
export const DEFAULT_API = 'https://discord.com/api';
