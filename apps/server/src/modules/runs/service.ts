import { workflowExecutions, workflows } from '@aiops/db';
import * as engine from '@aiops/engine';
import { and, desc, eq, gte, lt, type SQL } from 'drizzle-orm';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { authOf } from '../../http/auth.ts';
import { after, cursorTime, page } from '../../http/pagination.ts';
import { audit, tenant } from '../../http/tenant.ts';
import type { EngineServices } from '../../module.ts';
import { type ScoreFilter, scoreConditions, scoreSummaries } from '../evaluations/run-filter.ts';
import { logEvents, traceMetadata } from '../observability/service.ts';
import { runDetailDto, runDto } from './dto.ts';

const withMetadata = (metadata: Record<string, unknown> | undefined) => (metadata ? { metadata } : {});

export async function startRun(
  request: FastifyRequest,
  reply: FastifyReply,
  e: EngineServices,
  workflowId: string,
  body: {
    input: unknown;
    version?: number | undefined;
    wait?: number | undefined;
    correlationId?: string | undefined;
    metadata?: Record<string, unknown> | undefined;
  },
) {
  const auth = authOf(request);
  const key = request.headers['idempotency-key'];
  const idempotencyKey = typeof key === 'string' && key.trim() ? key.trim().slice(0, 255) : null;
  const startedAt = Date.now();
  const started = await e.runs.start({
    organizationId: auth.organizationId,
    workflowId,
    input: body.input,
    ...(body.version !== undefined ? { version: body.version } : {}),
    triggeredBy: auth.apiKeyId ? 'api' : 'manual',
    userId: auth.userId,
    apiKeyId: auth.apiKeyId,
    ...(body.correlationId ? { correlationId: body.correlationId } : {}),
    idempotencyKey,
    ...withMetadata(traceMetadata(request, body.metadata)),
  });
  const waitMs = Math.round((body.wait ?? 0) * 1000);
  // Without `wait` a new run is answered as it was inserted, without reading it back.
  const run =
    waitMs <= 0 && started.run
      ? started.run
      : await e.watcher.waitForFinal(
          auth.organizationId,
          started.id,
          waitMs,
          started.created ? startedAt : undefined,
        );
  reply.header('location', `/api/v1/runs/${run.id}`);
  if (!started.created) reply.header('idempotent-replayed', 'true');
  // Without `wait` the answer is always 202 (accepted), even when the run finished during the request.
  const finished = waitMs > 0 && engine.FINAL.includes(run.status);
  return reply.status(finished ? 201 : 202).send(runDto(run));
}

export function listRuns(
  request: FastifyRequest,
  q: {
    limit: number;
    cursor?: string | undefined;
    workflowId?: string | undefined;
    status?: string | undefined;
    correlationId?: string | undefined;
    from?: string | undefined;
    to?: string | undefined;
  } & ScoreFilter,
) {
  return tenant(request, async (tx) => {
    const w = workflowExecutions;
    const conditions: (SQL | undefined)[] = [after(w.createdAt, w.id, q.cursor)];
    if (q.workflowId) conditions.push(eq(w.workflowId, q.workflowId));
    if (q.status) conditions.push(eq(w.status, q.status));
    if (q.correlationId) conditions.push(eq(w.correlationId, q.correlationId));
    if (q.from) conditions.push(gte(w.createdAt, new Date(q.from)));
    if (q.to) conditions.push(lt(w.createdAt, new Date(q.to)));
    conditions.push(...scoreConditions(q));
    const rows = await tx
      .select({ row: w, id: w.id, cursorT: cursorTime(w.createdAt) })
      .from(w)
      .where(and(...conditions))
      .orderBy(desc(w.createdAt), desc(w.id))
      .limit(q.limit + 1);
    const p = page(rows, q.limit);
    const scores = await scoreSummaries(
      tx,
      p.data.map((r) => r.id),
    );
    return {
      data: p.data.map((r) => ({ ...runDto(r.row), scores: scores.get(r.id) ?? null })),
      nextCursor: p.nextCursor,
    };
  });
}

export function getRun(request: FastifyRequest, e: EngineServices, id: string) {
  return tenant(request, async (tx) => {
    const d = await engine.getRunDetail(tx, id);
    const compiled = await e.runs.catalog.version(tx, d.run.workflowId, d.run.workflowVersion);
    return runDetailDto(d.run, d.steps, d.attempts, compiled);
  });
}

async function changeRun(
  request: FastifyRequest,
  id: string,
  action: string,
  change: (tx: Parameters<Parameters<typeof tenant>[1]>[0]) => Promise<engine.RunRow>,
) {
  return tenant(request, async (tx) => {
    const before = await engine.getRun(tx, id);
    const run = await change(tx);
    await audit(tx, request, {
      entityType: 'run',
      entityId: id,
      action,
      before: { status: before.status },
      after: { status: run.status },
    });
    return runDto(run);
  });
}

export const pauseRun = (request: FastifyRequest, id: string) =>
  changeRun(request, id, 'paused', (tx) => engine.pauseRun(tx, id));
export const resumeRun = (request: FastifyRequest, id: string) =>
  changeRun(request, id, 'resumed', (tx) => engine.resumeRun(tx, id));

export function retryRun(request: FastifyRequest, e: EngineServices, id: string) {
  return changeRun(request, id, 'retried', async (tx) => {
    const run = await engine.getRun(tx, id);
    const wf = await tx.select().from(workflows).where(eq(workflows.id, run.workflowId));
    const compiled = await e.runs.catalog.version(tx, run.workflowId, run.workflowVersion);
    const timeoutMs =
      compiled.graph.definition.settings?.timeoutMs ?? (wf[0]?.executionTimeout ?? 3600) * 1000;
    return engine.retryRun(tx, id, compiled, timeoutMs);
  });
}

export function approveStep(
  request: FastifyRequest,
  id: string,
  stepId: string,
  body: { approved: boolean; comment?: string | undefined },
) {
  const auth = authOf(request);
  const decidedBy = auth.userId ? `user:${auth.userId}` : `api_key:${auth.apiKeyId}`;
  return tenant(request, async (tx) => {
    const result = await engine.decideApproval(tx, id, stepId, {
      approved: body.approved,
      comment: body.comment,
      decidedBy,
    });
    await audit(tx, request, {
      entityType: 'run_step',
      entityId: id,
      action: body.approved ? 'approved' : 'rejected',
      after: { nodeId: result.nodeId, ...result.decision },
    });
    return { run: runDto(result.run), nodeId: result.nodeId, decision: result.decision };
  });
}

export async function rerun(
  request: FastifyRequest,
  reply: FastifyReply,
  e: EngineServices,
  id: string,
  body: {
    fromStep: string;
    input?: { prompt?: string | undefined; system?: string | undefined } | undefined;
  },
) {
  const auth = authOf(request);
  const started = await e.runs.rerun({
    organizationId: auth.organizationId,
    runId: id,
    fromStep: body.fromStep,
    ...(body.input ? { input: body.input } : {}),
    userId: auth.userId,
    apiKeyId: auth.apiKeyId,
  });
  const run = await tenant(request, async (tx) => {
    const r = await engine.getRun(tx, started.id);
    await audit(tx, request, {
      entityType: 'run',
      entityId: started.id,
      action: 'rerun',
      metadata: { rerunOf: id, fromStep: body.fromStep },
    });
    return r;
  });
  reply.header('location', `/api/v1/runs/${run.id}`);
  return reply.status(201).send(runDto(run));
}

export function cancelRun(request: FastifyRequest, id: string) {
  return tenant(request, async (tx) => {
    const before = await engine.getRun(tx, id);
    const run = await engine.cancelRun(tx, id);
    await audit(tx, request, {
      entityType: 'run',
      entityId: id,
      action: 'cancelled',
      before: { status: before.status },
      after: { status: run.status },
    });
    return runDto(run);
  });
}

/**
 * Server-Sent Events of a run: first everything that already happened, then each change as it happens
 * (announced by NOTIFY); ends after the run's final event. A comment every 15 s keeps proxies from
 * closing the stream.
 */
export async function streamEvents(
  request: FastifyRequest,
  reply: FastifyReply,
  e: EngineServices,
  id: string,
  withLogs = false,
) {
  const auth = authOf(request);
  // With `logs`, the run's log lines come on the same stream (a live tail), as `log` events.
  const read = (since?: Date) =>
    request.server.db.withTenant(auth.organizationId, async (tx) => [
      ...(await engine.runTimeline(tx, id, since)),
      ...(withLogs ? await logEvents(tx, id, since) : []),
    ]);
  const first = await read();
  reply.hijack();
  const res = reply.raw;
  res.writeHead(200, {
    'content-type': 'text/event-stream; charset=utf-8',
    'cache-control': 'no-cache, no-transform',
    connection: 'keep-alive',
    'x-accel-buffering': 'no',
    'x-request-id': String(request.id),
  });
  const sent = new Set<string>();
  let lastAt = new Date(0);
  let done = false;
  const send = (events: engine.RunEvent[]) => {
    for (const ev of events) {
      if (sent.has(ev.id)) continue;
      sent.add(ev.id);
      const at = new Date(ev.at);
      if (at > lastAt) lastAt = at;
      res.write(`id: ${ev.id}\nevent: ${ev.type}\ndata: ${JSON.stringify(ev)}\n\n`);
      if (ev.type.startsWith('run.') && engine.FINAL.includes(ev.type.slice(4))) done = true;
    }
  };
  send(first);
  if (done) {
    res.end();
    return;
  }
  let busy = false;
  let again = false;
  const refresh = async () => {
    if (busy) {
      again = true;
      return;
    }
    busy = true;
    try {
      do {
        again = false;
        send(await read(new Date(lastAt.getTime() - 1000)));
      } while (again && !done);
    } catch (err) {
      request.log.warn({ err }, 'event stream refresh failed');
    } finally {
      busy = false;
    }
    if (done) close();
  };
  const stop = await e.watcher.watch(id, () => void refresh());
  // Model text as it streams (not replayed: the step's output carries it whole once it completes).
  const stopTokens = await e.watcher.watchTokens(id, (t) => {
    if (done || res.writableEnded) return;
    const data = {
      type: 'step.token',
      runId: t.runId,
      nodeId: t.nodeId,
      attempt: t.attempt,
      index: t.index ?? null,
      delta: t.delta,
    };
    res.write(`event: step.token\ndata: ${JSON.stringify(data)}\n\n`);
  });
  const keepAlive = setInterval(() => res.write(': keep-alive\n\n'), 15_000);
  const poll = setInterval(() => void refresh(), 2_000);
  const close = () => {
    stop();
    stopTokens();
    clearInterval(keepAlive);
    clearInterval(poll);
    if (!res.writableEnded) res.end();
  };
  res.on('close', close);
  void refresh();
}
