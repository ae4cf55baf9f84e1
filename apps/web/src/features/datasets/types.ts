import type { paths } from '@aiops/sdk';
import type { JsonContent } from '../../api/types.ts';

/** The datasets and experiments API's shapes, from the SDK's types of their routes (the OpenAPI document). */
type Ok<R extends { responses: { 200: unknown } }> = JsonContent<R['responses'][200]>;
export type Dataset = Ok<paths['/api/v1/datasets/{id}']['get']>;
export type Experiment = Ok<paths['/api/v1/experiments/{id}']['get']>;

/** A JSON value in one short line for tables. */
export const short = (v: unknown, max = 120): string => {
  if (v === null || v === undefined) return '—';
  const s = typeof v === 'string' ? v : JSON.stringify(v);
  return s.length > max ? `${s.slice(0, max - 1)}…` : s;
};

export const percent = (v: number | null) => (v === null ? '—' : `${Math.round(v * 1000) / 10}%`);
