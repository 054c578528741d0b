import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { hasZodFastifySchemaValidationErrors } from 'fastify-type-provider-zod';
import { ApprovalRequired } from '../approvals/gate.js';
import { UserError, type UserErrorCode } from '../base/errors.js';
import { approvalBody } from './approval.js';
import { errorText } from './next-step.js';
import { errorDetail, logger } from '../base/logger.js';

/** The HTTP status of each user error; the text is the one Discord shows. */
const STATUS: Record<UserErrorCode, number> = {
  INVALID_KEY: 400,
  UNKNOWN_KEY: 404,
  INVALID_VALUE: 400,
  TOO_LONG: 400,
  UNCHANGED: 200,
  VERSION_NOT_FOUND: 404,
  CONFLICT: 409,
  UNAVAILABLE: 503,
  PERMISSION_DENIED: 403,
  RATE_LIMITED: 429,
  ENCRYPTION_REQUIRED: 400,
  RULE_VIOLATION: 400,
  // Not applied: a change request was created instead (answered with approvalBody, see sendError).
  APPROVAL_REQUIRED: 202,
};

/** An API refusal that is not a configuration error: bad token, scope not covered, bad route. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

export interface ErrorBody {
  error: { code: string; message: string };
}

const body = (code: string, message: string): ErrorBody => ({ error: { code, message } });

/**
 * The one place an API failure becomes an answer: user errors with their status and text,
 * validation failures as 400 naming each field, anything else as a 500 with an id to find the
 * log line. Never a stack trace.
 */
export function sendError(err: unknown, req: FastifyRequest, reply: FastifyReply): FastifyReply {
  if (err instanceof ApiError) {
    return reply.code(err.status).headers(err.headers).send(body(err.code, err.message));
  }
  if (err instanceof ApprovalRequired) {
    // Not a refusal: nothing was applied, and a change request now waits for approvals.
    return reply.code(202).send(approvalBody(err.request));
  }
  if (err instanceof UserError) {
    const status = STATUS[err.code];
    return reply.code(status === 200 ? 409 : status).send(body(err.code, errorText(err)));
  }
  const fe = err as FastifyError;
  if (hasZodFastifySchemaValidationErrors(fe)) {
    const where = fe.validationContext ?? 'request';
    const issues = fe.validation.map((v) => {
      const field = v.instancePath.replace(/^\//, '').replace(/\//g, '.');
      return `${field ? `${where}.${field}` : where}: ${v.message ?? 'invalid'}`;
    });
    return reply.code(400).send(body('VALIDATION', `Invalid request: ${issues.join('; ')}.`));
  }
  if (typeof fe.statusCode === 'number' && fe.statusCode >= 400 && fe.statusCode < 500) {
    // Fastify's own refusals (malformed JSON, body too large, unsupported media type).
    return reply.code(fe.statusCode).send(body('BAD_REQUEST', plain(fe.message)));
  }
  logger.error(`API ${req.method} ${req.url} failed (request ${req.id})`, errorDetail(err));
  return reply
    .code(500)
    .send(body('INTERNAL', `Something went wrong on our side (request ${req.id}); it was logged.`));
}

/** Fastify's messages start with an error code ("FST_ERR_…: "); the rest is readable. */
function plain(message: string): string {
  return message.replace(/^FST_[A-Z_]+:\s*/, '');
}
