import { useQuery } from '@tanstack/react-query';
import { get } from '../../api/client.ts';
import type { Agent, Page } from '../../api/types.ts';
import { Link } from '../../app/router.tsx';
import { Empty, ErrorText, PageHeader, Status } from '../../ui/kit.tsx';

export default function AgentsPage() {
  const q = useQuery({ queryKey: ['agents'], queryFn: () => get<Page<Agent>>('/agents?limit=200') });
  return (
    <section>
      <PageHeader title="Agents">
        <Link to="/agents/new" className="button">
          New agent
        </Link>
      </PageHeader>
      <ErrorText error={q.error} />
      {q.data && q.data.data.length === 0 && (
        <Empty title="No agents yet">
          <p>
            An agent is a model with a prompt. Create one on the built-in simulator (
            <code>simulator:echo</code>) to try it without any provider key, then use it in a workflow.
          </p>
          <Link to="/agents/new" className="button">
            Create your first agent
          </Link>
        </Empty>
      )}
      {q.data && q.data.data.length > 0 && (
        <table>
          <thead>
            <tr>
              <th>Name</th>
              <th>Model</th>
              <th>Version</th>
              <th>Status</th>
              <th>Updated</th>
            </tr>
          </thead>
          <tbody>
            {q.data.data.map((a) => (
              <tr key={a.id}>
                <td>
                  <Link to={`/agents/${a.id}`}>{a.name}</Link>
                </td>
                <td>
                  <code>{a.model}</code>
                </td>
                <td>{a.version}</td>
                <td>
                  <Status value={a.status} />
                </td>
                <td>{new Date(a.updatedAt).toLocaleString()}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}
