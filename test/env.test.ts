import { describe, expect, it } from 'vitest';
import { EnvError, parseEnv } from '../src/env.js';

describe('env', () => {
  it('applies defaults and treats empty strings as unset', () => {
    const e = parseEnv({ MONGODB_URI: '', DB_TIMEOUT_MS: ' ', NODE_ENV: '' });
    expect(e.MONGODB_URI).toBeUndefined();
    expect(e.DB_TIMEOUT_MS).toBe(3000);
    expect(e.NODE_ENV).toBe('development');
    expect(e.DATA_DIR).toBe('./data');
  });

  it('reports every problem at once, each with its variable', () => {
    let error: unknown;
    try {
      parseEnv({ MONGODB_URI: 'http://nope', DB_TIMEOUT_MS: 'soon', EMBEDDED_DB: 'sqlite' });
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(EnvError);
    const problems = (error as EnvError).problems.join('\n');
    expect(problems).toMatch(/^MONGODB_URI: must start with mongodb:\/\//m);
    expect(problems).toMatch(/^DB_TIMEOUT_MS: /m);
    expect(problems).toMatch(/^EMBEDDED_DB: /m);
    expect((error as EnvError).problems).toHaveLength(3);
  });
});
