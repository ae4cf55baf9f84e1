/**
 * A signal that aborts when `parent` does or after `ms`, whichever comes first, with a `dispose` that
 * clears the timer. Not `AbortSignal.any([parent, AbortSignal.timeout(ms)])`: Node 20 may garbage-collect
 * a timeout signal that only a composite refers to, and then the deadline never fires (nodejs/node#57736).
 * The timer here is held until it fires or `dispose` is called, and it does not keep the process alive.
 */
export function deadline(parent: AbortSignal, ms: number): { signal: AbortSignal; dispose: () => void } {
  const controller = new AbortController();
  if (parent.aborted) {
    controller.abort(parent.reason);
    return { signal: controller.signal, dispose: () => {} };
  }
  const onAbort = () => controller.abort(parent.reason);
  parent.addEventListener('abort', onAbort, { once: true });
  const timer = setTimeout(
    () => controller.abort(new DOMException('The operation timed out.', 'TimeoutError')),
    Math.max(0, ms),
  );
  timer.unref?.();
  return {
    signal: controller.signal,
    dispose: () => {
      clearTimeout(timer);
      parent.removeEventListener('abort', onAbort);
    },
  };
}
