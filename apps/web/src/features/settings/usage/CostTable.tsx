import { useQuery } from '@tanstack/react-query';
import { useState } from 'react';
import { get, qs } from '../../../api/client.ts';
import type { CostReport } from '../../../api/types.ts';
import { formatCost, formatTokens } from '../../../ui/format.ts';
import { Empty, ErrorText } from '../../../ui/kit.tsx';
import { COST_GROUPS, groupLabel } from './usage.ts';

type GroupBy = CostReport['groupBy'];

/** What model calls cost over the last 30 days, grouped by workflow, agent, model or day. */
export function CostTable() {
  const [groupBy, setGroupBy] = useState<GroupBy>('workflow');
  const report = useQuery({
    queryKey: ['costs', groupBy],
    queryFn: () => get<CostReport>(`/costs${qs({ groupBy })}`),
  });
  const r = report.data;
  return (
    <section className="panel" aria-label="Costs">
      <h2>Costs, last 30 days</h2>
      <div className="tabs" role="tablist" aria-label="Group by">
        {COST_GROUPS.map((g) => (
          <button
            key={g}
            type="button"
            role="tab"
            aria-selected={groupBy === g}
            onClick={() => setGroupBy(g)}
          >
            by {g}
          </button>
        ))}
      </div>
      <ErrorText error={report.error} />
      {r && r.groups.length === 0 && (
        <Empty title="No model calls in the last 30 days">
          <p>Run an agent or a workflow: each model call's tokens and cost are counted here.</p>
        </Empty>
      )}
      {r && r.groups.length > 0 && (
        <table aria-label={`Costs by ${r.groupBy}`}>
          <thead>
            <tr>
              <th>{r.groupBy[0]!.toUpperCase() + r.groupBy.slice(1)}</th>
              <th>Runs</th>
              <th>Calls (cached)</th>
              <th>Input tokens</th>
              <th>Output tokens</th>
              <th>Cost</th>
            </tr>
          </thead>
          <tbody>
            {r.groups.map((g) => (
              <tr key={g.key ?? 'none'}>
                <td>{groupLabel(g, r.groupBy)}</td>
                <td>{g.runs}</td>
                <td>
                  {g.calls} ({g.cachedCalls})
                </td>
                <td>{formatTokens(g.inputTokens)}</td>
                <td>{formatTokens(g.outputTokens)}</td>
                <td>{formatCost(g.cost)}</td>
              </tr>
            ))}
          </tbody>
          <tfoot>
            <tr>
              <th>Total</th>
              <th>{r.total.runs}</th>
              <th>{r.total.calls}</th>
              <th colSpan={2}>{formatTokens(r.total.tokens)} tokens</th>
              <th>{formatCost(r.total.cost)}</th>
            </tr>
          </tfoot>
        </table>
      )}
    </section>
  );
}
