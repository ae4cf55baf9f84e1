import type { AiopsClient } from '@aiops/sdk';
import { connect, type GlobalOptions } from './connect.ts';
import { UsageError } from './workflow-file.ts';
import { printTable } from './workflows.ts';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

async function targets(client: AiopsClient) {
  return (await client.call(client.api.GET('/api/v1/sync-targets'))).data;
}

/** A sync target by id or name. */
async function resolveTarget(client: AiopsClient, ref: string) {
  const all = await targets(client);
  const found = UUID.test(ref) ? all.find((t) => t.id === ref) : all.filter((t) => t.name === ref);
  if (Array.isArray(found)) {
    if (found.length > 1)
      throw new UsageError(`${ref}: ${found.length} sync targets have this name; use the id`);
    if (found[0]) return found[0];
  } else if (found) return found;
  throw new UsageError(`${ref}: no such sync target (aiops sync list shows them)`);
}

export async function syncList(options: GlobalOptions & { json?: boolean }): Promise<void> {
  const { client } = connect(options);
  const rows = await targets(client);
  if (options.json) {
    process.stdout.write(`${JSON.stringify(rows, null, 2)}\n`);
    return;
  }
  printTable(
    ['ID', 'NAME', 'ENABLED', 'STATUS', 'CURSOR', 'LAST SYNC', 'LAST ERROR'],
    rows.map((t) => [
      t.id,
      t.name,
      t.enabled ? 'yes' : 'no',
      t.status,
      String(t.cursorSequence),
      t.lastSyncAt ?? '-',
      t.lastError ?? '',
    ]),
  );
}

export async function syncResync(ref: string, options: GlobalOptions): Promise<void> {
  const { client } = connect(options);
  const target = await resolveTarget(client, ref);
  await client.call(
    client.api.POST('/api/v1/sync-targets/{id}/resync', { params: { path: { id: target.id } } }),
  );
  process.stdout.write(`full resync of ${target.name} started: every retained event is sent again\n`);
}

export async function syncTest(ref: string, options: GlobalOptions): Promise<void> {
  const { client } = connect(options);
  const target = await resolveTarget(client, ref);
  const r = await client.call(
    client.api.POST('/api/v1/sync-targets/{id}/test', { params: { path: { id: target.id } } }),
  );
  if (!r.ok) {
    process.stderr.write(`aiops: test batch to ${target.name} failed: ${r.error}\n`);
    process.exit(1);
  }
  process.stdout.write(
    `test batch to ${target.name} accepted: HTTP ${r.responseCode} in ${r.durationMs} ms\n`,
  );
}
