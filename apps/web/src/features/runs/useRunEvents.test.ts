import { describe, expect, it } from 'vitest';
import { parseSse } from './useRunEvents.ts';

describe('Server-Sent Events blocks', () => {
  it('reads the event name and joins data lines; comments carry no event', () => {
    expect(parseSse('id: 3\nevent: step.completed\ndata: {"a":1}')).toEqual({
      type: 'step.completed',
      data: '{"a":1}',
    });
    expect(parseSse('data: one\ndata: two')).toEqual({ type: 'message', data: 'one\ntwo' });
    expect(parseSse(': keep-alive')).toBeNull();
  });
});
