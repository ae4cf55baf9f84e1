import { useQuery } from '@tanstack/react-query';
import { Link } from '@tanstack/react-router';
import { call, sdk } from '../../api/client.ts';
import { formatTime } from '../../ui/format.ts';
import { Empty, ErrorText, PageHeader, Status } from '../../ui/page.tsx';
import { Table, Td, Th } from '../../ui/table.tsx';

/** Events received through `POST /api/v1/events`, and the runs each started. */
export default function EventsPage() {
  const events = useQuery({
    queryKey: ['events'],
    queryFn: () => call(sdk.api.GET('/api/v1/events', { params: { query: { limit: 100 } } })),
    refetchInterval: 3000,
  });
  const rows = events.data?.data ?? [];
  return (
    <section>
      <PageHeader title="Events" />
      <ErrorText error={events.error} />
      {events.data && rows.length === 0 && (
        <Empty title="No events received">
          <p>
            Send one with <code>POST /api/v1/events {'{type, source, data, id?}'}</code>; every event trigger
            whose type, source and filter match starts a run.
          </p>
        </Empty>
      )}
      {rows.length > 0 && (
        <Table>
          <thead>
            <tr>
              <Th>Received</Th>
              <Th>Type</Th>
              <Th>Source</Th>
              <Th>Id</Th>
              <Th>Data</Th>
              <Th>Runs started</Th>
            </tr>
          </thead>
          <tbody>
            {rows.map((e) => (
              <tr key={e.id} data-testid={`event-${e.externalId}`}>
                <Td>{formatTime(e.receivedAt)}</Td>
                <Td>{e.type}</Td>
                <Td>{e.source}</Td>
                <Td>
                  <code>{e.externalId}</code>
                </Td>
                <Td>
                  <code className="line-clamp-2 max-w-80 text-xs">{JSON.stringify(e.data)}</code>
                </Td>
                <Td>
                  {e.runs.length === 0 && <span className="text-muted-foreground">none</span>}
                  {e.runs.map((r) => (
                    <span key={`${r.triggerId}-${r.runId}`} className="mr-2 inline-flex items-center gap-1">
                      <Status value={r.status} />
                      {r.runId && (
                        <Link to="/runs/$id" params={{ id: r.runId }}>
                          {r.runId.slice(0, 8)}
                        </Link>
                      )}
                    </span>
                  ))}
                </Td>
              </tr>
            ))}
          </tbody>
        </Table>
      )}
    </section>
  );
}
