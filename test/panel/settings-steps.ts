import { expect } from 'vitest';
import type { TestApi } from '../helpers/api.js';
import type { PanelClient, PanelFetchInit } from '../helpers/panel.js';

/** The edit form's fields as a browser sends them (scope defaults to global). */
export interface Edit {
  value: string;
  scope?: string;
  reason?: string;
  for?: string;
  at?: string;
}

const fieldsOf = (e: Edit): Record<string, string> => ({
  value: e.value,
  scope: e.scope ?? 'global',
  reason: e.reason ?? '',
  for: e.for ?? '',
  at: e.at ?? '',
});

/** htmx's request header: the panel answers fragments. */
const HX = { 'hx-request': 'true' };

/** Preview, as the form's Preview button posts it through htmx. */
export function preview(client: PanelClient, key: string, e: Edit, init: PanelFetchInit = {}) {
  return client.fetch(`/panel/settings/${key}/preview`, { form: fieldsOf(e), headers: HX, ...init });
}

/** The hidden fields a preview adds to the form (the version it showed, and its digest). */
export function previewed(html: string): { expectedVersion: string; digest: string } {
  const version = /name="expectedVersion" value="(\d+)"/.exec(html)?.[1];
  const digest = /name="digest" value="([^"]+)"/.exec(html)?.[1];
  expect(version, 'the preview carries the version it showed').toBeDefined();
  expect(digest, 'the preview carries its digest').toBeDefined();
  return { expectedVersion: version as string, digest: digest as string };
}

/** Apply, as the preview's Apply button posts the form (with what the preview added). */
export function apply(
  client: PanelClient,
  key: string,
  e: Edit,
  shown: { expectedVersion: string; digest: string },
  opts: { confirm?: boolean } & PanelFetchInit = {},
) {
  const { confirm, ...init } = opts;
  return client.fetch(`/panel/settings/${key}/apply`, {
    form: { ...fieldsOf(e), ...shown, ...(confirm ? { confirm: 'yes' } : {}) },
    headers: HX,
    ...init,
  });
}

/** Preview, then apply what it showed; returns the apply's answer. */
export async function previewAndApply(client: PanelClient, key: string, e: Edit, confirm = false) {
  const p = await preview(client, key, e);
  const html = await p.text();
  expect(p.status, html).toBe(200);
  return apply(client, key, e, previewed(html), { confirm });
}

/** Everything a refused edit could have changed: versions, current values, schedules, requests. */
export async function stored(api: TestApi): Promise<string> {
  const db = api.runtime.config.conn.db;
  const out: Record<string, unknown> = {};
  for (const name of [
    'system_configs',
    'config_versions',
    'config_changes',
    'config_schedules',
    'config_change_requests',
  ]) {
    out[name] = db ? await db.collection(name).find().sort({ _id: 1 }).toArray() : [];
  }
  return JSON.stringify(out);
}

/** The audit rows of `key` written by the panel, newest first. */
export function panelAudit(api: TestApi, key: string) {
  return api.runtime.config.auditLog({ key, channelId: 'panel' });
}
