import { readFile, stat } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import type { APIAttachment } from 'discord-api-types/v10';
import { ATTACHMENT_SIZE_LIMIT, snowflake } from './simulated.js';

interface Hosted {
  body: Buffer;
  contentType: string;
  /** Sent without a Content-Length (chunked), so only counting what arrives finds its size. */
  chunked: boolean;
}

export interface UploadOptions {
  contentType?: string;
  /** The size the attachment claims, when it should not be the real one (a lying client). */
  size?: number;
  chunked?: boolean;
}

/**
 * Files a simulated user attached, served over HTTP on 127.0.0.1 as Discord's CDN serves
 * attachments, so a bot downloads them by the URL in the payload without anything leaving the
 * machine. Started at the first upload; closed with the harness.
 */
export class LoopbackUploads {
  private server: Server | undefined;
  private origin: Promise<string> | undefined;
  private readonly files = new Map<string, Hosted>();
  /** Downloads per attachment id (a test checks a refused file was never fetched). */
  readonly downloads = new Map<string, number>();

  /** Hosts `content` and returns the attachment as Discord describes it in `resolved.attachments`. */
  async add(
    filename: string,
    content: string | Uint8Array,
    opts: UploadOptions = {},
  ): Promise<APIAttachment> {
    const origin = await this.start();
    const id = snowflake();
    const body = Buffer.from(content);
    const contentType = opts.contentType ?? 'application/json; charset=utf-8';
    this.files.set(id, { body, contentType, chunked: opts.chunked ?? false });
    const path = `/ephemeral-attachments/${id}/${encodeURIComponent(filename)}`;
    return {
      id,
      filename,
      size: opts.size ?? body.byteLength,
      url: `${origin}${path}`,
      proxy_url: `${origin}/proxy${path}`,
      content_type: contentType,
      ephemeral: true,
    };
  }

  async close(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    this.origin = undefined;
    if (!server) return;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  private start(): Promise<string> {
    this.origin ??= new Promise((resolve, reject) => {
      const server = createServer((req, res) => {
        const m = /^(?:\/proxy)?\/ephemeral-attachments\/(\d+)\//.exec(req.url ?? '');
        const file = m?.[1] ? this.files.get(m[1]) : undefined;
        if (!m?.[1] || !file || req.method !== 'GET') {
          res.writeHead(404, { 'content-type': 'text/plain' }).end('Not Found');
          return;
        }
        this.downloads.set(m[1], (this.downloads.get(m[1]) ?? 0) + 1);
        res.writeHead(200, {
          'content-type': file.contentType,
          ...(file.chunked ? {} : { 'content-length': String(file.body.byteLength) }),
        });
        res.end(file.body);
      });
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => {
        const { port } = server.address() as AddressInfo;
        resolve(`http://127.0.0.1:${port}`);
      });
      server.unref();
      this.server = server;
    });
    return this.origin;
  }
}

/** A local file that cannot be attached, said in one line that names it. */
export class UploadRefused extends Error {
  override name = 'UploadRefused';
}

const CONTENT_TYPES: Readonly<Record<string, string>> = {
  '.json': 'application/json; charset=utf-8',
  '.txt': 'text/plain; charset=utf-8',
  '.csv': 'text/csv; charset=utf-8',
  '.png': 'image/png',
};

/**
 * A local file as a user would pick it in Discord's file picker: its name, its bytes and the
 * content type Discord would give it (from its extension). Refuses a folder, a file it cannot read
 * and one over what Discord lets a user attach (before reading it).
 */
export async function readLocalFile(
  filePath: string,
): Promise<{ name: string; content: Buffer; contentType: string }> {
  const name = path.basename(filePath);
  const contentType = CONTENT_TYPES[path.extname(name).toLowerCase()] ?? 'application/octet-stream';
  try {
    const info = await stat(filePath);
    if (info.isDirectory()) throw new UploadRefused(`Cannot attach ${filePath}: it is a folder`);
    if (info.size > ATTACHMENT_SIZE_LIMIT)
      throw new UploadRefused(
        `Cannot attach ${filePath}: ${info.size} bytes is more than Discord lets a user attach (${ATTACHMENT_SIZE_LIMIT})`,
      );
    return { name, content: await readFile(filePath), contentType };
  } catch (err) {
    if (err instanceof UploadRefused) throw err;
    const code = (err as NodeJS.ErrnoException).code;
    const why =
      code === 'ENOENT' ? 'no such file' : code === 'EACCES' ? 'permission denied' : (code ?? String(err));
    throw new UploadRefused(`Cannot attach ${filePath}: ${why}`);
  }
}
