import { Dialog as D } from 'radix-ui';
import type { ReactNode } from 'react';
import { cn } from './cn.ts';

/** A modal dialog (Radix): focus trapped, Escape and the × close it, labelled by its title. */
export function Modal({
  title,
  onClose,
  children,
  wide,
  description,
}: {
  title: string;
  onClose: () => void;
  children: ReactNode;
  wide?: boolean;
  description?: string;
}) {
  return (
    <D.Root open onOpenChange={(open) => !open && onClose()}>
      <D.Portal>
        <D.Overlay className="fixed inset-0 z-40 bg-black/40" />
        <D.Content
          aria-describedby={undefined}
          className={cn(
            'fixed top-1/2 left-1/2 z-50 max-h-[90vh] w-[480px] max-w-[95vw] -translate-x-1/2 -translate-y-1/2 overflow-auto rounded-lg border bg-card p-5 text-card-foreground shadow-lg',
            wide && 'w-[1000px]',
          )}
        >
          <header className="mb-3 flex items-center justify-between gap-3">
            <D.Title className="text-lg font-semibold">{title}</D.Title>
            <D.Close
              className="inline-flex size-8 cursor-pointer items-center justify-center rounded-md text-lg hover:bg-accent"
              aria-label="Close"
            >
              ×
            </D.Close>
          </header>
          {description && (
            <D.Description className="mb-3 text-sm text-muted-foreground">{description}</D.Description>
          )}
          {children}
        </D.Content>
      </D.Portal>
    </D.Root>
  );
}
