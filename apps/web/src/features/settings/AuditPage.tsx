import { useInfiniteQuery, useQuery } from '@tanstack/react-query';
import { useState } from 'react';
import { call, sdk } from '../../api/client.ts';
import type { AuditLog } from '../../api/types.ts';
import { Button } from '../../ui/button.tsx';
import { Field, Input } from '../../ui/form.tsx';
import { formatTime } from '../../ui/format.ts';
import { Empty, ErrorText, PageHeader } from '../../ui/page.tsx';
import { SortTh, Table, Td, Th, useSort } from '../../ui/table.tsx';
import { meaningfulChanges } from './audit.ts';

const AUDIT_COLUMNS = {
  when: (r: AuditLog) => r.createdAt,
  action: (r: AuditLog) => r.action,
  entity: (r: AuditLog) => r.entityType,
};

/** Who changed what, newest first; filter by entity type and action. */
export default function AuditPage() {
  const [entityType, setEntityType] = useState('');
  const [action, setAction] = useState('');
  const q = useInfiniteQuery({
    queryKey: ['audit', entityType, action],
    initialPageParam: undefined as string | undefined,
    queryFn: ({ pageParam }) =>
      call(
        sdk.api.GET('/api/v1/audit-logs', {
          params: {
            query: {
              limit: 50,
              cursor: pageParam,
              entityType: entityType || undefined,
              action: action || undefined,
            },
          },
        }),
      ),
    getNextPageParam: (last) => last.nextCursor ?? undefined,
  });
  const rows = q.data?.pages.flatMap((p) => p.data) ?? [];
  // Show who by email where the member list is readable (ids otherwise).
  const members = useQuery({ queryKey: ['members'], queryFn: () => call(sdk.api.GET('/api/v1/members')) });
  const emails = new Map((members.data?.data ?? []).map((m) => [m.userId, m.email]));
  const { rows: auditShown, sort } = useSort(rows, AUDIT_COLUMNS);
  return (
    <section>
      <PageHeader title="Audit log" />
      <form
        className="mb-3 flex flex-wrap gap-3 [&>label]:min-w-44"
        aria-label="Filters"
        onSubmit={(e) => e.preventDefault()}
      >
        <Field>
          Entity type
          <Input value={entityType} onChange={(e) => setEntityType(e.target.value)} placeholder="workflow" />
        </Field>
        <Field>
          Action
          <Input value={action} onChange={(e) => setAction(e.target.value)} placeholder="update" />
        </Field>
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
        <Table>
          <thead>
            <tr>
              <SortTh sort={sort} column="when">
                When
              </SortTh>
              <SortTh sort={sort} column="action">
                Action
              </SortTh>
              <SortTh sort={sort} column="entity">
                Entity
              </SortTh>
              <Th>By</Th>
              <Th>Changes</Th>
            </tr>
          </thead>
          <tbody>
            {auditShown.map((r) => (
              <tr key={r.id}>
                <Td>{formatTime(r.createdAt)}</Td>
                <Td>
                  <code>{r.action}</code>
                </Td>
                <Td>
                  {r.entityType}{' '}
                  <span className="text-xs font-normal text-muted-foreground">{r.entityId?.slice(0, 8)}</span>
                </Td>
                <Td className="text-xs">
                  {r.userId
                    ? (emails.get(r.userId) ?? `user ${r.userId.slice(0, 8)}`)
                    : r.apiKeyId
                      ? `key ${r.apiKeyId.slice(0, 8)}`
                      : 'system'}
                  {r.ipAddress && (
                    <div className="text-xs font-normal text-muted-foreground">{r.ipAddress}</div>
                  )}
                </Td>
                <Td>
                  {meaningfulChanges(r.changes) && (
                    <details>
                      <summary>show</summary>
                      <pre>{JSON.stringify(meaningfulChanges(r.changes), null, 2)}</pre>
                    </details>
                  )}
                </Td>
              </tr>
            ))}
          </tbody>
        </Table>
      )}
      {q.hasNextPage && (
        <Button type="button" onClick={() => void q.fetchNextPage()} disabled={q.isFetchingNextPage}>
          Load more
        </Button>
      )}
    </section>
  );
}
