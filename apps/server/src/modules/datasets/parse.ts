import { parse } from 'csv-parse/sync';

export interface ParsedItem {
  input: unknown;
  expectedOutput?: unknown;
  metadata: Record<string, unknown>;
}

export interface BadRow {
  line: number;
  message: string;
}

/** Most items one import may add. */
export const MAX_IMPORT_ITEMS = 10_000;

/** A cell as JSON when it is JSON (`{"q":1}`, `42`, `true`), else the text as it is. */
function cell(v: string): unknown {
  const t = v.trim();
  if (t === '') return v;
  if (/^[[{"]|^-?\d|^(true|false|null)$/.test(t)) {
    try {
      return JSON.parse(t);
    } catch {
      return v;
    }
  }
  return v;
}

function itemOf(row: Record<string, unknown>, line: number, bad: BadRow[]): ParsedItem | undefined {
  if (row === null || typeof row !== 'object' || Array.isArray(row)) {
    bad.push({ line, message: 'a row must be a JSON object with an "input" field' });
    return undefined;
  }
  const { input, expected_output, expectedOutput, expected, metadata, ...rest } = row;
  if (input === undefined || input === '') {
    bad.push({ line, message: 'the "input" field is missing or empty' });
    return undefined;
  }
  if (
    metadata !== undefined &&
    (metadata === null || typeof metadata !== 'object' || Array.isArray(metadata))
  ) {
    bad.push({ line, message: '"metadata" must be an object' });
    return undefined;
  }
  const exp = expected_output ?? expectedOutput ?? expected;
  return {
    input,
    ...(exp !== undefined && exp !== '' ? { expectedOutput: exp } : {}),
    metadata: { ...rest, ...((metadata as Record<string, unknown> | undefined) ?? {}) },
  };
}

/** JSON Lines: one object per line (`input`, `expected_output`, `metadata`, other fields as metadata). */
export function parseJsonLines(content: string): { items: ParsedItem[]; bad: BadRow[] } {
  const items: ParsedItem[] = [];
  const bad: BadRow[] = [];
  const lines = content.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const text = lines[i]!.trim();
    if (text === '') continue;
    let row: unknown;
    try {
      row = JSON.parse(text);
    } catch (e) {
      bad.push({ line: i + 1, message: `not valid JSON: ${(e as Error).message}`.slice(0, 300) });
      continue;
    }
    const item = itemOf(row as Record<string, unknown>, i + 1, bad);
    if (item) items.push(item);
  }
  return { items, bad };
}

/**
 * CSV with a header row naming `input` and optionally `expected_output` (or `expected`); other columns
 * become metadata. Cells that are JSON are read as JSON. Lines are counted in the file (header = line 1).
 */
export function parseCsv(content: string): { items: ParsedItem[]; bad: BadRow[] } {
  const items: ParsedItem[] = [];
  const bad: BadRow[] = [];
  let records: { record: string[]; info: { lines: number } }[];
  try {
    records = parse(content, {
      relax_column_count: true,
      skip_empty_lines: true,
      info: true,
      bom: true,
      max_record_size: 1_000_000,
    }) as unknown as { record: string[]; info: { lines: number } }[];
  } catch (e) {
    const err = e as { lines?: number; message: string };
    return { items, bad: [{ line: err.lines ?? 1, message: `not valid CSV: ${err.message}`.slice(0, 300) }] };
  }
  const [head, ...rows] = records;
  const header = head?.record.map((h) => h.trim()) ?? [];
  if (!header.includes('input'))
    return { items, bad: [{ line: 1, message: 'the header row must have an "input" column' }] };
  for (const { record, info } of rows) {
    if (record.length !== header.length) {
      bad.push({ line: info.lines, message: `expected ${header.length} columns, found ${record.length}` });
      continue;
    }
    const row: Record<string, unknown> = {};
    header.forEach((h, i) => {
      row[h] = cell(record[i] ?? '');
    });
    const item = itemOf(row, info.lines, bad);
    if (item) items.push(item);
  }
  return { items, bad };
}
