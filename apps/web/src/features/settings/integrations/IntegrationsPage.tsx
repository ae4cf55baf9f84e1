import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { del, get, patch, post } from '../../../api/client.ts';
import type { Integration, IntegrationTestResult, Page } from '../../../api/types.ts';
import { useCan } from '../../../app/session.tsx';
import { formatCost, formatDuration, formatTime, formatTokens } from '../../../ui/format.ts';
import { Empty, ErrorText, Modal, PageHeader, Status } from '../../../ui/kit.tsx';
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
  const list = useQuery({ queryKey: KEY, queryFn: () => get<Page<Integration>>('/integrations?limit=500') });
  const [adding, setAdding] = useState(false);
  const [editing, setEditing] = useState<Integration | null>(null);
  const [results, setResults] = useState<Record<string, IntegrationTestResult>>({});
  const refresh = () => client.invalidateQueries({ queryKey: KEY });

  const create = useMutation({
    mutationFn: (form: IntegrationForm) => post<Integration>('/integrations', createBody(form)),
    onSuccess: () => {
      setAdding(false);
      void refresh();
    },
  });
  const update = useMutation({
    mutationFn: ({ before, form }: { before: Integration; form: IntegrationForm }) => {
      const body = updateBody(before, form);
      return body ? patch<Integration>(`/integrations/${before.id}`, body) : Promise.resolve(before);
    },
    onSuccess: () => {
      setEditing(null);
      void refresh();
    },
  });
  const remove = useMutation({
    mutationFn: (id: string) => del(`/integrations/${id}`),
    onSuccess: () => void refresh(),
  });
  const test = useMutation({
    mutationFn: (id: string) => post<IntegrationTestResult>(`/integrations/${id}/test`, {}),
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
          <button type="button" onClick={() => setAdding(true)}>
            Add integration
          </button>
        )}
      </PageHeader>
      <p className="small-text">
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
            <button type="button" onClick={() => setAdding(true)}>
              Add your first integration
            </button>
          )}
        </Empty>
      )}
      {rows.length > 0 && (
        <table aria-label="Integrations">
          <thead>
            <tr>
              <th>Provider</th>
              <th>Name</th>
              <th>Status</th>
              <th>Key</th>
              <th>Requests</th>
              <th>Tokens</th>
              <th>Cost</th>
              <th />
            </tr>
          </thead>
          <tbody>
            {rows.map((i) => {
              const result = results[i.id];
              return (
                <tr key={i.id} data-testid={`integration-${i.name}`}>
                  <td>
                    {providerLabel(i.provider)}
                    {i.isDefault && <span className="small-text"> (default)</span>}
                  </td>
                  <td>{i.name}</td>
                  <td>
                    <Status value={i.status} />
                    <div className="small-text" data-testid="integration-status-words">
                      {statusWords(i)}
                    </div>
                    {i.lastTestedAt && <div className="small-text">tested {formatTime(i.lastTestedAt)}</div>}
                    {result && (
                      <div className="small-text" role="status" data-testid="integration-test-result">
                        {result.ok
                          ? `Test passed: ${result.model ?? 'model'} answered in ${formatDuration(result.latencyMs)}.`
                          : `Test failed: ${result.error?.message ?? 'no answer'}`}
                      </div>
                    )}
                  </td>
                  <td>{i.credentialHint ? <code className="nowrap">{i.credentialHint}</code> : 'none'}</td>
                  <td>{i.usage.requests}</td>
                  <td>{formatTokens(i.usage.totalTokens)}</td>
                  <td>{formatCost(Number(i.usage.costUsd))}</td>
                  <td>
                    {canManage && (
                      <div className="actions">
                        <button
                          type="button"
                          className="small"
                          disabled={test.isPending && test.variables === i.id}
                          onClick={() => test.mutate(i.id)}
                        >
                          {test.isPending && test.variables === i.id ? 'Testing…' : 'Test'}
                        </button>
                        <button type="button" className="small" onClick={() => setEditing(i)}>
                          Edit
                        </button>
                        <button
                          type="button"
                          className="small danger"
                          onClick={() => {
                            if (window.confirm(`Delete ${i.name}? Agents that name it fail their next call.`))
                              remove.mutate(i.id);
                          }}
                        >
                          Delete
                        </button>
                      </div>
                    )}
                  </td>
                </tr>
              );
            })}
          </tbody>
        </table>
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
