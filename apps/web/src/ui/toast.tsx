import { Toaster as Sonner } from 'sonner';
import { useDark } from './theme.tsx';

export { toast } from 'sonner';

/** Toasts for completed actions (sonner), in the current theme, announced politely to screen readers. */
export function Toaster() {
  const dark = useDark();
  return <Sonner theme={dark ? 'dark' : 'light'} position="bottom-right" richColors closeButton />;
}
