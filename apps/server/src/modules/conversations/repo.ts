import { notFound } from '@aiops/core';
import {
  type ConversationParticipant,
  conversationMessages,
  conversations,
  type MessageAttachmentRef,
  queryRows,
  type Tx,
} from '@aiops/db';
import { and, asc, desc, eq, inArray, sql } from 'drizzle-orm';
import { monthlyBudget } from '../billing/budget.ts';

export type ConversationRow = typeof conversations.$inferSelect;
export type MessageRow = typeof conversationMessages.$inferSelect;

export function conversationDto(r: ConversationRow) {
  return {
    id: r.id,
    title: r.title,
    mode: r.mode,
    participants: r.participants,
    systemPrompt: r.systemPrompt,
    context: r.context,
    settings: r.settings as Record<string, unknown>,
    metadata: r.metadata,
    userId: r.userId,
    visibility: r.visibility,
    totalTokens: r.totalTokensUsed,
    totalCost: Number(r.totalCost),
    totalCostExact: r.totalCost,
    lastMessageAt: r.lastMessageAt?.toISOString() ?? null,
    createdAt: r.createdAt.toISOString(),
    updatedAt: r.updatedAt.toISOString(),
  };
}
export type ConversationDto = ReturnType<typeof conversationDto>;

export function messageDto(r: MessageRow, participants: ConversationParticipant[] = []) {
  const sender = r.senderType === 'ai' ? participants.find((p) => p.id === r.senderId) : undefined;
  return {
    id: r.id,
    conversationId: r.conversationId,
    senderType: r.senderType,
    senderId: r.senderId,
    senderName: sender?.name ?? (r.metadata.senderName as string | undefined) ?? null,
    model: r.model,
    kind: r.kind,
    replyTo: r.replyTo,
    round: r.round,
    status: r.status,
    content: r.content,
    error: r.error ?? null,
    tokens: { input: r.inputTokens, output: r.outputTokens, total: r.tokensUsed },
    cost: Number(r.cost),
    costExact: r.cost,
    latencyMs: r.latencyMs,
    attachments: r.attachments,
    metadata: r.metadata,
    rating: r.rating,
    createdAt: r.createdAt.toISOString(),
  };
}
export type MessageDto = ReturnType<typeof messageDto>;

export async function findConversation(tx: Tx, id: string): Promise<ConversationRow> {
  const [row] = await tx.select().from(conversations).where(eq(conversations.id, id));
  if (!row) throw notFound('conversation', id);
  return row;
}

export function listMessages(tx: Tx, conversationId: string, limit: number) {
  return tx
    .select()
    .from(conversationMessages)
    .where(eq(conversationMessages.conversationId, conversationId))
    .orderBy(desc(conversationMessages.createdAt), desc(conversationMessages.id))
    .limit(limit)
    .then((rows) => rows.reverse());
}

/**
 * Completed messages, oldest first (the history models see, before windowing): the newest ones until about
 * `maxTokens` worth of text (10 characters a token, generously), so a long conversation is not read whole.
 */
export async function historyOf(tx: Tx, conversationId: string, maxTokens: number, limit = 400) {
  const rows = await queryRows<{ id: string }>(
    tx,
    sql`SELECT id FROM (
          SELECT id, sum(length(content)) OVER (ORDER BY created_at DESC, id DESC) - length(content) AS before
          FROM conversation_messages WHERE conversation_id = ${conversationId} AND status = 'completed'
          ORDER BY created_at DESC, id DESC LIMIT ${limit}) w
        WHERE before <= ${maxTokens * 10}`,
  );
  if (!rows.length) return [];
  const full = await tx
    .select()
    .from(conversationMessages)
    .where(
      inArray(
        conversationMessages.id,
        rows.map((r) => r.id),
      ),
    );
  return full.sort((a, b) => a.createdAt.getTime() - b.createdAt.getTime() || a.round - b.round);
}

export interface NewMessage {
  organizationId: string;
  conversationId: string;
  senderType: 'user' | 'ai';
  senderId: string | null;
  model?: string | null;
  kind?: string;
  replyTo?: string | null;
  round?: number;
  status?: 'completed' | 'failed';
  content: string;
  error?: { code: string; message: string } | null;
  metadata?: Record<string, unknown>;
  inputTokens?: number;
  outputTokens?: number;
  cost?: string;
  latencyMs?: number | null;
  attachments?: MessageAttachmentRef[];
}

/** Stores a message and adds its tokens and cost to the conversation's totals (one statement each). */
export async function insertMessage(tx: Tx, m: NewMessage): Promise<MessageRow> {
  const input = m.inputTokens ?? 0;
  const output = m.outputTokens ?? 0;
  const [row] = await tx
    .insert(conversationMessages)
    .values({
      organizationId: m.organizationId,
      conversationId: m.conversationId,
      senderType: m.senderType,
      senderId: m.senderId,
      model: m.model ?? null,
      kind: m.kind ?? 'message',
      replyTo: m.replyTo ?? null,
      round: m.round ?? 0,
      status: m.status ?? 'completed',
      content: m.content,
      error: m.error ?? null,
      metadata: m.metadata ?? {},
      inputTokens: input,
      outputTokens: output,
      tokensUsed: input + output,
      cost: m.cost ?? '0',
      latencyMs: m.latencyMs ?? null,
      attachments: m.attachments ?? [],
    })
    .returning();
  await tx
    .update(conversations)
    .set({
      totalTokensUsed: sql`${conversations.totalTokensUsed} + ${input + output}`,
      totalCost: sql`${conversations.totalCost} + ${m.cost ?? '0'}::numeric`,
      lastMessageAt: sql`now()`,
      updatedAt: sql`now()`,
    })
    .where(eq(conversations.id, m.conversationId));
  if (m.cost && Number(m.cost) > 0)
    await tx.execute(
      sql`SELECT aiops_add_org_cost(${JSON.stringify([{ organization_id: m.organizationId, cost: m.cost }])}::jsonb)`,
    );
  return row!;
}

/** What the organization may still spend this month (undefined: no monthly budget). */
export async function orgBudgetLeft(tx: Tx): Promise<number | undefined> {
  const { budgetUsd, spentUsd } = await monthlyBudget(tx);
  return budgetUsd === null ? undefined : budgetUsd - spentUsd;
}

export function messagesByIds(tx: Tx, conversationId: string, ids: string[]) {
  if (!ids.length) return Promise.resolve([] as MessageRow[]);
  return tx
    .select()
    .from(conversationMessages)
    .where(
      and(eq(conversationMessages.conversationId, conversationId), inArray(conversationMessages.id, ids)),
    )
    .orderBy(asc(conversationMessages.createdAt));
}
