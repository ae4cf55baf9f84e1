/**
 * What an audit row changed, without the empty parts: a sign-in records `before: null, after: null`,
 * which says nothing, so it shows no "show" at all.
 */
export function meaningfulChanges(changes: unknown): Record<string, unknown> | null {
  if (!changes || typeof changes !== 'object') return null;
  const kept = Object.entries(changes as Record<string, unknown>).filter(
    ([, v]) => v !== null && v !== undefined && !(typeof v === 'object' && Object.keys(v).length === 0),
  );
  return kept.length ? Object.fromEntries(kept) : null;
}
