import { promisify } from 'node:util';
import { gunzip } from 'node:zlib';
import { queryRows } from '@aiops/db';
import { sql } from 'drizzle-orm';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { authOf } from '../../http/auth.ts';
import { tenant } from '../../http/tenant.ts';
import type { ModuleDeps } from '../../module.ts';
import { rowOf, type SpanRow, storeSpans } from './ingest.ts';
import { decodeTraces, encodeResponse, encodeStatus, OtlpDecodeError } from './otlp-decode.ts';

const unzip = promisify(gunzip);
/** Compressed or not, what a request may send; and what a gzip body may expand to. */
const MAX_BODY = 16 * 1024 * 1024;
const MAX_EXPANDED = 64 * 1024 * 1024;
const MAX_SPANS = 20_000;

/** Months (`YYYYMM`) that have a `spans` partition, read at most once a minute. */
let months: { at: number; set: Set<string> } | undefined;

/**
 * OTLP/HTTP trace ingest (`POST /otel/v1/traces`): protobuf or JSON, gzip or not, from an API key (or a
 * member) with the `trace:ingest` permission. Its own plugin context: it reads bodies as raw bytes.
 */
export const otlpRoutes =
  (deps: ModuleDeps): FastifyPluginAsyncZod =>
  async (app) => {
    app.removeAllContentTypeParsers();
    app.addContentTypeParser('*', { parseAs: 'buffer', bodyLimit: MAX_BODY }, (_req, body, done) =>
      done(null, body),
    );
    app.post(
      '/otel/v1/traces',
      {
        bodyLimit: MAX_BODY,
        // Telemetry, not a change to audit (it is itself the record); the key that sent it is checked.
        config: { permission: 'trace:ingest', audit: false },
        schema: {
          tags: ['observability'],
          summary: 'OTLP/HTTP trace export (application/x-protobuf or application/json, gzip accepted)',
          description:
            'Point an OpenTelemetry exporter at `/api/v1/otel` (OTEL_EXPORTER_OTLP_ENDPOINT) with an API key ' +
            'that has the `trace:ingest` scope as `Authorization: Bearer …`. Spans that cannot be stored are ' +
            'counted in `partialSuccess`; a body that is not an OTLP trace request answers 400.',
        },
      },
      async (request, reply) => {
        const type = String(request.headers['content-type'] ?? '')
          .split(';')[0]!
          .trim()
          .toLowerCase();
        const format =
          type === 'application/json' ? 'json' : type === 'application/x-protobuf' ? 'protobuf' : null;
        if (!format) {
          return reply
            .status(415)
            .type('application/json')
            .send({ code: 3, message: 'Send application/x-protobuf or application/json (OTLP/HTTP)' });
        }
        const answer = (status: number, body: Buffer | Record<string, unknown>) =>
          reply
            .status(status)
            .type(format === 'json' ? 'application/json' : 'application/x-protobuf')
            .send(body);
        let body = request.body as Buffer;
        const encoding = String(request.headers['content-encoding'] ?? 'identity').toLowerCase();
        if (encoding === 'gzip') {
          try {
            body = await unzip(body, { maxOutputLength: MAX_EXPANDED });
          } catch (e) {
            return answer(
              400,
              encodeStatus(format, `the gzip body could not be read: ${(e as Error).message}`),
            );
          }
        } else if (encoding !== 'identity') {
          return answer(
            415,
            encodeStatus(format, `Content-Encoding ${encoding} is not supported: send gzip or none`),
          );
        }
        let spans: ReturnType<typeof decodeTraces>;
        try {
          spans = decodeTraces(body, format);
        } catch (e) {
          if (e instanceof OtlpDecodeError) return answer(400, encodeStatus(format, e.message));
          throw e;
        }
        if (spans.length > MAX_SPANS)
          return answer(
            400,
            encodeStatus(format, `at most ${MAX_SPANS} spans per request; send smaller batches`),
          );
        const auth = authOf(request);
        const prices = await deps.prices.lookup(auth.organizationId);
        const stored = await storedMonths(deps);
        const rows: SpanRow[] = [];
        const problems = new Map<string, number>();
        for (const s of spans) {
          const row = rowOf(s, prices);
          const why =
            typeof row === 'string'
              ? row
              : stored.has(row.start_time.slice(0, 7).replace('-', ''))
                ? undefined
                : `start time ${row.start_time.slice(0, 7)} is outside the months kept`;
          if (why) problems.set(why, (problems.get(why) ?? 0) + 1);
          else rows.push(row as SpanRow);
        }
        if (rows.length) await tenant(request, (tx) => storeSpans(tx, auth.organizationId, rows));
        const rejected = spans.length - rows.length;
        const message = [...problems].map(([why, n]) => `${n} span(s): ${why}`).join('; ');
        return answer(200, encodeResponse(format, rejected, message));
      },
    );
  };

async function storedMonths(deps: ModuleDeps): Promise<Set<string>> {
  if (months && Date.now() - months.at < 60_000) return months.set;
  const rows = await deps.db.system((tx) =>
    queryRows<{ name: string }>(
      tx,
      sql`SELECT c.relname AS name FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
          JOIN pg_class p ON p.oid = i.inhparent WHERE p.relname = 'spans'`,
    ),
  );
  const set = new Set(rows.map((r) => r.name.replace(/^spans_y(\d{4})m(\d{2})$/, '$1$2')));
  months = { at: Date.now(), set };
  return set;
}
