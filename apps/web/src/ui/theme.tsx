import { useSyncExternalStore } from 'react';
import { Button } from './button.tsx';

/** Light or dark: the user's choice (kept in localStorage) or else the system's prefers-color-scheme. */
type Choice = 'light' | 'dark' | 'system';
const KEY = 'aiops.theme';
const media = () => window.matchMedia('(prefers-color-scheme: dark)');
const listeners = new Set<() => void>();

function choice(): Choice {
  const v = localStorage.getItem(KEY);
  return v === 'light' || v === 'dark' ? v : 'system';
}

export function isDark(): boolean {
  const c = choice();
  return c === 'dark' || (c === 'system' && media().matches);
}

/** Puts the `dark` class on <html>; called before the first render and whenever the choice changes. */
export function applyTheme(): void {
  document.documentElement.classList.toggle('dark', isDark());
  for (const fn of listeners) fn();
}

export function initTheme(): void {
  applyTheme();
  media().addEventListener('change', applyTheme);
}

function subscribe(fn: () => void) {
  listeners.add(fn);
  return () => listeners.delete(fn);
}

export function useDark(): boolean {
  return useSyncExternalStore(subscribe, isDark);
}

export function ThemeToggle({ className }: { className?: string }) {
  const dark = useDark();
  return (
    <Button
      variant="ghost"
      size="sm"
      className={className}
      aria-pressed={dark}
      onClick={() => {
        localStorage.setItem(KEY, dark ? 'light' : 'dark');
        applyTheme();
      }}
    >
      <span aria-hidden="true">{dark ? '☾' : '☀'}</span> Dark mode
    </Button>
  );
}
