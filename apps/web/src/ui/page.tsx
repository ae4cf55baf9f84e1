import type { ComponentProps, ReactNode } from 'react';
import { messageOf } from '../api/client.ts';
import { cn } from './cn.ts';

/** An error, in words, where it happened. */
export function ErrorText({ error }: { error: unknown }) {
  if (!error) return null;
  return (
    <p className="my-1.5 text-sm font-medium text-destructive" role="alert">
      {messageOf(error)}
    </p>
  );
}

/** What a newcomer sees on an empty page: what this is for and what to do next. */
export function Empty({ title, children }: { title: string; children: ReactNode }) {
  return (
    <div className="max-w-3xl space-y-3 rounded-lg border border-dashed bg-card p-6">
      <h3>{title}</h3>
      {children}
    </div>
  );
}

const STATUS_TONE: Record<string, string> = {
  completed: 'ok',
  converted: 'ok',
  approximated: 'warn',
  dropped: 'bad',
  connected: 'ok',
  active: 'ok',
  accepted: 'ok',
  failed: 'bad',
  timeout: 'bad',
  error: 'bad',
  revoked: 'bad',
  expired: 'bad',
  running: 'info',
  queued: 'info',
  pending: 'info',
  ready: 'info',
  waiting: 'warn',
  paused: 'warn',
  draft: 'warn',
  online: 'ok',
  resolved: 'ok',
  open: 'bad',
  offline: 'bad',
  success: 'ok',
  warning: 'warn',
};
const TONE_CLASS: Record<string, string> = {
  ok: 'bg-green-100 text-green-900 dark:bg-green-900/50 dark:text-green-100',
  bad: 'bg-red-100 text-red-900 dark:bg-red-900/50 dark:text-red-100',
  info: 'bg-blue-100 text-blue-900 dark:bg-blue-900/50 dark:text-blue-100',
  warn: 'bg-amber-100 text-amber-900 dark:bg-amber-900/50 dark:text-amber-100',
  none: 'bg-muted text-foreground',
};

/** A status as a badge; the `status` class is a stable hook for tests. */
export function Status({ value }: { value: string }) {
  const tone = STATUS_TONE[value] ?? 'none';
  return (
    <span
      className={cn(
        'status inline-block rounded-full px-2 py-px text-xs font-semibold leading-5',
        TONE_CLASS[tone],
      )}
    >
      {value}
    </span>
  );
}

export function Json({ value, label }: { value: unknown; label: string }) {
  if (value === undefined || value === null) return null;
  return (
    <figure className="my-2">
      <figcaption className="mb-1 text-xs font-semibold text-muted-foreground">{label}</figcaption>
      <pre className="max-h-80 overflow-auto rounded-md bg-muted p-2">
        {typeof value === 'string' ? value : JSON.stringify(value, null, 2)}
      </pre>
    </figure>
  );
}

/** The page title and its actions; `page-header` is a stable hook for tests. */
export function PageHeader({ title, children }: { title: string; children?: ReactNode }) {
  return (
    <header className="page-header mb-4 flex flex-wrap items-center justify-between gap-3">
      <h1>{title}</h1>
      <div className="flex flex-wrap items-center justify-end gap-2">{children}</div>
    </header>
  );
}

/** A bordered surface for a group of content. */
export function Panel({ className, ...props }: ComponentProps<'section'>) {
  return <section className={cn('mb-4 rounded-lg border bg-card p-4 shadow-xs', className)} {...props} />;
}

/** Term/value pairs; `inline` lays them out on one wrapping line. */
export function Stats({ inline, className, ...props }: ComponentProps<'dl'> & { inline?: boolean }) {
  return (
    <dl
      className={cn(
        'my-2 text-sm [&_dt]:text-muted-foreground',
        inline
          ? 'flex flex-wrap gap-x-2.5 gap-y-1.5 [&_dd]:mr-3.5 [&_dd]:font-semibold'
          : 'grid grid-cols-[max-content_1fr] gap-x-3 gap-y-1',
        className,
      )}
      {...props}
    />
  );
}

export function Loading() {
  return <p className="p-8 text-muted-foreground">Loading…</p>;
}
