import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { type FormEvent, useEffect, useState } from 'react';
import { call, sdk } from '../../../api/client.ts';
import type { Organization, OrganizationPatch } from '../../../api/types.ts';
import { useCan } from '../../../app/session.tsx';
import { Button } from '../../../ui/button.tsx';
import { Check, Field, Input } from '../../../ui/form.tsx';
import { formatCost, formatTime } from '../../../ui/format.ts';
import { ErrorText, PageHeader } from '../../../ui/page.tsx';
import { toast } from '../../../ui/toast.tsx';
import { CostTable } from './CostTable.tsx';
import { PriceOverrides } from './PriceOverrides.tsx';
import { budgetText, monthSummary, parseBudget } from './usage.ts';

const KEY = ['organization'];

/** Usage & budget: the month's executions and spend, the budget, network access, costs and prices. */
export default function UsagePage() {
  const client = useQueryClient();
  const canCosts = useCan('run:read');
  const canPrices = useCan('billing:read');
  const org = useQuery({ queryKey: KEY, queryFn: () => call(sdk.api.GET('/api/v1/organization')) });
  const save = useMutation({
    mutationFn: (body: OrganizationPatch) => call(sdk.api.PATCH('/api/v1/organization', { body })),
    onSuccess: (o) => {
      client.setQueryData(KEY, o);
      void client.invalidateQueries({ queryKey: ['me'] });
    },
  });
  return (
    <section>
      <PageHeader title="Usage & budget" />
      <ErrorText error={org.error} />
      {org.data && (
        <>
          <Month org={org.data} />
          <Settings org={org.data} save={save} />
        </>
      )}
      {canCosts && <CostTable />}
      {canPrices && <PriceOverrides />}
    </section>
  );
}

function Month({ org }: { org: Organization }) {
  const s = monthSummary(org);
  return (
    <section className="mb-4 rounded-lg border bg-card p-4 shadow-xs" aria-label="This month">
      <h2>This month</h2>
      <dl className="my-2 grid grid-cols-[max-content_1fr] gap-x-3 gap-y-1 text-sm [&_dt]:text-muted-foreground">
        <dt>Executions</dt>
        <dd data-testid="month-executions">
          {org.monthlyExecutionsUsed} / {org.monthlyExecutionQuota}
          {s.executionsPct !== null && <span className="text-xs"> ({s.executionsPct}%)</span>}
        </dd>
        <dt>Model cost</dt>
        <dd data-testid="month-cost">{formatCost(org.monthlyCost)}</dd>
        <dt>Budget</dt>
        <dd data-testid="month-budget">
          {org.settings.monthlyBudgetUsd === null
            ? 'none'
            : `${formatCost(org.settings.monthlyBudgetUsd)} (${s.budgetPct}% used, ${formatCost(s.remainingUsd)} left)`}
        </dd>
      </dl>
      {s.overBudget && (
        <p className="my-1.5 text-sm font-medium text-destructive" role="alert">
          The budget is spent: model calls stop until next month or a higher budget.
        </p>
      )}
      {org.monthlyResetDate && <p className="text-xs">Resets {formatTime(org.monthlyResetDate)}.</p>}
    </section>
  );
}

function Settings({
  org,
  save,
}: {
  org: Organization;
  save: ReturnType<typeof useMutation<Organization, Error, OrganizationPatch>>;
}) {
  const canBudget = useCan('billing:manage');
  const canNetworks = useCan('organization:update');
  const current = org.settings.monthlyBudgetUsd;
  const [budget, setBudget] = useState(budgetText(current));
  const [problem, setProblem] = useState<string | null>(null);
  const [saved, setSaved] = useState<string | null>(null);
  useEffect(() => setBudget(budgetText(current)), [current]);
  const send = (body: OrganizationPatch, done: string) => {
    setSaved(null);
    save.mutate(body, {
      onSuccess: () => {
        setSaved(done);
        toast.success(done);
      },
    });
  };
  const submit = (e: FormEvent) => {
    e.preventDefault();
    const parsed = parseBudget(budget);
    if ('error' in parsed) return setProblem(parsed.error);
    setProblem(null);
    send(
      { settings: { monthlyBudgetUsd: parsed.value } },
      parsed.value === null ? 'Budget removed.' : 'Budget saved.',
    );
  };
  return (
    <section className="mb-4 rounded-lg border bg-card p-4 shadow-xs" aria-label="Budget and network">
      <h2>Budget and network</h2>
      <form onSubmit={submit} aria-label="Monthly budget">
        <div className="flex flex-wrap items-end gap-3 [&>label]:min-w-32 [&>label]:flex-1">
          <Field>
            Monthly budget (USD; empty for none)
            <Input
              inputMode="decimal"
              value={budget}
              disabled={!canBudget}
              onChange={(e) => setBudget(e.target.value)}
              placeholder="no budget"
            />
          </Field>
          {canBudget && (
            <>
              <Button type="submit" disabled={save.isPending}>
                Save budget
              </Button>
              {current !== null && (
                <Button
                  type="button"
                  variant="outline"
                  disabled={save.isPending}
                  onClick={() => send({ settings: { monthlyBudgetUsd: null } }, 'Budget removed.')}
                >
                  Clear budget
                </Button>
              )}
            </>
          )}
        </div>
      </form>
      <p className="text-xs">
        A budget is a hard stop: once the month's model cost reaches it, runs that call models fail.
      </p>
      <Check>
        <input
          className="size-4 accent-primary"
          type="checkbox"
          checked={org.settings.allowPrivateNetworks}
          disabled={!canNetworks || save.isPending}
          onChange={(e) =>
            send(
              { settings: { allowPrivateNetworks: e.target.checked } },
              e.target.checked ? 'Private networks allowed.' : 'Private networks blocked.',
            )
          }
        />
        Allow private networks (tools and provider base URLs may reach localhost and private addresses)
      </Check>
      {problem && (
        <p className="my-1.5 text-sm font-medium text-destructive" role="alert">
          {problem}
        </p>
      )}
      <ErrorText error={save.error} />
      {saved && (
        <p className="text-xs" role="status" data-testid="settings-saved">
          {saved}
        </p>
      )}
      {!canBudget && !canNetworks && <p className="text-xs">Only admins and owners change these.</p>}
    </section>
  );
}
