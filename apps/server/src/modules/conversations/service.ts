import { badRequest, forbidden, type ModelPort, notFound } from '@aiops/core';
import { type ConversationParticipant, conversationMessages, conversations, type Tx } from '@aiops/db';
import { getAgent } from '@aiops/engine';
import { and, desc, eq } from 'drizzle-orm';
import type { FastifyRequest } from 'fastify';
import { authOf } from '../../http/auth.ts';
import { after, cursorTime, page } from '../../http/pagination.ts';
import { audit, tenant } from '../../http/tenant.ts';
import { findIntegration } from '../integrations/repo.ts';
import { observeRating, ratingQuality } from '../learning/learn.ts';
import type { Embedder } from '../terminology/embed.ts';
import { type ChatEvent, runExchange } from './chat.ts';
import * as repo from './repo.ts';
import type { CreateConversationBody } from './schemas.ts';

export function listConversations(
  request: FastifyRequest,
  q: { limit: number; cursor?: string | undefined },
) {
  return tenant(request, async (tx) => {
    const rows = await tx
      .select({ row: conversations, id: conversations.id, cursorT: cursorTime(conversations.createdAt) })
      .from(conversations)
      .where(after(conversations.createdAt, conversations.id, q.cursor))
      .orderBy(desc(conversations.createdAt), desc(conversations.id))
      .limit(q.limit + 1);
    const p = page(rows, q.limit);
    return { data: p.data.map((r) => repo.conversationDto(r.row)), nextCursor: p.nextCursor };
  });
}

/** Participants as stored: ids and names filled in, agents and integrations checked. */
async function participantsOf(tx: Tx, body: CreateConversationBody): Promise<ConversationParticipant[]> {
  const out: ConversationParticipant[] = [];
  for (const [i, p] of body.participants.entries()) {
    const id = p.id ?? `p${i + 1}`;
    if (out.some((o) => o.id === id))
      throw badRequest(`body.participants[${i}].id: "${id}" is used twice`, {
        issues: [{ path: `body.participants.${i}.id`, message: 'duplicate' }],
      });
    let model = p.model;
    let name = p.name;
    if (p.agentId) {
      const agent = await getAgent(tx, p.agentId).catch(() => {
        throw badRequest(`body.participants[${i}].agentId: no agent ${p.agentId} in this organization`, {
          issues: [{ path: `body.participants.${i}.agentId`, message: 'no such agent' }],
        });
      });
      model = model ?? agent.configuration.modelSettings.model;
      name = name ?? agent.name;
    }
    if (p.integrationId) {
      const row = await findIntegration(tx, p.integrationId);
      const provider = model!.slice(0, model!.indexOf(':'));
      if (!row || row.provider !== provider)
        throw badRequest(
          `body.participants[${i}].integrationId: ${row ? `integration "${row.name}" is for ${row.provider}, not ${provider}` : 'no such integration in this organization'}`,
          { issues: [{ path: `body.participants.${i}.integrationId`, message: 'wrong integration' }] },
        );
    }
    out.push({
      id,
      name: name ?? model!,
      model: model!,
      ...(p.integrationId ? { integrationId: p.integrationId } : {}),
      ...(p.agentId ? { agentId: p.agentId } : {}),
      ...(p.temperature !== undefined ? { temperature: p.temperature } : {}),
      ...(p.maxTokens !== undefined ? { maxTokens: p.maxTokens } : {}),
      ...(p.simulate ? { simulate: p.simulate } : {}),
    });
  }
  return out;
}

export function createConversation(request: FastifyRequest, body: CreateConversationBody) {
  const auth = authOf(request);
  return tenant(request, async (tx) => {
    const participants = await participantsOf(tx, body);
    if (body.settings.synthesizer && !participants.some((p) => p.id === body.settings.synthesizer))
      throw badRequest(`body.settings.synthesizer: no participant "${body.settings.synthesizer}"`, {
        issues: [{ path: 'body.settings.synthesizer', message: 'not a participant id' }],
      });
    // Seed 001: a conversation belongs to a user, private by default. An API key has no user: its
    // conversations are the organization's.
    const visibility = body.visibility ?? (auth.userId ? 'private' : 'organization');
    if (visibility === 'private' && !auth.userId)
      throw badRequest(
        'body.visibility: a private conversation needs a signed-in user; an API key creates organization ones',
        {
          issues: [{ path: 'body.visibility', message: 'private needs a signed-in user' }],
        },
      );
    const [row] = await tx
      .insert(conversations)
      .values({
        organizationId: auth.organizationId,
        userId: auth.userId,
        title: body.title ?? null,
        mode: body.mode,
        participants,
        systemPrompt: body.systemPrompt ?? null,
        context: body.context,
        settings: body.settings,
        metadata: body.metadata,
        visibility,
      })
      .returning();
    const dto = repo.conversationDto(row!);
    await audit(tx, request, { entityType: 'conversation', entityId: dto.id, action: 'created', after: dto });
    return dto;
  });
}

export function getConversation(request: FastifyRequest, id: string) {
  return tenant(request, async (tx) => repo.conversationDto(await repo.findConversation(tx, id)));
}

export function updateConversation(
  request: FastifyRequest,
  id: string,
  body: {
    title?: string | null | undefined;
    systemPrompt?: string | null | undefined;
    context?: Record<string, unknown> | undefined;
    settings?: Record<string, unknown> | undefined;
    visibility?: 'private' | 'organization' | undefined;
  },
) {
  const auth = authOf(request);
  return tenant(request, async (tx) => {
    const before = await repo.findConversation(tx, id);
    if (
      body.visibility !== undefined &&
      body.visibility !== before.visibility &&
      before.userId !== auth.userId
    )
      throw forbidden('Only the author of a conversation can change its visibility', {
        field: 'body.visibility',
      });
    const settings = body.settings as repo.ConversationRow['settings'] | undefined;
    if (settings?.synthesizer && !before.participants.some((p) => p.id === settings.synthesizer))
      throw badRequest(`body.settings.synthesizer: no participant "${settings.synthesizer}"`);
    const [row] = await tx
      .update(conversations)
      .set({
        ...(body.title !== undefined ? { title: body.title } : {}),
        ...(body.systemPrompt !== undefined ? { systemPrompt: body.systemPrompt } : {}),
        ...(body.context !== undefined ? { context: body.context } : {}),
        ...(settings !== undefined ? { settings } : {}),
        ...(body.visibility !== undefined ? { visibility: body.visibility } : {}),
        updatedAt: new Date(),
      })
      .where(eq(conversations.id, id))
      .returning();
    const dto = repo.conversationDto(row!);
    await audit(tx, request, {
      entityType: 'conversation',
      entityId: id,
      action: 'updated',
      before: repo.conversationDto(before),
      after: dto,
    });
    return dto;
  });
}

export function deleteConversation(request: FastifyRequest, id: string) {
  return tenant(request, async (tx) => {
    const before = repo.conversationDto(await repo.findConversation(tx, id));
    await tx.delete(conversations).where(eq(conversations.id, id));
    await audit(tx, request, { entityType: 'conversation', entityId: id, action: 'deleted', before });
  });
}

export function listMessages(request: FastifyRequest, id: string, limit: number) {
  return tenant(request, async (tx) => {
    const conv = await repo.findConversation(tx, id);
    const rows = await repo.listMessages(tx, id, limit);
    return { data: rows.map((r) => repo.messageDto(r, conv.participants)) };
  });
}

export function sendMessage(
  request: FastifyRequest,
  model: ModelPort,
  id: string,
  body: { content: string; attachments: string[]; participants?: string[] | undefined },
  emit: (e: ChatEvent) => void,
  embed?: Embedder,
) {
  const auth = authOf(request);
  return runExchange(
    request.server.db,
    model,
    { organizationId: auth.organizationId, userId: auth.userId, requestId: String(request.id) },
    id,
    body,
    emit,
    embed,
  ).then(async (out) => {
    await tenant(request, (tx) =>
      audit(tx, request, {
        entityType: 'conversation',
        entityId: id,
        action: 'message_sent',
        metadata: {
          messageId: out.message.id,
          answers: out.answers.length,
          failed: out.answers.filter((a) => a.status === 'failed').length,
          cost: out.answers.reduce((s, a) => s + a.cost, 0),
        },
      }),
    );
    return out;
  });
}

/** A rating of an answer (👍/👎 or 1–5): stored on the message and fed to learning. */
export function rateMessage(
  request: FastifyRequest,
  id: string,
  messageId: string,
  body: { thumbs?: 'up' | 'down' | undefined; score?: number | undefined },
) {
  const auth = authOf(request);
  return tenant(request, async (tx) => {
    const conv = await repo.findConversation(tx, id);
    const [msg] = await tx
      .select()
      .from(conversationMessages)
      .where(and(eq(conversationMessages.id, messageId), eq(conversationMessages.conversationId, id)))
      .for('update');
    if (!msg) throw notFound('message', messageId);
    if (msg.senderType !== 'ai' || msg.status !== 'completed')
      throw badRequest('only a completed answer of a participant can be rated');
    const score = body.score ?? (body.thumbs === 'up' ? 5 : 1);
    const quality = ratingQuality(body);
    const previous = msg.metadata.ratingQuality as number | undefined;
    const [row] = await tx
      .update(conversationMessages)
      .set({
        rating: score,
        ratedBy: auth.userId,
        metadata: {
          ...msg.metadata,
          ratingQuality: quality,
          ...(body.thumbs ? { thumbs: body.thumbs } : {}),
        },
      })
      .where(eq(conversationMessages.id, messageId))
      .returning();
    await observeRating(tx, {
      userId: auth.userId,
      previousBy: msg.ratedBy,
      taskKind: conv.settings.taskKind ?? 'chat',
      model: msg.model ?? 'unknown',
      quality,
      previous: previous ?? null,
    });
    const dto = repo.messageDto(row!, conv.participants);
    await audit(tx, request, {
      entityType: 'conversation_message',
      entityId: messageId,
      action: 'rated',
      metadata: { conversationId: id, rating: score, thumbs: body.thumbs ?? null },
    });
    return dto;
  });
}
