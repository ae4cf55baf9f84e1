import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { type FormEvent, useState } from 'react';
import { call, sdk } from '../../api/client.ts';
import { useCan } from '../../app/session.tsx';
import { Button } from '../../ui/button.tsx';
import { Field, FieldRow, Hint, Input, Select, Textarea } from '../../ui/form.tsx';
import { formatCost } from '../../ui/format.ts';
import { Empty, ErrorText, PageHeader, Panel, Status } from '../../ui/page.tsx';
import { toast } from '../../ui/toast.tsx';
import { AttachPanel } from './AttachPanel.tsx';
import { describe, type Evaluator, RULES, type RuleName, ruleConfig, TEMPLATES } from './types.ts';

/** Scores a sample with a saved evaluator (nothing stored). */
function TestPanel({ evaluator }: { evaluator: Evaluator }) {
  const [input, setInput] = useState('');
  const [output, setOutput] = useState('');
  const test = useMutation({
    mutationFn: () =>
      call(
        sdk.api.POST('/api/v1/evaluators/{id}/test', {
          params: { path: { id: evaluator.id } },
          body: {
            ...(input ? { input } : {}),
            output,
            ...(evaluator.kind === 'rule' ? { latencyMs: 0, costUsd: 0, tokens: 0 } : {}),
          },
        }),
      ),
  });
  const submit = (e: FormEvent) => {
    e.preventDefault();
    test.mutate();
  };
  const r = test.data;
  return (
    <form onSubmit={submit} aria-label={`Test ${evaluator.name}`} className="mt-2">
      <FieldRow>
        <Field>
          Sample input
          <Input value={input} onChange={(e) => setInput(e.target.value)} />
        </Field>
        <Field>
          Sample output
          <Input required value={output} onChange={(e) => setOutput(e.target.value)} />
        </Field>
      </FieldRow>
      <Button type="submit" size="sm" variant="outline" disabled={test.isPending}>
        Test
      </Button>
      <ErrorText error={test.error} />
      {r && (
        <p className="mt-2 text-sm" role="status" data-testid={`test-result-${evaluator.name}`}>
          Score <strong>{r.score}</strong> / threshold {r.threshold} ·{' '}
          <Status value={r.passed ? 'passed' : 'failed'} /> · {r.explanation}
          {r.costUsd > 0 && <> · {formatCost(r.costUsd)}</>}
        </p>
      )}
    </form>
  );
}

/** Evaluators: rules and LLM-as-judge rubrics that score runs (issue 16). */
export default function EvaluatorsPage() {
  const client = useQueryClient();
  const canCreate = useCan('agent:create');
  const canDelete = useCan('agent:delete');
  const list = useQuery({
    queryKey: ['evaluators'],
    queryFn: () => call(sdk.api.GET('/api/v1/evaluators')),
  });
  const [kind, setKind] = useState<'rule' | 'judge'>('rule');
  const [name, setName] = useState('');
  const [threshold, setThreshold] = useState('');
  const [rule, setRule] = useState<RuleName>('contains');
  const [value, setValue] = useState('');
  const [path, setPath] = useState('$.');
  const [min, setMin] = useState('');
  const [max, setMax] = useState('');
  const [embeddingModel, setEmbeddingModel] = useState('');
  const [template, setTemplate] = useState<(typeof TEMPLATES)[number]>('relevancy');
  const [model, setModel] = useState('simulator:json');
  const [rubric, setRubric] = useState('');
  const [simulated, setSimulated] = useState('{"score": 90, "explanation": "on topic"}');
  const refresh = () => void client.invalidateQueries({ queryKey: ['evaluators'] });
  const create = useMutation({
    mutationFn: () => {
      const common = { name, ...(threshold.trim() ? { threshold: Number(threshold) } : {}) };
      const body =
        kind === 'rule'
          ? {
              ...common,
              kind,
              config: ruleConfig(rule, { value, path, min, max, model: embeddingModel }),
            }
          : {
              ...common,
              kind,
              config: {
                template,
                model,
                ...(rubric.trim() ? { rubric } : {}),
                ...(model.startsWith('simulator:') && simulated.trim()
                  ? { simulate: { output: JSON.parse(simulated) as unknown } }
                  : {}),
              },
            };
      return call(sdk.api.POST('/api/v1/evaluators', { body }));
    },
    onSuccess: (e) => {
      toast.success(`Evaluator ${e.name} created`);
      setName('');
      refresh();
    },
  });
  const remove = useMutation({
    mutationFn: (id: string) => call(sdk.api.DELETE('/api/v1/evaluators/{id}', { params: { path: { id } } })),
    onSuccess: refresh,
  });
  const submit = (e: FormEvent) => {
    e.preventDefault();
    create.mutate();
  };
  const needsValue = ['contains', 'not_contains', 'regex', 'equals', 'json_schema'].includes(rule);
  const similarity = rule === 'embedding_similarity';
  const rows = list.data?.data ?? [];
  return (
    <section>
      <PageHeader title="Evaluators" />
      <Hint className="mb-3">
        Evaluators score runs 0–100 and pass at their threshold. Rules score 100 when they hold, 0 when not
        (embedding similarity scores the output's cosine similarity to an expected answer × 100); an LLM judge
        answers a rubric through the model port (with the simulator it works offline). Attach an evaluator to
        a workflow or an agent to score their completed runs a few seconds after they end; scores show on the
        run page.
      </Hint>
      {canCreate && (
        <Panel>
          <form onSubmit={submit} aria-label="Create an evaluator">
            <FieldRow>
              <Field>
                Kind
                <Select value={kind} onChange={(e) => setKind(e.target.value as 'rule' | 'judge')}>
                  <option value="rule">Rule</option>
                  <option value="judge">LLM judge</option>
                </Select>
              </Field>
              <Field>
                Name
                <Input required maxLength={255} value={name} onChange={(e) => setName(e.target.value)} />
              </Field>
              <Field>
                Threshold (0–100)
                <Input
                  type="number"
                  min={0}
                  max={100}
                  value={threshold}
                  placeholder={kind === 'judge' ? '70' : similarity ? '80' : '50'}
                  onChange={(e) => setThreshold(e.target.value)}
                />
              </Field>
            </FieldRow>
            {kind === 'rule' ? (
              <FieldRow>
                <Field>
                  Rule
                  <Select value={rule} onChange={(e) => setRule(e.target.value as RuleName)}>
                    {(Object.keys(RULES) as RuleName[]).map((r) => (
                      <option key={r} value={r}>
                        {RULES[r]}
                      </option>
                    ))}
                  </Select>
                </Field>
                {needsValue && rule === 'json_schema' && (
                  <Field>
                    JSON Schema
                    <Textarea required rows={3} value={value} onChange={(e) => setValue(e.target.value)} />
                  </Field>
                )}
                {needsValue && rule !== 'json_schema' && (
                  <Field>
                    {rule === 'regex' ? 'Pattern' : 'Value'}
                    <Input required value={value} onChange={(e) => setValue(e.target.value)} />
                  </Field>
                )}
                {similarity && (
                  <>
                    <Field>
                      Expected answer
                      <Textarea required rows={2} value={value} onChange={(e) => setValue(e.target.value)} />
                    </Field>
                    <Field>
                      Embedding model (optional)
                      <Input
                        value={embeddingModel}
                        placeholder="default: the organization's embedding model"
                        onChange={(e) => setEmbeddingModel(e.target.value)}
                      />
                    </Field>
                  </>
                )}
                {rule === 'numeric_range' && (
                  <>
                    <Field>
                      JSON path
                      <Input required value={path} onChange={(e) => setPath(e.target.value)} />
                    </Field>
                    <Field>
                      Minimum
                      <Input value={min} onChange={(e) => setMin(e.target.value)} />
                    </Field>
                  </>
                )}
                {(rule === 'numeric_range' || rule.endsWith('_max')) && (
                  <Field>
                    Maximum
                    <Input value={max} onChange={(e) => setMax(e.target.value)} />
                  </Field>
                )}
              </FieldRow>
            ) : (
              <FieldRow>
                <Field>
                  Template
                  <Select value={template} onChange={(e) => setTemplate(e.target.value as typeof template)}>
                    {TEMPLATES.map((t) => (
                      <option key={t} value={t}>
                        {t}
                      </option>
                    ))}
                  </Select>
                </Field>
                <Field>
                  Model
                  <Input required value={model} onChange={(e) => setModel(e.target.value)} />
                </Field>
                <Field>
                  Rubric (optional; replaces the template)
                  <Textarea rows={2} value={rubric} onChange={(e) => setRubric(e.target.value)} />
                </Field>
                {model.startsWith('simulator:') && (
                  <Field>
                    Simulated answer
                    <Input value={simulated} onChange={(e) => setSimulated(e.target.value)} />
                  </Field>
                )}
              </FieldRow>
            )}
            <ErrorText error={create.error} />
            <Button type="submit" disabled={create.isPending}>
              Create evaluator
            </Button>
          </form>
        </Panel>
      )}
      <ErrorText error={list.error ?? remove.error} />
      {list.data && rows.length === 0 && (
        <Empty title="No evaluators">
          <p>Create a rule or an LLM judge above.</p>
        </Empty>
      )}
      {rows.map((e) => (
        <Panel key={e.id} aria-label={`Evaluator ${e.name}`} data-testid={`evaluator-${e.name}`}>
          <div className="flex flex-wrap items-center gap-2">
            <strong>{e.name}</strong>
            <Status value={e.kind} />
            <span className="text-sm text-muted-foreground">
              {describe(e)} · threshold {e.threshold} · v{e.version}
            </span>
            {canDelete && (
              <Button
                className="ml-auto"
                size="sm"
                variant="outline"
                type="button"
                onClick={() => remove.mutate(e.id)}
              >
                Delete
              </Button>
            )}
          </div>
          <TestPanel evaluator={e} />
          <AttachPanel evaluator={e} />
        </Panel>
      ))}
    </section>
  );
}
