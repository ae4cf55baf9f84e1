import { Field, Input, Textarea } from '../../../ui/form.tsx';
import type { ConditionEdge, WorkflowMeta } from './graph.ts';
import { JsonField } from './JsonField.tsx';

/** The selected connection: an optional condition (CEL); false skips the branch it leads to. */
export function EdgePanel({
  edge,
  onChange,
}: {
  edge: ConditionEdge;
  onChange: (condition: string) => void;
}) {
  return (
    <aside
      className="m-0 overflow-auto rounded-lg border bg-card p-4 shadow-xs"
      aria-label="Connection settings"
    >
      <h2>
        Connection {edge.source} → {edge.target}
      </h2>
      <Field>
        Condition (optional)
        <Textarea
          rows={3}
          value={edge.data?.condition ?? ''}
          placeholder="nodes.classify.output.category != 'spam'"
          onChange={(e) => onChange(e.target.value)}
          spellCheck={false}
        />
      </Field>
      <p className="text-xs font-normal text-muted-foreground">
        A CEL expression over input, variables and nodes; when false, the target is skipped.
      </p>
    </aside>
  );
}

/** The workflow itself: name, description, the run input's JSON Schema, variables. */
export function WorkflowPanel({
  meta,
  onChange,
}: {
  meta: WorkflowMeta;
  onChange: (meta: WorkflowMeta, field: string) => void;
}) {
  const set = (field: keyof WorkflowMeta, value: unknown) =>
    onChange({ ...meta, [field]: value === '' ? undefined : value }, field);
  return (
    <aside
      className="m-0 overflow-auto rounded-lg border bg-card p-4 shadow-xs"
      aria-label="Workflow settings"
    >
      <h2>Workflow</h2>
      <Field>
        Name
        <Input value={meta.name} onChange={(e) => set('name', e.target.value)} />
      </Field>
      <Field>
        Description
        <Textarea
          rows={2}
          value={meta.description ?? ''}
          onChange={(e) => set('description', e.target.value)}
        />
      </Field>
      <JsonField
        label="Input schema (JSON Schema of the run input)"
        rows={8}
        value={meta.input}
        onChange={(v) => set('input', v)}
      />
      <JsonField
        label="Variables ({{variables.name}})"
        value={meta.variables}
        onChange={(v) => set('variables', v)}
      />
      <p className="text-xs font-normal text-muted-foreground">
        Select a step or a connection to edit it. Ctrl+S saves, Ctrl+Z undoes, Delete removes.
      </p>
    </aside>
  );
}
