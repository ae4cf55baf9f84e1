import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { type FormEvent, useState } from 'react';
import { call, sdk } from '../../api/client.ts';
import { useCan } from '../../app/session.tsx';
import { Button } from '../../ui/button.tsx';
import { Check, Field, FieldRow, Hint, Input, Select } from '../../ui/form.tsx';
import { formatCost, formatTime } from '../../ui/format.ts';
import { Empty, ErrorText, PageHeader, Panel, Status } from '../../ui/page.tsx';
import { Table, Td, Th } from '../../ui/table.tsx';
import { toast } from '../../ui/toast.tsx';
import { type Experiment, percent } from '../datasets/types.ts';
import { CompareView } from './CompareView.tsx';
import { ResultsView } from './ResultsView.tsx';

/** How far an experiment got, as a progress bar. */
export function Progress({ e }: { e: Experiment }) {
  const pct = e.totalItems ? Math.round((e.doneItems / e.totalItems) * 100) : 0;
  return (
    <div
      role="progressbar"
      aria-label={`Progress of ${e.name}`}
      aria-valuemin={0}
      aria-valuemax={e.totalItems}
      aria-valuenow={e.doneItems}
      className="h-2 w-32 overflow-hidden rounded-full bg-muted"
      title={`${e.doneItems} of ${e.totalItems} items`}
    >
      <div className="h-full bg-primary" style={{ width: `${pct}%` }} />
    </div>
  );
}

function RunForm({ onStarted }: { onStarted: (e: Experiment) => void }) {
  const datasets = useQuery({ queryKey: ['datasets'], queryFn: () => call(sdk.api.GET('/api/v1/datasets')) });
  const workflows = useQuery({
    queryKey: ['workflows'],
    queryFn: () => call(sdk.api.GET('/api/v1/workflows', { params: { query: { limit: 200 } } })),
  });
  const evaluators = useQuery({
    queryKey: ['evaluators'],
    queryFn: () => call(sdk.api.GET('/api/v1/evaluators')),
  });
  const agents = useQuery({
    queryKey: ['agents'],
    queryFn: () => call(sdk.api.GET('/api/v1/agents', { params: { query: { limit: 200 } } })),
  });
  const [datasetId, setDatasetId] = useState('');
  const [subject, setSubject] = useState<'workflow' | 'agent'>('workflow');
  const [workflowId, setWorkflowId] = useState('');
  const [agentId, setAgentId] = useState('');
  const [version, setVersion] = useState('');
  const [chosen, setChosen] = useState<string[]>([]);
  const [parallelism, setParallelism] = useState('4');
  const ds = datasetId || datasets.data?.data[0]?.id || '';
  const wf = workflowId || workflows.data?.data[0]?.id || '';
  const ag = agentId || agents.data?.data[0]?.id || '';
  const target = subject === 'agent' ? ag : wf;
  const start = useMutation({
    mutationFn: () =>
      call(
        sdk.api.POST('/api/v1/experiments', {
          body: {
            datasetId: ds,
            ...(subject === 'agent'
              ? { agentId: ag, ...(version.trim() ? { agentVersion: Number(version) } : {}) }
              : { workflowId: wf, ...(version.trim() ? { workflowVersion: Number(version) } : {}) }),
            evaluatorIds: chosen,
            parallelism: Number(parallelism),
          },
        }),
      ),
    onSuccess: (e) => {
      toast.success(`Experiment ${e.name} started`);
      onStarted(e);
    },
  });
  const submit = (e: FormEvent) => {
    e.preventDefault();
    start.mutate();
  };
  const current =
    subject === 'agent'
      ? agents.data?.data.find((a) => a.id === ag)?.versionNumber
      : workflows.data?.data.find((w) => w.id === wf)?.version;
  return (
    <Panel>
      <form onSubmit={submit} aria-label="Run an experiment">
        <FieldRow>
          <Field>
            Dataset
            <Select required value={ds} onChange={(e) => setDatasetId(e.target.value)}>
              {datasets.data?.data.map((d) => (
                <option key={d.id} value={d.id}>
                  {d.name} (v{d.version}, {d.itemCount} items)
                </option>
              ))}
            </Select>
          </Field>
          <Field>
            Run
            <Select
              value={subject}
              onChange={(e) => {
                setSubject(e.target.value as 'workflow' | 'agent');
                setVersion('');
              }}
            >
              <option value="workflow">Workflow</option>
              <option value="agent">Agent</option>
            </Select>
          </Field>
          {subject === 'workflow' ? (
            <Field>
              Workflow
              <Select required value={wf} onChange={(e) => setWorkflowId(e.target.value)}>
                {workflows.data?.data.map((w) => (
                  <option key={w.id} value={w.id}>
                    {w.name}
                  </option>
                ))}
              </Select>
            </Field>
          ) : (
            <Field>
              Agent
              <Select required value={ag} onChange={(e) => setAgentId(e.target.value)}>
                {agents.data?.data.map((a) => (
                  <option key={a.id} value={a.id}>
                    {a.name}
                  </option>
                ))}
              </Select>
            </Field>
          )}
          <Field>
            Version
            <Input
              type="number"
              min={1}
              value={version}
              placeholder={current ? `current (v${current})` : 'current'}
              onChange={(e) => setVersion(e.target.value)}
            />
          </Field>
          <Field>
            Parallel runs
            <Input
              type="number"
              min={1}
              max={32}
              value={parallelism}
              onChange={(e) => setParallelism(e.target.value)}
            />
          </Field>
        </FieldRow>
        <fieldset className="mb-2">
          <legend className="mb-1 text-sm font-semibold">Evaluators</legend>
          {evaluators.data?.data.map((ev) => (
            <Check key={ev.id}>
              <input
                type="checkbox"
                checked={chosen.includes(ev.id)}
                onChange={(e) =>
                  setChosen(e.target.checked ? [...chosen, ev.id] : chosen.filter((x) => x !== ev.id))
                }
              />
              {ev.name}
            </Check>
          ))}
          {evaluators.data?.data.length === 0 && (
            <Hint>Create an evaluator on the Evaluators page first.</Hint>
          )}
        </fieldset>
        <ErrorText error={start.error} />
        <Button type="submit" disabled={start.isPending || !chosen.length || !ds || !target}>
          Run experiment
        </Button>
      </form>
    </Panel>
  );
}

/** Experiments: a workflow version (or an agent version) over a dataset, scored item by item; compare two (issue 16). */
export default function ExperimentsPage() {
  const client = useQueryClient();
  const canRun = useCan('workflow:execute');
  const workflows = useQuery({
    queryKey: ['workflows'],
    queryFn: () => call(sdk.api.GET('/api/v1/workflows', { params: { query: { limit: 200 } } })),
  });
  const list = useQuery({
    queryKey: ['experiments'],
    queryFn: () => call(sdk.api.GET('/api/v1/experiments')),
    refetchInterval: (q) => (q.state.data?.data.some((e) => e.status === 'running') ? 1000 : false),
  });
  const [open, setOpen] = useState<string | null>(null);
  const [base, setBase] = useState('');
  const [candidate, setCandidate] = useState('');
  const [compare, setCompare] = useState<{ base: string; candidate: string } | null>(null);
  const rows = list.data?.data ?? [];
  const agents = useQuery({
    queryKey: ['agents'],
    queryFn: () => call(sdk.api.GET('/api/v1/agents', { params: { query: { limit: 200 } } })),
  });
  const wfName = (id: string) => workflows.data?.data.find((w) => w.id === id)?.name ?? 'workflow';
  /** What an experiment ran: the agent and its version, or the workflow and its version. */
  const subject = (e: Experiment) =>
    e.agentId
      ? `agent ${agents.data?.data.find((a) => a.id === e.agentId)?.name ?? 'agent'} v${e.agentVersion}`
      : `${wfName(e.workflowId)} v${e.workflowVersion}`;
  const label = (e: Experiment) => `${e.name} (${subject(e)})`;
  return (
    <section>
      <PageHeader title="Experiments" />
      <Hint className="mb-3">
        An experiment runs one workflow version, or one agent version alone, over every item of a dataset
        version, a few runs at a time, and scores each output with the evaluators you pick. Compare two to see
        which items got worse.
      </Hint>
      {canRun && (
        <RunForm
          onStarted={(e) => {
            setOpen(e.id);
            void client.invalidateQueries({ queryKey: ['experiments'] });
          }}
        />
      )}
      <ErrorText error={list.error} />
      {list.data && rows.length === 0 && (
        <Empty title="No experiments">
          <p>Pick a dataset, a workflow or agent version and evaluators above, then run.</p>
        </Empty>
      )}
      {rows.length > 0 && (
        <Table aria-label="Experiments">
          <thead>
            <tr>
              <Th>Experiment</Th>
              <Th>Workflow or agent</Th>
              <Th>Status</Th>
              <Th>Progress</Th>
              <Th>Scores (mean · pass rate)</Th>
              <Th>Cost</Th>
              <Th>Started</Th>
              <Th />
            </tr>
          </thead>
          <tbody>
            {rows.map((e) => (
              <tr key={e.id} data-testid={`experiment-${e.id}`}>
                <Td>
                  {e.name}
                  {e.purpose === 'promotion' && (
                    <span className="ml-1 text-xs text-muted-foreground">(promotion check)</span>
                  )}
                </Td>
                <Td>{subject(e)}</Td>
                <Td>
                  <Status value={e.status} />
                </Td>
                <Td>
                  <Progress e={e} />{' '}
                  <span className="text-xs">
                    {e.doneItems}/{e.totalItems}
                  </span>
                </Td>
                <Td className="text-xs">
                  {e.aggregates.map((a) => (
                    <div key={a.evaluatorId}>
                      {a.name}: {a.mean ?? '—'} · {percent(a.passRate)}
                    </div>
                  ))}
                </Td>
                <Td>{formatCost(e.totals.costUsd)}</Td>
                <Td>{formatTime(e.createdAt)}</Td>
                <Td>
                  <Button
                    type="button"
                    size="sm"
                    variant="outline"
                    onClick={() => {
                      setOpen(e.id);
                      setCompare(null);
                    }}
                  >
                    Results
                  </Button>
                </Td>
              </tr>
            ))}
          </tbody>
        </Table>
      )}
      {rows.length > 1 && (
        <Panel className="mt-4">
          <form
            aria-label="Compare experiments"
            className="flex flex-wrap items-end gap-2"
            onSubmit={(ev) => {
              ev.preventDefault();
              setCompare({ base: base || rows[1]!.id, candidate: candidate || rows[0]!.id });
            }}
          >
            <Field>
              Base
              <Select value={base || rows[1]!.id} onChange={(e) => setBase(e.target.value)}>
                {rows.map((e) => (
                  <option key={e.id} value={e.id}>
                    {label(e)}
                  </option>
                ))}
              </Select>
            </Field>
            <Field>
              Candidate
              <Select value={candidate || rows[0]!.id} onChange={(e) => setCandidate(e.target.value)}>
                {rows.map((e) => (
                  <option key={e.id} value={e.id}>
                    {label(e)}
                  </option>
                ))}
              </Select>
            </Field>
            <Button type="submit">Compare</Button>
          </form>
        </Panel>
      )}
      {compare && <CompareView base={compare.base} candidate={compare.candidate} />}
      {open && !compare && <ResultsView id={open} />}
    </section>
  );
}
