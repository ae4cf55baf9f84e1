import { useQueries } from '@tanstack/react-query';
import { useState } from 'react';
import {
  Bar,
  BarChart,
  CartesianGrid,
  Legend,
  Line,
  LineChart,
  ResponsiveContainer,
  Tooltip,
  XAxis,
  YAxis,
} from 'recharts';
import { call, sdk } from '../../api/client.ts';
import { Field, Select } from '../../ui/form.tsx';
import { formatCost, formatDuration } from '../../ui/format.ts';
import { ErrorText } from '../../ui/page.tsx';
import { chartRows } from './metrics.ts';

const RANGES = { '24h': 1, '7d': 7, '30d': 30 } as const;
type Range = keyof typeof RANGES;
const METRICS = ['latency', 'tokens', 'cost', 'error'] as const;

/**
 * The agent's metrics over a chosen window (GET /metrics/agents, one query per metric): latency
 * p50/p95/p99, tokens, cost and error rate per hour (24h) or day (7d, 30d). Loaded lazily with recharts.
 */
export default function AgentMetricsPanel({ agentId }: { agentId: string }) {
  const [range, setRange] = useState<Range>('7d');
  const results = useQueries({
    queries: METRICS.map((metric) => ({
      queryKey: ['agent-metrics', agentId, metric, range],
      queryFn: () => {
        const from = new Date(Date.now() - RANGES[range] * 86_400_000).toISOString();
        const interval = range === '24h' ? 'hour' : 'day';
        return call(
          sdk.api.GET('/api/v1/metrics/agents', { params: { query: { agentId, metric, from, interval } } }),
        );
      },
      refetchInterval: 15_000,
    })),
  });
  const [latency, tokens, cost, error] = results.map((r) => r.data);
  const rows = chartRows({ latency, tokens, cost, error });
  const t = latency?.totals;
  return (
    <section aria-label="Agent metrics" className="mb-4 rounded-lg border bg-card p-4 shadow-xs">
      <div className="mb-3 flex items-center justify-between gap-3">
        <h2 className="m-0">Metrics</h2>
        <Field className="mb-0 flex-row items-center gap-2">
          Window
          <Select
            aria-label="Metrics window"
            value={range}
            onChange={(e) => setRange(e.target.value as Range)}
          >
            {Object.keys(RANGES).map((r) => (
              <option key={r}>{r}</option>
            ))}
          </Select>
        </Field>
      </div>
      <ErrorText error={results.find((r) => r.error)?.error} />
      <dl className="mb-3 grid grid-cols-6 gap-3" data-testid="agent-metric-totals">
        <Figure label="Attempts" value={t ? String(t.count) : '—'} />
        <Figure label="p50 latency" value={formatDuration(t?.p50)} />
        <Figure label="p95 latency" value={formatDuration(t?.p95)} />
        <Figure label="Tokens" value={tokens ? tokens.totals.sum.toLocaleString() : '—'} />
        <Figure label="Cost" value={formatCost(cost?.totals.sum)} />
        <Figure
          label="Error rate"
          value={error?.totals.avg === null || !error ? '—' : `${(error.totals.avg * 100).toFixed(1)}%`}
        />
      </dl>
      <div className="grid grid-cols-2 gap-3">
        <Chart title="Latency (ms): p50, p95, p99">
          <LineChart data={rows}>
            <CartesianGrid strokeDasharray="3 3" />
            <XAxis dataKey="label" />
            <YAxis />
            <Tooltip />
            <Legend />
            <Line
              dataKey="latency_p50"
              name="p50"
              stroke="#2f9e44"
              dot={{ r: 2 }}
              isAnimationActive={false}
            />
            <Line
              dataKey="latency_p95"
              name="p95"
              stroke="#1c7ed6"
              dot={{ r: 2 }}
              isAnimationActive={false}
            />
            <Line
              dataKey="latency_p99"
              name="p99"
              stroke="#e03131"
              dot={{ r: 2 }}
              isAnimationActive={false}
            />
          </LineChart>
        </Chart>
        <Chart title="Tokens">
          <BarChart data={rows}>
            <CartesianGrid strokeDasharray="3 3" />
            <XAxis dataKey="label" />
            <YAxis />
            <Tooltip />
            <Bar dataKey="tokens_sum" name="tokens" fill="#7048e8" isAnimationActive={false} />
          </BarChart>
        </Chart>
        <Chart title="Cost (USD)">
          <LineChart data={rows}>
            <CartesianGrid strokeDasharray="3 3" />
            <XAxis dataKey="label" />
            <YAxis />
            <Tooltip />
            <Line dataKey="cost_sum" name="USD" stroke="#f08c00" dot={{ r: 2 }} isAnimationActive={false} />
          </LineChart>
        </Chart>
        <Chart title="Error rate">
          <LineChart data={rows}>
            <CartesianGrid strokeDasharray="3 3" />
            <XAxis dataKey="label" />
            <YAxis domain={[0, 1]} />
            <Tooltip />
            <Line
              dataKey="error_avg"
              name="error rate"
              stroke="#e03131"
              dot={false}
              isAnimationActive={false}
            />
          </LineChart>
        </Chart>
      </div>
    </section>
  );
}

function Figure({ label, value }: { label: string; value: string }) {
  return (
    <div className="flex flex-col gap-1 rounded-lg border p-2.5">
      <dt className="text-xs text-muted-foreground">{label}</dt>
      <dd className="m-0 font-semibold">{value}</dd>
    </div>
  );
}

function Chart({ title, children }: { title: string; children: React.ReactElement }) {
  return (
    <figure className="m-0 rounded-lg border p-2.5">
      <figcaption>{title}</figcaption>
      <ResponsiveContainer width="100%" height={200}>
        {children}
      </ResponsiveContainer>
    </figure>
  );
}
