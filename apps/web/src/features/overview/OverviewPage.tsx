import { useQuery } from '@tanstack/react-query';
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
import { get, qs } from '../../api/client.ts';
import type { Page, Run } from '../../api/types.ts';
import { Link } from '../../app/router.tsx';
import { formatCost, formatDuration } from '../../ui/format.ts';
import { Empty, ErrorText, PageHeader } from '../../ui/kit.tsx';
import { summarize } from './stats.ts';

const RANGES = { '24h': 1, '7d': 7, '30d': 30 } as const;

/** Runs, success rate, p95 duration, tokens and cost over the chosen window (the latest 500 runs). */
export default function OverviewPage() {
  const [range, setRange] = useState<keyof typeof RANGES>('7d');
  const from = new Date(Date.now() - RANGES[range] * 86_400_000);
  from.setMinutes(0, 0, 0);
  const q = useQuery({
    queryKey: ['overview', range],
    queryFn: () => get<Page<Run>>(`/runs${qs({ limit: 500, from: from.toISOString() })}`),
    refetchInterval: 10_000,
  });
  const s = q.data ? summarize(q.data.data) : null;
  return (
    <section>
      <PageHeader title="Overview">
        <label className="inline">
          Window
          <select value={range} onChange={(e) => setRange(e.target.value as keyof typeof RANGES)}>
            {Object.keys(RANGES).map((r) => (
              <option key={r}>{r}</option>
            ))}
          </select>
        </label>
      </PageHeader>
      <ErrorText error={q.error} />
      {s && s.runs === 0 && (
        <Empty title="Nothing has run in this window">
          <p>
            Start here: <Link to="/agents/new">create an agent</Link> on the simulator, put it in a{' '}
            <Link to="/workflows/new">workflow</Link>, and press Run. Runs, success rate, durations, tokens
            and cost then show up on this page.
          </p>
        </Empty>
      )}
      {s && s.runs > 0 && (
        <>
          <div className="cards">
            <Card label="Runs" value={String(s.runs)} />
            <Card
              label="Success rate"
              value={s.successRate === null ? '—' : `${Math.round(s.successRate * 100)}%`}
            />
            <Card label="p95 duration" value={formatDuration(s.p95Ms)} />
            <Card label="Tokens" value={s.tokens.toLocaleString()} />
            <Card label="Cost" value={formatCost(s.cost)} />
          </div>
          {q.data?.nextCursor && <p className="hint">Figures cover the latest 500 runs of this window.</p>}
          <div className="charts">
            <Chart title="Runs per day">
              <BarChart data={s.days}>
                <CartesianGrid strokeDasharray="3 3" />
                <XAxis dataKey="day" />
                <YAxis allowDecimals={false} />
                <Tooltip />
                <Legend />
                <Bar dataKey="completed" stackId="r" fill="#2f9e44" name="completed" />
                <Bar dataKey="failed" stackId="r" fill="#e03131" name="failed" />
              </BarChart>
            </Chart>
            <Chart title="p95 duration (ms)">
              <LineChart data={s.days}>
                <CartesianGrid strokeDasharray="3 3" />
                <XAxis dataKey="day" />
                <YAxis />
                <Tooltip />
                <Line dataKey="p95Ms" stroke="#1c7ed6" name="p95 ms" />
              </LineChart>
            </Chart>
            <Chart title="Tokens per day">
              <BarChart data={s.days}>
                <CartesianGrid strokeDasharray="3 3" />
                <XAxis dataKey="day" />
                <YAxis />
                <Tooltip />
                <Bar dataKey="tokens" fill="#7048e8" />
              </BarChart>
            </Chart>
            <Chart title="Cost per day (USD)">
              <LineChart data={s.days}>
                <CartesianGrid strokeDasharray="3 3" />
                <XAxis dataKey="day" />
                <YAxis />
                <Tooltip />
                <Line dataKey="cost" stroke="#f08c00" />
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
    <div className="card">
      <span className="card-label">{label}</span>
      <strong>{value}</strong>
    </div>
  );
}

function Chart({ title, children }: { title: string; children: React.ReactElement }) {
  return (
    <figure className="chart">
      <figcaption>{title}</figcaption>
      <ResponsiveContainer width="100%" height={220}>
        {children}
      </ResponsiveContainer>
    </figure>
  );
}
