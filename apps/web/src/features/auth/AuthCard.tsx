import type { FormEvent, ReactNode } from 'react';
import { ThemeToggle } from '../../ui/theme.tsx';

/** The frame of the signed-out pages: one centred card with a title. */
export function AuthCard({
  title,
  label,
  onSubmit,
  children,
}: {
  title: string;
  label: string;
  onSubmit?: (e: FormEvent) => void;
  children: ReactNode;
}) {
  return (
    <main className="relative grid min-h-screen place-items-center px-4">
      <ThemeToggle className="absolute top-3 right-3" />
      <form
        onSubmit={onSubmit}
        aria-label={label}
        className="w-full max-w-sm rounded-xl border bg-card p-7 text-card-foreground shadow-sm [&_button[type=submit]]:mt-1.5 [&_button[type=submit]]:w-full"
      >
        <h1 className="mb-4 text-xl">{title}</h1>
        {children}
      </form>
    </main>
  );
}

/** The server's password rule, said before the user meets it (the input names it in aria-describedby). */
export function PasswordRule() {
  return (
    <p id="password-rule" className="-mt-2 mb-3 text-xs text-muted-foreground">
      At least 10 characters mixing three of: lower case, upper case, digits, symbols (or a passphrase of 16+
      characters).
    </p>
  );
}
