import { useInfiniteQuery, useQuery } from '@tanstack/react-query';
import { useState } from 'react';
import { get, qs } from '../../api/client.ts';
import type { AuditLog, Member, Page } from '../../api/types.ts';
import { formatTime } from '../../ui/format.ts';
import { Empty, ErrorText, PageHeader } from '../../ui/kit.tsx';

/** Who changed what, newest first; filter by entity type and action. */
export default function AuditPage() {
  const [entityType, setEntityType] = useState('');
  const [action, setAction] = useState('');
  const q = useInfiniteQuery({
    queryKey: ['audit', entityType, action],
    initialPageParam: undefined as string | undefined,
    queryFn: ({ pageParam }) =>
      get<Page<AuditLog>>(`/audit-logs${qs({ limit: 50, cursor: pageParam, entityType, action })}`),
    getNextPageParam: (last) => last.nextCursor ?? undefined,
  });
  const rows = q.data?.pages.flatMap((p) => p.data) ?? [];
  // Show who by email where the member list is readable (ids otherwise).
  const members = useQuery({ queryKey: ['members'], queryFn: () => get<Page<Member>>('/members?limit=500') });
  const emails = new Map((members.data?.data ?? []).map((m) => [m.userId, m.email]));
  return (
    <section>
      <PageHeader title="Audit log" />
      <form className="filters" aria-label="Filters" onSubmit={(e) => e.preventDefault()}>
        <label>
          Entity type
          <input value={entityType} onChange={(e) => setEntityType(e.target.value)} placeholder="workflow" />
        </label>
        <label>
          Action
          <input value={action} onChange={(e) => setAction(e.target.value)} placeholder="update" />
        </label>
      </form>
      <ErrorText error={q.error} />
      {q.data && rows.length === 0 && (
        <Empty title="No entries">
          <p>
            Every change made through the API or the studio is recorded here, with who made it and from where.
          </p>
        </Empty>
      )}
      {rows.length > 0 && (
        <table>
          <thead>
            <tr>
              <th>When</th>
              <th>Action</th>
              <th>Entity</th>
              <th>By</th>
              <th>Changes</th>
            </tr>
          </thead>
          <tbody>
            {rows.map((r) => (
              <tr key={r.id}>
                <td>{formatTime(r.createdAt)}</td>
                <td>
                  <code>{r.action}</code>
                </td>
                <td>
                  {r.entityType} <span className="hint">{r.entityId?.slice(0, 8)}</span>
                </td>
                <td className="small-text">
                  {r.userId
                    ? (emails.get(r.userId) ?? `user ${r.userId.slice(0, 8)}`)
                    : r.apiKeyId
                      ? `key ${r.apiKeyId.slice(0, 8)}`
                      : 'system'}
                  {r.ipAddress && <div className="hint">{r.ipAddress}</div>}
                </td>
                <td>
                  {r.changes && (
                    <details>
                      <summary>show</summary>
                      <pre>{JSON.stringify(r.changes, null, 2)}</pre>
                    </details>
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {q.hasNextPage && (
        <button type="button" onClick={() => void q.fetchNextPage()} disabled={q.isFetchingNextPage}>
          Load more
        </button>
      )}
    </section>
  );
}
