import { useQuery } from '@tanstack/react-query';
import { call, sdk } from '../../api/client.ts';
import { ErrorText, Loading } from '../../ui/page.tsx';
import { TraceView } from './TraceView.tsx';

/** A run's trace (GET /runs/:id/trace), refreshed while the run is going, with the run's scores. */
export function RunTrace({
  runId,
  finished,
  version,
}: {
  runId: string;
  finished: boolean;
  version: string;
}) {
  const trace = useQuery({
    queryKey: ['run-trace', runId, version],
    queryFn: () => call(sdk.api.GET('/api/v1/runs/{id}/trace', { params: { path: { id: runId } } })),
    refetchInterval: finished ? false : 2000,
  });
  if (!trace.data) return trace.error ? <ErrorText error={trace.error} /> : <Loading />;
  return <TraceView key={trace.data.traceId} trace={trace.data} scoring={{ runId, finished }} />;
}
