import { useQuery } from '@tanstack/react-query';
import { Link } from '@tanstack/react-router';
import { call, sdk } from '../../api/client.ts';
import { ErrorText, Loading, PageHeader } from '../../ui/page.tsx';
import { TraceView } from './TraceView.tsx';

/** Any trace by id (GET /traces/:traceId): ingested spans and the runs that joined the trace. */
export default function TracePage({ traceId }: { traceId: string }) {
  const trace = useQuery({
    queryKey: ['trace', traceId],
    queryFn: () => call(sdk.api.GET('/api/v1/traces/{traceId}', { params: { path: { traceId } } })),
  });
  return (
    <section>
      <PageHeader title={`Trace ${traceId.slice(0, 12)}`}>
        {trace.data?.runId && (
          <Link to="/runs/$id" params={{ id: trace.data.runId }} className="text-sm font-normal">
            run {trace.data.runId.slice(0, 8)}
          </Link>
        )}
      </PageHeader>
      {trace.data ? (
        <TraceView trace={trace.data} />
      ) : trace.error ? (
        <ErrorText error={trace.error} />
      ) : (
        <Loading />
      )}
    </section>
  );
}
