import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { type FormEvent, useEffect, useState } from 'react';
import { Bar, BarChart, CartesianGrid, Legend, ResponsiveContainer, Tooltip, XAxis, YAxis } from 'recharts';
import { API, call, sdk } from '../../api/client.ts';
import type { BillingAccount, BillingSettings } from '../../api/types.ts';
import { useCan } from '../../app/session.tsx';
import { Button } from '../../ui/button.tsx';
import { Field, FieldRow, Input, Select } from '../../ui/form.tsx';
import { Empty, ErrorText, PageHeader, Panel, Stats, Status } from '../../ui/page.tsx';
import { Table, Td, Th } from '../../ui/table.tsx';
import { toast } from '../../ui/toast.tsx';
import { amount, dailyPoints, share } from './billing.ts';

const KEY = ['billing'];

/** Billing: the plan, this month's usage against its allowances, usage per day, invoices, settings. */
export default function BillingPage() {
  const account = useQuery({ queryKey: KEY, queryFn: () => call(sdk.api.GET('/api/v1/billing')) });
  const a = account.data;
  return (
    <section>
      <PageHeader title="Billing" />
      <ErrorText error={account.error} />
      {a && (
        <>
          <PlanPanel account={a} />
          <UsageChart account={a} />
          <Invoices />
          <SettingsForm account={a} />
        </>
      )}
    </section>
  );
}

function Allowance({
  label,
  used,
  included,
  testId,
}: {
  label: string;
  used: number;
  included: number | null;
  testId: string;
}) {
  const pct = share(used, included);
  return (
    <div className="mb-3" data-testid={testId}>
      <div className="flex justify-between text-sm">
        <span>{label}</span>
        <span className="tabular-nums">
          {amount(used)} / {amount(included)}
          {pct !== null && ` (${pct}%)`}
        </span>
      </div>
      <div
        className="mt-1 h-2.5 w-full overflow-hidden rounded-full bg-muted"
        role="progressbar"
        aria-label={label}
        aria-valuemin={0}
        aria-valuemax={100}
        aria-valuenow={pct ?? 0}
      >
        <div
          className={pct !== null && pct >= 100 ? 'h-full bg-destructive' : 'h-full bg-primary'}
          style={{ width: `${pct ?? 0}%` }}
        />
      </div>
    </div>
  );
}

function PlanPanel({ account }: { account: BillingAccount }) {
  const client = useQueryClient();
  const canManage = useCan('billing:manage');
  const plans = useQuery({ queryKey: ['plans'], queryFn: () => call(sdk.api.GET('/api/v1/billing/plans')) });
  const [tier, setTier] = useState(account.plan.tier);
  useEffect(() => setTier(account.plan.tier), [account.plan.tier]);
  const change = useMutation({
    mutationFn: (t: typeof tier) => call(sdk.api.POST('/api/v1/billing/plan', { body: { tier: t } })),
    onSuccess: (a) => {
      client.setQueryData(KEY, a);
      void client.invalidateQueries({ queryKey: ['organization'] });
      toast.success(`Plan changed to ${a.plan.name}.`);
    },
  });
  const p = account.plan;
  const u = account.usage;
  return (
    <Panel aria-label="Plan and usage">
      <h2>
        <span data-testid="plan-name">{p.name}</span> plan · ${p.monthlyPrice} a month
      </h2>
      <p className="mb-3 text-xs text-muted-foreground">
        This period: {account.period.start} to {account.period.end}. Runs above the included ones cost $
        {p.executionOveragePrice} each (up to {amount(p.executionCap)}); tokens above the allowance $
        {p.tokenOveragePricePer1k} per 1,000. Resources: {p.resources.cpuLimit} CPU,{' '}
        {p.resources.memoryLimitMb} MB, {p.resources.networkIsolation} network.
      </p>
      <Allowance
        label="Workflow runs"
        used={u.executions.used}
        included={u.executions.included}
        testId="bar-runs"
      />
      <Allowance label="Model tokens" used={u.tokens.used} included={u.tokens.included} testId="bar-tokens" />
      <Allowance label="Seats" used={u.seats.used} included={u.seats.included} testId="bar-seats" />
      <Stats inline>
        <dt>API calls</dt>
        <dd data-testid="api-calls">{amount(u.apiCalls)}</dd>
        <dt>Model cost recorded</dt>
        <dd>${Number(u.modelCost).toFixed(4)}</dd>
        <dt>Invoice so far (before tax)</dt>
        <dd data-testid="estimate">${account.estimate.subtotal}</dd>
      </Stats>
      {canManage && plans.data && (
        <form
          className="mt-3 flex flex-wrap items-end gap-3"
          aria-label="Change plan"
          onSubmit={(e) => {
            e.preventDefault();
            change.mutate(tier);
          }}
        >
          <Field>
            Plan
            <Select
              value={tier}
              onChange={(e) => setTier(plans.data.find((x) => x.tier === e.target.value)?.tier ?? tier)}
            >
              {plans.data.map((x) => (
                <option key={x.tier} value={x.tier}>
                  {x.name} (${x.monthlyPrice}/month, {amount(x.includedExecutions)} runs)
                </option>
              ))}
            </Select>
          </Field>
          <Button type="submit" disabled={tier === p.tier || change.isPending}>
            Change plan
          </Button>
          <p className="basis-full text-xs text-muted-foreground">
            A change applies at once; this month's plan fee is split by day between the plans.
          </p>
          <ErrorText error={change.error} />
        </form>
      )}
    </Panel>
  );
}

function UsageChart({ account }: { account: BillingAccount }) {
  const from = `${account.period.start}T00:00:00Z`;
  const report = useQuery({
    queryKey: ['usage', 'day', from],
    queryFn: () => call(sdk.api.GET('/api/v1/usage', { params: { query: { groupBy: 'day', from } } })),
  });
  const points = dailyPoints(report.data, account.period.start, account.period.end);
  return (
    <Panel aria-label="Usage per day">
      <h2>Usage per day</h2>
      <ErrorText error={report.error} />
      <div className="grid grid-cols-2 gap-3" data-testid="usage-charts">
        <figure>
          <figcaption className="text-sm">Runs</figcaption>
          <ResponsiveContainer width="100%" height={180}>
            <BarChart data={points}>
              <CartesianGrid strokeDasharray="3 3" />
              <XAxis dataKey="label" />
              <YAxis allowDecimals={false} />
              <Tooltip />
              <Legend />
              <Bar dataKey="runs" fill="#1c7ed6" name="runs" isAnimationActive={false} />
              <Bar dataKey="apiCalls" fill="#2f9e44" name="API calls" isAnimationActive={false} />
            </BarChart>
          </ResponsiveContainer>
        </figure>
        <figure>
          <figcaption className="text-sm">Model tokens</figcaption>
          <ResponsiveContainer width="100%" height={180}>
            <BarChart data={points}>
              <CartesianGrid strokeDasharray="3 3" />
              <XAxis dataKey="label" />
              <YAxis />
              <Tooltip />
              <Bar dataKey="tokens" fill="#7048e8" name="tokens" isAnimationActive={false} />
            </BarChart>
          </ResponsiveContainer>
        </figure>
      </div>
    </Panel>
  );
}

function Invoices() {
  const list = useQuery({
    queryKey: ['invoices'],
    queryFn: () => call(sdk.api.GET('/api/v1/billing/invoices')),
  });
  const rows = list.data?.data ?? [];
  return (
    <Panel aria-label="Invoices">
      <h2>Invoices</h2>
      <ErrorText error={list.error} />
      {list.data && rows.length === 0 ? (
        <Empty title="No invoices yet">
          <p>Each month's invoice is made on the 1st of the next month and mailed to the billing email.</p>
        </Empty>
      ) : (
        <Table>
          <thead>
            <tr>
              <Th>Number</Th>
              <Th>Period</Th>
              <Th>Status</Th>
              <Th className="text-right">Total</Th>
              <Th>Due</Th>
              <Th>PDF</Th>
            </tr>
          </thead>
          <tbody>
            {rows.map((i) => (
              <tr key={i.id} data-testid="invoice-row">
                <Td>
                  {i.invoiceNumber}
                  {i.kind === 'credit_note' && (
                    <span className="text-xs text-muted-foreground"> (credit note)</span>
                  )}
                </Td>
                <Td>
                  {i.periodStart} – {i.periodEnd}
                </Td>
                <Td>
                  <Status value={i.status} />
                </Td>
                <Td className="text-right tabular-nums">
                  {i.total} {i.currency}
                </Td>
                <Td>{i.dueDate}</Td>
                <Td>
                  <a
                    className="text-primary underline-offset-4 hover:underline"
                    href={`${API}/billing/invoices/${i.id}/pdf`}
                    download={`${i.invoiceNumber}.pdf`}
                  >
                    Download
                  </a>
                </Td>
              </tr>
            ))}
          </tbody>
        </Table>
      )}
    </Panel>
  );
}

function SettingsForm({ account }: { account: BillingAccount }) {
  const client = useQueryClient();
  const canManage = useCan('billing:manage');
  const addr = account.billingAddress;
  const [form, setForm] = useState({
    billingEmail: account.billingEmail ?? '',
    line1: addr?.line1 ?? '',
    city: addr?.city ?? '',
    postalCode: addr?.postalCode ?? '',
    country: addr?.country ?? '',
    vatId: account.vatId ?? '',
  });
  const save = useMutation({
    mutationFn: (body: BillingSettings) => call(sdk.api.PATCH('/api/v1/billing/settings', { body })),
    onSuccess: (a) => {
      client.setQueryData(KEY, a);
      toast.success('Billing details saved.');
    },
  });
  const set = (k: keyof typeof form) => (e: { target: { value: string } }) =>
    setForm((f) => ({ ...f, [k]: e.target.value }));
  const submit = (e: FormEvent) => {
    e.preventDefault();
    const hasAddress = form.line1 || form.city || form.country;
    save.mutate({
      billingEmail: form.billingEmail.trim() || null,
      billingAddress: hasAddress
        ? {
            line1: form.line1,
            city: form.city,
            country: form.country.trim().toUpperCase(),
            ...(form.postalCode ? { postalCode: form.postalCode } : {}),
          }
        : null,
      vatId: form.vatId.trim().toUpperCase() || null,
    });
  };
  return (
    <Panel aria-label="Billing details">
      <h2>Billing details</h2>
      <form onSubmit={submit} aria-label="Billing details form">
        <FieldRow>
          <Field>
            Billing email
            <Input
              type="email"
              value={form.billingEmail}
              disabled={!canManage}
              onChange={set('billingEmail')}
            />
          </Field>
          <Field>
            VAT id (businesses)
            <Input
              value={form.vatId}
              disabled={!canManage}
              onChange={set('vatId')}
              placeholder="DE123456789"
            />
          </Field>
        </FieldRow>
        <FieldRow>
          <Field>
            Address
            <Input value={form.line1} disabled={!canManage} onChange={set('line1')} />
          </Field>
          <Field>
            City
            <Input value={form.city} disabled={!canManage} onChange={set('city')} />
          </Field>
          <Field>
            Postal code
            <Input value={form.postalCode} disabled={!canManage} onChange={set('postalCode')} />
          </Field>
          <Field>
            Country (2 letters; decides the tax)
            <Input value={form.country} disabled={!canManage} onChange={set('country')} maxLength={2} />
          </Field>
        </FieldRow>
        <ErrorText error={save.error} />
        {canManage && (
          <Button type="submit" className="mt-2" disabled={save.isPending}>
            Save billing details
          </Button>
        )}
      </form>
    </Panel>
  );
}
