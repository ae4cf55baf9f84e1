/** A run form from the workflow's input JSON Schema: one field per top-level property. */
export interface FormField {
  name: string;
  label: string;
  kind: 'text' | 'number' | 'integer' | 'boolean' | 'enum' | 'json';
  required: boolean;
  options: string[];
  description: string | undefined;
  initial: string | boolean;
}

type Schema = Record<string, unknown>;

export function fieldsOf(schema: Schema | undefined): FormField[] {
  const props = (schema?.properties ?? {}) as Record<string, Schema>;
  const required = new Set((schema?.required as string[] | undefined) ?? []);
  return Object.entries(props).map(([name, p]) => {
    const type = Array.isArray(p.type) ? p.type[0] : p.type;
    const kind: FormField['kind'] = Array.isArray(p.enum)
      ? 'enum'
      : type === 'string'
        ? 'text'
        : type === 'number' || type === 'integer' || type === 'boolean'
          ? type
          : 'json';
    const def = p.default;
    return {
      name,
      label: typeof p.title === 'string' ? p.title : name,
      kind,
      required: required.has(name),
      options: Array.isArray(p.enum) ? p.enum.map(String) : [],
      description: typeof p.description === 'string' ? p.description : undefined,
      initial:
        kind === 'boolean'
          ? def === true
          : def === undefined
            ? ''
            : kind === 'json'
              ? JSON.stringify(def)
              : String(def),
    };
  });
}

/** The input object from the form's values, or the problems by field name. */
export function buildInput(
  fields: FormField[],
  values: Record<string, string | boolean>,
): { input: Record<string, unknown>; errors: Record<string, string> } {
  const input: Record<string, unknown> = {};
  const errors: Record<string, string> = {};
  for (const f of fields) {
    const v = values[f.name] ?? f.initial;
    if (f.kind === 'boolean') {
      input[f.name] = v === true;
      continue;
    }
    const text = String(v).trim();
    if (text === '') {
      if (f.required) errors[f.name] = 'is required';
      continue;
    }
    if (f.kind === 'number' || f.kind === 'integer') {
      const n = Number(text);
      if (!Number.isFinite(n) || (f.kind === 'integer' && !Number.isInteger(n)))
        errors[f.name] = `must be ${f.kind === 'integer' ? 'a whole number' : 'a number'}`;
      else input[f.name] = n;
    } else if (f.kind === 'json') {
      try {
        input[f.name] = JSON.parse(text);
      } catch {
        errors[f.name] = 'must be JSON';
      }
    } else input[f.name] = String(v);
  }
  return { input, errors };
}
