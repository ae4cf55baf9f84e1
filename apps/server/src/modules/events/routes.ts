import {
  deliverySchema,
  eventListQuerySchema,
  eventSchema,
  idParamsSchema,
  listResponse,
  postEventBodySchema,
  postEventResponseSchema,
  rotateSinkSecretBodySchema,
  sinkBodySchema,
  sinkSchema,
  updateSinkBodySchema,
} from '@aiops/contracts';
import { type Database, eventOutbox, queryRows } from '@aiops/db';
import { asc, gt, sql } from 'drizzle-orm';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { authOf } from '../../http/auth.ts';
import type { AppModule } from '../../module.ts';
import { sinkWants } from './outbox.ts';
import * as service from './service.ts';
import * as sinks from './sinks.ts';
import { outboxWakeups } from './wakeups.ts';

const tags = ['events'];

/**
 * The live stream reads the outbox by sequence number when a NOTIFY says its organization has new rows,
 * and at least this often (a lost notification while the listening connection was down).
 */
export const STREAM_FALLBACK_POLL_MS = 5_000;

/**
 * `GET /events/stream`: the organization's outbound events as Server-Sent Events, live, from the outbox
 * (`id` = the outbox sequence number; `Last-Event-ID` resumes after it, else the stream starts now).
 */
async function stream(request: FastifyRequest, reply: FastifyReply, types: string[] | undefined) {
  const auth = authOf(request);
  const db = request.server.db;
  const last = request.headers['last-event-id'];
  let cursor = typeof last === 'string' && /^\d{1,18}$/.test(last) ? Number(last) : undefined;
  if (cursor === undefined) cursor = await maxSeq(db, auth.organizationId);
  reply.hijack();
  const res = reply.raw;
  res.writeHead(200, {
    'content-type': 'text/event-stream; charset=utf-8',
    'cache-control': 'no-cache, no-transform',
    connection: 'keep-alive',
    'x-accel-buffering': 'no',
    'x-request-id': String(request.id),
  });
  res.write(': connected\n\n');
  let closed = false;
  let timer: NodeJS.Timeout | undefined;
  let reading = false;
  let again = false;
  const read = async () => {
    const rows = await db.withTenant(auth.organizationId, (tx) =>
      tx
        .select()
        .from(eventOutbox)
        .where(gt(eventOutbox.seq, cursor!))
        .orderBy(asc(eventOutbox.seq))
        .limit(200),
    );
    for (const r of rows) {
      cursor = r.seq;
      if (types && !sinkWants(types, r.type)) continue;
      const ev = {
        id: r.id,
        type: r.type,
        sequence: r.seq,
        timestamp: r.createdAt.toISOString(),
        data: r.payload,
      };
      res.write(`id: ${r.seq}\nevent: ${r.type}\ndata: ${JSON.stringify(ev)}\n\n`);
    }
    return rows.length;
  };
  // One read at a time; a wake-up during a read makes one more read after it (a burst of NOTIFYs costs two).
  const tick = async () => {
    if (closed) return;
    if (reading) {
      again = true;
      return;
    }
    reading = true;
    clearTimeout(timer);
    try {
      do {
        again = false;
        if ((await read()) === 200) again = true;
      } while (again && !closed);
    } catch (err) {
      request.log.warn({ err }, 'event stream read failed');
    }
    reading = false;
    if (!closed) timer = setTimeout(tick, STREAM_FALLBACK_POLL_MS);
  };
  const unsubscribe = await outboxWakeups(db).subscribe(auth.organizationId, () => void tick());
  const close = () => {
    closed = true;
    clearTimeout(timer);
    unsubscribe();
    if (!res.writableEnded) res.end();
  };
  request.raw.on('close', close);
  void tick();
}

async function maxSeq(db: Database, organizationId: string): Promise<number> {
  const [row] = await db.withTenant(organizationId, (tx) =>
    queryRows<{ max: string | number }>(
      tx,
      sql`SELECT coalesce(max(seq), 0)::bigint AS max FROM event_outbox`,
    ),
  );
  return Number(row?.max ?? 0);
}

/** Events in (`POST /events`, event triggers), events out (sinks, deliveries, the live stream). */
export const eventsModule: AppModule = (deps) => async (app) => {
  app.post(
    '/events',
    {
      config: { permission: 'workflow:execute' },
      schema: {
        tags,
        summary: 'Send an event: starts the runs of every matching event trigger (idempotent on `id`)',
        body: postEventBodySchema,
        response: { 200: postEventResponseSchema, 201: postEventResponseSchema },
      },
    },
    async (request, reply) => {
      const out = await service.postEvent(request, deps, request.body);
      if (out.duplicate) reply.header('idempotent-replayed', 'true');
      return reply.status(out.duplicate ? 200 : 201).send(out);
    },
  );
  app.get(
    '/events',
    {
      config: { permission: 'run:read' },
      schema: {
        tags,
        summary: 'Received events, newest first, with the runs they started',
        querystring: eventListQuerySchema,
        response: { 200: listResponse(eventSchema) },
      },
    },
    async (request) => service.listEvents(request, request.query),
  );
  app.get(
    '/events/stream',
    {
      config: { permission: 'run:read' },
      schema: {
        tags,
        summary:
          "Server-Sent Events: the organization's outbound events (run, step, workflow, agent task), live",
        querystring: z.object({ types: z.string().max(1000).optional() }),
      },
    },
    async (request, reply) =>
      stream(
        request,
        reply,
        request.query.types ? request.query.types.split(',').filter(Boolean) : undefined,
      ),
  );
  app.get(
    '/event-sinks',
    {
      config: { permission: 'integration:read' },
      schema: { tags, summary: 'Event sinks', response: { 200: z.object({ data: z.array(sinkSchema) }) } },
    },
    async (request) => sinks.listSinks(request),
  );
  app.post(
    '/event-sinks',
    {
      config: { permission: 'integration:manage' },
      schema: {
        tags,
        summary: 'Add a webhook subscription (its signing secret is shown once) or a NATS JetStream sink',
        body: sinkBodySchema,
        response: { 201: sinkSchema },
      },
    },
    async (request, reply) =>
      reply.status(201).send(await sinks.createSink(request, deps.secrets, request.body)),
  );
  app.patch(
    '/event-sinks/:id',
    {
      config: { permission: 'integration:manage' },
      schema: {
        tags,
        summary: 'Change a sink (enabling it again clears its failure count)',
        params: idParamsSchema,
        body: updateSinkBodySchema,
        response: { 200: sinkSchema },
      },
    },
    async (request) => sinks.updateSink(request, request.params.id, request.body),
  );
  app.delete(
    '/event-sinks/:id',
    {
      config: { permission: 'integration:manage' },
      schema: { tags, summary: 'Delete a sink', params: idParamsSchema, response: { 200: sinkSchema } },
    },
    async (request) => sinks.deleteSink(request, request.params.id),
  );
  app.post(
    '/event-sinks/:id/secret',
    {
      config: { permission: 'integration:manage' },
      schema: {
        tags,
        summary:
          "Rotate a webhook sink's signing secret (shown once); the old one keeps signing beside it for graceSeconds",
        params: idParamsSchema,
        body: rotateSinkSecretBodySchema.default({ graceSeconds: 86_400 }),
        response: { 200: sinkSchema },
      },
    },
    async (request) =>
      sinks.rotateSinkSecret(request, deps.secrets, request.params.id, request.body.graceSeconds),
  );
  app.get(
    '/event-sinks/:id/deliveries',
    {
      config: { permission: 'integration:read' },
      schema: {
        tags,
        summary: "A sink's delivery log, newest first",
        params: idParamsSchema,
        querystring: z.object({ limit: z.coerce.number().int().min(1).max(200).default(50) }),
        response: { 200: z.object({ data: z.array(deliverySchema) }) },
      },
    },
    async (request) => sinks.listDeliveries(request, request.params.id, request.query.limit),
  );
  app.post(
    '/event-sinks/:id/deliveries/:deliveryId/redeliver',
    {
      config: { permission: 'integration:manage' },
      schema: {
        tags,
        summary: 'Deliver this event again now',
        params: z.object({ id: z.uuid(), deliveryId: z.uuid() }),
        response: { 200: deliverySchema },
      },
    },
    async (request) => sinks.redeliver(request, request.params.id, request.params.deliveryId),
  );
};
