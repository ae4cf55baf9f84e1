import type { ComponentProps } from 'react';
import { cn } from './cn.ts';

const control =
  'w-full rounded-md border border-input bg-card px-2.5 py-1.5 text-sm font-normal text-foreground shadow-xs placeholder:text-muted-foreground focus-visible:outline-2 focus-visible:outline-offset-1 focus-visible:outline-ring disabled:opacity-50';

export function Input({ className, ...props }: ComponentProps<'input'>) {
  return <input className={cn(control, 'h-8', className)} {...props} />;
}

export function Textarea({ className, ...props }: ComponentProps<'textarea'>) {
  return <textarea className={cn(control, 'font-mono text-xs resize-y', className)} {...props} />;
}

/** A native <select>: keyboard, forms and screen readers behave as users expect. */
export function Select({ className, ...props }: ComponentProps<'select'>) {
  return <select className={cn(control, 'h-8 w-auto max-w-full', className)} {...props} />;
}

/** A labelled field: the label text above its control (the control is inside the label). */
export function Field({ className, ...props }: ComponentProps<'label'>) {
  // biome-ignore lint/a11y/noLabelWithoutControl: the control is among the children the caller passes
  return <label className={cn('mb-3 flex flex-col gap-1 text-sm font-medium', className)} {...props} />;
}

/** A checkbox or radio with its text beside it. */
export function Check({ className, ...props }: ComponentProps<'label'>) {
  return (
    // biome-ignore lint/a11y/noLabelWithoutControl: the control is among the children the caller passes
    <label
      className={cn(
        'mb-1 flex items-center gap-2 text-sm font-normal [&_input]:size-4 [&_input]:accent-primary',
        className,
      )}
      {...props}
    />
  );
}

/** A row of fields that wraps on narrow screens. */
export function FieldRow({ className, ...props }: ComponentProps<'div'>) {
  return (
    <div
      className={cn('flex flex-wrap items-end gap-3 [&>label]:min-w-32 [&>label]:flex-1', className)}
      {...props}
    />
  );
}

export function Hint({ className, ...props }: ComponentProps<'p'>) {
  return <p className={cn('text-xs font-normal text-muted-foreground', className)} {...props} />;
}
