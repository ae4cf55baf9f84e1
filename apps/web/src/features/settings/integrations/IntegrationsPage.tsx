import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { call, sdk } from '../../../api/client.ts';
import type { Integration, IntegrationTestResult, Page } from '../../../api/types.ts';
import { useCan } from '../../../app/session.tsx';
import { Button } from '../../../ui/button.tsx';
import { ConfirmButton } from '../../../ui/confirm.tsx';
import { Modal } from '../../../ui/dialog.tsx';
import { formatCost, formatDuration, formatTime, formatTokens } from '../../../ui/format.ts';
import { Empty, ErrorText, PageHeader, Status } from '../../../ui/page.tsx';
import { Table, Td, Th } from '../../../ui/table.tsx';
import { toast } from '../../../ui/toast.tsx';
import { IntegrationFormView } from './IntegrationForm.tsx';
import {
  createBody,
  emptyForm,
  formOf,
  type IntegrationForm,
  providerLabel,
  statusWords,
  updateBody,
} from './integrations.ts';

const KEY = ['integrations'];

/** Provider integrations: the organization's model provider keys, their status and what they cost. */
export default function IntegrationsPage() {
  const client = useQueryClient();
  const canManage = useCan('integration:manage');
  const list = useQuery({
    queryKey: KEY,
    queryFn: () => call(sdk.api.GET('/api/v1/integrations', { params: { query: { limit: 500 } } })),
  });
  const [adding, setAdding] = useState(false);
  const [editing, setEditing] = useState<Integration | null>(null);
  const [results, setResults] = useState<Record<string, IntegrationTestResult>>({});
  const refresh = () => client.invalidateQueries({ queryKey: KEY });

  const create = useMutation({
    mutationFn: (form: IntegrationForm) =>
      call(sdk.api.POST('/api/v1/integrations', { body: createBody(form) })),
    onSuccess: (i) => {
      toast.success(`Integration ${i.name} added: press Test to check it`);
      setAdding(false);
      void refresh();
    },
  });
  const update = useMutation({
    mutationFn: ({ before, form }: { before: Integration; form: IntegrationForm }) => {
      const body = updateBody(before, form);
      return body
        ? call(sdk.api.PATCH('/api/v1/integrations/{id}', { params: { path: { id: before.id } }, body }))
        : Promise.resolve(before);
    },
    onSuccess: (i) => {
      toast.success(`Integration ${i.name} saved`);
      setEditing(null);
      void refresh();
    },
  });
  const remove = useMutation({
    mutationFn: (id: string) =>
      call(sdk.api.DELETE('/api/v1/integrations/{id}', { params: { path: { id } } })),
    onSuccess: () => {
      toast.success('Integration deleted');
      void refresh();
    },
  });
  const test = useMutation({
    mutationFn: (id: string) =>
      call(sdk.api.POST('/api/v1/integrations/{id}/test', { params: { path: { id } }, body: {} })),
    onSuccess: (result) => {
      setResults((r) => ({ ...r, [result.integration.id]: result }));
      client.setQueryData<Page<Integration>>(KEY, (old) =>
        old
          ? { ...old, data: old.data.map((i) => (i.id === result.integration.id ? result.integration : i)) }
          : old,
      );
      void refresh();
    },
  });

  const rows = list.data?.data ?? [];
  return (
    <section>
      <PageHeader title="Provider integrations">
        {canManage && !adding && (
          <Button type="button" onClick={() => setAdding(true)}>
            Add integration
          </Button>
        )}
      </PageHeader>
      <p className="text-xs">
        Agents call models through the organization's provider keys. Keys are encrypted and never shown again:
        only a hint of each remains.
        {!canManage && ' You can look but not change them (ask an admin).'}
      </p>
      {adding && (
        <IntegrationFormView
          initial={emptyForm()}
          pending={create.isPending}
          error={create.error}
          submitLabel="Add integration"
          onSubmit={(form) => create.mutate(form)}
          onCancel={() => {
            setAdding(false);
            create.reset();
          }}
        />
      )}
      <ErrorText error={list.error ?? remove.error ?? test.error} />
      {list.data && rows.length === 0 && !adding && (
        <Empty title="No provider integrations yet">
          <p>
            Add one to run agents on OpenAI, Anthropic, Google, a local Ollama or any OpenAI-compatible
            server. Simulator models (<code>simulator:echo</code>) need none: you can try the studio without
            any key.
          </p>
          {canManage && (
            <Button type="button" onClick={() => setAdding(true)}>
              Add your first integration
            </Button>
          )}
        </Empty>
      )}
      {rows.length > 0 && (
        <Table aria-label="Integrations">
          <thead>
            <tr>
              <Th>Provider</Th>
              <Th>Name</Th>
              <Th>Status</Th>
              <Th>Key</Th>
              <Th>Requests</Th>
              <Th>Tokens</Th>
              <Th>Cost</Th>
              <Th />
            </tr>
          </thead>
          <tbody>
            {rows.map((i) => {
              const result = results[i.id];
              return (
                <tr key={i.id} data-testid={`integration-${i.name}`}>
                  <Td>
                    {providerLabel(i.provider)}
                    {i.isDefault && <span className="text-xs"> (default)</span>}
                  </Td>
                  <Td>{i.name}</Td>
                  <Td>
                    <Status value={i.status} />
                    <div className="text-xs" data-testid="integration-status-words">
                      {statusWords(i)}
                    </div>
                    {i.lastTestedAt && <div className="text-xs">tested {formatTime(i.lastTestedAt)}</div>}
                    {/* a failed test's reason is already the status words above: said once */}
                    {result && (result.ok || i.status !== 'error') && (
                      <div className="text-xs" role="status" data-testid="integration-test-result">
                        {result.ok
                          ? `Test passed: ${result.model ?? 'model'} answered in ${formatDuration(result.latencyMs)}.`
                          : `Test failed: ${result.error?.message ?? 'no answer'}`}
                      </div>
                    )}
                  </Td>
                  <Td>
                    {i.credentialHint ? (
                      <code className="whitespace-nowrap">{i.credentialHint}</code>
                    ) : (
                      'none'
                    )}
                  </Td>
                  <Td>{i.usage.requests}</Td>
                  <Td>{formatTokens(i.usage.totalTokens)}</Td>
                  <Td>{formatCost(Number(i.usage.costUsd))}</Td>
                  <Td>
                    {canManage && (
                      <div className="flex flex-wrap items-center justify-end gap-2">
                        <Button
                          type="button"
                          size="sm"
                          disabled={test.isPending && test.variables === i.id}
                          onClick={() => test.mutate(i.id)}
                        >
                          {test.isPending && test.variables === i.id ? 'Testing…' : 'Test'}
                        </Button>
                        <Button type="button" size="sm" onClick={() => setEditing(i)}>
                          Edit
                        </Button>
                        <ConfirmButton
                          label="Delete"
                          size="sm"
                          question={`Delete ${i.name}? Agents that name it fail their next call.`}
                          onConfirm={() => remove.mutate(i.id)}
                        />
                      </div>
                    )}
                  </Td>
                </tr>
              );
            })}
          </tbody>
        </Table>
      )}
      {editing && (
        <Modal
          title={`Edit ${editing.name}`}
          onClose={() => {
            setEditing(null);
            update.reset();
          }}
        >
          <IntegrationFormView
            initial={formOf(editing)}
            editing={{ credentialHint: editing.credentialHint }}
            pending={update.isPending}
            error={update.error}
            submitLabel="Save"
            onSubmit={(form) => update.mutate({ before: editing, form })}
          />
        </Modal>
      )}
    </section>
  );
}
