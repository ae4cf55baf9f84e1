import type { DefinitionIssue, WorkflowDefinition } from '@aiops/contracts';
import { agents, agentVersions, type Tx, workflows } from '@aiops/db';
import { and, inArray, isNull } from 'drizzle-orm';

/**
 * The agents and sub-workflows a definition names must be the organization's own (and not deleted), and
 * a pinned agent version must exist. `tx` is the tenant's transaction: row-level security hides other
 * organizations' rows, so their ids read as missing. Returns an issue per node that names one it cannot
 * use (the caller refuses the save with 400). An external agent is reached through its `webhook_url`: one
 * without it cannot be a step.
 */
export async function referenceIssues(tx: Tx, definition: WorkflowDefinition): Promise<DefinitionIssue[]> {
  const agentNodes = definition.nodes.flatMap((n) => (n.type === 'agent' && n.agentId ? [n] : []));
  const childNodes = definition.nodes.flatMap((n) => (n.type === 'subworkflow' ? [n] : []));
  const issues: DefinitionIssue[] = [];
  if (agentNodes.length) {
    const ids = [...new Set(agentNodes.map((n) => n.agentId!))];
    const rows = await tx
      .select({ id: agents.id, kind: agents.kind, webhookUrl: agents.webhookUrl })
      .from(agents)
      .where(and(inArray(agents.id, ids), isNull(agents.deletedAt)));
    const found = new Set(rows.map((r) => r.id));
    const unreachable = new Set(rows.filter((r) => r.kind === 'external' && !r.webhookUrl).map((r) => r.id));
    const pinned = agentNodes.filter((n) => n.agentVersion !== undefined && found.has(n.agentId!));
    const versions = new Set(
      pinned.length
        ? (
            await tx
              .select({ agentId: agentVersions.agentId, version: agentVersions.versionNumber })
              .from(agentVersions)
              .where(inArray(agentVersions.agentId, [...new Set(pinned.map((n) => n.agentId!))]))
          ).map((v) => `${v.agentId}:${v.version}`)
        : [],
    );
    for (const n of agentNodes) {
      if (!found.has(n.agentId!)) {
        issues.push({
          nodeId: n.id,
          path: `nodes.${n.id}.agentId`,
          message: `node "${n.id}" uses agent ${n.agentId}, which does not exist in this organization: pick one of its agents`,
        });
      } else if (n.agentVersion !== undefined && !versions.has(`${n.agentId}:${n.agentVersion}`)) {
        issues.push({
          nodeId: n.id,
          path: `nodes.${n.id}.agentVersion`,
          message: `node "${n.id}" pins version ${n.agentVersion} of agent ${n.agentId}, which does not exist`,
        });
      } else if (unreachable.has(n.agentId!)) {
        issues.push({
          nodeId: n.id,
          path: `nodes.${n.id}.agentId`,
          message: `node "${n.id}" uses external agent ${n.agentId}, which has no webhook_url to be called at: set the agent's webhookUrl first`,
        });
      }
    }
  }
  if (childNodes.length) {
    const ids = [...new Set(childNodes.map((n) => n.workflowId))];
    const found = new Set(
      (
        await tx
          .select({ id: workflows.id })
          .from(workflows)
          .where(and(inArray(workflows.id, ids), isNull(workflows.deletedAt)))
      ).map((r) => r.id),
    );
    for (const n of childNodes) {
      if (!found.has(n.workflowId)) {
        issues.push({
          nodeId: n.id,
          path: `nodes.${n.id}.workflowId`,
          message: `node "${n.id}" runs workflow ${n.workflowId}, which does not exist in this organization: pick one of its workflows`,
        });
      }
    }
  }
  return issues;
}
