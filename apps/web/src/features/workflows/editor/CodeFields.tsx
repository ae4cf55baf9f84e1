import { useMutation } from '@tanstack/react-query';
import { lazy, Suspense, useState } from 'react';
import { call, sdk } from '../../../api/client.ts';
import { Button } from '../../../ui/button.tsx';
import { Field, Select, Textarea } from '../../../ui/form.tsx';
import { ErrorText } from '../../../ui/page.tsx';
import type { NodeConfig } from './graph.ts';

// CodeMirror loads with the first code panel only.
const CodeEditor = lazy(() => import('./CodeEditor.tsx'));

type CodeConfig = Extract<NodeConfig, { type: 'code' }>;

const kb = (bytes: number) =>
  bytes >= 1024 * 1024 ? `${(bytes / 1024 / 1024).toFixed(1)} MB` : `${Math.round(bytes / 1024)} KB`;

/**
 * A code step: language, the code in CodeMirror, and "Test with sample input", which runs the code once
 * on the server (POST /code/test) in the same sandbox and tier limits as a workflow step; nothing is saved.
 */
export function CodeFields({ c, set }: { c: CodeConfig; set: (field: string, value: unknown) => void }) {
  const language = c.language ?? 'javascript';
  const [sample, setSample] = useState('{}');
  const [sampleError, setSampleError] = useState<string | null>(null);
  const test = useMutation({
    mutationFn: (input: unknown) =>
      call(
        sdk.api.POST('/api/v1/code/test', {
          body: { language, code: c.code ?? '', network: c.network, input },
        }),
      ),
  });
  const run = () => {
    let input: unknown;
    try {
      input = sample.trim() === '' ? {} : JSON.parse(sample);
    } catch (e) {
      setSampleError(`Sample input is not valid JSON: ${(e as Error).message}`);
      return;
    }
    setSampleError(null);
    test.mutate(input);
  };
  const r = test.data;
  return (
    <>
      <Field>
        Language
        <Select value={language} onChange={(e) => set('language', e.target.value)}>
          <option value="javascript">JavaScript</option>
          <option value="typescript">TypeScript (types stripped)</option>
        </Select>
      </Field>
      <div className="mb-3 grid min-w-0 gap-1.5 text-sm font-medium">
        <span>Code</span>
        <span className="text-xs font-normal text-muted-foreground">
          The body of an async function of input, nodes and variables; return the step's output.
        </span>
        <Suspense fallback={<p className="m-0 text-xs text-muted-foreground">Loading the editor…</p>}>
          <CodeEditor
            label="Code"
            value={c.code ?? ''}
            language={language}
            onChange={(code) => set('code', code)}
          />
        </Suspense>
      </div>
      <Field>
        Sample input (JSON)
        <Textarea
          aria-label="Sample input (JSON)"
          rows={3}
          spellCheck={false}
          value={sample}
          onChange={(e) => setSample(e.target.value)}
        />
      </Field>
      {sampleError && (
        <p className="my-1.5 text-sm font-medium text-destructive" role="alert">
          {sampleError}
        </p>
      )}
      <Button variant="outline" disabled={test.isPending || !c.code} onClick={run}>
        {test.isPending ? 'Testing…' : 'Test with sample input'}
      </Button>
      <ErrorText error={test.error} />
      {r && (
        <section aria-label="Test result" className="mt-3 grid gap-2 rounded-md border p-3 text-sm">
          <p className="m-0">
            {r.ok ? (
              <strong>Succeeded</strong>
            ) : (
              <strong className="text-destructive">Failed: {r.error?.code}</strong>
            )}{' '}
            <span className="text-muted-foreground">
              in {Math.round(r.durationMs)} ms (CPU {Math.round(r.cpuMs)} ms), memory {kb(r.memoryBytes)} ·
              limits {r.limits.cpuMs} ms CPU, {r.limits.wallMs} ms wall, {r.limits.memoryMb} MB
            </span>
          </p>
          {r.ok ? (
            <pre
              data-testid="code-test-output"
              className="m-0 max-h-48 overflow-auto rounded bg-muted p-2 text-xs"
            >
              {JSON.stringify(r.output, null, 2) ?? 'undefined'}
            </pre>
          ) : (
            <p className="m-0 text-destructive" role="alert">
              {r.error?.message}
            </p>
          )}
          <div>
            <span className="font-medium">Console</span>
            {r.logs.length === 0 ? (
              <p className="m-0 text-xs text-muted-foreground">No console output.</p>
            ) : (
              <ol aria-label="Console" className="m-0 list-none p-0 font-mono text-xs">
                {r.logs.map((l, i) => (
                  // biome-ignore lint/suspicious/noArrayIndexKey: log lines have no id and never reorder
                  <li key={i}>
                    <span className="text-muted-foreground">[{l.level}]</span> {l.message}
                  </li>
                ))}
              </ol>
            )}
          </div>
        </section>
      )}
    </>
  );
}
