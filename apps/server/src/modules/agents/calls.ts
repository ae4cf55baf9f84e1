import { agentCalls, type Tx } from '@aiops/db';
import { agentCalled } from '../alerts/evaluate.ts';

/** One call of an internal agent outside any workflow: a conversation answer or a try. */
export interface AgentCall {
  organizationId: string;
  agentId: string;
  source: 'conversation' | 'try';
  conversationMessageId?: string | null;
  failed: boolean;
  errorCode?: string | null;
  model?: string | null;
  durationMs: number;
  /** Estimated model cost (USD, decimal string). */
  cost: string;
}

/**
 * Records the call as a result of its agent (`agent_calls`, read by agent-scoped alert rules beside the
 * agent's step attempts) and evaluates those rules, in the caller's transaction.
 */
export async function recordAgentCall(tx: Tx, c: AgentCall): Promise<void> {
  await tx.insert(agentCalls).values({
    organizationId: c.organizationId,
    agentId: c.agentId,
    source: c.source,
    conversationMessageId: c.conversationMessageId ?? null,
    status: c.failed ? 'failed' : 'completed',
    errorCode: c.errorCode?.slice(0, 100) ?? null,
    model: c.model?.slice(0, 255) ?? null,
    durationMs: Math.max(0, Math.round(c.durationMs)),
    cost: c.cost,
  });
  await agentCalled(tx, c.organizationId, c.agentId);
}
