import { useQuery } from '@tanstack/react-query';
import { useState } from 'react';
import { call, sdk } from '../../api/client.ts';
import { Field, Input } from '../../ui/form.tsx';
import { formatCost, formatDuration } from '../../ui/format.ts';
import { ErrorText, PageHeader, Panel } from '../../ui/page.tsx';
import { Table, Td, Th } from '../../ui/table.tsx';

const TYPES: Record<string, string> = {
  ai_preference: 'Model preferences',
  terminology_usage: 'Terms in use',
  workflow_pattern: 'Recurring workflow steps',
};

/** What the platform learned: model recommendations with their evidence, and the patterns behind them. */
export default function InsightsPage() {
  const [task, setTask] = useState('chat');
  const rec = useQuery({
    queryKey: ['recommendations', task],
    queryFn: () => call(sdk.api.GET('/api/v1/learning/recommendations', { params: { query: { task } } })),
    enabled: /^[a-z0-9_-]{1,40}$/.test(task),
  });
  const patterns = useQuery({
    queryKey: ['patterns'],
    queryFn: () => call(sdk.api.GET('/api/v1/learning/patterns', { params: { query: { limit: 200 } } })),
  });
  return (
    <section>
      <PageHeader title="Insights" />
      <Panel aria-label="Recommendation">
        <Field className="max-w-xs">
          Task kind
          <Input value={task} onChange={(e) => setTask(e.target.value.toLowerCase())} />
        </Field>
        <ErrorText error={rec.error} />
        {rec.data && (
          <>
            <p data-testid="recommendation">
              {rec.data.recommended ? (
                <>
                  Recommended: <code>{rec.data.recommended}</code>
                </>
              ) : (
                'No recommendation yet'
              )}{' '}
              — {rec.data.reason}
            </p>
            {rec.data.candidates.length > 0 && (
              <Table>
                <thead>
                  <tr>
                    <Th>Model</Th>
                    <Th>Quality</Th>
                    <Th>Quality per $</Th>
                    <Th>Avg cost</Th>
                    <Th>Avg latency</Th>
                    <Th>Success</Th>
                    <Th>Samples (answers / ratings / evaluations)</Th>
                  </tr>
                </thead>
                <tbody>
                  {rec.data.candidates.map((c) => (
                    <tr key={c.model}>
                      <Td>
                        <code>{c.model}</code>
                      </Td>
                      <Td>{c.quality ?? '—'}</Td>
                      <Td>{c.qualityPerDollar ?? '—'}</Td>
                      <Td>{c.avgCostUsd === null ? '—' : formatCost(c.avgCostUsd)}</Td>
                      <Td>{formatDuration(c.avgLatencyMs)}</Td>
                      <Td>{c.successRate === null ? '—' : `${Math.round(c.successRate * 100)}%`}</Td>
                      <Td>
                        {c.samples.answers} / {c.samples.ratings} / {c.samples.evaluations}
                      </Td>
                    </tr>
                  ))}
                </tbody>
              </Table>
            )}
          </>
        )}
      </Panel>
      <ErrorText error={patterns.error} />
      {Object.entries(TYPES).map(([type, label]) => {
        const rows = patterns.data?.data.filter((p) => p.patternType === type) ?? [];
        return (
          <Panel key={type} aria-label={label}>
            <h2>{label}</h2>
            {rows.length === 0 ? (
              <p className="text-sm text-muted-foreground">Nothing learned yet.</p>
            ) : (
              <Table>
                <thead>
                  <tr>
                    <Th>Pattern</Th>
                    <Th>Confidence</Th>
                    <Th>Occurrences</Th>
                    <Th>Last seen</Th>
                  </tr>
                </thead>
                <tbody>
                  {rows.map((p) => (
                    <tr key={p.id}>
                      <Td>{type === 'terminology_usage' ? String(p.data.term ?? p.key) : p.key}</Td>
                      <Td>{p.confidence.toFixed(2)}</Td>
                      <Td>{p.occurrences}</Td>
                      <Td>{new Date(p.lastSeenAt).toLocaleString()}</Td>
                    </tr>
                  ))}
                </tbody>
              </Table>
            )}
          </Panel>
        );
      })}
    </section>
  );
}
