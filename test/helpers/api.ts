import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { inject, onTestFinished } from 'vitest';
import type { ApiOptions } from '../../src/api/server.js';
import { startApi } from '../../src/app/api.js';
import { TokenStore, type TokenAccess } from '../../src/tokens/tokens.js';
import { parseEnv, type Env } from '../../src/app/env.js';
import { startRuntime, type Runtime } from '../../src/app/runtime.js';
import { actor, uniqueDbName } from './db.js';

export interface TestApi {
  url: string;
  runtime: Runtime;
  env: Env;
  /** Creates a token in this API's database; returns its text. */
  token(access?: TokenAccess, opts?: { name?: string; sensitive?: boolean; scope?: string }): Promise<string>;
  /** fetch against the API with a token (or none). */
  call(
    pathname: string,
    init?: RequestInit & { token?: string | undefined; json?: unknown },
  ): Promise<Response>;
  /** Stops the server and the runtime (also done when the test ends). */
  stop(): Promise<void>;
}

let names = 0;

/**
 * A runtime and its HTTP API on a free loopback port, over a database of the calling test's own
 * (or `dbName` to share one with another runtime), stopped when the test ends.
 */
export async function startTestApi(
  label: string,
  opts: {
    vars?: Record<string, string>;
    dbName?: string;
    api?: Partial<ApiOptions>;
    report?: boolean;
    /** A server of the test's own (outage tests); default the shared test server. */
    uri?: string;
    /** DATA_DIR to use (kept: a restart test passes the one of the API it restarts); default a new one. */
    dataDir?: string;
  } = {},
): Promise<TestApi> {
  const dataDir = opts.dataDir ?? mkdtempSync(path.join(tmpdir(), `config-bot-api-${label}-`));
  const env = parseEnv({
    MONGODB_URI: opts.uri ?? inject('mongoUri'),
    MONGODB_DB_NAME: opts.dbName ?? uniqueDbName(label),
    DATA_DIR: dataDir,
    CONFIG_POLL_INTERVAL_MS: '100',
    ENVIRONMENTS: 'production,staging',
    // Writes apply at once unless a test turns approvals on (test/api/approvals.test.ts).
    APPROVALS_REQUIRED: 'none',
    ...opts.vars,
  });
  const runtime = await startRuntime(env, {
    jobs: false,
    ...(opts.report === false ? {} : { report: 'api' as const }),
  });
  const api = await startApi(runtime, env, 0, opts.api);
  const tokens = new TokenStore(runtime.config.conn);
  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    await api.close();
    await runtime.stop();
    if (!opts.dataDir) rmSync(dataDir, { recursive: true, force: true });
  };
  onTestFinished(stop);
  return {
    url: api.url,
    runtime,
    env,
    async token(access = 'read', o = {}) {
      const { token } = await tokens.create(
        {
          name: o.name ?? `t${++names}-${access}`,
          access,
          sensitive: o.sensitive ?? false,
          scope: o.scope ?? null,
          actor: actor(),
        },
        env.ENVIRONMENTS,
      );
      return token;
    },
    call(pathname, init = {}) {
      const { token, json, ...rest } = init;
      const headers = new Headers(rest.headers);
      if (token) headers.set('authorization', `Bearer ${token}`);
      if (json !== undefined) headers.set('content-type', 'application/json');
      return fetch(`${api.url}${pathname}`, {
        ...rest,
        headers,
        ...(json !== undefined ? { body: JSON.stringify(json) } : {}),
      });
    },
    stop,
  };
}
