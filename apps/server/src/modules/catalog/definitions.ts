import { readdir, readFile, stat } from 'node:fs/promises';
import { basename, dirname, extname, join, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { AgentTypeDto } from '@aiops/contracts';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';

/** The starter catalog shipped with the server (apps/server/catalog). */
export const STARTER_CATALOG_DIR = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', 'catalog');

/** Bounds: a catalog is a directory of small text files, not a data set. */
const MAX_FILES = 1000;
const MAX_FILE_BYTES = 256 * 1024;
const MAX_DEPTH = 3;

/**
 * Seed 003's model names carry no provider ("claude-3-5-sonnet-20241022"); the platform's are
 * `provider:model`. Known families get their provider; anything else must name it.
 */
const FAMILIES: [RegExp, string][] = [
  [/^claude-/, 'anthropic'],
  [/^(gpt-|o\d|chatgpt-)/, 'openai'],
  [/^gemini-/, 'google'],
  [/^command/, 'cohere'],
  [/^grok-/, 'xai'],
  [/^(sonar|llama-3\.1-sonar)/, 'perplexity'],
];

export function qualifiedModel(model: string): string | undefined {
  if (/^[a-z0-9][a-z0-9_-]*:.+$/.test(model)) return model;
  const family = FAMILIES.find(([re]) => re.test(model));
  return family ? `${family[1]}:${model}` : undefined;
}

const name = z.string().trim().min(1).max(100);
const param = z.union([
  z.string().regex(/^[A-Za-z_][A-Za-z0-9_]{0,63}$/, 'must be a name like company_name'),
  z
    .object({
      name: z.string().regex(/^[A-Za-z_][A-Za-z0-9_]{0,63}$/, 'must be a name like company_name'),
      description: z.string().max(1000).optional(),
    })
    .strict(),
]);

const defaultConfig = z
  .object({
    temperature: z.number().min(0).max(2).optional(),
    top_p: z.number().min(0).max(1).optional(),
    max_tokens: z.number().int().min(1).max(1_000_000).optional(),
    prompt_template: z.string().max(100_000).optional(),
    tools: z.array(z.string().min(1).max(100)).max(100).optional(),
    cost_limit_per_request: z.number().min(0).max(999_999).optional(),
    memory_config: z.record(z.string(), z.unknown()).optional(),
  })
  .strict();

/** One definition file: seed 003's fields, plus seed 004's `default_config` and `required_params`. */
export const definitionSchema = z
  .object({
    id: z
      .string()
      .regex(/^[a-z0-9][a-z0-9_.-]{0,99}$/, 'must be lower case letters, digits, _ . - (at most 100)'),
    name: z.string().trim().min(1).max(255),
    description: z.string().max(10_000).optional(),
    category: z.string().regex(/^[a-z0-9][a-z0-9_-]{0,99}$/, 'must be a lower-case slug like sales'),
    version: z
      .union([z.string().max(50), z.number()])
      .transform(String)
      .default('1.0.0'),
    url: z.url().max(2000).optional(),
    capabilities: z.array(name).max(50).default([]),
    system_prompt: z.string().trim().min(1).max(100_000),
    model: z
      .string()
      .max(255)
      .refine((m) => qualifiedModel(m) !== undefined, 'must be provider:model, or a known model family'),
    temperature: z.number().min(0).max(2).optional(),
    max_tokens: z.number().int().min(1).max(1_000_000).optional(),
    prompt_template: z.string().max(100_000).optional(),
    default_config: defaultConfig.default({}),
    required_params: z.array(param).max(50).default([]),
  })
  .strict();

export type Definition = z.output<typeof definitionSchema>;

export class CatalogError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid agent catalog: ${problems.join('; ')}`);
    this.name = 'CatalogError';
  }
}

async function listFiles(dir: string, depth = 0): Promise<string[]> {
  const out: string[] = [];
  for (const entry of (await readdir(dir, { withFileTypes: true })).sort((a, b) =>
    a.name.localeCompare(b.name),
  )) {
    if (entry.name.startsWith('.')) continue;
    const path = join(dir, entry.name);
    if (entry.isDirectory()) {
      if (depth < MAX_DEPTH) out.push(...(await listFiles(path, depth + 1)));
    } else if (['.json', '.yaml', '.yml'].includes(extname(entry.name).toLowerCase())) {
      out.push(path);
    }
  }
  return out;
}

/** The field path of a Zod issue as the file spells it (`default_config.tools[2]`). */
const fieldOf = (path: PropertyKey[]) =>
  path.reduce<string>(
    (acc, p) => (typeof p === 'number' ? `${acc}[${p}]` : acc ? `${acc}.${String(p)}` : String(p)),
    '',
  ) || '(file)';

function toDto(d: Definition, source: string): AgentTypeDto {
  return {
    id: d.id,
    name: d.name,
    description: d.description ?? null,
    category: d.category,
    version: d.version,
    url: d.url ?? null,
    capabilities: d.capabilities,
    systemPrompt: d.system_prompt,
    model: qualifiedModel(d.model)!,
    temperature: d.temperature ?? null,
    maxTokens: d.max_tokens ?? null,
    defaultConfig: {
      ...(d.prompt_template ? { prompt_template: d.prompt_template } : {}),
      ...d.default_config,
    },
    requiredParams: d.required_params.map((p) =>
      typeof p === 'string'
        ? { name: p, description: null }
        : { name: p.name, description: p.description ?? null },
    ),
    source,
  };
}

/**
 * Reads every JSON and YAML definition under `dir` (JSON as in seed 003 `agents/definitions/*.json`, YAML as
 * in `agents/definitions/<category>/*.yaml`: a YAML file without `id` takes its file name, without
 * `category` its folder's name). Every problem is collected and reported with its file and field; any
 * problem fails the load (the server does not start on a broken catalog).
 */
export async function loadCatalog(dir: string): Promise<AgentTypeDto[]> {
  const info = await stat(dir).catch(() => undefined);
  if (!info?.isDirectory()) throw new CatalogError([`${dir}: not a directory (AIOPS_CATALOG_DIR)`]);
  const files = await listFiles(dir);
  if (files.length > MAX_FILES) throw new CatalogError([`${dir}: more than ${MAX_FILES} definition files`]);
  const problems: string[] = [];
  const types: AgentTypeDto[] = [];
  const seen = new Map<string, string>();
  for (const file of files) {
    const rel = relative(dir, file).split(sep).join('/');
    const size = (await stat(file)).size;
    if (size > MAX_FILE_BYTES) {
      problems.push(`${rel}: larger than ${MAX_FILE_BYTES} bytes`);
      continue;
    }
    const text = await readFile(file, 'utf8');
    let raw: unknown;
    const yaml = extname(file).toLowerCase() !== '.json';
    try {
      raw = yaml ? parseYaml(text, { maxAliasCount: 50 }) : JSON.parse(text);
    } catch (e) {
      problems.push(`${rel}: not valid ${yaml ? 'YAML' : 'JSON'}: ${(e as Error).message.split('\n')[0]}`);
      continue;
    }
    if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
      problems.push(`${rel}: (file): must be an object of fields`);
      continue;
    }
    const obj = { ...(raw as Record<string, unknown>) };
    if (yaml && obj.id === undefined) obj.id = basename(file, extname(file)).toLowerCase();
    const folder = rel.includes('/') ? rel.split('/')[0] : undefined;
    if (yaml && obj.category === undefined && folder) obj.category = folder;
    const parsed = definitionSchema.safeParse(obj);
    if (!parsed.success) {
      for (const issue of parsed.error.issues) {
        if (issue.code === 'unrecognized_keys') {
          for (const key of issue.keys)
            problems.push(`${rel}: field ${fieldOf([...issue.path, key])}: unknown field`);
        } else {
          problems.push(`${rel}: field ${fieldOf(issue.path)}: ${issue.message}`);
        }
      }
      continue;
    }
    const other = seen.get(parsed.data.id);
    if (other) {
      problems.push(`${rel}: field id: "${parsed.data.id}" is already defined in ${other}`);
      continue;
    }
    seen.set(parsed.data.id, rel);
    types.push(toDto(parsed.data, rel));
  }
  if (problems.length) throw new CatalogError(problems);
  return types.sort((a, b) => a.category.localeCompare(b.category) || a.name.localeCompare(b.name));
}
