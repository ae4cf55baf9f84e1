import { useEffect, useRef, useState } from 'react';
import { API } from '../../api/client.ts';
import type { RunEvent } from '../../api/types.ts';

/** Parses one Server-Sent Events block (`event:`, `data:` lines). */
export function parseSse(block: string): { type: string; data: string } | null {
  let type = 'message';
  const data: string[] = [];
  for (const line of block.split('\n')) {
    if (line.startsWith('event:')) type = line.slice(6).trim();
    else if (line.startsWith('data:')) data.push(line.slice(5).replace(/^ /, ''));
  }
  return data.length ? { type, data: data.join('\n') } : null;
}

/**
 * Follows a run's event stream (GET /runs/:id/events) while `enabled`; calls `onEvent` for each event.
 * fetch rather than EventSource: every event name arrives, and the stream ends cleanly with the run.
 */
export function useRunEvents(
  runId: string,
  enabled: boolean,
  onEvent: (e: RunEvent) => void,
  /** Also the run's log lines, as `log` events. */
  logs = false,
): boolean {
  const [live, setLive] = useState(false);
  const handler = useRef(onEvent);
  handler.current = onEvent;
  useEffect(() => {
    if (!enabled) return;
    const controller = new AbortController();
    const follow = async () => {
      const res = await fetch(`${API}/runs/${runId}/events${logs ? '?logs=true' : ''}`, {
        credentials: 'same-origin',
        headers: { accept: 'text/event-stream' },
        signal: controller.signal,
      });
      if (!res.ok || !res.body) return;
      setLive(true);
      const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
      let buffer = '';
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        buffer += value.replace(/\r\n/g, '\n');
        for (let i = buffer.indexOf('\n\n'); i >= 0; i = buffer.indexOf('\n\n')) {
          const event = parseSse(buffer.slice(0, i));
          buffer = buffer.slice(i + 2);
          if (event) {
            try {
              handler.current(JSON.parse(event.data) as RunEvent);
            } catch {
              // a comment or keep-alive
            }
          }
        }
      }
    };
    follow()
      .catch(() => undefined)
      .finally(() => {
        setLive(false);
        if (!controller.signal.aborted) handler.current({ id: 'end', type: 'stream.end', at: '', data: {} });
      });
    return () => controller.abort();
  }, [runId, enabled, logs]);
  return live;
}
