import { useQuery } from '@tanstack/react-query';
import { call, sdk } from '../../api/client.ts';
import { formatTime } from '../../ui/format.ts';
import { ErrorText } from '../../ui/page.tsx';

/** Every save of an agent is a version; runs pin the version they started with. */
export function AgentVersions({ agentId, current }: { agentId: string; current: number | undefined }) {
  const q = useQuery({
    queryKey: ['agent-versions', agentId, current],
    queryFn: () => call(sdk.api.GET('/api/v1/agents/{id}/versions', { params: { path: { id: agentId } } })),
  });
  return (
    <section className="mb-4 rounded-lg border bg-card p-4 shadow-xs" aria-label="Versions">
      <h2>Versions</h2>
      <ErrorText error={q.error} />
      <ul className="divide-y [&>li]:py-1">
        {(q.data?.data ?? []).map((v) => (
          <li key={v.id}>
            <strong>{v.version}</strong>{' '}
            <span className="text-xs font-normal text-muted-foreground">{formatTime(v.createdAt)}</span>
            <details>
              <summary>configuration</summary>
              <pre>{JSON.stringify(v.configuration, null, 2)}</pre>
            </details>
          </li>
        ))}
      </ul>
    </section>
  );
}
