/** The text a request sends, as one string: for the simulator's echo and for token estimates. */
import type { ModelRequest } from '@aiops/core';

/**
 * The system prompt, each message's content and the prompt, in the order a provider receives them, joined by
 * a blank line. A request with only a prompt renders as exactly that prompt.
 */
export function renderPromptText(request: Pick<ModelRequest, 'system' | 'messages' | 'prompt'>): string {
  const { system, messages, prompt } = request;
  if (!system && !messages?.length) return prompt ?? '';
  const parts: string[] = [];
  if (system) parts.push(system);
  if (messages) for (const m of messages) parts.push(m.content);
  if (prompt !== undefined && prompt !== '') parts.push(prompt);
  return parts.join('\n\n');
}
