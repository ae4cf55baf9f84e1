import { Field, Textarea } from '../../ui/form.tsx';
import { splitTemplate, templateVariables } from './prompt.ts';

/** A prompt template editor: the text, then the same text with each {{variable}} highlighted. */
export function PromptField({
  label,
  value,
  onChange,
  rows = 6,
}: {
  label: string;
  value: string;
  onChange: (v: string) => void;
  rows?: number;
}) {
  const vars = templateVariables(value);
  return (
    <div className="mb-3">
      <Field>
        {label}
        <Textarea
          aria-label={label}
          rows={rows}
          value={value}
          onChange={(e) => onChange(e.target.value)}
          spellCheck={false}
        />
      </Field>
      {value && (
        <div
          className="-mt-1 mb-1 rounded-md border bg-muted px-2 py-1.5 font-mono text-xs whitespace-pre-wrap [&_mark]:rounded-sm [&_mark]:bg-amber-100 [&_mark]:text-amber-900 dark:[&_mark]:bg-amber-900/50 dark:[&_mark]:text-amber-100"
          aria-hidden="true"
        >
          {splitTemplate(value).map((p, i) =>
            p.variable ? (
              // biome-ignore lint/suspicious/noArrayIndexKey: parts have no identity beyond their order
              <mark key={i}>{p.text}</mark>
            ) : (
              // biome-ignore lint/suspicious/noArrayIndexKey: as above
              <span key={i}>{p.text}</span>
            ),
          )}
        </div>
      )}
      <p className="text-xs font-normal text-muted-foreground">
        {vars.length
          ? `Variables: ${vars.join(', ')}`
          : 'Use {{input.name}} for run input, {{variables.name}} for workflow variables, {{nodes.id.output}} for an earlier step.'}
      </p>
    </div>
  );
}
