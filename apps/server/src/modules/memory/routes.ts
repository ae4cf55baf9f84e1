import {
  memoryMessageSchema,
  memoryNamespaceParamsSchema,
  memoryThreadParamsSchema,
  memoryThreadQuerySchema,
} from '@aiops/contracts';
import { memoryMessages, queryRows } from '@aiops/db';
import { desc, eq, sql } from 'drizzle-orm';
import { z } from 'zod';
import { audit, tenant } from '../../http/tenant.ts';
import type { AppModule } from '../../module.ts';

const tags = ['memory'];

/**
 * Agents' memory as users see it: a thread's messages (short-term memory), and forgetting a thread or a
 * semantic namespace (long-term memory).
 */
export const memoryModule: AppModule = () => async (app) => {
  app.get(
    '/memory/threads/:threadKey',
    {
      config: { permission: 'agent:read' },
      schema: {
        tags,
        summary: "A thread's newest messages, oldest first",
        params: memoryThreadParamsSchema,
        querystring: memoryThreadQuerySchema,
        response: { 200: z.object({ data: z.array(memoryMessageSchema) }) },
      },
    },
    async (request) => {
      const rows = await tenant(request, (tx) =>
        tx
          .select()
          .from(memoryMessages)
          .where(eq(memoryMessages.threadKey, request.params.threadKey))
          .orderBy(desc(memoryMessages.createdAt), memoryMessages.role)
          .limit(request.query.limit),
      );
      return {
        data: rows.reverse().map((r) => ({
          id: r.id,
          threadKey: r.threadKey,
          role: r.role,
          content: r.content,
          runId: r.runId,
          createdAt: r.createdAt.toISOString(),
        })),
      };
    },
  );
  app.delete(
    '/memory/threads/:threadKey',
    {
      config: { permission: 'agent:update' },
      schema: { tags, summary: "Forget a thread's messages", params: memoryThreadParamsSchema },
    },
    async (request, reply) => {
      await tenant(request, async (tx) => {
        const gone = await tx
          .delete(memoryMessages)
          .where(eq(memoryMessages.threadKey, request.params.threadKey))
          .returning({ id: memoryMessages.id });
        await audit(tx, request, {
          entityType: 'memory_thread',
          entityId: null,
          action: 'deleted',
          metadata: { threadKey: request.params.threadKey, messages: gone.length },
        });
      });
      return reply.status(204).send();
    },
  );
  app.delete(
    '/memory/namespaces/:namespace',
    {
      config: { permission: 'agent:update' },
      schema: {
        tags,
        summary: 'Forget the semantic memories of a namespace',
        params: memoryNamespaceParamsSchema,
      },
    },
    async (request, reply) => {
      await tenant(request, async (tx) => {
        const gone = await queryRows<{ id: string }>(
          tx,
          sql`DELETE FROM embeddings WHERE namespace = ${`memory:${request.params.namespace}`} RETURNING id`,
        );
        await audit(tx, request, {
          entityType: 'memory_namespace',
          entityId: null,
          action: 'deleted',
          metadata: {
            namespace: request.params.namespace,
            memories: gone.length,
          },
        });
      });
      return reply.status(204).send();
    },
  );
};
