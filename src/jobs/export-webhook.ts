/** What the daily export POSTs to EXPORT_WEBHOOK_URL, as JSON. */
export interface ExportSummary {
  event: 'daily-export.completed';
  date: string;
  /** The audit rows the export holds: createdAt from `from` (included) to `to` (excluded). */
  window: { from: string; to: string };
  auditRows: number;
  files: string[];
  directory: string;
  forced: boolean;
  generatedAt: string;
  instance: string;
}

/**
 * POSTs the summary and says how it went, in words fit for a log line and the export log. The
 * URL is a secret (it carries the webhook's token), so it is never part of what this returns.
 */
export async function postSummary(url: string, summary: ExportSummary, timeoutMs: number): Promise<string> {
  let host = 'the webhook';
  try {
    host = new URL(url).host;
  } catch {
    return 'not sent: EXPORT_WEBHOOK_URL is not a URL';
  }
  try {
    const res = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'user-agent': 'config-bot daily export' },
      body: JSON.stringify(summary),
      signal: AbortSignal.timeout(timeoutMs),
      redirect: 'error',
    });
    await res.body?.cancel();
    return res.ok ? `delivered (HTTP ${res.status})` : `refused by ${host} (HTTP ${res.status})`;
  } catch (err) {
    const cause =
      err instanceof Error
        ? err.name === 'TimeoutError'
          ? `no answer within ${timeoutMs} ms`
          : err.message
        : String(err);
    return `not delivered to ${host}: ${cause}`;
  }
}
