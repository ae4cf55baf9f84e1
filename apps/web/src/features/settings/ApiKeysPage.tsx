import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { type FormEvent, useState } from 'react';
import { del, get, post } from '../../api/client.ts';
import type { ApiKey, CreatedApiKey, Page, Permission } from '../../api/types.ts';
import { useCan, useMe } from '../../app/session.tsx';
import { formatTime } from '../../ui/format.ts';
import { Empty, ErrorText, PageHeader } from '../../ui/kit.tsx';

/** API keys: create (the secret is shown once), list, revoke. */
export default function ApiKeysPage() {
  const me = useMe();
  const client = useQueryClient();
  const canManage = useCan('api_key:manage');
  const keys = useQuery({ queryKey: ['api-keys'], queryFn: () => get<Page<ApiKey>>('/api-keys?limit=200') });
  const [name, setName] = useState('');
  const [scopes, setScopes] = useState<Permission[]>(
    me.permissions.filter((p) => p.endsWith(':read') || p === 'workflow:execute'),
  );
  const create = useMutation({
    mutationFn: () => post<CreatedApiKey>('/api-keys', { name, scopes }),
    onSuccess: () => {
      setName('');
      void client.invalidateQueries({ queryKey: ['api-keys'] });
    },
  });
  const revoke = useMutation({
    mutationFn: (id: string) => del(`/api-keys/${id}`),
    onSuccess: () => void client.invalidateQueries({ queryKey: ['api-keys'] }),
  });
  const submit = (e: FormEvent) => {
    e.preventDefault();
    create.mutate();
  };
  const list = (keys.data?.data ?? []).filter((k) => !k.revokedAt);
  return (
    <section>
      <PageHeader title="API keys" />
      {canManage && (
        <form className="panel" onSubmit={submit} aria-label="Create an API key">
          <label>
            Name
            <input
              required
              value={name}
              onChange={(e) => setName(e.target.value)}
              placeholder="ci-pipeline"
            />
          </label>
          <fieldset className="scopes">
            <legend>Scopes (what the key may do; at most what you may do)</legend>
            {me.permissions.map((p) => (
              <label key={p} className="check">
                <input
                  type="checkbox"
                  checked={scopes.includes(p)}
                  onChange={(e) =>
                    setScopes((s) => (e.target.checked ? [...s, p] : s.filter((x) => x !== p)))
                  }
                />
                {p}
              </label>
            ))}
          </fieldset>
          <ErrorText error={create.error} />
          <button type="submit" disabled={create.isPending}>
            Create key
          </button>
        </form>
      )}
      {create.data && (
        <div className="secret" role="status">
          <p>
            <strong>Copy this key now: it is shown only once.</strong> Send it as{' '}
            <code>Authorization: Bearer &lt;key&gt;</code>.
          </p>
          <code data-testid="new-api-key">{create.data.key}</code>
          <button
            type="button"
            className="small"
            onClick={() => void navigator.clipboard?.writeText(create.data.key)}
          >
            Copy
          </button>
        </div>
      )}
      <ErrorText error={keys.error ?? revoke.error} />
      {keys.data && list.length === 0 && (
        <Empty title="No API keys">
          <p>Scripts, CI and other services call the API with a key. Create one above.</p>
        </Empty>
      )}
      {list.length > 0 && (
        <table>
          <thead>
            <tr>
              <th>Name</th>
              <th>Prefix</th>
              <th>Scopes</th>
              <th>Last used</th>
              <th>Created</th>
              <th />
            </tr>
          </thead>
          <tbody>
            {list.map((k) => (
              <tr key={k.id}>
                <td>{k.name}</td>
                <td>
                  <code>{k.prefix}…</code>
                </td>
                <td className="small-text">{k.scopes.join(', ')}</td>
                <td>{formatTime(k.lastUsedAt)}</td>
                <td>{formatTime(k.createdAt)}</td>
                <td>
                  {canManage && (
                    <button
                      type="button"
                      className="small danger"
                      onClick={() => {
                        if (window.confirm(`Revoke ${k.name}? Callers using it stop working at once.`))
                          revoke.mutate(k.id);
                      }}
                    >
                      Revoke
                    </button>
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}
