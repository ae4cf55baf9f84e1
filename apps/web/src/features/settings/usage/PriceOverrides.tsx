import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { type FormEvent, useDeferredValue, useState } from 'react';
import { del, get, post, qs } from '../../../api/client.ts';
import type { PriceList, PriceOverride } from '../../../api/types.ts';
import { useCan } from '../../../app/session.tsx';
import { ErrorText } from '../../../ui/kit.tsx';
import { emptyOverride, type OverrideForm, overrideBody } from './usage.ts';

const SHOWN = 20;

/** The shipped price catalog (filtered by model text) and the organization's overrides, which win. */
export function PriceOverrides() {
  const client = useQueryClient();
  const canManage = useCan('billing:manage');
  const [filter, setFilter] = useState('');
  const model = useDeferredValue(filter.trim());
  const prices = useQuery({
    queryKey: ['prices', model],
    queryFn: () => get<PriceList>(`/prices${qs({ model })}`),
    placeholderData: (previous) => previous,
  });
  const [form, setForm] = useState<OverrideForm>(() => emptyOverride());
  const [problem, setProblem] = useState<string | null>(null);
  const refresh = () => client.invalidateQueries({ queryKey: ['prices'] });
  const create = useMutation({
    mutationFn: (body: unknown) => post<PriceOverride>('/prices', body),
    onSuccess: () => {
      setForm(emptyOverride());
      void refresh();
    },
  });
  const remove = useMutation({
    mutationFn: (id: string) => del(`/prices/${id}`),
    onSuccess: () => void refresh(),
  });
  const submit = (e: FormEvent) => {
    e.preventDefault();
    const built = overrideBody(form);
    if ('error' in built) return setProblem(built.error);
    setProblem(null);
    create.mutate(built.body);
  };
  const set = (patch: Partial<OverrideForm>) => setForm((f) => ({ ...f, ...patch }));
  const p = prices.data;
  return (
    <section className="panel" aria-label="Prices">
      <h2>Prices (USD per million tokens)</h2>
      <p className="small-text">
        Costs are computed from the catalog shipped with the product
        {p && ` (checked ${p.catalogVersion})`}. An override (a negotiated or self-hosted price) wins over the
        catalog for its model from its first day.
      </p>
      <label>
        Filter by model
        <input value={filter} onChange={(e) => setFilter(e.target.value)} placeholder="gpt-4o" />
      </label>
      <ErrorText error={prices.error ?? remove.error} />
      <h3>Organization overrides</h3>
      {p && p.overrides.length === 0 && <p className="small-text">No overrides: the catalog applies.</p>}
      {p && p.overrides.length > 0 && (
        <table aria-label="Price overrides">
          <thead>
            <tr>
              <th>Model</th>
              <th>Input</th>
              <th>Output</th>
              <th>From</th>
              <th>To</th>
              <th>Note</th>
              <th />
            </tr>
          </thead>
          <tbody>
            {p.overrides.map((o) => (
              <tr key={o.id}>
                <td>
                  <code>{o.model}</code>
                </td>
                <td>{o.input}</td>
                <td>{o.output}</td>
                <td>{o.effectiveFrom}</td>
                <td>{o.effectiveTo ?? '—'}</td>
                <td className="small-text">{o.note}</td>
                <td>
                  {canManage && (
                    <button
                      type="button"
                      className="small danger"
                      onClick={() => {
                        if (
                          window.confirm(
                            `Remove the override of ${o.model}? The catalog price applies again.`,
                          )
                        )
                          remove.mutate(o.id);
                      }}
                    >
                      Remove
                    </button>
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {canManage && (
        <form onSubmit={submit} aria-label="Add a price override">
          <div className="row">
            <label>
              Model (provider:model)
              <input
                value={form.model}
                onChange={(e) => set({ model: e.target.value })}
                placeholder="openai:gpt-4o-mini"
              />
            </label>
            <label>
              Input price
              <input value={form.input} onChange={(e) => set({ input: e.target.value })} placeholder="0.15" />
            </label>
            <label>
              Output price
              <input
                value={form.output}
                onChange={(e) => set({ output: e.target.value })}
                placeholder="0.60"
              />
            </label>
            <label>
              From
              <input
                type="date"
                value={form.effectiveFrom}
                onChange={(e) => set({ effectiveFrom: e.target.value })}
              />
            </label>
            <label>
              Note
              <input value={form.note} onChange={(e) => set({ note: e.target.value })} />
            </label>
            <button type="submit" disabled={create.isPending}>
              Add override
            </button>
          </div>
          {problem && (
            <p className="error" role="alert">
              {problem}
            </p>
          )}
          <ErrorText error={create.error} />
        </form>
      )}
      <h3>Catalog</h3>
      {p && p.catalog.length === 0 && <p className="small-text">No catalog price matches “{model}”.</p>}
      {p && p.catalog.length > 0 && (
        <table aria-label="Catalog prices">
          <thead>
            <tr>
              <th>Model</th>
              <th>Input</th>
              <th>Output</th>
              <th>Cached input</th>
              <th>From</th>
            </tr>
          </thead>
          <tbody>
            {p.catalog.slice(0, SHOWN).map((c) => (
              <tr key={`${c.model}@${c.effectiveFrom}`}>
                <td>
                  <code>{c.model}</code>
                </td>
                <td>{c.input}</td>
                <td>{c.output}</td>
                <td>{c.cachedInput ?? '—'}</td>
                <td>{c.effectiveFrom}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {p && p.catalog.length > SHOWN && (
        <p className="small-text">{p.catalog.length - SHOWN} more: filter by model to find one.</p>
      )}
    </section>
  );
}
