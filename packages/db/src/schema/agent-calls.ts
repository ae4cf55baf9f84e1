import { sql } from 'drizzle-orm';
import { check, index, integer, numeric, pgTable, uuid, varchar } from 'drizzle-orm/pg-core';
import { agents } from './agents.ts';
import { createdAt, id, oneOf, tenantPolicy } from './columns.ts';
import { conversationMessages } from './conversations.ts';
import { organizations } from './organizations.ts';

export const AGENT_CALL_SOURCES = ['conversation', 'try'] as const;
export type AgentCallSource = (typeof AGENT_CALL_SOURCES)[number];
export const AGENT_CALL_STATUSES = ['completed', 'failed'] as const;

/**
 * One call of an internal agent outside any workflow, as a result of that agent (agent-scoped alert rules
 * read it beside its step attempts): an answer of a conversation participant that is the agent (the
 * message, deleted with it) or a `POST /agents/:id/try`. Outcome, latency and cost only: the text stays in
 * the message (whose visibility rules apply) or is not kept (try).
 */
export const agentCalls = pgTable(
  'agent_calls',
  {
    id: id(),
    organizationId: uuid('organization_id')
      .notNull()
      .references(() => organizations.id, { onDelete: 'cascade' }),
    agentId: uuid('agent_id')
      .notNull()
      .references(() => agents.id, { onDelete: 'cascade' }),
    source: varchar('source', { length: 20 }).$type<AgentCallSource>().notNull(),
    conversationMessageId: uuid('conversation_message_id').references(() => conversationMessages.id, {
      onDelete: 'cascade',
    }),
    status: varchar('status', { length: 10 }).$type<(typeof AGENT_CALL_STATUSES)[number]>().notNull(),
    errorCode: varchar('error_code', { length: 100 }),
    model: varchar('model', { length: 255 }),
    durationMs: integer('duration_ms'),
    cost: numeric('cost', { precision: 14, scale: 6 }).notNull().default('0'),
    /** When the call finished. */
    createdAt: createdAt(),
  },
  (t) => [
    index('idx_agent_calls_agent').on(t.agentId, t.createdAt.desc()),
    index('idx_agent_calls_message').on(t.conversationMessageId),
    check('agent_calls_source_check', oneOf(t.source, AGENT_CALL_SOURCES)),
    check('agent_calls_status_check', oneOf(t.status, AGENT_CALL_STATUSES)),
    check('agent_calls_duration_check', sql`${t.durationMs} is null or ${t.durationMs} >= 0`),
    tenantPolicy(t.organizationId),
  ],
);
