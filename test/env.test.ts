import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { parseEnv as parseDotenv } from 'node:util';
import { describe, expect, it } from 'vitest';
import { EnvError, parseEnv } from '../src/app/env.js';

/** The problem lines of an environment, or fails the test if it was accepted. */
function problemsOf(source: Record<string, string>): string[] {
  try {
    parseEnv(source);
  } catch (err) {
    expect(err).toBeInstanceOf(EnvError);
    return (err as EnvError).problems;
  }
  throw new Error(`accepted: ${JSON.stringify(source)}`);
}

describe('ENVIRONMENTS and APP_ENVIRONMENT', () => {
  it('default to production; a process serves the first declared unless told', () => {
    expect(parseEnv({})).toMatchObject({ ENVIRONMENTS: ['production'], APP_ENVIRONMENT: 'production' });
    expect(parseEnv({ ENVIRONMENTS: 'Production, staging' })).toMatchObject({
      ENVIRONMENTS: ['production', 'staging'],
      APP_ENVIRONMENT: 'production',
    });
    expect(parseEnv({ ENVIRONMENTS: 'production,staging', APP_ENVIRONMENT: 'Staging' }).APP_ENVIRONMENT).toBe(
      'staging',
    );
  });

  it('refuses an environment not declared (with a suggestion) and malformed names, one line each', () => {
    expect(problemsOf({ ENVIRONMENTS: 'production,staging', APP_ENVIRONMENT: 'stagin' })).toEqual([
      'APP_ENVIRONMENT: `stagin` is not one of ENVIRONMENTS (production, staging); did you mean staging?',
    ]);
    expect(problemsOf({ ENVIRONMENTS: 'prod uction,x' })[0]).toMatch(
      /^ENVIRONMENTS: `prod uction`: environment names are lower-case/,
    );
    expect(problemsOf({ ENVIRONMENTS: 'a,a' })).toEqual(['ENVIRONMENTS: an environment is named twice']);
  });
});

describe('CONFIG_OVERRIDE_<KEY>', () => {
  it("parses each override by its key's own rules; an empty one is unset", () => {
    const e = parseEnv({
      CONFIG_OVERRIDE_MAX_BATCH_SIZE: ' 250 ',
      CONFIG_OVERRIDE_maintenance_mode: 'on',
      CONFIG_OVERRIDE_LOG_LEVEL: '',
    });
    expect(e.CONFIG_OVERRIDES).toEqual([
      { key: 'MAINTENANCE_MODE', variable: 'CONFIG_OVERRIDE_maintenance_mode', value: true },
      { key: 'MAX_BATCH_SIZE', variable: 'CONFIG_OVERRIDE_MAX_BATCH_SIZE', value: 250 },
    ]);
    expect(parseEnv({}).CONFIG_OVERRIDES).toEqual([]);
  });

  it('reports a bad value, an unknown key (with a suggestion) and other problems together, one line each', () => {
    const problems = problemsOf({
      CONFIG_OVERRIDE_MAX_BATCH_SIZE: '5000',
      CONFIG_OVERRIDE_MAX_BATCH: '5',
      DB_TIMEOUT_MS: 'abc',
    });
    expect(problems).toEqual([
      expect.stringMatching(/^DB_TIMEOUT_MS: /),
      'CONFIG_OVERRIDE_MAX_BATCH_SIZE: Invalid value for MAX_BATCH_SIZE: Must be at most 1000 (larger batches risk running out of memory). Allowed: integer 1-1000.',
      'CONFIG_OVERRIDE_MAX_BATCH: Unknown setting MAX_BATCH. Did you mean MAX_BATCH_SIZE?',
    ]);
  });

  it('never repeats a refused value of a sensitive key', () => {
    const [line] = problemsOf({ CONFIG_OVERRIDE_EXPORT_WEBHOOK_URL: 'http://secret-hook.example/abc' });
    expect(line).toMatch(/^CONFIG_OVERRIDE_EXPORT_WEBHOOK_URL: Invalid value for EXPORT_WEBHOOK_URL/);
    expect(line).not.toContain('secret-hook');
  });
});

describe('env', () => {
  it('applies defaults and treats empty strings as unset', () => {
    const e = parseEnv({ MONGODB_URI: '', DB_TIMEOUT_MS: ' ', NODE_ENV: '' });
    expect(e.MONGODB_URI).toBeUndefined();
    expect(e.DB_TIMEOUT_MS).toBe(3000);
    expect(e.NODE_ENV).toBe('development');
    expect(e.DATA_DIR).toBe('./data');
    expect(e.CONFIG_ENCRYPTION_KEYS).toEqual([]);
    expect(e.ADMIN_ROLE_IDS).toEqual([]);
  });

  it.each([
    [
      'MONGODB_URI',
      'http://x',
      /^MONGODB_URI: `http:\/\/x` is not a MongoDB connection string: use mongodb:\/\//,
    ],
    ['DB_TIMEOUT_MS', 'abc', /^DB_TIMEOUT_MS: `abc` is not a whole number of milliseconds \(500-60000\)$/],
    ['DB_TIMEOUT_MS', '10', /^DB_TIMEOUT_MS: 10 is out of range: use 500-60000 milliseconds$/],
    ['DISCORD_TOKEN', 'short', /^DISCORD_TOKEN: does not look like a bot token/],
    ['ADMIN_ROLE_IDS', 'abc', /^ADMIN_ROLE_IDS: `abc` is not a Discord id \(15-21 digits/],
    ['ADMIN_ROLE_IDS', '123456789012345678, x, y', /^ADMIN_ROLE_IDS: `x`, `y` are not Discord ids/],
    ['DISCORD_GUILD_ID', '42', /^DISCORD_GUILD_ID: `42` is not a Discord id/],
    [
      'CONFIG_ENCRYPTION_KEY',
      'tooshort',
      /^CONFIG_ENCRYPTION_KEY: must be 32 bytes: 64 hex characters or 44 base64/,
    ],
    ['EMBEDDED_DB', 'sqlite', /^EMBEDDED_DB: `sqlite` is not one of auto, mongodb-memory-server, ferretdb$/],
    ['DISCORD_API_URL', 'ftp://x', /^DISCORD_API_URL: `ftp:\/\/x` is not an http\(s\) URL$/],
  ])('%s=%s gives one plain line naming the variable and what is expected', (name, value, line) => {
    const problems = problemsOf({ [name]: value });
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatch(line);
    expect(problems[0]).not.toMatch(/received|Invalid input|\.0:|NaN/);
  });

  it('reports every problem at once, one line each', () => {
    const problems = problemsOf({ MONGODB_URI: 'http://nope', DB_TIMEOUT_MS: 'soon', EMBEDDED_DB: 'sqlite' });
    expect(problems.map((p) => p.split(':')[0]).sort()).toEqual([
      'DB_TIMEOUT_MS',
      'EMBEDDED_DB',
      'MONGODB_URI',
    ]);
  });

  it('never repeats a secret in a problem line', () => {
    const token = 'abc.def.not-a-real-token-SECRET';
    const [tokenLine] = problemsOf({ DISCORD_TOKEN: token });
    expect(tokenLine).not.toContain('SECRET');
    const [keyLine] = problemsOf({
      CONFIG_ENCRYPTION_KEYS: `${randomBytes(32).toString('base64')},SECRETSECRET`,
    });
    expect(keyLine).toMatch(/^CONFIG_ENCRYPTION_KEYS: key 2 of 2 must be 32 bytes/);
    expect(keyLine).not.toContain('SECRET');
    const [uriLine] = problemsOf({ MONGODB_URI: 'http://user:hunter2@db.example.com' });
    expect(uriLine).not.toContain('hunter2');
  });

  it('reads a list of encryption keys, or the one-key form, but not both', () => {
    const [a, b] = [randomBytes(32), randomBytes(32)];
    const listed = parseEnv({ CONFIG_ENCRYPTION_KEYS: `${a.toString('base64')}, ${b.toString('hex')}` });
    expect(listed.CONFIG_ENCRYPTION_KEYS).toEqual([a, b]);
    expect(parseEnv({ CONFIG_ENCRYPTION_KEY: a.toString('hex') }).CONFIG_ENCRYPTION_KEYS).toEqual([a]);
    expect(
      problemsOf({ CONFIG_ENCRYPTION_KEYS: a.toString('hex'), CONFIG_ENCRYPTION_KEY: b.toString('hex') }),
    ).toEqual([
      'CONFIG_ENCRYPTION_KEY: set only CONFIG_ENCRYPTION_KEYS (CONFIG_ENCRYPTION_KEY is its one-key form)',
    ]);
  });

  it('accepts .env.example as it ships (every variable documented, every empty one unset)', () => {
    const example = parseDotenv(readFileSync('.env.example', 'utf8'));
    expect(() => parseEnv(example)).not.toThrow();
    expect(Object.keys(example)).toEqual(
      expect.arrayContaining([
        'CONFIG_ENCRYPTION_KEYS',
        'DISCORD_API_URL',
        'LEASE_TTL_MS',
        'WRITE_ATTEMPTS_PER_MIN',
      ]),
    );
  });
});

describe('the HTTP API settings', () => {
  it('serve no API unless HTTP_PORT is set, on loopback by default; a bad port is one line naming it', () => {
    expect(parseEnv({}).HTTP_PORT).toBeUndefined();
    expect(parseEnv({}).HTTP_HOST).toBe('127.0.0.1');
    expect(parseEnv({ HTTP_PORT: '8080', HTTP_HOST: '0.0.0.0' })).toMatchObject({
      HTTP_PORT: 8080,
      HTTP_HOST: '0.0.0.0',
    });
    expect(problemsOf({ HTTP_PORT: 'abc' })).toEqual(['HTTP_PORT: `abc` is not a port number (1-65535)']);
    expect(problemsOf({ HTTP_PORT: '70000' })).toEqual(['HTTP_PORT: `70000` is not a port number (1-65535)']);
    expect(problemsOf({ INSTANCE_REPORT_MS: '10' })[0]).toMatch(/^INSTANCE_REPORT_MS: 10 is out of range/);
  });
});
