import { useQuery } from '@tanstack/react-query';
import { Link } from '@tanstack/react-router';
import { call, sdk } from '../../api/client.ts';
import type { Agent } from '../../api/types.ts';
import { buttonVariants } from '../../ui/button.tsx';
import { Empty, ErrorText, PageHeader, Status } from '../../ui/page.tsx';
import { SortTh, Table, Td, useSort } from '../../ui/table.tsx';
import { AlertBadge } from '../alerts/AlertBadge.tsx';

const AGENTS_COLUMNS = {
  name: (a: Agent) => a.name,
  model: (a: Agent) => a.model,
  version: (a: Agent) => a.version,
  status: (a: Agent) => a.status,
  updated: (a: Agent) => a.updatedAt,
};

export default function AgentsPage() {
  const q = useQuery({
    queryKey: ['agents'],
    queryFn: () => call(sdk.api.GET('/api/v1/agents', { params: { query: { limit: 200 } } })),
  });
  const { rows: agents, sort } = useSort(q.data?.data ?? [], AGENTS_COLUMNS);
  return (
    <section>
      <PageHeader title="Agents">
        <Link to="/agents/$id" params={{ id: 'new' }} className={buttonVariants()}>
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
          <Link to="/agents/$id" params={{ id: 'new' }} className={buttonVariants()}>
            Create your first agent
          </Link>
        </Empty>
      )}
      {q.data && q.data.data.length > 0 && (
        <Table>
          <thead>
            <tr>
              <SortTh sort={sort} column="name">
                Name
              </SortTh>
              <SortTh sort={sort} column="model">
                Model
              </SortTh>
              <SortTh sort={sort} column="version">
                Version
              </SortTh>
              <SortTh sort={sort} column="status">
                Status
              </SortTh>
              <SortTh sort={sort} column="updated">
                Updated
              </SortTh>
            </tr>
          </thead>
          <tbody>
            {agents.map((a) => (
              <tr key={a.id}>
                <Td>
                  <Link to="/agents/$id" params={{ id: a.id }}>
                    {a.name}
                  </Link>{' '}
                  <AlertBadge agentId={a.id} />
                </Td>
                <Td>
                  <code>{a.model}</code>
                </Td>
                <Td>{a.version}</Td>
                <Td>
                  <Status value={a.status} />
                </Td>
                <Td>{new Date(a.updatedAt).toLocaleString()}</Td>
              </tr>
            ))}
          </tbody>
        </Table>
      )}
    </section>
  );
}
