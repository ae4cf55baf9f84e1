import { useEffect, useState } from 'react';
import { Field, Textarea } from '../../../ui/form.tsx';

const show = (v: unknown, allowText?: boolean) =>
  v === undefined ? '' : allowText && typeof v === 'string' ? v : JSON.stringify(v, null, 2);

/**
 * A textarea for a JSON value: the value changes only when the text parses; otherwise the problem is
 * shown under the field. Strings may be typed bare when `allowText` (templates like {{input}}).
 */
export function JsonField({
  label,
  value,
  onChange,
  allowText,
  rows = 4,
}: {
  label: string;
  value: unknown;
  onChange: (v: unknown) => void;
  allowText?: boolean;
  rows?: number;
}) {
  const [text, setText] = useState(() => show(value, allowText));
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    setText((t) => {
      try {
        if (JSON.stringify(JSON.parse(t)) === JSON.stringify(value)) return t;
      } catch {
        if (allowText && t === value) return t;
      }
      return show(value, allowText);
    });
  }, [value, allowText]);
  const change = (t: string) => {
    setText(t);
    if (t.trim() === '') {
      setError(null);
      onChange(undefined);
      return;
    }
    try {
      onChange(JSON.parse(t));
      setError(null);
    } catch (e) {
      if (allowText && !/^\s*(\[|\{(?!\{)|")/.test(t)) {
        setError(null);
        onChange(t);
      } else setError(`Not valid JSON: ${(e as Error).message}`);
    }
  };
  return (
    <Field>
      {label}
      <Textarea
        aria-label={label}
        rows={rows}
        value={text}
        spellCheck={false}
        onChange={(e) => change(e.target.value)}
      />
      {error && (
        <span className="my-1.5 text-sm font-medium text-destructive" role="alert">
          {error}
        </span>
      )}
    </Field>
  );
}
