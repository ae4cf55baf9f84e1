/**
 * Secrets at rest under the key ring: what `aiops keys status` reports and `aiops keys rotate` re-encrypts.
 *
 * Encrypted columns (each ciphertext bound to its row by associated data):
 * - `integrations.credentials_encrypted` (`integration:<id>`), with `credentials_key_id` beside it;
 * - `users.mfa_secret` (`mfa:<userId>`);
 * - `workflow_triggers.secret_encrypted` (`trigger:<id>`) and `event_sinks.secret_encrypted`
 *   (`event_sink:<id>`), each with `secret_key_id` beside it; `event_sinks.previous_secret_encrypted`
 *   (`event_sink:<id>`, a rotated-out secret during its grace period);
 * - `agents.webhook_secret_encrypted` (`agent_webhook:<id>`), with `webhook_secret_key_id` beside it;
 * - `sync_targets.secret_encrypted` (`sync_target:<id>`) and `sync_targets.api_key_encrypted`
 *   (`sync_target_key:<id>`), each with its key id beside it.
 *
 * Rotation re-encrypts every secret not under the current key id and leaves the rest alone, so running it
 * twice changes nothing the second time. Each row is written only if it still holds the ciphertext that was
 * read (a concurrent change of the same secret wins). Rows cross tenants, so this runs as `db.system`.
 */
import { SecretBox, SecretDecryptionError } from '@aiops/core';
import {
  agents,
  type Database,
  eventSinks,
  integrations,
  syncTargets,
  users,
  workflowTriggers,
} from '@aiops/db';
import { and, eq, isNotNull } from 'drizzle-orm';
import { agentWebhookAad } from './modules/agent-schedules/calls.ts';
import { mfaSecretAad } from './modules/auth/mfa-service.ts';
import { sinkAad } from './modules/events/outbox.ts';
import { credentialsAad } from './modules/integrations/service.ts';
import { syncKeyAad, syncSecretAad } from './modules/sync/deliver.ts';
import { triggerAad } from './modules/triggers/service.ts';

export interface SecretKind {
  /** What the secrets are, e.g. `integration credentials`. */
  kind: string;
  /** Secrets found, per key id they are under. */
  byKeyId: Record<string, number>;
}

export interface RotationCounts {
  kind: string;
  total: number;
  /** Re-encrypted under the current key by this run. */
  rotated: number;
  /** Already under the current key. */
  current: number;
  /** Could not be decrypted (key missing from the ring, or data altered); left as they were. */
  failed: number;
}

interface Column {
  kind: string;
  aad: (id: string) => string;
  read: (db: Database) => Promise<{ id: string; ciphertext: string }[]>;
  /** Writes `next` where the row still holds `previous`; true when it did. */
  write: (db: Database, id: string, previous: string, next: string, keyId: string) => Promise<boolean>;
}

const COLUMNS: Column[] = [
  {
    kind: 'integration credentials',
    aad: credentialsAad,
    read: (db) =>
      db.system(async (tx) =>
        (
          await tx
            .select({ id: integrations.id, ciphertext: integrations.credentialsEncrypted })
            .from(integrations)
            .where(isNotNull(integrations.credentialsEncrypted))
        ).map((r) => ({ id: r.id, ciphertext: r.ciphertext! })),
      ),
    write: (db, id, previous, next, keyId) =>
      db.system(async (tx) => {
        const rows = await tx
          .update(integrations)
          .set({ credentialsEncrypted: next, credentialsKeyId: keyId })
          .where(and(eq(integrations.id, id), eq(integrations.credentialsEncrypted, previous)))
          .returning({ id: integrations.id });
        return rows.length > 0;
      }),
  },
  {
    kind: 'MFA secrets',
    aad: mfaSecretAad,
    read: (db) =>
      db.system(async (tx) =>
        (
          await tx
            .select({ id: users.id, ciphertext: users.mfaSecret })
            .from(users)
            .where(isNotNull(users.mfaSecret))
        ).map((r) => ({ id: r.id, ciphertext: r.ciphertext! })),
      ),
    write: (db, id, previous, next) =>
      db.system(async (tx) => {
        const rows = await tx
          .update(users)
          .set({ mfaSecret: next })
          .where(and(eq(users.id, id), eq(users.mfaSecret, previous)))
          .returning({ id: users.id });
        return rows.length > 0;
      }),
  },
  secretColumn('webhook trigger secrets', triggerAad, workflowTriggers),
  secretColumn('event sink secrets', sinkAad, eventSinks),
  secretColumn('sync target signing secrets', syncSecretAad, syncTargets),
  {
    kind: 'sync target API keys',
    aad: syncKeyAad,
    read: (db) =>
      db.system(async (tx) =>
        (
          await tx
            .select({ id: syncTargets.id, ciphertext: syncTargets.apiKeyEncrypted })
            .from(syncTargets)
            .where(isNotNull(syncTargets.apiKeyEncrypted))
        ).map((r) => ({ id: r.id, ciphertext: r.ciphertext! })),
      ),
    write: (db, id, previous, next, keyId) =>
      db.system(async (tx) => {
        const rows = await tx
          .update(syncTargets)
          .set({ apiKeyEncrypted: next, apiKeyKeyId: keyId })
          .where(and(eq(syncTargets.id, id), eq(syncTargets.apiKeyEncrypted, previous)))
          .returning({ id: syncTargets.id });
        return rows.length > 0;
      }),
  },
  {
    kind: 'event sink secrets being rotated out',
    aad: sinkAad,
    read: (db) =>
      db.system(async (tx) =>
        (
          await tx
            .select({ id: eventSinks.id, ciphertext: eventSinks.previousSecretEncrypted })
            .from(eventSinks)
            .where(isNotNull(eventSinks.previousSecretEncrypted))
        ).map((r) => ({ id: r.id, ciphertext: r.ciphertext! })),
      ),
    write: (db, id, previous, next) =>
      db.system(async (tx) => {
        const rows = await tx
          .update(eventSinks)
          .set({ previousSecretEncrypted: next })
          .where(and(eq(eventSinks.id, id), eq(eventSinks.previousSecretEncrypted, previous)))
          .returning({ id: eventSinks.id });
        return rows.length > 0;
      }),
  },
  {
    kind: 'agent schedule signing secrets',
    aad: agentWebhookAad,
    read: (db) =>
      db.system(async (tx) =>
        (
          await tx
            .select({ id: agents.id, ciphertext: agents.webhookSecretEncrypted })
            .from(agents)
            .where(isNotNull(agents.webhookSecretEncrypted))
        ).map((r) => ({ id: r.id, ciphertext: r.ciphertext! })),
      ),
    write: (db, id, previous, next, keyId) =>
      db.system(async (tx) => {
        const rows = await tx
          .update(agents)
          .set({ webhookSecretEncrypted: next, webhookSecretKeyId: keyId })
          .where(and(eq(agents.id, id), eq(agents.webhookSecretEncrypted, previous)))
          .returning({ id: agents.id });
        return rows.length > 0;
      }),
  },
];

/** A `secret_encrypted` + `secret_key_id` pair of a table with an `id`. */
function secretColumn(
  kind: string,
  aad: (id: string) => string,
  table: typeof workflowTriggers | typeof eventSinks | typeof syncTargets,
): Column {
  return {
    kind,
    aad,
    read: (db) =>
      db.system(async (tx) =>
        (
          await tx
            .select({ id: table.id, ciphertext: table.secretEncrypted })
            .from(table)
            .where(isNotNull(table.secretEncrypted))
        ).map((r) => ({ id: r.id, ciphertext: r.ciphertext! })),
      ),
    write: (db, id, previous, next, keyId) =>
      db.system(async (tx) => {
        const rows = await tx
          .update(table)
          .set({ secretEncrypted: next, secretKeyId: keyId })
          .where(and(eq(table.id, id), eq(table.secretEncrypted, previous)))
          .returning({ id: table.id });
        return rows.length > 0;
      }),
  };
}

/** How many secrets are under each key id. */
export async function secretKeyStatus(db: Database): Promise<SecretKind[]> {
  const out: SecretKind[] = [];
  for (const column of COLUMNS) {
    const byKeyId: Record<string, number> = {};
    for (const row of await column.read(db)) {
      const keyId = keyIdOf(row.ciphertext);
      byKeyId[keyId] = (byKeyId[keyId] ?? 0) + 1;
    }
    out.push({ kind: column.kind, byKeyId });
  }
  return out;
}

const keyIdOf = (ciphertext: string) => SecretBox.keyIdOf(ciphertext) ?? '(unrecognised)';

/** Re-encrypts every secret not under the current key id. Idempotent. */
export async function rotateSecrets(db: Database, secrets: SecretBox): Promise<RotationCounts[]> {
  const current = secrets.currentKeyId;
  const out: RotationCounts[] = [];
  for (const column of COLUMNS) {
    const counts: RotationCounts = { kind: column.kind, total: 0, rotated: 0, current: 0, failed: 0 };
    for (const row of await column.read(db)) {
      counts.total += 1;
      if (keyIdOf(row.ciphertext) === current) {
        counts.current += 1;
        continue;
      }
      let plaintext: string;
      try {
        plaintext = secrets.decrypt(row.ciphertext, column.aad(row.id));
      } catch (e) {
        if (e instanceof SecretDecryptionError) {
          counts.failed += 1;
          continue;
        }
        throw e;
      }
      const next = secrets.encrypt(plaintext, column.aad(row.id));
      if (await column.write(db, row.id, row.ciphertext, next, current)) counts.rotated += 1;
      else counts.current += 1; // changed meanwhile: the new value was written under the current key
    }
    out.push(counts);
  }
  return out;
}

/**
 * At start: one secret under each key id found must decrypt with the configured key ring, or the server
 * refuses to start (a wrong or missing master key would otherwise surface only when a secret is used).
 */
export async function assertSecretsDecrypt(db: Database, secrets: SecretBox): Promise<void> {
  const problems: string[] = [];
  for (const column of COLUMNS) {
    const tried = new Set<string>();
    for (const row of await column.read(db)) {
      const keyId = keyIdOf(row.ciphertext);
      if (tried.has(keyId)) continue;
      tried.add(keyId);
      try {
        secrets.decrypt(row.ciphertext, column.aad(row.id));
      } catch (e) {
        if (!(e instanceof SecretDecryptionError)) throw e;
        problems.push(`${column.kind} under key id "${keyId}": ${e.message}`);
      }
    }
  }
  if (problems.length)
    throw new Error(
      `The configured encryption keys (AIOPS_ENCRYPTION_KEYS) do not decrypt the stored secrets:\n  ${problems.join('\n  ')}\n` +
        'Start with the key ring they were written under (old keys may stay in the ring beside a new current one).',
    );
}
