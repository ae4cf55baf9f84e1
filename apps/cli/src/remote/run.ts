import { existsSync, readFileSync } from 'node:fs';
import type { AiopsClient, Run, RunDetail } from '@aiops/sdk';
import { connect, EXIT, type GlobalOptions } from './connect.ts';
import { money, plainProgress, ttyProgress } from './progress.ts';
import { UsageError } from './workflow-file.ts';
import { pushFile, resolveWorkflow } from './workflows.ts';

export interface RunOptions extends GlobalOptions {
  input?: string[];
  inputFile?: string;
  json?: boolean;
  workflowVersion?: string;
  local?: boolean;
}

const MAX_INPUT_BYTES = 1024 * 1024;

/** The run input: the JSON object of `--input-file`, then each `--input key=value` (a JSON value, or text). */
export function parseInput(pairs: string[] = [], file?: string): Record<string, unknown> {
  let input: Record<string, unknown> = {};
  if (file) {
    const text = readFileSync(file, 'utf8');
    if (Buffer.byteLength(text) > MAX_INPUT_BYTES)
      throw new UsageError(`--input-file ${file}: larger than 1 MiB`);
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch (e) {
      throw new UsageError(`--input-file ${file}: not JSON (${(e as Error).message})`);
    }
    if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) {
      throw new UsageError(`--input-file ${file}: must hold a JSON object`);
    }
    input = parsed as Record<string, unknown>;
  }
  for (const pair of pairs) {
    const eq = pair.indexOf('=');
    if (eq < 1) throw new UsageError(`--input ${pair}: write key=value`);
    const raw = pair.slice(eq + 1);
    let value: unknown = raw;
    try {
      value = JSON.parse(raw);
    } catch {}
    input[pair.slice(0, eq)] = value;
  }
  return input;
}

/** True when the argument names a workflow file rather than a workflow. */
export const isWorkflowFile = (target: string) => /\.(ya?ml|json)$/i.test(target) || existsSync(target);

/** Exit code of a finished run: 0 completed, 1 failed or timed out, 3 cancelled. */
export function exitCodeOf(status: string): number {
  if (status === 'completed') return EXIT.ok;
  if (status === 'cancelled') return EXIT.cancelled;
  return EXIT.failed;
}

/**
 * Follows a run to its end with live progress (TTY table, plain lines, or nothing with --json), then
 * prints the result; answers the exit code.
 */
export async function followRun(
  client: AiopsClient,
  run: Run,
  title: string,
  options: { json?: boolean; logs?: boolean },
): Promise<number> {
  const tty = !options.json && process.stdout.isTTY === true;
  const write = (s: string) => process.stdout.write(s);
  if (!options.json && !tty) write(`run ${run.id} started: ${title}\n`);
  const progress = options.json ? undefined : tty ? ttyProgress(process.stdout, title) : plainProgress(write);
  const stop = new AbortController();
  const onSignal = () => {
    stop.abort();
    process.stderr.write(`\naiops: stopped following; run ${run.id} goes on (aiops runs cancel ${run.id})\n`);
    process.exit(130);
  };
  process.once('SIGINT', onSignal);
  try {
    for await (const e of client.runEvents(run.id, { signal: stop.signal, logs: options.logs === true })) {
      progress?.event(e);
    }
  } finally {
    process.off('SIGINT', onSignal);
  }
  const detail = await client.getRun(run.id);
  progress?.done(detail);
  if (options.json) write(`${JSON.stringify(detail, null, 2)}\n`);
  else printOutcome(detail);
  return exitCodeOf(detail.status);
}

function printOutcome(run: RunDetail): void {
  const out = process.stdout;
  if (run.status === 'completed') {
    out.write(`output: ${JSON.stringify(run.output, null, 2)}\n`);
  } else if (run.error) {
    process.stderr.write(`aiops: run ${run.status}: ${run.error.message} (${run.error.code})\n`);
  } else {
    process.stderr.write(`aiops: run ${run.status}${run.statusReason ? `: ${run.statusReason}` : ''}\n`);
  }
  out.write(
    `run ${run.id} ${run.status}: ${run.stepsCompleted}/${run.stepsTotal} steps, ${run.tokens.total} tokens, ${money(run.cost)}${run.durationMs !== null ? `, ${run.durationMs} ms` : ''}\n`,
  );
}

/** Pushes (a file) or finds (an id or name) the workflow, starts a run and follows it. */
export async function runWorkflow(client: AiopsClient, target: string, options: RunOptions): Promise<number> {
  const input = parseInput(options.input, options.inputFile);
  let workflowId: string;
  let title: string;
  if (isWorkflowFile(target)) {
    if (!existsSync(target)) throw new UsageError(`${target}: no such file`);
    const { workflow, created } = await pushFile(client, target, {});
    if (!options.json) {
      process.stderr.write(
        `aiops: ${created ? 'created' : 'saved'} ${workflow.name} version ${workflow.version}\n`,
      );
    }
    workflowId = workflow.id;
    title = `${workflow.name} v${workflow.version}`;
  } else {
    const workflow = await resolveWorkflow(client, target);
    workflowId = workflow.id;
    title = `${workflow.name} v${options.workflowVersion ?? workflow.version}`;
  }
  let version: number | undefined;
  if (options.workflowVersion !== undefined) {
    version = Number(options.workflowVersion);
    if (!Number.isInteger(version) || version < 1)
      throw new UsageError(`--workflow-version ${options.workflowVersion}: 1, 2, …`);
  }
  const run = await client.startRun(workflowId, { input, ...(version ? { version } : {}) });
  return followRun(client, run, title, options);
}

/** `aiops run <file|workflow>` against the logged-in server. */
export async function runCommand(target: string, options: RunOptions): Promise<void> {
  const { client } = connect(options);
  process.exitCode = await runWorkflow(client, target, options);
}
