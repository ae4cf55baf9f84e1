import { API, apiError } from '../../api/client.ts';
import type { Message } from './types.ts';

export type ChatStreamEvent =
  | { type: 'message'; message: Message }
  | { type: 'answer.started'; participantId: string; round: number; kind: string }
  | { type: 'token'; participantId: string; round: number; kind: string; delta: string }
  | { type: 'answer'; message: Message }
  | { type: 'done' }
  | { type: 'error'; error: { code: string; message: string } };

/** Sends a message and reads the answers as Server-Sent Events (POST, so fetch rather than EventSource). */
export async function sendStreaming(
  conversationId: string,
  content: string,
  onEvent: (e: ChatStreamEvent) => void,
): Promise<void> {
  const res = await fetch(`${API}/conversations/${conversationId}/messages`, {
    method: 'POST',
    credentials: 'same-origin',
    headers: { 'content-type': 'application/json', accept: 'text/event-stream' },
    body: JSON.stringify({ content }),
  });
  if (!res.ok || !res.body) {
    throw apiError(res, await res.json().catch(() => undefined));
  }
  const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = '';
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    buffer += value.replace(/\r\n/g, '\n');
    for (let i = buffer.indexOf('\n\n'); i >= 0; i = buffer.indexOf('\n\n')) {
      const block = buffer.slice(0, i);
      buffer = buffer.slice(i + 2);
      let type = 'message';
      const data: string[] = [];
      for (const line of block.split('\n')) {
        if (line.startsWith('event:')) type = line.slice(6).trim();
        else if (line.startsWith('data:')) data.push(line.slice(5).replace(/^ /, ''));
      }
      if (data.length) onEvent({ type, ...JSON.parse(data.join('\n')) } as ChatStreamEvent);
    }
  }
}
