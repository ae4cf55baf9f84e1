import { parseRetryAfter } from './errors.ts';

export interface RetryOptions {
  /** Retries of a request answered 429 (default 3; 0 disables). */
  maxRetries?: number;
  /** A Retry-After longer than this many seconds is not waited for: the 429 is returned (default 60). */
  maxWaitSeconds?: number;
  /** Called before each wait (e.g. to print "rate limited, retrying in 2 s"). */
  onRetry?: (info: { attempt: number; waitSeconds: number; url: string }) => void;
}

type Fetch = (input: Request) => Promise<Response>;

const sleep = (ms: number, signal: AbortSignal | null) =>
  new Promise<void>((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal?.reason);
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });

/**
 * A fetch that retries requests answered 429 after the server's Retry-After (a 429 is refused before any
 * work is done, so a retry of a POST is safe). Without Retry-After, or with one above `maxWaitSeconds`, the
 * 429 is returned as is.
 */
export function retryOn429(base: Fetch, options: RetryOptions = {}): Fetch {
  const maxRetries = options.maxRetries ?? 3;
  const maxWait = options.maxWaitSeconds ?? 60;
  return async (request) => {
    for (let attempt = 0; ; attempt++) {
      const last = attempt >= maxRetries;
      const response = await base(last ? request : request.clone());
      if (response.status !== 429 || last) return response;
      const wait = parseRetryAfter(response.headers.get('retry-after'));
      if (wait === undefined || wait > maxWait) return response;
      await response.body?.cancel();
      options.onRetry?.({ attempt: attempt + 1, waitSeconds: wait, url: request.url });
      await sleep(wait * 1000, request.signal);
    }
  };
}
