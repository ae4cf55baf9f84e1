import { AlertDialog as A } from 'radix-ui';
import type { ReactNode } from 'react';
import { Button, buttonVariants } from './button.tsx';

/**
 * A destructive action behind a confirmation (Radix AlertDialog: focus starts on Cancel, Escape cancels).
 * The trigger and the confirming button carry the same words, so the question is answered where it is asked.
 */
export function ConfirmButton({
  label,
  question,
  onConfirm,
  size,
  disabled,
}: {
  label: string;
  question: ReactNode;
  onConfirm: () => void;
  size?: 'sm' | 'default';
  disabled?: boolean;
}) {
  return (
    <A.Root>
      <A.Trigger asChild>
        <Button variant="destructive" size={size} disabled={disabled}>
          {label}
        </Button>
      </A.Trigger>
      <A.Portal>
        <A.Overlay className="fixed inset-0 z-40 bg-black/40" />
        <A.Content className="fixed top-1/2 left-1/2 z-50 w-[420px] max-w-[95vw] -translate-x-1/2 -translate-y-1/2 rounded-lg border bg-card p-5 text-card-foreground shadow-lg">
          <A.Title className="mb-2 text-lg font-semibold">{label}?</A.Title>
          <A.Description className="mb-4 text-sm text-muted-foreground">{question}</A.Description>
          <div className="flex justify-end gap-2">
            <A.Cancel className={buttonVariants({ variant: 'outline' })}>Cancel</A.Cancel>
            <A.Action className={buttonVariants({ variant: 'destructive' })} onClick={onConfirm}>
              {label}
            </A.Action>
          </div>
        </A.Content>
      </A.Portal>
    </A.Root>
  );
}
