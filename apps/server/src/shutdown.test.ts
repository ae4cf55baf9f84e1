import { afterAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from './test-support.ts';

let s: TestServer | undefined;
afterAll(() => s?.database.destroy());

describe('graceful shutdown', () => {
  it('finishes in-flight requests, refuses new ones, then closes', async () => {
    let release!: () => void;
    const started = new Promise<void>((resolve) => {
      release = resolve;
    });
    s = await startTestServer({
      beforeListen(app) {
        app.get('/test/slow', async () => {
          release();
          await new Promise((r) => setTimeout(r, 400));
          return { finished: true };
        });
      },
    });
    const inflight = s.request('/test/slow');
    await started;
    const closing = s.app.close();
    const res = await inflight;
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ finished: true });
    await closing;
    await expect(s.request('/healthz')).rejects.toThrow();
  });
});
