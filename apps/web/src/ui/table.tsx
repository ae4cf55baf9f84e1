import { type ComponentProps, type ReactNode, useMemo, useState } from 'react';
import { cn } from './cn.ts';
import { type SortDir, type SortValue, sortRows } from './sort.ts';

/** A table in a scrolling card whose header row stays in view. */
export function Table({
  className,
  wrapperClassName,
  ...props
}: ComponentProps<'table'> & { wrapperClassName?: string }) {
  return (
    // A scrolling region is reachable by keyboard (Tab, then arrow keys), named after its table.
    <section
      aria-label={props['aria-label'] ?? 'Table'}
      // biome-ignore lint/a11y/noNoninteractiveTabindex: scrollable content must be focusable to scroll it without a mouse
      tabIndex={0}
      className={cn(
        'max-h-[calc(100vh-11rem)] overflow-auto rounded-lg border bg-card shadow-xs',
        wrapperClassName,
      )}
    >
      <table className={cn('w-full border-collapse text-sm', className)} {...props} />
    </section>
  );
}

export function Th({ className, ...props }: ComponentProps<'th'>) {
  return (
    <th
      className={cn(
        'sticky top-0 z-10 border-b bg-muted px-3 py-2 text-left align-bottom text-xs font-semibold uppercase tracking-wide text-muted-foreground',
        className,
      )}
      {...props}
    />
  );
}

export function Td({ className, ...props }: ComponentProps<'td'>) {
  return <td className={cn('border-b px-3 py-2 align-top', className)} {...props} />;
}

export interface SortState<K extends string> {
  key: K | null;
  dir: SortDir;
  toggle: (key: K) => void;
}

/** Client-side sorting of rows by named columns; a header click toggles ascending/descending. */
export function useSort<T, K extends string>(
  rows: readonly T[],
  columns: Record<K, (row: T) => SortValue>,
  initial: { key: K | null; dir: SortDir } = { key: null, dir: 'asc' },
): { rows: T[]; sort: SortState<K> } {
  const [state, setState] = useState(initial);
  const sorted = useMemo(
    () => (state.key ? sortRows(rows, columns[state.key], state.dir) : [...rows]),
    [rows, state, columns],
  );
  const toggle = (key: K) =>
    setState((s) => (s.key === key ? { key, dir: s.dir === 'asc' ? 'desc' : 'asc' } : { key, dir: 'asc' }));
  return { rows: sorted, sort: { ...state, toggle } };
}

/** A header cell that sorts its column on click (or Enter/Space), announcing the order via aria-sort. */
export function SortTh<K extends string>({
  sort,
  column,
  children,
  className,
}: {
  sort: SortState<K>;
  column: K;
  children: ReactNode;
  className?: string;
}) {
  const active = sort.key === column;
  return (
    <Th className={className} aria-sort={active ? (sort.dir === 'asc' ? 'ascending' : 'descending') : 'none'}>
      <button
        type="button"
        className="inline-flex cursor-pointer items-center gap-1 uppercase hover:text-foreground"
        onClick={() => sort.toggle(column)}
      >
        {children}
        <span aria-hidden="true" className={active ? '' : 'opacity-30'}>
          {active && sort.dir === 'desc' ? '↓' : '↑'}
        </span>
      </button>
    </Th>
  );
}
