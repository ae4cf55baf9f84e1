import { Tabs as T } from 'radix-ui';
import type { ReactNode } from 'react';

/** Tabs (Radix): arrow keys move between them; each panel is labelled by its tab. */
export function Tabs<K extends string>({
  value,
  onChange,
  tabs,
  children,
  label,
}: {
  value: K;
  onChange: (k: K) => void;
  tabs: Record<K, string>;
  children: ReactNode;
  label?: string;
}) {
  return (
    <T.Root value={value} onValueChange={(v) => onChange(v as K)}>
      <T.List aria-label={label} className="my-3 flex gap-1 border-b">
        {(Object.keys(tabs) as K[]).map((k) => (
          <T.Trigger
            key={k}
            value={k}
            className="-mb-px cursor-pointer border-b-2 border-transparent px-3 py-1.5 text-sm text-muted-foreground hover:text-foreground data-[state=active]:border-primary data-[state=active]:text-foreground"
          >
            {tabs[k]}
          </T.Trigger>
        ))}
      </T.List>
      <T.Content value={value} className="focus-visible:outline-none">
        {children}
      </T.Content>
    </T.Root>
  );
}
