import { describe, expect, it } from 'vitest';
import { ConfigClient, type ConfigClientOptions } from '@config-bot/client';

/** Nothing listens there; every case below throws before the client sends anything. */
const base: ConfigClientOptions = { url: 'http://127.0.0.1:9', token: 'cfgbot_abc123_s3cr3t-token-value' };

describe('ConfigClient options', () => {
  it.each<[string, Partial<ConfigClientOptions>, string]>([
    ['a backoff of 0', { backoff: { minMs: 0 } }, '`backoff.minMs`'],
    ['a negative backoff cap', { backoff: { maxMs: -1 } }, '`backoff.maxMs`'],
    ['a report interval of 0', { reportIntervalMs: 0 }, '`reportIntervalMs`'],
    ['an idle timeout of NaN', { idleTimeoutMs: Number.NaN }, '`idleTimeoutMs`'],
    ['an infinite request timeout', { requestTimeoutMs: Number.POSITIVE_INFINITY }, '`requestTimeoutMs`'],
    ['a delay setTimeout would fire at once', { reportIntervalMs: 2 ** 31 }, '`reportIntervalMs`'],
    ['a url that is not http', { url: 'ftp://config.example' }, '`url`'],
    ['an empty key list', { keys: [] }, '`keys`'],
  ])('refuses %s with a TypeError naming the option', (_, extra, named) => {
    expect(() => new ConfigClient({ ...base, ...extra })).toThrow(TypeError);
    expect(() => new ConfigClient({ ...base, ...extra })).toThrow(named);
  });

  it('refuses a backoff cap below its start', () => {
    expect(() => new ConfigClient({ ...base, backoff: { minMs: 1000, maxMs: 100 } })).toThrow(
      'ConfigClient: `backoff.maxMs` (100) must not be below `backoff.minMs` (1000)',
    );
  });

  it('names every wrong option at once', () => {
    expect(() => new ConfigClient({ ...base, token: '', reportIntervalMs: -5, idleTimeoutMs: 0 })).toThrow(
      'ConfigClient: `token` is required (an API token); `reportIntervalMs` must be a number of milliseconds above 0 and up to 2147483647, not -5; `idleTimeoutMs` must be a number of milliseconds above 0 and up to 2147483647, not 0',
    );
  });
});
