import type { LimitIssue } from './limits.js';

// The HTTP side of the offline Discord: request bodies as discord.js sends them (JSON or
// multipart), and responses shaped as Discord's.

export function json(status: number, body: unknown): Response {
  return new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json' } });
}

/** Discord's `errors` tree: `{ data: { embeds: { 0: { title: { _errors: [{ code, message }] } } } } }`. */
export function formErrors(issues: LimitIssue[], prefix: string[]): Record<string, unknown> {
  const root: Record<string, unknown> = {};
  for (const issue of issues) {
    let node = root;
    for (const key of [...prefix, ...issue.path])
      node = (node[String(key)] ??= {}) as Record<string, unknown>;
    const list = (node._errors ??= []) as { code: string; message: string }[];
    list.push({ code: issue.code, message: issue.message });
  }
  return root;
}

/** Names of the files a multipart request attaches. */
export function fileNames(form: FormData): string[] {
  const names: string[] = [];
  form.forEach((value) => {
    if (typeof value !== 'string') names.push(value.name);
  });
  return names;
}

/** Contents of the files a multipart request attaches, in the order of fileNames. */
export async function fileContents(form: FormData): Promise<Buffer[]> {
  const files: Blob[] = [];
  form.forEach((value) => {
    if (typeof value !== 'string') files.push(value);
  });
  return Promise.all(files.map(async (f) => Buffer.from(await f.arrayBuffer())));
}

/** Request bodies arrive as JSON text, or as multipart form data with a payload_json part. */
export async function readBody(body: unknown): Promise<Record<string, unknown> | undefined> {
  if (body === undefined || body === null) return undefined;
  if (typeof body === 'string') return JSON.parse(body) as Record<string, unknown>;
  if (body instanceof FormData) {
    const payload = body.get('payload_json');
    return typeof payload === 'string' ? (JSON.parse(payload) as Record<string, unknown>) : {};
  }
  if (body instanceof Uint8Array)
    return JSON.parse(Buffer.from(body).toString('utf8')) as Record<string, unknown>;
  return undefined;
}
