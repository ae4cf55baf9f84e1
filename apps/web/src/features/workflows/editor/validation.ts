import type { DefinitionIssue } from '../../../api/types.ts';

/** The server's validation issues, split into those of a node (shown on it) and the rest. */
export interface IssueMap {
  byNode: Record<string, string[]>;
  general: string[];
}

export function mapIssues(issues: DefinitionIssue[], nodeIds: Iterable<string>): IssueMap {
  const ids = new Set(nodeIds);
  const byNode: Record<string, string[]> = {};
  const general: string[] = [];
  for (const issue of issues) {
    const nodeId = issue.nodeId ?? nodeIdInPath(issue.path);
    const text =
      issue.path && !issue.path.startsWith('nodes') ? `${issue.path}: ${issue.message}` : issue.message;
    if (nodeId && ids.has(nodeId)) byNode[nodeId] = [...(byNode[nodeId] ?? []), issue.message];
    else general.push(text);
  }
  return { byNode, general };
}

/** `nodes.classify.agent.model` → `classify`. */
function nodeIdInPath(path: string): string | undefined {
  const m = /^nodes\.([A-Za-z_][A-Za-z0-9_]*)/.exec(path);
  return m?.[1];
}
