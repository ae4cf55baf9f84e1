import { notFound } from '@aiops/core';
import { agentVersions, experiments, type Tx, workflows, workflowVersions } from '@aiops/db';
import * as engine from '@aiops/engine';
import { and, desc, eq, inArray, isNotNull, isNull, sql } from 'drizzle-orm';

/**
 * An experiment over an agent version alone runs each item as an ordinary engine run of a one-step
 * workflow (the harness): its only node calls the agent at the pinned version, so its output is the agent's
 * output. So items are as durable as any run, and scoring, aggregates, compare and costs are the
 * workflow experiment's own. One harness workflow per agent, one harness version per agent version.
 */

/** The harness definition for one agent version: one agent node, `agent`. */
export function harnessDefinition(agent: { id: string; name: string }, version: number) {
  return {
    name: harnessName(agent),
    description: `Runs agent "${agent.name}" alone: its experiments over a dataset and its scheduled runs (created by AI Ops Studio; each version pins one agent version).`,
    // A lone node's output is the run's output: exactly what the agent answered.
    nodes: [{ id: 'agent', type: 'agent', agentId: agent.id, agentVersion: version }],
  };
}

/** The harness's name in the workflow and run lists: it runs the agent's experiments and its schedule. */
const harnessName = (agent: { id: string; name: string }) =>
  `${agent.name.slice(0, 180)} · agent runs (${agent.id.slice(0, 8)})`;
/** The name harnesses were created with before they also ran schedules (still found by it). */
const legacyHarnessName = (agent: { id: string; name: string }) =>
  `${agent.name.slice(0, 180)} · agent experiments (${agent.id.slice(0, 8)})`;

/**
 * The harness workflow and version that run `agentId` at `agentVersion` (default: its current version),
 * created on first use. 404 when the agent or that version does not exist.
 */
export async function agentHarness(
  tx: Tx,
  organizationId: string,
  userId: string | null,
  agentId: string,
  agentVersion: number | undefined,
): Promise<{
  workflowId: string;
  workflowVersion: number;
  agentVersion: number;
  agentName: string;
  /** Set when this call saved a harness workflow or version (the caller audits it). */
  saved?: 'workflow' | 'version';
}> {
  const agent = await engine.getAgent(tx, agentId);
  const version = agentVersion ?? agent.versionNumber;
  const [exists] = await tx
    .select({ id: agentVersions.id })
    .from(agentVersions)
    .where(and(eq(agentVersions.agentId, agentId), eq(agentVersions.versionNumber, version)));
  if (!exists) throw notFound(`Version ${version} of agent "${agent.name}"`, agentId);
  // One creator at a time per agent (two experiments started together share one harness).
  await tx.execute(sql`SELECT pg_advisory_xact_lock(hashtext(${`agent-harness:${agentId}`}))`);
  const workflowId = await findHarness(tx, agent);
  const definition = harnessDefinition(agent, version);
  if (!workflowId) {
    const row = await engine.createWorkflow(tx, {
      organizationId,
      definition,
      status: 'active',
      userId,
      changeNote: `agent version ${version}`,
    });
    return {
      workflowId: row.id,
      workflowVersion: 1,
      agentVersion: version,
      agentName: agent.name,
      saved: 'workflow',
    };
  }
  const [pinned] = await tx
    .select({ version: workflowVersions.version })
    .from(workflowVersions)
    .where(
      and(
        eq(workflowVersions.workflowId, workflowId),
        sql`${workflowVersions.definition} -> 'nodes' -> 0 ->> 'agentVersion' = ${String(version)}`,
        sql`${workflowVersions.definition} -> 'nodes' -> 0 ->> 'agentId' = ${agentId}`,
      ),
    )
    .orderBy(desc(workflowVersions.version))
    .limit(1);
  if (pinned)
    return { workflowId, workflowVersion: pinned.version, agentVersion: version, agentName: agent.name };
  const saved = await engine.saveCandidate(tx, workflowId, definition, userId, `agent version ${version}`);
  return {
    workflowId,
    workflowVersion: saved.version,
    agentVersion: version,
    agentName: agent.name,
    saved: 'version',
  };
}

/** The agent's harness: the workflow of its latest agent experiment, else the newest workflow with its name. */
async function findHarness(tx: Tx, agent: { id: string; name: string }): Promise<string | undefined> {
  const [used] = await tx
    .select({ id: workflows.id })
    .from(experiments)
    .innerJoin(workflows, eq(workflows.id, experiments.workflowId))
    .where(
      and(eq(experiments.agentId, agent.id), isNotNull(experiments.agentId), isNull(workflows.deletedAt)),
    )
    .orderBy(desc(experiments.createdAt))
    .limit(1);
  if (used) return used.id;
  const [named] = await tx
    .select({ id: workflows.id })
    .from(workflows)
    .where(
      and(
        inArray(workflows.name, [harnessName(agent), legacyHarnessName(agent)]),
        isNull(workflows.deletedAt),
      ),
    )
    .orderBy(desc(workflows.createdAt))
    .limit(1);
  return named?.id;
}
