import { javascript } from '@codemirror/lang-javascript';
import { Compartment, EditorState } from '@codemirror/state';
import { EditorView } from '@codemirror/view';
import { basicSetup } from 'codemirror';
import { useEffect, useRef } from 'react';

const theme = EditorView.theme({
  '&': {
    fontSize: '13px',
    border: '1px solid var(--border)',
    borderRadius: '6px',
    backgroundColor: 'var(--background)',
    color: 'var(--foreground)',
  },
  '&.cm-focused': { outline: '2px solid var(--ring)', outlineOffset: '1px' },
  '.cm-scroller': { fontFamily: 'ui-monospace, SFMono-Regular, Menlo, monospace', minHeight: '10rem' },
  '.cm-gutters': { backgroundColor: 'var(--muted)', color: 'var(--muted-foreground)', border: 'none' },
  '.cm-content': { caretColor: 'var(--foreground)' },
});

/**
 * A CodeMirror 6 editor for a code step's JavaScript or TypeScript, with syntax highlighting, bracket
 * matching, search and undo. Outside changes of `value` (the workflow editor's undo) replace the text.
 */
export default function CodeEditor({
  label,
  value,
  language,
  onChange,
}: {
  label: string;
  value: string;
  language: 'javascript' | 'typescript';
  onChange: (code: string) => void;
}) {
  const host = useRef<HTMLDivElement>(null);
  const view = useRef<EditorView | null>(null);
  const lang = useRef(new Compartment());
  const changed = useRef(onChange);
  changed.current = onChange;
  // biome-ignore lint/correctness/useExhaustiveDependencies: the view is made once; value and language sync below
  useEffect(() => {
    const v = new EditorView({
      parent: host.current as HTMLDivElement,
      state: EditorState.create({
        doc: value,
        extensions: [
          basicSetup,
          theme,
          EditorView.lineWrapping,
          lang.current.of(javascript({ typescript: language === 'typescript' })),
          EditorView.contentAttributes.of({ 'aria-label': label }),
          EditorView.updateListener.of((u) => {
            if (u.docChanged) changed.current(u.state.doc.toString());
          }),
        ],
      }),
    });
    view.current = v;
    return () => v.destroy();
  }, []);
  useEffect(() => {
    const v = view.current;
    if (v && v.state.doc.toString() !== value) {
      v.dispatch({ changes: { from: 0, to: v.state.doc.length, insert: value } });
    }
  }, [value]);
  useEffect(() => {
    view.current?.dispatch({
      effects: lang.current.reconfigure(javascript({ typescript: language === 'typescript' })),
    });
  }, [language]);
  return <div ref={host} className="min-w-0 max-w-full" data-testid="code-editor" data-language={language} />;
}
