import type { AiopsClient, RunStatus } from '@aiops/sdk';
import { connect, type GlobalOptions } from './connect.ts';
import { money, plainLine } from './progress.ts';
import { exitCodeOf, followRun } from './run.ts';
import { UsageError } from './workflow-file.ts';
import { printTable, resolveWorkflow } from './workflows.ts';

const RUN_STATUSES = [
  'queued',
  'pending',
  'running',
  'paused',
  'completed',
  'failed',
  'cancelled',
  'timeout',
];
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

function runId(id: string): string {
  if (!UUID.test(id)) throw new UsageError(`${id}: a run id is a UUID (aiops runs list shows them)`);
  return id;
}

export async function runsList(
  options: GlobalOptions & { workflow?: string; status?: string; limit?: string; json?: boolean },
): Promise<void> {
  const { client } = connect(options);
  if (options.status && !RUN_STATUSES.includes(options.status)) {
    throw new UsageError(`--status ${options.status}: use one of ${RUN_STATUSES.join(', ')}`);
  }
  const limit = options.limit === undefined ? 50 : Number(options.limit);
  if (!Number.isInteger(limit) || limit < 1)
    throw new UsageError(`--limit ${options.limit}: a whole number ≥ 1`);
  const workflowId = options.workflow ? (await resolveWorkflow(client, options.workflow)).id : undefined;
  const rows = [];
  for await (const r of client.paginate('/api/v1/runs', {
    query: {
      limit: Math.min(limit, 500),
      ...(workflowId ? { workflowId } : {}),
      ...(options.status ? { status: options.status as RunStatus } : {}),
    },
  })) {
    rows.push(r);
    if (rows.length >= limit) break;
  }
  if (options.json) {
    process.stdout.write(`${JSON.stringify(rows, null, 2)}\n`);
    return;
  }
  printTable(
    ['ID', 'WORKFLOW', 'VERSION', 'STATUS', 'STEPS', 'TOKENS', 'COST', 'CREATED'],
    rows.map((r) => [
      r.id,
      r.workflowId ?? '-',
      String(r.workflowVersion ?? '-'),
      r.status,
      `${r.stepsCompleted}/${r.stepsTotal}`,
      String(r.tokens.total),
      money(r.cost),
      r.createdAt,
    ]),
  );
}

export async function runsGet(id: string, options: GlobalOptions & { json?: boolean }): Promise<void> {
  const { client } = connect(options);
  const run = await client.getRun(runId(id));
  if (options.json) {
    process.stdout.write(`${JSON.stringify(run, null, 2)}\n`);
    return;
  }
  process.stdout.write(
    `run ${run.id}\n  workflow  ${run.workflowId} v${run.workflowVersion}\n  status    ${run.status}${run.error ? ` (${run.error.code}: ${run.error.message})` : ''}\n  tokens    ${run.tokens.total}\n  cost      ${money(run.cost)}\n  created   ${run.createdAt}\n  duration  ${run.durationMs ?? '-'} ms\n\n`,
  );
  printTable(
    ['STEP', 'TYPE', 'STATUS', 'ATTEMPTS', 'TOKENS', 'COST'],
    run.steps.map((s) => [
      s.nodeId,
      s.nodeType,
      s.status,
      String(s.attempts.length),
      String(s.attempts.reduce((n, a) => n + a.tokens.total, 0)),
      money(s.attempts.reduce((n, a) => n + a.cost, 0)),
    ]),
  );
  if (run.status === 'completed') process.stdout.write(`\noutput: ${JSON.stringify(run.output, null, 2)}\n`);
}

export async function runsCancel(id: string, options: GlobalOptions & { json?: boolean }): Promise<void> {
  const { client } = connect(options);
  const run = await client.call(
    client.api.POST('/api/v1/runs/{id}/cancel', { params: { path: { id: runId(id) } } }),
  );
  process.stdout.write(options.json ? `${JSON.stringify(run, null, 2)}\n` : `run ${run.id} ${run.status}\n`);
}

export async function runsRerun(
  id: string,
  options: GlobalOptions & { fromStep?: string; json?: boolean; detach?: boolean },
): Promise<void> {
  const { client } = connect(options);
  if (!options.fromStep)
    throw new UsageError('give --from-step <node id>: it and every step after it run again');
  const run = await client.call(
    client.api.POST('/api/v1/runs/{id}/rerun', {
      params: { path: { id: runId(id) } },
      body: { fromStep: options.fromStep },
    }),
  );
  if (options.detach) {
    process.stdout.write(
      options.json ? `${JSON.stringify(run, null, 2)}\n` : `run ${run.id} ${run.status}\n`,
    );
    return;
  }
  process.exitCode = await followRun(client, run, `rerun of ${id} from ${options.fromStep}`, options);
}

/** `aiops runs tail <id>`: the run's events and log lines as they happen, until it ends. */
export async function runsTail(id: string, options: GlobalOptions & { json?: boolean }): Promise<void> {
  const { client } = connect(options);
  let status = '';
  for await (const e of client.runEvents(runId(id), { logs: true })) {
    if (e.type.startsWith('run.')) status = e.type.slice(4);
    const line = options.json ? JSON.stringify(e) : plainLine(e);
    if (line) process.stdout.write(`${line}\n`);
  }
  process.exitCode = exitCodeOf(status);
}

/**
 * `aiops logs tail --workflow <id|name>`: the log lines of the workflow's runs as they happen, each line
 * prefixed with its run; runs that start later are picked up (checked every `pollMs`). Until interrupted.
 */
export async function logsTail(
  options: GlobalOptions & { workflow?: string; json?: boolean; pollMs?: number },
): Promise<void> {
  if (!options.workflow) throw new UsageError('give --workflow <id or name>');
  const { client } = connect(options);
  const workflow = await resolveWorkflow(client, options.workflow);
  const followed = new Set<string>();
  const since = new Date().toISOString();
  process.stderr.write(`aiops: following the logs of ${workflow.name} (Ctrl-C stops)\n`);
  const follow = async (id: string) => {
    try {
      for await (const e of client.runEvents(id, { logs: true })) {
        if (e.type !== 'log' && !e.type.startsWith('run.')) continue;
        if (
          e.type.startsWith('run.') &&
          !['completed', 'failed', 'cancelled', 'timeout'].includes(e.type.slice(4))
        )
          continue;
        const line = options.json ? JSON.stringify({ runId: id, ...e }) : `${id.slice(0, 8)} ${plainLine(e)}`;
        process.stdout.write(`${line}\n`);
      }
    } catch (e) {
      process.stderr.write(`aiops: run ${id}: ${(e as Error).message}\n`);
    }
  };
  const poll = async (client: AiopsClient) => {
    const active = client.paginate('/api/v1/runs', {
      query: { workflowId: workflow.id, from: since, limit: 100 },
    });
    for await (const r of active) {
      if (followed.has(r.id)) continue;
      followed.add(r.id);
      void follow(r.id);
    }
    // Runs that were already going when the tail started.
    for (const status of ['running', 'queued', 'pending'] as const) {
      for await (const r of client.paginate('/api/v1/runs', {
        query: { workflowId: workflow.id, status, limit: 100 },
      })) {
        if (followed.has(r.id)) continue;
        followed.add(r.id);
        void follow(r.id);
      }
    }
  };
  for (;;) {
    await poll(client);
    await new Promise((r) => setTimeout(r, options.pollMs ?? 1000));
  }
}
