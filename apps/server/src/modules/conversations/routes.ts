import { idParamsSchema, listQuerySchema, listResponse } from '@aiops/contracts';
import { isAppError } from '@aiops/core';
import { conversationAttachments } from '@aiops/db';
import { createEmbeddingPort } from '@aiops/providers';
import { desc } from 'drizzle-orm';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { authOf } from '../../http/auth.ts';
import { audit, tenant } from '../../http/tenant.ts';
import type { AppModule } from '../../module.ts';
import { integrationResolver } from '../integrations/model-port.ts';
import { makeEmbedder } from '../terminology/embed.ts';
import { attachmentDto, storeAttachment } from './attachments.ts';
import type { ChatEvent } from './chat.ts';
import {
  attachmentSchema,
  conversationSchema,
  createAttachmentBodySchema,
  createConversationBodySchema,
  messageParamsSchema,
  messageSchema,
  messagesQuerySchema,
  rateBodySchema,
  sendMessageBodySchema,
  sendMessageResponseSchema,
  updateConversationBodySchema,
} from './schemas.ts';
import * as service from './service.ts';

const tags = ['conversations'];

const wantsStream = (request: FastifyRequest) =>
  String(request.headers.accept ?? '').includes('text/event-stream') ||
  (request.query as { stream?: string } | undefined)?.stream === 'true';

/** Opens a Server-Sent Events answer; each event is `event: <type>` + `data: <json>`. */
function openStream(request: FastifyRequest, reply: FastifyReply) {
  reply.hijack();
  const res = reply.raw;
  res.writeHead(200, {
    'content-type': 'text/event-stream; charset=utf-8',
    'cache-control': 'no-cache, no-transform',
    connection: 'keep-alive',
    'x-accel-buffering': 'no',
    'x-request-id': String(request.id),
  });
  const keepAlive = setInterval(() => res.write(': keep-alive\n\n'), 15_000);
  return {
    send(type: string, data: unknown) {
      if (!res.writableEnded) res.write(`event: ${type}\ndata: ${JSON.stringify(data)}\n\n`);
    },
    end() {
      clearInterval(keepAlive);
      if (!res.writableEnded) res.end();
    },
  };
}

/**
 * Multi-model conversations: participants (models or agents), modes single / multi / collaborative, answers
 * streamed token by token per participant, ratings that feed learning, attachments by reference.
 */
export const conversationsModule: AppModule = (deps) => async (app) => {
  const embed = makeEmbedder(
    deps.db,
    createEmbeddingPort({
      resolveIntegration: integrationResolver(deps.db, deps.secrets, deps.settings.privateNetworkCategories),
    }),
  );
  app.get(
    '/conversations',
    {
      config: { permission: 'agent:read' },
      schema: {
        tags,
        summary: 'List conversations, newest first',
        querystring: listQuerySchema,
        response: { 200: listResponse(conversationSchema) },
      },
    },
    async (request) => service.listConversations(request, request.query),
  );
  app.post(
    '/conversations',
    {
      config: { permission: 'agent:execute' },
      schema: {
        tags,
        summary: 'Start a conversation',
        body: createConversationBodySchema,
        response: { 201: conversationSchema },
      },
    },
    async (request, reply) => reply.status(201).send(await service.createConversation(request, request.body)),
  );
  app.get(
    '/conversations/:id',
    {
      config: { permission: 'agent:read' },
      schema: {
        tags,
        summary: 'One conversation with its totals',
        params: idParamsSchema,
        response: { 200: conversationSchema },
      },
    },
    async (request) => service.getConversation(request, request.params.id),
  );
  app.patch(
    '/conversations/:id',
    {
      config: { permission: 'agent:execute' },
      schema: {
        tags,
        summary: 'Change title, system prompt, context or settings',
        params: idParamsSchema,
        body: updateConversationBodySchema,
        response: { 200: conversationSchema },
      },
    },
    async (request) => service.updateConversation(request, request.params.id, request.body),
  );
  app.delete(
    '/conversations/:id',
    {
      config: { permission: 'agent:execute' },
      schema: { tags, summary: 'Delete a conversation and its messages', params: idParamsSchema },
    },
    async (request, reply) => {
      await service.deleteConversation(request, request.params.id);
      return reply.status(204).send();
    },
  );
  app.get(
    '/conversations/:id/messages',
    {
      config: { permission: 'agent:read' },
      schema: {
        tags,
        summary: 'The newest messages, oldest first',
        params: idParamsSchema,
        querystring: messagesQuerySchema,
        response: { 200: z.object({ data: z.array(messageSchema) }) },
      },
    },
    async (request) => service.listMessages(request, request.params.id, request.query.limit),
  );
  app.post(
    '/conversations/:id/messages',
    {
      config: { permission: 'agent:execute' },
      schema: {
        tags,
        summary:
          'Send a message; the participants answer as the mode says. With Accept: text/event-stream the answers stream (events message, answer.started, token, answer, done, error)',
        params: idParamsSchema,
        querystring: z.object({ stream: z.enum(['true', 'false']).optional() }),
        body: sendMessageBodySchema,
        response: { 200: sendMessageResponseSchema },
      },
    },
    async (request, reply) => {
      if (!wantsStream(request))
        return service.sendMessage(
          request,
          deps.engine.model,
          request.params.id,
          request.body,
          () => {},
          embed,
        );
      // Problems found before anything is stored (unknown conversation, spent budget) answer as JSON errors;
      // once the stream is open they arrive as an `error` event.
      let stream: ReturnType<typeof openStream> | undefined;
      const emit = (e: ChatEvent) => {
        stream ??= openStream(request, reply);
        const { type, ...data } = e;
        stream.send(type, data);
      };
      try {
        await service.sendMessage(request, deps.engine.model, request.params.id, request.body, emit, embed);
      } catch (e) {
        if (!stream) throw e;
        const err = isAppError(e)
          ? { code: e.code, message: e.message }
          : { code: 'internal_error', message: 'the exchange failed' };
        request.log.warn({ err: e }, 'conversation exchange failed mid-stream');
        stream.send('error', { error: err });
      }
      stream?.end();
      return reply;
    },
  );
  app.post(
    '/conversations/:id/messages/:messageId/rating',
    {
      config: { permission: 'agent:execute' },
      schema: {
        tags,
        summary: 'Rate an answer: thumbs up/down or a score 1–5 (feeds learning)',
        params: messageParamsSchema,
        body: rateBodySchema,
        response: { 200: messageSchema },
      },
    },
    async (request) =>
      service.rateMessage(request, request.params.id, request.params.messageId, request.body),
  );
  app.post(
    '/conversations/attachments',
    {
      config: { permission: 'agent:execute' },
      schema: {
        tags,
        summary: 'Store a text file or an image (≤ 512 KiB) to attach to messages by id',
        body: createAttachmentBodySchema,
        response: { 201: attachmentSchema },
      },
    },
    async (request, reply) => {
      const auth = authOf(request);
      const dto = await tenant(request, async (tx) => {
        const row = await storeAttachment(tx, auth, request.body);
        const d = attachmentDto(row);
        await audit(tx, request, {
          entityType: 'conversation_attachment',
          entityId: row.id,
          action: 'created',
          after: d,
        });
        return d;
      });
      return reply.status(201).send(dto);
    },
  );
  app.get(
    '/conversations/attachments',
    {
      config: { permission: 'agent:read' },
      schema: {
        tags,
        summary: "The organization's attachments, newest first",
        response: { 200: z.object({ data: z.array(attachmentSchema) }) },
      },
    },
    async (request) =>
      tenant(request, async (tx) => ({
        data: (
          await tx
            .select()
            .from(conversationAttachments)
            .orderBy(desc(conversationAttachments.createdAt))
            .limit(200)
        ).map(attachmentDto),
      })),
  );
};
