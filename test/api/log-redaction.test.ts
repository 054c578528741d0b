import { describe, expect, it, onTestFinished } from 'vitest';
import { logger, redactSecrets, setLogLevel } from '../../src/base/logger.js';
import { startTestApi } from '../helpers/api.js';
import { captureLogs } from '../helpers/logs.js';

describe('API tokens in logs', () => {
  it('never logs a token secret, at debug level, from a URL, a header or an error', async () => {
    const api = await startTestApi('log_redaction');
    const token = await api.token('read');
    const secret = token.slice('cfgbot_0123456789_'.length);
    const before = logger.level;
    setLogLevel('debug');
    const logs = captureLogs();
    onTestFinished(() => {
      logs.stop();
      setLogLevel(before as 'info');
    });
    await api.call(`/v1/config?token=${token}`);
    await api.call(`/v1/config/MAX_BATCH_SIZE?x=${token}`, { token });
    await api.call(`/v1/nothing/${token}`, { token });
    logger.warn(`a message quoting ${token}`, { header: `Bearer ${token}`, nested: { list: [token] } });
    const text = logs.lines.join('\n');
    expect(text).toMatch(/API GET \/v1\/config\?token=cfgbot_[0-9a-f]{10}_\[redacted\] 401/);
    expect(text).toContain('[redacted]');
    expect(text).not.toContain(secret);
  });

  it('redacts malformed tokens too, and leaves other text alone', () => {
    expect(redactSecrets('a cfgbot_short-thing b')).toBe('a cfgbot_[redacted] b');
    expect(redactSecrets('no token here')).toBe('no token here');
  });
});
