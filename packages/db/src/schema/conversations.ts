import { sql } from 'drizzle-orm';
import {
  bigint,
  boolean,
  check,
  customType,
  index,
  integer,
  numeric,
  pgPolicy,
  pgTable,
  smallint,
  text,
  unique,
  uuid,
  varchar,
} from 'drizzle-orm/pg-core';
import { createdAt, id, jsonb, oneOf, tenantPolicy, tstz, updatedAt } from './columns.ts';
import { organizations } from './organizations.ts';
import { users } from './users.ts';

export const CONVERSATION_MODES = ['single', 'multi', 'collaborative'] as const;
export type ConversationMode = (typeof CONVERSATION_MODES)[number];
export const MESSAGE_SENDERS = ['user', 'ai'] as const;
export const MESSAGE_STATUSES = ['completed', 'failed'] as const;
export const TERM_CONTEXTS = ['technical', 'business', 'personal', 'casual'] as const;
export type TermContext = (typeof TERM_CONTEXTS)[number];
export const PATTERN_TYPES = ['terminology_usage', 'ai_preference', 'workflow_pattern'] as const;
export const CONVERSATION_VISIBILITIES = ['private', 'organization'] as const;
export type ConversationVisibility = (typeof CONVERSATION_VISIBILITIES)[number];
export type PatternType = (typeof PATTERN_TYPES)[number];

/** One participant of a conversation: a model (through an integration) or an agent's model and prompt. */
export interface ConversationParticipant {
  /** Stable within the conversation: `p1`, `p2`, … or a name the caller chose. */
  id: string;
  name: string;
  model: string;
  integrationId?: string | undefined;
  agentId?: string | undefined;
  temperature?: number | undefined;
  maxTokens?: number | undefined;
  /** Simulator settings (simulator models only). */
  simulate?: Record<string, unknown> | undefined;
}

/** How a conversation runs: rounds and synthesizer (collaborative), budget, history window, glossary. */
export interface ConversationSettings {
  rounds?: number | undefined;
  synthesizer?: string | undefined;
  budgetUsd?: number | undefined;
  historyTokens?: number | undefined;
  glossary?: { enabled: boolean; tokenBudget?: number | undefined } | undefined;
  taskKind?: string | undefined;
}

/** The user a transaction acts for (`app.user_id`, migration 0014); NULL for API keys and workers. */
const currentUserId = sql`nullif(current_setting('app.user_id', true), '')::uuid`;

/**
 * A multi-model conversation (seed 001 conversations: it belongs to a user): participants, a mode, a shared
 * context and system prompt, totals kept by every answer. `private` (the default) is visible to its author
 * only, `organization` to every member: a restrictive row-level policy decides, and its messages follow it.
 */
export const conversations = pgTable(
  'conversations',
  {
    id: id(),
    organizationId: uuid('organization_id')
      .notNull()
      .references(() => organizations.id, { onDelete: 'cascade' }),
    userId: uuid('user_id').references(() => users.id, { onDelete: 'set null' }),
    title: varchar('title', { length: 500 }),
    mode: varchar('mode', { length: 20 }).$type<ConversationMode>().notNull().default('single'),
    participants: jsonb('participants').$type<ConversationParticipant[]>().notNull(),
    systemPrompt: text('system_prompt'),
    context: jsonb('context').$type<Record<string, unknown>>().notNull().default({}),
    settings: jsonb('settings').$type<ConversationSettings>().notNull().default({}),
    metadata: jsonb('metadata').$type<Record<string, unknown>>().notNull().default({}),
    totalTokensUsed: integer('total_tokens_used').notNull().default(0),
    totalCost: numeric('total_cost', { precision: 14, scale: 6 }).notNull().default('0'),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
    lastMessageAt: tstz('last_message_at'),
    visibility: varchar('visibility', { length: 20 })
      .$type<ConversationVisibility>()
      .notNull()
      .default('private'),
  },
  (t) => [
    index('idx_conversations_org_last').on(t.organizationId, t.lastMessageAt.desc()),
    index('idx_conversations_org_created').on(t.organizationId, t.createdAt.desc(), t.id.desc()),
    index('idx_conversations_user').on(t.userId),
    check('conversations_mode_check', oneOf(t.mode, CONVERSATION_MODES)),
    check('conversations_visibility_check', oneOf(t.visibility, CONVERSATION_VISIBILITIES)),
    check(
      'conversations_private_author_check',
      sql`${t.visibility} = 'organization' OR ${t.userId} IS NOT NULL`,
    ),
    tenantPolicy(t.organizationId),
    pgPolicy('conversation_visibility', {
      as: 'restrictive',
      for: 'all',
      to: 'public',
      using: sql`${t.visibility} = 'organization' OR ${t.userId} = ${currentUserId}`,
      withCheck: sql`${t.visibility} = 'organization' OR ${t.userId} = ${currentUserId}`,
    }),
  ],
);

/** Attachment reference kept on a message: the stored file's id and what it is. */
export interface MessageAttachmentRef {
  id: string;
  name: string;
  mediaType: string;
  sizeBytes: number;
}

/**
 * A message of a conversation (seed 001 messages): the user's, or one participant's answer with its
 * model, tokens, cost and latency. `reply_to` groups the answers to one user message; `round` orders the
 * turns of a collaborative exchange (the synthesis has kind `synthesis`).
 */
export const conversationMessages = pgTable(
  'conversation_messages',
  {
    id: id(),
    organizationId: uuid('organization_id')
      .notNull()
      .references(() => organizations.id, { onDelete: 'cascade' }),
    conversationId: uuid('conversation_id')
      .notNull()
      .references(() => conversations.id, { onDelete: 'cascade' }),
    senderType: varchar('sender_type', { length: 10 }).$type<(typeof MESSAGE_SENDERS)[number]>().notNull(),
    senderId: varchar('sender_id', { length: 100 }),
    model: varchar('model', { length: 255 }),
    kind: varchar('kind', { length: 20 }).notNull().default('message'),
    replyTo: uuid('reply_to'),
    round: integer('round').notNull().default(0),
    status: varchar('status', { length: 10 })
      .$type<(typeof MESSAGE_STATUSES)[number]>()
      .notNull()
      .default('completed'),
    content: text('content').notNull(),
    error: jsonb('error').$type<{ code: string; message: string }>(),
    metadata: jsonb('metadata').$type<Record<string, unknown>>().notNull().default({}),
    inputTokens: integer('input_tokens').notNull().default(0),
    outputTokens: integer('output_tokens').notNull().default(0),
    tokensUsed: integer('tokens_used').notNull().default(0),
    cost: numeric('cost', { precision: 14, scale: 6 }).notNull().default('0'),
    latencyMs: integer('latency_ms'),
    attachments: jsonb('attachments').$type<MessageAttachmentRef[]>().notNull().default([]),
    rating: smallint('rating'),
    ratedBy: uuid('rated_by'),
    createdAt: createdAt(),
  },
  (t) => [
    index('idx_conversation_messages_conv').on(t.conversationId, t.createdAt, t.id),
    check('conversation_messages_sender_check', oneOf(t.senderType, MESSAGE_SENDERS)),
    check('conversation_messages_status_check', oneOf(t.status, MESSAGE_STATUSES)),
    check('conversation_messages_rating_check', sql`${t.rating} IS NULL OR ${t.rating} BETWEEN 1 AND 5`),
    tenantPolicy(t.organizationId),
    // A message is visible when its conversation is (the subquery runs under the conversations policies).
    pgPolicy('conversation_message_visibility', {
      as: 'restrictive',
      for: 'all',
      to: 'public',
      using: sql`EXISTS (SELECT 1 FROM conversations c WHERE c.id = ${t.conversationId})`,
      withCheck: sql`EXISTS (SELECT 1 FROM conversations c WHERE c.id = ${t.conversationId})`,
    }),
  ],
);

/** A file attached to messages by reference: text or an image, stored per organization, size-limited. */
export const conversationAttachments = pgTable(
  'conversation_attachments',
  {
    id: id(),
    organizationId: uuid('organization_id')
      .notNull()
      .references(() => organizations.id, { onDelete: 'cascade' }),
    uploadedBy: uuid('uploaded_by').references(() => users.id, { onDelete: 'set null' }),
    name: varchar('name', { length: 255 }).notNull(),
    mediaType: varchar('media_type', { length: 100 }).notNull(),
    sizeBytes: integer('size_bytes').notNull(),
    /** The text itself (text files) or base64 (images). */
    data: text('data').notNull(),
    createdAt: createdAt(),
  },
  (t) => [
    index('idx_conversation_attachments_org').on(t.organizationId, t.createdAt.desc()),
    check('conversation_attachments_size_check', sql`${t.sizeBytes} >= 0`),
    tenantPolicy(t.organizationId),
  ],
);

const tsvector = customType<{ data: string }>({ dataType: () => 'tsvector' });

/**
 * A terminology dictionary entry (seed 001 terminology_entries). Public entries are the organization's;
 * private ones are visible to, and changeable by, their author only: a restrictive row-level policy on top
 * of the tenant policy decides. `search_vector` (English stemming) serves full-text search, a trigram index
 * on `term` fuzzy search; the embedding lives in `embeddings` (namespace `terminology`).
 */
export const terminologyEntries = pgTable(
  'terminology_entries',
  {
    id: id(),
    organizationId: uuid('organization_id')
      .notNull()
      .references(() => organizations.id, { onDelete: 'cascade' }),
    userId: uuid('user_id').references(() => users.id, { onDelete: 'cascade' }),
    term: varchar('term', { length: 500 }).notNull(),
    definition: text('definition').notNull(),
    context: varchar('context', { length: 20 }).$type<TermContext>(),
    usageExamples: jsonb('usage_examples').$type<string[]>().notNull().default([]),
    relatedTerms: jsonb('related_terms').$type<string[]>().notNull().default([]),
    tags: jsonb('tags').$type<string[]>().notNull().default([]),
    isPublic: boolean('is_public').notNull().default(false),
    frequency: integer('frequency').notNull().default(0),
    lastUsedAt: tstz('last_used_at'),
    searchVector: tsvector('search_vector').generatedAlwaysAs(
      sql`setweight(to_tsvector('english', coalesce(term, '')), 'A') || setweight(to_tsvector('english', coalesce(definition, '')), 'B')`,
    ),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [
    index('idx_terminology_org_term').on(t.organizationId, sql`lower(${t.term})`),
    // fastupdate off: a new entry goes into the index at once instead of a pending list that every search
    // reads sequentially until a vacuum (10,000 pending entries made the planner prefer a sequential scan).
    index('idx_terminology_search').using('gin', t.searchVector).with({ fastupdate: false }),
    index('idx_terminology_term_trgm')
      .using('gin', sql`lower(${t.term}) gin_trgm_ops`)
      .with({ fastupdate: false }),
    index('idx_terminology_frequency').on(t.organizationId, t.frequency.desc()),
    check('terminology_context_check', sql`${t.context} IS NULL OR ${oneOf(t.context, TERM_CONTEXTS)}`),
    check('terminology_private_author_check', sql`${t.isPublic} OR ${t.userId} IS NOT NULL`),
    tenantPolicy(t.organizationId),
    pgPolicy('terminology_visibility', {
      as: 'restrictive',
      for: 'all',
      to: 'public',
      using: sql`${t.isPublic} OR ${t.userId} = ${currentUserId}`,
      withCheck: sql`${t.isPublic} OR ${t.userId} = ${currentUserId}`,
    }),
  ],
);

/**
 * The version of an organization's terminology dictionary: a counter that triggers on
 * `terminology_entries` bump in the same transaction as any insert, delete or update of an entry (except
 * updates of usage only: `frequency`, `last_used_at`). The in-process vector cache of the search reads it
 * (`aiops_term_version()`, one primary-key lookup) to know whether it is stale. The application role may
 * only read it, its own organization's row (row-level security); the triggers write it as the owner.
 */
export const terminologyVersions = pgTable(
  'terminology_versions',
  {
    organizationId: uuid('organization_id')
      .primaryKey()
      .references(() => organizations.id, { onDelete: 'cascade' }),
    version: bigint('version', { mode: 'number' }).notNull().default(0),
    updatedAt: updatedAt(),
  },
  (t) => [tenantPolicy(t.organizationId)],
);

/**
 * What the platform learned from use (seed 001 learning_patterns: they belong to a user): one row per
 * (user, type, key), updated incrementally; `data` holds the running sums the confidence is computed from.
 * `user_id` NULL is the organization's aggregate (every member's observations, evaluations, workflows);
 * a user's own rows are visible to that user only (restrictive row-level policy).
 */
export const learningPatterns = pgTable(
  'learning_patterns',
  {
    id: id(),
    organizationId: uuid('organization_id')
      .notNull()
      .references(() => organizations.id, { onDelete: 'cascade' }),
    userId: uuid('user_id').references(() => users.id, { onDelete: 'cascade' }),
    patternType: varchar('pattern_type', { length: 40 }).$type<PatternType>().notNull(),
    key: varchar('key', { length: 600 }).notNull(),
    data: jsonb('data').$type<Record<string, unknown>>().notNull().default({}),
    confidence: numeric('confidence', { precision: 5, scale: 4 }).notNull().default('0'),
    occurrences: integer('occurrences').notNull().default(0),
    lastSeenAt: tstz('last_seen_at').notNull().defaultNow(),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [
    unique('learning_patterns_user_key')
      .on(t.organizationId, t.userId, t.patternType, t.key)
      .nullsNotDistinct(),
    index('idx_learning_patterns_type').on(t.organizationId, t.patternType, t.confidence.desc()),
    index('idx_learning_patterns_user').on(t.userId),
    check('learning_patterns_type_check', oneOf(t.patternType, PATTERN_TYPES)),
    check('learning_patterns_confidence_check', sql`${t.confidence} BETWEEN 0 AND 1`),
    tenantPolicy(t.organizationId),
    pgPolicy('learning_pattern_owner', {
      as: 'restrictive',
      for: 'all',
      to: 'public',
      using: sql`${t.userId} IS NULL OR ${t.userId} = ${currentUserId}`,
      withCheck: sql`${t.userId} IS NULL OR ${t.userId} = ${currentUserId}`,
    }),
  ],
);
