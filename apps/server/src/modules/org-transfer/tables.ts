/**
 * What an organization export holds, table by table, in the order an import inserts them (a table only
 * references tables above it). Every table has `id` and `organization_id`; the rows are copied column by
 * column as PostgreSQL's `to_jsonb` renders them, so a column added later travels without code here.
 */
import { randomBytes } from 'node:crypto';
import { agentWebhookAad } from '../agent-schedules/calls.ts';
import { credentialsAad } from '../integrations/service.ts';
import { nextFireTime } from '../triggers/cron.ts';
import { triggerAad } from '../triggers/service.ts';

export interface SecretColumn {
  column: string;
  /** The SecretBox associated data of the row (binds the ciphertext to the row id). */
  aad: (id: string) => string;
  /** Column beside it naming the key id the ciphertext is under. */
  keyIdColumn: string;
}

export interface TableSpec {
  name: string;
  /** Part of the run history: exported only with `includeRuns`, within the date range. */
  runs?: { column: string } | { parentColumn: string };
  secrets?: SecretColumn[];
  /** The order rows are exported and re-inserted in (default `id`); keeps a new identity column in order. */
  orderBy?: string;
  /** Values set on import whatever the archive says (cursors, globally unique tokens). */
  onImport?: (row: Record<string, unknown>) => void;
}

export const TABLES: TableSpec[] = [
  {
    name: 'integrations',
    secrets: [{ column: 'credentials_encrypted', aad: credentialsAad, keyIdColumn: 'credentials_key_id' }],
  },
  {
    name: 'agents',
    secrets: [
      { column: 'webhook_secret_encrypted', aad: agentWebhookAad, keyIdColumn: 'webhook_secret_key_id' },
    ],
    onImport: (row) => {
      row.schedule_next_fire_at = null;
    },
  },
  { name: 'agent_versions' },
  { name: 'workflows' },
  { name: 'workflow_versions' },
  {
    name: 'workflow_triggers',
    secrets: [{ column: 'secret_encrypted', aad: triggerAad, keyIdColumn: 'secret_key_id' }],
    onImport: (row) => {
      // A webhook's URL is unique across the instance: the imported trigger gets a new one.
      if (row.hook_id != null) row.hook_id = randomBytes(24).toString('base64url');
      // A schedule starts from its next due time after the import (no catch-up of the time in between).
      const cron = row.schedule_cron;
      const tz = row.timezone;
      row.next_fire_at =
        typeof cron === 'string' && typeof tz === 'string'
          ? (nextFireTime(cron, tz, new Date())?.toISOString() ?? null)
          : null;
    },
  },
  { name: 'evaluators' },
  { name: 'evaluator_versions' },
  { name: 'evaluator_attachments' },
  { name: 'datasets' },
  { name: 'dataset_items', orderBy: 'seq' },
  { name: 'terminology_entries' },
  { name: 'ai_templates' },
  { name: 'ai_template_versions' },
  { name: 'workflow_executions', runs: { column: 'created_at' } },
  { name: 'run_steps', runs: { parentColumn: 'run_id' } },
  { name: 'agent_executions', runs: { parentColumn: 'workflow_execution_id' } },
  { name: 'execution_logs', runs: { parentColumn: 'workflow_execution_id' } },
];

export const TABLE_NAMES = new Set(TABLES.map((t) => t.name));
