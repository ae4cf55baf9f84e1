import { randomBytes } from 'node:crypto';
import { auditLogs, type Database, memberships, organizations, queryRows, users } from '@aiops/db';
import { createAgent, createWorkflow } from '@aiops/engine';
import { and, asc, eq, isNull, sql } from 'drizzle-orm';
import { publicUserColumns } from './modules/auth/repo.ts';
import { slugify } from './modules/auth/service.ts';
import { hashPassword } from './services/passwords.ts';
import { revokeUserSessionsIn } from './services/sessions.ts';

export interface DemoAccount {
  email: string;
  password: string;
  organizationId: string;
}

export const DEMO_EMAIL = 'demo@aiops.local';

/** Two workflows on the simulator, so a newcomer can run something at once (no provider key needed). */
export const DEMO_WORKFLOWS = [
  {
    name: 'ticket-triage',
    description: 'Classify a support ticket, then draft a reply unless it is spam',
    input: {
      type: 'object',
      properties: { ticket: { type: 'string', title: 'Ticket text' } },
      required: ['ticket'],
    },
    variables: { tone: 'friendly' },
    nodes: [
      {
        id: 'classify',
        type: 'agent',
        name: 'Classify',
        agent: {
          model: 'simulator:json',
          system: 'You sort support tickets into bug, billing, question or spam.',
          prompt: 'Category of: {{input.ticket}}',
          output: { type: 'object', properties: { category: { type: 'string' } }, required: ['category'] },
          // The simulator answers by the ticket's words, so each branch can be seen (try "You are a
          // winner! Click here to claim your prize" for spam).
          simulate: {
            output: { category: 'bug' },
            when: [
              {
                contains: ['winner', 'prize', 'click here', 'free money', 'unsubscribe', 'lottery'],
                output: { category: 'spam' },
              },
              { contains: ['invoice', 'refund', 'charged', 'billing'], output: { category: 'billing' } },
              { contains: ['how do i', 'how can i', 'is it possible'], output: { category: 'question' } },
            ],
            latencyMs: 300,
          },
        },
        retry: { maxAttempts: 3, backoff: 'exponential', initialDelayMs: 500 },
        position: { x: 0, y: 0 },
      },
      {
        id: 'reply',
        type: 'agent',
        name: 'Draft reply',
        agent: {
          model: 'simulator:echo',
          prompt:
            'Reply ({{variables.tone}}) to this {{nodes.classify.output.category}} report: {{input.ticket}}',
          simulate: { latencyMs: 500 },
        },
        position: { x: 320, y: 0 },
      },
      {
        id: 'result',
        type: 'output',
        name: 'Result',
        value: { category: '{{nodes.classify.output.category}}', reply: '{{nodes.reply.output}}' },
        position: { x: 640, y: 0 },
      },
      {
        id: 'flagged',
        type: 'output',
        name: 'Flagged as spam',
        value: { category: '{{nodes.classify.output.category}}', reply: null },
        position: { x: 320, y: 160 },
      },
    ],
    connections: [
      { from: 'classify', to: 'reply', condition: "nodes.classify.output.category != 'spam'" },
      { from: 'classify', to: 'flagged', condition: "nodes.classify.output.category == 'spam'" },
      { from: 'reply', to: 'result' },
    ],
  },
  {
    name: 'research-brief',
    description: 'Two researchers work in parallel; a writer joins their notes into a brief',
    input: { type: 'object', properties: { topic: { type: 'string', title: 'Topic' } }, required: ['topic'] },
    nodes: [
      {
        id: 'market',
        type: 'agent',
        name: 'Market research',
        agent: {
          model: 'simulator:echo',
          prompt: 'Market notes on {{input.topic}}',
          simulate: { latencyMs: 400 },
        },
        position: { x: 0, y: -80 },
      },
      {
        id: 'technical',
        type: 'agent',
        name: 'Technical research',
        agent: {
          model: 'simulator:echo',
          prompt: 'Technical notes on {{input.topic}}',
          simulate: { latencyMs: 600 },
        },
        position: { x: 0, y: 80 },
      },
      {
        id: 'writer',
        type: 'agent',
        name: 'Writer',
        agent: {
          model: 'simulator:echo',
          prompt: 'Brief: {{nodes.market.output}} / {{nodes.technical.output}}',
          simulate: { latencyMs: 300 },
        },
        position: { x: 320, y: 0 },
      },
      {
        id: 'brief',
        type: 'output',
        name: 'Brief',
        value: { brief: '{{nodes.writer.output}}' },
        position: { x: 640, y: 0 },
      },
    ],
    connections: [
      { from: 'market', to: 'writer' },
      { from: 'technical', to: 'writer' },
      { from: 'writer', to: 'brief' },
    ],
  },
];

/** A strong random password (argon2id-hashed before it is stored; printed once). */
const demoPassword = () => `Demo-${randomBytes(9).toString('base64url')}-1`;

/**
 * On a database with no users yet: a demo user (owner of a demo organization), an agent and two example
 * workflows on the simulator. Returns the credentials to print, or undefined when there was nothing to do.
 */
export async function seedDemo(db: Database): Promise<DemoAccount | undefined> {
  const [count] = await db.system((tx) =>
    queryRows<{ n: number }>(tx, sql`SELECT count(*)::int AS n FROM users`),
  );
  if ((count?.n ?? 0) > 0) return undefined;
  const password = demoPassword();
  const passwordHash = await hashPassword(password);
  const organizationId = crypto.randomUUID();
  const userId = crypto.randomUUID();
  await db.withTenant({ organizationId, userId }, async (tx) => {
    const [user] = await tx
      .insert(users)
      .values({
        id: userId,
        email: DEMO_EMAIL,
        passwordHash,
        fullName: 'Demo User',
        emailVerified: true,
        emailVerifiedAt: new Date(),
        passwordChangedAt: new Date(),
      })
      .returning(publicUserColumns);
    await tx.insert(organizations).values({
      id: organizationId,
      name: 'Demo organization',
      slug: slugify('demo'),
      subscriptionTier: 'professional',
    });
    await tx.insert(memberships).values({ organizationId, userId: user!.id, role: 'owner' });
    await createAgent(
      tx,
      organizationId,
      {
        name: 'Summarizer',
        description: 'Summarizes text in one paragraph (simulator: echoes its prompt)',
        kind: 'llm',
        type: 'specialist',
        status: 'active',
        model: 'simulator:echo',
        systemPrompt: 'You summarize text in one short paragraph.',
        promptTemplate: 'Summarize: {{input.text}}',
        temperature: 0.2,
        maxTokens: 512,
        tools: [],
        toolConfigs: {},
        memoryConfig: {},
        metadata: { demo: true },
        enabled: true,
      },
      user!.id,
    );
    for (const definition of DEMO_WORKFLOWS) {
      await createWorkflow(tx, {
        organizationId,
        definition,
        status: 'active',
        userId: user!.id,
        changeNote: 'demo',
      });
    }
    await tx.insert(auditLogs).values({
      organizationId,
      userId: user!.id,
      entityType: 'organization',
      entityId: organizationId,
      action: 'demo_seeded',
      changes: {
        after: { workflows: DEMO_WORKFLOWS.map((w) => w.name), agents: ['Summarizer'] },
      },
      metadata: { reason: 'first start on an empty database' },
    });
  });
  return { email: DEMO_EMAIL, password, organizationId };
}

/**
 * `aiops demo reset-password`: a new password for the demo account, for whoever lost the one printed at
 * first start and has access to the server's database. Every session of the account is revoked, a login
 * lockout is lifted, and the change is audited. Undefined when the database has no demo account.
 */
export async function resetDemoPassword(
  db: Database,
): Promise<{ email: string; password: string } | undefined> {
  const password = demoPassword();
  const passwordHash = await hashPassword(password);
  const done = await db.system(async (tx) => {
    const [user] = await tx
      .update(users)
      .set({
        passwordHash,
        passwordChangedAt: new Date(),
        failedLoginCount: 0,
        lockedUntil: null,
        updatedAt: new Date(),
      })
      .where(and(eq(users.email, DEMO_EMAIL), isNull(users.deletedAt)))
      .returning({ id: users.id });
    if (!user) return false;
    const revoked = await revokeUserSessionsIn(tx, user.id, 'password_reset');
    const [home] = await tx
      .select({ organizationId: memberships.organizationId })
      .from(memberships)
      .where(eq(memberships.userId, user.id))
      .orderBy(asc(memberships.createdAt))
      .limit(1);
    if (home) {
      await tx.insert(auditLogs).values({
        organizationId: home.organizationId,
        userId: user.id,
        entityType: 'user',
        entityId: user.id,
        action: 'password_reset',
        metadata: { via: 'aiops demo reset-password', sessionsRevoked: revoked },
      });
    }
    return true;
  });
  return done ? { email: DEMO_EMAIL, password } : undefined;
}
