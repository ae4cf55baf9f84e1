const two = (n: number) => String(n).padStart(2, '0');

/** A local wall-clock time with milliseconds, `HH:MM:SS.mmm` (the event log's time column). */
export function clockTime(iso: string): string {
  const d = new Date(iso);
  return `${two(d.getHours())}:${two(d.getMinutes())}:${two(d.getSeconds())}.${String(d.getMilliseconds()).padStart(3, '0')}`;
}
