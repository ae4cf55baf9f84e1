import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { type FormEvent, useDeferredValue, useState } from 'react';
import { call, sdk } from '../../../api/client.ts';
import type { PriceOverrideInput } from '../../../api/types.ts';
import { useCan } from '../../../app/session.tsx';
import { Button } from '../../../ui/button.tsx';
import { ConfirmButton } from '../../../ui/confirm.tsx';
import { Field, Input } from '../../../ui/form.tsx';
import { ErrorText } from '../../../ui/page.tsx';
import { Table, Td, Th } from '../../../ui/table.tsx';
import { toast } from '../../../ui/toast.tsx';
import {
  currentPrices,
  emptyOverride,
  type OverrideForm,
  overrideBody,
  pricePeriod,
  today,
} from './usage.ts';

const SHOWN = 20;

/** The shipped price catalog (filtered by model text) and the organization's overrides, which win. */
export function PriceOverrides() {
  const client = useQueryClient();
  const canManage = useCan('billing:manage');
  const [filter, setFilter] = useState('');
  const model = useDeferredValue(filter.trim());
  const prices = useQuery({
    queryKey: ['prices', model],
    queryFn: () => call(sdk.api.GET('/api/v1/prices', { params: { query: { model: model || undefined } } })),
    placeholderData: (previous) => previous,
  });
  const [form, setForm] = useState<OverrideForm>(() => emptyOverride());
  const [problem, setProblem] = useState<string | null>(null);
  const refresh = () => client.invalidateQueries({ queryKey: ['prices'] });
  const create = useMutation({
    mutationFn: (body: PriceOverrideInput) => call(sdk.api.POST('/api/v1/prices', { body })),
    onSuccess: (o) => {
      toast.success(`Price override for ${o.model} added`);
      setForm(emptyOverride());
      void refresh();
    },
  });
  const remove = useMutation({
    mutationFn: (id: string) => call(sdk.api.DELETE('/api/v1/prices/{id}', { params: { path: { id } } })),
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
    <section className="mb-4 rounded-lg border bg-card p-4 shadow-xs" aria-label="Prices">
      <h2>Prices (USD per million tokens)</h2>
      <p className="text-xs">
        Costs are computed from the catalog shipped with the product
        {p && ` (checked ${p.catalogVersion})`}. An override (a negotiated or self-hosted price) wins over the
        catalog for its model from its first day.
      </p>
      <Field>
        Filter by model
        <Input value={filter} onChange={(e) => setFilter(e.target.value)} placeholder="gpt-4o" />
      </Field>
      <ErrorText error={prices.error ?? remove.error} />
      <h3>Organization overrides</h3>
      {p && p.overrides.length === 0 && <p className="text-xs">No overrides: the catalog applies.</p>}
      {p && p.overrides.length > 0 && (
        <Table aria-label="Price overrides">
          <thead>
            <tr>
              <Th>Model</Th>
              <Th>Input</Th>
              <Th>Output</Th>
              <Th>From</Th>
              <Th>To</Th>
              <Th>Note</Th>
              <Th />
            </tr>
          </thead>
          <tbody>
            {p.overrides.map((o) => (
              <tr key={o.id}>
                <Td>
                  <code>{o.model}</code>
                </Td>
                <Td>{o.input}</Td>
                <Td>{o.output}</Td>
                <Td>{o.effectiveFrom}</Td>
                <Td>{o.effectiveTo ?? '—'}</Td>
                <Td className="text-xs">{o.note}</Td>
                <Td>
                  {canManage && (
                    <ConfirmButton
                      label="Remove"
                      size="sm"
                      question={`Remove the override of ${o.model}? The catalog price applies again.`}
                      onConfirm={() => remove.mutate(o.id)}
                    />
                  )}
                </Td>
              </tr>
            ))}
          </tbody>
        </Table>
      )}
      {canManage && (
        <form onSubmit={submit} aria-label="Add a price override">
          <div className="flex flex-wrap items-end gap-3 [&>label]:min-w-32 [&>label]:flex-1">
            <Field>
              Model (provider:model)
              <Input
                value={form.model}
                onChange={(e) => set({ model: e.target.value })}
                placeholder="openai:gpt-4o-mini"
              />
            </Field>
            <Field>
              Input price
              <Input value={form.input} onChange={(e) => set({ input: e.target.value })} placeholder="0.15" />
            </Field>
            <Field>
              Output price
              <Input
                value={form.output}
                onChange={(e) => set({ output: e.target.value })}
                placeholder="0.60"
              />
            </Field>
            <Field>
              From
              <Input
                type="date"
                value={form.effectiveFrom}
                onChange={(e) => set({ effectiveFrom: e.target.value })}
              />
            </Field>
            <Field>
              Note
              <Input value={form.note} onChange={(e) => set({ note: e.target.value })} />
            </Field>
            <Button type="submit" disabled={create.isPending}>
              Add override
            </Button>
          </div>
          {problem && (
            <p className="my-1.5 text-sm font-medium text-destructive" role="alert">
              {problem}
            </p>
          )}
          <ErrorText error={create.error} />
        </form>
      )}
      <h3>Catalog</h3>
      {p && p.catalog.length === 0 && <p className="text-xs">No catalog price matches “{model}”.</p>}
      {p && p.catalog.length > 0 && (
        <Table aria-label="Catalog prices">
          <thead>
            <tr>
              <Th>Model</Th>
              <Th>Input</Th>
              <Th>Output</Th>
              <Th>Cached input</Th>
              <Th>Period</Th>
            </tr>
          </thead>
          <tbody>
            {currentPrices(p.catalog, today())
              .slice(0, SHOWN)
              .map((c) => (
                <tr key={`${c.model}@${c.effectiveFrom}`}>
                  <Td>
                    <code>{c.model}</code>
                  </Td>
                  <Td>{c.input}</Td>
                  <Td>{c.output}</Td>
                  <Td>{c.cachedInput ?? '—'}</Td>
                  <Td className="whitespace-nowrap">{pricePeriod(c)}</Td>
                </tr>
              ))}
          </tbody>
        </Table>
      )}
      {p && currentPrices(p.catalog, today()).length > SHOWN && (
        <p className="text-xs">
          {currentPrices(p.catalog, today()).length - SHOWN} more: filter by model to find one.
        </p>
      )}
    </section>
  );
}
