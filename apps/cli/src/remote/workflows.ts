import { writeFileSync } from 'node:fs';
import { parseDefinition } from '@aiops/core';
import { type AiopsClient, AiopsValidationError, type Workflow, type WorkflowSummary } from '@aiops/sdk';
import { stringify } from 'yaml';
import { connect, EXIT, type GlobalOptions } from './connect.ts';
import { type FileProblem, readWorkflowFile, UsageError, type WorkflowFile } from './workflow-file.ts';

const STATUSES = ['draft', 'active', 'paused', 'archived'] as const;
type Status = (typeof STATUSES)[number];
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Prints problems as `file:line:column: path: message`, one a line (the form editors jump to). */
export function printProblems(file: string, problems: FileProblem[]): void {
  for (const p of problems) {
    const where = p.line ? `${file}:${p.line}:${p.column ?? 1}` : file;
    process.stderr.write(`${where}: ${p.path}: ${p.message}\n`);
  }
}

/** Definition issues (path, message) placed at their lines in the file. */
export function placeIssues(wf: WorkflowFile, issues: { path: string; message: string }[]): FileProblem[] {
  return issues.map((i) => {
    const at = wf.locate(i.path);
    return { line: at?.line, column: at?.column, path: i.path, message: i.message };
  });
}

/** Reads a workflow file or stops with its syntax problems (exit code 2). */
export function loadDefinition(file: string): { wf: WorkflowFile; definition: Record<string, unknown> } {
  const wf = readWorkflowFile(file);
  if (!wf.definition) {
    printProblems(file, wf.syntaxProblems);
    process.exit(EXIT.usage);
  }
  return { wf, definition: wf.definition };
}

/** The workflow with this exact name, if any. */
async function findByName(client: AiopsClient, name: string): Promise<WorkflowSummary | undefined> {
  for await (const w of client.paginate('/api/v1/workflows', { query: { q: name, limit: 100 } })) {
    if (w.name === name) return w;
  }
  return undefined;
}

/** A workflow by id or exact name; 404-like UsageError when there is none. */
export async function resolveWorkflow(client: AiopsClient, ref: string): Promise<WorkflowSummary> {
  if (UUID.test(ref)) {
    return client.call(client.api.GET('/api/v1/workflows/{id}', { params: { path: { id: ref } } }));
  }
  const found = await findByName(client, ref);
  if (!found) throw new UsageError(`no workflow named "${ref}" (aiops workflows list shows them)`);
  return found;
}

/**
 * Saves a file's definition: a new workflow when none has its name, else the workflow's next version.
 * Refused definitions print each problem at its line in the file and exit with code 1.
 */
export async function pushFile(
  client: AiopsClient,
  file: string,
  options: { status?: string; note?: string },
): Promise<{ workflow: Workflow; created: boolean }> {
  const { wf, definition } = loadDefinition(file);
  const status = parseStatus(options.status);
  const name = typeof definition.name === 'string' ? definition.name.trim() : '';
  if (!name) {
    printProblems(file, [{ line: 1, column: 1, path: 'name', message: 'the workflow needs a name' }]);
    process.exit(EXIT.failed);
  }
  try {
    const existing = await findByName(client, name);
    const changeNote = options.note ? { changeNote: options.note } : {};
    if (existing) {
      const workflow = await client.call(
        client.api.PATCH('/api/v1/workflows/{id}', {
          params: { path: { id: existing.id } },
          body: { definition, ...(status ? { status } : {}), ...changeNote },
        }),
      );
      return { workflow, created: false };
    }
    const workflow = await client.call(
      client.api.POST('/api/v1/workflows', {
        body: { definition, status: status ?? 'active', ...changeNote },
      }),
    );
    return { workflow, created: true };
  } catch (e) {
    const issues = e instanceof AiopsValidationError ? e.details?.issues : undefined;
    if (Array.isArray(issues)) {
      process.stderr.write(`aiops: ${file}: the server refused the definition (${issues.length} problems)\n`);
      printProblems(file, placeIssues(wf, issues as { path: string; message: string }[]));
      process.exit(EXIT.failed);
    }
    throw e;
  }
}

function parseStatus(value: string | undefined): Status | undefined {
  if (value === undefined) return undefined;
  if ((STATUSES as readonly string[]).includes(value)) return value as Status;
  throw new UsageError(`--status ${value}: use one of ${STATUSES.join(', ')}`);
}

export async function workflowsPush(
  file: string,
  options: GlobalOptions & { status?: string; note?: string; json?: boolean },
): Promise<void> {
  const { client } = connect(options);
  const { workflow, created } = await pushFile(client, file, options);
  if (options.json) {
    process.stdout.write(`${JSON.stringify({ created, workflow }, null, 2)}\n`);
    return;
  }
  process.stdout.write(
    `${created ? 'Created' : 'Updated'} workflow ${workflow.name} (${workflow.id}): version ${workflow.version}, ${workflow.status}\n`,
  );
}

export async function workflowsPull(
  ref: string,
  options: GlobalOptions & { output?: string; workflowVersion?: string; json?: boolean },
): Promise<void> {
  const { client } = connect(options);
  const summary = await resolveWorkflow(client, ref);
  let definition: unknown;
  if (options.workflowVersion !== undefined) {
    const version = Number(options.workflowVersion);
    if (!Number.isInteger(version) || version < 1) {
      throw new UsageError(`--workflow-version ${options.workflowVersion}: a version number (1, 2, …)`);
    }
    const v = await client.call(
      client.api.GET('/api/v1/workflows/{id}/versions/{version}', {
        params: { path: { id: summary.id, version } as never },
      }),
    );
    definition = v.definition;
  } else {
    const w = await client.call(
      client.api.GET('/api/v1/workflows/{id}', { params: { path: { id: summary.id } } }),
    );
    definition = w.definition;
  }
  const text = options.json ? `${JSON.stringify(definition, null, 2)}\n` : stringify(definition);
  if (options.output) {
    writeFileSync(options.output, text);
    process.stderr.write(`aiops: wrote ${summary.name} to ${options.output}\n`);
  } else {
    process.stdout.write(text);
  }
}

export async function workflowsList(
  options: GlobalOptions & { status?: string; q?: string; limit?: string; json?: boolean },
): Promise<void> {
  const { client } = connect(options);
  const status = parseStatus(options.status);
  const limit = options.limit === undefined ? 1000 : Number(options.limit);
  if (!Number.isInteger(limit) || limit < 1)
    throw new UsageError(`--limit ${options.limit}: a whole number ≥ 1`);
  const rows: WorkflowSummary[] = [];
  for await (const w of client.paginate('/api/v1/workflows', {
    query: {
      limit: Math.min(limit, 500),
      ...(status ? { status } : {}),
      ...(options.q ? { q: options.q } : {}),
    },
  })) {
    rows.push(w);
    if (rows.length >= limit) break;
  }
  if (options.json) {
    process.stdout.write(`${JSON.stringify(rows, null, 2)}\n`);
    return;
  }
  printTable(
    ['ID', 'NAME', 'STATUS', 'VERSION', 'RUNS', 'LAST RUN'],
    rows.map((w) => [
      w.id,
      w.name,
      w.status,
      String(w.version),
      String(w.analytics.totalExecutions),
      w.analytics.lastRunAt ? `${w.analytics.lastRunStatus} ${w.analytics.lastRunAt}` : '-',
    ]),
  );
}

/**
 * `aiops workflows validate <file…>`: every problem of each file with its line, from the server
 * (POST /workflows/validate) when logged in, else (or with --offline) by the same checks run here.
 */
export async function workflowsValidate(
  files: string[],
  options: GlobalOptions & { offline?: boolean },
): Promise<void> {
  let client: AiopsClient | undefined;
  if (!options.offline) {
    try {
      client = connect(options).client;
    } catch (e) {
      if (!(e instanceof UsageError)) throw e;
      process.stderr.write('aiops: not logged in: validating offline (the same checks as the server)\n');
    }
  }
  let problems = 0;
  for (const file of files) {
    const wf = readWorkflowFile(file);
    let found: FileProblem[] = wf.syntaxProblems;
    if (wf.definition) {
      const issues = client
        ? (
            await client.call(
              client.api.POST('/api/v1/workflows/validate', { body: { definition: wf.definition } }),
            )
          ).issues
        : ((r) => (r.ok ? [] : r.issues))(parseDefinition(wf.definition));
      found = placeIssues(wf, issues);
    }
    if (found.length) printProblems(file, found);
    else process.stdout.write(`${file}: valid\n`);
    problems += found.length;
  }
  if (problems) {
    process.stderr.write(`aiops: ${problems} problem${problems === 1 ? '' : 's'}\n`);
    process.exit(EXIT.failed);
  }
}

/** Columns padded to their widest cell. */
export function printTable(header: string[], rows: string[][]): void {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i] ?? 0)))
      .join('  ')
      .trimEnd();
  process.stdout.write(`${[line(header), ...rows.map(line)].join('\n')}\n`);
}
