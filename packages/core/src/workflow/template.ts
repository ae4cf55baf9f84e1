/**
 * The template language of prompts and output values: `{{ path }}` where path starts at one of the
 * roots (`input`, `variables`, `nodes`, `vars`, `run`) and continues with `.field` or `[index]`.
 * A string that is exactly one `{{ path }}` evaluates to the raw value (object, number, …);
 * otherwise values are interpolated (objects as JSON, null/undefined as empty).
 */
export const TEMPLATE_ROOTS = ['input', 'variables', 'nodes', 'vars', 'run', 'item', 'index'] as const;

type Segment = string | number;
export interface TemplatePart {
  text?: string;
  path?: Segment[];
}

export class TemplateError extends Error {
  override name = 'TemplateError';
}

const SEGMENT = /^(?:\.([A-Za-z_][A-Za-z0-9_]*)|\[(\d+)\]|\["([^"\\]*)"\]|\['([^'\\]*)'\])/;

function parsePath(expr: string): Segment[] {
  const trimmed = expr.trim();
  const root = /^[A-Za-z_][A-Za-z0-9_]*/.exec(trimmed);
  if (!root) throw new TemplateError(`"{{${expr}}}": expected a path such as input.ticket`);
  if (!(TEMPLATE_ROOTS as readonly string[]).includes(root[0])) {
    throw new TemplateError(`"{{${expr}}}": unknown root "${root[0]}" (use ${TEMPLATE_ROOTS.join(', ')})`);
  }
  const path: Segment[] = [root[0]];
  let rest = trimmed.slice(root[0].length);
  while (rest.length) {
    const m = SEGMENT.exec(rest);
    if (!m) throw new TemplateError(`"{{${expr}}}": cannot read "${rest}" (use .field or [index])`);
    path.push(m[1] ?? (m[2] !== undefined ? Number(m[2]) : (m[3] ?? m[4]!)));
    rest = rest.slice(m[0].length);
  }
  return path;
}

const cache = new Map<string, TemplatePart[]>();

/** Parses a template; throws TemplateError saying what is wrong. Results are cached. */
export function parseTemplate(template: string): TemplatePart[] {
  const hit = cache.get(template);
  if (hit) return hit;
  const parts: TemplatePart[] = [];
  let i = 0;
  while (i < template.length) {
    const open = template.indexOf('{{', i);
    if (open === -1) {
      parts.push({ text: template.slice(i) });
      break;
    }
    if (open > i) parts.push({ text: template.slice(i, open) });
    const close = template.indexOf('}}', open + 2);
    if (close === -1) throw new TemplateError(`unclosed "{{" at position ${open}`);
    const expr = template.slice(open + 2, close);
    if (expr.includes('{{')) throw new TemplateError(`"{{" inside "{{…}}" at position ${open}`);
    parts.push({ path: parsePath(expr) });
    i = close + 2;
  }
  if (template.indexOf('}}') !== -1 && parts.every((p) => p.path === undefined)) {
    throw new TemplateError('"}}" without an opening "{{"');
  }
  if (cache.size > 10_000) cache.clear();
  cache.set(template, parts);
  return parts;
}

export function isTemplate(value: string): boolean {
  return value.includes('{{');
}

export function resolvePath(context: Record<string, unknown>, path: readonly Segment[]): unknown {
  let current: unknown = context;
  for (const segment of path) {
    if (current === null || current === undefined) return undefined;
    if (typeof segment === 'number') {
      if (!Array.isArray(current)) return undefined;
      current = current[segment];
    } else {
      if (typeof current !== 'object' || !Object.hasOwn(current, segment)) return undefined;
      current = (current as Record<string, unknown>)[segment];
    }
  }
  return current;
}

function stringify(value: unknown): string {
  if (value === null || value === undefined) return '';
  if (typeof value === 'string') return value;
  if (typeof value === 'object') return JSON.stringify(value);
  return String(value);
}

/** Renders a string template against a context. */
export function renderString(template: string, context: Record<string, unknown>): unknown {
  if (!isTemplate(template)) return template;
  const parts = parseTemplate(template);
  if (parts.length === 1 && parts[0]!.path) return resolvePath(context, parts[0]!.path) ?? null;
  let out = '';
  for (const part of parts) out += part.path ? stringify(resolvePath(context, part.path)) : part.text!;
  return out;
}

/** Renders every string inside a JSON value. */
export function renderValue(value: unknown, context: Record<string, unknown>): unknown {
  if (typeof value === 'string') return renderString(value, context);
  if (Array.isArray(value)) return value.map((v) => renderValue(v, context));
  if (value && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = renderValue(v, context);
    return out;
  }
  return value;
}

/** Every template string inside a JSON value, with its JSON path (for validation and references). */
export function collectTemplates(value: unknown, path = ''): { path: string; template: string }[] {
  if (typeof value === 'string') return isTemplate(value) ? [{ path, template: value }] : [];
  if (Array.isArray(value)) return value.flatMap((v, i) => collectTemplates(v, `${path}[${i}]`));
  if (value && typeof value === 'object') {
    return Object.entries(value).flatMap(([k, v]) => collectTemplates(v, path ? `${path}.${k}` : k));
  }
  return [];
}

/** The node ids a template reads (`nodes.<id>…`). */
export function templateNodeRefs(template: string): string[] {
  const refs = new Set<string>();
  for (const part of parseTemplate(template)) {
    if (part.path?.[0] === 'nodes' && typeof part.path[1] === 'string') refs.add(part.path[1]);
  }
  return [...refs];
}
