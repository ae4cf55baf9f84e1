import { useQuery } from '@tanstack/react-query';
import { Link } from '@tanstack/react-router';
import { call, sdk } from '../../api/client.ts';

/** The organization's unresolved alerts, shared by every badge on a page (one request). */
function useUnresolved() {
  return useQuery({
    queryKey: ['alerts', 'unresolved-badges'],
    queryFn: () =>
      call(sdk.api.GET('/api/v1/alerts', { params: { query: { status: 'unresolved', limit: 500 } } })),
    refetchInterval: 5000,
  });
}

/** "N open alerts" on an agent or a workflow, linking to the inbox; nothing when there is none. */
export function AlertBadge({ agentId, workflowId }: { agentId?: string; workflowId?: string }) {
  const q = useUnresolved();
  const n = (q.data?.data ?? []).filter(
    (a) => (agentId && a.agentId === agentId) || (workflowId && a.workflowId === workflowId),
  ).length;
  if (!n) return null;
  return (
    <Link
      to="/alerts"
      data-testid="alert-badge"
      className="inline-block rounded-full bg-destructive/10 px-2 py-px text-xs font-semibold text-destructive"
    >
      {n} open alert{n === 1 ? '' : 's'}
    </Link>
  );
}
