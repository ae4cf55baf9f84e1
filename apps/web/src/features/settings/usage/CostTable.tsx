import { useQuery } from '@tanstack/react-query';
import { useState } from 'react';
import { call, sdk } from '../../../api/client.ts';
import type { CostReport } from '../../../api/types.ts';
import { formatCost, formatTokens } from '../../../ui/format.ts';
import { Empty, ErrorText } from '../../../ui/page.tsx';
import { Table, Td, Th } from '../../../ui/table.tsx';
import { Tabs } from '../../../ui/tabs.tsx';
import { COST_GROUPS, groupLabel } from './usage.ts';

type GroupBy = CostReport['groupBy'];

/**
 * What model calls cost over the last 30 days, grouped by workflow, agent, model or day; and apart, what
 * LLM-as-judge evaluations cost, by evaluator.
 */
export function CostTable() {
  const [groupBy, setGroupBy] = useState<GroupBy>('workflow');
  const report = useQuery({
    queryKey: ['costs', groupBy],
    queryFn: () => call(sdk.api.GET('/api/v1/costs', { params: { query: { groupBy } } })),
  });
  const r = report.data;
  return (
    <section className="mb-4 rounded-lg border bg-card p-4 shadow-xs" aria-label="Costs">
      <h2>Costs, last 30 days</h2>
      <Tabs
        label="Group by"
        value={groupBy}
        onChange={setGroupBy}
        tabs={Object.fromEntries(COST_GROUPS.map((g) => [g, `by ${g}`])) as Record<GroupBy, string>}
      >
        <ErrorText error={report.error} />
        {r && r.groups.length === 0 && (
          <Empty title="No model calls in the last 30 days">
            <p>Run an agent or a workflow: each model call's tokens and cost are counted here.</p>
          </Empty>
        )}
        {r && r.groups.length > 0 && (
          <Table aria-label={`Costs by ${r.groupBy}`}>
            <thead>
              <tr>
                <Th>{r.groupBy[0]!.toUpperCase() + r.groupBy.slice(1)}</Th>
                <Th>Runs</Th>
                <Th>Calls (cached)</Th>
                <Th>Input tokens</Th>
                <Th>Output tokens</Th>
                <Th>Cost</Th>
              </tr>
            </thead>
            <tbody>
              {r.groups.map((g) => (
                <tr key={g.key ?? 'none'}>
                  <Td>{groupLabel(g, r.groupBy)}</Td>
                  <Td>{g.runs}</Td>
                  <Td>
                    {g.calls} ({g.cachedCalls})
                  </Td>
                  <Td>{formatTokens(g.inputTokens)}</Td>
                  <Td>{formatTokens(g.outputTokens)}</Td>
                  <Td>{formatCost(g.cost)}</Td>
                </tr>
              ))}
            </tbody>
            <tfoot className="[&_th]:sticky [&_th]:bottom-0 [&_th]:normal-case [&_th]:text-sm [&_th]:text-foreground">
              <tr>
                <Th>Total</Th>
                <Th>{r.total.runs}</Th>
                <Th>
                  {r.total.calls} ({r.groups.reduce((n, g) => n + g.cachedCalls, 0)})
                </Th>
                <Th>{formatTokens(r.groups.reduce((n, g) => n + g.inputTokens, 0))}</Th>
                <Th>{formatTokens(r.groups.reduce((n, g) => n + g.outputTokens, 0))}</Th>
                <Th>{formatCost(r.total.cost)}</Th>
              </tr>
            </tfoot>
          </Table>
        )}
        {r && <JudgeCosts report={r} />}
      </Tabs>
    </section>
  );
}

/** LLM-as-judge spend (evaluation results and evaluator tests) by evaluator, and the month's model total. */
function JudgeCosts({ report: r }: { report: CostReport }) {
  const e = r.evaluations;
  return (
    <div className="mt-4" data-testid="judge-costs">
      <h3 className="mb-1 text-sm font-semibold">LLM-as-judge evaluations</h3>
      {e.groups.length === 0 ? (
        <p className="text-sm text-muted-foreground">No judge calls in this period.</p>
      ) : (
        <Table aria-label="Costs of LLM-as-judge evaluations by evaluator">
          <thead>
            <tr>
              <Th>Evaluator</Th>
              <Th>Runs scored</Th>
              <Th>Judge calls</Th>
              <Th>Input tokens</Th>
              <Th>Output tokens</Th>
              <Th>Cost</Th>
            </tr>
          </thead>
          <tbody>
            {e.groups.map((g) => (
              <tr key={g.key ?? 'none'}>
                <Td>{g.name ?? g.key ?? 'deleted evaluator'}</Td>
                <Td>{g.runs}</Td>
                <Td>{g.calls}</Td>
                <Td>{formatTokens(g.inputTokens)}</Td>
                <Td>{formatTokens(g.outputTokens)}</Td>
                <Td>{formatCost(g.cost)}</Td>
              </tr>
            ))}
          </tbody>
        </Table>
      )}
      <p className="mt-2 text-sm" data-testid="model-spend-total">
        Model spend, runs and judges: <strong>{formatCost(r.total.cost + e.total.cost)}</strong>
      </p>
    </div>
  );
}
