import { useEffect, useRef, useState } from 'react';
import { sdk } from '../../api/client.ts';
import type { RunEvent } from '../../api/types.ts';

/**
 * Follows a run's event stream (GET /runs/:id/events) while `enabled`, through the SDK's `runEvents`
 * iterator (the studio's session fetch: cookie, one refresh on 401): what happened so far, then each
 * change, ending after the run's final event; a broken stream is reopened and no event is given twice.
 * `onEvent` runs for each event, then once with a `stream.end` event when the stream is over. The answer
 * is true while events are arriving.
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
      for await (const event of sdk.runEvents(runId, { logs, signal: controller.signal })) {
        setLive(true);
        handler.current(event);
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
