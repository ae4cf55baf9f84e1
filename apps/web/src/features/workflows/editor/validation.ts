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
    if (nodeId && ids.has(nodeId)) byNode[nodeId] = [...(byNode[nodeId] ?? []), friendly(issue.message)];
    else general.push(text);
  }
  return { byNode, general };
}

/** `nodes.classify.agent.model` → `classify`. */
function nodeIdInPath(path: string): string | undefined {
  const m = /^nodes\.([A-Za-z_][A-Za-z0-9_]*)/.exec(path);
  return m?.[1];
}

/** The server's wording, as a person at the canvas would say it (the field names are the panel's labels). */
const PLAIN: [RegExp, string][] = [
  [/^set exactly one of agent \(inline\) or agentId$/, 'Choose a saved agent, or define one here.'],
  [/^set exactly one of durationMs or until$/, 'Set how long to wait, or until when.'],
  [
    /^node "[^"]+" is not connected to the rest of the workflow.*$/,
    'Not connected: drag from a handle to connect it, or delete it.',
  ],
  [/^node "[^"]+" is connected to itself$/, 'A step cannot connect to itself.'],
  [
    /^output node "[^"]+" cannot have outgoing connections$/,
    'An output is the end: it cannot lead anywhere.',
  ],
];

export function friendly(message: string): string {
  for (const [pattern, text] of PLAIN) if (pattern.test(message)) return text;
  return message.charAt(0).toUpperCase() + message.slice(1);
}
