import { readFileSync } from 'node:fs';
import { isMap, isScalar, isSeq, LineCounter, type Node, parseDocument } from 'yaml';

/** One problem of a workflow file, at a line and column of the file (1-based) when it can be placed. */
export interface FileProblem {
  line: number | undefined;
  column: number | undefined;
  path: string;
  message: string;
}

export interface WorkflowFile {
  file: string;
  /** The definition, when the file is YAML (or JSON) without syntax errors. */
  definition: Record<string, unknown> | undefined;
  /** Syntax errors: the definition is not usable. */
  syntaxProblems: FileProblem[];
  /** The line and column of a definition path such as `nodes.classify.agent.model` or `connections[1].to`. */
  locate(path: string): { line: number; column: number } | undefined;
}

/** Files above this size are refused (a workflow definition is far smaller). */
const MAX_BYTES = 2 * 1024 * 1024;

/** Reads a workflow definition file (YAML, of which JSON is a subset) keeping where each value is written. */
export function readWorkflowFile(file: string): WorkflowFile {
  const text = readFileSync(file, 'utf8');
  if (Buffer.byteLength(text) > MAX_BYTES) {
    throw new UsageError(`${file}: larger than ${MAX_BYTES / 1024 / 1024} MiB; is it a workflow definition?`);
  }
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false });
  const at = (offset: number) => {
    const p = lines.linePos(offset);
    return { line: p.line, column: p.col };
  };
  const syntaxProblems = doc.errors.map((e) => ({
    ...at(e.pos[0]),
    path: '(syntax)',
    message: e.message.split('\n')[0] ?? e.message,
  }));
  let definition: Record<string, unknown> | undefined;
  if (!syntaxProblems.length) {
    const value = doc.toJS({ maxAliasCount: 100 }) as unknown;
    if (value && typeof value === 'object' && !Array.isArray(value)) {
      definition = value as Record<string, unknown>;
    } else {
      syntaxProblems.push({
        line: 1,
        column: 1,
        path: '(definition)',
        message: 'a workflow definition is a mapping (name, nodes, connections, …)',
      });
    }
  }
  return {
    file,
    definition,
    syntaxProblems,
    locate(path) {
      const node = deepestNode(doc.contents as Node | null, pathTokens(path));
      return node?.range ? at(node.range[0]) : undefined;
    },
  };
}

/** `nodes.a.agent.prompt` → ['nodes', 'a', 'agent', 'prompt']; `connections[1].to` → ['connections', 1, 'to']. */
export function pathTokens(path: string): (string | number)[] {
  const tokens: (string | number)[] = [];
  for (const m of path.matchAll(/([^.[\]]+)|\[(\d+)\]/g)) {
    if (m[2] !== undefined) tokens.push(Number(m[2]));
    else if (m[1] !== undefined) tokens.push(/^\d+$/.test(m[1]) ? Number(m[1]) : m[1]);
  }
  return tokens;
}

/** The node written deepest along the path (the value itself, or the nearest enclosing one that exists). */
function deepestNode(root: Node | null, tokens: (string | number)[]): Node | undefined {
  let current: Node | null | undefined = root;
  let found: Node | undefined = root ?? undefined;
  for (const token of tokens) {
    let next: Node | undefined;
    if (isSeq(current)) {
      if (typeof token === 'number') next = current.items[token] as Node | undefined;
      // `nodes.<id>`: the node whose `id` is that id.
      else
        next = current.items.find(
          (item) => isMap(item) && isScalar(item.get('id', true)) && item.get('id') === token,
        ) as Node | undefined;
    } else if (isMap(current)) {
      const pair = current.items.find((p) => (isScalar(p.key) ? p.key.value : p.key) === token);
      next = (pair?.value ?? pair?.key) as Node | undefined;
      if (pair && !pair.value) return (pair.key as Node) ?? found;
    }
    if (!next) return found;
    found = next;
    current = next;
  }
  return found;
}

/** A mistake of the command line or of a file: one message, exit code 2. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}
