import { describe, expect, it } from 'vitest';
import { ConfigClientUnavailableError, errorReason } from '../../packages/client/src/client/http.js';

describe('errorReason', () => {
  it("says the client's own errors as they are, and a network failure by its cause", () => {
    expect(errorReason(new ConfigClientUnavailableError('GET /v1/config answered 503'))).toBe(
      'GET /v1/config answered 503',
    );
    const refused = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:9'), { code: 'ECONNREFUSED' });
    expect(errorReason(new TypeError('fetch failed', { cause: refused }))).toBe(
      'connect ECONNREFUSED 127.0.0.1:9',
    );
    expect(errorReason(new DOMException('The request timed out', 'TimeoutError'))).toBe('timed out');
  });
});
