import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { type FormEvent, useState } from 'react';
import { call, sdk } from '../../api/client.ts';
import type { ApiKey, Permission } from '../../api/types.ts';
import { useCan, useMe } from '../../app/session.tsx';
import { Button } from '../../ui/button.tsx';
import { ConfirmButton } from '../../ui/confirm.tsx';
import { Check, Field, Input } from '../../ui/form.tsx';
import { formatTime } from '../../ui/format.ts';
import { Empty, ErrorText, PageHeader } from '../../ui/page.tsx';
import { SortTh, Table, Td, Th, useSort } from '../../ui/table.tsx';
import { toast } from '../../ui/toast.tsx';

const KEY_COLUMNS = {
  name: (k: ApiKey) => k.name,
  lastUsed: (k: ApiKey) => k.lastUsedAt,
  created: (k: ApiKey) => k.createdAt,
};

/** API keys: create (the secret is shown once), list, revoke. */
export default function ApiKeysPage() {
  const me = useMe();
  const client = useQueryClient();
  const canManage = useCan('api_key:manage');
  const keys = useQuery({
    queryKey: ['api-keys'],
    queryFn: () => call(sdk.api.GET('/api/v1/api-keys', { params: { query: { limit: 200 } } })),
  });
  const [name, setName] = useState('');
  const [scopes, setScopes] = useState<Permission[]>(
    me.permissions.filter((p) => p.endsWith(':read') || p === 'workflow:execute'),
  );
  const create = useMutation({
    mutationFn: () => call(sdk.api.POST('/api/v1/api-keys', { body: { name, scopes } })),
    onSuccess: (k) => {
      toast.success(`API key ${k.apiKey.name} created: copy it now, it is shown once`);
      setName('');
      void client.invalidateQueries({ queryKey: ['api-keys'] });
    },
  });
  const revoke = useMutation({
    mutationFn: (id: string) => call(sdk.api.DELETE('/api/v1/api-keys/{id}', { params: { path: { id } } })),
    onSuccess: () => {
      toast.success('API key revoked');
      void client.invalidateQueries({ queryKey: ['api-keys'] });
    },
  });
  const submit = (e: FormEvent) => {
    e.preventDefault();
    create.mutate();
  };
  const list = (keys.data?.data ?? []).filter((k) => !k.revokedAt);
  const { rows: keysShown, sort } = useSort(list, KEY_COLUMNS);
  return (
    <section>
      <PageHeader title="API keys" />
      {canManage && (
        <form
          className="mb-4 rounded-lg border bg-card p-4 shadow-xs"
          onSubmit={submit}
          aria-label="Create an API key"
        >
          <Field>
            Name
            <Input
              required
              value={name}
              onChange={(e) => setName(e.target.value)}
              placeholder="ci-pipeline"
            />
          </Field>
          <fieldset className="grid grid-cols-[repeat(auto-fill,minmax(170px,1fr))]">
            <legend>Scopes (what the key may do; at most what you may do)</legend>
            {me.permissions.map((p) => (
              <Check key={p}>
                <input
                  className="size-4 accent-primary"
                  type="checkbox"
                  checked={scopes.includes(p)}
                  onChange={(e) =>
                    setScopes((s) => (e.target.checked ? [...s, p] : s.filter((x) => x !== p)))
                  }
                />
                {p}
              </Check>
            ))}
          </fieldset>
          <ErrorText error={create.error} />
          <Button type="submit" disabled={create.isPending}>
            Create key
          </Button>
        </form>
      )}
      {create.data && (
        <div
          className="mb-4 flex flex-wrap items-center gap-2.5 rounded-lg border border-warning/40 bg-warning/10 p-2.5 [&_code]:rounded [&_code]:bg-card [&_code]:px-1.5 [&_code]:py-1"
          role="status"
        >
          <p>
            <strong>Copy this key now: it is shown only once.</strong> Send it as{' '}
            <code>Authorization: Bearer &lt;key&gt;</code>.
          </p>
          <code data-testid="new-api-key">{create.data.key}</code>
          <Button
            type="button"
            size="sm"
            onClick={() => void navigator.clipboard?.writeText(create.data.key)}
          >
            Copy
          </Button>
        </div>
      )}
      <ErrorText error={keys.error ?? revoke.error} />
      {keys.data && list.length === 0 && (
        <Empty title="No API keys">
          <p>Scripts, CI and other services call the API with a key. Create one above.</p>
        </Empty>
      )}
      {list.length > 0 && (
        <Table>
          <thead>
            <tr>
              <SortTh sort={sort} column="name">
                Name
              </SortTh>
              <Th>Prefix</Th>
              <Th>Scopes</Th>
              <SortTh sort={sort} column="lastUsed">
                Last used
              </SortTh>
              <SortTh sort={sort} column="created">
                Created
              </SortTh>
              <Th />
            </tr>
          </thead>
          <tbody>
            {keysShown.map((k) => (
              <tr key={k.id}>
                <Td>{k.name}</Td>
                <Td>
                  <code>{k.prefix}…</code>
                </Td>
                <Td className="text-xs">{k.scopes.join(', ')}</Td>
                <Td>{formatTime(k.lastUsedAt)}</Td>
                <Td>{formatTime(k.createdAt)}</Td>
                <Td>
                  {canManage && (
                    <ConfirmButton
                      label="Revoke"
                      size="sm"
                      question={`Revoke ${k.name}? Callers using it stop working at once.`}
                      onConfirm={() => revoke.mutate(k.id)}
                    />
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
