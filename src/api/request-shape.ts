import http from 'node:http';
import type { Socket } from 'node:net';
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import secureJson from 'secure-json-parse';
import { ApiError, sendError } from './errors.js';

/** Node's limit on the request line and headers together (its default, --max-http-header-size). */
const HEADER_LIMIT = '16 KB';

/**
 * JSON bodies: parsed, then refused (with that reason) when they carry `__proto__` or
 * `constructor.prototype` anywhere, names that could change how objects behave further on.
 * Fastify's own parser refuses them too, but says the body "is not valid JSON", which is false.
 */
export function jsonBodies(app: FastifyInstance): void {
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (_req, body, done) => {
    const text = typeof body === 'string' ? body : body.toString('utf8');
    if (!text.trim()) {
      done(new ApiError(400, 'BAD_REQUEST', 'The body is empty; send a JSON object.'), undefined);
      return;
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      done(new ApiError(400, 'BAD_REQUEST', 'The body is not valid JSON.'), undefined);
      return;
    }
    try {
      if (parsed !== null && typeof parsed === 'object')
        secureJson.scan(parsed as Record<string, unknown>, {
          protoAction: 'error',
          constructorAction: 'error',
        });
    } catch {
      done(
        new ApiError(
          400,
          'BAD_REQUEST',
          'The body is valid JSON, but the names __proto__ and constructor (with a prototype inside) are refused anywhere in it.',
        ),
        undefined,
      );
      return;
    }
    done(null, parsed);
  });
}

/** Errors of the router, before any route runs (a path segment over maxParamLength, a malformed URL). */
export function frameworkErrors(err: FastifyError, req: FastifyRequest, reply: FastifyReply): void {
  if (err.code === 'FST_ERR_MAX_PARAM_LENGTH') {
    void sendError(
      new ApiError(
        414,
        'URI_TOO_LONG',
        'A part of the path is longer than 100 characters: no key or flag name is that long.',
      ),
      req,
      reply,
    );
    return;
  }
  void sendError(new ApiError(400, 'BAD_REQUEST', 'The URL is malformed.'), req, reply);
}

/**
 * What Node refuses before Fastify sees a request (headers over its limit, a request that is not
 * HTTP, a timeout): answered in the same `{ error: { code, message } }` shape, then closed.
 */
export function clientErrors(err: NodeJS.ErrnoException, socket: Socket): void {
  if (err.code === 'ECONNRESET' || socket.destroyed || !socket.writable) return;
  const [status, code, message] =
    err.code === 'HPE_HEADER_OVERFLOW'
      ? [
          431,
          'HEADERS_TOO_LARGE',
          `Request headers are too large: the URL and headers together may be at most ${HEADER_LIMIT}. Ask for fewer keys (or leave ?keys= out to follow every key).`,
        ]
      : err.code === 'ERR_HTTP_REQUEST_TIMEOUT'
        ? [408, 'TIMEOUT', 'The request took too long to arrive.']
        : [400, 'BAD_REQUEST', 'The request is not valid HTTP.'];
  const body = JSON.stringify({ error: { code, message } });
  socket.end(
    `HTTP/1.1 ${status} ${http.STATUS_CODES[status] ?? ''}\r\nContent-Type: application/json; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
  );
}
