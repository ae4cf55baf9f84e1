/**
 * The `err` serializer of every log line. Drizzle wraps a failed query as an error whose message, `params`
 * and stack carry the query's values (an email with its argon2id hash, an API key's hash, a prompt); the
 * PostgreSQL error's `detail` repeats key values ("Key (email)=(…) already exists"). Logged here: the SQL
 * text, the PostgreSQL code, constraint and message, never a parameter.
 */
const MAX_CAUSES = 5;
/** Fields that repeat the values of a query. */
const VALUE_FIELDS = new Set(['params', 'detail', 'parameters', 'values', 'queryOptions']);

interface QueryError extends Error {
  query: string;
  params: unknown[];
}

const isQueryError = (e: Error): e is QueryError =>
  typeof (e as Partial<QueryError>).query === 'string' && Array.isArray((e as Partial<QueryError>).params);

/** The stack's frames without its first lines (which repeat the message). */
const framesOf = (stack: string | undefined) => {
  const at = stack?.indexOf('\n    at ') ?? -1;
  return at >= 0 ? stack!.slice(at + 1) : undefined;
};

/** Any `params: …` tail a message copied from a wrapped query error. */
const withoutParams = (message: string) => message.replace(/\nparams: [\s\S]*$/, '');

export interface SerializedError {
  [key: string]: unknown;
  type: string;
  message: string;
  stack: string;
}

export function serializeError(err: unknown, depth = 0): SerializedError {
  if (!(err instanceof Error)) {
    return { type: typeof err, message: withoutParams(String(err)), stack: '' };
  }
  const out: SerializedError = { type: err.constructor?.name ?? err.name, message: '', stack: '' };
  for (const [k, v] of Object.entries(err)) {
    if (VALUE_FIELDS.has(k) || k === 'cause' || v === undefined || typeof v === 'function') continue;
    out[k] = typeof v === 'string' ? withoutParams(v) : v;
  }
  // Drizzle's message is the SQL and then its values: keep the SQL.
  out.message =
    isQueryError(err) && err.message.startsWith('Failed query: ')
      ? `Failed query: ${err.query}`
      : withoutParams(err.message);
  if (isQueryError(err)) out.paramCount = err.params.length;
  out.stack = framesOf(err.stack) ?? '';
  if (err.cause !== undefined && depth < MAX_CAUSES) out.cause = serializeError(err.cause, depth + 1);
  return out;
}
