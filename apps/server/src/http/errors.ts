import type { ErrorBody, FieldIssue } from '@aiops/contracts';
import { AppError } from '@aiops/core';
import { isDatabaseUnavailable } from '@aiops/db';
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { hasZodFastifySchemaValidationErrors, isResponseSerializationError } from 'fastify-type-provider-zod';

/** Fastify's own client errors, mapped to our codes and to messages that say what to fix. */
const FASTIFY_ERRORS: Record<
  string,
  { code: string; message: (e: FastifyError, req: FastifyRequest) => string }
> = {
  FST_ERR_CTP_INVALID_MEDIA_TYPE: {
    code: 'unsupported_media_type',
    message: (_e, req) =>
      `Content-Type ${req.headers['content-type'] ?? '(none)'} is not supported: send JSON with Content-Type: application/json`,
  },
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: {
    code: 'bad_request',
    message: () => 'Content-Length does not match the body that was sent',
  },
  FST_ERR_CTP_BODY_TOO_LARGE: {
    code: 'payload_too_large',
    message: (_e, req) =>
      `Request body is larger than the limit of ${req.routeOptions.bodyLimit ?? 'the server'} bytes`,
  },
  FST_ERR_CTP_EMPTY_JSON_BODY: {
    code: 'invalid_json',
    message: () =>
      'The body is empty but Content-Type is application/json: send a JSON document or no Content-Type',
  },
  FST_ERR_CTP_INVALID_JSON_BODY: {
    code: 'invalid_json',
    message: (e) => `The body is not valid JSON: ${e.message}`,
  },
};

function body(
  code: string,
  message: string,
  requestId: string,
  details?: Record<string, unknown>,
): ErrorBody {
  return { error: { code, message, ...(details ? { details } : {}), requestId } };
}

const LOCATION: Record<string, string> = {
  body: 'body',
  querystring: 'query',
  params: 'path',
  headers: 'header',
};

function validationIssues(error: FastifyError): FieldIssue[] {
  const where = LOCATION[error.validationContext ?? 'body'] ?? 'body';
  return (error.validation ?? []).map((v) => {
    const params = v.params as { issue?: { path?: PropertyKey[] } } | undefined;
    const segments = params?.issue?.path ?? v.instancePath.split('/').filter(Boolean);
    const path = [where, ...segments.map(String)].join('.');
    return { path, message: v.message ?? 'is invalid' };
  });
}

/** Retry-After of a 503 answered while the database cannot be reached. */
export const DATABASE_RETRY_AFTER_SECONDS = 2;

export function sendError(reply: FastifyReply, status: number, payload: ErrorBody) {
  return reply.status(status).type('application/json; charset=utf-8').send(payload);
}

/** Every failure answers the uniform error body of API.md; clients never see a stack trace. */
export function registerErrorHandling(app: FastifyInstance) {
  app.setErrorHandler((error: FastifyError, request, reply) => {
    const id = String(request.id);
    if (error instanceof AppError) {
      if (error.status >= 500) request.log.error({ err: error }, error.message);
      if (error.status === 429 && error.details?.retryAfterSeconds !== undefined) {
        reply.header('retry-after', String(error.details.retryAfterSeconds));
      }
      return sendError(reply, error.status, body(error.code, error.message, id, error.details));
    }
    if (hasZodFastifySchemaValidationErrors(error)) {
      const issues = validationIssues(error);
      const summary = issues.map((i) => `${i.path}: ${i.message}`).join('; ');
      return sendError(reply, 400, body('validation_failed', `Invalid request: ${summary}`, id, { issues }));
    }
    if (isResponseSerializationError(error)) {
      request.log.error({ err: error }, 'response did not match its schema');
      return sendError(
        reply,
        500,
        body('internal_error', 'The server failed to answer; it has been logged', id),
      );
    }
    const known = error.code ? FASTIFY_ERRORS[error.code] : undefined;
    if (known)
      return sendError(reply, error.statusCode ?? 400, body(known.code, known.message(error, request), id));
    const status = error.statusCode ?? 500;
    if (status >= 400 && status < 500) {
      return sendError(reply, status, body('bad_request', error.message, id));
    }
    if (isDatabaseUnavailable(error)) {
      // PostgreSQL restarting, a cut network, no connection to be had: the client should retry shortly.
      request.log.warn({ err: error }, 'database unavailable');
      reply.header('retry-after', String(DATABASE_RETRY_AFTER_SECONDS));
      return sendError(
        reply,
        503,
        body(
          'database_unavailable',
          `The database cannot be reached right now; retry in ${DATABASE_RETRY_AFTER_SECONDS} seconds`,
          id,
        ),
      );
    }
    request.log.error({ err: error }, 'unhandled error');
    return sendError(
      reply,
      500,
      body(
        'internal_error',
        'The server failed to answer; retry later, and report the request id if it persists',
        id,
      ),
    );
  });

  app.setNotFoundHandler((request, reply) =>
    sendError(
      reply,
      404,
      body(
        'route_not_found',
        `No route ${request.method} ${request.url.split('?')[0]}; see /docs for the API`,
        String(request.id),
      ),
    ),
  );
}
