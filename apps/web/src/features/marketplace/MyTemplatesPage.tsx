import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { call, sdk } from '../../api/client.ts';
import { Button } from '../../ui/button.tsx';
import { Field, FieldRow, Input, Select } from '../../ui/form.tsx';
import { Empty, ErrorText, PageHeader, Status } from '../../ui/page.tsx';
import { Table, Td, Th } from '../../ui/table.tsx';
import { toast } from '../../ui/toast.tsx';
import type { Purchase, Template } from './types.ts';

/** Templates of this organization: package an agent, publish at a price; sales and payouts. */
export default function MyTemplatesPage() {
  const client = useQueryClient();
  const templates = useQuery({
    queryKey: ['templates'],
    queryFn: () => call(sdk.api.GET('/api/v1/templates', { params: { query: { limit: 200 } } })),
  });
  const refresh = () => {
    void client.invalidateQueries({ queryKey: ['templates'] });
    void client.invalidateQueries({ queryKey: ['sales'] });
  };
  return (
    <section>
      <PageHeader title="My templates" />
      <FromAgent onDone={refresh} />
      <ErrorText error={templates.error} />
      {templates.data && templates.data.data.length === 0 && (
        <Empty title="No templates yet">
          <p>Package one of your agents as a template above, then publish it on the marketplace.</p>
        </Empty>
      )}
      {templates.data && templates.data.data.length > 0 && (
        <Table>
          <thead>
            <tr>
              <Th>Template</Th>
              <Th>Version</Th>
              <Th>Listing</Th>
              <Th>Uses</Th>
              <Th>Rating</Th>
              <Th>Publish</Th>
            </tr>
          </thead>
          <tbody>
            {templates.data.data.map((t) => (
              <TemplateRow key={t.id} t={t} onDone={refresh} />
            ))}
          </tbody>
        </Table>
      )}
      <SalesSection />
    </section>
  );
}

function FromAgent({ onDone }: { onDone: () => void }) {
  const agents = useQuery({
    queryKey: ['agents'],
    queryFn: () => call(sdk.api.GET('/api/v1/agents', { params: { query: { limit: 200 } } })),
  });
  const [agentId, setAgentId] = useState('');
  const [allowed, setAllowed] = useState('');
  const [capabilities, setCapabilities] = useState('');
  const list = (s: string) =>
    s
      .split(',')
      .map((x) => x.trim())
      .filter(Boolean);
  const make = useMutation({
    mutationFn: () =>
      call(
        sdk.api.POST('/api/v1/templates/from-agent', {
          body: { agentId, allowedIntegrations: list(allowed), capabilities: list(capabilities) },
        }),
      ),
    onSuccess: (t) => {
      toast.success(`Template ${t.name} created`);
      onDone();
    },
  });
  return (
    <form
      className="mb-4 rounded-lg border bg-card p-4"
      onSubmit={(e) => {
        e.preventDefault();
        make.mutate();
      }}
    >
      <h2 className="mb-2 text-base font-semibold">Package an agent as a template</h2>
      <FieldRow>
        <Field>
          Agent
          <Select aria-label="Agent" value={agentId} onChange={(e) => setAgentId(e.target.value)} required>
            <option value="">Choose an agent…</option>
            {agents.data?.data.map((a) => (
              <option key={a.id} value={a.id}>
                {a.name}
              </option>
            ))}
          </Select>
        </Field>
        <Field>
          Capabilities (comma-separated)
          <Input value={capabilities} onChange={(e) => setCapabilities(e.target.value)} />
        </Field>
        <Field>
          Allowed providers (empty: any)
          <Input
            value={allowed}
            onChange={(e) => setAllowed(e.target.value)}
            placeholder="openai, anthropic"
          />
        </Field>
        <Button type="submit" disabled={!agentId || make.isPending}>
          Make template
        </Button>
      </FieldRow>
      <ErrorText error={make.error} />
    </form>
  );
}

function TemplateRow({ t, onDone }: { t: Template; onDone: () => void }) {
  const [price, setPrice] = useState(t.listing?.price ?? t.price ?? '0');
  const publish = useMutation({
    mutationFn: () =>
      call(
        sdk.api.POST('/api/v1/templates/{id}/publish', { params: { path: { id: t.id } }, body: { price } }),
      ),
    onSuccess: (l) => {
      if (l.status === 'published') toast.success(`${t.name} published`);
      else toast.error(`Not published: ${l.lastError}`);
      onDone();
    },
  });
  const unpublish = useMutation({
    mutationFn: () =>
      call(sdk.api.POST('/api/v1/templates/{id}/unpublish', { params: { path: { id: t.id } } })),
    onSuccess: onDone,
  });
  const bought = t.sourceListingId !== null;
  return (
    <tr data-testid={`template-${t.name}`}>
      <Td>
        {t.name}
        {bought && <span className="ml-2 text-xs text-muted-foreground">(bought)</span>}
      </Td>
      <Td>{t.version}</Td>
      <Td>
        {t.listing ? (
          <>
            <Status value={t.listing.status} /> {t.listing.price} USD · v{t.listing.templateVersion}
          </>
        ) : (
          '—'
        )}
      </Td>
      <Td>{t.usageCount}</Td>
      <Td>{t.rating}</Td>
      <Td>
        {!bought && (
          <form
            className="flex items-center gap-2"
            onSubmit={(e) => {
              e.preventDefault();
              publish.mutate();
            }}
          >
            <Input
              className="w-24"
              aria-label={`Price of ${t.name} in USD`}
              value={price}
              onChange={(e) => setPrice(e.target.value)}
              inputMode="decimal"
            />
            <Button type="submit" size="sm" disabled={publish.isPending}>
              Publish
            </Button>
            {t.listing?.status === 'published' && (
              <Button type="button" size="sm" variant="outline" onClick={() => unpublish.mutate()}>
                Unpublish
              </Button>
            )}
          </form>
        )}
        <ErrorText error={publish.error ?? unpublish.error} />
      </Td>
    </tr>
  );
}

function SalesSection() {
  const client = useQueryClient();
  const sales = useQuery({
    queryKey: ['sales'],
    queryFn: () => call(sdk.api.GET('/api/v1/marketplace/sales')),
  });
  const act = useMutation({
    mutationFn: ({ p, action }: { p: Purchase; action: 'confirm' | 'refund' }) =>
      call(
        action === 'confirm'
          ? sdk.api.POST('/api/v1/marketplace/sales/{id}/confirm', { params: { path: { id: p.id } } })
          : sdk.api.POST('/api/v1/marketplace/sales/{id}/refund', { params: { path: { id: p.id } } }),
      ),
    onSuccess: () => void client.invalidateQueries({ queryKey: ['sales'] }),
  });
  const t = sales.data?.totals;
  return (
    <section className="mt-6">
      <h2 className="mb-2 text-lg font-semibold">Sales and payouts</h2>
      <ErrorText error={sales.error ?? act.error} />
      {t && (
        <dl className="mb-3 grid grid-cols-3 gap-3 text-sm sm:grid-cols-6" data-testid="sales-totals">
          {(
            [
              ['Sales', String(t.sales)],
              ['Gross', t.gross],
              ['Platform fees (30%)', t.platformFees],
              ['Payouts', t.payouts],
              ['Pending payouts', t.pendingPayouts],
              ['Refunded', t.refunded],
            ] as const
          ).map(([k, v]) => (
            <div key={k} className="rounded-md border bg-card p-2">
              <dt className="text-xs text-muted-foreground">{k}</dt>
              <dd className="font-semibold" data-testid={`total-${k}`}>
                {v}
              </dd>
            </div>
          ))}
        </dl>
      )}
      {sales.data && sales.data.data.length > 0 && (
        <Table>
          <thead>
            <tr>
              <Th>Template</Th>
              <Th>Price</Th>
              <Th>Fee</Th>
              <Th>Payout</Th>
              <Th>Status</Th>
              <Th>Date</Th>
              <Th>Action</Th>
            </tr>
          </thead>
          <tbody>
            {sales.data.data.map((p) => (
              <tr key={p.id}>
                <Td>{p.templateName}</Td>
                <Td>{p.price}</Td>
                <Td>{p.platformFee}</Td>
                <Td>{p.sellerPayout}</Td>
                <Td>
                  <Status value={p.paymentStatus} />
                </Td>
                <Td>{new Date(p.purchasedAt).toLocaleString()}</Td>
                <Td>
                  {p.paymentStatus === 'pending' && (
                    <Button size="sm" onClick={() => act.mutate({ p, action: 'confirm' })}>
                      Confirm payment
                    </Button>
                  )}
                  {p.paymentStatus === 'completed' && Number(p.price) > 0 && (
                    <Button size="sm" variant="outline" onClick={() => act.mutate({ p, action: 'refund' })}>
                      Refund
                    </Button>
                  )}
                </Td>
              </tr>
            ))}
          </tbody>
        </Table>
      )}
    </section>
  );
}
