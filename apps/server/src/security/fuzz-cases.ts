/**
 * Malformed variants of every operation of an OpenAPI 3.1 document, for the schema-driven fuzz test
 * (`fuzz-test-support.ts`): wrong types, missing fields, NUL and lone-surrogate strings, numbers outside every
 * column's range, deep nesting, overlong strings, bad path and query parameters, bodies that are not JSON.
 * Test-only code: nothing here runs in the server.
 */

type Schema = Record<string, unknown>;

export interface OpenApiDoc {
  paths: Record<string, Record<string, Operation>>;
  components?: { schemas?: Record<string, Schema> };
}

export interface Operation {
  parameters?: { in: string; name: string; required?: boolean; schema?: Schema }[];
  requestBody?: { content?: Record<string, { schema?: Schema }> };
}

export interface FuzzCase {
  method: string;
  /** The path with its parameters filled in, and a query string when the case has one. */
  url: string;
  /** The raw body text (sent as given) and its content type. */
  body?: string;
  contentType?: string;
  label: string;
}

/** JSON text nested `levels` deep, built without recursion. */
export function deepJson(levels: number): string {
  return `${'{"a":['.repeat(levels)}1${']}'.repeat(levels)}`;
}

/** Values that are wrong for most fields: each is put in place of every field of a valid body. */
const BAD_VALUES: [string, string][] = [
  ['number', '123'],
  ['string', '"x"'],
  ['boolean', 'true'],
  ['null', 'null'],
  ['array', '[]'],
  ['object', '{}'],
  ['negative', '-1'],
  ['huge', '1e308'],
  ['-huge', '-1e308'],
  ['int4+1', '2147483648'],
  ['2^53+1', '9007199254740993'],
  ['denormal', '1e-320'],
  ['NUL', '"a\\u0000b"'],
  ['lone surrogate', '"\\ud800x"'],
  ['low surrogate', '"\\udfff"'],
  ['overlong', JSON.stringify('x'.repeat(20_000))],
  ['deep', deepJson(100)],
  ['empty string', '""'],
];
/** Fewer values for nested fields (the top-level ones already try every kind). */
const NESTED_BAD_VALUES = BAD_VALUES.filter(([label]) =>
  ['number', 'string', 'null', 'int4+1', 'denormal', 'NUL', 'lone surrogate', 'deep'].includes(label),
);

/** Values for path and query parameters (already URL-encoded). */
const BAD_PARAMS = [
  '%00',
  'a%00b',
  '%ED%A0%80',
  '%F0%9F%98%80',
  '%C0%80',
  '%FF',
  'not-a-uuid',
  'x'.repeat(3_000),
  '2147483648',
  '-1',
  '1e400',
  'NaN',
  '%2e%2e%2f%2e%2e',
  "'%3B%20drop%20table%20users%3B--",
  '00000000-0000-0000-0000-000000000000',
];

const WHOLE_BODIES: [string, string, string][] = [
  ['empty object', '{}', 'application/json'],
  ['array', '[1,2]', 'application/json'],
  ['string', '"s"', 'application/json'],
  ['null', 'null', 'application/json'],
  ['malformed', '{"a":', 'application/json'],
  ['deep 5000', deepJson(5_000), 'application/json'],
  ['NUL key', '{"a\\u0000":1}', 'application/json'],
  ['surrogate key', '{"\\ud800":1}', 'application/json'],
  ['duplicate keys', '{"name":1,"name":"x"}', 'application/json'],
  ['proto', '{"__proto__":{"admin":true},"constructor":{"prototype":{"x":1}}}', 'application/json'],
  ['text/plain', 'hello', 'text/plain'],
  ['form', 'a=b', 'application/x-www-form-urlencoded'],
];

export class CaseBuilder {
  constructor(
    private readonly doc: OpenApiDoc,
    /** A valid value for a path parameter of this path (a real id where the test has one). */
    private readonly pathValue: (path: string, name: string) => string,
  ) {}

  resolve(schema: Schema | undefined, depth = 0): Schema {
    let s = schema ?? {};
    for (let i = 0; i < 10 && typeof s.$ref === 'string'; i++) {
      const name = (s.$ref as string).split('/').pop() as string;
      s = this.doc.components?.schemas?.[name] ?? {};
    }
    return depth > 8 ? {} : s;
  }

  /** A minimal value that satisfies `schema` as far as this simple generator can tell. */
  sample(schema: Schema | undefined, depth = 0): unknown {
    const s = this.resolve(schema, depth);
    if ('const' in s) return s.const;
    if (Array.isArray(s.enum)) return s.enum[0];
    if ('default' in s) return s.default;
    for (const key of ['anyOf', 'oneOf'] as const) {
      const options = s[key] as Schema[] | undefined;
      if (options?.length) {
        const pick = options.find((o) => this.resolve(o).type !== 'null') ?? options[0];
        return this.sample(pick, depth + 1);
      }
    }
    if (Array.isArray(s.allOf)) {
      return Object.assign({}, ...s.allOf.map((o) => this.sample(o as Schema, depth + 1) ?? {}));
    }
    const type = Array.isArray(s.type) ? s.type.find((t) => t !== 'null') : s.type;
    switch (type) {
      case 'object': {
        const out: Record<string, unknown> = {};
        const props = (s.properties ?? {}) as Record<string, Schema>;
        for (const name of (s.required ?? []) as string[]) out[name] = this.sample(props[name], depth + 1);
        return out;
      }
      case 'array':
        return Array.from({ length: Number(s.minItems ?? 0) }, () =>
          this.sample(s.items as Schema, depth + 1),
        );
      case 'string':
        return sampleString(s);
      case 'integer':
      case 'number':
        return Number(s.minimum ?? (s.exclusiveMinimum !== undefined ? Number(s.exclusiveMinimum) + 1 : 1));
      case 'boolean':
        return true;
      default:
        return null;
    }
  }

  /** Every case for one operation. */
  cases(path: string, method: string, op: Operation): FuzzCase[] {
    const M = method.toUpperCase();
    const params = op.parameters ?? [];
    const fill = (p: string) =>
      p.replace(/\{(\w+)\}/g, (_m, name: string) => encodeURIComponent(this.pathValue(path, name)));
    const base = fill(path);
    const bodySchema = op.requestBody?.content?.['application/json']?.schema;
    const validBody = bodySchema ? this.sample(bodySchema) : undefined;
    const json = validBody === undefined ? undefined : JSON.stringify(validBody);
    const out: FuzzCase[] = [];
    const add = (c: Omit<FuzzCase, 'method'>) =>
      out.push({
        method: M,
        ...c,
        ...(json !== undefined && c.body === undefined
          ? { body: json, contentType: 'application/json' }
          : {}),
      });

    for (const p of params.filter((x) => x.in === 'path')) {
      for (const bad of BAD_PARAMS) {
        add({
          url: base.replace(encodeURIComponent(this.pathValue(path, p.name)), bad),
          label: `path ${p.name}=${bad.slice(0, 20)}`,
        });
      }
    }
    for (const p of params.filter((x) => x.in === 'query')) {
      for (const bad of [...BAD_PARAMS, '', '0', '99999999999999999999', 'not-a-date']) {
        add({ url: `${base}?${p.name}=${bad}`, label: `query ${p.name}=${bad.slice(0, 20)}` });
      }
      add({ url: `${base}?${p.name}=1&${p.name}=2`, label: `query ${p.name} twice` });
    }
    add({ url: `${base}?unknown=%00`, label: 'unknown query param' });
    if (bodySchema) {
      for (const [label, body, contentType] of WHOLE_BODIES)
        add({ url: base, body, contentType, label: `body ${label}` });
      for (const [fieldPath, fieldSchema] of this.fields(bodySchema)) {
        for (const [label, value] of fieldPath.length > 1 ? NESTED_BAD_VALUES : BAD_VALUES) {
          add({
            url: base,
            body: withField(validBody, fieldPath, value),
            contentType: 'application/json',
            label: `${fieldPath.join('.')}=${label}`,
          });
        }
        if (fieldPath.length > 0) {
          add({
            url: base,
            body: JSON.stringify(without(validBody, fieldPath)),
            contentType: 'application/json',
            label: `${fieldPath.join('.')} missing`,
          });
        }
        const type = this.resolve(fieldSchema).type;
        if (type === 'string' || Array.isArray(this.resolve(fieldSchema).enum)) {
          add({
            url: base,
            body: withField(validBody, fieldPath, '"not-an-enum-or-format-\\u00e9"'),
            contentType: 'application/json',
            label: `${fieldPath.join('.')}=odd string`,
          });
        }
      }
    } else {
      for (const [label, body, contentType] of WHOLE_BODIES.slice(0, 6))
        add({ url: base, body, contentType, label: `unexpected body ${label}` });
    }
    return out;
  }

  /** The field paths of a body schema: its properties and, one level down, theirs. */
  private fields(schema: Schema): [string[], Schema][] {
    const out: [string[], Schema][] = [[[], schema]];
    const visit = (s: Schema, at: string[], depth: number) => {
      const r = this.resolve(s);
      const objects = [r, ...((r.anyOf ?? r.oneOf ?? []) as Schema[]).map((o) => this.resolve(o))];
      for (const o of objects) {
        for (const [name, child] of Object.entries((o.properties ?? {}) as Record<string, Schema>)) {
          const here = [...at, name];
          if (out.some(([p]) => p.join('.') === here.join('.'))) continue;
          out.push([here, child]);
          if (depth < 1) visit(child, here, depth + 1);
        }
      }
    };
    visit(schema, [], 0);
    return out;
  }
}

function sampleString(s: Schema): string {
  switch (s.format) {
    case 'uuid':
      return '00000000-0000-4000-8000-000000000000';
    case 'email':
      return 'fuzz@example.test';
    case 'date-time':
      return new Date().toISOString();
    case 'date':
      return '2026-01-01';
    case 'uri':
      return 'https://example.test/';
    default:
      return 'x'.repeat(Math.max(1, Number(s.minLength ?? 1)));
  }
}

/** `base` as JSON text with the value at `path` replaced by the raw JSON text `raw`. */
function withField(base: unknown, path: string[], raw: string): string {
  if (path.length === 0) return raw;
  const marker = '__FUZZ_VALUE__';
  const copy = structuredClone((base ?? {}) as Record<string, unknown>);
  let node: Record<string, unknown> = copy;
  for (const key of path.slice(0, -1)) {
    if (typeof node[key] !== 'object' || node[key] === null || Array.isArray(node[key])) node[key] = {};
    node = node[key] as Record<string, unknown>;
  }
  node[path[path.length - 1] as string] = marker;
  return JSON.stringify(copy).replace(`"${marker}"`, raw);
}

function without(base: unknown, path: string[]): unknown {
  const copy = structuredClone((base ?? {}) as Record<string, unknown>);
  let node: Record<string, unknown> | undefined = copy;
  for (const key of path.slice(0, -1)) node = node?.[key] as Record<string, unknown> | undefined;
  if (node && typeof node === 'object') delete node[path[path.length - 1] as string];
  return copy;
}
