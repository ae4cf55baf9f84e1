import { useQuery } from '@tanstack/react-query';
import { Link } from '@tanstack/react-router';
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
import { Empty, ErrorText, PageHeader } from '../../ui/page.tsx';
import { bucketLabel, fillBuckets } from './stats.ts';

const RANGES = { '24h': 1, '7d': 7, '30d': 30 } as const;
type Range = keyof typeof RANGES;

/** Runs, success rate, p95 duration, tokens and cost over the chosen window (GET /analytics/overview). */
export default function OverviewPage() {
  const [range, setRange] = useState<Range>('7d');
  const q = useQuery({
    queryKey: ['overview', range],
    queryFn: () => {
      const bucket = range === '24h' ? 'hour' : 'day';
      const from = new Date(Date.now() - RANGES[range] * 86_400_000).toISOString();
      return call(sdk.api.GET('/api/v1/analytics/overview', { params: { query: { from, bucket } } }));
    },
    refetchInterval: 10_000,
  });
  const o = q.data;
  const t = o?.totals;
  const days = o ? fillBuckets(o).map((b) => ({ ...b, label: bucketLabel(b.at, o.bucket) })) : [];
  return (
    <section>
      <PageHeader title="Overview">
        <Field className="mb-0 flex-row items-center gap-2">
          Window
          <Select value={range} onChange={(e) => setRange(e.target.value as Range)}>
            {Object.keys(RANGES).map((r) => (
              <option key={r}>{r}</option>
            ))}
          </Select>
        </Field>
      </PageHeader>
      <ErrorText error={q.error} />
      {t && t.runs === 0 && (
        <Empty title="Nothing has run in this window">
          <p>
            Start here:{' '}
            <Link to="/agents/$id" params={{ id: 'new' }}>
              create an agent
            </Link>{' '}
            on the simulator, put it in a{' '}
            <Link to="/workflows/$id" params={{ id: 'new' }}>
              workflow
            </Link>
            , and press Run. Runs, success rate, durations, tokens and cost then show up on this page.
          </p>
        </Empty>
      )}
      {t && t.runs > 0 && (
        <>
          <div className="mb-4 grid grid-cols-5 gap-3">
            <Card label="Runs" value={String(t.runs)} />
            <Card
              label="Success rate"
              value={t.successRate === null ? '—' : `${Math.round(t.successRate * 100)}%`}
            />
            <Card label="p95 duration" value={formatDuration(t.p95DurationMs)} />
            <Card label="Tokens" value={t.tokens.toLocaleString()} />
            <Card label="Cost" value={formatCost(t.cost)} />
          </div>
          <div className="grid grid-cols-2 gap-3">
            <Chart title={`Runs per ${o?.bucket}`}>
              <BarChart data={days}>
                <CartesianGrid strokeDasharray="3 3" />
                <XAxis dataKey="label" />
                <YAxis allowDecimals={false} />
                <Tooltip />
                <Legend />
                <Bar
                  dataKey="completed"
                  stackId="r"
                  fill="#2f9e44"
                  name="completed"
                  isAnimationActive={false}
                />
                <Bar dataKey="failed" stackId="r" fill="#e03131" name="failed" isAnimationActive={false} />
              </BarChart>
            </Chart>
            <Chart title="p95 duration (ms)">
              <LineChart data={days}>
                <CartesianGrid strokeDasharray="3 3" />
                <XAxis dataKey="label" padding={{ left: 24, right: 24 }} />
                <YAxis />
                <Tooltip />
                <Line
                  dataKey="p95DurationMs"
                  stroke="#1c7ed6"
                  name="p95 ms"
                  dot={{ r: 3 }}
                  isAnimationActive={false}
                />
              </LineChart>
            </Chart>
            <Chart title={`Tokens per ${o?.bucket}`}>
              <BarChart data={days}>
                <CartesianGrid strokeDasharray="3 3" />
                <XAxis dataKey="label" />
                <YAxis />
                <Tooltip />
                <Bar dataKey="tokens" fill="#7048e8" isAnimationActive={false} />
              </BarChart>
            </Chart>
            <Chart title={`Cost per ${o?.bucket} (USD)`}>
              <LineChart data={days}>
                <CartesianGrid strokeDasharray="3 3" />
                <XAxis dataKey="label" padding={{ left: 24, right: 24 }} />
                <YAxis />
                <Tooltip />
                <Line dataKey="cost" stroke="#f08c00" dot={{ r: 3 }} isAnimationActive={false} />
              </LineChart>
            </Chart>
          </div>
        </>
      )}
    </section>
  );
}

function Card({ label, value }: { label: string; value: string }) {
  return (
    <div className="flex flex-col gap-1 rounded-lg border bg-card p-3 shadow-xs">
      <span className="text-xs text-muted-foreground">{label}</span>
      <strong>{value}</strong>
    </div>
  );
}

function Chart({ title, children }: { title: string; children: React.ReactElement }) {
  return (
    <figure className="m-0 rounded-lg border bg-card p-2.5 shadow-xs">
      <figcaption>{title}</figcaption>
      <ResponsiveContainer width="100%" height={220}>
        {children}
      </ResponsiveContainer>
    </figure>
  );
}
