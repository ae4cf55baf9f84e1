import { randomBytes } from 'node:crypto';
import type { SecretBox } from '@aiops/core';
import { agents, auditLogs, type Tx } from '@aiops/db';
import { and, eq, isNull } from 'drizzle-orm';
import { agentWebhookAad } from './worker/nodes/external.ts';

/**
 * A new signing secret for an external agent (`whsec_…`, Standard Webhooks) and the agent columns that
 * keep it: encrypted with the SecretBox (bound to the agent), its key id, and a hint for display.
 */
export function newAgentWebhookSecret(secrets: SecretBox, agentId: string) {
  const secret = `whsec_${randomBytes(24).toString('base64')}`;
  return {
    secret,
    columns: {
      webhookSecretEncrypted: secrets.encrypt(secret, agentWebhookAad(agentId)),
      webhookSecretKeyId: secrets.currentKeyId,
      webhookSecretHint: `${secret.slice(0, 6)}…${secret.slice(-4)}`,
    },
  };
}

/**
 * The signing secret of an external agent that has none yet, made on its first need (a workflow step
 * calling an agent saved before every agent with a webhook_url got one): stored unless another process
 * stored one meanwhile (then that one is returned), and audited. Its owner sees the hint and rotates it
 * (POST /agents/:id/schedule/secret) to read a value.
 */
export async function ensureAgentWebhookSecret(
  tx: Tx,
  secrets: SecretBox,
  organizationId: string,
  agentId: string,
): Promise<string | null> {
  const made = newAgentWebhookSecret(secrets, agentId);
  const [stored] = await tx
    .update(agents)
    .set(made.columns)
    .where(and(eq(agents.id, agentId), isNull(agents.webhookSecretEncrypted)))
    .returning({ hint: agents.webhookSecretHint });
  if (stored) {
    await tx.insert(auditLogs).values({
      organizationId,
      entityType: 'agent_schedule',
      entityId: agentId,
      action: 'secret_created',
      changes: { after: { secretHint: stored.hint } },
      metadata: { by: 'worker', reason: 'first signed call of an external agent without a signing secret' },
    });
    return made.secret;
  }
  const [row] = await tx
    .select({ encrypted: agents.webhookSecretEncrypted })
    .from(agents)
    .where(eq(agents.id, agentId));
  return row?.encrypted ? secrets.decrypt(row.encrypted, agentWebhookAad(agentId)) : null;
}
