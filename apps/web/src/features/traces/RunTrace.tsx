import { useQuery } from '@tanstack/react-query';
import { get } from '../../api/client.ts';
import type { Trace } from '../../api/types.ts';
import { ErrorText, Loading } from '../../ui/page.tsx';
import { TraceView } from './TraceView.tsx';

/** A run's trace (GET /runs/:id/trace), refreshed while the run is going. */
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
    queryFn: () => get<Trace>(`/runs/${runId}/trace`),
    refetchInterval: finished ? false : 2000,
  });
  if (!trace.data) return trace.error ? <ErrorText error={trace.error} /> : <Loading />;
  return <TraceView key={trace.data.traceId} trace={trace.data} />;
}
