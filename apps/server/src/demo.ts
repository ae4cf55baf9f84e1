import { randomBytes } from 'node:crypto';
import { auditLogs, type Database, memberships, organizations, queryRows, users } from '@aiops/db';
import { createAgent, createWorkflow } from '@aiops/engine';
import { sql } from 'drizzle-orm';
import { slugify } from './modules/auth/service.ts';
import { hashPassword } from './services/passwords.ts';

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
          simulate: { output: { category: 'bug' }, latencyMs: 300 },
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
    ],
    connections: [
      { from: 'classify', to: 'reply', condition: "nodes.classify.output.category != 'spam'" },
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

/**
 * On a database with no users yet: a demo user (owner of a demo organization), an agent and two example
 * workflows on the simulator. Returns the credentials to print, or undefined when there was nothing to do.
 */
export async function seedDemo(db: Database): Promise<DemoAccount | undefined> {
  const [count] = await db.system((tx) =>
    queryRows<{ n: number }>(tx, sql`SELECT count(*)::int AS n FROM users`),
  );
  if ((count?.n ?? 0) > 0) return undefined;
  const password = `Demo-${randomBytes(9).toString('base64url')}-1`;
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
      .returning();
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
        before: null,
        after: { workflows: DEMO_WORKFLOWS.map((w) => w.name), agents: ['Summarizer'] },
      },
      metadata: { reason: 'first start on an empty database' },
    });
  });
  return { email: DEMO_EMAIL, password, organizationId };
}
