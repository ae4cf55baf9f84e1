/**
 * n8n workflow JSON (as n8n exports it: `nodes` with `type`, `typeVersion`, `parameters`, `position`;
 * `connections` keyed by node name) → our definition, the triggers to create, and a report per n8n node:
 * converted, approximated (runs, but not exactly as in n8n: the notes say how) or dropped (the node passes
 * its input through; the notes say what is lost).
 *
 * - Manual trigger: the run's input; Webhook → a webhook trigger whose input is n8n's `{body, headers,
 *   query}`; Schedule → a schedule trigger (cron).
 * - Set / Edit Fields, No Operation → an output node; IF, Switch → a pass-through node whose outgoing
 *   connections carry the CEL conditions; Merge → an output node holding its inputs (approximated).
 * - HTTP Request → an `http_request` tool node; Wait → a delay node; AI Agent, Basic LLM Chain, OpenAI →
 *   agent nodes with the model of the attached chat model node.
 * - Code (there is no code node here), Execute Workflow (n8n workflow ids mean nothing here) and anything
 *   else → dropped.
 * - Expressions `{{ $json.x }}`, `{{ $('Node').item.json.x }}`, `$node["Node"].json.x` → our templates;
 *   other JavaScript in expressions is not run (approximated).
 */
import { AppError } from '@aiops/core';

export type N8nStatus = 'converted' | 'approximated' | 'dropped';

export interface N8nReportEntry {
  /** The n8n node's name. */
  node: string;
  type: string;
  status: N8nStatus;
  /** Our node id, `trigger:<type>`, or `agent:<id>` for a chat model merged into an agent. */
  to: string | null;
  notes: string[];
}

export interface N8nTriggerSpec {
  type: 'webhook' | 'schedule';
  name: string;
  webhook?: { auth: 'bearer'; mode: 'sync' | 'async' };
  schedule?: { cron: string; timezone: string };
  inputMapping?: Record<string, string>;
}

export interface N8nConversion {
  definition: Record<string, unknown>;
  triggers: N8nTriggerSpec[];
  report: N8nReportEntry[];
}

interface N8nNode {
  name: string;
  type: string;
  typeVersion: number;
  parameters: Record<string, unknown>;
  position?: [number, number];
}
type Links = { node: string; type: string; index: number }[][];

const MAX_NODES = 1000;
const TRIGGERS = new Set([
  'n8n-nodes-base.manualTrigger',
  'n8n-nodes-base.start',
  'n8n-nodes-base.webhook',
  'n8n-nodes-base.scheduleTrigger',
  'n8n-nodes-base.cron',
]);
const AGENTS = new Set([
  '@n8n/n8n-nodes-langchain.agent',
  '@n8n/n8n-nodes-langchain.chainLlm',
  '@n8n/n8n-nodes-langchain.openAi',
  'n8n-nodes-base.openAi',
]);
const CHAT_MODELS: Record<string, string> = {
  '@n8n/n8n-nodes-langchain.lmChatOpenAi': 'openai',
  '@n8n/n8n-nodes-langchain.lmOpenAi': 'openai',
  '@n8n/n8n-nodes-langchain.lmChatAnthropic': 'anthropic',
  '@n8n/n8n-nodes-langchain.lmChatGoogleGemini': 'google',
  '@n8n/n8n-nodes-langchain.lmChatOllama': 'ollama',
  '@n8n/n8n-nodes-langchain.lmChatXAiGrok': 'xai',
};

/** True when a document looks like an n8n export. */
export function isN8nWorkflow(doc: unknown): boolean {
  if (!doc || typeof doc !== 'object' || Array.isArray(doc)) return false;
  const d = doc as Record<string, unknown>;
  return (
    Array.isArray(d.nodes) &&
    d.nodes.length > 0 &&
    d.nodes.every(
      (n) =>
        n &&
        typeof n === 'object' &&
        typeof (n as N8nNode).type === 'string' &&
        /^(n8n-nodes-|@n8n\/|CUSTOM\.)/.test((n as N8nNode).type),
    ) &&
    !!d.connections &&
    typeof d.connections === 'object' &&
    !Array.isArray(d.connections)
  );
}

const invalid = (message: string) => new AppError(400, 'invalid_document', message);

function safeId(raw: string, used: Set<string>): string {
  let id =
    raw
      .replace(/[^A-Za-z0-9_]/g, '_')
      .replace(/_+/g, '_')
      .replace(/^_+|_+$/g, '')
      .replace(/^([^A-Za-z_])/, '_$1')
      .slice(0, 56) || 'node';
  const base = id;
  for (let i = 2; used.has(id); i++) id = `${base}_${i}`;
  used.add(id);
  return id;
}

const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);
const obj = (v: unknown): Record<string, unknown> =>
  v && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : {};
const arr = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);

export function convertN8n(doc: Record<string, unknown>, name: string): N8nConversion {
  const rawNodes = doc.nodes as unknown[];
  if (rawNodes.length > MAX_NODES) throw invalid(`nodes: at most ${MAX_NODES} n8n nodes can be imported`);
  const nodes: N8nNode[] = rawNodes.map((n, i) => {
    const o = obj(n);
    if (typeof o.name !== 'string' || !o.name)
      throw invalid(`nodes[${i}].name is missing: every n8n node has a name`);
    return {
      name: o.name,
      type: String(o.type),
      typeVersion: typeof o.typeVersion === 'number' ? o.typeVersion : 1,
      parameters: obj(o.parameters),
      ...(Array.isArray(o.position) ? { position: o.position as [number, number] } : {}),
    };
  });
  const byName = new Map(nodes.map((n) => [n.name, n]));
  const connections = doc.connections as Record<string, Record<string, Links>>;
  // main links, and sub-node links (ai_languageModel, ai_tool, …) by target
  const mainOut = new Map<string, Links>();
  const mainIn = new Map<string, string[]>();
  const subIn = new Map<string, { from: string; kind: string }[]>();
  for (const [from, byKind] of Object.entries(obj(connections))) {
    if (!byName.has(from)) continue;
    for (const [kind, outputs] of Object.entries(obj(byKind))) {
      for (const output of arr(outputs)) {
        for (const link of arr(output)) {
          const to = str(obj(link).node);
          if (!to || !byName.has(to)) continue;
          if (kind === 'main') {
            mainIn.set(to, [...(mainIn.get(to) ?? []), from]);
          } else {
            subIn.set(to, [...(subIn.get(to) ?? []), { from, kind }]);
          }
        }
      }
      if (kind === 'main')
        mainOut.set(
          from,
          arr(outputs).map((o) => arr(o) as Links[number]),
        );
    }
  }
  const subNodes = new Set([...subIn.values()].flat().map((s) => s.from));

  const used = new Set<string>();
  const ids = new Map<string, string>();
  for (const n of nodes)
    if (!TRIGGERS.has(n.type) && !subNodes.has(n.name)) ids.set(n.name, safeId(n.name, used));

  const report: N8nReportEntry[] = [];
  const triggers: N8nTriggerSpec[] = [];
  const out: Record<string, unknown>[] = [];
  const conditions = new Map<string, (string | undefined)[]>(); // per node: condition of each output

  /** What `$json` means in a node: the run input after a trigger, else its first predecessor's output. */
  const refOf = (nodeName: string): string => {
    const pred = mainIn.get(nodeName)?.[0];
    if (!pred || !ids.has(pred)) return 'input';
    return `nodes.${ids.get(pred)}.output`;
  };
  const refOfNamed = (nodeName: string): string | undefined => {
    const n = byName.get(nodeName);
    if (!n) return undefined;
    if (TRIGGERS.has(n.type)) return 'input';
    const id = ids.get(nodeName);
    return id ? `nodes.${id}.output` : undefined;
  };

  /** An n8n value (maybe `={{ … }}`) as a template; `lost` collects what could not be translated. */
  const template = (value: unknown, self: string, lost: string[]): unknown => {
    if (typeof value !== 'string' || !value.startsWith('=')) return value;
    const body = value.slice(1);
    return body.replace(/\{\{([\s\S]*?)\}\}/g, (whole, inner: string) => {
      const path = toPath(inner.trim(), self);
      if (path) return `{{${path}}}`;
      lost.push(`the expression ${whole.trim()} is JavaScript, which is not run: kept as text`);
      return whole.replace(/\{\{|\}\}/g, '').trim();
    });
  };
  /** `$json.a.b`, `$json["a"]`, `$('N').item.json.a`, `$node["N"].json.a` → a template path, else undefined. */
  const toPath = (expr: string, self: string): string | undefined => {
    const m =
      /^\$json((?:\.[A-Za-z_$][\w$]*|\[\s*(?:"[^"]*"|'[^']*'|\d+)\s*\])*)$/.exec(expr) ??
      /^\$\(\s*['"]([^'"]+)['"]\s*\)\.(?:item|first\(\)|last\(\))\.json((?:\.[A-Za-z_$][\w$]*|\[\s*(?:"[^"]*"|'[^']*'|\d+)\s*\])*)$/.exec(
        expr,
      ) ??
      /^\$node\[\s*['"]([^'"]+)['"]\s*\]\.json((?:\.[A-Za-z_$][\w$]*|\[\s*(?:"[^"]*"|'[^']*'|\d+)\s*\])*)$/.exec(
        expr,
      );
    if (!m) return undefined;
    const named = m.length === 3;
    const base = named ? refOfNamed(m[1]!) : refOf(self);
    if (!base) return undefined;
    const rest = (named ? m[2] : m[1]) ?? '';
    const segments = [...rest.matchAll(/\.([A-Za-z_$][\w$]*)|\[\s*(?:"([^"]*)"|'([^']*)'|(\d+))\s*\]/g)].map(
      (s) => s[1] ?? s[2] ?? s[3] ?? s[4]!,
    );
    if (segments.some((s) => !/^[A-Za-z_][\w]*$|^\d+$/.test(s))) return undefined;
    return [base, ...segments].join('.');
  };
  /** A CEL operand for an IF/Switch value: a path, a number, a boolean or a quoted string. */
  const operand = (value: unknown, self: string): string | undefined => {
    if (typeof value === 'number' || typeof value === 'boolean') return String(value);
    if (typeof value !== 'string') return value === undefined ? "''" : undefined;
    if (!value.startsWith('=')) return `'${value.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
    const m = /^=\s*\{\{([\s\S]*)\}\}\s*$/.exec(value);
    const path = m ? toPath(m[1]!.trim(), self) : undefined;
    // the pass-through node's own output is what the n8n node saw as $json
    return path?.replace(refOf(self), `nodes.${ids.get(self)}.output`);
  };

  const hasNext = (n: N8nNode) =>
    (mainOut.get(n.name) ?? []).some((links) => links.some((l) => ids.has(l.node)));
  /**
   * A node whose output is `value`: an output node at the end of a branch, else an identity
   * `json_transform` tool node (output nodes have no outgoing connections).
   */
  const valueNode = (n: N8nNode, value: unknown) =>
    hasNext(n)
      ? { type: 'tool', tool: 'json_transform', config: { expression: '$' }, input: value }
      : { type: 'output', value };
  const passThrough = (n: N8nNode) => valueNode(n, `{{${refOf(n.name)}}}`);

  for (const n of nodes) {
    const notes: string[] = [];
    const entry = (status: N8nStatus, to: string | null) =>
      report.push({ node: n.name, type: n.type, status, to, notes });
    const p = n.parameters;
    if (TRIGGERS.has(n.type)) {
      if (n.type === 'n8n-nodes-base.webhook') {
        const mode = p.responseMode === 'lastNode' || p.responseMode === 'responseNode' ? 'sync' : 'async';
        triggers.push({
          type: 'webhook',
          name: n.name,
          webhook: { auth: 'bearer', mode },
          inputMapping: { body: '{{input.body}}', headers: '{{input.headers}}', query: '{{input.query}}' },
        });
        notes.push(
          `a webhook trigger with its own URL and a bearer secret (n8n's path "${str(p.path) ?? ''}" is not kept)`,
        );
        if (p.responseMode === 'responseNode') notes.push('"Respond to Webhook" answers with the run output');
        entry(p.httpMethod && p.httpMethod !== 'POST' ? 'approximated' : 'converted', 'trigger:webhook');
        if (p.httpMethod && p.httpMethod !== 'POST')
          notes.push(`webhooks take POST here, not ${String(p.httpMethod)}`);
      } else if (n.type === 'n8n-nodes-base.scheduleTrigger' || n.type === 'n8n-nodes-base.cron') {
        const { cron, exact } = cronOf(p);
        triggers.push({ type: 'schedule', name: n.name, schedule: { cron, timezone: 'UTC' } });
        if (!exact) notes.push(`the rule is approximated by the cron "${cron}" (UTC)`);
        entry(exact ? 'converted' : 'approximated', 'trigger:schedule');
      } else {
        notes.push('runs start from the API, the studio or the CLI with an input');
        entry('converted', 'trigger:manual');
      }
      continue;
    }
    if (subNodes.has(n.name)) continue; // reported with the node they attach to
    const id = ids.get(n.name)!;
    const base = {
      id,
      name: n.name.slice(0, 255),
      ...(n.position ? { position: { x: Number(n.position[0]) || 0, y: Number(n.position[1]) || 0 } } : {}),
    };
    const t = n.type.replace(/^n8n-nodes-base\./, '');
    if (t === 'set') {
      const fields = setFields(n);
      const value: Record<string, unknown> = {};
      for (const f of fields) value[f.name] = template(f.value, n.name, notes);
      if (!fields.length) notes.push('no fields to set were found');
      if (p.includeOtherFields === true || (n.typeVersion < 3 && p.keepOnlySet !== true))
        notes.push("the input's other fields are not carried over: only the fields set are the output");
      out.push({ ...base, ...valueNode(n, value) });
      entry(notes.length ? 'approximated' : 'converted', id);
    } else if (t === 'noOp') {
      out.push({ ...base, ...passThrough(n) });
      entry('converted', id);
    } else if (t === 'if') {
      const cond = ifCondition(n, operand, notes);
      out.push({
        ...base,
        ...passThrough(n),
        description: 'n8n IF: the branches are the conditions of its connections',
      });
      conditions.set(n.name, cond ? [cond, `!(${cond})`] : ['false', 'false']);
      if (!cond) notes.push('the condition could not be translated: neither branch runs until you write it');
      entry(cond && !notes.length ? 'converted' : 'approximated', id);
    } else if (t === 'switch') {
      const conds = switchConditions(n, operand, notes);
      out.push({
        ...base,
        ...passThrough(n),
        description: 'n8n Switch: the outputs are the conditions of its connections',
      });
      conditions.set(n.name, conds ?? []);
      if (!conds) notes.push('the rules could not be translated: no output runs until you write them');
      entry(conds && !notes.length ? 'converted' : 'approximated', id);
    } else if (t === 'merge') {
      const inputs = [...new Set(mainIn.get(n.name) ?? [])].map((name) => refOfNamed(name) ?? 'input');
      out.push({
        ...base,
        ...valueNode(n, Object.fromEntries(inputs.map((ref, i) => [`input${i + 1}`, `{{${ref}}}`]))),
      });
      notes.push(
        `waits for all its inputs and outputs them side by side (input1, input2, …); n8n's mode "${str(p.mode) ?? 'append'}" is not applied item by item`,
      );
      entry('approximated', id);
    } else if (t === 'httpRequest') {
      out.push({ ...base, ...httpNode(n, (v) => template(v, n.name, notes), notes) });
      entry(notes.length ? 'approximated' : 'converted', id);
    } else if (t === 'wait') {
      out.push({ ...base, ...waitNode(n, notes) });
      entry(notes.length ? 'approximated' : 'converted', id);
    } else if (AGENTS.has(n.type)) {
      out.push({
        ...base,
        type: 'agent',
        agent: agentOf(
          n,
          subIn.get(n.name) ?? [],
          byName,
          (v) => template(v, n.name, notes),
          notes,
          report,
          id,
        ),
      });
      entry(notes.length ? 'approximated' : 'converted', id);
    } else {
      out.push({ ...base, ...passThrough(n) });
      if (t === 'code' || t === 'function' || t === 'functionItem')
        notes.push('its JavaScript is not run (there is no code node): the node passes its input through');
      else if (t === 'executeWorkflow')
        notes.push(
          'n8n workflow ids mean nothing here: the node passes its input through; replace it with a subworkflow node',
        );
      else notes.push(`no equivalent of ${n.type}: the node passes its input through`);
      entry('dropped', id);
    }
  }

  const edges: Record<string, unknown>[] = [];
  for (const [from, outputs] of mainOut) {
    const fromId = ids.get(from);
    if (!fromId) continue; // from a trigger: its targets start the run
    const conds = conditions.get(from);
    outputs.forEach((links, i) => {
      for (const link of links) {
        const toId = ids.get(link.node);
        if (!toId || edges.some((e) => e.from === fromId && e.to === toId)) continue;
        const condition = conds ? (conds[i] ?? 'false') : undefined;
        edges.push({ from: fromId, to: toId, ...(condition ? { condition } : {}) });
      }
    });
  }
  if (!out.length) out.push({ id: safeId('result', used), type: 'output', value: '{{input}}' });
  // several first nodes (a trigger fanning out): one start node before them keeps the graph connected
  const roots = out.filter((n) => !edges.some((e) => e.to === n.id));
  if (roots.length > 1) {
    const start = safeId('start', used);
    out.unshift({
      id: start,
      type: 'tool',
      tool: 'json_transform',
      config: { expression: '$' },
      input: '{{input}}',
      description: 'the n8n trigger fanned out to several nodes: they start from here',
    });
    for (const r of roots) edges.push({ from: start, to: r.id });
  }
  return { definition: { name, nodes: out, connections: edges }, triggers, report };
}

function setFields(n: N8nNode): { name: string; value: unknown }[] {
  const p = n.parameters;
  const assignments = arr(obj(p.assignments).assignments);
  if (assignments.length)
    return assignments
      .map((a) => ({ name: String(obj(a).name ?? ''), value: obj(a).value }))
      .filter((f) => f.name);
  const fields = arr(obj(p.fields).values);
  if (fields.length)
    return fields.map((f) => {
      const o = obj(f);
      const value =
        o.stringValue ?? o.numberValue ?? o.booleanValue ?? o.objectValue ?? o.arrayValue ?? o.value;
      return { name: String(o.name ?? ''), value };
    });
  const values = obj(p.values);
  return Object.values(values)
    .flatMap((list) => arr(list))
    .map((v) => ({ name: String(obj(v).name ?? ''), value: obj(v).value }))
    .filter((f) => f.name);
}

const NUMBER_OPS: Record<string, string> = {
  smaller: '<',
  smallerEqual: '<=',
  equal: '==',
  notEqual: '!=',
  larger: '>',
  largerEqual: '>=',
  lt: '<',
  lte: '<=',
  equals: '==',
  notEquals: '!=',
  gt: '>',
  gte: '>=',
};

function compare(left: string, op: string, right: string, type: string): string | undefined {
  if (NUMBER_OPS[op]) return `${left} ${NUMBER_OPS[op]} ${right}`;
  if (op === 'contains') return `string(${left}).contains(${right})`;
  if (op === 'notContains') return `!string(${left}).contains(${right})`;
  if (op === 'startsWith') return `string(${left}).startsWith(${right})`;
  if (op === 'endsWith') return `string(${left}).endsWith(${right})`;
  if (op === 'true') return `${left} == true`;
  if (op === 'false') return `${left} == false`;
  void type;
  return undefined;
}

type Operand = (value: unknown, self: string) => string | undefined;

function ifCondition(n: N8nNode, operand: Operand, notes: string[]): string | undefined {
  const p = n.parameters;
  const parts: string[] = [];
  let joiner = ' && ';
  if (n.typeVersion < 2) {
    const c = obj(p.conditions);
    for (const [type, list] of Object.entries(c)) {
      for (const raw of arr(list)) {
        const o = obj(raw);
        const def = type === 'number' ? 'smaller' : 'equal';
        const left = operand(o.value1, n.name);
        const right = operand(o.value2 ?? (type === 'boolean' ? false : type === 'number' ? 0 : ''), n.name);
        const expr = left && right ? compare(left, String(o.operation ?? def), right, type) : undefined;
        if (!expr) {
          notes.push(`the ${type} condition ${JSON.stringify(o).slice(0, 200)} could not be translated`);
          return undefined;
        }
        parts.push(expr);
      }
    }
    joiner = p.combineOperation === 'any' ? ' || ' : ' && ';
  } else {
    const c = obj(p.conditions);
    for (const raw of arr(c.conditions)) {
      const o = obj(raw);
      const operator = obj(o.operator);
      const left = operand(o.leftValue, n.name);
      const right = operand(o.rightValue ?? '', n.name);
      const expr =
        left && right
          ? compare(left, String(operator.operation ?? 'equals'), right, String(operator.type))
          : undefined;
      if (!expr) {
        notes.push(`the condition ${JSON.stringify(o).slice(0, 200)} could not be translated`);
        return undefined;
      }
      parts.push(expr);
    }
    joiner = c.combinator === 'or' ? ' || ' : ' && ';
  }
  if (!parts.length) return undefined;
  return parts.length === 1 ? parts[0] : parts.map((x) => `(${x})`).join(joiner);
}

function switchConditions(n: N8nNode, operand: Operand, notes: string[]): string[] | undefined {
  const p = n.parameters;
  if (n.typeVersion >= 3 || p.mode === 'expression') {
    notes.push(`Switch version ${n.typeVersion} (${str(p.mode) ?? 'rules'}) is not translated`);
    return undefined;
  }
  const left = operand(p.value1, n.name);
  const rules = arr(obj(p.rules).rules).map(obj);
  if (!left || !rules.length) return undefined;
  const conds: string[] = [];
  for (const r of rules) {
    const right = operand(r.value2, n.name);
    const expr = right ? compare(left, String(r.operation ?? 'equal'), right, String(p.dataType)) : undefined;
    if (!expr) return undefined;
    const output = typeof r.output === 'number' ? r.output : conds.length;
    conds[output] = conds[output] ? `(${conds[output]}) || (${expr})` : expr;
  }
  const fallback = typeof p.fallbackOutput === 'number' ? p.fallbackOutput : -1;
  if (fallback >= 0) {
    const none = `!(${conds
      .filter(Boolean)
      .map((c) => `(${c})`)
      .join(' || ')})`;
    conds[fallback] = conds[fallback] ? `(${conds[fallback]}) || ${none}` : none;
  }
  return conds.map((c) => c ?? 'false');
}

/** n8n Schedule Trigger rules (or the legacy Cron node) as a cron; `exact` false when approximated. */
function cronOf(p: Record<string, unknown>): { cron: string; exact: boolean } {
  const rule = obj(arr(obj(p.rule).interval)[0]);
  const field = str(rule.field) ?? 'days';
  const minute = typeof rule.triggerAtMinute === 'number' ? rule.triggerAtMinute : 0;
  const hour = typeof rule.triggerAtHour === 'number' ? rule.triggerAtHour : 0;
  switch (field) {
    case 'cronExpression': {
      const e = str(rule.expression)?.trim() ?? '';
      const parts = e.split(/\s+/);
      if (parts.length === 6) return { cron: parts.slice(1).join(' '), exact: false }; // seconds dropped
      return { cron: e || '0 0 * * *', exact: parts.length === 5 };
    }
    case 'seconds':
      return { cron: '* * * * *', exact: false };
    case 'minutes': {
      const every = Number(rule.minutesInterval ?? 5);
      return { cron: every > 1 ? `*/${every} * * * *` : '* * * * *', exact: true };
    }
    case 'hours': {
      const every = Number(rule.hoursInterval ?? 1);
      return { cron: `${minute} ${every > 1 ? `*/${every}` : '*'} * * *`, exact: true };
    }
    case 'weeks': {
      const days = arr(rule.triggerAtDay).map(Number);
      return {
        cron: `${minute} ${hour} * * ${days.length ? days.join(',') : '0'}`,
        exact: Number(rule.weeksInterval ?? 1) === 1,
      };
    }
    case 'months':
      return {
        cron: `${minute} ${hour} ${Number(rule.triggerAtDayOfMonth ?? 1)} ${Number(rule.monthsInterval ?? 1) > 1 ? `*/${Number(rule.monthsInterval)}` : '*'} *`,
        exact: true,
      };
    default: {
      const every = Number(rule.daysInterval ?? 1);
      return { cron: `${minute} ${hour} ${every > 1 ? `*/${every}` : '*'} * *`, exact: every === 1 };
    }
  }
}

const UNIT_MS: Record<string, number> = {
  seconds: 1000,
  minutes: 60_000,
  hours: 3_600_000,
  days: 86_400_000,
};

function waitNode(n: N8nNode, notes: string[]): Record<string, unknown> {
  const p = n.parameters;
  const resume = str(p.resume) ?? 'timeInterval';
  if (resume === 'specificTime' && typeof p.dateTime === 'string' && !p.dateTime.startsWith('='))
    return { type: 'delay', until: p.dateTime };
  if (resume !== 'timeInterval')
    notes.push(`resuming on "${resume}" is not supported: waits for the amount given, or 1 hour`);
  const amount = typeof p.amount === 'number' ? p.amount : resume === 'timeInterval' ? 1 : 1;
  const unit = str(p.unit) ?? 'hours';
  return { type: 'delay', durationMs: Math.round(amount * (UNIT_MS[unit] ?? 3_600_000)) };
}

function httpNode(n: N8nNode, t: (v: unknown) => unknown, notes: string[]): Record<string, unknown> {
  const p = n.parameters;
  const method = String(p.method ?? p.requestMethod ?? 'GET').toUpperCase();
  const rawUrl = t(p.url ?? '');
  let url = typeof rawUrl === 'string' ? rawUrl : '';
  // the tool's URL template reads the tool's input: workflow values go in through it
  const input: Record<string, unknown> = {};
  let k = 0;
  url = url.replace(/\{\{([^}]+)\}\}/g, (_w, path: string) => {
    k += 1;
    input[`v${k}`] = `{{${path}}}`;
    return `{{v${k}}}`;
  });
  const pairs = (list: unknown) =>
    arr(obj(list).parameters ?? obj(list).parameter).map((x) => ({
      name: String(obj(x).name ?? ''),
      value: t(obj(x).value),
    }));
  const query = [...pairs(p.queryParameters), ...pairs(p.queryParametersUi)].filter((q) => q.name);
  if (query.length) {
    const qs = query
      .map((q) => {
        if (typeof q.value === 'string' && q.value.includes('{{')) {
          k += 1;
          input[`v${k}`] = q.value;
          return `${encodeURIComponent(q.name)}={{v${k}}}`;
        }
        return `${encodeURIComponent(q.name)}=${encodeURIComponent(String(q.value ?? ''))}`;
      })
      .join('&');
    url += (url.includes('?') ? '&' : '?') + qs;
  }
  const headers: Record<string, string> = {};
  for (const h of [...pairs(p.headerParameters), ...pairs(p.headerParametersUi)]) {
    if (!h.name) continue;
    headers[h.name] = String(h.value ?? '');
    if (headers[h.name]!.includes('{{')) notes.push(`header ${h.name} uses an expression, sent as written`);
  }
  if (p.authentication && p.authentication !== 'none')
    notes.push('n8n credentials are not imported: add the authorization header yourself');
  const body = arr(obj(p.bodyParameters).parameters);
  const config: Record<string, unknown> = {
    method,
    url,
    ...(Object.keys(headers).length ? { headers } : {}),
  };
  if (body.length) config.body = Object.fromEntries(body.map((b) => [String(obj(b).name), t(obj(b).value)]));
  else if (typeof p.jsonBody === 'string') notes.push("the JSON body is not imported: set the node's body");
  if (obj(p.options).response) notes.push('response options are not imported');
  return { type: 'tool', tool: 'http_request', config, input };
}

function agentOf(
  n: N8nNode,
  subs: { from: string; kind: string }[],
  byName: Map<string, N8nNode>,
  t: (v: unknown) => unknown,
  notes: string[],
  report: N8nReportEntry[],
  id: string,
): Record<string, unknown> {
  const p = n.parameters;
  let model: string | undefined;
  for (const s of subs) {
    const sub = byName.get(s.from)!;
    const subNotes: string[] = [];
    if (s.kind === 'ai_languageModel' && CHAT_MODELS[sub.type]) {
      const m = sub.parameters.model;
      const name = typeof m === 'string' ? m : (str(obj(m).value) ?? str(sub.parameters.modelName));
      model = `${CHAT_MODELS[sub.type]}:${name ?? 'gpt-4o-mini'}`;
      subNotes.push(`became the model (${model}) of agent ${id}`);
      report.push({
        node: sub.name,
        type: sub.type,
        status: 'converted',
        to: `agent:${id}`,
        notes: subNotes,
      });
    } else {
      subNotes.push(
        `${s.kind.replace(/^ai_/, '')} sub-nodes have no equivalent: not attached to agent ${id}`,
      );
      report.push({ node: sub.name, type: sub.type, status: 'dropped', to: null, notes: subNotes });
      notes.push(`its ${s.kind.replace(/^ai_/, '')} "${sub.name}" is dropped`);
    }
  }
  if (n.type.endsWith('.openAi')) {
    const m = p.modelId ?? p.model;
    model = `openai:${(typeof m === 'string' ? m : str(obj(m).value)) ?? 'gpt-4o-mini'}`;
  }
  if (!model) {
    model = 'openai:gpt-4o-mini';
    notes.push('no chat model is attached: openai:gpt-4o-mini is used');
  }
  const messages = arr(obj(p.messages).values ?? obj(p.messages).messageValues).map(obj);
  const system = messages.filter((m) => m.role === 'system').map((m) => t(m.content ?? m.message));
  const user = messages.filter((m) => m.role !== 'system').map((m) => t(m.content ?? m.message));
  const define = p.promptType === 'define' || typeof p.text === 'string';
  const prompt = user.length
    ? user.join('\n')
    : define && typeof p.text === 'string'
      ? String(t(p.text))
      : '{{input.chatInput}}';
  const systemMessage = str(obj(p.options).systemMessage);
  const sys = [...system.map(String), ...(systemMessage ? [String(t(systemMessage))] : [])].join('\n');
  return { model, prompt: prompt || '{{input}}', ...(sys ? { system: sys } : {}) };
}
