/** The `{{…}}` placeholders in a text, each once, in order of appearance. */
export function placeholdersIn(text: string): string[] {
  return [...new Set(text.match(/\{\{[^{}]*\}\}/g) ?? [])];
}

/** The run this run re-ran: the API's `rerunOfExecutionId`, or the older `metadata.rerunOf`. */
export function rerunOf(run: {
  rerunOfExecutionId?: unknown;
  metadata?: Record<string, unknown>;
}): string | null {
  const id = run.rerunOfExecutionId ?? run.metadata?.rerunOf;
  return typeof id === 'string' ? id : null;
}
